/* src/host/serve.c — `tkms serve`: options, data directory, start-up order
 * (store -> core -> HTTP) and a clean stop on SIGTERM / SIGINT; see serve.h. */
#include "host/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/core.h"
#include "host/errors.h"
#include "host/http.h"
#include "host/policy_sweep.h"
#include "host/routes.h"
#include "host/store.h"
#include "host/time_relay.h"
#include "proto/hex.h"

typedef struct {
  const char *data_dir;
  const char *listen;
  const char *enclave;
  const char *platform;
  const char *test_root;
  unsigned workers;
  unsigned pipelines;    /* pipelined core sockets for signing */
  unsigned http_threads; /* HTTP (MHD) threads */
  unsigned max_connections;
  const char *roughtime_config;
  int insecure_host_time;
  unsigned time_interval;
  unsigned policy_sweep; /* seconds between sweeps of due policy changes; 0 = none */
  /* governance of a new deployment */
  int gov_given;
  unsigned n_governors;
  uint8_t governors[TKMS_GOV_MAX_GOVERNORS][20];
  unsigned threshold;
  uint64_t upgrade_delay;
} serve_opts;

static void usage(FILE *f) {
  fprintf(f,
          "usage: tkms serve [--data-dir DIR] [--listen HOST:PORT] [--workers N]\n"
          "                  [--enclave PATH] [--max-connections N] [--platform NAME]\n"
          "  --data-dir DIR        sealed state and metadata (default ./var)\n"
          "  --listen HOST:PORT    address to bind (default 127.0.0.1:8420; port 0 = any)\n"
          "  --workers N           threads that run requests waiting on the core or the\n"
          "                        store (creation, rotation, reads), one core socket\n"
          "                        each, 1..56 (default 4)\n"
          "  --http-threads N      threads that parse HTTP and never block, 1..16\n"
          "                        (default 1)\n"
          "  --core-pipelines N    extra core sockets on which signing requests are queued\n"
          "                        without waiting for each answer, 0..8 (default 1; 0 = sign\n"
          "                        over the worker sockets)\n"
          "  --enclave PATH        the trusted core binary (default: tkms-enclave beside tkms)\n"
          "  --max-connections N   concurrent connections (default 1024)\n"
          "  --platform NAME       the core's platform: sim (default), tpm2\n"
          "                        (tpm2 reads the TPM connection from $TKMS_TPM2_TCTI)\n"
          "  --roughtime-config FILE  trusted time: Roughtime servers and quorum, sealed when a\n"
          "                        new deployment is initialised (docs/trusted-time.md)\n"
          "  --insecure-host-time  at initialisation: accept the host's clock when there is no\n"
          "                        Roughtime quorum (reported as host-insecure)\n"
          "  --time-interval N     seconds between Roughtime rounds, 1..86400 (default 60)\n"
          "  --attestation-test-root 0x04...  sim only, for tests: also trust DCAP\n"
          "                        evidence signed by this test root (P-256 key); the\n"
          "                        core refuses to start with it on any other platform\n"
          "  --policy-sweep N      seconds between folding due key policy changes into their\n"
          "                        keys, 0..3600 (default 2; 0 = only when a key's policy is\n"
          "                        read; docs/policy.md)\n"
          "Governance, fixed when a deployment is initialised (refused afterwards):\n"
          "  --governor 0xADDR     a governor (Ethereum address); repeat for N <= 8\n"
          "  --threshold M         governor signatures an announcement needs (1..N, default 1)\n"
          "  --upgrade-delay S     seconds between announcing a core and its taking over\n"
          "                        (<= 31536000, default 0)\n"
          "  Without governors the deployment is a DEVELOPMENT deployment: any rebuilt core\n"
          "  takes over its keys at the next start, without announcement.\n");
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out) {
  if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 9) return -1;
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0' || v < min || v > max) return -1;
  *out = (unsigned)v;
  return 0;
}

