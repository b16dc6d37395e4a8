/* src/core/main.c — tkms-enclave: the trusted core process.
 *
 *   tkms-enclave --data-dir DIR --workers N [--init | --migrate-source]
 *                [--platform sim|tpm2|sgx|tdx|snp]
 *   tkms-enclave --measure
 *
 * --measure prints this build's measurement and the manifest it is computed from
 * (platform.h, tkms_platform_measure_self) and exits; it opens no platform and
 * touches no data directory. It measures at the same point of start-up as a
 * serving core does (after the crypto libraries and OpenSSL's configured
 * providers are loaded), so both see the same shared objects.
 *
 * --migrate-source: this is the current core of a deployment whose successor is
 * starting (governance.h). It loads the sealed state as usual but opens the
 * platform's counters read-only (the successor holds them) and never advances
 * them; the host asks it only for MIGRATE_NONCE and MIGRATE_EXPORT. sim only.
 *
 * Spawned by `tkms serve` with the core ends of N stream socketpairs open as fds
 * 3 .. 3+N-1. Start-up order matters:
 *   1. harden (die with the parent, no dumps) before any secret exists;
 *   2. open the platform: every file it needs is opened now;
 *   3. stdin -> /dev/null, stray descriptors closed;
 *   4. one worker thread per socket, started and parked;
 *   5. seccomp allowlist on all threads, then the workers go.
 * Each worker: loop { receive frame; dispatch; send response }. EOF ends a worker;
 * when all have ended the core exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "core/sandbox.h"
#include "crypto/secp256k1_eth.h"
#include "platform/platform.h"
#include "proto/frame.h"
#include "proto/hex.h"

/* A string the build embeds (make build/tests/tkms-enclave-b sets "b"), so two
 * builds of the same source differ in measurement; reported in STATUS. */
#ifndef TKMS_BUILD_TAG
#define TKMS_BUILD_TAG ""
#endif

#define FIRST_FD 3
#define MAX_WORKERS 64
#define WORKER_STACK (256u * 1024u)

typedef struct {
  int fd;
  tkms_core *core;
  pthread_barrier_t *ready; /* every worker has started (its start-up syscalls are done) */
  pthread_barrier_t *go;    /* the sandbox is installed */
} worker;

static void usage(void) {
  tkms_log(
      "usage: tkms-enclave --data-dir DIR --workers N [--init | --migrate-source] "
      "[--platform sim|tpm2|sgx|tdx|snp] [--attestation-test-root 0x04... (sim only)]\n"
      "       tkms-enclave --measure   (print the measurement and its manifest, then exit)");
}

/* Answers waiting to be written: a pipelined socket's answers leave in one
 * write(2) when several requests arrived together. */
typedef struct {
  uint8_t *buf;
  size_t len;
  unsigned n; /* answers in buf */
} outq;

#define OUTQ_BYTES (64u * 1024u)
/* Answers are also written once this many are waiting, even when more
 * requests are already here: the host (and its client) then work on those
 * while this thread signs the rest, instead of both waiting for the whole
 * batch. On the 2-vCPU bench, 2 or 4 cut idle CPU from about 17 % to about
 * 12 % and raised the MAC-session signing rate by about 5-8 %; 8 was no
 * better than waiting for the batch (16 connections). */
#define OUTQ_K 4u

static int outq_flush(int fd, outq *q) {
  if (tkms_write_all(fd, q->buf, q->len) != 0) return -1;
  explicit_bzero(q->buf, q->len);
  q->len = 0;
  q->n = 0;
  return 0;
}

