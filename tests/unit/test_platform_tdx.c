/* tests/unit/test_platform_tdx.c — the tdx and snp platforms against a
 * directory standing in for /sys/kernel/config/tsm/report ($TKMS_TSM_REPORT_DIR).
 *
 * The test plays the kernel, but cannot react to a write: it pre-creates the
 * report entry the platform will use (tkms-PID-SEQ, SEQ counting from 0 per
 * open platform) with provider, generation, an empty inblob and a fake outblob.
 * The platform reuses an existing entry with its own name (see tdx.c). On a
 * plain directory rmdir of a non-empty entry fails, so the entry stays and the
 * test can read what was written to inblob; an entry the platform had to create
 * itself is empty (no provider), the exchange fails and the entry is removed.
 * Not covered by the fake: a generation that changes under the platform (a
 * concurrent writer), and the kernel's real quote. */
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

#include "platform/platform.h"

typedef struct {
  char dir[64];
  uint8_t outblob[5000];
} env;

static void put(const char *dir, const char *name, const void *data, size_t len) {
  char p[200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* Pre-creates entry SEQ of this process as the kernel would fill it. */
static void fake_entry(env *e, unsigned seq, const char *provider, char *path, size_t cap) {
  snprintf(path, cap, "%s/tkms-%ld-%u", e->dir, (long)getpid(), seq);
  assert_int_equal(mkdir(path, 0700), 0);
  put(path, "provider", provider, strlen(provider));
  put(path, "generation", "7\n", 2);
  put(path, "inblob", "", 0);
  put(path, "outblob", e->outblob, sizeof e->outblob);
}

static int setup(void **state) {
  assert_true(sodium_init() >= 0);
  env *e = calloc(1, sizeof *e);
  strcpy(e->dir, "/tmp/tkms-tsm-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  randombytes_buf(e->outblob, sizeof e->outblob);
  setenv("TKMS_TSM_REPORT_DIR", e->dir, 1);
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

static int open_tsm(const tkms_platform_ops *ops, int incomplete, tkms_platform *p, char *err) {
  tkms_platform_cfg cfg = {.data_dir = "/nonexistent", .allow_incomplete = incomplete};
  return tkms_platform_open(ops, &cfg, p, err, TKMS_PLATFORM_ERR_MAX);
}

static void test_registry(void **state) {
  (void)state;
  assert_ptr_equal(tkms_platform_find("tdx"), &tkms_platform_tdx);
  assert_ptr_equal(tkms_platform_find("snp"), &tkms_platform_snp);
  assert_int_equal(tkms_platform_tdx.simulated, 0);
  assert_int_equal(tkms_platform_snp.simulated, 0);
}

/* The pinned decision: no seal key, no counter, so the core may not run on it. */
static void test_refuses_without_cluster(void **state) {
  (void)state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_tsm(&tkms_platform_tdx, 0, &p, err), -1);
  assert_non_null(strstr(err, "tdx platform has no sealing key"));
  assert_non_null(strstr(err, "must join a cluster to obtain its master key"));
  assert_int_equal(open_tsm(&tkms_platform_snp, 0, &p, err), -1);
  assert_non_null(strstr(err, "snp platform has no sealing key"));
}

static void test_no_seal_key_no_counters(void **state) {
  (void)state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_tsm(&tkms_platform_tdx, 1, &p, err), 0);
  uint8_t k[32];
  memset(k, 0xaa, sizeof k);
  assert_int_equal(p.ops->seal_key(p.ctx, k), -1);
  uint8_t zero[32] = {0};
  assert_memory_equal(k, zero, 32); /* never leaves stale bytes that look like a key */
  uint64_t v;
  assert_int_equal(p.ops->counter_read(p.ctx, 0, &v), -1);
  assert_int_equal(p.ops->counter_advance(p.ctx, 1, 1), -1);
  tkms_platform_close(&p);
}

static void test_evidence(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX], entry[160], path[200];
  assert_int_equal(open_tsm(&tkms_platform_tdx, 1, &p, err), 0);
  fake_entry(e, 0, "tdx_guest\n", entry, sizeof entry);
  uint8_t rd[64], out[TKMS_EVIDENCE_MAX], written[128];
  randombytes_buf(rd, sizeof rd);
  size_t len = 0;
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, sizeof out, &len), 0);
  assert_int_equal(len, sizeof e->outblob);
  assert_memory_equal(out, e->outblob, sizeof e->outblob);
  snprintf(path, sizeof path, "%s/inblob", entry);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fread(written, 1, sizeof written, f), 64);
  fclose(f);
  assert_memory_equal(written, rd, 64);

  /* entry 1 says it is an SNP guest: a tdx platform refuses its outblob */
  fake_entry(e, 1, "sev_guest\n", entry, sizeof entry);
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, sizeof out, &len), -1);
  /* entry 2 is fine but larger than the caller's buffer: refused, not cut */
  fake_entry(e, 2, "tdx_guest\n", entry, sizeof entry);
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, 100, &len), -1);
  /* entry 3 is created by the platform itself: empty, so the exchange fails
   * and the entry is removed again */
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, sizeof out, &len), -1);
  snprintf(path, sizeof path, "%s/tkms-%ld-3", e->dir, (long)getpid());
  struct stat st;
  assert_int_equal(stat(path, &st), -1);
  tkms_platform_close(&p);

  /* the snp platform takes the sev_guest entry */
  assert_int_equal(open_tsm(&tkms_platform_snp, 1, &p, err), 0);
  snprintf(path, sizeof path, "%s/tkms-%ld-0", e->dir, (long)getpid());
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  assert_int_equal(system(cmd), 0);
  fake_entry(e, 0, "sev_guest\n", entry, sizeof entry);
  assert_int_equal(p.ops->evidence(p.ctx, rd, out, sizeof out, &len), 0);
  assert_memory_equal(out, e->outblob, sizeof e->outblob);
  tkms_platform_close(&p);
}

static void test_missing_root(void **state) {
  (void)state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  setenv("TKMS_TSM_REPORT_DIR", "/nonexistent/tsm/report", 1);
  assert_int_equal(open_tsm(&tkms_platform_tdx, 1, &p, err), -1);
  assert_non_null(strstr(err, "configfs-tsm"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test_setup_teardown(test_refuses_without_cluster, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_seal_key_no_counters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evidence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_root, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