/* Accepts "--opt value" and "--opt=value". Returns 0, 1 for --help, -1 on error. */
static int parse_opts(int argc, char **argv, serve_opts *o) {
  o->data_dir = "./var";
  o->listen = "127.0.0.1:8420";
  o->enclave = NULL;
  o->platform = "sim";
  o->test_root = NULL;
  o->workers = 4;
  o->pipelines = 1;
  o->http_threads = 1;
  o->max_connections = 1024;
  o->roughtime_config = NULL;
  o->insecure_host_time = 0;
  o->time_interval = 0;
  o->policy_sweep = TKMS_POLICY_SWEEP_MS / 1000;
  o->gov_given = 0;
  o->n_governors = 0;
  o->threshold = 0;
  o->upgrade_delay = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
    if (strcmp(a, "--insecure-host-time") == 0) {
      o->insecure_host_time = 1;
      continue;
    }
    static const char *const names[] = {
        "--data-dir",        "--listen",         "--workers",          "--enclave",
        "--max-connections", "--platform",       "--roughtime-config", "--time-interval",
        "--governor",        "--threshold",      "--upgrade-delay",    "--attestation-test-root",
        "--policy-sweep",    "--core-pipelines", "--http-threads"};
    const char *val = NULL;
    size_t k;
    for (k = 0; k < sizeof names / sizeof *names; k++) {
      size_t n = strlen(names[k]);
      if (strncmp(a, names[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
        if (a[n] == '=') {
          val = a + n + 1;
        } else if (i + 1 < argc) {
          val = argv[++i];
        }
        break;
      }
    }
    if (k == sizeof names / sizeof *names) {
      fprintf(stderr, "tkms serve: unknown option %s\n", a);
      return -1;
    }
    if (val == NULL || *val == '\0') {
      fprintf(stderr, "tkms serve: %s needs a value\n", names[k]);
      return -1;
    }
    switch (k) {
      case 0:
        o->data_dir = val;
        break;
      case 1:
        o->listen = val;
        break;
      case 2:
        if (parse_uint(val, 1, 56, &o->workers) != 0) {
          fprintf(stderr, "tkms serve: --workers must be 1..56\n");
          return -1;
        }
        break;
      case 3:
        o->enclave = val;
        break;
      case 4:
        if (parse_uint(val, 1, 1000000, &o->max_connections) != 0) {
          fprintf(stderr, "tkms serve: --max-connections must be 1..1000000\n");
          return -1;
        }
        break;
      case 5:
        /* the core checks the name against the platforms it was built with */
        if (strlen(val) > 31 ||
            strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(val)) {
          fprintf(stderr, "tkms serve: --platform takes a platform name such as sim or tpm2\n");
          return -1;
        }
        o->platform = val;
        break;
      case 6:
        o->roughtime_config = val;
        break;
      case 7:
        if (parse_uint(val, 1, 86400, &o->time_interval) != 0) {
          fprintf(stderr, "tkms serve: --time-interval must be 1..86400 seconds\n");
          return -1;
        }
        break;
      case 8: {
        uint8_t addr[20];
        if (tkms_hex_decode_exact(val, addr, sizeof addr) != 0) {
          fprintf(stderr, "tkms serve: --governor takes an address: 0x and 40 hex digits\n");
          return -1;
        }
        for (unsigned j = 0; j < o->n_governors; j++) {
          if (memcmp(o->governors[j], addr, 20) == 0) {
            fprintf(stderr, "tkms serve: --governor %s is given twice\n", val);
            return -1;
          }
        }
        if (o->n_governors == TKMS_GOV_MAX_GOVERNORS) {
          fprintf(stderr, "tkms serve: at most %u governors\n", TKMS_GOV_MAX_GOVERNORS);
          return -1;
        }
        memcpy(o->governors[o->n_governors++], addr, 20);
        o->gov_given = 1;
        break;
      }
      case 9:
        if (parse_uint(val, 1, TKMS_GOV_MAX_GOVERNORS, &o->threshold) != 0) {
          fprintf(stderr, "tkms serve: --threshold must be 1..%u\n", TKMS_GOV_MAX_GOVERNORS);
          return -1;
        }
        o->gov_given = 1;
        break;
      case 10: {
        unsigned d;
        if (parse_uint(val, 0, TKMS_GOV_MAX_DELAY, &d) != 0) {
          fprintf(stderr, "tkms serve: --upgrade-delay must be 0..%u seconds (1 year)\n",
                  TKMS_GOV_MAX_DELAY);
          return -1;
        }
        o->upgrade_delay = d;
        o->gov_given = 1;
        break;
      }
      case 11:
        if (strlen(val) != 132 || strncmp(val, "0x04", 4) != 0 ||
            strspn(val + 2, "0123456789abcdef") != 130) {
          fprintf(stderr,
                  "tkms serve: --attestation-test-root takes an uncompressed P-256 key, "
                  "0x04 + 128 lowercase hex\n");
          return -1;
        }
        o->test_root = val;
        break;
      case 12:
        if (parse_uint(val, 0, 3600, &o->policy_sweep) != 0) {
          fprintf(stderr, "tkms serve: --policy-sweep must be 0..3600 seconds\n");
          return -1;
        }
        break;
      case 13:
        if (parse_uint(val, 0, 8, &o->pipelines) != 0) {
          fprintf(stderr, "tkms serve: --core-pipelines must be 0..8\n");
          return -1;
        }
        break;
      case 14:
        if (parse_uint(val, 1, 16, &o->http_threads) != 0) {
          fprintf(stderr, "tkms serve: --http-threads must be 1..16\n");
          return -1;
        }
        break;
    }
  }
  if (o->test_root != NULL && strcmp(o->platform, "sim") != 0) {
    /* The core refuses too; saying it here gives the clearer message. */
    fprintf(stderr,
            "tkms serve: --attestation-test-root is accepted only on the sim platform "
            "(a test root on real hardware would let anyone forge evidence)\n");
    return -1;
  }
  if (o->n_governors == 0 && (o->threshold > 0 || o->upgrade_delay > 0)) {
    fprintf(stderr, "tkms serve: --threshold and --upgrade-delay need --governor\n");
    return -1;
  }
  if (o->threshold > o->n_governors) {
    fprintf(stderr, "tkms serve: --threshold %u is more than the %u governor(s)\n", o->threshold,
            o->n_governors);
    return -1;
  }
  if (o->max_connections < o->http_threads) {
    /* MHD splits the limit across its threads; each needs at least one. */
    fprintf(stderr, "tkms serve: --max-connections must be at least --http-threads\n");
    return -1;
  }
  return 0;
}

/* tkms-enclave in the directory of the running executable. */
static int default_enclave(char *out, size_t cap) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  int r = snprintf(out, cap, "%s/tkms-enclave", dirname(self));
  return (r < 0 || (size_t)r >= cap) ? -1 : 0;
}

