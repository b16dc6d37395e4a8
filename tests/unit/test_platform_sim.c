/* tests/unit/test_platform_sim.c — the simulation platform: its files, what it
 * refuses, its counter, measurement manifest, seal key and evidence. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
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
  char root[96], counter[96];
} env;

static const char *hexs(const uint8_t *b, size_t n) {
  static char out[2 * 64 + 1];
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n && i < 64; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * (n < 64 ? n : 64)] = '\0';
  return out;
}

/* SHA-256 of a whole file, read here rather than through the platform code. */
static int file_sha256(const char *path, uint8_t out[32]) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -1;
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) crypto_hash_sha256_update(&st, buf, n);
  fclose(f);
  crypto_hash_sha256_final(&st, out);
  return 0;
}

static int setup(void **state) {
  assert_true(sodium_init() >= 0);
  env *e = calloc(1, sizeof *e);
  strcpy(e->dir, "/tmp/tkms-sim-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  snprintf(e->root, sizeof e->root, "%s/sim-root.key", e->dir);
  snprintf(e->counter, sizeof e->counter, "%s/sim-counter", e->dir);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  unlink(e->root);
  unlink(e->counter);
  rmdir(e->dir);
  free(e);
  return 0;
}

static int open_sim(env *e, int init, const char *exe, tkms_platform *p, char *err) {
  tkms_platform_cfg cfg = {.data_dir = e->dir, .init = init, .exe_path = exe};
  return tkms_platform_open(&tkms_platform_sim, &cfg, p, err, TKMS_PLATFORM_ERR_MAX);
}

static void test_registry(void **state) {
  (void)state;
  assert_ptr_equal(tkms_platform_find("sim"), &tkms_platform_sim);
  assert_null(tkms_platform_find("sgx-but-not-built"));
  assert_null(tkms_platform_find(NULL));
  assert_string_equal(tkms_platform_sim.name, "sim");
  assert_int_equal(tkms_platform_sim.simulated, 1);
}

static void test_init_creates_files(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  struct stat st;
  assert_int_equal(stat(e->root, &st), 0);
  assert_int_equal(st.st_size, 32);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(e->counter, &st), 0);
  assert_int_equal(st.st_size, 32); /* P and K, each value ‖ complement */
  uint64_t v = 99;
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_PREPARED, &v), 0);
  assert_int_equal(v, 0);
  v = 99;
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_COMMITTED, &v), 0);
  assert_int_equal(v, 0);
  uint8_t k1[32], k2[32];
  assert_int_equal(p.ops->seal_key(p.ctx, k1), 0);
  tkms_platform_close(&p);

  /* --init over an existing root reuses it: same seal key */
  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, k2), 0);
  assert_memory_equal(k1, k2, 32);
  tkms_platform_close(&p);
}

static void test_missing_state_without_init(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "sim-root.key is missing and --init was not given"));
  assert_non_null(strstr(err, "never creates a new identity"));
  struct stat st;
  assert_int_equal(stat(e->root, &st), -1); /* nothing was created */

  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  tkms_platform_close(&p);
  unlink(e->counter);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "sim-counter is missing"));

  tkms_platform_cfg cfg = {.data_dir = "/nonexistent/tkms", .init = 1};
  assert_int_equal(tkms_platform_open(&tkms_platform_sim, &cfg, &p, err, sizeof err), -1);
  assert_non_null(strstr(err, "does not exist"));
}

static void test_root_file_checks(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  tkms_platform_close(&p);
  assert_int_equal(chmod(e->root, 0644), 0);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "chmod 600"));
  assert_int_equal(chmod(e->root, 0600), 0);
  assert_int_equal(truncate(e->root, 31), 0);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "32-byte"));
}

