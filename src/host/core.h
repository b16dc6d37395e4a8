/* src/host/core.h — the host's side of the trusted core: starting it,
 * supervising it, and one request/response frame exchange per call.
 *
 * The core runs as a child process (tkms-enclave) connected by N socketpairs,
 * one per HTTP worker thread. A call borrows a channel (normally the calling
 * thread's own), sends one frame and reads the matching answer. If the core
 * dies or a channel breaks, the core is marked unavailable (callers answer
 * 503 core_unavailable), restarted with backoff, reloaded from the store and
 * marked available again. The host never decides anything here: it only
 * carries frames. */
#ifndef TKMS_HOST_CORE_H
#define TKMS_HOST_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "host/store.h"
#include "proto/frame.h"
#include "proto/ops.h"

typedef struct tkms_core tkms_core;
typedef struct tkms_chan tkms_chan;

typedef struct {
  const char *enclave_path;          /* tkms-enclave binary */
  const char *data_dir;              /* passed to the core as --data-dir */
  const char *platform;              /* passed to the core as --platform; NULL = sim */
  const char *attestation_test_root; /* passed as --attestation-test-root; NULL = none */
  unsigned channels;                 /* synchronous sockets, 1..64 */
  unsigned pipes;                    /* pipelined sockets, 0..TKMS_MAX_PIPES */
  tkms_store *store;                 /* where the sealed state lives */
  const uint8_t *rt_config;          /* F_RT_CONFIG for INIT of a new deployment (NULL: none) */
  size_t rt_config_len;
  /* Governance for a new deployment (serve --governor/--threshold/--upgrade-delay).
   * gov_given: any of them was on the command line; refused for an existing
   * deployment (governance is fixed at initialisation). */
  int gov_given;
  unsigned n_governors;
  uint8_t governors[TKMS_GOV_MAX_GOVERNORS][20];
  unsigned threshold;     /* 0 = default (1 with governors) */
  uint64_t upgrade_delay; /* seconds */
} tkms_core_config;

/* What the core said about itself when it last became ready. The deployment
 * values never change for a data directory. */
typedef struct {
  char platform[32];
  int simulated;
  uint8_t measurement[32];
  char core_version[64];
  int has_deployment;
  uint8_t salt[32];
  uint8_t identity[20];
  /* governance (GOV_STATUS at start-up) */
  int gov_mode; /* TKMS_GOV_MODE_* */
  unsigned n_governors, threshold;
  uint64_t upgrade_delay;
} tkms_core_info;

/* A reply frame: buf owns the bytes f points into. */
typedef struct {
  uint8_t *buf;
  size_t len;
  tkms_frame f;
} tkms_reply;

/* Exit statuses tkms_core_start / tkms_core_fatal report. */
enum {
  TKMS_CORE_START_OK = 0,
  TKMS_CORE_START_FAILED = 1, /* could not run or talk to the core */
  TKMS_CORE_START_REFUSED = 2 /* the core cannot open the sealed state (unseal,
                                 rollback, tampered) or the store is inconsistent */
};

/* Spawns the core, initialises or loads it from the store (see supervisor.c),
 * and starts supervising it. On failure prints why to stderr and returns
 * TKMS_CORE_START_FAILED or TKMS_CORE_START_REFUSED. */
int tkms_core_start(const tkms_core_config *cfg, tkms_core **out);
/* Stops supervising, terminates the core and frees everything. */
void tkms_core_stop(tkms_core *c);

/* 1 when requests can be served, 0 while the core restarts. */
int tkms_core_available(tkms_core *c);
/* Non-zero (an exit status) if the supervisor gave up: a restarted core
 * refused the sealed state. The supervisor also raises SIGTERM then. */
int tkms_core_fatal(tkms_core *c);
/* Copy of the info from the last successful start. */
void tkms_core_info_get(tkms_core *c, tkms_core_info *out);

/* Borrows a channel. Returns 0, or -1 when the core is unavailable. */
int tkms_core_acquire(tkms_core *c, tkms_chan **out);
void tkms_core_release(tkms_chan *ch);
/* Sends the finished frame req (its seq is set here) and reads the answer.
 * Returns 0 with rep filled (check rep->f.status), or -1 when the channel or
 * the core failed: then the core is being restarted and nothing can be said
 * about the outcome. */
int tkms_core_call(tkms_chan *ch, tkms_fw *req, tkms_reply *rep);
/* The core broke the protocol on this channel (e.g. refused a COMMIT after a
 * durable write): restart it so it reloads the state from the store. */
void tkms_core_fail(tkms_chan *ch, const char *why);
void tkms_reply_free(tkms_reply *rep);
/* The core's F_ERR_MSG of an error reply, or "" if absent; longer than cap
 * it is truncated, non-printable bytes become '?'. */
void tkms_reply_errmsg(const tkms_reply *rep, char *out, size_t cap);

/* Pipelined calls (core_pipe.c), for requests that need one exchange and no
 * transaction (signing). A few extra sockets carry them: the caller does not
 * wait; requests queue on a socket and the core answers them in order, so one
 * wake-up of the core serves every request that arrived meanwhile, and the
 * HTTP thread serves other connections instead of blocking. done(ctx, rep)
 * runs exactly once on the thread that owns the socket (below): rep (the
 * callee owns it and frees it with tkms_reply_free) is the answer, or NULL
 * when the core failed before answering (then nothing can be said about the
 * outcome). It must not block. */
typedef void (*tkms_core_done_fn)(void *ctx, tkms_reply *rep);
/* Sends the finished frame req (its seq is set here). Returns 0 when done will
 * be called; -1 when the core is unavailable or the sockets are full (up to
 * TKMS_PIPE_DEPTH requests and TKMS_PIPE_MAX_BYTES each), and then it will
 * not be. */
int tkms_core_submit(tkms_core *c, tkms_fw *req, tkms_core_done_fn done, void *ctx);
/* 1 if the core has pipelined sockets (serve --core-pipelines > 0). */
int tkms_core_pipelined(const tkms_core *c);

/* Reading the answers. Each pipelined socket i (0 <= i < tkms_core_pipes(c))
 * has one owner thread, an event loop (http.c) that polls its fd among its
 * own and, when it is readable, calls tkms_core_pipe_read, which reads every
 * answer that has arrived and calls their done callbacks. The socket changes
 * when the core restarts: the supervisor calls wake(arg) (from its thread),
 * and the owner asks for the new fd and generation. If the core closes the
 * socket, breaks the protocol or leaves a request unanswered for
 * TKMS_CORE_IO_TIMEOUT_S (tkms_core_pipe_tick, at least once a second), the
 * owner fails everything queued, closes the socket and has the core
 * restarted. Owning starts after tkms_core_start and ends before
 * tkms_core_stop; an owner disowns only when nothing is queued (the HTTP
 * server stops its loops once no request is suspended). */
unsigned tkms_core_pipes(const tkms_core *c);
int tkms_core_pipe_own(tkms_core *c, unsigned i, void (*wake)(void *), void *arg); /* 0 or -1 */
void tkms_core_pipe_disown(tkms_core *c, unsigned i);
/* The socket's fd (-1 while the core is down) and its generation. */
int tkms_core_pipe_fd(tkms_core *c, unsigned i, unsigned *gen);
void tkms_core_pipe_read(tkms_core *c, unsigned i);
void tkms_core_pipe_tick(tkms_core *c, unsigned i);

#endif
