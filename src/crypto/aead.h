/* src/crypto/aead.h — sealing with XChaCha20-Poly1305 (libsodium).
 * Sealed = nonce (24, random) ‖ ciphertext ‖ tag (16). Pure except the nonce. */
#ifndef TKMS_CRYPTO_AEAD_H
#define TKMS_CRYPTO_AEAD_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_AEAD_KEY_BYTES 32u
#define TKMS_AEAD_OVERHEAD 40u /* 24-byte nonce + 16-byte tag */

/* out must hold pt_len + TKMS_AEAD_OVERHEAD bytes. Returns 0 or -1. */
int tkms_aead_seal(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                   size_t pt_len, uint8_t *out);
/* out must hold sealed_len - TKMS_AEAD_OVERHEAD bytes. Returns 0, or -1 if the
 * blob is too short or does not authenticate under key and ad (out is then zeroed). */
int tkms_aead_open(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *sealed,
                   size_t sealed_len, uint8_t *out);
#endif
