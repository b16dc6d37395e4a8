/* fuzz/fuzz_attest_json.c — libFuzzer harness for the strict JSON reader of
 * the trusted side (src/attest/json.c) and the TCB info / QE identity readers
 * on top of it (src/attest/tcb_json.c). Every token must lie inside the input,
 * subtrees must nest, and the readers must refuse, never crash.
 * FUZZ_ROOMS: attest */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/json.h"
#include "attest/tcb_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_sjson j;
  if (tkms_sjson_parse(&j, (const char *)data, size) != 0) return 0;
  if (j.n == 0 || j.n > TKMS_SJSON_MAX_TOKENS) __builtin_trap();
  for (size_t i = 0; i < j.n; i++) {
    const tkms_sjson_tok *t = &j.tok[i];
    if (t->start > t->end || t->end > size || t->next <= i || t->next > j.n) __builtin_trap();
    /* a subtree lies inside its parent's extent */
    if (t->next > i + 1 && j.tok[t->next - 1].end > t->end) __builtin_trap();
    const char *s;
    size_t n;
    if (tkms_sjson_str(&j, (int)i, &s, &n) == 0 &&
        (s < (const char *)data || s + n > (const char *)data + size))
      __builtin_trap();
    uint64_t v;
    (void)tkms_sjson_uint(&j, (int)i, UINT64_MAX, &v);
    (void)tkms_sjson_at(&j, (int)i, 3);
    (void)tkms_sjson_get(&j, (int)i, "id");
  }
  tkms_tcb_info ti;
  tkms_qe_identity qe;
  const char *why;
  int bodies[3] = {0, tkms_sjson_get(&j, 0, "tcbInfo"), tkms_sjson_get(&j, 0, "enclaveIdentity")};
  for (size_t b = 0; b < 3; b++) {
    if (bodies[b] < 0) continue;
    (void)tkms_tcb_info_read(&j, bodies[b], &ti, &why);
    (void)tkms_qe_identity_read(&j, bodies[b], &qe, &why);
  }
  tkms_sjson_free(&j);
  return 0;
}
