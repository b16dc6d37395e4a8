/* tests/unit/test_host_flatjson.c — the signing route's fast body parser
 * (src/host/flatjson.c): what it accepts it reads as jansson does, and
 * everything outside its strict subset is left to jansson (tkms_sign_body_fast
 * returns -1), which then accepts or refuses with its own error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "host/flatjson.h"
#include "host/routes_priv.h"

static uint8_t pay_a[TKMS_MAX_PAYLOAD], pay_b[TKMS_MAX_PAYLOAD];

#define RID "0x0707070707070707070707070707070707070707070707070707070707070707"
#define DEP "0x0909090909090909090909090909090909090909090909090909090909090909"
#define SIG "0x0c0379c8851aaca8e289847d592c3c9ba1f37b515187aed12eb9f8abc5d26a2e"
#define SID "0x000102030405060708090a0b0c0d0e0f"

/* A body with these fields, in a new allocation. */
static char *body_with(const char *mode, const char *payload, const char *version,
                       const char *deadline, const char *extra) {
  char *buf = malloc(4096);
  assert_non_null(buf);
  snprintf(buf, 4096,
           "{\"mode\":%s,\"payload\":%s,\"version\":%s,\"request_id\":\"" RID
           "\",\"deadline\":%s,\"deployment\":\"" DEP "\",\"signature\":\"" SIG "\"%s}",
           mode, payload, version, deadline, extra);
  return buf;
}

/* The fast path's verdict; when it accepts, jansson must accept the same. */
static int fast(const char *s) {
  tkms_sign_body f, j;
  memset(&f, 0, sizeof f);
  memset(&j, 0, sizeof j);
  f.payload = pay_a;
  j.payload = pay_b;
  size_t len = strlen(s);
  int r = tkms_sign_body_fast(s, len, &f);
  if (r == 0) {
    tkms_req req;
    memset(&req, 0, sizeof req);
    req.body = s;
    req.body_len = len;
    tkms_resp resp = {0};
    assert_int_equal(tkms_sign_body_json(&req, &j, &resp), 0);
    assert_string_equal(f.mode, j.mode);
    assert_int_equal(f.plen, j.plen);
    assert_memory_equal(f.payload, j.payload, f.plen);
    assert_int_equal(f.version, j.version);
    assert_memory_equal(&f.env, &j.env, sizeof f.env);
  }
  return r;
}

/* fast() of a body_with() body. */
static int fast_with(const char *mode, const char *payload, const char *version,
                     const char *deadline, const char *extra) {
  char *b = body_with(mode, payload, version, deadline, extra);
  int r = fast(b);
  free(b);
  return r;
}

static void test_accepts_the_usual_bodies(void **state) {
  (void)state;
  assert_int_equal(fast_with("\"digest\"", "\"0x00ff\"", "1", "1795533868", ""), 0);
  assert_int_equal(
      fast_with("\"digest\"", "\"0xABcd\"", "4294967295", "0", ",\"session_id\":\"" SID "\""), 0);
  /* JSON whitespace anywhere between tokens. */
  assert_int_equal(fast(" \t\r\n{ \"mode\" : \"personal\" , \"payload\":\"0x\",\"version\" :7,"
                        "\"request_id\":\"" RID "\",\"deadline\":9223372036854775807,"
                        "\"deployment\":\"" DEP "\",\"signature\":\"0x\"} \n"),
                   0);
  tkms_sign_body f;
  memset(&f, 0, sizeof f);
  f.payload = pay_a;
  char *s = body_with("\"digest\"", "\"0x0102\"", "3", "42", ",\"session_id\":\"" SID "\"");
  assert_int_equal(tkms_sign_body_fast(s, strlen(s), &f), 0);
  free(s);
  assert_string_equal(f.mode, "digest");
  assert_int_equal(f.plen, 2);
  assert_int_equal(f.payload[0], 1);
  assert_int_equal(f.payload[1], 2);
  assert_int_equal(f.version, 3);
  assert_int_equal(f.env.deadline, 42);
  assert_int_equal(f.env.sig_len, 32);
  assert_int_equal(f.env.has_session, 1);
  assert_int_equal(f.env.session_id[15], 0x0f);
  assert_int_equal(f.env.request_id[31], 7);
}

