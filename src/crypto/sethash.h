/* src/crypto/sethash.h — a multiset hash (ECMH over secp256k1) for the manifest.
 * H(set) = G0 + Σ P(e), P = try-and-increment hash to the curve, G0 a fixed
 * nothing-up-my-sleeve start point. Adding and removing an element is O(1), the
 * result does not depend on order, and finding two sets with the same hash is
 * as hard as the discrete logarithm (unlike XOR or sum-of-hashes, which linear
 * algebra breaks). Public data only: not constant time. */
#ifndef TKMS_CRYPTO_SETHASH_H
#define TKMS_CRYPTO_SETHASH_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_SETHASH_BYTES 33u

typedef struct {
  uint8_t point[33]; /* compressed current sum */
} tkms_sethash;

int tkms_sethash_init(tkms_sethash *h); /* the empty set; 0 or -1 */
int tkms_sethash_add(tkms_sethash *h, const void *elem, size_t len);
int tkms_sethash_remove(tkms_sethash *h, const void *elem, size_t len);
/* Equal sets <=> equal digests (with overwhelming probability). */
void tkms_sethash_digest(const tkms_sethash *h, uint8_t out[33]);
#endif
