/* src/crypto/kdf.c — HKDF-SHA256 and SHA-256 over OpenSSL 3. */
#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#define HKDF_SHA256_MAX_OUT (255u * 32u) /* RFC 5869: L <= 255 * HashLen */

int tkms_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                     const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
  /* A zero-length output is always a caller's bug, never a useful key. */
  if (out == NULL || out_len == 0 || out_len > HKDF_SHA256_MAX_OUT) return -1;
  if ((salt == NULL && salt_len > 0) || (ikm == NULL && ikm_len > 0) ||
      (info == NULL && info_len > 0)) {
    return -1;
  }
  /* OpenSSL keeps pointers to these but never writes through them. */
  static const uint8_t empty[1] = {0};
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *)(ikm_len ? ikm : empty), ikm_len);
  /* RFC 5869 treats an absent salt as HashLen zero bytes, which is what
   * HMAC does with an empty key, so an empty salt is simply not passed. */
  if (salt_len > 0) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
  }
  if (info_len > 0) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
  }
  params[n] = OSSL_PARAM_construct_end();

  int rc = -1;
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
  if (kctx != NULL && EVP_KDF_derive(kctx, out, out_len, params) == 1) rc = 0;
  EVP_KDF_CTX_free(kctx); /* also wipes the PRK it held */
  EVP_KDF_free(kdf);
  if (rc != 0) OPENSSL_cleanse(out, out_len);
  return rc;
}

void tkms_sha256(const void *in, size_t len, uint8_t out[32]) {
  SHA256(in, len, out);
}
