/* src/platform/platform.h — what the trusted core needs from the machine it runs on.
 *
 * One table of function pointers per platform (sim.c, tpm2.c, sgx.c, tdx.c),
 * chosen at start-up by name. The core calls nothing platform-specific
 * except through this table, so a platform is one file and its tests.
 *
 * Life cycle: open() runs before the seccomp sandbox is installed and must do
 * every open(2)/read of files the platform needs (root secrets, the counter
 * file, the core binary and its libraries for the measurement). After open() the functions may
 * use only already-open descriptors, memory and the clock: the sandbox kills the
 * process on anything else.
 *
 * Errors: every function returns 0 on success and -1 on failure; open() also
 * writes a sentence for the operator (never a secret) into err. */
#ifndef TKMS_PLATFORM_PLATFORM_H
#define TKMS_PLATFORM_PLATFORM_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_MEASUREMENT_BYTES 32u
#define TKMS_SEAL_KEY_BYTES 32u
#define TKMS_REPORT_DATA_BYTES 64u
#define TKMS_EVIDENCE_MAX 16384u /* upper bound on any platform's evidence */
#define TKMS_PLATFORM_ERR_MAX 512u

typedef struct {
  const char *data_dir; /* where the platform keeps its files (sim: root key, counter) */
  int init;             /* 1: the host's store is empty; missing state may be created */
  const char *exe_path; /* the core binary to measure; NULL = /proc/self/exe.
                           Tests point it at another file to get another measurement. */
  int counter_readonly; /* 1: open the counters for reading only, without the
                           exclusive lock (sim): a migration source beside the
                           successor core that holds them. counter_advance fails. */
  int allow_incomplete; /* 1: open a platform that lacks a part the core needs
                          (sgx: counters; tdx, snp: counters and the seal key);
                          the missing functions then fail. The core never sets it:
                          tests do, and later the cluster code that supplies them. */
} tkms_platform_cfg;

/* What a platform needs from the sandbox after open() (tkms_platform_ops.sandbox_needs). */
#define TKMS_SANDBOX_TPM_IO 1u /* poll; stream sockets (unix, inet) and connect: TCTIs */
#define TKMS_SANDBOX_FILES                                \
  2u /* openat without O_CREAT, mkdirat, unlinkat, fstat: \
        pseudo-files that must be reopened per request */

typedef struct tkms_platform_ops {
  const char *name; /* "sim" | "tpm2" | ... : F_PLATFORM */
  int simulated;    /* 1 if the platform protects nothing against root on the host */
  /* What trusted time is: a sentence for logs ("host clock (sim only)"). */
  const char *time_source;
  unsigned sandbox_needs; /* TKMS_SANDBOX_* bits: syscalls beyond the base allowlist */

  /* Reads/creates the platform's state; *ctx receives the instance. */
  int (*open)(const tkms_platform_cfg *cfg, void **ctx, char *err, size_t err_len);
  /* Zeroises and frees the instance (NULL is fine). */
  void (*close)(void *ctx);
  /* Who this core is (sim, tpm2, tdx, snp: tkms_platform_measure_self; sgx: MRENCLAVE). */
  void (*measurement)(void *ctx, uint8_t out[TKMS_MEASUREMENT_BYTES]);
  /* A key bound to this code identity on this machine. key must be locked memory. */
  int (*seal_key)(void *ctx, uint8_t key[TKMS_SEAL_KEY_BYTES]);
  /* Attestation evidence binding report_data. Writes at most cap bytes. */
  int (*evidence)(void *ctx, const uint8_t report_data[TKMS_REPORT_DATA_BYTES], uint8_t *out,
                  size_t cap, size_t *out_len);
  /* Two monotonic counters for rollback protection (see src/core/txn.c):
   *   TKMS_COUNTER_PREPARED  (0) P: the value of the newest manifest ever issued;
   *   TKMS_COUNTER_COMMITTED (1) K: the value of the newest manifest committed.
   * Both start at 0 in a fresh data directory. The core keeps K <= P.
   * counter_read: *value gets counter idx's current (durable) value.
   * counter_advance: sets counter idx to new_value and makes it durable before
   *   returning 0. Refuses (-1, nothing written) if new_value <= the current
   *   value: a counter never goes backwards or stands still. idx other than 0
   *   and 1 is refused too. */
  int (*counter_read)(void *ctx, unsigned idx, uint64_t *value);
  int (*counter_advance)(void *ctx, unsigned idx, uint64_t new_value);
  /* Current unix time in seconds, as trusted as the platform can make it. */
  int (*now)(void *ctx, uint64_t *unix_seconds);
} tkms_platform_ops;

/* Counter indices for counter_read / counter_advance. */
enum { TKMS_COUNTER_PREPARED = 0, TKMS_COUNTER_COMMITTED = 1, TKMS_COUNTERS = 2 };

