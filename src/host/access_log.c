/* src/host/access_log.c — the access log, one line per HTTP request, written in
 * batches.
 *
 * A write(2) per request was a tenth of the host's system calls under load. Each
 * worker thread appends whole lines to its own buffer (its mutex is contended
 * only by the flusher); a buffer is written out when it cannot take the next
 * line, and a flusher thread writes every buffer out every
 * TKMS_ACCESS_LOG_FLUSH_MS. Buffers are at most PIPE_BUF bytes, so a batch
 * written to a pipe is never interleaved with another thread's. Lines reach
 * stderr at most TKMS_ACCESS_LOG_FLUSH_MS late, and a SIGKILL loses at most
 * that much of the access log; tkms_access_log_stop() flushes everything.
 * Before tkms_access_log_start() (and after stop) lines are written at once. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/errors.h"

#define BUF_BYTES PIPE_BUF
#define MAX_LINE 320u

typedef struct log_buf {
  pthread_mutex_t mu;
  size_t len;
  char data[BUF_BYTES];
  struct log_buf *next;
} log_buf;

static pthread_mutex_t bufs_mu = PTHREAD_MUTEX_INITIALIZER;
static log_buf *bufs; /* every thread's buffer; freed at stop */
static int running;   /* written under bufs_mu, atomically: the fast path reads it bare */
static pthread_t flusher;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static _Thread_local log_buf *mine;

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t r = write(STDERR_FILENO, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return; /* stderr is gone: the log is best effort */
    p += r;
    n -= (size_t)r;
  }
}

/* Under b->mu. */
static void flush_locked(log_buf *b) {
  write_all(b->data, b->len);
  b->len = 0;
}

static void *flush_loop(void *arg) {
  (void)arg;
  pthread_mutex_lock(&bufs_mu);
  while (running) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += TKMS_ACCESS_LOG_FLUSH_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&stop_cv, &bufs_mu, &ts);
    for (log_buf *b = bufs; b != NULL; b = b->next) {
      pthread_mutex_lock(&b->mu);
      flush_locked(b);
      pthread_mutex_unlock(&b->mu);
    }
  }
  pthread_mutex_unlock(&bufs_mu);
  return NULL;
}

int tkms_access_log_start(void) {
  pthread_mutex_lock(&bufs_mu);
  int rc = 0;
  if (!running) {
    __atomic_store_n(&running, 1, __ATOMIC_RELEASE);
    if (pthread_create(&flusher, NULL, flush_loop, NULL) != 0) {
      __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
      rc = -1;
    }
  }
  pthread_mutex_unlock(&bufs_mu);
  return rc;
}

void tkms_access_log_stop(void) {
  pthread_mutex_lock(&bufs_mu);
  int was = running;
  __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
  pthread_cond_signal(&stop_cv);
  pthread_mutex_unlock(&bufs_mu);
  if (was) pthread_join(flusher, NULL);
  /* Worker threads have stopped (the HTTP server is stopped first), but a late
   * line takes the unbuffered path because running is 0 and mine is reset
   * only for this thread; keep buffers alive until here, then free them. */
  pthread_mutex_lock(&bufs_mu);
  log_buf *b = bufs;
  bufs = NULL;
  pthread_mutex_unlock(&bufs_mu);
  while (b != NULL) {
    log_buf *n = b->next;
    pthread_mutex_lock(&b->mu);
    flush_locked(b);
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_destroy(&b->mu);
    free(b);
    b = n;
  }
}

/* This thread's buffer, registered on first use; NULL when not batching. */
static log_buf *my_buf(void) {
  pthread_mutex_lock(&bufs_mu);
  log_buf *b = NULL;
  if (running) {
    for (b = bufs; b != NULL && b != mine; b = b->next) {
    }
    if (b == NULL && (b = calloc(1, sizeof *b)) != NULL) {
      pthread_mutex_init(&b->mu, NULL);
      b->next = bufs;
      bufs = b;
    }
    mine = b;
  }
  pthread_mutex_unlock(&bufs_mu);
  return b;
}

/* Keeps printable ASCII, so a client cannot forge log lines. */
static void clean(char *out, size_t cap, const char *in) {
  size_t j = 0;
  for (size_t i = 0; in && in[i] && j + 1 < cap; i++) {
    unsigned char ch = (unsigned char)in[i];
    out[j++] = (ch > 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  out[j] = '\0';
}

void tkms_access_log(const char *method, const char *path, unsigned status, long long micros) {
  char p[256], m[16], line[MAX_LINE];
  clean(p, sizeof p, path);
  clean(m, sizeof m, method);
  int n = snprintf(line, sizeof line, "tkms: %s %s %u %lldus\n", m, p, status, micros);
  if (n <= 0) return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  /* The fast path needs no global lock: mine stays valid until stop(), which
   * runs after the HTTP workers are gone. */
  log_buf *b = mine;
  if (b == NULL || !__atomic_load_n(&running, __ATOMIC_ACQUIRE)) b = my_buf();
  if (b == NULL) {
    write_all(line, len);
    return;
  }
  pthread_mutex_lock(&b->mu);
  if (b->len + len > sizeof b->data) flush_locked(b);
  memcpy(b->data + b->len, line, len);
  b->len += len;
  pthread_mutex_unlock(&b->mu);
}
