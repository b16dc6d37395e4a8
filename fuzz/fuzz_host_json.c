/* fuzz/fuzz_host_json.c — libFuzzer harness for the host's request-body parser:
 * depth pre-scan, strict object parsing and the typed field accessors that every
 * route uses on untrusted bodies.
 * FUZZ_ROOMS: proto host */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "host/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_json_err e;
  json_t *obj = NULL;
  if (tkms_json_parse_object((const char *)data, size, &obj, &e) != 0) return 0;
  static const char *const allowed[] = {"key_type",   "owner",      "request_id", "deadline",
                                        "deployment", "signature",  "session_id", "mode",
                                        "payload",    "operations", "key_ids",    "expiry"};
  (void)tkms_json_only_fields(obj, allowed, sizeof allowed / sizeof allowed[0], &e);
  const char *s;
  uint8_t buf[16384];
  size_t n;
  uint64_t u;
  json_t *arr;
  (void)tkms_json_str(obj, "owner", 0, 80, &s, &e);
  (void)tkms_json_hex(obj, "payload", 0, 0, sizeof buf, buf, &n, &e);
  (void)tkms_json_hex(obj, "request_id", 0, 32, 32, buf, &n, &e);
  (void)tkms_json_u64(obj, "deadline", 0, &u, &e);
  if (tkms_json_array(obj, "operations", 0, 8, &arr, &e) == 0) {
    for (size_t i = 0; i < json_array_size(arr); i++)
      (void)tkms_json_elem_str(json_array_get(arr, i), "operations", i, 16, &s, &e);
  }
  if (tkms_json_array(obj, "key_ids", 0, 64, &arr, &e) == 0) {
    for (size_t i = 0; i < json_array_size(arr); i++)
      (void)tkms_json_elem_hex_exact(json_array_get(arr, i), "key_ids", i, buf, 16, &e);
  }
  json_decref(obj);
  return 0;
}
