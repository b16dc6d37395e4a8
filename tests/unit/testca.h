/* tests/unit/testca.h — a throw-away P-256 certificate authority for tests:
 * keys, certificates, CRLs and raw r||s ECDSA signatures made with OpenSSL.
 * Every function asserts (cmocka) instead of returning errors. */
#ifndef TKMS_TESTS_TESTCA_H
#define TKMS_TESTS_TESTCA_H
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

EVP_PKEY *tca_key(void);
/* A certificate for key with subject CN cn, issued by (issuer, ikey) or
 * self-signed when issuer is NULL; valid 2020-01-01 .. 2030-01-01; a CA when ca. */
X509 *tca_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long serial, int ca);
/* A CRL by (issuer, ikey) valid [last, next), listing serial when >= 0. */
X509_CRL *tca_crl(X509 *issuer, EVP_PKEY *ikey, long serial, time_t last, time_t next);
/* The uncompressed public point of key. */
void tca_point(EVP_PKEY *key, uint8_t out[65]);
/* ECDSA P-256 / SHA-256 signature of msg as raw r || s. */
void tca_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64]);
/* DER or PEM of a certificate / CRL; malloc'd, *len set. */
uint8_t *tca_cert_der(X509 *x, size_t *len);
uint8_t *tca_crl_der(X509_CRL *c, size_t *len);
/* PEM of n certificates, concatenated; malloc'd, NUL-terminated. */
char *tca_pem(X509 *const *certs, size_t n, size_t *len);
#endif
