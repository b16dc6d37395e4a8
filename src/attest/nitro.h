/* src/attest/nitro.h — AWS Nitro Enclaves attestation document verifier (nitro.c).
 *
 * Evidence: the COSE_Sign1 document the NSM returns (tagged 18 or untagged),
 * ES384, at most TKMS_NITRO_MAX_DOC bytes. No collateral: the chain travels in
 * the document (certificate, cabundle root first) and cabundle[0] must be the
 * AWS Nitro Enclaves Root-G1 certificate, pinned by the SHA-256 of its DER.
 * Claims: see docs/attestation-snp-nitro-tpm.md. */
#ifndef TKMS_ATTEST_NITRO_H
#define TKMS_ATTEST_NITRO_H
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/verifier.h"

#define TKMS_NITRO_MAX_DOC 16384u
#define TKMS_NITRO_MAX_FIELD 1024u /* public_key, user_data, nonce, each certificate */
#define TKMS_NITRO_MAX_CABUNDLE 8u
#define TKMS_NITRO_MAX_PCRS 32u

extern const tkms_attest_verifier tkms_attest_nitro_verifier;

/* SHA-256 of the DER of AWS_NitroEnclaves_Root-G1 (CN=aws.nitro-enclaves). */
extern const uint8_t tkms_attest_nitro_root_sha256[32];

/* The verifier anchored on another root certificate (tests use one they made). */
int tkms_attest_nitro_verify_pinned(const uint8_t *ev, size_t len, uint64_t at,
                                    const uint8_t root_sha256[32], tkms_attest_claims *out,
                                    char reason[TKMS_ATTEST_REASON_MAX]);
#endif
