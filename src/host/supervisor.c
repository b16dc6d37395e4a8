/* src/host/supervisor.c — the trusted core's process lifecycle: spawn it on N
 * socketpairs, initialise or load it from the store, restart it when it dies.
 *
 * Start-up mode is decided from the store, every time:
 *   no sealed DMK, no records, no manifest -> `--init`, INIT, store DMK +
 *                                             manifest (+records) in one tx, COMMIT
 *   sealed DMK present                      -> LOAD_DMK, LOAD_RECORDS*, LOAD_END
 *   records or manifest but no DMK          -> refuse: never re-initialise over data
 * A core that answers UNSEAL / ROLLBACK / TAMPERED is never retried: the host
 * prints the core's reason and exits with status 2.
 *
 * Upgrades (core/governance.h, docs/upgrades.md): after every successful start
 * the host keeps a copy of the core binary in DATA/cores/<measurement>/ and
 * notes that measurement in the store (meta "core.measurement"). A core that
 * cannot unseal the DMK because its measurement changed is not the end: the
 * host starts the kept previous core beside it (--migrate-source, counters
 * read-only) and carries MIGRATE_NONCE / OFFER / EXPORT / IMPORT between them;
 * the old core decides (development deployment, or an announcement whose
 * time-lock has passed) and the new one seals the DMK for itself. That part
 * is in migration.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <limits.h>
#include <sys/stat.h>

#include "host/core_priv.h"
#include "host/mutation.h"
#include "host/supervisor_priv.h"
#include "host/time_relay.h"
#include "proto/hex.h"
#include "proto/ops.h"

#define MAX_CHANNELS 64u
#define LOAD_BATCH (1024u * 1024u) /* bytes of records per LOAD_RECORDS frame */
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define STABLE_S 30 /* a core that ran this long resets the backoff */
#define START_ATTEMPTS 3u

/* ---- spawning ---------------------------------------------------------------- */

/* Child side between fork and exec: async-signal-safe calls only. Moves the
 * child socket ends to fds 3..3+n-1 (CLOEXEC cleared by dup2), closes every
 * other descriptor and executes the core. Never returns. */
static void child_exec(const int *child_fds, unsigned n, int errfd, char *const argv[]) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, NULL); /* the host ignores SIGPIPE; the core decides itself */
  int e;
  /* Its own process group: a terminal's Ctrl-C reaches the host, which stops
   * the core in order; PR_SET_DEATHSIG in the core covers the host dying. */
  setpgid(0, 0);
  /* stdout belongs to the host (tests parse its "listening" line). */
  if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) goto fail;
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0) goto fail;
  /* Move everything we keep above the target range first, so a dup2 into
   * 3..3+n-1 cannot clobber a descriptor we still need. */
  int hi = 3 + (int)n;
  int tmp[MAX_CHANNELS];
  errfd = fcntl(errfd, F_DUPFD_CLOEXEC, hi);
  if (errfd < 0) goto fail;
  for (unsigned i = 0; i < n; i++) {
    tmp[i] = fcntl(child_fds[i], F_DUPFD_CLOEXEC, hi);
    if (tmp[i] < 0) goto fail;
  }
  for (unsigned i = 0; i < n; i++) {
    if (dup2(tmp[i], 3 + (int)i) < 0) goto fail;
  }
  /* Close all else (errfd is CLOEXEC and closes on a successful exec). */
  if (hi < errfd) close_range((unsigned)hi, (unsigned)errfd - 1, 0);
  close_range((unsigned)errfd + 1, ~0u, 0);
  execv(argv[0], argv);
fail:
  e = errno;
  if (write(errfd, &e, sizeof e) < 0) {
  }
  _exit(127);
}

/* Spawns the core with fresh socketpairs. On success the host ends are in the
 * channels and c->pid is set. Returns 0 or -1 (message printed). */
