/* src/attest/x509chain.h — internal: certificates for the SNP and Nitro verifiers.
 *
 * Loading certificates from collateral or evidence (DER or PEM, bounded), a
 * certificate chain check at a given unix time that maps OpenSSL's verdict onto
 * one TKMS_ATTEST_E_* code, and the SHA-256 fingerprints the roots are pinned by.
 * No X509_V_FLAG_X509_STRICT: the AMD VCEK and the Nitro leaf carry no Authority
 * Key Identifier, which strict mode refuses. */
#ifndef TKMS_ATTEST_X509CHAIN_H
#define TKMS_ATTEST_X509CHAIN_H
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"

/* Collateral and evidence certificates above this size are refused. */
#define TKMS_ATTEST_X509_MAX_BYTES 65536u
/* At most this many certificates are read from one PEM blob. */
#define TKMS_ATTEST_X509_MAX_CERTS 8

/* One certificate, DER (exactly len bytes, nothing after it) or PEM (the first
 * certificate; text after it is ignored). NULL if it does not parse. */
X509 *tkms_attest_x509_load_one(const uint8_t *data, size_t len);

/* Every PEM certificate in data, in order (a trailing NUL, as in quotes, ends the
 * text). 0 with *out holding 1..TKMS_ATTEST_X509_MAX_CERTS certificates, or -1. */
int tkms_attest_x509_load_pem_chain(const uint8_t *data, size_t len, STACK_OF(X509) * *out);

/* SHA-256 of the certificate's DER encoding (0 or -1). */
int tkms_attest_x509_cert_sha256(X509 *cert, uint8_t out[32]);
/* SHA-256 of the DER SubjectPublicKeyInfo (0 or -1). */
int tkms_attest_x509_spki_sha256(X509 *cert, uint8_t out[32]);

/* Checks leaf <- untrusted... <- root at unix time `at`: every signature, every
 * validity period, basic constraints, and the root's own self-signature. The
 * caller has already compared root against its pin. Returns TKMS_ATTEST_OK,
 * E_EXPIRED (a certificate not valid at `at`), E_ROOT (the chain does not reach
 * root), E_CHAIN (a signature or constraint fails) or E_INTERNAL, with reason
 * naming `what` (e.g. "VCEK chain"). */
int tkms_attest_x509_verify_chain(X509 *leaf, STACK_OF(X509) * untrusted, X509 *root, uint64_t at,
                                  const char *what, char reason[TKMS_ATTEST_REASON_MAX]);

/* ECDSA verification of a raw big-endian r and s (each at most 66 bytes) over msg
 * with the digest md ("SHA256", "SHA384", ...). 1 valid, 0 invalid, -1 error. */
int tkms_attest_ecdsa_verify_rs(EVP_PKEY *pub, const char *md, const uint8_t *msg, size_t msg_len,
                                const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len);
#endif
