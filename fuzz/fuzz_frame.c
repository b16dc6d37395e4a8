/* fuzz/fuzz_frame.c — libFuzzer harness for the frame decoder, the trusted
 * core's first parser of host input.
 * FUZZ_ROOMS: proto */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_frame f;
  if (tkms_frame_parse(data, size, &f) != 0) return 0;
  /* Every accessor must stay inside the buffer whatever the fields say. */
  tkms_field_iter it;
  tkms_field_iter_init(&it, &f);
  uint8_t tag;
  const uint8_t *val;
  size_t len;
  size_t total = 0;
  while (tkms_field_next(&it, &tag, &val, &len) == 1) {
    if (val < data || val + len > data + size) __builtin_trap();
    total += len;
  }
  if (total > size) __builtin_trap();
  char s[TKMS_MAX_PRINCIPAL + 1];
  uint64_t u64;
  uint32_t u32;
  uint8_t fixed[32];
  for (unsigned t = 0; t < 256; t += 17) {
    (void)tkms_frame_get_str(&f, (uint8_t)t, s, TKMS_MAX_PRINCIPAL);
    (void)tkms_frame_get_u64(&f, (uint8_t)t, &u64);
    (void)tkms_frame_get_u32(&f, (uint8_t)t, &u32);
    (void)tkms_frame_get_fixed(&f, (uint8_t)t, fixed, sizeof fixed);
    (void)tkms_frame_count(&f, (uint8_t)t);
  }
  /* Re-encode the fields: the writer must reproduce the same bytes. */
  tkms_fw w;
  if (tkms_fw_init(&w, f.op, f.status, f.seq) != 0) return 0;
  tkms_field_iter_init(&it, &f);
  while (tkms_field_next(&it, &tag, &val, &len) == 1) tkms_fw_bytes(&w, tag, val, len);
  if (tkms_fw_finish(&w) == 0 && (w.len - 4 != size || memcmp(w.buf + 4, data, size) != 0)) {
    __builtin_trap();
  }
  tkms_fw_free(&w);
  return 0;
}