int tkms_sup_spawn(tkms_core *c, const char *mode_flag) {
  int host_fds[MAX_CHANNELS], child_fds[MAX_CHANNELS];
  unsigned made = 0;
  int errpipe[2] = {-1, -1};
  int rc = -1;
  unsigned total = c->n + c->n_pipes;
  for (; made < total; made++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      fprintf(stderr, "tkms: socketpair: %s\n", strerror(errno));
      goto out;
    }
    host_fds[made] = sv[0];
    child_fds[made] = sv[1];
    if (tkms_chan_set_timeouts(sv[0]) != 0) {
      made++;
      goto out;
    }
  }
  if (pipe2(errpipe, O_CLOEXEC) != 0) goto out;
  char workers[16];
  snprintf(workers, sizeof workers, "%u", total);
  char *argv[12] = {c->enclave_path, "--data-dir", c->data_dir, "--workers",
                    workers,         "--platform", c->platform};
  int argc = 7;
  if (mode_flag != NULL) argv[argc++] = (char *)mode_flag;
  if (c->test_root != NULL) {
    argv[argc++] = "--attestation-test-root";
    argv[argc++] = c->test_root;
  }
  argv[argc] = NULL;
  pthread_mutex_lock(&c->state_mu);
  if (atomic_load(&c->stopping)) {
    pthread_mutex_unlock(&c->state_mu);
    goto out;
  }
  pid_t pid = fork();
  if (pid == 0) child_exec(child_fds, total, errpipe[1], argv);
  if (pid < 0) {
    pthread_mutex_unlock(&c->state_mu);
    fprintf(stderr, "tkms: fork: %s\n", strerror(errno));
    goto out;
  }
  c->pid = pid;
  pthread_mutex_unlock(&c->state_mu);
  close(errpipe[1]);
  errpipe[1] = -1;
  int e;
  ssize_t r;
  do r = read(errpipe[0], &e, sizeof e);
  while (r < 0 && errno == EINTR);
  if (r == (ssize_t)sizeof e) {
    fprintf(stderr, "tkms: cannot run the core %s: %s\n", c->enclave_path, strerror(e));
    /* leave the child to the caller's waitid */
    goto out;
  }
  for (unsigned i = 0; i < c->n; i++) {
    pthread_mutex_lock(&c->chans[i].mu);
    c->chans[i].fd = host_fds[i];
    c->chans[i].seq = 0;
    pthread_mutex_unlock(&c->chans[i].mu);
    host_fds[i] = -1;
  }
  for (unsigned i = 0; i < c->n_pipes; i++) {
    tkms_pipe_attach(&c->pipes[i], host_fds[c->n + i]);
    host_fds[c->n + i] = -1;
  }
  rc = 0;
out:
  for (unsigned i = 0; i < made; i++) {
    if (rc != 0 && host_fds[i] >= 0) close(host_fds[i]);
    close(child_fds[i]);
  }
  if (errpipe[0] >= 0) close(errpipe[0]);
  if (errpipe[1] >= 0) close(errpipe[1]);
  return rc;
}

/* Waits for the child to exit and reaps it. The pid is cleared before reaping
 * so tkms_core_mark_failed() can never signal a recycled pid. */
static void wait_child(tkms_core *c) {
  pthread_mutex_lock(&c->state_mu);
  pid_t pid = c->pid;
  pthread_mutex_unlock(&c->state_mu);
  if (pid <= 0) return;
  siginfo_t si;
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  pthread_mutex_lock(&c->state_mu);
  c->pid = 0;
  pthread_mutex_unlock(&c->state_mu);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!atomic_load(&c->stopping)) {
    if (WIFSIGNALED(status))
      fprintf(stderr, "tkms: core exited on signal %d\n", WTERMSIG(status));
    else
      fprintf(stderr, "tkms: core exited with status %d\n", WEXITSTATUS(status));
  }
}

/* Closes the host ends. shutdown() first wakes any thread blocked reading. */
static void drop_channels(tkms_core *c) {
  for (unsigned i = 0; i < c->n; i++) {
    if (c->chans[i].fd >= 0) shutdown(c->chans[i].fd, SHUT_RDWR);
  }
  for (unsigned i = 0; i < c->n; i++) {
    pthread_mutex_lock(&c->chans[i].mu);
    if (c->chans[i].fd >= 0) close(c->chans[i].fd);
    c->chans[i].fd = -1;
    pthread_mutex_unlock(&c->chans[i].mu);
  }
  tkms_pipes_drop(c);
}

/* ---- start-up protocol ------------------------------------------------------- */

