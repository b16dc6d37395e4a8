/* tests/unit/test_host_json.c — strict request-body parsing: depth limit,
 * object-only bodies, duplicate and unknown fields, types, hex and lengths;
 * and the status table that maps core answers to HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "host/errors.h"
#include "host/json.h"
#include "proto/ops.h"

static json_t *parse_ok(const char *s) {
  json_t *j = NULL;
  tkms_json_err e = {0};
  assert_int_equal(tkms_json_parse_object(s, strlen(s), &j, &e), 0);
  assert_non_null(j);
  return j;
}

static void parse_fails(const char *s, size_t len, const char *code) {
  json_t *j = (json_t *)1;
  tkms_json_err e = {0};
  assert_int_equal(tkms_json_parse_object(s, len, &j, &e), -1);
  assert_null(j);
  assert_string_equal(e.code, code);
  assert_true(strlen(e.message) > 0);
}

/* Nested arrays: depth d means d brackets, e.g. {"a":[[1]]} has depth 3. */
static char *nested(unsigned depth) {
  size_t n = 2 * depth + 16;
  char *s = malloc(n);
  assert_non_null(s);
  strcpy(s, "{\"a\":");
  for (unsigned i = 1; i < depth; i++) strcat(s, "[");
  strcat(s, "1");
  for (unsigned i = 1; i < depth; i++) strcat(s, "]");
  strcat(s, "}");
  return s;
}

static void test_depth(void **state) {
  (void)state;
  char *ok = nested(TKMS_JSON_MAX_DEPTH);
  json_decref(parse_ok(ok));
  free(ok);
  char *deep = nested(TKMS_JSON_MAX_DEPTH + 1);
  parse_fails(deep, strlen(deep), "invalid_json");
  free(deep);
  /* A huge nesting is refused by the pre-scan, before jansson recurses. */
  char *huge = nested(100000);
  parse_fails(huge, strlen(huge), "invalid_json");
  free(huge);
  /* Brackets inside strings do not count, escaped quotes do not end strings. */
  const char *in_str = "{\"a\":\"[[[[[[[[[[[[\\\"[[[[[[[[[[\"}";
  assert_int_equal(tkms_json_depth_ok(in_str, strlen(in_str), 2), 0);
  json_decref(parse_ok(in_str));
  const char *esc = "{\"a\":\"\\\\\",\"b\":[[[[[[[[[1]]]]]]]]]}";
  assert_int_equal(tkms_json_depth_ok(esc, strlen(esc), 8), -1);
  assert_int_equal(tkms_json_depth_ok("[[]]", 4, 2), 0);
  assert_int_equal(tkms_json_depth_ok("[[[]]]", 6, 2), -1);
}

static void test_not_an_object(void **state) {
  (void)state;
  parse_fails("", 0, "invalid_json");
  parse_fails("[1,2]", 5, "invalid_json");
  parse_fails("42", 2, "invalid_json");
  parse_fails("\"s\"", 3, "invalid_json");
  parse_fails("null", 4, "invalid_json");
  parse_fails("{\"a\":1} x", 9, "invalid_json");          /* trailing data */
  parse_fails("{\"a\":1", 6, "invalid_json");             /* truncated */
  parse_fails("{\"a\":1,\"a\":2}", 13, "invalid_json");   /* duplicate key */
  parse_fails("{\"a\":\"\\u0000\"}", 14, "invalid_json"); /* NUL in a string */
  parse_fails("{\"a\":\"\xff\"}", 8, "invalid_json");     /* not UTF-8 */
  /* length is honoured: a NUL byte inside the buffer is not the end */
  parse_fails("{\"a\":1}\0garbage", 15, "invalid_json");
}

