/* src/platform/sgx.c — SGX under Gramine, through its /dev/attestation files.
 *
 * The root is /dev/attestation, or $TKMS_SGX_ATTESTATION_DIR (tests point it at
 * a directory that stands in for Gramine's pseudo-files). open() reads, once:
 *   attestation_type         "dcap" or "epid" (text); "none" means Gramine runs
 *                            without remote attestation: refused, no evidence.
 *   my_target_info           this enclave's sgx_target_info_t (512 bytes);
 *                            MRENCLAVE is its first 32 bytes = measurement().
 *   keys/_sgx_mrenclave      Gramine's 16-byte SGX sealing key bound to MRENCLAVE
 *                            (EGETKEY with the MRENCLAVE policy).
 * seal key   = HKDF-SHA256(ikm = that 16-byte key, salt = "tkms-sgx-seal-v1",
 *              info = MRENCLAVE): 32 bytes, and a key used only by tkms, never
 *              the raw key Gramine also uses for encrypted mounts.
 * evidence() = write the 64 bytes of report data to user_report_data, then read
 *              quote (Gramine's DCAP/EPID quote over them). Gramine commits a
 *              pseudo-file write when it is closed, so both files are opened per
 *              request (relative to the root directory descriptor opened in
 *              open()); sandbox_needs asks for that (TKMS_SANDBOX_FILES).
 * counters   = none. SGX has no persistent monotonic counter (the PSE counters
 *              are gone from current CPUs, Gramine offers none) and a counter in
 *              a host file would let root roll the store back, which is exactly
 *              what SGX is meant to stop. So open() refuses unless the caller
 *              asks for an incomplete platform (cfg->allow_incomplete: tests, and
 *              the cluster code that will supply a quorum counter); then
 *              counter_read/counter_advance fail.
 * time       = the host clock, which the host controls: not trusted time. */
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

#include "crypto/kdf.h"
#include "platform/fileio.h"
#include "platform/platform.h"

#define ROOT_ENV "TKMS_SGX_ATTESTATION_DIR"
#define ROOT_DEFAULT "/dev/attestation"
#define SEAL_SALT "tkms-sgx-seal-v1"
#define TARGET_INFO_BYTES 512u
#define GRAMINE_KEY_BYTES 16u

typedef struct {
  uint8_t seal_key[32];
  uint8_t raw[GRAMINE_KEY_BYTES];
} sgx_secrets; /* sodium_malloc'd */

