/* tests/unit/testca.c — see testca.h. */
#include "testca.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

EVP_PKEY *tca_key(void) {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  assert_non_null(k);
  return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  assert_non_null(e);
  assert_int_equal(X509_add_ext(x, e, -1), 1);
  X509_EXTENSION_free(e);
}

X509 *tca_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long serial, int ca) {
  X509 *x = X509_new();
  assert_non_null(x);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(x), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(x), 1893456000);
  X509_set_pubkey(x, key);
  X509 *iss = issuer != NULL ? issuer : x;
  add_ext(x, iss, NID_subject_key_identifier, "hash");
  if (ca) {
    add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  assert_true(X509_sign(x, issuer != NULL ? ikey : key, EVP_sha256()) > 0);
  return x;
}

X509_CRL *tca_crl(X509 *issuer, EVP_PKEY *ikey, long serial, time_t last, time_t next) {
  X509_CRL *crl = X509_CRL_new();
  assert_non_null(crl);
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
  ASN1_TIME *t = ASN1_TIME_set(NULL, last);
  X509_CRL_set1_lastUpdate(crl, t);
  ASN1_TIME_set(t, next);
  X509_CRL_set1_nextUpdate(crl, t);
  if (serial >= 0) {
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, serial);
    X509_REVOKED_set_serialNumber(r, sn);
    ASN1_TIME_set(t, last);
    X509_REVOKED_set_revocationDate(r, t);
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(sn);
  }
  ASN1_TIME_free(t);
  X509_CRL_sort(crl);
  assert_true(X509_CRL_sign(crl, ikey, EVP_sha256()) > 0);
  return crl;
}

void tca_point(EVP_PKEY *key, uint8_t out[65]) {
  size_t n = 0;
  assert_int_equal(
      EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, 65, &n), 1);
  assert_int_equal(n, 65);
}

void tca_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64]) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char der[80];
  size_t dlen = sizeof der;
  assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
  assert_int_equal(EVP_DigestSign(ctx, der, &dlen, msg, len), 1);
  EVP_MD_CTX_free(ctx);
  const unsigned char *p = der;
  ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
  assert_non_null(s);
  assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32), 32);
  assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32), 32);
  ECDSA_SIG_free(s);
}

uint8_t *tca_cert_der(X509 *x, size_t *len) {
  int n = i2d_X509(x, NULL);
  assert_true(n > 0);
  uint8_t *b = malloc((size_t)n), *p = b;
  assert_int_equal(i2d_X509(x, &p), n);
  *len = (size_t)n;
  return b;
}

uint8_t *tca_crl_der(X509_CRL *c, size_t *len) {
  int n = i2d_X509_CRL(c, NULL);
  assert_true(n > 0);
  uint8_t *b = malloc((size_t)n), *p = b;
  assert_int_equal(i2d_X509_CRL(c, &p), n);
  *len = (size_t)n;
  return b;
}

char *tca_pem(X509 *const *certs, size_t n, size_t *len) {
  BIO *b = BIO_new(BIO_s_mem());
  assert_non_null(b);
  for (size_t i = 0; i < n; i++) assert_int_equal(PEM_write_bio_X509(b, certs[i]), 1);
  char *data;
  long l = BIO_get_mem_data(b, &data);
  assert_true(l > 0);
  char *out = malloc((size_t)l + 1);
  memcpy(out, data, (size_t)l);
  out[l] = '\0';
  *len = (size_t)l;
  BIO_free(b);
  return out;
}
