/* src/crypto/kdf.h — HKDF-SHA256 (RFC 5869, over libsodium's HMAC-SHA256, intermediates
 * on the caller's stack) and SHA-256 (OpenSSL). Pure. */
#ifndef TKMS_CRYPTO_KDF_H
#define TKMS_CRYPTO_KDF_H
#include <stddef.h>
#include <stdint.h>

/* out_len <= 255*32. Returns 0 or -1. */
int tkms_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                     const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
void tkms_sha256(const void *in, size_t len, uint8_t out[32]);
#endif