typedef struct {
  int root_fd;          /* the attestation directory, opened before the sandbox */
  pthread_mutex_t lock; /* user_report_data → quote is one exchange */
  uint8_t mrenclave[32];
  sgx_secrets *sec;
} sgx_ctx;

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t n, const char *fmt,
                                                          ...) {
  if (err == NULL || n == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

static void sgx_close(void *vctx) {
  sgx_ctx *c = vctx;
  if (c == NULL) return;
  if (c->root_fd >= 0) close(c->root_fd);
  pthread_mutex_destroy(&c->lock);
  sodium_free(c->sec);
  sodium_memzero(c, sizeof *c);
  free(c);
}

static int sgx_open(const tkms_platform_cfg *cfg, void **out, char *err, size_t en) {
  if (cfg == NULL || out == NULL) return -1;
  if (sodium_init() < 0) return -1;
  if (!cfg->allow_incomplete) {
    set_err(err, en,
            "the sgx platform has no rollback-protected monotonic counter (SGX offers none "
            "that persists, and a host file could be rolled back by root); it needs a cluster "
            "quorum counter, which this build does not have yet. Refusing to run the core on it.");
    return -1;
  }
  const char *root = getenv(ROOT_ENV);
  if (root == NULL || root[0] == '\0') root = ROOT_DEFAULT;
  sgx_ctx *c = calloc(1, sizeof *c);
  if (c == NULL) return -1;
  c->root_fd = -1;
  pthread_mutex_init(&c->lock, NULL);
  c->sec = sodium_malloc(sizeof *c->sec);
  if (c->sec == NULL) {
    set_err(err, en, "out of locked memory");
    goto fail;
  }
  c->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->root_fd < 0) {
    set_err(err, en, "%s is not available (%s): the sgx platform runs only inside Gramine-SGX",
            root, strerror(errno));
    goto fail;
  }
  char type[16];
  size_t len = 0;
  if (tkms_platform_read_at(c->root_fd, "attestation_type", (uint8_t *)type, sizeof type - 1,
                            &len) != 0) {
    set_err(err, en, "cannot read %s/attestation_type: %s", root, strerror(errno));
    goto fail;
  }
  type[len] = '\0';
  type[strcspn(type, "\n")] = '\0';
  if (strcmp(type, "dcap") != 0 && strcmp(type, "epid") != 0) {
    set_err(err, en,
            "Gramine's attestation type is \"%s\": set sgx.remote_attestation = \"dcap\" in the "
            "manifest; without it there is no quote to prove this core to anyone",
            type);
    goto fail;
  }
  uint8_t ti[TARGET_INFO_BYTES];
  if (tkms_platform_read_at(c->root_fd, "my_target_info", ti, sizeof ti, &len) != 0 ||
      len != sizeof ti) {
    set_err(err, en, "cannot read the %u-byte %s/my_target_info", TARGET_INFO_BYTES, root);
    goto fail;
  }
  memcpy(c->mrenclave, ti, 32);
  if (tkms_platform_read_at(c->root_fd, "keys/_sgx_mrenclave", c->sec->raw, sizeof c->sec->raw,
                            &len) != 0 ||
      len != GRAMINE_KEY_BYTES) {
    set_err(err, en, "cannot read the %u-byte sealing key %s/keys/_sgx_mrenclave",
            GRAMINE_KEY_BYTES, root);
    goto fail;
  }
  int r = tkms_hkdf_sha256((const uint8_t *)SEAL_SALT, strlen(SEAL_SALT), c->sec->raw,
                           GRAMINE_KEY_BYTES, c->mrenclave, 32, c->sec->seal_key, 32);
  sodium_memzero(c->sec->raw, sizeof c->sec->raw);
  if (r != 0) {
    set_err(err, en, "key derivation failed");
    goto fail;
  }
  *out = c;
  return 0;
fail:
  sgx_close(c);
  return -1;
}

static void sgx_measurement(void *vctx, uint8_t out[32]) {
  memcpy(out, ((sgx_ctx *)vctx)->mrenclave, 32);
}

static int sgx_seal_key(void *vctx, uint8_t key[32]) {
  memcpy(key, ((sgx_ctx *)vctx)->sec->seal_key, 32);
  return 0;
}

static int sgx_evidence(void *vctx, const uint8_t report_data[64], uint8_t *out, size_t cap,
                        size_t *out_len) {
  sgx_ctx *c = vctx;
  size_t len = 0;
  pthread_mutex_lock(&c->lock);
  int r =
      tkms_platform_write_at(c->root_fd, "user_report_data", report_data, TKMS_REPORT_DATA_BYTES);
  if (r == 0) r = tkms_platform_read_at(c->root_fd, "quote", out, cap, &len);
  pthread_mutex_unlock(&c->lock);
  if (r != 0 || len == 0) return -1;
  *out_len = len;
  return 0;
}

static int sgx_counter_read(void *vctx, unsigned idx, uint64_t *value) {
  (void)vctx, (void)idx, (void)value;
  return -1; /* see the file comment: no counter SGX could trust */
}

static int sgx_counter_advance(void *vctx, unsigned idx, uint64_t new_value) {
  (void)vctx, (void)idx, (void)new_value;
  return -1;
}

const tkms_platform_ops tkms_platform_sgx = {
    .name = "sgx",
    .simulated = 0,
    .time_source = "host clock (sgx: the host controls it; not trusted time)",
    .sandbox_needs = TKMS_SANDBOX_FILES,
    .open = sgx_open,
    .close = sgx_close,
    .measurement = sgx_measurement,
    .seal_key = sgx_seal_key,
    .evidence = sgx_evidence,
    .counter_read = sgx_counter_read,
    .counter_advance = sgx_counter_advance,
    .now = tkms_platform_host_now,
};
