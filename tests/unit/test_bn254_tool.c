/* tests/unit/test_bn254_tool.c — a line-oriented driver of the BN254 public API for the
 * differential test against @noble/curves (tests/integration/bn254_diff.test.mjs).
 *
 *   test_bn254_tool --serve   reads requests on stdin, one per line: an op and hex
 *                             arguments (no 0x), answers one line each: hex, "ok", "no"
 *                             (a check that is false) or "err" (refused input).
 *   test_bn254_tool           runs its own smoke test (so `make check-unit` can run it).
 *
 * ops: g1mul P k | g1mulp P k | g1mulbase k | g1add A B | g1neg A | g2mul Q k | g2mulp Q k |
 *      g2mulbase k | g2add A B | g2neg A | pair P Q | check PAIRS | h2g H | g1check P |
 *      g2check Q | smul a b | sadd a b | sreduce a   (check - is the empty product) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "crypto/bn254/bn254.h"

#define MAX_LINE (1u << 20)
#define MAX_ARG (MAX_LINE / 2)

static int unhex(const char *s, size_t len, uint8_t *out) {
  for (size_t i = 0; i < len / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (len % 2) ? -1 : 0;
}

static void put_hex(FILE *o, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) fprintf(o, "%02x", b[i]);
  fputc('\n', o);
}

/* Arguments of fixed sizes; returns -1 on a malformed request. */
static int args(char *rest, uint8_t **bufs, const size_t *sizes, int n) {
  char *save = NULL;
  for (int i = 0; i < n; i++) {
    char *tok = strtok_r(i ? NULL : rest, " \t\r\n", &save);
    if (!tok || strlen(tok) != 2 * sizes[i] || unhex(tok, strlen(tok), bufs[i])) return -1;
  }
  return 0;
}

/* Answers one request line on o. */
static void serve_line(char *line, FILE *o) {
  static uint8_t a[MAX_ARG], b[256], out[384];
  char *sp = strchr(line, ' ');
  if (!sp) {
    fputs("bad\n", o);
    return;
  }
  *sp = 0;
  const char *op = line;
  char *rest = sp + 1;
  uint8_t *bufs[2] = {a, b};
  int rc;
  size_t outn;
#define ARGS(s0, s1, n)                             \
  do {                                              \
    size_t sz_[2] = {(s0), (s1)};                   \
    if (args(rest, bufs, sz_, (n))) goto malformed; \
  } while (0)
  if (!strcmp(op, "g1mul") || !strcmp(op, "g1mulp")) {
    ARGS(64, 32, 2);
    rc = (op[5] ? tkms_bn254_g1_mul_public : tkms_bn254_g1_mul)(out, a, b);
    outn = 64;
  } else if (!strcmp(op, "g1mulbase")) {
    ARGS(32, 0, 1);
    rc = tkms_bn254_g1_mul_base(out, a);
    outn = 64;
  } else if (!strcmp(op, "g1add")) {
    ARGS(64, 64, 2);
    rc = tkms_bn254_g1_add(out, a, b);
    outn = 64;
  } else if (!strcmp(op, "g1neg")) {
    ARGS(64, 0, 1);
    rc = tkms_bn254_g1_neg(out, a);
    outn = 64;
  } else if (!strcmp(op, "g2mul") || !strcmp(op, "g2mulp")) {
    ARGS(128, 32, 2);
    rc = (op[5] ? tkms_bn254_g2_mul_public : tkms_bn254_g2_mul)(out, a, b);
    outn = 128;
  } else if (!strcmp(op, "g2mulbase")) {
    ARGS(32, 0, 1);
    rc = tkms_bn254_g2_mul_base(out, a);
    outn = 128;
  } else if (!strcmp(op, "g2add")) {
    ARGS(128, 128, 2);
    rc = tkms_bn254_g2_add(out, a, b);
    outn = 128;
  } else if (!strcmp(op, "g2neg")) {
    ARGS(128, 0, 1);
    rc = tkms_bn254_g2_neg(out, a);
    outn = 128;
  } else if (!strcmp(op, "pair")) {
    ARGS(64, 128, 2);
    rc = tkms_bn254_pairing(out, a, b);
    outn = 384;
  } else if (!strcmp(op, "h2g")) {
    ARGS(32, 0, 1);
    rc = tkms_bn254_hash_to_g1(out, a);
    outn = 64;
  } else if (!strcmp(op, "smul") || !strcmp(op, "sadd")) {
    ARGS(32, 32, 2);
    rc = (op[1] == 'm' ? tkms_bn254_scalar_mul : tkms_bn254_scalar_add)(out, a, b);
    outn = 32;
  } else if (!strcmp(op, "sreduce")) {
    ARGS(32, 0, 1);
    rc = tkms_bn254_scalar_reduce(out, a);
    outn = 32;
  } else if (!strcmp(op, "g1check") || !strcmp(op, "g2check")) {
    int g1 = op[1] == '1';
    ARGS(g1 ? 64 : 128, 0, 1);
    fputs((g1 ? tkms_bn254_g1_check(a) : tkms_bn254_g2_check(a)) ? "no\n" : "ok\n", o);
    return;
  } else if (!strcmp(op, "check")) {
    char *tok = strtok(rest, " \t\r\n");
    size_t len = tok ? strlen(tok) : 0;
    /* "check -" is the empty input (a product of no pairings) */
    if (tok && !strcmp(tok, "-")) len = 0;
    if (!tok || len % (2 * TKMS_BN254_PAIR_BYTES) || len / 2 > MAX_ARG || unhex(tok, len, a))
      goto malformed;
    fputs(tkms_bn254_pairing_check(a, len / 2 / TKMS_BN254_PAIR_BYTES) ? "no\n" : "ok\n", o);
    return;
  } else {
    goto malformed;
  }
#undef ARGS
  if (rc)
    fputs("err\n", o);
  else
    put_hex(o, out, outn);
  return;
malformed:
  fputs("bad\n", o);
}

