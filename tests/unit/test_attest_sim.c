/* tests/unit/test_attest_sim.c — the sim evidence verifier against what the sim
 * platform (src/platform/sim.c) actually produces: the layout is stated twice
 * (platform and attest may not include each other), and this test is what keeps
 * the two in step. */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "attest/attest.h"
#include "attest/sim_evidence.h"
#include "platform/platform.h"

static char dir[64];
static uint8_t ev[TKMS_EVIDENCE_MAX];
static size_t ev_len;
static uint8_t measurement[32], report_data[64];

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  strcpy(dir, "/tmp/tkms-attest-sim-XXXXXX");
  if (mkdtemp(dir) == NULL) return -1;
  tkms_platform_cfg cfg = {.data_dir = dir, .init = 1, .exe_path = "/proc/self/exe"};
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  if (tkms_platform_open(&tkms_platform_sim, &cfg, &p, err, sizeof err) != 0) {
    fprintf(stderr, "sim: %s\n", err);
    return -1;
  }
  for (size_t i = 0; i < sizeof report_data; i++) report_data[i] = (uint8_t)(i * 3 + 1);
  p.ops->measurement(p.ctx, measurement);
  int rc = p.ops->evidence(p.ctx, report_data, ev, sizeof ev, &ev_len);
  tkms_platform_close(&p);
  return rc;
}

static int teardown(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/sim-root.key", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/sim-counter", dir);
  unlink(path);
  rmdir(dir);
  return 0;
}

static int verify(int format, const uint8_t *e, size_t n, const uint8_t *pin, size_t pin_len,
                  tkms_attest_claims *c) {
  tkms_attest_item item = {"sim_attestation_key", pin, pin_len};
  tkms_attest_collateral col = {&item, pin != NULL ? 1 : 0};
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = tkms_attest_verify(format, e, n, &col, 1700000000, c, reason);
  if (rc != TKMS_ATTEST_OK) assert_true(reason[0] != '\0');
  return rc;
}

static void test_platform_evidence(void **state) {
  (void)state;
  assert_int_equal(ev_len, TKMS_ATTEST_SIM_BYTES);
  assert_int_equal(TKMS_SIM_EVIDENCE_BYTES, TKMS_ATTEST_SIM_BYTES);
  tkms_attest_claims c;
  assert_int_equal(verify(TKMS_ATTEST_AUTO, ev, ev_len, NULL, 0, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_SIM);
  assert_int_equal(c.debug, 1); /* never production evidence */
  assert_int_equal(c.verified_at, 1700000000);
  assert_int_equal(c.report_data_len, 64);
  assert_memory_equal(c.report_data, report_data, 64);
  assert_string_equal(c.meas[0].name, "measurement");
  assert_int_equal(c.meas[0].len, 32);
  assert_memory_equal(c.meas[0].value, measurement, 32);
  assert_string_equal(c.meas[1].name, "sim_attestation_key");
  /* The key the platform's own parser reads is the one we return. */
  uint8_t pk[32];
  assert_int_equal(tkms_sim_evidence_parse(ev, ev_len, NULL, NULL, pk), 0);
  assert_memory_equal(c.meas[1].value, pk, 32);
  /* Pinned to that key: accepted; to another: refused as a wrong root. */
  assert_int_equal(verify(TKMS_ATTEST_SIM, ev, ev_len, pk, 32, &c), TKMS_ATTEST_OK);
  uint8_t other[32];
  memcpy(other, pk, 32);
  other[0] ^= 1;
  assert_int_equal(verify(TKMS_ATTEST_SIM, ev, ev_len, other, 32, &c), TKMS_ATTEST_E_ROOT);
  assert_int_equal(verify(TKMS_ATTEST_SIM, ev, ev_len, pk, 31, &c), TKMS_ATTEST_E_COLLATERAL);
}

static void test_flipped_bytes(void **state) {
  (void)state;
  tkms_attest_claims c;
  uint8_t m[TKMS_ATTEST_SIM_BYTES];
  for (size_t i = TKMS_ATTEST_SIM_MAGIC_BYTES; i < ev_len; i++) {
    memcpy(m, ev, ev_len);
    m[i] ^= 0x01;
    assert_int_equal(verify(TKMS_ATTEST_SIM, m, ev_len, NULL, 0, &c), TKMS_ATTEST_E_SIGNATURE);
  }
  memcpy(m, ev, ev_len);
  m[0] ^= 0x01; /* magic */
  assert_int_equal(verify(TKMS_ATTEST_SIM, m, ev_len, NULL, 0, &c), TKMS_ATTEST_E_MALFORMED);
}

static void test_truncated(void **state) {
  (void)state;
  tkms_attest_claims c;
  for (size_t n = 1; n < ev_len; n++)
    assert_int_equal(verify(TKMS_ATTEST_SIM, ev, n, NULL, 0, &c), TKMS_ATTEST_E_MALFORMED);
  uint8_t longer[TKMS_ATTEST_SIM_BYTES + 1] = {0};
  memcpy(longer, ev, ev_len);
  assert_int_equal(verify(TKMS_ATTEST_SIM, longer, sizeof longer, NULL, 0, &c),
                   TKMS_ATTEST_E_MALFORMED);
}

/* AUTO tells every format of this verifier set apart by its first bytes. */
static void test_auto_names(void **state) {
  (void)state;
  assert_string_equal(tkms_attest_format_name(TKMS_ATTEST_SIM), "sim");
  assert_string_equal(tkms_attest_error_name(TKMS_ATTEST_E_ROOT), "root");
  static const uint8_t unknown[] = {0x00, 0x01, 0x02, 0x03};
  tkms_attest_claims c;
  assert_int_equal(verify(TKMS_ATTEST_AUTO, unknown, sizeof unknown, NULL, 0, &c),
                   TKMS_ATTEST_E_UNSUPPORTED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_platform_evidence),
      cmocka_unit_test(test_flipped_bytes),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_auto_names),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