static void test_unknown_field(void **state) {
  (void)state;
  static const char *const allowed[] = {"owner", "deadline"};
  tkms_json_err e = {0};
  json_t *j = parse_ok("{\"owner\":\"x\",\"deadline\":1}");
  assert_int_equal(tkms_json_only_fields(j, allowed, 2, &e), 0);
  json_decref(j);
  j = parse_ok("{\"owner\":\"x\",\"signer\":1}");
  assert_int_equal(tkms_json_only_fields(j, allowed, 2, &e), -1);
  assert_string_equal(e.code, "bad_request");
  assert_non_null(strstr(e.message, "\"signer\""));
  json_decref(j);
  /* a hostile field name is quoted safely and shortened */
  j = parse_ok(
      "{\"a\\\"b\\nc"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}");
  assert_int_equal(tkms_json_only_fields(j, allowed, 2, &e), -1);
  assert_null(strchr(e.message, '\n'));
  assert_non_null(strstr(e.message, "a?b?c"));
  assert_non_null(strstr(e.message, "..."));
  json_decref(j);
}

static void test_strings(void **state) {
  (void)state;
  tkms_json_err e = {0};
  const char *s;
  json_t *j = parse_ok(
      "{\"ok\":\"eoa:0xabc\",\"num\":5,\"empty\":\"\",\"ctl\":\"a\\u0001b\",\"utf\":"
      "\"caf\xc3\xa9\","
      "\"long\":\"abcdefghijk\"}");
  assert_int_equal(tkms_json_str(j, "ok", 1, 80, &s, &e), 0);
  assert_string_equal(s, "eoa:0xabc");
  assert_int_equal(tkms_json_str(j, "missing", 0, 80, &s, &e), TKMS_JSON_ABSENT);
  assert_int_equal(tkms_json_str(j, "missing", 1, 80, &s, &e), -1);
  assert_non_null(strstr(e.message, "missing field \"missing\""));
  assert_int_equal(tkms_json_str(j, "num", 1, 80, &s, &e), -1);
  assert_non_null(strstr(e.message, "must be a string"));
  assert_int_equal(tkms_json_str(j, "empty", 1, 80, &s, &e), -1);
  assert_int_equal(tkms_json_str(j, "ctl", 1, 80, &s, &e), -1);
  assert_non_null(strstr(e.message, "printable ASCII"));
  assert_int_equal(tkms_json_str(j, "utf", 1, 80, &s, &e), -1);
  /* oversize: exactly the limit passes, one more fails */
  assert_int_equal(tkms_json_str(j, "long", 1, 11, &s, &e), 0);
  assert_int_equal(tkms_json_str(j, "long", 1, 10, &s, &e), -1);
  assert_non_null(strstr(e.message, "longer than 10"));
  json_decref(j);
  assert_int_equal(tkms_json_printable("abc", 3), 0);
  assert_int_equal(tkms_json_printable("abcd", 3), -1);
  assert_int_equal(tkms_json_printable("", 3), -1);
  assert_int_equal(tkms_json_printable("a\tb", 3), -1);
}

static void test_hex(void **state) {
  (void)state;
  tkms_json_err e = {0};
  uint8_t out[32];
  size_t n;
  json_t *j = parse_ok(
      "{\"id\":\"0x00112233445566778899AABBCCDDEEFF\",\"short\":\"0x0011\",\"odd\":\"0x001\","
      "\"noprefix\":\"0011\",\"nothex\":\"0xzz\",\"num\":17,\"empty\":\"0x\","
      "\"long\":\"0x00112233445566778899aabbccddeeff00\"}");
  assert_int_equal(tkms_json_hex(j, "id", 1, 16, 16, out, &n, &e), 0);
  assert_int_equal(n, 16);
  assert_int_equal(out[15], 0xff);
  assert_int_equal(tkms_json_hex(j, "short", 1, 16, 16, out, &n, &e), -1);
  assert_non_null(strstr(e.message, "16 bytes"));
  assert_int_equal(tkms_json_hex(j, "long", 1, 16, 16, out, &n, &e), -1);
  assert_int_equal(tkms_json_hex(j, "odd", 1, 0, 16, out, &n, &e), -1);
  assert_int_equal(tkms_json_hex(j, "noprefix", 1, 0, 16, out, &n, &e), -1);
  assert_int_equal(tkms_json_hex(j, "nothex", 1, 0, 16, out, &n, &e), -1);
  assert_int_equal(tkms_json_hex(j, "num", 1, 0, 16, out, &n, &e), -1);
  assert_int_equal(tkms_json_hex(j, "empty", 1, 0, 16, out, &n, &e), 0);
  assert_int_equal(n, 0);
  assert_int_equal(tkms_json_hex(j, "empty", 1, 1, 16, out, &n, &e), -1);
  assert_int_equal(tkms_json_hex(j, "short", 1, 1, 16, out, &n, &e), 0);
  assert_int_equal(n, 2);
  assert_int_equal(tkms_json_hex(j, "absent", 0, 1, 16, out, &n, &e), TKMS_JSON_ABSENT);
  json_decref(j);
}

