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

/* Fills the body-derived claims of a parsed quote: measurements, report data
 * and the debug flag (SGX: ATTRIBUTES bit 1; TDX: TDATTRIBUTES bit 0). Does not
 * verify anything. 0, or -1 if a measurement does not fit. */
int tkms_dcap_body_claims(const tkms_dcap_quote *q, tkms_attest_claims *out);
#endif