/* One exchange during start-up. Returns START_OK with rep filled and status
 * OK; START_REFUSED when the core refused (message printed); START_RETRY on
 * transport failure. */
int tkms_sup_call(tkms_chan *ch, tkms_fw *w, tkms_reply *rep, const char *what) {
  if (tkms_fw_finish(w) != 0) {
    fprintf(stderr, "tkms: %s: frame too large\n", what);
    return START_REFUSED;
  }
  if (tkms_core_call(ch, w, rep) != 0) {
    fprintf(stderr, "tkms: %s: the core stopped answering\n", what);
    return START_RETRY;
  }
  if (rep->f.status == TKMS_OK) return START_OK;
  char msg[512];
  tkms_reply_errmsg(rep, msg, sizeof msg);
  fprintf(stderr, "tkms: %s refused by the core (status %u): %s\n", what, rep->f.status,
          msg[0] ? msg : "(no reason given)");
  int st = rep->f.status;
  tkms_reply_free(rep);
  return (st == TKMS_E_BUSY || st == TKMS_E_NOT_READY) ? START_RETRY : START_REFUSED;
}

typedef struct {
  tkms_chan *ch;
  tkms_fw w;
  int open;
  uint8_t *scratch;
  size_t scratch_cap;
  int rc;
  unsigned long long sent;
} loader;

static int flush_batch(loader *l) {
  if (!l->open) return 0;
  tkms_reply rep;
  l->open = 0;
  int rc = tkms_sup_call(l->ch, &l->w, &rep, "LOAD_RECORDS");
  tkms_fw_free(&l->w);
  if (rc == START_OK) tkms_reply_free(&rep);
  return rc;
}

/* Store callback: append one record encoding to the current LOAD_RECORDS frame. */
static int load_one(void *ctx, const tkms_store_record *r) {
  loader *l = ctx;
  size_t n = 2u + r->id_len + 4u + r->blob_len;
  if (n + TKMS_FIELD_HEADER + TKMS_FRAME_HEADER > TKMS_FRAME_MAX) {
    fprintf(stderr, "tkms: a stored record is too large to load\n");
    return l->rc = START_REFUSED;
  }
  if (l->open && l->w.len + TKMS_FIELD_HEADER + n > LOAD_BATCH) {
    if ((l->rc = flush_batch(l)) != START_OK) return l->rc;
  }
  if (!l->open) {
    if (tkms_fw_init(&l->w, TKMS_OP_LOAD_RECORDS, 0, 0) != 0) return l->rc = START_RETRY;
    l->open = 1;
  }
  if (n > l->scratch_cap) {
    uint8_t *s = malloc(n);
    if (s == NULL) return l->rc = START_RETRY;
    if (l->scratch) {
      explicit_bzero(l->scratch, l->scratch_cap);
      free(l->scratch);
    }
    l->scratch = s;
    l->scratch_cap = n;
  }
  l->scratch[0] = r->type;
  l->scratch[1] = r->id_len;
  memcpy(l->scratch + 2, r->id, r->id_len);
  tkms_be32_put(l->scratch + 2 + r->id_len, r->version);
  if (r->blob_len) memcpy(l->scratch + 6 + r->id_len, r->blob, r->blob_len);
  tkms_fw_bytes(&l->w, TKMS_F_REC, l->scratch, n);
  l->sent++;
  return 0;
}

/* LOAD_DMK. Returns START_OK, START_REFUSED / START_RETRY, or TKMS_E_UNSEAL
 * (negated, nothing printed) when may_migrate and the core cannot unseal. */
