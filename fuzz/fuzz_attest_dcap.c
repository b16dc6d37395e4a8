/* fuzz/fuzz_attest_dcap.c — libFuzzer harness for the Intel DCAP quote parser
 * and verifier (src/attest/dcap*.c): the quote parser must keep every field
 * inside the input, and the verifiers must refuse, never crash, whatever the
 * bytes — with no collateral and with collateral items that are the input
 * itself (certificates, CRLs and JSON parsed from hostile bytes).
 * FUZZ_ROOMS: attest */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/dcap.h"
#include "attest/dcap_pck.h"
#include "attest/dcap_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size) {
  if (p == NULL) return;
  if (p < data || n > size || p + n > data + size) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char reason[TKMS_ATTEST_REASON_MAX];
  tkms_dcap_quote q;
  if (tkms_dcap_quote_parse(data, size, &q, reason) == TKMS_ATTEST_OK) {
    inside(q.header, TKMS_DCAP_HEADER_LEN, data, size);
    inside(q.body, q.body_len, data, size);
    inside(q.signed_data, q.signed_len, data, size);
    inside(q.sig, 64, data, size);
    inside(q.att_key, 64, data, size);
    inside(q.qe_report, TKMS_DCAP_REPORT_LEN, data, size);
    inside(q.qe_report_sig, 64, data, size);
    inside(q.qe_auth, q.qe_auth_len, data, size);
    inside(q.pck_chain, q.pck_chain_len, data, size);
    if (q.quote_len > size) __builtin_trap();
    tkms_attest_claims c;
    memset(&c, 0, sizeof c);
    if (tkms_dcap_body_claims(&q, &c) != 0) __builtin_trap();
  }
  tkms_attest_claims out;
  (void)tkms_attest_verify(TKMS_ATTEST_AUTO, data, size, NULL, 1751328000, &out, reason);
  if (reason[0] == '\0') __builtin_trap();
  /* The same bytes as every collateral item: PEM/DER/JSON readers on hostile input. */
  static const char *const names[] = {"root_ca",
                                      "root_ca_crl",
                                      "pck_crl",
                                      "tcb_info",
                                      "tcb_info_issuer_chain",
                                      "qe_identity",
                                      "qe_identity_issuer_chain"};
  tkms_attest_item items[7];
  for (size_t i = 0; i < 7; i++) items[i] = (tkms_attest_item){names[i], data, size};
  tkms_attest_collateral col = {items, 7};
  (void)tkms_attest_verify(TKMS_ATTEST_SGX, data, size, &col, 1751328000, &out, reason);
  (void)tkms_attest_verify(TKMS_ATTEST_TDX, data, size, &col, 1751328000, &out, reason);
  /* The PCK extension reader on raw DER. */
  tkms_dcap_pck_tcb t;
  (void)tkms_dcap_pck_tcb_parse(data, size, &t);
  return 0;
}