/* Outside the subset, or invalid: the fast path declines (jansson decides). */
static void test_declines_everything_else(void **state) {
  (void)state;
  /* {mode, payload, version, deadline, extra} */
  static const char *const no_fields[][5] = {
      {"\"dig\\u0065st\"", "\"0x00\"", "1", "1", ""}, /* an escape */
      {"\"digest\"", "\"0x00\"", "1.0", "1", ""},     /* a fraction */
      {"\"digest\"", "\"0x00\"", "1e0", "1", ""},     /* an exponent */
      {"\"digest\"", "\"0x00\"", "01", "1", ""},      /* a leading zero */
      {"\"digest\"", "\"0x00\"", "-1", "1", ""},      /* a sign */
      {"\"digest\"", "\"0x00\"", "0", "1", ""},       /* version 0 */
      {"\"digest\"", "\"0x00\"", "4294967296", "1", ""},
      {"\"digest\"", "\"0x00\"", "1", "9223372036854775808", ""}, /* > 2^63-1 */
      {"\"digest\"", "\"0x00\"", "1", "\"1\"", ""},               /* a string */
      {"\"digest\"", "\"0x00\"", "true", "1", ""},
      {"\"digest\"", "\"0x0\"", "1", "1", ""},                      /* odd digits */
      {"\"digest\"", "\"00ff\"", "1", "1", ""},                     /* no 0x */
      {"\"digest\"", "\"0xzz\"", "1", "1", ""},                     /* not hex */
      {"\"\"", "\"0x00\"", "1", "1", ""},                           /* an empty mode */
      {"\"abcdefghijklmnopq\"", "\"0x00\"", "1", "1", ""},          /* 17 characters */
      {"\"digest\"", "\"0x00\"", "1", "1", ",\"mode\":\"digest\""}, /* a duplicate */
      {"\"digest\"", "\"0x00\"", "1", "1", ",\"other\":1"},         /* an unknown field */
      {"\"digest\"", "\"0x00\"", "1", "1", ",\"session_id\":\"0x00\""},
      {"\"digest\"", "\"0x00\"", "1", "1", ",\"session_id\":null"},
      {"\"digest\"", "[1]", "1", "1", ""},
      {"\"digest\"", "{}", "1", "1", ""},
      {"\"di\tgest\"", "\"0x00\"", "1", "1", ""},       /* a control character */
      {"\"di\xc3\xa9gest\"", "\"0x00\"", "1", "1", ""}, /* non-ASCII */
  };
  for (size_t i = 0; i < sizeof no_fields / sizeof *no_fields; i++) {
    const char *const *f = no_fields[i];
    if (fast_with(f[0], f[1], f[2], f[3], f[4]) != -1)
      fail_msg("the fast path accepted case %zu: %s %s %s %s %s", i, f[0], f[1], f[2], f[3], f[4]);
  }
  static const char *const no_text[] = {
      "",
      "[]",
      "{}",
      "{\"mode\":\"digest\",}",
      "{\"mode\" \"digest\"}",
      "{\"mode\":\"digest\"",
      "{\"mode\":\"digest\"}x",
      "{\"mode\":\"digest\"}{}",
      /* a required field missing */
      "{\"mode\":\"digest\",\"payload\":\"0x00\",\"version\":1,\"request_id\":\"" RID
      "\",\"deployment\":\"" DEP "\",\"signature\":\"" SIG "\"}",
  };
  for (size_t i = 0; i < sizeof no_text / sizeof *no_text; i++) {
    if (fast(no_text[i]) != -1) fail_msg("the fast path accepted %s", no_text[i]);
  }
}

/* A body of a payload of n bytes and a signature of m bytes. */
static char *sized_body(size_t n, size_t m) {
  size_t cap = 2 * n + 2 * m + 1024;
  char *payload = malloc(2 * n + 5), *sig = malloc(2 * m + 5);
  assert_non_null(payload);
  assert_non_null(sig);
  strcpy(payload, "\"0x");
  memset(payload + 3, 'a', 2 * n);
  strcpy(payload + 3 + 2 * n, "\"");
  char *b = malloc(cap);
  assert_non_null(b);
  strcpy(sig, "0x");
  memset(sig + 2, 'b', 2 * m);
  sig[2 + 2 * m] = '\0';
  snprintf(b, cap,
           "{\"mode\":\"digest\",\"payload\":%s,\"version\":1,\"request_id\":\"" RID
           "\",\"deadline\":1,\"deployment\":\"" DEP "\",\"signature\":\"%s\"}",
           payload, sig);
  free(payload);
  free(sig);
  return b;
}

static void test_bounds(void **state) {
  (void)state;
  char *b = sized_body(TKMS_MAX_PAYLOAD, 128);
  assert_int_equal(fast(b), 0);
  free(b);
  b = sized_body(TKMS_MAX_PAYLOAD + 1, 128);
  assert_int_equal(fast(b), -1);
  free(b);
  b = sized_body(32, 129);
  assert_int_equal(fast(b), -1);
  free(b);
  /* An exact-length copy (no NUL after it), as the HTTP layer hands bodies
   * over: under ASan a read past the end fails here. */
  b = sized_body(32, 65);
  size_t len = strlen(b);
  char *exact = malloc(len);
  assert_non_null(exact);
  memcpy(exact, b, len);
  tkms_sign_body f;
  memset(&f, 0, sizeof f);
  f.payload = pay_a;
  assert_int_equal(tkms_sign_body_fast(exact, len, &f), 0);
  assert_int_equal(f.plen, 32);
  assert_int_equal(f.env.sig_len, 65);
  assert_int_equal(tkms_sign_body_fast(exact, len - 1, &f), -1); /* cut before the '}' */
  free(exact);
  free(b);
}

static void test_parser_limits(void **state) {
  (void)state;
  tkms_fj o;
  char buf[1024];
  size_t n = 0;
  n += (size_t)snprintf(buf + n, sizeof buf - n, "{");
  for (int i = 0; i < TKMS_FJ_MAX; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"k%d\":%d", i ? "," : "", i, i);
  snprintf(buf + n, sizeof buf - n, "}");
  assert_int_equal(tkms_fj_parse(buf, strlen(buf), &o), 0);
  assert_int_equal(o.n, TKMS_FJ_MAX);
  assert_non_null(tkms_fj_get(&o, "k15"));
  assert_null(tkms_fj_get(&o, "k16"));
  /* One member more is outside the subset. */
  buf[strlen(buf) - 1] = '\0';
  strcat(buf, ",\"k16\":1}");
  assert_int_equal(tkms_fj_parse(buf, strlen(buf), &o), -1);
  /* The length is the end: nothing past it is read. */
  const char *s = "{\"a\":1}garbage";
  assert_int_equal(tkms_fj_parse(s, 7, &o), 0);
  assert_int_equal(tkms_fj_parse(s, 6, &o), -1);
  assert_int_equal(tkms_fj_parse("{\"a\":18446744073709551615}", 26, &o), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepts_the_usual_bodies),
      cmocka_unit_test(test_declines_everything_else),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_parser_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
