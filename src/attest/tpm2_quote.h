/* src/attest/tpm2_quote.h — TPM 2.0 quote verifier (tpm2_quote.c).
 *
 * A TPM2_Quote returns two structures; tkms carries them in one container
 * (all integers big-endian, like the TPM's own):
 *   0    8  "TKMSTPM1"
 *   8    2  n = length of the TPMS_ATTEST (1..TKMS_TPM2_MAX_ATTEST)
 *   10   n  TPMS_ATTEST, exactly as the TPM returned it (the signed bytes)
 *   10+n 2  m = length of the TPMT_SIGNATURE (1..TKMS_TPM2_MAX_SIG)
 *   12+n m  TPMT_SIGNATURE
 *   nothing after it.
 * Collateral:
 *   "ak_pub"     the attestation key: SubjectPublicKeyInfo, PEM or DER (EC or RSA);
 *   "pcr_values" optional: the selected PCR values, concatenated in the TPM's order
 *                (banks as in the selection, PCRs ascending in each); their digest
 *                with the signature's hash must equal pcrDigest.
 * Whoever passes ak_pub vouches for it (EK certificate, credential activation):
 * this verifier proves only that that key signed this quote. */
#ifndef TKMS_ATTEST_TPM2_QUOTE_H
#define TKMS_ATTEST_TPM2_QUOTE_H
#include "attest/attest.h"
#include "attest/verifier.h"

#define TKMS_TPM2_MAGIC "TKMSTPM1"
#define TKMS_TPM2_MAGIC_BYTES 8u
#define TKMS_TPM2_MAX_ATTEST 1024u
#define TKMS_TPM2_MAX_SIG 1024u
#define TKMS_TPM2_MAX_BANKS 8u

/* TPM 2.0 constants (TCG TPM 2.0 Library, Part 2). */
#define TKMS_TPM2_GENERATED_VALUE 0xFF544347u
#define TKMS_TPM2_ST_ATTEST_QUOTE 0x8018u
#define TKMS_TPM2_ALG_SHA1 0x0004u
#define TKMS_TPM2_ALG_SHA256 0x000Bu
#define TKMS_TPM2_ALG_SHA384 0x000Cu
#define TKMS_TPM2_ALG_SHA512 0x000Du
#define TKMS_TPM2_ALG_RSASSA 0x0014u
#define TKMS_TPM2_ALG_RSAPSS 0x0016u
#define TKMS_TPM2_ALG_ECDSA 0x0018u

extern const tkms_attest_verifier tkms_attest_tpm2_verifier;
#endif