static int load_dmk(tkms_core *c, tkms_chan *ch, int may_migrate) {
  uint8_t *v = NULL;
  size_t n = 0;
  tkms_fw w;
  tkms_reply rep;
  if (tkms_store_meta_get(c->store, TKMS_STORE_META_DMK, &v, &n) != TKMS_STORE_OK) {
    fprintf(stderr, "tkms: cannot read the sealed DMK from the store\n");
    return START_RETRY;
  }
  if (tkms_fw_init(&w, TKMS_OP_LOAD_DMK, 0, 0) != 0) {
    tkms_store_free(v, n);
    return START_RETRY;
  }
  tkms_fw_bytes(&w, TKMS_F_DMK, v, n);
  tkms_store_free(v, n);
  if (may_migrate) {
    if (tkms_fw_finish(&w) != 0) {
      tkms_fw_free(&w);
      return START_REFUSED;
    }
    int r = tkms_core_call(ch, &w, &rep);
    tkms_fw_free(&w);
    if (r != 0) {
      fprintf(stderr, "tkms: LOAD_DMK: the core stopped answering\n");
      return START_RETRY;
    }
    if (rep.f.status == TKMS_E_UNSEAL) {
      tkms_reply_free(&rep);
      return -TKMS_E_UNSEAL;
    }
    if (rep.f.status == TKMS_OK) {
      tkms_reply_free(&rep);
      return START_OK;
    }
    char msg[512];
    tkms_reply_errmsg(&rep, msg, sizeof msg);
    fprintf(stderr, "tkms: LOAD_DMK refused by the core (status %u): %s\n", rep.f.status, msg);
    tkms_reply_free(&rep);
    return START_REFUSED;
  }
  int rc = tkms_sup_call(ch, &w, &rep, "LOAD_DMK");
  tkms_fw_free(&w);
  if (rc == START_OK) tkms_reply_free(&rep);
  return rc;
}

/* LOAD_RECORDS* and LOAD_END. */
static int load_rest(tkms_core *c, tkms_chan *ch) {
  uint8_t *v = NULL;
  size_t n = 0;
  tkms_fw w;
  tkms_reply rep;
  int rc;
  loader l = {.ch = ch, .rc = START_OK};
  int src = tkms_store_load_records(c->store, load_one, &l);
  if (src == 0 && l.rc == START_OK) l.rc = flush_batch(&l);
  if (l.open) tkms_fw_free(&l.w);
  if (l.scratch) {
    explicit_bzero(l.scratch, l.scratch_cap);
    free(l.scratch);
  }
  if (l.rc != START_OK) return l.rc;
  if (src != TKMS_STORE_OK) {
    fprintf(stderr, "tkms: cannot read the sealed records from the store\n");
    return START_RETRY;
  }

  if (tkms_fw_init(&w, TKMS_OP_LOAD_END, 0, 0) != 0) return START_RETRY;
  src = tkms_store_meta_get(c->store, TKMS_STORE_META_MANIFEST, &v, &n);
  if (src == TKMS_STORE_OK) {
    tkms_fw_bytes(&w, TKMS_F_MANIFEST, v, n);
    tkms_store_free(v, n);
  } else if (src != TKMS_STORE_NOTFOUND) {
    tkms_fw_free(&w);
    return START_RETRY;
  }
  rc = tkms_sup_call(ch, &w, &rep, "LOAD_END");
  tkms_fw_free(&w);
  if (rc == START_OK) tkms_reply_free(&rep);
  return rc;
}

/* Sends a finished lifecycle mutation (INIT, MIGRATE_FINISH) through the two-phase
 * path and reports a refusal or failure under what. A failure of the store or
 * channel is fail_rc (retry for INIT; a half-done migration is not retried). */
static int lifecycle_mutate(tkms_core *c, tkms_chan *ch, tkms_fw *w, const char *what,
                            int fail_rc) {
  tkms_reply rep;
  tkms_resp resp = {0};
  if (tkms_fw_finish(w) != 0) {
    tkms_fw_free(w);
    return START_RETRY;
  }
  int r = tkms_mutate(ch, c->store, w, NULL, NULL, &rep, &resp);
  tkms_fw_free(w);
  int rc = START_OK;
  if (r == TKMS_MUT_REFUSED) {
    char msg[512];
    tkms_reply_errmsg(&rep, msg, sizeof msg);
    fprintf(stderr, "tkms: %s refused by the core (status %u): %s\n", what, rep.f.status,
            msg[0] ? msg : "(no reason given)");
    rc = START_REFUSED;
  } else if (r != TKMS_MUT_OK) {
    fprintf(stderr, "tkms: %s failed: %s\n", what, resp.body ? resp.body : "?");
    rc = fail_rc;
  }
  tkms_reply_free(&rep);
  tkms_resp_clear(&resp);
  return rc;
}

