/* src/host/core_client.c — one frame exchange with the trusted core per call,
 * over the calling thread's own socket; see core.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "host/core_priv.h"
#include "proto/ops.h"

/* Each HTTP worker thread gets its own channel on first use, so workers never
 * wait for each other's core calls. */
static _Thread_local unsigned tl_hint = UINT_MAX;

int tkms_core_available(tkms_core *c) {
  return atomic_load(&c->available);
}

int tkms_core_fatal(tkms_core *c) {
  return atomic_load(&c->fatal);
}

void tkms_core_info_get(tkms_core *c, tkms_core_info *out) {
  pthread_mutex_lock(&c->state_mu);
  *out = c->info;
  pthread_mutex_unlock(&c->state_mu);
}

void tkms_chan_lock(tkms_chan *ch) {
  pthread_mutex_lock(&ch->mu);
}

int tkms_core_acquire(tkms_core *c, tkms_chan **out) {
  if (!atomic_load(&c->available)) return -1;
  if (tl_hint == UINT_MAX) tl_hint = atomic_fetch_add(&c->next_hint, 1);
  unsigned h = tl_hint % c->n;
  tkms_chan *ch = NULL;
  for (unsigned i = 0; i < c->n; i++) {
    tkms_chan *t = &c->chans[(h + i) % c->n];
    if (pthread_mutex_trylock(&t->mu) == 0) {
      ch = t;
      break;
    }
  }
  if (ch == NULL) {
    ch = &c->chans[h];
    pthread_mutex_lock(&ch->mu);
  }
  /* The supervisor may have taken the core down while we waited. */
  if (!atomic_load(&c->available) || ch->fd < 0) {
    pthread_mutex_unlock(&ch->mu);
    return -1;
  }
  *out = ch;
  return 0;
}

void tkms_core_release(tkms_chan *ch) {
  pthread_mutex_unlock(&ch->mu);
}

void tkms_core_mark_failed(tkms_core *c, const char *why) {
  int was = atomic_exchange(&c->available, 0);
  pthread_mutex_lock(&c->state_mu);
  /* SIGKILL: a core that broke the protocol must not get a chance to write
   * anything else; the supervisor's waitid() notices and restarts it. */
  if (c->pid > 0) kill(c->pid, SIGKILL);
  pthread_mutex_unlock(&c->state_mu);
  if (was && !atomic_load(&c->stopping)) fprintf(stderr, "tkms: core unavailable: %s\n", why);
}

void tkms_core_fail(tkms_chan *ch, const char *why) {
  tkms_core_mark_failed(ch->core, why);
}

void tkms_reply_free(tkms_reply *rep) {
  if (rep->buf != NULL) tkms_frame_buf_free(rep->buf, rep->len);
  memset(rep, 0, sizeof *rep);
}

void tkms_reply_errmsg(const tkms_reply *rep, char *out, size_t cap) {
  const uint8_t *v;
  size_t n;
  if (cap == 0) return;
  out[0] = '\0';
  if (tkms_frame_get(&rep->f, TKMS_F_ERR_MSG, &v, &n) != 0) return;
  /* Truncate rather than drop a long reason; keep it printable so it cannot
   * forge log lines or break JSON consumers. */
  size_t j = 0;
  for (size_t i = 0; i < n && j + 1 < cap; i++)
    out[j++] = (v[i] >= 0x20 && v[i] < 0x7f) ? (char)v[i] : '?';
  out[j] = '\0';
}

int tkms_core_call(tkms_chan *ch, tkms_fw *req, tkms_reply *rep) {
  memset(rep, 0, sizeof *rep);
  if (ch->fd < 0 || req->err || req->buf == NULL || req->len < 4 + TKMS_FRAME_HEADER) return -1;
  /* The seq lives at a fixed offset (frame.h): u32 length, u8 version, u16 op,
   * u16 status, u32 seq. Patching it lets callers build frames before they
   * know which channel will carry them. */
  uint32_t seq = ++ch->seq;
  tkms_be32_put(req->buf + 9, seq);
  uint16_t op = (uint16_t)((req->buf[5] << 8) | req->buf[6]);
  const char *why = "cannot send to the core";
  if (tkms_frame_send(ch->fd, req) != 0) goto fail;
  why = "the core closed its socket or did not answer in time";
  if (tkms_frame_recv(ch->fd, &rep->buf, &rep->len) != 0) goto fail;
  why = "the core sent a malformed frame";
  if (tkms_frame_parse(rep->buf, rep->len, &rep->f) != 0) goto fail;
  why = "the core answered out of order";
  if (rep->f.op != op || rep->f.seq != seq) goto fail;
  return 0;
fail:
  tkms_reply_free(rep);
  tkms_core_mark_failed(ch->core, why);
  return -1;
}

int tkms_chan_set_timeouts(int fd) {
  struct timeval tv = {.tv_sec = TKMS_CORE_IO_TIMEOUT_S, .tv_usec = 0};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    return -1;
  return 0;
}
