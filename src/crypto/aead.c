/* src/crypto/aead.c — XChaCha20-Poly1305 sealing (libsodium). The 24-byte
 * nonce is random: large enough that random nonces never collide in practice,
 * so no counter has to survive restarts or be shared between nodes. */
#include "crypto/aead.h"

#include <sodium.h>
#include <string.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(NONCE_BYTES + TAG_BYTES == TKMS_AEAD_OVERHEAD, "overhead = nonce + tag");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == TKMS_AEAD_KEY_BYTES, "key size");

int tkms_aead_seal(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                   size_t pt_len, uint8_t *out) {
  if (sodium_init() < 0) return -1;
  if (pt_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX) return -1;
  randombytes_buf(out, NONCE_BYTES);
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, NULL, pt, pt_len, ad, ad_len,
                                                 NULL, out, key) != 0) {
    sodium_memzero(out, pt_len + TKMS_AEAD_OVERHEAD);
    return -1;
  }
  return 0;
}

int tkms_aead_open(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *sealed,
                   size_t sealed_len, uint8_t *out) {
  if (sealed_len < TKMS_AEAD_OVERHEAD) return -1;
  if (sodium_init() < 0) {
    sodium_memzero(out, sealed_len - TKMS_AEAD_OVERHEAD);
    return -1;
  }
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, sealed + NONCE_BYTES,
                                                 sealed_len - NONCE_BYTES, ad, ad_len, sealed,
                                                 key) != 0) {
    /* libsodium already leaves out untouched on failure; make "zeroed" a
     * promise that does not depend on that. */
    sodium_memzero(out, sealed_len - TKMS_AEAD_OVERHEAD);
    return -1;
  }
  return 0;
}
