/* tests/unit/test_host_policy_json.c — the host's policy JSON <-> canonical bytes
 * (docs/policy.md), against byte vectors written by hand from the layout (the
 * same vector tests/integration/policy.test.mjs checks the JS encoder with), every
 * refusal, and the HTTP mapping of the policy statuses (34-39). */
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
#include "host/policy_json.h"
#include "proto/hex.h"
#include "proto/ops.h"

static size_t encode(const char *json, uint8_t *out) {
  json_error_t je;
  json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &je);
  assert_non_null(j);
  tkms_json_err e = {0};
  size_t n = 0;
  if (tkms_policy_json_encode(j, "policy", out, TKMS_POLICY_JSON_ENC_MAX, &n, &e) != 0)
    fail_msg("refused %s: %s", json, e.message);
  json_decref(j);
  return n;
}

static void refused_code(const char *json, const char *code, const char *word) {
  json_error_t je;
  json_t *j = json_loads(json, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
  assert_non_null(j);
  tkms_json_err e = {0};
  uint8_t out[TKMS_POLICY_JSON_ENC_MAX];
  size_t n = 99;
  assert_int_equal(tkms_policy_json_encode(j, "policy", out, sizeof out, &n, &e), -1);
  assert_string_equal(e.code, code);
  if (strstr(e.message, word) == NULL) fail_msg("%s: \"%s\" lacks \"%s\"", json, e.message, word);
  json_decref(j);
}

static void refused(const char *json, const char *word) {
  refused_code(json, "bad_request", word);
}

static void hex_eq(const uint8_t *b, size_t n, const char *want) {
  char *got = malloc(2 * n + 3);
  assert_non_null(got);
  tkms_hex_encode(b, n, got);
  assert_string_equal(got, want);
  free(got);
}

static void test_vectors(void **state) {
  (void)state;
  uint8_t b[TKMS_POLICY_JSON_ENC_MAX];
  /* absent: empty bytes (the default policy) */
  tkms_json_err e = {0};
  size_t n = 7;
  assert_int_equal(tkms_policy_json_encode(NULL, "policy", b, sizeof b, &n, &e), 0);
  assert_int_equal(n, 0);
  /* {} : the full default form */
  n = encode("{}", b);
  hex_eq(b, n, "0x01000000000000000000000000000000000000");
  n = encode("{\"delay_s\":3600,\"rate_per_minute\":60}", b);
  hex_eq(b, n, "0x0100000e10000000003c000000000000000000");
  /* entries sorted by (tee, mlen, measurement) whatever the JSON order */
  char json[1024];
  char tdx[2 * 48 + 1], sgx[2 * 32 + 1];
  memset(tdx, 'a', 96);
  for (int i = 0; i < 96; i += 2) tdx[i + 1] = '1';
  tdx[96] = 0;
  for (int i = 0; i < 64; i += 2) sgx[i] = '5', sgx[i + 1] = 'a';
  sgx[64] = 0;
  snprintf(json, sizeof json,
           "{\"delay_s\":3600,\"require_attestation\":true,\"rate_per_minute\":60,"
           "\"not_after\":1800000000,\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\","
           "\"min_svn\":0,\"tcb_statuses\":[\"UpToDate\"]},{\"tee\":\"sgx\",\"measurement\":"
           "\"0x%s\",\"min_svn\":5,\"tcb_statuses\":[\"SWHardeningNeeded\",\"UpToDate\"]}]}",
           tdx, sgx);
  n = encode(json, b);
  char want[1024];
  snprintf(want, sizeof want,
           "0x01"
           "00000e10"
           "01"
           "0000003c"
           "000000006b49d200"
           "02"
           "0120%s00050006"  /* sgx first: tee 1, 32 bytes, svn 5, SWHardeningNeeded|UpToDate */
           "0230%s00000002", /* then tdx: tee 2, 48 bytes, svn 0, UpToDate */
           sgx, tdx);
  hex_eq(b, n, want);
  /* and back: the JSON form of the bytes encodes to the same bytes */
  json_t *j = tkms_policy_json_decode(b, n);
  assert_non_null(j);
  uint8_t c[TKMS_POLICY_JSON_ENC_MAX];
  size_t m = 0;
  assert_int_equal(tkms_policy_json_encode(j, "policy", c, sizeof c, &m, &e), 0);
  assert_int_equal(m, n);
  assert_memory_equal(b, c, n);
  json_t *sw = json_object_get(j, "software");
  assert_int_equal(json_array_size(sw), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(sw, 0), "tee")), "sgx");
  json_decref(j);
  /* empty bytes decode as the default policy; malformed bytes do not decode */
  j = tkms_policy_json_decode(NULL, 0);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "delay_s")), 0);
  json_decref(j);
  assert_null(tkms_policy_json_decode(b, n - 1));
  b[0] = 2;
  assert_null(tkms_policy_json_decode(b, n));
}

