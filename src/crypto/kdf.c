/* src/crypto/kdf.c — HKDF-SHA256 over libsodium's HMAC, SHA-256 over OpenSSL 3. */
#include "crypto/kdf.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

#define HKDF_SHA256_MAX_OUT (255u * 32u) /* RFC 5869: L <= 255 * HashLen */

/* HKDF over libsodium's HMAC-SHA256 with every intermediate (the HMAC states,
 * PRK, T(i)) on the caller's stack, which the core keeps locked, and wiped here:
 * OpenSSL's EVP_KDF kept the key material in its heap, wiped but not locked. */
int tkms_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                     const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
  /* A zero-length output is always a caller's bug, never a useful key. */
  if (out == NULL || out_len == 0 || out_len > HKDF_SHA256_MAX_OUT) return -1;
  if ((salt == NULL && salt_len > 0) || (ikm == NULL && ikm_len > 0) ||
      (info == NULL && info_len > 0)) {
    return -1;
  }
  static const uint8_t empty[1] = {0};
  crypto_auth_hmacsha256_state st;
  uint8_t prk[crypto_auth_hmacsha256_BYTES], t[crypto_auth_hmacsha256_BYTES];
  /* Extract: an absent salt is HashLen zero bytes, which HMAC pads to the same key. */
  int rc = crypto_auth_hmacsha256_init(&st, salt_len ? salt : empty, salt_len) |
           crypto_auth_hmacsha256_update(&st, ikm_len ? ikm : empty, ikm_len) |
           crypto_auth_hmacsha256_final(&st, prk);
  /* Expand: T(i) = HMAC(PRK, T(i-1) | info | i). */
  size_t done = 0;
  for (unsigned i = 1; rc == 0 && done < out_len; i++) {
    uint8_t ctr = (uint8_t)i;
    rc |= crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
    if (i > 1) rc |= crypto_auth_hmacsha256_update(&st, t, sizeof t);
    rc |= crypto_auth_hmacsha256_update(&st, info_len ? info : empty, info_len);
    rc |= crypto_auth_hmacsha256_update(&st, &ctr, 1);
    rc |= crypto_auth_hmacsha256_final(&st, t);
    size_t n = out_len - done < sizeof t ? out_len - done : sizeof t;
    memcpy(out + done, t, n);
    done += n;
  }
  sodium_memzero(&st, sizeof st);
  sodium_memzero(prk, sizeof prk);
  sodium_memzero(t, sizeof t);
  if (rc != 0) {
    sodium_memzero(out, out_len);
    return -1;
  }
  return 0;
}

void tkms_sha256(const void *in, size_t len, uint8_t out[32]) {
  SHA256(in, len, out);
}