static void test_counter(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  uint64_t v;
  for (uint64_t i = 1; i <= 5; i++) {
    assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, i), 0);
    assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_PREPARED, &v), 0);
    assert_int_equal(v, i);
  }
  /* jumps are fine (K := the committed manifest's value) ... */
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_COMMITTED, 3), 0);
  /* ... going backwards or standing still is not, and changes nothing */
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_COMMITTED, 3), -1);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_COMMITTED, 2), -1);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 5), -1);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 0), -1);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_COMMITTED, &v), 0);
  assert_int_equal(v, 3);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_PREPARED, &v), 0);
  assert_int_equal(v, 5);
  /* the counters are independent; there are only two */
  assert_int_equal(p.ops->counter_read(p.ctx, 2, &v), -1);
  assert_int_equal(p.ops->counter_advance(p.ctx, 2, 9), -1);
  /* one core per data directory */
  tkms_platform p2;
  assert_int_equal(open_sim(e, 0, NULL, &p2, err), -1);
  assert_non_null(strstr(err, "locked"));
  tkms_platform_close(&p);

  /* durable across reopen */
  assert_int_equal(open_sim(e, 0, NULL, &p, err), 0);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_PREPARED, &v), 0);
  assert_int_equal(v, 5);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_COMMITTED, &v), 0);
  assert_int_equal(v, 3);
  tkms_platform_close(&p);

  /* P ‖ ~P ‖ K ‖ ~K: a torn or garbled slot is refused, not read as a number */
  uint8_t b[32], good[32];
  FILE *f = fopen(e->counter, "r+b");
  assert_int_equal(fread(b, 1, 32, f), 32);
  memcpy(good, b, sizeof good);
  assert_int_equal(b[7], 5);
  assert_int_equal(b[15], (uint8_t)~5);
  assert_int_equal(b[23], 3);
  assert_int_equal(b[31], (uint8_t)~3);
  b[23] = 2;
  rewind(f);
  assert_int_equal(fwrite(b, 1, 32, f), 32);
  fclose(f);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "corrupt"));

  /* K ahead of P cannot come from the core: refused as inconsistent */
  memcpy(b, good, sizeof b);
  b[7] = 2;
  b[15] = (uint8_t)~2;
  f = fopen(e->counter, "wb");
  assert_int_equal(fwrite(b, 1, 32, f), 32);
  fclose(f);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "inconsistent"));

  /* the old 16-byte single-counter format, a truncated or an overlong file */
  f = fopen(e->counter, "wb");
  assert_int_equal(fwrite(good, 1, 32, f), 32);
  fclose(f);
  assert_int_equal(truncate(e->counter, 16), 0);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "corrupt"));
  assert_int_equal(truncate(e->counter, 8), 0);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_int_equal(truncate(e->counter, 48), 0);
  assert_int_equal(open_sim(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "corrupt"));
}

static void test_measurement_and_seal_key(void **state) {
  env *e = *state;
  char a[96], b[96];
  snprintf(a, sizeof a, "%s/build-a", e->dir);
  snprintf(b, sizeof b, "%s/build-b", e->dir);
  FILE *f = fopen(a, "wb");
  fputs("core build A", f);
  fclose(f);
  f = fopen(b, "wb");
  fputs("core build A!", f); /* one byte appended */
  fclose(f);
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  uint8_t m[32], want[32], ka[32], kb[32], root[32];
  assert_int_equal(open_sim(e, 1, a, &p, err), 0);
  p.ops->measurement(p.ctx, m);
  /* the measurement is SHA-256 of the manifest, whose core line is build A */
  char *manifest = malloc(TKMS_MANIFEST_MAX);
  size_t mlen;
  assert_int_equal(
      tkms_platform_measure_self(a, want, manifest, TKMS_MANIFEST_MAX, &mlen, err, sizeof err), 0);
  assert_memory_equal(m, want, 32);
  uint8_t h[32];
  crypto_hash_sha256(h, (const uint8_t *)manifest, mlen);
  assert_memory_equal(m, h, 32);
  char line[128];
  crypto_hash_sha256(h, (const uint8_t *)"core build A", 12);
  snprintf(line, sizeof line, "\ncore\ttkms-enclave\t%s\n", hexs(h, 32));
  assert_non_null(strstr(manifest, line));
  free(manifest);
  assert_int_equal(p.ops->seal_key(p.ctx, ka), 0);
  tkms_platform_close(&p);
  assert_int_equal(open_sim(e, 0, b, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, kb), 0);
  assert_memory_not_equal(ka, kb, 32);
  tkms_platform_close(&p);
  /* seal key = HKDF(root, "tkms-sim-seal-v1", measurement) */
  f = fopen(e->root, "rb");
  assert_int_equal(fread(root, 1, 32, f), 32);
  fclose(f);
  assert_int_equal(tkms_sim_derive_seal_key(root, want, kb), 0);
  assert_memory_equal(ka, kb, 32);
  /* an unreadable binary is an error, not an empty measurement */
  unlink(a);
  assert_int_equal(open_sim(e, 0, a, &p, err), -1);
  assert_non_null(strstr(err, "measure"));
  unlink(b);
}

/* The manifest, checked against what this test reads itself: the header, one
 * sorted line per loaded object, the process's own binary as core, libsodium (which
 * this program links) as a lib with the hash of the file the loader mapped. */