static void test_refusals(void **state) {
  (void)state;
  refused("\"x\"", "object");
  refused("[]", "object");
  refused("{\"colour\":1}", "unknown member");
  refused("{\"delay_s\":31536001}", "delay_s");
  refused("{\"delay_s\":-1}", "delay_s");
  refused("{\"delay_s\":1.5}", "delay_s");
  refused("{\"delay_s\":\"1\"}", "delay_s");
  refused("{\"rate_per_minute\":4294967296}", "rate_per_minute");
  refused("{\"not_after\":-5}", "not_after");
  refused("{\"require_attestation\":1}", "require_attestation");
  refused("{\"software\":{}}", "software");
  refused("{\"software\":[1]}", "software[0]");
  refused(
      "{\"software\":[{\"tee\":\"sim\",\"measurement\":\"0x00\",\"tcb_statuses\":[\"UpToDate\"]}]}",
      "tee");
  refused(
      "{\"software\":[{\"tee\":\"sgx\",\"measurement\":\"0x00\",\"tcb_statuses\":[\"UpToDate\"]}]}",
      "measurement");
  char json[600], m48[97];
  memset(m48, '1', 96);
  m48[96] = 0;
  /* tpm2: no policy may list it (the core cannot check a TPM's attestation key) */
  char m32[65];
  memset(m32, '1', 64);
  m32[64] = 0;
  snprintf(json, sizeof json,
           "{\"software\":[{\"tee\":\"tpm2\",\"measurement\":\"0x%s\",\"tcb_statuses\":"
           "[\"NotApplicable\"]}]}",
           m32);
  refused_code(json, "unsupported", "root of trust");
  snprintf(json, sizeof json,
           "{\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"tcb_statuses\":[]}]}", m48);
  refused(json, "tcb_statuses");
  snprintf(
      json, sizeof json,
      "{\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"tcb_statuses\":[\"NoMatch\"]}]}",
      m48);
  refused(json, "tcb_statuses");
  snprintf(
      json, sizeof json,
      "{\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"tcb_statuses\":[\"UpToDate\","
      "\"UpToDate\"]}]}",
      m48);
  refused(json, "repeats");
  snprintf(json, sizeof json,
           "{\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"min_svn\":65536,"
           "\"tcb_statuses\":[\"UpToDate\"]}]}",
           m48);
  refused(json, "min_svn");
  snprintf(
      json, sizeof json,
      "{\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"tcb_statuses\":[\"UpToDate\"]},"
      "{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"tcb_statuses\":[\"OutOfDate\"]}]}",
      m48, m48);
  refused(json, "twice");
  snprintf(
      json, sizeof json,
      "{\"software\":[{\"tee\":\"tdx\",\"measurement\":\"0x%s\",\"tcb_statuses\":[\"UpToDate\"],"
      "\"debug\":true}]}",
      m48);
  refused(json, "unknown member");
}

static void test_status_mapping(void **state) {
  (void)state;
  static const struct {
    unsigned st, http;
    const char *code;
  } want[] = {
      {TKMS_E_CHANGE_PENDING, 409, "change_pending"},
      {TKMS_E_NO_PENDING_CHANGE, 404, "no_pending_change"},
      {TKMS_E_CHANGE_EFFECTIVE, 409, "change_effective"},
      {TKMS_E_KEY_EXPIRED, 403, "key_expired"},
      {TKMS_E_KEY_RATE_LIMITED, 429, "key_rate_limited"},
      {TKMS_E_CHANGE_NOT_DUE, 409, "change_not_due"},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const tkms_status_map *m = tkms_status_for_core(want[i].st);
    assert_int_equal(m->http, want[i].http);
    assert_string_equal(m->code, want[i].code);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_status_mapping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