/* After a migration: the successor records itself as the deployment's holder
 * (a counter-moving mutation) before it serves anything. */
static int migrate_finish(tkms_core *c, tkms_chan *ch) {
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_MIGRATE_FINISH, 0, 0) != 0) return START_RETRY;
  return lifecycle_mutate(c, ch, &w, "MIGRATE_FINISH", START_REFUSED);
}

int tkms_sup_load(tkms_core *c, tkms_chan *ch) {
  int rc = load_dmk(c, ch, !c->migrate_source), migrated = 0;
  if (rc == -TKMS_E_UNSEAL) {
    rc = tkms_sup_migrate(c, ch);
    migrated = rc == START_OK;
  }
  if (rc != START_OK) return rc;
  rc = load_rest(c, ch);
  if (rc == START_OK && migrated) rc = migrate_finish(c, ch);
  return rc;
}

static int do_init(tkms_core *c, tkms_chan *ch) {
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_INIT, 0, 0) != 0) return START_RETRY;
  /* Trusted time: the Roughtime servers are sealed with the new deployment. */
  if (c->rt_config != NULL) tkms_fw_bytes(&w, TKMS_F_RT_CONFIG, c->rt_config, c->rt_config_len);
  for (unsigned i = 0; i < c->cfg.n_governors; i++)
    tkms_fw_bytes(&w, TKMS_F_GOVERNOR, c->cfg.governors[i], 20);
  if (c->cfg.threshold > 0) tkms_fw_u32(&w, TKMS_F_GOV_THRESHOLD, c->cfg.threshold);
  if (c->cfg.upgrade_delay > 0) tkms_fw_u64(&w, TKMS_F_GOV_DELAY, c->cfg.upgrade_delay);
  return lifecycle_mutate(c, ch, &w, "INIT", START_RETRY);
}

/* GOV_STATUS into info. A core built before governance existed does not know
 * the op (BAD_REQUEST): its deployment counts as a development one. */
static int gov_status(tkms_chan *ch, tkms_core_info *info) {
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_GOV_STATUS, 0, 0) != 0) return START_RETRY;
  if (tkms_fw_finish(&w) != 0) {
    tkms_fw_free(&w);
    return START_RETRY;
  }
  int r = tkms_core_call(ch, &w, &rep);
  tkms_fw_free(&w);
  if (r != 0) {
    fprintf(stderr, "tkms: GOV_STATUS: the core stopped answering\n");
    return START_RETRY;
  }
  int rc = START_OK;
  uint32_t mode = 0, m = 0;
  uint64_t delay = 0;
  if (rep.f.status == TKMS_E_BAD_REQUEST) {
    info->gov_mode = TKMS_GOV_MODE_LEGACY; /* an older core */
  } else if (rep.f.status != TKMS_OK || tkms_frame_get_u32(&rep.f, TKMS_F_GOV_MODE, &mode) != 0 ||
             tkms_frame_get_u32(&rep.f, TKMS_F_GOV_THRESHOLD, &m) != 0 ||
             tkms_frame_get_u64(&rep.f, TKMS_F_GOV_DELAY, &delay) != 0) {
    fprintf(stderr, "tkms: GOV_STATUS: the core's answer lacks required fields\n");
    rc = START_REFUSED;
  } else {
    info->gov_mode = (int)mode;
    info->n_governors = (unsigned)tkms_frame_count(&rep.f, TKMS_F_GOVERNOR);
    info->threshold = m;
    info->upgrade_delay = delay;
  }
  tkms_reply_free(&rep);
  return rc;
}