static int serve(void) {
  char *line = malloc(MAX_LINE);
  if (!line) return 1;
  while (fgets(line, MAX_LINE, stdin)) {
    if (line[0] == '\n') continue;
    serve_line(line, stdout);
    fflush(stdout);
  }
  free(line);
  return 0;
}

/* Smoke test of the protocol: [2]G1 by both paths, hashToG1 of 0, a malformed line. */
static void run_line(const char *req, char *resp, size_t n) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", req);
  FILE *o = fmemopen(resp, n, "w");
  assert_non_null(o);
  serve_line(buf, o);
  fclose(o);
}

static void test_protocol(void **state) {
  (void)state;
  static const char g1[] =
      "0000000000000000000000000000000000000000000000000000000000000001"
      "0000000000000000000000000000000000000000000000000000000000000002";
  static const char two[] = "0000000000000000000000000000000000000000000000000000000000000002";
  /* [2](1, 2), from the EVM precompile */
  static const char g1x2[] =
      "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3"
      "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4\n";
  char req[512], resp[512];
  snprintf(req, sizeof req, "g1mul %s %s", g1, two);
  run_line(req, resp, sizeof resp);
  assert_string_equal(resp, g1x2);
  snprintf(req, sizeof req, "g1mulp %s %s", g1, two);
  run_line(req, resp, sizeof resp);
  assert_string_equal(resp, g1x2);
  snprintf(req, sizeof req, "g1add %s %s", g1, g1);
  run_line(req, resp, sizeof resp);
  assert_string_equal(resp, g1x2);
  run_line("g1mul 00", resp, sizeof resp);
  assert_string_equal(resp, "bad\n");
  run_line("nope 00", resp, sizeof resp);
  assert_string_equal(resp, "bad\n");
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--serve")) return serve();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_protocol)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