/* Strings beyond the 64 KiB limit are refused without decoding them. */
static void test_oversize_hex(void **state) {
  (void)state;
  size_t digits = TKMS_JSON_MAX_STRING + 2;
  char *body = malloc(digits + 32);
  assert_non_null(body);
  strcpy(body, "{\"p\":\"0x");
  size_t off = strlen(body);
  memset(body + off, 'a', digits);
  strcpy(body + off + digits, "\"}");
  json_t *j = parse_ok(body);
  free(body);
  uint8_t *out = malloc(TKMS_JSON_MAX_STRING);
  assert_non_null(out);
  size_t n;
  tkms_json_err e = {0};
  assert_int_equal(tkms_json_hex(j, "p", 1, 0, TKMS_JSON_MAX_STRING, out, &n, &e), -1);
  assert_non_null(strstr(e.message, "longer than"));
  assert_int_equal(tkms_json_hex(j, "p", 1, 0, 16384, out, &n, &e), -1);
  free(out);
  json_decref(j);
}

static void test_integers(void **state) {
  (void)state;
  tkms_json_err e = {0};
  uint64_t v;
  json_t *j = parse_ok(
      "{\"ok\":1767225600,\"neg\":-1,\"real\":1.5,\"str\":\"5\",\"max\":9223372036854775807}");
  assert_int_equal(tkms_json_u64(j, "ok", 1, &v, &e), 0);
  assert_int_equal(v, 1767225600);
  assert_int_equal(tkms_json_u64(j, "max", 1, &v, &e), 0);
  assert_int_equal(tkms_json_u64(j, "neg", 1, &v, &e), -1);
  assert_int_equal(tkms_json_u64(j, "real", 1, &v, &e), -1);
  assert_int_equal(tkms_json_u64(j, "str", 1, &v, &e), -1);
  assert_int_equal(tkms_json_u64(j, "absent", 1, &v, &e), -1);
  json_decref(j);
  /* beyond int64: jansson refuses the document */
  parse_fails("{\"a\":99999999999999999999}", 26, "invalid_json");
}

static void test_arrays(void **state) {
  (void)state;
  tkms_json_err e = {0};
  json_t *arr;
  json_t *j = parse_ok(
      "{\"ops\":[\"sign\",\"rotate\"],\"many\":[1,2,3,4,5],\"ids\":["
      "\"0x00112233445566778899aabbccddeeff\","
      "\"0x0011\"],\"notarr\":{}}");
  assert_int_equal(tkms_json_array(j, "ops", 1, 4, &arr, &e), 0);
  const char *s;
  assert_int_equal(tkms_json_elem_str(json_array_get(arr, 1), "ops", 1, 16, &s, &e), 0);
  assert_string_equal(s, "rotate");
  assert_int_equal(tkms_json_array(j, "many", 1, 4, &arr, &e), -1);
  assert_non_null(strstr(e.message, "more than 4"));
  assert_int_equal(tkms_json_array(j, "notarr", 1, 4, &arr, &e), -1);
  assert_int_equal(tkms_json_array(j, "absent", 0, 4, &arr, &e), TKMS_JSON_ABSENT);
  assert_int_equal(tkms_json_array(j, "ids", 1, 4, &arr, &e), 0);
  uint8_t id[16];
  assert_int_equal(tkms_json_elem_hex_exact(json_array_get(arr, 0), "ids", 0, id, 16, &e), 0);
  assert_int_equal(tkms_json_elem_hex_exact(json_array_get(arr, 1), "ids", 1, id, 16, &e), -1);
  assert_non_null(strstr(e.message, "ids[1]"));
  json_decref(j);
}