/* STATUS after start-up: the core must be ready; remember who it is. */
static int do_status(tkms_core *c, tkms_chan *ch) {
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_STATUS, 0, 0) != 0) return START_RETRY;
  int rc = tkms_sup_call(ch, &w, &rep, "STATUS");
  tkms_fw_free(&w);
  if (rc != START_OK) return rc;
  tkms_core_info info;
  memset(&info, 0, sizeof info);
  uint32_t sim = 0, state = 0;
  if (tkms_frame_get_str(&rep.f, TKMS_F_PLATFORM, info.platform, sizeof info.platform - 1) != 0 ||
      tkms_frame_get_u32(&rep.f, TKMS_F_SIMULATED, &sim) != 0 ||
      tkms_frame_get_u32(&rep.f, TKMS_F_STATE, &state) != 0 ||
      tkms_frame_get_fixed(&rep.f, TKMS_F_MEASUREMENT, info.measurement, 32) != 0) {
    fprintf(stderr, "tkms: STATUS: the core's answer lacks required fields\n");
    rc = START_REFUSED;
  } else if (state != TKMS_STATE_READY) {
    fprintf(stderr, "tkms: the core is not ready after start-up (state %u)\n", state);
    rc = START_REFUSED;
  } else {
    info.simulated = sim != 0;
    if (tkms_frame_get_str(&rep.f, TKMS_F_CORE_VERSION, info.core_version,
                           sizeof info.core_version - 1) != 0)
      strcpy(info.core_version, "unknown");
    info.has_deployment = tkms_frame_get_fixed(&rep.f, TKMS_F_DEPLOY_SALT, info.salt, 32) == 0 &&
                          tkms_frame_get_fixed(&rep.f, TKMS_F_IDENTITY, info.identity, 20) == 0;
  }
  tkms_reply_free(&rep);
  if (rc == START_OK && !c->migrate_source) rc = gov_status(ch, &info);
  if (rc == START_OK) {
    pthread_mutex_lock(&c->state_mu);
    c->info = info;
    pthread_mutex_unlock(&c->state_mu);
  }
  return rc;
}

/* Decides the mode from the store, spawns the core and brings it to ready. */
static int launch(tkms_core *c) {
  uint8_t *v = NULL;
  size_t n = 0;
  uint64_t nrec = 0;
  int dmk = tkms_store_meta_get(c->store, TKMS_STORE_META_DMK, &v, &n);
  if (dmk == TKMS_STORE_OK) tkms_store_free(v, n);
  int man = tkms_store_meta_get(c->store, TKMS_STORE_META_MANIFEST, &v, &n);
  if (man == TKMS_STORE_OK) tkms_store_free(v, n);
  if ((dmk != TKMS_STORE_OK && dmk != TKMS_STORE_NOTFOUND) ||
      (man != TKMS_STORE_OK && man != TKMS_STORE_NOTFOUND) ||
      tkms_store_count_records(c->store, &nrec) != TKMS_STORE_OK) {
    fprintf(stderr, "tkms: cannot read the store\n");
    return START_RETRY;
  }
  int init = dmk == TKMS_STORE_NOTFOUND;
  if (init && (nrec > 0 || man == TKMS_STORE_OK)) {
    fprintf(stderr,
            "tkms: the store in %s holds %llu sealed records%s but no sealed deployment master "
            "key; refusing to start (restore the complete data directory; tkms never "
            "re-initialises over existing data)\n",
            c->data_dir, (unsigned long long)nrec, man == TKMS_STORE_OK ? " and a manifest" : "");
    return START_REFUSED;
  }
  if (!init && c->rt_config != NULL && !c->rt_config_noted) {
    c->rt_config_noted = 1;
    fprintf(stderr,
            "tkms: --roughtime-config / --insecure-host-time apply only when a deployment "
            "is initialised; this one uses the time configuration sealed at its "
            "initialisation\n");
  }
  if (!init && c->cfg.gov_given) {
    fprintf(stderr,
            "tkms: --governor, --threshold and --upgrade-delay apply only when a deployment is "
            "initialised; %s already holds one, whose governance is fixed. Start it without "
            "them (GET /v1/governance or `tkms governance status` shows its governance)\n",
            c->data_dir);
    return START_REFUSED;
  }
  if (tkms_sup_spawn(c, init ? "--init" : NULL) != 0) return START_RETRY;
  tkms_chan *ch = &c->chans[0];
  tkms_chan_lock(ch);
  int rc = init ? do_init(c, ch) : tkms_sup_load(c, ch);
  if (rc == START_OK) rc = do_status(c, ch);
  tkms_core_release(ch);
  if (rc == START_OK && init)
    fprintf(stderr, "tkms: initialised a new deployment in %s\n", c->data_dir);
  if (rc == START_OK) tkms_sup_keep_core(c);
  return rc;
}

