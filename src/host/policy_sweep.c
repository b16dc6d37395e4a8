/* src/host/policy_sweep.c — the due-change sweep (policy_sweep.h). */
#include "host/policy_sweep.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/routes_priv.h"
#include "proto/ops.h"

struct tkms_policy_sweep {
  tkms_host *host;
  unsigned interval_ms;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping;
};

/* One pass: the keys the core lists as due, each materialised. */
static void sweep_once(tkms_policy_sweep *s, uint64_t *cursor) {
  tkms_fw w;
  tkms_reply rep;
  tkms_resp resp;
  memset(&resp, 0, sizeof resp);
  if (tkms_fw_init(&w, TKMS_OP_POLICY_DUE, 0, 0) != 0) return;
  tkms_fw_u64(&w, TKMS_F_CURSOR, *cursor);
  int rc = tkms_core_request(s->host, &w, &rep, &resp);
  tkms_fw_free(&w);
  tkms_resp_clear(&resp);
  if (rc != 0) return; /* the core is restarting, or refused: next time */
  uint8_t ids[TKMS_POLICY_DUE_MAX][16];
  size_t n = 0;
  tkms_field_iter it;
  tkms_field_iter_init(&it, &rep.f);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  while (tkms_field_next(&it, &tag, &v, &len) == 1 && n < TKMS_POLICY_DUE_MAX) {
    if (tag == TKMS_F_KEY_ID && len == 16) memcpy(ids[n++], v, 16);
  }
  uint64_t next;
  if (tkms_frame_get_u64(&rep.f, TKMS_F_CURSOR, &next) == 0) *cursor = next;
  tkms_reply_free(&rep);
  for (size_t i = 0; i < n; i++) tkms_policy_materialise_key(s->host, ids[i]);
}

static void *run(void *arg) {
  tkms_policy_sweep *s = arg;
  uint64_t cursor = 0;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += s->interval_ms / 1000;
    ts.tv_nsec += (long)(s->interval_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    int r = 0;
    while (!s->stopping && r != ETIMEDOUT) r = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    if (s->stopping) break;
    pthread_mutex_unlock(&s->mu);
    sweep_once(s, &cursor);
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int tkms_policy_sweep_start(tkms_host *h, unsigned interval_ms, tkms_policy_sweep **out) {
  tkms_policy_sweep *s = calloc(1, sizeof *s);
  if (s == NULL) return -1;
  s->host = h;
  s->interval_ms = interval_ms ? interval_ms : TKMS_POLICY_SWEEP_MS;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int bad = pthread_mutex_init(&s->mu, NULL) != 0;
  bad |= pthread_cond_init(&s->cv, &ca) != 0;
  pthread_condattr_destroy(&ca);
  if (bad || pthread_create(&s->thread, NULL, run, s) != 0) {
    free(s);
    return -1;
  }
  *out = s;
  return 0;
}

void tkms_policy_sweep_stop(tkms_policy_sweep *s) {
  if (s == NULL) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
