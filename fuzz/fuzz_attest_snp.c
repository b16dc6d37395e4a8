/* fuzz/fuzz_attest_snp.c — libFuzzer harness for the SEV-SNP verifier: the first
 * 0x4A0 bytes are the report, the rest is offered as the VCEK (DER or PEM) and as
 * the ask_ark PEM chain, so certificate and TCB-extension parsing are reached too.
 * FUZZ_ROOMS: attest */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  (void)tkms_attest_verify(TKMS_ATTEST_AUTO, data, size, NULL, 1704067200, &c, reason);
  if (size < TKMS_SNP_REPORT_BYTES) {
    (void)tkms_attest_verify(TKMS_ATTEST_SNP, data, size, NULL, 1704067200, &c, reason);
    return 0;
  }
  const uint8_t *rest = data + TKMS_SNP_REPORT_BYTES;
  size_t rest_len = size - TKMS_SNP_REPORT_BYTES;
  tkms_attest_item items[2] = {{"vcek", rest, rest_len}, {"ask_ark", rest, rest_len}};
  tkms_attest_collateral col = {items, 2};
  int rc = tkms_attest_verify(TKMS_ATTEST_SNP, data, TKMS_SNP_REPORT_BYTES, &col, 1704067200, &c,
                              reason);
  if (rc != TKMS_ATTEST_OK &&
      (reason[0] == '\0' || memchr(reason, 0, TKMS_ATTEST_REASON_MAX) == NULL))
    __builtin_trap();
  (void)tkms_attest_snp_check_vcek_tcb(rest, rest_len, data, reason);
  return 0;
}