static void test_manifest(void **state) {
  (void)state;
  char *m1 = malloc(TKMS_MANIFEST_MAX), *m2 = malloc(TKMS_MANIFEST_MAX);
  char err[TKMS_PLATFORM_ERR_MAX];
  uint8_t d1[32], d2[32], h[32];
  size_t n1, n2;
  assert_int_equal(
      tkms_platform_measure_self(NULL, d1, m1, TKMS_MANIFEST_MAX, &n1, err, sizeof err), 0);
  assert_int_equal(
      tkms_platform_measure_self(NULL, d2, m2, TKMS_MANIFEST_MAX, &n2, err, sizeof err), 0);
  /* stable across calls */
  assert_int_equal(n1, n2);
  assert_memory_equal(m1, m2, n1);
  assert_memory_equal(d1, d2, 32);
  assert_int_equal(strlen(m1), n1);
  crypto_hash_sha256(h, (const uint8_t *)m1, n1);
  assert_memory_equal(d1, h, 32);
  /* header, then lines sorted bytewise, each "role\tname\thex64\n" */
  const char *hdr = "tkms-core-manifest v1\n";
  assert_memory_equal(m1, hdr, strlen(hdr));
  const char *prev = NULL;
  size_t prev_len = 0, n_core = 0, n_lib = 0;
  for (const char *l = m1 + strlen(hdr); *l != '\0';) {
    const char *end = strchr(l, '\n');
    assert_non_null(end);
    size_t len = (size_t)(end - l) + 1;
    const char *t1 = memchr(l, '\t', len), *t2 = t1 ? memchr(t1 + 1, '\t', len) : NULL;
    assert_non_null(t2);
    assert_int_equal(end - t2 - 1, 64);
    assert_null(memchr(l, '/', len)); /* basenames, never paths */
    if (strncmp(l, "core\t", 5) == 0)
      n_core++;
    else if (strncmp(l, "lib\t", 4) == 0)
      n_lib++;
    else
      fail_msg("bad role in %.*s", (int)len, l);
    if (prev != NULL) {
      size_t k = prev_len < len ? prev_len : len;
      int c = memcmp(prev, l, k);
      assert_true(c < 0 || (c == 0 && prev_len < len));
    }
    prev = l;
    prev_len = len;
    l = end + 1;
  }
  assert_int_equal(n_core, 1);
  assert_true(n_lib >= 2); /* at least libc and the dynamic loader */
  /* the core line is this binary */
  char self[PATH_MAX], line[PATH_MAX + 96];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(sl > 0);
  self[sl] = '\0';
  assert_int_equal(file_sha256("/proc/self/exe", h), 0);
  snprintf(line, sizeof line, "\ncore\ttkms-enclave\t%s\n", hexs(h, 32));
  assert_non_null(strstr(m1, line));
  /* libsodium: the file the loader mapped for crypto_hash_sha256 */
  Dl_info di;
  assert_true(dladdr((void *)crypto_hash_sha256, &di) != 0);
  char real[PATH_MAX];
  assert_non_null(realpath(di.dli_fname, real));
  assert_int_equal(file_sha256(real, h), 0);
  snprintf(line, sizeof line, "\nlib\t%s\t%s\n", strrchr(real, '/') + 1, hexs(h, 32));
  assert_non_null(strstr(m1, line));
  /* a buffer too small for the manifest is an error, not a truncated manifest */
  assert_int_equal(tkms_platform_measure_self(NULL, d2, m2, n1, &n2, err, sizeof err), -1);
  assert_non_null(strstr(err, "does not fit"));
  /* without a manifest buffer, the same measurement */
  assert_int_equal(tkms_platform_measure_self(NULL, d2, NULL, 0, NULL, err, sizeof err), 0);
  assert_memory_equal(d1, d2, 32);
  free(m1);
  free(m2);
}

/* A library loaded later (dlopen) is measured from then on; one deleted from disk
 * after it was loaded is refused, not measured from whatever the path now holds. */