/* An opened platform: the table and its instance. */
typedef struct {
  const tkms_platform_ops *ops;
  void *ctx;
} tkms_platform;

/* ---- the core measurement (sim, tpm2 PCR 23, tdx/snp report; src/platform/fileio.c) ----
 * Who this core process is: the executable and every shared object it has loaded,
 * as SGX loaders list trusted files. Read from /proc/self/maps: every file with an
 * executable mapping (the core binary, the dynamic loader, each library, LD_PRELOAD
 * objects, modules dlopen'ed so far); anonymous maps, [vdso] and data-only file
 * maps (locale archives, caches) are not code and are left out. The manifest is
 *
 *   "tkms-core-manifest v1\n" followed by one line per file, sorted bytewise:
 *   "<role>\t<basename>\t<sha256 of the file's bytes, lowercase hex>\n"
 *   role = "core" for the executable, "lib" for every shared object,
 *
 * and the measurement is SHA-256 of the manifest text. Basenames, not paths: the
 * same build installed in another directory is the same software, and a library's
 * file name carries its version (libsodium.so.23.3.0); its content is in the hash.
 * Call it before the sandbox: it opens files. A library replaced on disk after it
 * was loaded (maps says "(deleted)") is refused: what runs could not be measured.
 *
 * exe_path: NULL measures /proc/self/exe as the core; otherwise the file at
 * exe_path stands in for this process's executable (tests). manifest (may be NULL)
 * receives the NUL-terminated text if it fits in cap bytes, else -1.
 * Returns 0, or -1 with a sentence in err. */
#define TKMS_MANIFEST_MAX 16384u
int tkms_platform_measure_self(const char *exe_path, uint8_t out[TKMS_MEASUREMENT_BYTES],
                               char *manifest, size_t cap, size_t *manifest_len, char *err,
                               size_t err_len);

/* The platforms built into this binary. */
extern const tkms_platform_ops tkms_platform_sim;
extern const tkms_platform_ops tkms_platform_tpm2;
extern const tkms_platform_ops tkms_platform_sgx;
extern const tkms_platform_ops tkms_platform_tdx;
extern const tkms_platform_ops tkms_platform_snp;

/* Looks a platform up by name; NULL if this build has no such platform. */
const tkms_platform_ops *tkms_platform_find(const char *name);

/* Opens ops with cfg into p. Returns 0 or -1 (err filled). */
int tkms_platform_open(const tkms_platform_ops *ops, const tkms_platform_cfg *cfg, tkms_platform *p,
                       char *err, size_t err_len);
void tkms_platform_close(tkms_platform *p);

/* ---- sim internals exposed for tests ---------------------------------------- */
#define TKMS_SIM_EVIDENCE_MAGIC "TKMS-SIM-EVIDENCE-v1"
#define TKMS_SIM_EVIDENCE_MAGIC_BYTES 20u
/* magic ‖ measurement ‖ report_data ‖ attestation public key ‖ Ed25519 signature */
#define TKMS_SIM_EVIDENCE_BYTES (20u + 32u + 64u + 32u + 64u)

/* seal key = HKDF-SHA256(ikm = root secret, salt = "tkms-sim-seal-v1", info = measurement).
 * A different measurement (another core build) gives an unrelated key. */
int tkms_sim_derive_seal_key(const uint8_t root[32], const uint8_t measurement[32],
                             uint8_t key[32]);
/* Verifies sim evidence and extracts its parts (any may be NULL). Checks only the
 * signature under the public key inside it: sim evidence proves nothing to a
 * remote party. Returns 0 or -1. */
int tkms_sim_evidence_parse(const uint8_t *ev, size_t len, uint8_t measurement[32],
                            uint8_t report_data[64], uint8_t attest_pub[32]);

/* ---- tpm2 internals exposed for tests and verifiers ----------------------------- */
#define TKMS_TPM2_EVIDENCE_MAGIC "TKMSTPM1"
#define TKMS_TPM2_EVIDENCE_MAGIC_BYTES 8u
#define TKMS_TPM2_MAX_STEP 1024u   /* most increments one advance of P may make (K: up to P) */
#define TKMS_TPM2_AK_DER_BYTES 91u /* SubjectPublicKeyInfo of a P-256 key */
/* tss2's TPM2_TRANSIENT_FIRST shifts a signed 0x80 by 24 (undefined behaviour). */
#define TKMS_TPM2_TRANSIENT_FIRST UINT32_C(0x80000000)
/* The attestation key's public key as DER SubjectPublicKeyInfo; ctx is an open
 * tpm2 instance. Returns 0 or -1 (cap too small). */
int tkms_tpm2_ak_public_der(void *ctx, uint8_t *out, size_t cap, size_t *len);
#endif