/* Stops a child that failed start-up and collects it. */
void tkms_sup_kill_and_reap(tkms_core *c) {
  pthread_mutex_lock(&c->state_mu);
  if (c->pid > 0) kill(c->pid, SIGKILL);
  pthread_mutex_unlock(&c->state_mu);
  drop_channels(c);
  wait_child(c);
}

/* ---- supervision ------------------------------------------------------------- */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms unless stop is requested. Returns 1 if stopping. */
static int backoff_sleep(tkms_core *c, unsigned ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&c->state_mu);
  while (!atomic_load(&c->stopping)) {
    if (pthread_cond_timedwait(&c->wake, &c->state_mu, &ts) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&c->state_mu);
  return atomic_load(&c->stopping);
}

static void *supervise(void *arg) {
  tkms_core *c = arg;
  unsigned backoff = BACKOFF_MIN_MS;
  long long started = now_ms();
  for (;;) {
    wait_child(c);
    atomic_store(&c->available, 0);
    drop_channels(c);
    if (atomic_load(&c->stopping)) break;
    if (now_ms() - started > STABLE_S * 1000LL) backoff = BACKOFF_MIN_MS;
    for (;;) {
      fprintf(stderr, "tkms: restarting the core in %u ms\n", backoff);
      if (backoff_sleep(c, backoff)) return NULL;
      int rc = launch(c);
      if (rc == START_OK) {
        started = now_ms();
        atomic_store(&c->available, 1);
        fprintf(stderr, "tkms: core restarted and reloaded; available\n");
        break;
      }
      tkms_sup_kill_and_reap(c);
      if (atomic_load(&c->stopping)) return NULL;
      if (rc == START_REFUSED) {
        fprintf(stderr, "tkms: the restarted core refused the stored state; stopping\n");
        atomic_store(&c->fatal, TKMS_CORE_START_REFUSED);
        kill(getpid(), SIGTERM); /* serve's sigwait() turns this into a clean stop */
        return NULL;
      }
      backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
  }
  return NULL;
}

void tkms_sup_free(tkms_core *c) {
  tkms_pipes_drop(c);
  for (unsigned i = 0; i < c->n_pipes; i++) {
    pthread_mutex_destroy(&c->pipes[i].wmu);
    pthread_mutex_destroy(&c->pipes[i].qmu);
    pthread_cond_destroy(&c->pipes[i].cv);
  }
  free(c->pipes);
  if (c->chans) {
    for (unsigned i = 0; i < c->n; i++) pthread_mutex_destroy(&c->chans[i].mu);
  }
  free(c->chans);
  free(c->enclave_path);
  free(c->data_dir);
  free(c->platform);
  free(c->rt_config);
  free(c->test_root);
  pthread_cond_destroy(&c->wake);
  pthread_mutex_destroy(&c->state_mu);
  free(c);
}

tkms_core *tkms_sup_alloc(const char *enclave, const char *data_dir, const char *platform,
                          unsigned n, unsigned n_pipes, tkms_store *store) {
  tkms_core *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  pthread_mutex_init(&c->state_mu, NULL);
  pthread_cond_init(&c->wake, NULL);
  c->n = n;
  c->store = store;
  c->enclave_path = strdup(enclave);
  c->data_dir = strdup(data_dir);
  c->platform = strdup(platform != NULL ? platform : "sim");
  c->chans = calloc(c->n, sizeof *c->chans);
  c->pipes = n_pipes > 0 ? calloc(n_pipes, sizeof *c->pipes) : NULL;
  if (!c->enclave_path || !c->data_dir || !c->platform || !c->chans || (n_pipes > 0 && !c->pipes)) {
    tkms_sup_free(c);
    return NULL;
  }
  c->n_pipes = n_pipes;
  for (unsigned i = 0; i < n_pipes; i++) {
    pthread_mutex_init(&c->pipes[i].wmu, NULL);
    pthread_mutex_init(&c->pipes[i].qmu, NULL);
    pthread_cond_init(&c->pipes[i].cv, NULL);
    c->pipes[i].fd = -1;
    c->pipes[i].rd_fd = -1;
    c->pipes[i].core = c;
  }
  for (unsigned i = 0; i < c->n; i++) {
    pthread_mutex_init(&c->chans[i].mu, NULL);
    c->chans[i].fd = -1;
    c->chans[i].core = c;
  }
  return c;
}

int tkms_core_start(const tkms_core_config *cfg, tkms_core **out) {
  if (cfg->channels == 0 || cfg->pipes > TKMS_MAX_PIPES ||
      cfg->channels + cfg->pipes > MAX_CHANNELS || cfg->store == NULL ||
      cfg->n_governors > TKMS_GOV_MAX_GOVERNORS)
    return TKMS_CORE_START_FAILED;
  tkms_core *c = tkms_sup_alloc(cfg->enclave_path, cfg->data_dir, cfg->platform, cfg->channels,
                                cfg->pipes, cfg->store);
  if (c == NULL) return TKMS_CORE_START_FAILED;
  c->cfg = *cfg;
  c->cfg.enclave_path = c->cfg.data_dir = c->cfg.platform = NULL;
  c->cfg.rt_config = NULL; /* copied below; the caller's buffer is not kept */
  c->cfg.attestation_test_root = NULL;
  if (cfg->attestation_test_root != NULL &&
      (c->test_root = strdup(cfg->attestation_test_root)) == NULL) {
    tkms_sup_free(c);
    return TKMS_CORE_START_FAILED;
  }
  if (cfg->rt_config != NULL && cfg->rt_config_len > 0) {
    c->rt_config = malloc(cfg->rt_config_len);
    if (c->rt_config == NULL) {
      tkms_sup_free(c);
      return TKMS_CORE_START_FAILED;
    }
    memcpy(c->rt_config, cfg->rt_config, cfg->rt_config_len);
    c->rt_config_len = cfg->rt_config_len;
  }
  if (access(c->enclave_path, X_OK) != 0) {
    fprintf(stderr, "tkms: cannot run the core %s: %s\n", c->enclave_path, strerror(errno));
    tkms_sup_free(c);
    return TKMS_CORE_START_FAILED;
  }
  /* A core that crashed during start-up is retried like one that crashed
   * later; a core that refused the stored state is not. */
  int rc = START_RETRY;
  for (unsigned attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      fprintf(stderr, "tkms: starting the core again (attempt %u of %u)\n", attempt + 1,
              START_ATTEMPTS);
      struct timespec ts = {0, (long)(BACKOFF_MIN_MS << attempt) * 1000000L};
      nanosleep(&ts, NULL);
    }
    rc = launch(c);
    if (rc == START_OK) break;
    tkms_sup_kill_and_reap(c);
    if (rc == START_REFUSED) break;
  }
  if (rc != START_OK) {
    atomic_store(&c->stopping, 1);
    tkms_sup_free(c);
    return rc == START_REFUSED ? TKMS_CORE_START_REFUSED : TKMS_CORE_START_FAILED;
  }
  atomic_store(&c->available, 1);
  if (pthread_create(&c->thread, NULL, supervise, c) != 0) {
    atomic_store(&c->stopping, 1);
    tkms_sup_kill_and_reap(c);
    tkms_sup_free(c);
    return TKMS_CORE_START_FAILED;
  }
  c->thread_started = 1;
  *out = c;
  return TKMS_CORE_START_OK;
}

void tkms_core_stop(tkms_core *c) {
  if (c == NULL) return;
  pthread_mutex_lock(&c->state_mu);
  atomic_store(&c->stopping, 1);
  atomic_store(&c->available, 0);
  pthread_cond_broadcast(&c->wake);
  pid_t pid = c->pid;
  if (pid > 0) kill(pid, SIGTERM);
  pthread_mutex_unlock(&c->state_mu);
  /* Closing our ends also tells the core to stop (EOF on every socket). */
  for (unsigned i = 0; i < c->n; i++) {
    if (c->chans[i].fd >= 0) shutdown(c->chans[i].fd, SHUT_RDWR);
  }
  if (c->thread_started) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    if (pthread_timedjoin_np(c->thread, NULL, &ts) != 0) {
      pthread_mutex_lock(&c->state_mu);
      if (c->pid > 0) kill(c->pid, SIGKILL);
      pthread_mutex_unlock(&c->state_mu);
      pthread_join(c->thread, NULL);
    }
  }
  drop_channels(c);
  tkms_sup_free(c);
}