/* Queues one answer; an answer that does not fit is written on its own. */
static int outq_put(int fd, outq *q, const tkms_fw *resp) {
  if (q->len + resp->len > OUTQ_BYTES) {
    if (outq_flush(fd, q) != 0) return -1;
    if (resp->len > OUTQ_BYTES) return tkms_frame_send(fd, resp);
  }
  memcpy(q->buf + q->len, resp->buf, resp->len);
  q->len += resp->len;
  q->n++;
  return 0;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  /* Crypto libraries keep secret temporaries on the stack: keep it out of swap. */
  pthread_attr_t a;
  void *stack;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    if (pthread_attr_getstack(&a, &stack, &size) == 0 && mlock(stack, size) != 0)
      tkms_log("socket %d: cannot lock the worker stack (%s)", w->fd, strerror(errno));
    pthread_attr_destroy(&a);
  }
  /* Give this thread its malloc arena and its buffers now, while mmap of any
   * kind is allowed. */
  free(malloc(64));
  tkms_frame_reader rd;
  outq q = {.buf = malloc(OUTQ_BYTES), .len = 0, .n = 0};
  int ok = tkms_frame_reader_init(&rd, w->fd) == 0 && q.buf != NULL;
  pthread_barrier_wait(w->ready);
  pthread_barrier_wait(w->go);
  if (!ok) tkms_log("socket %d: out of memory; closing it", w->fd);

  tkms_conn conn;
  tkms_conn_init(&conn, w->core);
  while (ok) {
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = tkms_frame_reader_next(&rd, &buf, &len);
    if (r != 0 && q.len > 0 && outq_flush(w->fd, &q) != 0) r = -1; /* answer what was done */
    if (r == 1) break;                                             /* the host closed the socket */
    if (r != 0) {
      tkms_log("socket %d: unreadable or oversized frame; closing it", w->fd);
      break;
    }
    tkms_fw resp;
    int d = tkms_core_dispatch(&conn, buf, len, &resp);
    tkms_frame_buf_free(buf, len);
    int s = d == 0 ? outq_put(w->fd, &q, &resp) : -1;
    tkms_fw_free(&resp);
    /* Answer before waiting for more (only requests already here are
     * batched), and every OUTQ_K answers. */
    if (s == 0 && (!tkms_frame_reader_ready(&rd) || q.n >= OUTQ_K)) s = outq_flush(w->fd, &q);
    if (s != 0) {
      tkms_log("socket %d: cannot answer (%s); closing it", w->fd,
               d == 0 ? "write failed" : "out of memory");
      break;
    }
  }
  tkms_conn_close(&conn); /* aborts a transaction the host never finished */
  tkms_frame_reader_free(&rd);
  if (q.buf != NULL) {
    explicit_bzero(q.buf, OUTQ_BYTES);
    free(q.buf);
  }
  close(w->fd);
  return NULL;
}

static int parse_args(int argc, char **argv, const char **dir, int *workers, int *init, int *source,
                      const char **platform, const char **test_root) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
      *dir = argv[++i];
    } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > MAX_WORKERS) return -1;
      *workers = (int)v;
    } else if (strcmp(argv[i], "--init") == 0) {
      *init = 1;
    } else if (strcmp(argv[i], "--migrate-source") == 0) {
      *source = 1;
    } else if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc) {
      *platform = argv[++i];
    } else if (strcmp(argv[i], "--attestation-test-root") == 0 && i + 1 < argc) {
      *test_root = argv[++i];
    } else {
      return -1;
    }
  }
  return (*dir != NULL && *workers > 0 && !(*init && *source)) ? 0 : -1;
}

/* stdin -> /dev/null (so fd 0 is never reused) and every descriptor above the
 * sockets closed: the core holds nothing the host did not mean to give it. */
static int tidy_fds(int workers) {
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, STDIN_FILENO) < 0) return -1;
  if (null != STDIN_FILENO) close(null);
  unsigned first = FIRST_FD + (unsigned)workers;
  if (syscall(SYS_close_range, first, ~0u, 0) != 0) {
    for (int fd = (int)first; fd < 4096; fd++) close(fd);
  }
  for (int i = 0; i < workers; i++) {
    struct stat st;
    if (fstat(FIRST_FD + i, &st) != 0 || !S_ISSOCK(st.st_mode)) return -1;
  }
  return 0;
}

/* tkms-enclave --measure: "measurement <hex>\n" then the manifest verbatim, so
 * `tkms-enclave --measure | tail -n +2 | sha256sum` recomputes the first line
 * (the API writes it with a 0x prefix, as here). */
