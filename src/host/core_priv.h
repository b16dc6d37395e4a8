/* src/host/core_priv.h — state shared by core_client.c (calls), core_pipe.c
 * (pipelined calls), supervisor.c (process lifecycle) and migration.c. Not for
 * other files. */
#ifndef TKMS_HOST_CORE_PRIV_H
#define TKMS_HOST_CORE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "host/core.h"

/* A reply must arrive within this time or the core is considered wedged and
 * is restarted (a half-read frame would desynchronise the channel). */
#define TKMS_CORE_IO_TIMEOUT_S 60

struct tkms_chan {
  pthread_mutex_t mu; /* held for a whole exchange (all phases of a mutation) */
  int fd;             /* host end of the socketpair, -1 while the core is down */
  uint32_t seq;
  tkms_core *core;
};

/* One request on a pipelined socket, waiting for its answer. */
typedef struct {
  uint32_t seq;
  uint32_t cost; /* what its frame counts against TKMS_PIPE_MAX_BYTES */
  uint16_t op;
  tkms_core_done_fn done;
  void *ctx;
  struct timespec sent; /* CLOCK_MONOTONIC */
} tkms_pending;

#define TKMS_MAX_PIPES 8
#define TKMS_PIPE_DEPTH 256u
/* Bytes of frames waiting on one pipelined socket, each counted with 1 KiB for
 * the kernel's overhead: kept below the socket's send buffer (about 208 KiB
 * by default), so a submit never blocks an HTTP loop on a slow core; past it
 * a request goes the synchronous way. */
#define TKMS_PIPE_MAX_BYTES (160u * 1024u)
#define TKMS_PIPE_FRAME_OVERHEAD 1024u

/* A pipelined socket (core_pipe.c). Lock order: wmu, then qmu. */
typedef struct {
  pthread_mutex_t wmu; /* one writer at a time: frames go out whole and in queue order */
  pthread_mutex_t qmu; /* fd, gen, the queue, the owner */
  pthread_cond_t cv;   /* fd changed (set by the supervisor, closed by the owner) */
  int fd;              /* -1 while the core is down; only the owner closes it (drop
                          does when there is no owner) */
  unsigned gen;        /* incremented by every attach: the owner re-registers fd */
  uint32_t seq;
  tkms_pending q[TKMS_PIPE_DEPTH]; /* FIFO: the core answers in order */
  unsigned head, count;
  size_t bytes; /* sum of the queued entries' cost */
  /* The owner: the one thread that reads the answers (tkms_core_pipe_own);
   * wake(wake_arg) tells it that fd changed. */
  int owned;
  void (*wake)(void *);
  void *wake_arg;
  /* The owner's buffered reader (only the owner touches these). */
  tkms_frame_reader rd;
  int rd_fd; /* the fd rd was set up for; -1 for none */
  tkms_core *core;
} tkms_pipe;

struct tkms_core {
  char *enclave_path;
  char *data_dir;
  char *platform;
  char *test_root; /* --attestation-test-root for the core, or NULL */
  tkms_store *store;
  uint8_t *rt_config; /* sent with INIT only (trusted time); NULL if none */
  size_t rt_config_len;
  int rt_config_noted;
  tkms_core_config cfg; /* a copy, for the governance options (string pointers
                           in it are not used after start-up) */
  int migrate_source;   /* this is a migration source (a second, short-lived core) */
  unsigned n;
  tkms_chan *chans;
  atomic_uint next_hint;
  unsigned n_pipes;
  tkms_pipe *pipes;
  atomic_uint next_pipe;
  atomic_int available;
  atomic_int stopping;
  atomic_int fatal;

  pthread_mutex_t state_mu; /* pid, info, wake */
  pthread_cond_t wake;      /* interrupts the restart backoff on stop */
  pid_t pid;                /* 0 when no child (reaped or not yet spawned) */
  tkms_core_info info;
  pthread_t thread;
  int thread_started;
};

/* Marks the core unavailable and kills the child so the supervisor restarts
 * it (core_client.c). */
void tkms_core_mark_failed(tkms_core *c, const char *why);
/* Locks channel i regardless of availability (supervisor during start-up). */
void tkms_chan_lock(tkms_chan *ch);
/* Pipelined sockets (core_pipe.c): hand a new socket to pipe p (waits until
 * the old one is closed, then wakes the owner); shut every socket down and
 * wait until the owners have failed what was queued and closed them (a socket
 * without an owner is closed here: nothing can be queued on it). */
void tkms_pipe_attach(tkms_pipe *p, int fd);
void tkms_pipes_drop(tkms_core *c);

/* Sets the send/receive timeouts that bound every exchange. Returns 0 or -1. */
int tkms_chan_set_timeouts(int fd);

#endif
