/* fuzz/fuzz_attest_nitro.c — libFuzzer harness for the Nitro verifier: the bounded
 * CBOR walk, libcbor, COSE_Sign1, the payload fields, the PCR map and the DER
 * certificates inside, on attacker-chosen bytes.
 * FUZZ_ROOMS: attest */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/cose.h"
#include "attest/nitro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = tkms_attest_verify(TKMS_ATTEST_NITRO, data, size, NULL, 1725719859, &c, reason);
  if (rc != TKMS_ATTEST_OK && reason[0] == '\0') __builtin_trap();
  (void)tkms_attest_verify(TKMS_ATTEST_AUTO, data, size, NULL, 1725719859, &c, reason);
  /* The CBOR walk must agree with itself on any prefix. */
  if (tkms_cbor_check(data, size, TKMS_CBOR_MAX_DEPTH, TKMS_CBOR_MAX_ITEMS) == 0) {
    cbor_item_t *it = tkms_cbor_load(data, size);
    if (it != NULL) cbor_decref(&it);
  }
  tkms_cose_sign1 m;
  if (tkms_cose_sign1_parse(data, size, &m) == 0) {
    uint8_t *tbs;
    size_t n;
    if (tkms_cose_sig_structure(&m, &tbs, &n) == 0) free(tbs);
    tkms_cose_sign1_free(&m);
  }
  return 0;
}
