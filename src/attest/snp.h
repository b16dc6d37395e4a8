/* src/attest/snp.h — AMD SEV-SNP attestation report verifier (snp.c).
 *
 * Evidence: the 0x4A0-byte report exactly as the PSP returns it (configfs-tsm
 * outblob, /dev/sev-guest), version 2 to 5, signature algorithm 1 (ECDSA P-384
 * with SHA-384), signed by a VCEK (VLEK-signed reports are E_UNSUPPORTED).
 * Collateral:
 *   "vcek"    the VCEK certificate, DER or PEM;
 *   "ask_ark" the ASK and ARK certificates, PEM (as AMD's KDS cert_chain serves them).
 * The ARK's SubjectPublicKeyInfo must hash to a pinned AMD root (Milan, Genoa).
 * Claims: see docs/attestation-snp-nitro-tpm.md. */
#ifndef TKMS_ATTEST_SNP_H
#define TKMS_ATTEST_SNP_H
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/verifier.h"

#define TKMS_SNP_REPORT_BYTES 0x4A0u
#define TKMS_SNP_SIGNED_BYTES 0x2A0u
#define TKMS_SNP_POLICY_DEBUG (1ull << 19)

/* A pinned ARK: product name (the VCEK's productName starts with it) and the
 * SHA-256 of the ARK's DER SubjectPublicKeyInfo. */
typedef struct {
  const char *product;
  uint8_t spki_sha256[32];
} tkms_snp_ark_pin;

extern const tkms_attest_verifier tkms_attest_snp_verifier;

/* The product name of the pinned ARK whose SPKI hashes to spki_sha256, or NULL. */
const char *tkms_attest_snp_pinned_product(const uint8_t spki_sha256[32]);

/* The verifier with an explicit list of ARK pins instead of AMD's (tests use a
 * root they made). Same contract as tkms_attest_verify for one SNP report. */
int tkms_attest_snp_verify_pinned(const uint8_t *ev, size_t len, const tkms_attest_collateral *col,
                                  uint64_t at, const tkms_snp_ark_pin *pins, size_t n_pins,
                                  tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]);

/* Compares the VCEK's TCB extensions (bootloader, tee, snp, microcode) and hwid
 * with the report's REPORTED_TCB and CHIP_ID. vcek is DER or PEM. Returns
 * TKMS_ATTEST_OK, E_TCB_MISMATCH, or E_COLLATERAL (an extension missing or
 * malformed). report must hold TKMS_SNP_REPORT_BYTES. */
int tkms_attest_snp_check_vcek_tcb(const uint8_t *vcek, size_t vcek_len, const uint8_t *report,
                                   char reason[TKMS_ATTEST_REASON_MAX]);
#endif
