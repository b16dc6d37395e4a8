/* src/host/core_pipe.c — pipelined calls to the trusted core (core.h).
 *
 * A synchronous call costs two sleeps and two wake-ups per request: the HTTP
 * thread waits for the core, the core thread waits for the next request. On a
 * busy machine those switches cost more than the signature. A pipelined socket
 * lets any thread queue a request and go on; the socket's owner, an event
 * loop that polls it beside its HTTP connections (http.c), takes the answers,
 * which the core sends in order, several per read(2) when several requests
 * arrived together, and hands each to its done callback. No thread of its
 * own: a reader thread cost a sleep and a wake-up per batch, and another hop
 * to the HTTP thread that sends the answer.
 *
 * The queue mirrors the socket: an entry is queued (under qmu) before its frame
 * is written (under wmu), so the owner always finds the entry of an answer. A
 * frame that could not be written whole desynchronises the socket: the core is
 * restarted, and the owner fails everything queued. Only the owner closes a
 * socket, after failing its queue, so no callback is lost or called twice. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/core_priv.h"

int tkms_core_pipelined(const tkms_core *c) {
  return c->n_pipes > 0;
}

int tkms_core_submit(tkms_core *c, tkms_fw *req, tkms_core_done_fn done, void *ctx) {
  if (c->n_pipes == 0 || !atomic_load(&c->available) || req->err || req->buf == NULL ||
      req->len < 4 + TKMS_FRAME_HEADER)
    return -1;
  /* The socket with the fewest waiting requests (a racy read is fine: any
   * socket will do). */
  unsigned start = atomic_fetch_add(&c->next_pipe, 1) % c->n_pipes, best = start;
  for (unsigned i = 1; i < c->n_pipes; i++) {
    unsigned k = (start + i) % c->n_pipes;
    if (__atomic_load_n(&c->pipes[k].count, __ATOMIC_RELAXED) <
        __atomic_load_n(&c->pipes[best].count, __ATOMIC_RELAXED))
      best = k;
  }
  tkms_pipe *p = &c->pipes[best];
  pthread_mutex_lock(&p->wmu);
  pthread_mutex_lock(&p->qmu);
  size_t cost = req->len + TKMS_PIPE_FRAME_OVERHEAD;
  if (p->fd < 0 || p->count == TKMS_PIPE_DEPTH ||
      (p->count > 0 && p->bytes + cost > TKMS_PIPE_MAX_BYTES)) {
    pthread_mutex_unlock(&p->qmu);
    pthread_mutex_unlock(&p->wmu);
    return -1;
  }
  int fd = p->fd;
  uint32_t seq = ++p->seq;
  tkms_be32_put(req->buf + 9, seq); /* frame.h: the seq's fixed offset */
  tkms_pending *e = &p->q[(p->head + p->count) % TKMS_PIPE_DEPTH];
  e->seq = seq;
  e->cost = (uint32_t)cost;
  p->bytes += cost;
  e->op = (uint16_t)((req->buf[5] << 8) | req->buf[6]);
  e->done = done;
  e->ctx = ctx;
  clock_gettime(CLOCK_MONOTONIC, &e->sent);
  __atomic_store_n(&p->count, p->count + 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&p->qmu);
  /* fd stays open while wmu is held: the reader takes wmu before closing it.
   * A frame not written whole desynchronises the socket: shut it down (still
   * under wmu, so it is our socket); the owner sees that, restarts the core
   * and fails everything queued, our entry among them. */
  if (tkms_write_all(fd, req->buf, req->len) != 0) shutdown(fd, SHUT_RDWR);
  pthread_mutex_unlock(&p->wmu);
  return 0;
}

/* The oldest queued request has waited longer than the core may take. */
static int wedged(tkms_pipe *p) {
  pthread_mutex_lock(&p->qmu);
  int old = 0;
  if (p->count > 0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    old = now.tv_sec - p->q[p->head].sent.tv_sec > TKMS_CORE_IO_TIMEOUT_S;
  }
  pthread_mutex_unlock(&p->qmu);
  return old;
}

static void reader_drop(tkms_pipe *p) {
  if (p->rd_fd >= 0) tkms_frame_reader_free(&p->rd);
  p->rd_fd = -1;
}

/* The owner gives up on the socket: has the core restarted (unless it is
 * stopping anyway), closes the socket under both locks (no writer is using
 * it, nothing more can be queued) and fails what was queued. */
static void pipe_close(tkms_pipe *p, const char *why) {
  if (!atomic_load(&p->core->stopping)) tkms_core_mark_failed(p->core, why);
  tkms_pending failed[TKMS_PIPE_DEPTH];
  /* A writer blocked on a wedged core holds wmu: shut the socket down first
   * (the fd cannot change under qmu while this thread owns it), so that
   * writer fails at once instead of after its send timeout. */
  pthread_mutex_lock(&p->qmu);
  if (p->fd >= 0) shutdown(p->fd, SHUT_RDWR);
  pthread_mutex_unlock(&p->qmu);
  pthread_mutex_lock(&p->wmu);
  pthread_mutex_lock(&p->qmu);
  unsigned n = p->count;
  for (unsigned i = 0; i < n; i++) failed[i] = p->q[(p->head + i) % TKMS_PIPE_DEPTH];
  p->head = 0;
  p->bytes = 0;
  __atomic_store_n(&p->count, 0u, __ATOMIC_RELAXED);
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->qmu);
  pthread_mutex_unlock(&p->wmu);
  reader_drop(p);
  for (unsigned i = 0; i < n; i++) failed[i].done(failed[i].ctx, NULL);
}

