/* src/crypto/sethash.c — ECMH multiset hash over secp256k1.
 * Only group operations that need no secret and no precomputed tables are
 * used, so the library's static context suffices and no initialisation order
 * is imposed on callers. */
#include "crypto/sethash.h"

#include <secp256k1.h>
#include <sodium.h>
#include <string.h>

#define H2C_DOMAIN "tkms-sethash-v1"
#define GENESIS_ELEM "tkms-sethash-genesis"
/* About half of all x are on the curve, so 256 misses in a row has
 * probability 2^-256; the bound only keeps the loop provably finite. */
#define H2C_MAX_TRIES 256u

/* Try-and-increment: P(e) = the first x = SHA-256(domain ‖ u32be(ctr) ‖ e)
 * that is the x-coordinate of a curve point, taken with even y (prefix 02).
 * Nobody knows the discrete log of the result, which is what makes sums of
 * these points collision resistant. */
static int hash_to_curve(const void *elem, size_t len, secp256k1_pubkey *pt) {
  uint8_t enc[33];
  enc[0] = 0x02;
  for (uint32_t ctr = 0; ctr < H2C_MAX_TRIES; ctr++) {
    uint8_t be[4] = {(uint8_t)(ctr >> 24), (uint8_t)(ctr >> 16), (uint8_t)(ctr >> 8), (uint8_t)ctr};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)H2C_DOMAIN, sizeof H2C_DOMAIN - 1);
    crypto_hash_sha256_update(&st, be, sizeof be);
    crypto_hash_sha256_update(&st, elem, len);
    crypto_hash_sha256_final(&st, enc + 1);
    if (secp256k1_ec_pubkey_parse(secp256k1_context_static, pt, enc, sizeof enc)) return 0;
  }
  return -1;
}

static int load_point(const tkms_sethash *h, secp256k1_pubkey *pt) {
  return secp256k1_ec_pubkey_parse(secp256k1_context_static, pt, h->point, sizeof h->point) ? 0
                                                                                            : -1;
}

static int store_point(tkms_sethash *h, const secp256k1_pubkey *pt) {
  size_t len = sizeof h->point;
  return secp256k1_ec_pubkey_serialize(secp256k1_context_static, h->point, &len, pt,
                                       SECP256K1_EC_COMPRESSED) &&
                 len == sizeof h->point
             ? 0
             : -1;
}

/* sum = current + (negate ? -P(e) : P(e)). libsecp256k1 cannot represent the
 * point at infinity; reaching it would mean a discrete-log relation between
 * hashed points, so it is reported as an error and h is left unchanged. */
static int accumulate(tkms_sethash *h, const void *elem, size_t len, int negate) {
  secp256k1_pubkey cur, p, sum;
  if (h == NULL || (elem == NULL && len > 0)) return -1;
  if (load_point(h, &cur) != 0 || hash_to_curve(len ? elem : "", len, &p) != 0) return -1;
  if (negate && !secp256k1_ec_pubkey_negate(secp256k1_context_static, &p)) return -1;
  const secp256k1_pubkey *terms[2] = {&cur, &p};
  if (!secp256k1_ec_pubkey_combine(secp256k1_context_static, &sum, terms, 2)) return -1;
  return store_point(h, &sum);
}

int tkms_sethash_init(tkms_sethash *h) {
  secp256k1_pubkey g0;
  if (h == NULL) return -1;
  /* A fixed start point instead of infinity, which has no serialisation and
   * which libsecp256k1 cannot hold. */
  if (hash_to_curve(GENESIS_ELEM, sizeof GENESIS_ELEM - 1, &g0) != 0) return -1;
  return store_point(h, &g0);
}

int tkms_sethash_add(tkms_sethash *h, const void *elem, size_t len) {
  return accumulate(h, elem, len, 0);
}

int tkms_sethash_remove(tkms_sethash *h, const void *elem, size_t len) {
  return accumulate(h, elem, len, 1);
}

void tkms_sethash_digest(const tkms_sethash *h, uint8_t out[33]) {
  memcpy(out, h->point, TKMS_SETHASH_BYTES);
}
