/* src/attest/x509chain.c — certificate loading and chain checks (see x509chain.h). */
#include "attest/x509chain.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <string.h>

#include "attest/verifier.h"

X509 *tkms_attest_x509_load_one(const uint8_t *data, size_t len) {
  if (data == NULL || len == 0 || len > TKMS_ATTEST_X509_MAX_BYTES) return NULL;
  X509 *x = NULL;
  if (data[0] == 0x30) {
    const unsigned char *p = data;
    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != data + len) { /* trailing bytes: not one certificate */
      X509_free(x);
      x = NULL;
    }
  } else {
    BIO *b = BIO_new_mem_buf(data, (int)len);
    if (b != NULL) x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
  }
  ERR_clear_error();
  return x;
}

int tkms_attest_x509_load_pem_chain(const uint8_t *data, size_t len, STACK_OF(X509) * *out) {
  *out = NULL;
  if (data == NULL || len == 0 || len > TKMS_ATTEST_X509_MAX_BYTES) return -1;
  const void *nul = memchr(data, 0, len);
  if (nul != NULL) len = (size_t)((const uint8_t *)nul - data);
  if (len == 0) return -1;
  BIO *b = BIO_new_mem_buf(data, (int)len);
  STACK_OF(X509) *sk = sk_X509_new_null();
  int rc = -1;
  if (b == NULL || sk == NULL) goto done;
  for (;;) {
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x == NULL) break;
    if (sk_X509_num(sk) >= TKMS_ATTEST_X509_MAX_CERTS || sk_X509_push(sk, x) <= 0) {
      X509_free(x);
      goto done;
    }
  }
  if (sk_X509_num(sk) > 0) rc = 0;
done:
  ERR_clear_error();
  BIO_free(b);
  if (rc == 0) {
    *out = sk;
  } else {
    sk_X509_pop_free(sk, X509_free);
  }
  return rc;
}

static int sha256(const uint8_t *d, size_t n, uint8_t out[32]) {
  unsigned int olen = 0;
  return EVP_Digest(d, n, out, &olen, EVP_sha256(), NULL) == 1 && olen == 32 ? 0 : -1;
}

int tkms_attest_x509_cert_sha256(X509 *cert, uint8_t out[32]) {
  unsigned char *der = NULL;
  int n = i2d_X509(cert, &der);
  if (n <= 0) return -1;
  int rc = sha256(der, (size_t)n, out);
  OPENSSL_free(der);
  return rc;
}

int tkms_attest_x509_spki_sha256(X509 *cert, uint8_t out[32]) {
  unsigned char *der = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (n <= 0) return -1;
  int rc = sha256(der, (size_t)n, out);
  OPENSSL_free(der);
  return rc;
}

int tkms_attest_x509_verify_chain(X509 *leaf, STACK_OF(X509) * untrusted, X509 *root, uint64_t at,
                                  const char *what, char reason[TKMS_ATTEST_REASON_MAX]) {
  if (at > (uint64_t)INT64_MAX)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_EXPIRED, "%s: verification time out of range",
                            what);
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int rc = TKMS_ATTEST_E_INTERNAL;
  if (st == NULL || ctx == NULL || X509_STORE_add_cert(st, root) != 1 ||
      X509_STORE_CTX_init(ctx, st, leaf, untrusted) != 1) {
    tkms_attest_fail(reason, rc, "%s: cannot set up the chain check", what);
    goto done;
  }
  X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(p, (time_t)at); /* also sets X509_V_FLAG_USE_CHECK_TIME */
  /* The trust anchor is ours only by its key; still require its self-signature. */
  X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_CHECK_SS_SIGNATURE);
  X509_VERIFY_PARAM_set_depth(p, TKMS_ATTEST_X509_MAX_CERTS);
  if (X509_verify_cert(ctx) == 1) {
    rc = TKMS_ATTEST_OK;
    goto done;
  }
  int err = X509_STORE_CTX_get_error(ctx);
  int depth = X509_STORE_CTX_get_error_depth(ctx);
  const char *msg = X509_verify_cert_error_string(err);
  switch (err) {
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
      rc = TKMS_ATTEST_E_EXPIRED;
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
      rc = TKMS_ATTEST_E_ROOT;
      break;
    default:
      rc = TKMS_ATTEST_E_CHAIN;
      break;
  }
  tkms_attest_fail(reason, rc, "%s: certificate at depth %d: %s", what, depth,
                   msg != NULL ? msg : "refused");
done:
  ERR_clear_error();
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(st);
  return rc;
}

int tkms_attest_ecdsa_verify_rs(EVP_PKEY *pub, const char *md, const uint8_t *msg, size_t msg_len,
                                const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len) {
  if (r_len == 0 || r_len > 66 || s_len == 0 || s_len > 66) return 0;
  ECDSA_SIG *sig = ECDSA_SIG_new();
  BIGNUM *br = BN_bin2bn(r, (int)r_len, NULL);
  BIGNUM *bs = BN_bin2bn(s, (int)s_len, NULL);
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  unsigned char *der = NULL;
  int rc = -1;
  if (sig == NULL || br == NULL || bs == NULL || mctx == NULL) goto done;
  if (ECDSA_SIG_set0(sig, br, bs) != 1) goto done;
  br = bs = NULL; /* owned by sig */
  int dlen = i2d_ECDSA_SIG(sig, &der);
  if (dlen <= 0) goto done;
  if (EVP_DigestVerifyInit_ex(mctx, NULL, md, NULL, NULL, pub, NULL) != 1) goto done;
  int v = EVP_DigestVerify(mctx, der, (size_t)dlen, msg, msg_len);
  rc = v == 1 ? 1 : 0; /* a malformed or wrong-type signature is an invalid one */
done:
  ERR_clear_error();
  OPENSSL_free(der);
  EVP_MD_CTX_free(mctx);
  BN_free(br);
  BN_free(bs);
  ECDSA_SIG_free(sig);
  return rc;
}
