/* src/attest/dcap_collateral.h — the collateral an Intel DCAP quote is verified
 * against, and the certificate, CRL and signature checks on it.
 *
 * Collateral items (tkms_attest_collateral, see attest.h), by name:
 *
 *   root_ca                   Intel SGX Root CA certificate, DER or PEM. Optional:
 *                             without it the last certificate of the quote's PCK
 *                             chain is used. Either way its public key must equal
 *                             the key pinned in dcap_collateral.c, and it must be
 *                             self-signed: the trust anchor is the key, not a file.
 *   root_ca_crl               CRL issued by the root, DER or PEM. Required.
 *   pck_crl                   CRL issued by the PCK Processor or Platform CA (the
 *                             one that issued the quote's PCK leaf), DER or PEM.
 *                             Required.
 *   pck_crl_issuer_chain      PEM chain of the PCK CRL's issuer. Optional and not
 *                             needed: the PCK CRL's signature is checked with the
 *                             CA certificate of the quote's own verified chain.
 *   tcb_info                  TCB info, either the whole PCS response
 *                             {"tcbInfo":{...},"signature":"<hex r||s>"} or only
 *                             the signed {...} value, byte for byte as signed.
 *   tcb_info_signature        r||s of the tcb_info value: 64 bytes or 128 hex
 *                             characters. Only when tcb_info is the bare value.
 *   tcb_info_issuer_chain     PEM (or DER) chain: Intel SGX TCB Signing cert, root.
 *   qe_identity               QE identity (SGX, id "QE") or TD QE identity (TDX,
 *                             id "TD_QE"): {"enclaveIdentity":{...},"signature":
 *                             "..."} or the bare signed value.
 *   qe_identity_signature     as tcb_info_signature, for qe_identity.
 *   qe_identity_issuer_chain  as tcb_info_issuer_chain, for qe_identity.
 *
 * PEM input may end in NUL bytes (it is read up to the first NUL). */
#ifndef TKMS_ATTEST_DCAP_COLLATERAL_H
#define TKMS_ATTEST_DCAP_COLLATERAL_H
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/json.h"

#define TKMS_DCAP_ITEM_ROOT_CA "root_ca"
#define TKMS_DCAP_ITEM_ROOT_CA_CRL "root_ca_crl"
#define TKMS_DCAP_ITEM_PCK_CRL "pck_crl"
#define TKMS_DCAP_ITEM_PCK_CRL_CHAIN "pck_crl_issuer_chain"
#define TKMS_DCAP_ITEM_TCB_INFO "tcb_info"
#define TKMS_DCAP_ITEM_TCB_INFO_SIG "tcb_info_signature"
#define TKMS_DCAP_ITEM_TCB_INFO_CHAIN "tcb_info_issuer_chain"
#define TKMS_DCAP_ITEM_QE_IDENTITY "qe_identity"
#define TKMS_DCAP_ITEM_QE_IDENTITY_SIG "qe_identity_signature"
#define TKMS_DCAP_ITEM_QE_IDENTITY_CHAIN "qe_identity_issuer_chain"

#define TKMS_DCAP_MAX_CHAIN 8u

/* The uncompressed public key (0x04 || X || Y) of the Intel SGX Root CA. */
extern const uint8_t tkms_dcap_intel_root_key[65];

/* Certificates from PEM (up to the first NUL) or concatenated DER, in order.
 * 0, or -1 if malformed / empty / more than TKMS_DCAP_MAX_CHAIN. */
int tkms_dcap_certs_load(const uint8_t *data, size_t len, STACK_OF(X509) * *out);
/* One CRL, DER or PEM. 0 or -1. */
int tkms_dcap_crl_load(const uint8_t *data, size_t len, X509_CRL **out);

/* Checks that root is self-signed and its public key is pin (65 bytes,
 * uncompressed). TKMS_ATTEST_OK or TKMS_ATTEST_E_ROOT. */
int tkms_dcap_root_check(X509 *root, const uint8_t pin[65], char reason[TKMS_ATTEST_REASON_MAX]);

/* Verifies chain[0] (the leaf) up to root, whose key must be pin (its
 * self-signature is tkms_dcap_root_check's job, run once by the caller), at unix time `at`, with
 * every certificate checked against crls (one CRL per issuer is required). Other certificates of
 * chain are untrusted intermediates. what names the chain in the reason. Returns TKMS_ATTEST_OK,
 * E_ROOT, E_CHAIN, E_EXPIRED, E_REVOKED, E_COLLATERAL (a CRL is missing) or
 * E_COLLATERAL_SIG (a CRL's signature fails). */
int tkms_dcap_chain_verify(STACK_OF(X509) * chain, X509 *root, const uint8_t pin[65],
                           STACK_OF(X509_CRL) * crls, uint64_t at, const char *what,
                           char reason[TKMS_ATTEST_REASON_MAX]);

/* 1 if x's subject common name is exactly cn. */
int tkms_dcap_cn_is(X509 *x, const char *cn);

/* A P-256 public key from x || y (64 bytes); NULL if not on the curve. */
EVP_PKEY *tkms_dcap_p256_key(const uint8_t xy[64]);
/* ECDSA P-256 / SHA-256 verification of a raw r || s signature. 1 valid, 0 not. */
int tkms_dcap_ecdsa_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[64]);

/* A signed Intel collateral document (TCB info or QE identity), verified. */
typedef struct {
  tkms_sjson json; /* the parsed item */
  int body;        /* token of the signed value (an object) */
} tkms_dcap_doc;

/* The signing key of an issuer chain verified earlier in the same
 * verification (same root, CRL and time), so that TCB info and QE identity,
 * which Intel signs with the same certificate, verify it once. Zero it before
 * use; free with tkms_dcap_signer_cache_free. */
typedef struct {
  const uint8_t *data; /* the chain item's bytes */
  size_t len;
  EVP_PKEY *key;
} tkms_dcap_signer_cache;
void tkms_dcap_signer_cache_free(tkms_dcap_signer_cache *c);

/* Reads item doc_name (wrapped under wrap_key, or bare with its signature in
 * item sig_name), verifies the issuer chain in item chain_name to root (whose
 * key must be pin) with
 * root_crl at `at` (or takes its key from cache, which may be NULL, when the
 * chain bytes are those verified before), and the ECDSA signature over the exact raw bytes of the
 * signed value. On TKMS_ATTEST_OK the caller must tkms_dcap_doc_free(out).
 * Errors: E_COLLATERAL (missing or malformed), the chain errors, and
 * E_COLLATERAL_SIG. */
int tkms_dcap_doc_verify(const tkms_attest_collateral *col, const char *doc_name,
                         const char *wrap_key, const char *sig_name, const char *chain_name,
                         X509 *root, const uint8_t pin[65], X509_CRL *root_crl, uint64_t at,
                         tkms_dcap_signer_cache *cache, tkms_dcap_doc *out,
                         char reason[TKMS_ATTEST_REASON_MAX]);
void tkms_dcap_doc_free(tkms_dcap_doc *d);

/* "YYYY-MM-DDTHH:MM:SSZ" (optionally with .fraction before Z) to unix seconds. 0 or -1. */
int tkms_dcap_parse_time(const char *s, size_t len, uint64_t *out);
#endif
