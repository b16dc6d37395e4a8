/* src/platform/sim.c — the simulation platform: a hardened process, no TEE.
 *
 * What it protects against: nothing that root on this host cannot undo. The root
 * secret is a file readable by its owner; anyone who can read it can unseal every
 * key. It exists so tkms runs and is tested everywhere, and it says so loudly.
 *
 * Files in the data directory (created only with --init, never over existing data):
 *   sim-root.key  32 random bytes, mode 0600. Root of the seal and attestation keys.
 *   sim-counter   the two monotonic counters, 32 bytes: prepared (P) at offset 0,
 *                 committed (K) at offset 16, each a u64 big-endian value ‖ its
 *                 bitwise complement, so a torn or garbled slot is detected
 *                 instead of being read as a smaller value. A slot is written
 *                 with one pwrite + fdatasync.
 *
 * measurement = tkms_platform_measure_self (platform.h): SHA-256 over the manifest of
 *               the core binary and every shared object it has loaded, read at open,
 *               so a changed binary or library derives a different seal key — SGX
 *               MRENCLAVE semantics, with the libraries as Gramine's trusted files.
 * seal key    = HKDF-SHA256(ikm = root, salt = "tkms-sim-seal-v1", info = measurement).
 * attestation = Ed25519 key from HKDF-SHA256(ikm = root, salt = "tkms-sim-seal-v1",
 *               info = "sim-attestation-key"): per machine, not per build.
 * time        = the host clock (CLOCK_REALTIME). Acceptable only on sim: the host
 *               can move it and so stretch deadlines and session expiries.
 *
 * Evidence layout (TKMS_SIM_EVIDENCE_BYTES = 212 bytes):
 *   0   20  "TKMS-SIM-EVIDENCE-v1"   says "simulation" to anyone who looks
 *   20  32  measurement
 *   52  64  report_data
 *   116 32  sim attestation public key (Ed25519)
 *   148 64  Ed25519 signature over bytes 0..147
 * The signing key never leaves this process, but it is derived from a file root can
 * read, so sim evidence convinces nobody remote; verifiers must treat it as such. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/kdf.h"
#include "platform/fileio.h"
#include "platform/platform.h"

#define ROOT_FILE "sim-root.key"
#define COUNTER_FILE "sim-counter"
#define SEAL_SALT "tkms-sim-seal-v1"
#define ATTEST_INFO "sim-attestation-key"

typedef struct {
  uint8_t seal_key[32];
  uint8_t attest_sk[crypto_sign_SECRETKEYBYTES];
} sim_secrets; /* lives in sodium_malloc'd (locked, guarded) memory */

typedef struct {
  int counter_fd; /* opened before the sandbox, kept open, flock'ed */
  int counter_readonly;
  pthread_mutex_t counter_lock;
  uint8_t measurement[32];
  uint8_t attest_pk[crypto_sign_PUBLICKEYBYTES];
  sim_secrets *sec;
} sim_ctx;

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t n, const char *fmt,
                                                          ...) {
  if (err == NULL || n == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

int tkms_sim_derive_seal_key(const uint8_t root[32], const uint8_t measurement[32],
                             uint8_t key[32]) {
  return tkms_hkdf_sha256((const uint8_t *)SEAL_SALT, strlen(SEAL_SALT), root, 32, measurement, 32,
                          key, 32);
}

static int path_join(char *out, size_t n, const char *dir, const char *file) {
  int r = snprintf(out, n, "%s/%s", dir, file);
  return (r < 0 || (size_t)r >= n) ? -1 : 0;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_exact(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Reads DIR/sim-root.key into root (locked memory), creating it only with init. */
static int load_root(const tkms_platform_cfg *cfg, uint8_t root[32], char *err, size_t en) {
  char path[PATH_MAX];
  if (path_join(path, sizeof path, cfg->data_dir, ROOT_FILE) != 0) {
    set_err(err, en, "data directory path too long: %s", cfg->data_dir);
    return -1;
  }
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && cfg->init) {
    /* O_EXCL: never replace a root secret that appeared meanwhile. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      set_err(err, en, "cannot create %s: %s", path, strerror(errno));
      return -1;
    }
    randombytes_buf(root, 32);
    int bad = write_all(fd, root, 32) != 0 || fsync(fd) != 0;
    close(fd);
    if (bad || fsync_dir(cfg->data_dir) != 0) {
      set_err(err, en, "cannot write %s: %s", path, strerror(errno));
      return -1;
    }
    return 0;
  }
  if (fd < 0 && errno == ENOENT) {
    set_err(err, en,
            "%s is missing and --init was not given: the sim root secret of this data "
            "directory was lost or the directory was never initialised. Restore the file "
            "from backup; tkms never creates a new identity over existing data.",
            path);
    return -1;
  }
  if (fd < 0) {
    set_err(err, en, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 32) {
    close(fd);
    set_err(err, en, "%s is not a 32-byte regular file", path);
    return -1;
  }
  if ((st.st_mode & 077) != 0) {
    /* Like ssh with private keys: a readable secret is already a leaked secret. */
    close(fd);
    set_err(err, en, "%s is accessible by group or others; chmod 600 it", path);
    return -1;
  }
  int r = read_exact(fd, root, 32);
  close(fd);
  if (r != 0) set_err(err, en, "cannot read %s", path);
  return r;
}

#define COUNTER_SLOT 16u
#define COUNTER_FILE_BYTES (TKMS_COUNTERS * COUNTER_SLOT)

static void counter_encode(uint64_t v, uint8_t b[COUNTER_SLOT]) {
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(v >> (56 - 8 * i));
    b[8 + i] = (uint8_t)~b[i];
  }
}

static int counter_decode(const uint8_t b[COUNTER_SLOT], uint64_t *v) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) {
    if ((uint8_t)(b[i] ^ b[8 + i]) != 0xff) return -1; /* torn or garbled */
    x = (x << 8) | b[i];
  }
  *v = x;
  return 0;
}

