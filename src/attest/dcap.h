/* src/attest/dcap.h — Intel DCAP verifiers: SGX quote v3 and TDX quote v4/v5.
 * Collateral item names: dcap_collateral.h. Checks, claims and reasons:
 * docs/attestation.md. */
#ifndef TKMS_ATTEST_DCAP_H
#define TKMS_ATTEST_DCAP_H
#include "attest/attest.h"
#include "attest/dcap_quote.h"
#include "attest/verifier.h"

extern const tkms_attest_verifier tkms_attest_dcap_sgx;
extern const tkms_attest_verifier tkms_attest_dcap_tdx;

/* The verification both verifiers run, with the trust anchor as a parameter:
 * pin is the uncompressed P-256 key the root must have. The verifiers pass
 * the pinned Intel SGX root key (tkms_dcap_intel_root_key); the tests pass the
 * key of a test root to reach checks that real Intel-signed data cannot
 * (a revoked PCK leaf, a mismatching QE or TDX module identity). tdx selects
 * the TDX verifier. Same results as tkms_attest_verify, but out is not zeroed
 * first: zero it, and set out->format / verified_at if wanted. */
int tkms_dcap_verify(int tdx, const uint8_t pin[65], const uint8_t *ev, size_t len,
                     const tkms_attest_collateral *col, uint64_t at, tkms_attest_claims *out,
                     char reason[TKMS_ATTEST_REASON_MAX]);

/* Fills the body-derived claims of a parsed quote: measurements, report data
 * and the debug flag (SGX: ATTRIBUTES bit 1; TDX: TDATTRIBUTES bit 0). Does not
 * verify anything. 0, or -1 if a measurement does not fit. */
int tkms_dcap_body_claims(const tkms_dcap_quote *q, tkms_attest_claims *out);
#endif
