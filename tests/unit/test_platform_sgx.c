/* tests/unit/test_platform_sgx.c — the Gramine-SGX platform against a directory
 * standing in for /dev/attestation ($TKMS_SGX_ATTESTATION_DIR).
 *
 * Limits of the fake: its files are plain files, so "quote" does not change
 * when user_report_data is written; the test checks the exact bytes the
 * platform wrote and that the evidence is what the fake held. Real quotes are
 * verified in the attest tests. */
#include <fcntl.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka after the standard headers */
#include <cmocka.h>

#include "crypto/kdf.h"
#include "platform/platform.h"

typedef struct {
  char dir[64];
  uint8_t target_info[512];
  uint8_t key[16];
  uint8_t quote[1200];
} env;

static void put(env *e, const char *name, const void *data, size_t len) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s", e->dir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static size_t get(env *e, const char *name, uint8_t *buf, size_t cap) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s", e->dir, name);
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static int setup(void **state) {
  assert_true(sodium_init() >= 0);
  env *e = calloc(1, sizeof *e);
  strcpy(e->dir, "/tmp/tkms-sgx-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  char p[160];
  snprintf(p, sizeof p, "%s/keys", e->dir);
  assert_int_equal(mkdir(p, 0700), 0);
  randombytes_buf(e->target_info, sizeof e->target_info);
  randombytes_buf(e->key, sizeof e->key);
  randombytes_buf(e->quote, sizeof e->quote);
  put(e, "attestation_type", "dcap\n", 5);
  put(e, "my_target_info", e->target_info, sizeof e->target_info);
  put(e, "keys/_sgx_mrenclave", e->key, sizeof e->key);
  put(e, "user_report_data", "", 0);
  put(e, "quote", e->quote, sizeof e->quote);
  setenv("TKMS_SGX_ATTESTATION_DIR", e->dir, 1);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
  assert_int_equal(system(cmd), 0);
  free(e);
  return 0;
}

static int open_sgx(int incomplete, tkms_platform *p, char *err) {
  tkms_platform_cfg cfg = {.data_dir = "/nonexistent", .allow_incomplete = incomplete};
  return tkms_platform_open(&tkms_platform_sgx, &cfg, p, err, TKMS_PLATFORM_ERR_MAX);
}

static void test_registry(void **state) {
  (void)state;
  assert_ptr_equal(tkms_platform_find("sgx"), &tkms_platform_sgx);
  assert_int_equal(tkms_platform_sgx.simulated, 0);
  assert_true(tkms_platform_sgx.sandbox_needs & TKMS_SANDBOX_FILES);
}

/* The pinned decision: no trustworthy counter, so the core may not run on it. */
static void test_refuses_without_counter(void **state) {
  (void)state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sgx(0, &p, err), -1);
  assert_non_null(strstr(err, "no rollback-protected monotonic counter"));
  assert_non_null(strstr(err, "cluster quorum counter"));
}

static void test_measurement_and_seal_key(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sgx(1, &p, err), 0);
  uint8_t m[32], want[32];
  p.ops->measurement(p.ctx, m);
  assert_memory_equal(m, e->target_info, 32); /* MRENCLAVE = target info bytes 0..31 */
  uint8_t *k = sodium_malloc(32), *k2 = sodium_malloc(32);
  assert_int_equal(p.ops->seal_key(p.ctx, k), 0);
  assert_int_equal(tkms_hkdf_sha256((const uint8_t *)"tkms-sgx-seal-v1", 16, e->key, 16,
                                    e->target_info, 32, want, 32),
                   0);
  assert_memory_equal(k, want, 32);
  assert_memory_not_equal(k, e->key, 16); /* never Gramine's raw key */
  uint64_t v;
  assert_int_equal(p.ops->counter_read(p.ctx, 0, &v), -1);
  assert_int_equal(p.ops->counter_advance(p.ctx, 0, 1), -1);
  tkms_platform_close(&p);

  /* stable across reopen; another enclave's key gives another seal key */
  assert_int_equal(open_sgx(1, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, k2), 0);
  assert_memory_equal(k, k2, 32);
  tkms_platform_close(&p);
  e->key[0] ^= 1;
  put(e, "keys/_sgx_mrenclave", e->key, sizeof e->key);
  assert_int_equal(open_sgx(1, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, k2), 0);
  assert_memory_not_equal(k, k2, 32);
  tkms_platform_close(&p);
  sodium_free(k);
  sodium_free(k2);
}

static void test_evidence(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sgx(1, &p, err), 0);
  uint8_t rd[64], out[TKMS_EVIDENCE_MAX], written[128];
  randombytes_buf(rd, sizeof rd);
  size_t len = 0;
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, sizeof out, &len), 0);
  assert_int_equal(get(e, "user_report_data", written, sizeof written), 64);
  assert_memory_equal(written, rd, 64);
  assert_int_equal(len, sizeof e->quote);
  assert_memory_equal(out, e->quote, sizeof e->quote);
  /* a quote larger than the caller's buffer is refused, not cut */
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, 100, &len), -1);
  tkms_platform_close(&p);
}

static void test_open_refusals(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  put(e, "attestation_type", "none\n", 5);
  assert_int_equal(open_sgx(1, &p, err), -1);
  assert_non_null(strstr(err, "attestation type is \"none\""));
  put(e, "attestation_type", "dcap", 4);
  put(e, "keys/_sgx_mrenclave", e->key, 15);
  assert_int_equal(open_sgx(1, &p, err), -1);
  assert_non_null(strstr(err, "16-byte sealing key"));
  put(e, "keys/_sgx_mrenclave", e->key, 16);
  put(e, "my_target_info", e->target_info, 100);
  assert_int_equal(open_sgx(1, &p, err), -1);
  assert_non_null(strstr(err, "my_target_info"));
  setenv("TKMS_SGX_ATTESTATION_DIR", "/nonexistent/attestation", 1);
  assert_int_equal(open_sgx(1, &p, err), -1);
  assert_non_null(strstr(err, "runs only inside Gramine-SGX"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test_setup_teardown(test_refuses_without_counter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_measurement_and_seal_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evidence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