static int pwrite_all(int fd, const uint8_t *b, size_t n, off_t off) {
  ssize_t w;
  do {
    w = pwrite(fd, b, n, off);
  } while (w < 0 && errno == EINTR);
  return w == (ssize_t)n ? 0 : -1;
}

/* Reads counter idx from the file (never from a cache: the file is the counter). */
static int counter_load(int fd, unsigned idx, uint64_t *v) {
  uint8_t b[COUNTER_SLOT];
  ssize_t r;
  do {
    r = pread(fd, b, sizeof b, (off_t)idx * COUNTER_SLOT);
  } while (r < 0 && errno == EINTR);
  return r == (ssize_t)sizeof b ? counter_decode(b, v) : -1;
}

/* Writes counter idx and makes it durable. */
static int counter_store(int fd, unsigned idx, uint64_t v) {
  uint8_t b[COUNTER_SLOT];
  counter_encode(v, b);
  if (pwrite_all(fd, b, sizeof b, (off_t)idx * COUNTER_SLOT) != 0) return -1;
  return fdatasync(fd);
}

static int open_counter(const tkms_platform_cfg *cfg, int *out, char *err, size_t en) {
  char path[PATH_MAX];
  if (path_join(path, sizeof path, cfg->data_dir, COUNTER_FILE) != 0) {
    set_err(err, en, "data directory path too long: %s", cfg->data_dir);
    return -1;
  }
  int ro = cfg->counter_readonly;
  int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC);
  int created = 0;
  if (fd < 0 && errno == ENOENT && cfg->init && !ro) {
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    created = 1;
  } else if (fd < 0 && errno == ENOENT) {
    set_err(err, en,
            "%s is missing and --init was not given: without the counter the core cannot "
            "tell a current database from an old copy. Restore the file.",
            path);
    return -1;
  }
  if (fd < 0) {
    set_err(err, en, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  /* One core per data directory: two would race on the counter. A read-only
   * reader (a migration source) does not lock: the successor holds the lock. */
  if (!ro && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    set_err(err, en, "%s is locked: another tkms-enclave uses this data directory", path);
    return -1;
  }
  if (created) {
    uint8_t b[COUNTER_FILE_BYTES];
    for (unsigned i = 0; i < TKMS_COUNTERS; i++) counter_encode(0, b + i * COUNTER_SLOT);
    if (pwrite_all(fd, b, sizeof b, 0) != 0 || fdatasync(fd) != 0 ||
        fsync_dir(cfg->data_dir) != 0) {
      close(fd);
      set_err(err, en, "cannot write %s: %s", path, strerror(errno));
      return -1;
    }
  }
  struct stat st;
  uint64_t v[TKMS_COUNTERS];
  int bad = fstat(fd, &st) != 0 || st.st_size != (off_t)COUNTER_FILE_BYTES;
  for (unsigned i = 0; !bad && i < TKMS_COUNTERS; i++) bad = counter_load(fd, i, &v[i]) != 0;
  if (bad) {
    close(fd);
    set_err(err, en,
            "%s is corrupt (not %u bytes holding the prepared and the committed counter, each "
            "followed by its complement); refusing to guess. Restore the file from backup.",
            path, COUNTER_FILE_BYTES);
    return -1;
  }
  if (v[TKMS_COUNTER_COMMITTED] > v[TKMS_COUNTER_PREPARED]) {
    close(fd);
    set_err(err, en,
            "%s is inconsistent (committed counter %llu is ahead of prepared counter %llu); "
            "refusing to guess. Restore the file from backup.",
            path, (unsigned long long)v[TKMS_COUNTER_COMMITTED],
            (unsigned long long)v[TKMS_COUNTER_PREPARED]);
    return -1;
  }
  *out = fd;
  return 0;
}

static void sim_close(void *vctx) {
  sim_ctx *c = vctx;
  if (c == NULL) return;
  if (c->counter_fd >= 0) close(c->counter_fd);
  pthread_mutex_destroy(&c->counter_lock);
  sodium_free(c->sec); /* zeroises */
  sodium_memzero(c, sizeof *c);
  free(c);
}

static int sim_open(const tkms_platform_cfg *cfg, void **out, char *err, size_t en) {
  if (cfg == NULL || cfg->data_dir == NULL || out == NULL) return -1;
  if (sodium_init() < 0) return -1;
  sim_ctx *c = calloc(1, sizeof *c);
  if (c == NULL) return -1;
  c->counter_fd = -1;
  pthread_mutex_init(&c->counter_lock, NULL);
  uint8_t *root = sodium_malloc(32);
  uint8_t *seed = sodium_malloc(32);
  c->sec = sodium_malloc(sizeof *c->sec);
  if (root == NULL || seed == NULL || c->sec == NULL) goto fail;

  struct stat st;
  if (stat(cfg->data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    set_err(err, en, "data directory %s does not exist", cfg->data_dir);
    goto fail;
  }
  if (tkms_platform_measure_self(cfg->exe_path, c->measurement, NULL, 0, NULL, err, en) != 0) {
    goto fail;
  }
  if (load_root(cfg, root, err, en) != 0) goto fail;
  if (open_counter(cfg, &c->counter_fd, err, en) != 0) goto fail;
  c->counter_readonly = cfg->counter_readonly;
  if (tkms_sim_derive_seal_key(root, c->measurement, c->sec->seal_key) != 0 ||
      tkms_hkdf_sha256((const uint8_t *)SEAL_SALT, strlen(SEAL_SALT), root, 32,
                       (const uint8_t *)ATTEST_INFO, strlen(ATTEST_INFO), seed, 32) != 0 ||
      crypto_sign_seed_keypair(c->attest_pk, c->sec->attest_sk, seed) != 0) {
    set_err(err, en, "key derivation failed");
    goto fail;
  }
  sodium_free(root);
  sodium_free(seed);
  *out = c;
  return 0;
fail:
  sodium_free(root);
  sodium_free(seed);
  sim_close(c);
  return -1;
}

static void sim_measurement(void *vctx, uint8_t out[32]) {
  memcpy(out, ((sim_ctx *)vctx)->measurement, 32);
}

static int sim_seal_key(void *vctx, uint8_t key[32]) {
  memcpy(key, ((sim_ctx *)vctx)->sec->seal_key, 32);
  return 0;
}

static int sim_evidence(void *vctx, const uint8_t report_data[64], uint8_t *out, size_t cap,
                        size_t *out_len) {
  sim_ctx *c = vctx;
  if (cap < TKMS_SIM_EVIDENCE_BYTES) return -1;
  uint8_t *p = out;
  memcpy(p, TKMS_SIM_EVIDENCE_MAGIC, TKMS_SIM_EVIDENCE_MAGIC_BYTES);
  memcpy(p + 20, c->measurement, 32);
  memcpy(p + 52, report_data, 64);
  memcpy(p + 116, c->attest_pk, 32);
  if (crypto_sign_detached(p + 148, NULL, p, 148, c->sec->attest_sk) != 0) return -1;
  *out_len = TKMS_SIM_EVIDENCE_BYTES;
  return 0;
}

int tkms_sim_evidence_parse(const uint8_t *ev, size_t len, uint8_t measurement[32],
                            uint8_t report_data[64], uint8_t attest_pub[32]) {
  if (ev == NULL || len != TKMS_SIM_EVIDENCE_BYTES ||
      memcmp(ev, TKMS_SIM_EVIDENCE_MAGIC, TKMS_SIM_EVIDENCE_MAGIC_BYTES) != 0)
    return -1;
  if (crypto_sign_verify_detached(ev + 148, ev, 148, ev + 116) != 0) return -1;
  if (measurement != NULL) memcpy(measurement, ev + 20, 32);
  if (report_data != NULL) memcpy(report_data, ev + 52, 64);
  if (attest_pub != NULL) memcpy(attest_pub, ev + 116, 32);
  return 0;
}

static int sim_counter_read(void *vctx, unsigned idx, uint64_t *value) {
  sim_ctx *c = vctx;
  if (idx >= TKMS_COUNTERS) return -1;
  pthread_mutex_lock(&c->counter_lock);
  int r = counter_load(c->counter_fd, idx, value);
  pthread_mutex_unlock(&c->counter_lock);
  return r;
}

static int sim_counter_advance(void *vctx, unsigned idx, uint64_t new_value) {
  sim_ctx *c = vctx;
  uint64_t cur;
  int r = -1;
  if (idx >= TKMS_COUNTERS || c->counter_readonly) return -1;
  pthread_mutex_lock(&c->counter_lock);
  /* Monotonic: never backwards, never the same value twice. */
  if (counter_load(c->counter_fd, idx, &cur) == 0 && new_value > cur)
    r = counter_store(c->counter_fd, idx, new_value);
  pthread_mutex_unlock(&c->counter_lock);
  return r;
}

const tkms_platform_ops tkms_platform_sim = {
    .name = "sim",
    .simulated = 1,
    .time_source = "host clock (CLOCK_REALTIME; the host can move it; sim only)",
    .open = sim_open,
    .close = sim_close,
    .measurement = sim_measurement,
    .seal_key = sim_seal_key,
    .evidence = sim_evidence,
    .counter_read = sim_counter_read,
    .counter_advance = sim_counter_advance,
    .now = tkms_platform_host_now, /* the host can move it: acceptable only on sim */
};