static int measure_main(void) {
  char err[TKMS_PLATFORM_ERR_MAX];
  if (sodium_init() < 0 || tkms_secp_init() != 0) {
    tkms_log("crypto library initialisation failed");
    return 1;
  }
  if (tkms_sandbox_preload(err, sizeof err) != 0) {
    tkms_log("%s", err);
    return 1;
  }
  static char manifest[TKMS_MANIFEST_MAX];
  uint8_t m[TKMS_MEASUREMENT_BYTES];
  size_t len = 0;
  if (tkms_platform_measure_self(NULL, m, manifest, sizeof manifest, &len, err, sizeof err) != 0) {
    tkms_log("%s", err);
    return 1;
  }
  char hex[2 * TKMS_MEASUREMENT_BYTES + 3];
  tkms_hex_encode(m, TKMS_MEASUREMENT_BYTES, hex);
  if (printf("measurement %s\n", hex) < 0 || fwrite(manifest, 1, len, stdout) != len ||
      fflush(stdout) != 0) {
    tkms_log("cannot write the measurement: %s", strerror(errno));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = NULL, *platform = "sim", *test_root = NULL;
  int workers = 0, init = 0, source = 0;
  char err[TKMS_PLATFORM_ERR_MAX];
  if (argc == 2 && strcmp(argv[1], "--measure") == 0) return measure_main();
  if (parse_args(argc, argv, &dir, &workers, &init, &source, &platform, &test_root) != 0) {
    usage();
    return 2;
  }
  if (source && strcmp(platform, "sim") != 0) {
    tkms_log(
        "--migrate-source: migration to a successor core is implemented for the sim "
        "platform only (not %s)",
        platform);
    return 2;
  }
  if (tkms_harden_early(err, sizeof err) != 0) {
    tkms_log("%s", err);
    return 1;
  }
  if (tidy_fds(workers) != 0) {
    tkms_log("fds %d..%d must be the host's sockets", FIRST_FD, FIRST_FD + workers - 1);
    return 1;
  }
  if (sodium_init() < 0 || tkms_secp_init() != 0) {
    tkms_log("crypto library initialisation failed");
    return 1;
  }
  /* OpenSSL's providers are loaded before the platform measures this process, so
   * a provider module that openssl.cnf pulls in is part of the measurement. */
  if (tkms_sandbox_preload(err, sizeof err) != 0) {
    tkms_log("%s", err);
    return 1;
  }
  const tkms_platform_ops *ops = tkms_platform_find(platform);
  if (ops == NULL) {
    tkms_log("unknown platform %s", platform);
    return 2;
  }
  /* A test root lets whoever holds its key forge "hardware" evidence. On the sim
   * platform root on the host can read every key anyway, so it adds nothing an
   * attacker lacks; anywhere else it would be a backdoor. */
  uint8_t root[65];
  if (test_root != NULL) {
    if (!ops->simulated) {
      tkms_log(
          "refusing --attestation-test-root on platform %s: a DCAP test root is "
          "accepted only on the sim platform",
          ops->name);
      return 2;
    }
    if (tkms_hex_decode_exact(test_root, root, sizeof root) != 0 || root[0] != 0x04) {
      tkms_log("--attestation-test-root takes an uncompressed P-256 key: 0x04 + 128 hex");
      return 2;
    }
  }
  /* Files are opened after tidy_fds so the counter fd survives it. */
  tkms_platform_cfg cfg = {
      .data_dir = dir, .init = init, .exe_path = NULL, .counter_readonly = source};
  tkms_platform plat;
  if (tkms_platform_open(ops, &cfg, &plat, err, sizeof err) != 0) {
    tkms_log("%s", err);
    return 1;
  }
  if (ops->simulated)
    tkms_log(
        "SIMULATION PLATFORM: keys are protected only by file permissions; root on this "
        "host can read them");
  tkms_log("platform %s, time from %s", ops->name, ops->time_source);
  tkms_core *core;
  if (tkms_core_new(&plat, init, &core) != 0) {
    tkms_platform_close(&plat);
    tkms_log("out of memory");
    return 1;
  }
  core->migrate_source = source;
  core->build_tag = TKMS_BUILD_TAG;
  if (test_root != NULL) {
    core->has_test_root = 1;
    memcpy(core->test_root, root, sizeof root);
    tkms_log(
        "ATTESTATION TEST ROOT TRUSTED: DCAP evidence signed by the test CA %.20s... "
        "opens attested sessions (sim only, for tests)",
        test_root);
  }
  char m[2 * TKMS_MEASUREMENT_BYTES + 3];
  tkms_hex_encode(core->measurement, TKMS_MEASUREMENT_BYTES, m);
  tkms_log("core %s%s%s, measurement %s, %d workers%s", TKMS_CORE_VERSION,
           TKMS_BUILD_TAG[0] ? "+" : "", TKMS_BUILD_TAG, m, workers,
           init     ? ", --init"
           : source ? ", --migrate-source"
                    : "");

  /* Threads are started before the sandbox and parked: thread start-up (stack,
   * rseq, robust list, malloc arena) needs syscalls the workers never need again,
   * and a filter installed with TSYNC must find every thread already running. */
  pthread_barrier_t ready, go;
  pthread_barrier_init(&ready, NULL, (unsigned)workers + 1);
  pthread_barrier_init(&go, NULL, (unsigned)workers + 1);
  worker w[MAX_WORKERS];
  pthread_t th[MAX_WORKERS];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, WORKER_STACK);
  for (int i = 0; i < workers; i++) {
    w[i] = (worker){.fd = FIRST_FD + i, .core = core, .ready = &ready, .go = &go};
    if (pthread_create(&th[i], &attr, worker_main, &w[i]) != 0) {
      tkms_log("cannot start worker %d", i);
      _exit(1); /* threads are parked at the gate; nothing to unwind */
    }
  }
  pthread_attr_destroy(&attr);
  pthread_barrier_wait(&ready);
  if (tkms_sandbox_install(ops->sandbox_needs, err, sizeof err) != 0) {
    tkms_log("%s", err);
    _exit(1);
  }
  pthread_barrier_wait(&go);
  for (int i = 0; i < workers; i++) pthread_join(th[i], NULL);
  tkms_core_free(core);
  tkms_log("all sockets closed; exiting");
  return 0;
}