/* The core status table follows docs/api.md. */
static void test_status_table(void **state) {
  (void)state;
  static const struct {
    unsigned st, http;
    const char *code;
  } want[] = {
      {TKMS_E_BAD_REQUEST, 400, "bad_request"},
      {TKMS_E_BAD_SIGNATURE, 401, "bad_signature"},
      {TKMS_E_HIGH_S, 401, "non_canonical_signature"},
      {TKMS_E_WRONG_SIGNER, 403, "wrong_signer"},
      {TKMS_E_EXPIRED, 401, "request_expired"},
      {TKMS_E_REPLAY, 403, "replayed_request"},
      {TKMS_E_WRONG_DEPLOYMENT, 403, "wrong_deployment"},
      {TKMS_E_NOT_FOUND, 404, "key_not_found"},
      {TKMS_E_SCOPE, 403, "outside_session_scope"},
      {TKMS_E_SESSION_EXPIRED, 401, "session_expired"},
      {TKMS_E_SESSION_UNKNOWN, 401, "session_unknown"},
      {TKMS_E_DEADLINE_TOO_FAR, 400, "deadline_too_far"},
      {TKMS_E_UNSUPPORTED, 400, "unsupported"},
      {TKMS_E_STALE_RECORD, 409, "stale_record"},
      {TKMS_E_BUSY, 503, "core_busy"},
      {TKMS_E_NOT_READY, 503, "core_unavailable"},
      {TKMS_E_LIMIT, 429, "limit_reached"},
      {TKMS_E_UNSEAL, 500, "internal"},
      {TKMS_E_INTERNAL, 500, "internal"},
      {999, 500, "internal"},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const tkms_status_map *m = tkms_status_for_core(want[i].st);
    assert_int_equal(m->http, want[i].http);
    assert_string_equal(m->code, want[i].code);
  }
  /* Error bodies: uniform shape, retryable on 503 only. */
  tkms_resp r = {0};
  tkms_resp_core_error(&r, TKMS_E_BUSY, "busy now");
  assert_int_equal(r.status, 503);
  assert_string_equal(
      r.body, "{\"error\":{\"code\":\"core_busy\",\"message\":\"busy now\",\"retryable\":true}}");
  tkms_resp_core_error(&r, TKMS_E_WRONG_SIGNER, NULL);
  assert_int_equal(r.status, 403);
  assert_non_null(strstr(r.body, "\"code\":\"wrong_signer\""));
  assert_null(strstr(r.body, "retryable"));
  tkms_resp_core_error(&r, TKMS_OK, "not an error"); /* never answers 200 on an error path */
  assert_int_equal(r.status, 500);
  tkms_resp_clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_depth),         cmocka_unit_test(test_not_an_object),
      cmocka_unit_test(test_unknown_field), cmocka_unit_test(test_strings),
      cmocka_unit_test(test_hex),           cmocka_unit_test(test_oversize_hex),
      cmocka_unit_test(test_integers),      cmocka_unit_test(test_arrays),
      cmocka_unit_test(test_status_table),
  };
  return cmocka_run_group_tests_name("host_json", tests, NULL, NULL);
}