static void test_manifest_dlopen_and_deleted(void **state) {
  env *e = *state;
  char err[TKMS_PLATFORM_ERR_MAX];
  uint8_t base[32], with[32], h[32];
  assert_int_equal(tkms_platform_measure_self(NULL, base, NULL, 0, NULL, err, sizeof err), 0);
  /* a copy of a tpm2-tss TCTI module (installed with libtss2-dev, not linked here) */
  Dl_info di;
  assert_true(dladdr((void *)crypto_hash_sha256, &di) != 0);
  char libdir[PATH_MAX], src[PATH_MAX + 32], copy[160];
  assert_non_null(realpath(di.dli_fname, libdir));
  *strrchr(libdir, '/') = '\0';
  snprintf(src, sizeof src, "%s/libtss2-tcti-cmd.so.0", libdir);
  snprintf(copy, sizeof copy, "%s/libtkms-test-module.so", e->dir);
  FILE *in = fopen(src, "rb"), *out = fopen(copy, "wb");
  if (in == NULL) fail_msg("%s is missing: install libtss2-dev (make deps)", src);
  assert_non_null(out);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  fclose(out);
  void *dl = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(dl);
  char *man = malloc(TKMS_MANIFEST_MAX), line[128];
  size_t len;
  assert_int_equal(
      tkms_platform_measure_self(NULL, with, man, TKMS_MANIFEST_MAX, &len, err, sizeof err), 0);
  assert_memory_not_equal(base, with, 32);
  assert_int_equal(file_sha256(copy, h), 0);
  snprintf(line, sizeof line, "\nlib\tlibtkms-test-module.so\t%s\n", hexs(h, 32));
  assert_non_null(strstr(man, line));
  /* deleted while loaded: refused, with the reason */
  unlink(copy);
  assert_int_equal(tkms_platform_measure_self(NULL, with, NULL, 0, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "libtkms-test-module.so"));
  assert_non_null(strstr(err, "replaced or removed"));
  /* unloaded: the measurement is what it was */
  assert_int_equal(dlclose(dl), 0);
  assert_int_equal(tkms_platform_measure_self(NULL, with, NULL, 0, NULL, err, sizeof err), 0);
  assert_memory_equal(base, with, 32);
  free(man);
}

static void test_evidence(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  uint8_t rd[64], ev[TKMS_EVIDENCE_MAX], m[32], got_m[32], got_rd[64], pk1[32], pk2[32];
  size_t n;
  randombytes_buf(rd, sizeof rd);
  assert_int_equal(p.ops->evidence(p.ctx, rd, ev, 10, &n), -1); /* too small a buffer */
  assert_int_equal(p.ops->evidence(p.ctx, rd, ev, sizeof ev, &n), 0);
  assert_int_equal(n, TKMS_SIM_EVIDENCE_BYTES);
  assert_memory_equal(ev, TKMS_SIM_EVIDENCE_MAGIC, TKMS_SIM_EVIDENCE_MAGIC_BYTES);
  p.ops->measurement(p.ctx, m);
  assert_int_equal(tkms_sim_evidence_parse(ev, n, got_m, got_rd, pk1), 0);
  assert_memory_equal(got_m, m, 32);
  assert_memory_equal(got_rd, rd, 64);
  for (size_t i = 0; i < n; i += 7) {
    ev[i] ^= 0x80;
    assert_int_equal(tkms_sim_evidence_parse(ev, n, NULL, NULL, NULL), -1);
    ev[i] ^= 0x80;
  }
  assert_int_equal(tkms_sim_evidence_parse(ev, n - 1, NULL, NULL, NULL), -1);
  tkms_platform_close(&p);
  /* the attestation key is per machine (root), not per build */
  char other[96];
  snprintf(other, sizeof other, "%s/other", e->dir);
  FILE *f = fopen(other, "wb");
  fputs("x", f);
  fclose(f);
  assert_int_equal(open_sim(e, 0, other, &p, err), 0);
  assert_int_equal(p.ops->evidence(p.ctx, rd, ev, sizeof ev, &n), 0);
  assert_int_equal(tkms_sim_evidence_parse(ev, n, NULL, NULL, pk2), 0);
  assert_memory_equal(pk1, pk2, 32);
  tkms_platform_close(&p);
  unlink(other);
}

static void test_clock(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_sim(e, 1, NULL, &p, err), 0);
  uint64_t t;
  assert_int_equal(p.ops->now(p.ctx, &t), 0);
  assert_true(t > 1700000000u);
  assert_non_null(strstr(p.ops->time_source, "host"));
  tkms_platform_close(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test_setup_teardown(test_init_creates_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_state_without_init, setup, teardown),
      cmocka_unit_test_setup_teardown(test_root_file_checks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_measurement_and_seal_key, setup, teardown),
      cmocka_unit_test(test_manifest),
      cmocka_unit_test_setup_teardown(test_manifest_dlopen_and_deleted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evidence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