/* One answer: its queue entry (the oldest), then its callback. NULL, or why
 * the socket cannot be used any more. */
static const char *dispatch(tkms_pipe *p, tkms_reply *rep) {
  if (tkms_frame_parse(rep->buf, rep->len, &rep->f) != 0) {
    tkms_reply_free(rep);
    return "the core sent a malformed frame on a pipelined socket";
  }
  pthread_mutex_lock(&p->qmu);
  tkms_pending e = {0};
  int have = p->count > 0;
  if (have) {
    e = p->q[p->head];
    if (rep->f.seq == e.seq && rep->f.op == e.op) {
      p->head = (p->head + 1) % TKMS_PIPE_DEPTH;
      p->bytes -= e.cost;
      __atomic_store_n(&p->count, p->count - 1, __ATOMIC_RELAXED);
    } else {
      have = 0;
    }
  }
  pthread_mutex_unlock(&p->qmu);
  if (!have) {
    tkms_reply_free(rep);
    return "the core answered out of order on a pipelined socket";
  }
  e.done(e.ctx, rep);
  return NULL;
}

unsigned tkms_core_pipes(const tkms_core *c) {
  return c->n_pipes;
}

int tkms_core_pipe_own(tkms_core *c, unsigned i, void (*wake)(void *), void *arg) {
  if (i >= c->n_pipes) return -1;
  tkms_pipe *p = &c->pipes[i];
  pthread_mutex_lock(&p->qmu);
  int r = p->owned ? -1 : 0;
  if (r == 0) {
    p->owned = 1;
    p->wake = wake;
    p->wake_arg = arg;
  }
  pthread_mutex_unlock(&p->qmu);
  return r;
}

void tkms_core_pipe_disown(tkms_core *c, unsigned i) {
  if (i >= c->n_pipes) return;
  tkms_pipe *p = &c->pipes[i];
  pthread_mutex_lock(&p->qmu);
  p->owned = 0;
  p->wake = NULL;
  p->wake_arg = NULL;
  pthread_cond_broadcast(&p->cv); /* a drop waiting for the owner closes it itself */
  pthread_mutex_unlock(&p->qmu);
  reader_drop(p);
}

int tkms_core_pipe_fd(tkms_core *c, unsigned i, unsigned *gen) {
  tkms_pipe *p = &c->pipes[i];
  pthread_mutex_lock(&p->qmu);
  int fd = p->fd;
  *gen = p->gen;
  pthread_mutex_unlock(&p->qmu);
  return fd;
}

void tkms_core_pipe_read(tkms_core *c, unsigned i) {
  tkms_pipe *p = &c->pipes[i];
  pthread_mutex_lock(&p->qmu);
  int fd = p->fd; /* stays open: only this thread closes it */
  pthread_mutex_unlock(&p->qmu);
  if (fd < 0) return;
  if (p->rd_fd != fd) {
    reader_drop(p);
    if (tkms_frame_reader_init(&p->rd, fd) != 0) {
      pipe_close(p, "out of memory for a pipelined socket");
      return;
    }
    p->rd_fd = fd;
  }
  /* The socket is readable: the first read does not wait, and the ones after
   * it only take frames already buffered. The rest of a frame the core began
   * is waited for (the socket's receive timeout bounds that). */
  const char *why = NULL;
  do {
    tkms_reply rep;
    memset(&rep, 0, sizeof rep);
    int r = tkms_frame_reader_next(&p->rd, &rep.buf, &rep.len);
    if (r == -2) break; /* nothing after all */
    if (r == 1)
      why = "the core closed a pipelined socket";
    else if (r != 0)
      why = "the core sent an unreadable frame on a pipelined socket";
    else
      why = dispatch(p, &rep);
  } while (why == NULL && tkms_frame_reader_ready(&p->rd));
  if (why != NULL) pipe_close(p, why);
}

void tkms_core_pipe_tick(tkms_core *c, unsigned i) {
  tkms_pipe *p = &c->pipes[i];
  if (wedged(p)) pipe_close(p, "the core did not answer a pipelined request in time");
}

void tkms_pipe_attach(tkms_pipe *p, int fd) {
  pthread_mutex_lock(&p->qmu);
  while (p->fd >= 0) pthread_cond_wait(&p->cv, &p->qmu); /* the old one is closed first */
  p->fd = fd;
  p->gen++;
  p->seq = 0;
  /* Under qmu, so the owner cannot disown and free what wake uses meanwhile
   * (wake must not block: an eventfd write). */
  if (p->wake != NULL) p->wake(p->wake_arg);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->qmu);
}

void tkms_pipes_drop(tkms_core *c) {
  for (unsigned i = 0; i < c->n_pipes; i++) {
    tkms_pipe *p = &c->pipes[i];
    pthread_mutex_lock(&p->qmu);
    if (p->fd >= 0) shutdown(p->fd, SHUT_RDWR); /* the owner sees the end */
    while (p->fd >= 0 && p->owned) pthread_cond_wait(&p->cv, &p->qmu);
    if (p->fd >= 0) {
      /* No owner (before the HTTP loops start or after they stop): nothing is
       * queued, since only the owners' loops submit. */
      close(p->fd);
      p->fd = -1;
      pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->qmu);
  }
}