/* Creates the data directory (0700) if needed and takes an exclusive lock on
 * it: two hosts on one directory would run two cores over one sealed state. */
static int lock_data_dir(const char *dir) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "tkms: cannot create %s: %s\n", dir, strerror(errno));
    return -1;
  }
  char path[PATH_MAX];
  int r = snprintf(path, sizeof path, "%s/tkms-host.lock", dir);
  if (r < 0 || (size_t)r >= sizeof path) return -1;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "tkms: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    fprintf(stderr, "tkms: another tkms serve is using %s\n", dir);
    close(fd);
    return -1;
  }
  return fd;
}

/* The host part of HOST:PORT as given, for the "listening" line. */
static void listen_host(const char *spec, char *out, size_t cap) {
  const char *end = spec[0] == '[' ? strchr(spec, ']') : strrchr(spec, ':');
  size_t n = end ? (size_t)(end - spec) + (spec[0] == '[') : strlen(spec);
  if (n >= cap) n = cap - 1;
  memcpy(out, spec, n);
  out[n] = '\0';
}

int tkms_serve_main(int argc, char **argv) {
  serve_opts o;
  int pr = parse_opts(argc, argv, &o);
  if (pr != 0) {
    usage(pr > 0 ? stdout : stderr);
    return pr > 0 ? 0 : 1;
  }
  char enclave[PATH_MAX];
  if (o.enclave == NULL) {
    if (default_enclave(enclave, sizeof enclave) != 0) {
      fprintf(stderr, "tkms: cannot locate tkms-enclave; use --enclave PATH\n");
      return 1;
    }
    o.enclave = enclave;
  }
  umask(077); /* the store holds sealed blobs: owner-only */

  /* Signals: ignore SIGPIPE (a client or the core may vanish mid-write) and
   * block the stop signals in every thread; this thread waits for them. The
   * mask must be set before any thread is created so all inherit it. */
  struct sigaction ign;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, NULL);
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, &old);

  int status = 1;
  tkms_time_relay *relay = NULL;
  uint8_t rtcfg[1100];
  size_t rtcfg_len = 0;
  if ((o.roughtime_config != NULL || o.insecure_host_time) &&
      tkms_rt_config_load(o.roughtime_config, o.insecure_host_time, rtcfg, sizeof rtcfg,
                          &rtcfg_len) != 0) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 1;
  }
  tkms_store *store = NULL;
  tkms_core *core = NULL;
  tkms_http *http = NULL;
  tkms_policy_sweep *sweep = NULL;
  int lock = lock_data_dir(o.data_dir);
  if (lock < 0) goto out;
  /* one connection per HTTP worker, plus the supervisor's and the policy sweep's */
  if (tkms_store_open(o.data_dir, o.workers + o.http_threads + 2, &store) != TKMS_STORE_OK) {
    fprintf(stderr, "tkms: cannot open the store in %s\n", o.data_dir);
    goto out;
  }
  tkms_core_config cc = {.enclave_path = o.enclave,
                         .data_dir = o.data_dir,
                         .platform = o.platform,
                         .attestation_test_root = o.test_root,
                         .channels = o.workers,
                         .pipes = o.pipelines,
                         .store = store,
                         .rt_config = rtcfg_len > 0 ? rtcfg : NULL,
                         .rt_config_len = rtcfg_len,
                         .gov_given = o.gov_given,
                         .n_governors = o.n_governors,
                         .threshold = o.threshold,
                         .upgrade_delay = o.upgrade_delay};
  memcpy(cc.governors, o.governors, sizeof cc.governors);
  int cs = tkms_core_start(&cc, &core);
  if (cs != TKMS_CORE_START_OK) {
    status = cs;
    goto out;
  }
  /* Trusted time: relays the core's Roughtime datagrams (a no-op for a
   * deployment without Roughtime servers). */
  if (tkms_time_relay_start(core, o.time_interval, &relay) != 0)
    fprintf(stderr, "tkms: cannot start the Roughtime relay thread\n");
  tkms_host host = {.store = store, .core = core};
  tkms_http_config hc = {.listen = o.listen,
                         .http_threads = o.http_threads,
                         .workers = o.workers,
                         .max_connections = o.max_connections,
                         .host = &host};
  unsigned port = 0;
  if (tkms_access_log_start() != 0) fprintf(stderr, "tkms: access log unbatched (no thread)\n");
  if (tkms_http_start(&hc, &http, &port) != 0) goto out;
  /* Due policy changes are folded into their keys (docs/policy.md). */
  if (o.policy_sweep > 0 && tkms_policy_sweep_start(&host, o.policy_sweep * 1000u, &sweep) != 0)
    fprintf(stderr, "tkms: no policy sweep thread: due policy changes are materialised on read\n");

  tkms_core_info info;
  tkms_core_info_get(core, &info);
  char hostpart[300];
  listen_host(o.listen, hostpart, sizeof hostpart);
  if (info.gov_mode == TKMS_GOV_MODE_PRODUCTION) {
    fprintf(stderr,
            "tkms: production deployment: %u-of-%u governors, upgrade delay %llu s (a new core "
            "takes over only after it is announced and the delay has passed)\n",
            info.threshold, info.n_governors, (unsigned long long)info.upgrade_delay);
  } else {
    fprintf(stderr,
            "tkms: DEVELOPMENT DEPLOYMENT%s: no governors and no upgrade delay. Any rebuilt core "
            "takes over these keys at the next start, without announcement. For production, "
            "initialise a new deployment with --governor 0xADDR ... --threshold M "
            "--upgrade-delay SECONDS.\n",
            info.gov_mode == TKMS_GOV_MODE_LEGACY ? " (made before governance existed)" : "");
  }
  printf("tkms: listening on http://%s:%u (platform %s%s)\n", hostpart, port, info.platform,
         info.simulated ? ", SIMULATED" : "");
  fflush(stdout);

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  fprintf(stderr, "tkms: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  status = tkms_core_fatal(core);
out:
  /* Order: stop taking requests (in-flight ones finish), then the core, then
   * the store. */
  tkms_http_stop(http);
  tkms_policy_sweep_stop(sweep);
  tkms_access_log_stop(); /* after the workers: flushes their last lines */
  tkms_time_relay_stop(relay);
  tkms_core_stop(core);
  tkms_store_close(store);
  if (lock >= 0) close(lock);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return status;
}
