/* tests/unit/attest_pki.c — test-made keys, certificates and signatures (see attest_pki.h). */
#include "attest_pki.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

EVP_PKEY *tp_key(const char *kind) {
  if (strcmp(kind, "RSA-2048") == 0) return EVP_RSA_gen(2048);
  return EVP_EC_gen(kind);
}

static int add_ext_nid(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
  X509_EXTENSION_free(e);
  return ok ? 0 : -1;
}

static int add_ext_raw(X509 *x, const tp_ext *t) {
  ASN1_OBJECT *obj = OBJ_txt2obj(t->oid, 1);
  ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
  int ok = obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, t->der, (int)t->len) == 1;
  X509_EXTENSION *e = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os) : NULL;
  ok = e != NULL && X509_add_ext(x, e, -1) == 1;
  X509_EXTENSION_free(e);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
  return ok ? 0 : -1;
}

X509 *tp_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int64_t not_before,
              int64_t not_after, int ca, int pss, const tp_ext *exts, size_t n_exts) {
  static long serial = 1;
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  int ok = x != NULL && name != NULL && mctx != NULL && X509_set_version(x, 2) == 1 &&
           ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1 &&
           ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) != NULL &&
           ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) != NULL &&
           X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tkms tests",
                                      -1, -1, 0) == 1 &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                      0) == 1 &&
           X509_set_subject_name(x, name) == 1 &&
           X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) == 1 &&
           X509_set_pubkey(x, key) == 1;
  if (ok && ca) {
    ok = add_ext_nid(x, issuer, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
         add_ext_nid(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") == 0;
  }
  for (size_t i = 0; ok && i < n_exts; i++) ok = add_ext_raw(x, &exts[i]) == 0;
  EVP_PKEY *signer = issuer_key != NULL ? issuer_key : key;
  EVP_PKEY_CTX *pctx = NULL;
  if (ok) ok = EVP_DigestSignInit(mctx, &pctx, EVP_sha384(), NULL, signer) == 1;
  if (ok && pss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  if (ok) ok = X509_sign_ctx(x, mctx) > 0;
  EVP_MD_CTX_free(mctx);
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

uint8_t *tp_der(X509 *x, size_t *len) {
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  if (n <= 0) return NULL;
  uint8_t *out = malloc((size_t)n);
  if (out != NULL) memcpy(out, der, (size_t)n);
  OPENSSL_free(der);
  *len = (size_t)n;
  return out;
}

uint8_t *tp_pem(X509 *const *xs, size_t n, size_t *len) {
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (PEM_write_bio_X509(b, xs[i]) != 1) {
      BIO_free(b);
      return NULL;
    }
  }
  char *p;
  long m = BIO_get_mem_data(b, &p);
  uint8_t *out = malloc((size_t)m + 1);
  if (out != NULL) {
    memcpy(out, p, (size_t)m);
    out[m] = 0;
    *len = (size_t)m;
  }
  BIO_free(b);
  return out;
}

uint8_t *tp_spki(EVP_PKEY *key, size_t *len) {
  unsigned char *der = NULL;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return NULL;
  uint8_t *out = malloc((size_t)n);
  if (out != NULL) memcpy(out, der, (size_t)n);
  OPENSSL_free(der);
  *len = (size_t)n;
  return out;
}

void tp_spki_sha256(X509 *x, uint8_t out[32]) {
  unsigned char *der = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  unsigned int ol = 0;
  if (n > 0) EVP_Digest(der, (size_t)n, out, &ol, EVP_sha256(), NULL);
  OPENSSL_free(der);
}

void tp_cert_sha256(X509 *x, uint8_t out[32]) {
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  unsigned int ol = 0;
  if (n > 0) EVP_Digest(der, (size_t)n, out, &ol, EVP_sha256(), NULL);
  OPENSSL_free(der);
}

uint8_t *tp_sign(EVP_PKEY *key, const char *md, int pss, const uint8_t *msg, size_t len,
                 size_t *sig_len) {
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  uint8_t *sig = NULL;
  size_t n = 0;
  int ok = m != NULL && EVP_DigestSignInit_ex(m, &pctx, md, NULL, NULL, key, NULL) == 1;
  if (ok && pss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  if (ok) ok = EVP_DigestSign(m, NULL, &n, msg, len) == 1;
  if (ok) ok = (sig = malloc(n)) != NULL;
  if (ok) ok = EVP_DigestSign(m, sig, &n, msg, len) == 1;
  EVP_MD_CTX_free(m);
  if (!ok) {
    free(sig);
    return NULL;
  }
  *sig_len = n;
  return sig;
}

int tp_ecdsa_sign_rs(EVP_PKEY *key, const char *md, const uint8_t *msg, size_t len, uint8_t *r,
                     uint8_t *s, size_t n) {
  size_t dl;
  uint8_t *der = tp_sign(key, md, 0, msg, len, &dl);
  if (der == NULL) return -1;
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
  free(der);
  if (sig == NULL) return -1;
  const BIGNUM *br, *bs;
  ECDSA_SIG_get0(sig, &br, &bs);
  int ok = BN_bn2binpad(br, r, (int)n) == (int)n && BN_bn2binpad(bs, s, (int)n) == (int)n;
  ECDSA_SIG_free(sig);
  return ok ? 0 : -1;
}

int64_t tp_time(const char *iso) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm);
}

int tp_unhex(const char *hex, uint8_t *out, size_t n) {
  if (strlen(hex) != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}
