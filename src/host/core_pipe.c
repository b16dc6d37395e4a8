/* src/host/core_pipe.c — pipelined calls to the trusted core (core.h).
 *
 * A synchronous call costs two sleeps and two wake-ups per request: the HTTP
 * thread waits for the core, the core thread waits for the next request. On a
 * busy machine those switches cost more than the signature. A pipelined socket
 * lets any thread queue a request and go on; one reader thread per socket
 * takes the answers, which the core sends in order, several per read(2) when
 * several requests arrived together, and hands each to its done callback.
 *
 * The queue mirrors the socket: an entry is queued (under qmu) before its frame
 * is written (under wmu), so the reader always finds the entry of an answer. A
 * frame that could not be written whole desynchronises the socket: the core is
 * restarted, and the reader fails everything queued. Only the reader closes a
 * socket, after failing its queue, so no callback is lost or called twice. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/core_priv.h"

#define READ_TICK_S 1 /* how often an idle reader checks for a wedged core (poll) */

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
  if (p->fd < 0 || p->count == TKMS_PIPE_DEPTH) {
    pthread_mutex_unlock(&p->qmu);
    pthread_mutex_unlock(&p->wmu);
    return -1;
  }
  int fd = p->fd;
  uint32_t seq = ++p->seq;
  tkms_be32_put(req->buf + 9, seq); /* frame.h: the seq's fixed offset */
  tkms_pending *e = &p->q[(p->head + p->count) % TKMS_PIPE_DEPTH];
  e->seq = seq;
  e->op = (uint16_t)((req->buf[5] << 8) | req->buf[6]);
  e->done = done;
  e->ctx = ctx;
  clock_gettime(CLOCK_MONOTONIC, &e->sent);
  __atomic_store_n(&p->count, p->count + 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&p->qmu);
  /* fd stays open while wmu is held: the reader takes wmu before closing it.
   * A frame not written whole desynchronises the socket: shut it down (still
   * under wmu, so it is our socket); the reader sees that, restarts the core
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

/* Reads answers from fd until it fails; returns why (for the log). */
static const char *read_answers(tkms_pipe *p, int fd) {
  tkms_frame_reader rd;
  if (tkms_frame_reader_init(&rd, fd) != 0) return "out of memory for a pipelined socket";
  const char *why = NULL;
  while (why == NULL) {
    tkms_reply rep;
    memset(&rep, 0, sizeof rep);
    /* Idle: wake every READ_TICK_S to notice a core that stopped answering.
     * Once a frame has begun, the socket's receive timeout bounds each read
     * (TKMS_CORE_IO_TIMEOUT_S, as on the synchronous sockets). */
    if (!tkms_frame_reader_ready(&rd)) {
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      int pr = poll(&pfd, 1, READ_TICK_S * 1000);
      if (pr == 0 || (pr < 0 && errno == EINTR)) {
        if (wedged(p)) why = "the core did not answer a pipelined request in time";
        continue;
      }
    }
    int r = tkms_frame_reader_next(&rd, &rep.buf, &rep.len);
    if (r == -2) {
      if (wedged(p)) why = "the core did not answer a pipelined request in time";
      continue;
    }
    if (r == 1) {
      why = "the core closed a pipelined socket";
      break;
    }
    if (r != 0) {
      why = "the core sent an unreadable frame on a pipelined socket";
      break;
    }
    if (tkms_frame_parse(rep.buf, rep.len, &rep.f) != 0) {
      why = "the core sent a malformed frame on a pipelined socket";
      tkms_reply_free(&rep);
      break;
    }
    pthread_mutex_lock(&p->qmu);
    tkms_pending e = {0};
    int have = p->count > 0;
    if (have) {
      e = p->q[p->head];
      if (rep.f.seq == e.seq && rep.f.op == e.op) {
        p->head = (p->head + 1) % TKMS_PIPE_DEPTH;
        __atomic_store_n(&p->count, p->count - 1, __ATOMIC_RELAXED);
      } else {
        have = 0;
      }
    }
    pthread_mutex_unlock(&p->qmu);
    if (!have) {
      why = "the core answered out of order on a pipelined socket";
      tkms_reply_free(&rep);
      break;
    }
    e.done(e.ctx, &rep);
  }
  tkms_frame_reader_free(&rd);
  return why;
}

static void *reader_main(void *arg) {
  tkms_pipe *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->qmu);
    while (p->fd < 0 && !p->quit) pthread_cond_wait(&p->cv, &p->qmu);
    int fd = p->fd;
    pthread_mutex_unlock(&p->qmu);
    if (fd < 0) break; /* quit */
    const char *why = read_answers(p, fd);
    if (!atomic_load(&p->core->stopping)) tkms_core_mark_failed(p->core, why);
    /* Close under both locks: no writer is using fd, nothing more is queued. */
    tkms_pending failed[TKMS_PIPE_DEPTH];
    pthread_mutex_lock(&p->wmu);
    pthread_mutex_lock(&p->qmu);
    unsigned n = p->count;
    for (unsigned i = 0; i < n; i++) failed[i] = p->q[(p->head + i) % TKMS_PIPE_DEPTH];
    p->head = 0;
    __atomic_store_n(&p->count, 0u, __ATOMIC_RELAXED);
    close(fd);
    p->fd = -1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->qmu);
    pthread_mutex_unlock(&p->wmu);
    for (unsigned i = 0; i < n; i++) failed[i].done(failed[i].ctx, NULL);
  }
  return NULL;
}

int tkms_pipes_start(tkms_core *c) {
  for (unsigned i = 0; i < c->n_pipes; i++) {
    tkms_pipe *p = &c->pipes[i];
    if (pthread_create(&p->reader, NULL, reader_main, p) != 0) return -1;
    p->reader_started = 1;
  }
  return 0;
}

void tkms_pipe_attach(tkms_pipe *p, int fd) {
  pthread_mutex_lock(&p->qmu);
  while (p->fd >= 0) pthread_cond_wait(&p->cv, &p->qmu); /* the old one is closed first */
  p->fd = fd;
  p->seq = 0;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->qmu);
}

void tkms_pipes_drop(tkms_core *c) {
  for (unsigned i = 0; i < c->n_pipes; i++) {
    tkms_pipe *p = &c->pipes[i];
    pthread_mutex_lock(&p->qmu);
    if (p->fd >= 0 && !p->reader_started) {
      close(p->fd); /* no reader, so nothing can be queued */
      p->fd = -1;
    }
    if (p->fd >= 0) shutdown(p->fd, SHUT_RDWR);
    while (p->fd >= 0) pthread_cond_wait(&p->cv, &p->qmu);
    pthread_mutex_unlock(&p->qmu);
  }
}

void tkms_pipes_stop(tkms_core *c) {
  tkms_pipes_drop(c);
  for (unsigned i = 0; i < c->n_pipes; i++) {
    tkms_pipe *p = &c->pipes[i];
    pthread_mutex_lock(&p->qmu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->qmu);
    if (p->reader_started) pthread_join(p->reader, NULL);
    p->reader_started = 0;
  }
}
