/* src/platform/tdx.c — TDX and SEV-SNP guests through configfs-tsm.
 *
 * The kernel's configfs-tsm interface (Documentation/ABI/testing/configfs-tsm)
 * lives at /sys/kernel/config/tsm/report, or $TKMS_TSM_REPORT_DIR (tests point
 * it at a directory that stands in for it). One report is one exchange:
 *   mkdir ROOT/tkms-PID-SEQ        a report entry (the kernel fills it with
 *                                  inblob, outblob, provider, generation, ...)
 *   read provider                  "tdx_guest" (tdx) or "sev_guest" (snp): the
 *                                  quote format the verifier must expect
 *   write inblob (64 bytes)        the report data; configfs takes a binary
 *                                  attribute's data when the file is closed
 *   read generation, outblob, generation
 *                                  equal generations: nobody wrote the entry
 *                                  between our inblob and our outblob (the ABI's
 *                                  race check); otherwise the call fails
 *   rmdir ROOT/tkms-PID-SEQ
 * outblob is the TDX quote (v4/v5) or the SNP report: the evidence, as is.
 * An entry with our name that exists already is one an earlier process with
 * our pid left behind (it died before rmdir); it is reused, and the generation
 * check still applies.
 *
 * Seal key: none. A TD or SNP guest has no key bound to its measurement here;
 * DESIGN.md: "tdx: none — must join a cluster". Counters: none, likewise. So
 * open() refuses unless cfg->allow_incomplete (tests; later the cluster code,
 * which obtains the master key from attested peers), and then seal_key and the
 * counters fail.
 * Measurement: the core binary and its libraries, as on sim. MRTD and the RTMRs in the
 * quote measure the guest VM; the binary is part of it only if the guest image
 * measures it (e.g. IMA into an RTMR) — a deployment decision, not this file's.
 * Time: the host clock. Inside a TD the host cannot set the guest clock
 * directly, but it controls the time sources the guest synchronises from:
 * not trusted time. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform/fileio.h"
#include "platform/platform.h"

#define ROOT_ENV "TKMS_TSM_REPORT_DIR"
#define ROOT_DEFAULT "/sys/kernel/config/tsm/report"

typedef struct {
  const char *provider; /* what the kernel must say it is */
  int root_fd;          /* the report directory, opened before the sandbox */
  pthread_mutex_t lock;
  unsigned long seq;
  uint8_t measurement[32];
} tsm_ctx;

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t n, const char *fmt,
                                                          ...) {
  if (err == NULL || n == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

static int read_text(int dir, const char *name, char *buf, size_t cap) {
  size_t len;
  if (tkms_platform_read_at(dir, name, (uint8_t *)buf, cap - 1, &len) != 0) return -1;
  buf[len] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

static void tsm_close(void *vctx) {
  tsm_ctx *c = vctx;
  if (c == NULL) return;
  if (c->root_fd >= 0) close(c->root_fd);
  pthread_mutex_destroy(&c->lock);
  sodium_memzero(c, sizeof *c);
  free(c);
}

static int tsm_open(const char *name, const char *provider, const tkms_platform_cfg *cfg,
                    void **out, char *err, size_t en) {
  if (cfg == NULL || out == NULL) return -1;
  if (sodium_init() < 0) return -1;
  if (!cfg->allow_incomplete) {
    set_err(err, en,
            "the %s platform has no sealing key and no monotonic counter: a %s guest must join a "
            "cluster to obtain its master key and counters, which this build cannot do yet. "
            "Refusing to run the core on it.",
            name, name);
    return -1;
  }
  const char *root = getenv(ROOT_ENV);
  if (root == NULL || root[0] == '\0') root = ROOT_DEFAULT;
  tsm_ctx *c = calloc(1, sizeof *c);
  if (c == NULL) return -1;
  c->provider = provider;
  pthread_mutex_init(&c->lock, NULL);
  c->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->root_fd < 0) {
    set_err(err, en,
            "%s is not available (%s): the %s platform needs a confidential guest kernel with "
            "configfs-tsm (CONFIG_TSM_REPORTS) and configfs mounted",
            root, strerror(errno), name);
    tsm_close(c);
    return -1;
  }
  if (tkms_platform_measure_self(cfg->exe_path, c->measurement, NULL, 0, NULL, err, en) != 0) {
    tsm_close(c);
    return -1;
  }
  *out = c;
  return 0;
}

static int tdx_open(const tkms_platform_cfg *cfg, void **out, char *err, size_t en) {
  return tsm_open("tdx", "tdx_guest", cfg, out, err, en);
}

static int snp_open(const tkms_platform_cfg *cfg, void **out, char *err, size_t en) {
  return tsm_open("snp", "sev_guest", cfg, out, err, en);
}

static void tsm_measurement(void *vctx, uint8_t out[32]) {
  memcpy(out, ((tsm_ctx *)vctx)->measurement, 32);
}

static int tsm_seal_key(void *vctx, uint8_t key[32]) {
  (void)vctx;
  sodium_memzero(key, 32);
  return -1; /* no sealing key: see the file comment */
}

/* One report exchange in the entry dir (already created). */
static int report(tsm_ctx *c, int dir, const uint8_t rd[64], uint8_t *out, size_t cap,
                  size_t *out_len) {
  char provider[32], g1[32], g2[32];
  if (read_text(dir, "provider", provider, sizeof provider) != 0 ||
      strcmp(provider, c->provider) != 0)
    return -1; /* another TEE than this platform's: its evidence would be misread */
  if (tkms_platform_write_at(dir, "inblob", rd, TKMS_REPORT_DATA_BYTES) != 0) return -1;
  size_t len = 0;
  if (read_text(dir, "generation", g1, sizeof g1) != 0 ||
      tkms_platform_read_at(dir, "outblob", out, cap, &len) != 0 ||
      read_text(dir, "generation", g2, sizeof g2) != 0 || strcmp(g1, g2) != 0 || len == 0)
    return -1;
  *out_len = len;
  return 0;
}

static int tsm_evidence(void *vctx, const uint8_t report_data[64], uint8_t *out, size_t cap,
                        size_t *out_len) {
  tsm_ctx *c = vctx;
  char name[64];
  pthread_mutex_lock(&c->lock);
  snprintf(name, sizeof name, "tkms-%ld-%lu", (long)getpid(), c->seq++);
  pthread_mutex_unlock(&c->lock);
  if (mkdirat(c->root_fd, name, 0700) != 0 && errno != EEXIST) return -1;
  int dir = openat(c->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  int r = dir >= 0 ? report(c, dir, report_data, out, cap, out_len) : -1;
  if (dir >= 0) close(dir);
  /* configfs removes an entry with its attributes; a failure only leaves a
   * stale entry (the next call uses the next name). */
  unlinkat(c->root_fd, name, AT_REMOVEDIR);
  return r;
}

static int tsm_counter_read(void *vctx, unsigned idx, uint64_t *value) {
  (void)vctx, (void)idx, (void)value;
  return -1;
}

static int tsm_counter_advance(void *vctx, unsigned idx, uint64_t new_value) {
  (void)vctx, (void)idx, (void)new_value;
  return -1;
}

const tkms_platform_ops tkms_platform_tdx = {
    .name = "tdx",
    .simulated = 0,
    .time_source = "host clock (tdx: synchronised from sources the host controls; not trusted)",
    .sandbox_needs = TKMS_SANDBOX_FILES,
    .open = tdx_open,
    .close = tsm_close,
    .measurement = tsm_measurement,
    .seal_key = tsm_seal_key,
    .evidence = tsm_evidence,
    .counter_read = tsm_counter_read,
    .counter_advance = tsm_counter_advance,
    .now = tkms_platform_host_now,
};

const tkms_platform_ops tkms_platform_snp = {
    .name = "snp",
    .simulated = 0,
    .time_source = "host clock (snp: synchronised from sources the host controls; not trusted)",
    .sandbox_needs = TKMS_SANDBOX_FILES,
    .open = snp_open,
    .close = tsm_close,
    .measurement = tsm_measurement,
    .seal_key = tsm_seal_key,
    .evidence = tsm_evidence,
    .counter_read = tsm_counter_read,
    .counter_advance = tsm_counter_advance,
    .now = tkms_platform_host_now,
};
