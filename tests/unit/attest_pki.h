/* tests/unit/attest_pki.h — certificates and signatures made by the attestation
 * tests themselves: test roots (the "wrong root" cases), a VCEK chain to re-sign
 * SEV-SNP reports, Nitro chains, TPM attestation keys. Nothing here is a vector. */
#ifndef TKMS_TESTS_ATTEST_PKI_H
#define TKMS_TESTS_ATTEST_PKI_H
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* A new key: "P-256", "P-384" (EC) or "RSA-2048". NULL on failure. */
EVP_PKEY *tp_key(const char *kind);

/* An extra extension: OID text and the raw content of its OCTET STRING. */
typedef struct {
  const char *oid;
  const uint8_t *der;
  size_t len;
} tp_ext;

/* A certificate for key with subject CN=cn, issued by issuer/issuer_key (both
 * NULL: self-signed), valid [not_before, not_after] (unix seconds). ca: basic
 * constraints CA:TRUE and keyCertSign. pss: sign RSA-PSS SHA-384 (issuer key
 * RSA), otherwise SHA-384 with the issuer key's default scheme. */
X509 *tp_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int64_t not_before,
              int64_t not_after, int ca, int pss, const tp_ext *exts, size_t n_exts);

/* DER of a certificate (malloc'd) and PEM of n certificates (malloc'd, no NUL
 * counted in *len). NULL on failure. */
uint8_t *tp_der(X509 *x, size_t *len);
uint8_t *tp_pem(X509 *const *xs, size_t n, size_t *len);
/* DER SubjectPublicKeyInfo of key, malloc'd. */
uint8_t *tp_spki(EVP_PKEY *key, size_t *len);
/* SHA-256 of the DER SubjectPublicKeyInfo / the certificate DER. */
void tp_spki_sha256(X509 *x, uint8_t out[32]);
void tp_cert_sha256(X509 *x, uint8_t out[32]);

/* ECDSA signature over msg with digest md, as fixed-width big-endian r and s of
 * n bytes each. 0 or -1. */
int tp_ecdsa_sign_rs(EVP_PKEY *key, const char *md, const uint8_t *msg, size_t len, uint8_t *r,
                     uint8_t *s, size_t n);
/* A signature over msg (RSA PKCS#1 v1.5 unless pss) as OpenSSL makes it; malloc'd. */
uint8_t *tp_sign(EVP_PKEY *key, const char *md, int pss, const uint8_t *msg, size_t len,
                 size_t *sig_len);

/* Unix time of "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
int64_t tp_time(const char *iso);
/* Hex of exactly n bytes into out (0 or -1). */
int tp_unhex(const char *hex, uint8_t *out, size_t n);
#endif
