/* fuzz/fuzz_attest_tpm2.c — libFuzzer harness for the TPM 2.0 quote verifier (the
 * TKMSTPM1 container, TPMS_ATTEST, TPMT_SIGNATURE) with a fixed P-256 AK, and with
 * the input's tail as pcr_values; the sim evidence verifier shares it.
 * FUZZ_ROOMS: attest */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/attest.h"

/* A P-256 SubjectPublicKeyInfo made for this harness (its private key was discarded). */
static const uint8_t ak_pub[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x7c, 0xea, 0x5c, 0xdd, 0x77,
    0x47, 0x11, 0x8d, 0xfb, 0x49, 0x99, 0x26, 0x72, 0xf3, 0xca, 0x88, 0x58, 0x55, 0xfb, 0x10, 0x13,
    0x48, 0x45, 0x6e, 0xe3, 0x26, 0x90, 0x06, 0x66, 0x36, 0xd4, 0xb4, 0x4d, 0xb8, 0x95, 0xe7, 0x16,
    0xb3, 0x10, 0xaa, 0x77, 0xa2, 0x7f, 0x12, 0x56, 0x13, 0xac, 0x59, 0x57, 0xe8, 0x34, 0x41, 0x6e,
    0x27, 0x06, 0x1e, 0xd4, 0x3b, 0xbd, 0x6c, 0x24, 0x43, 0x31, 0x7a};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  size_t tail = size > 64 ? 64 : size;
  tkms_attest_item items[3] = {{"ak_pub", ak_pub, sizeof ak_pub},
                               {"pcr_values", data + size - tail, tail},
                               {"sim_attestation_key", data, size < 32 ? size : 32}};
  tkms_attest_collateral col = {items, 3};
  int rc = tkms_attest_verify(TKMS_ATTEST_TPM2, data, size, &col, 1, &c, reason);
  if (rc != TKMS_ATTEST_OK && reason[0] == '\0') __builtin_trap();
  if (rc == TKMS_ATTEST_OK && c.report_data_len > sizeof c.report_data) __builtin_trap();
  (void)tkms_attest_verify(TKMS_ATTEST_SIM, data, size, &col, 1, &c, reason);
  (void)tkms_attest_verify(TKMS_ATTEST_AUTO, data, size, NULL, 1, &c, reason);
  return 0;
}
