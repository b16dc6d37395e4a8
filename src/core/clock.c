/* src/core/clock.c — trusted time (see clock.h and docs/trusted-time.md).
 *
 * Every decision is here: the nonces are made here, the replies are verified
 * against the sealed keys, the quorum is counted here and the floor is kept
 * here. The host chooses only whether and when to relay datagrams, so it can
 * delay or deny time (availability) but cannot move it, nor move it back. */
#include "core/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/op.h"
#include "core/txn.h"

static const uint8_t TIME_ID[1] = {0x01};

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int printable(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] < 0x21 || s[i] > 0x7e) return 0;
  }
  return 1;
}

/* ---- configuration ---------------------------------------------------------- */

int tkms_rt_config_decode(const uint8_t *p, size_t n, tkms_rt_config *out) {
  memset(out, 0, sizeof *out);
  if (p == NULL || n < 3) return -1;
  out->flags = p[0];
  out->quorum = p[1];
  out->n = p[2];
  if ((out->flags & ~TKMS_RT_FLAG_INSECURE_HOST) != 0 || out->n > TKMS_RT_MAX_SERVERS) return -1;
  if (out->n == 0 ? (out->quorum != 0 || !(out->flags & TKMS_RT_FLAG_INSECURE_HOST))
                  : (out->quorum < 1 || out->quorum > out->n))
    return -1;
  size_t pos = 3;
  for (unsigned i = 0; i < out->n; i++) {
    tkms_rt_server *s = &out->s[i];
    if (pos >= n) return -1;
    size_t l = p[pos++];
    if (l < 1 || l > TKMS_RT_NAME_MAX || n - pos < l || !printable(p + pos, l)) return -1;
    memcpy(s->name, p + pos, l);
    pos += l;
    if (pos >= n) return -1;
    l = p[pos++];
    if (l < 1 || l > TKMS_RT_ADDR_MAX || n - pos < l || !printable(p + pos, l)) return -1;
    memcpy(s->address, p + pos, l);
    pos += l;
    if (n - pos < 32) return -1;
    memcpy(s->pk, p + pos, 32);
    pos += 32;
    for (unsigned j = 0; j < i; j++) {
      if (memcmp(out->s[j].pk, s->pk, 32) == 0) return -1;
    }
  }
  return pos == n ? 0 : -1;
}

size_t tkms_rt_config_encode(const tkms_rt_config *cfg, uint8_t *out, size_t cap) {
  size_t pos = 0;
  if (cap < 3) return 0;
  out[pos++] = cfg->flags;
  out[pos++] = cfg->quorum;
  out[pos++] = cfg->n;
  for (unsigned i = 0; i < cfg->n && i < TKMS_RT_MAX_SERVERS; i++) {
    size_t a = strlen(cfg->s[i].name), b = strlen(cfg->s[i].address);
    if (cap - pos < 2 + a + b + 32) return 0;
    out[pos++] = (uint8_t)a;
    memcpy(out + pos, cfg->s[i].name, a);
    pos += a;
    out[pos++] = (uint8_t)b;
    memcpy(out + pos, cfg->s[i].address, b);
    pos += b;
    memcpy(out + pos, cfg->s[i].pk, 32);
    pos += 32;
  }
  return pos;
}

/* The time record keeps its plaintext (config | u64 floor) in the space after
 * the tkms_rec, where sessions keep their key ids. */
size_t tkms_timerec_encode(const tkms_rec *r, uint8_t *out, size_t cap) {
  size_t n = r->u.time.cfg_len;
  if (n > TKMS_RT_CONFIG_MAX || cap < n + 8) return 0;
  memcpy(out, r->scope_keys, n);
  tkms_be64_put(out + n, r->u.time.floor);
  return n + 8;
}

int tkms_timerec_decode(const uint8_t *id, size_t id_len, uint32_t version, const uint8_t *p,
                        size_t n, tkms_rec **out) {
  tkms_rt_config cfg;
  if (id_len != sizeof TIME_ID || memcmp(id, TIME_ID, id_len) != 0 || n < 8 + 3 ||
      n - 8 > TKMS_RT_CONFIG_MAX || tkms_rt_config_decode(p, n - 8, &cfg) != 0)
    return -1;
  tkms_rec *r = calloc(1, sizeof(tkms_rec) + (n - 8));
  if (r == NULL) return -1;
  r->type = TKMS_REC_TIME;
  r->id_len = (uint8_t)id_len;
  memcpy(r->id, id, id_len);
  r->version = version;
  r->u.time.cfg_len = (uint16_t)(n - 8);
  memcpy(r->scope_keys, p, n - 8);
  r->u.time.floor = tkms_be64_get(p + n - 8);
  *out = r;
  return 0;
}

static tkms_rec *timerec_new(const uint8_t *cfg, size_t cfg_len, uint32_t version, uint64_t floor) {
  tkms_rec *r = calloc(1, sizeof(tkms_rec) + cfg_len);
  if (r == NULL) return NULL;
  r->type = TKMS_REC_TIME;
  r->id_len = sizeof TIME_ID;
  memcpy(r->id, TIME_ID, sizeof TIME_ID);
  r->version = version;
  r->u.time.cfg_len = (uint16_t)cfg_len;
  memcpy(r->scope_keys, cfg, cfg_len);
  r->u.time.floor = floor;
  return r;
}

/* ---- the clock -------------------------------------------------------------- */

int tkms_clock_init(tkms_clock *k) {
  memset(k, 0, sizeof *k);
  return pthread_mutex_init(&k->mu, NULL) == 0 ? 0 : -1;
}

void tkms_clock_destroy(tkms_clock *k) {
  sodium_memzero(k->nonce, sizeof k->nonce);
  pthread_mutex_destroy(&k->mu);
}

/* Follows the index's time record (k->mu held, the core's lock held by the
 * caller): INIT's commit, LOAD_RECORDS and floor updates all land there. */
static void sync_record(tkms_core *c) {
  tkms_clock *k = &c->clock;
  const tkms_rec *r = tkms_index_find(&c->index, TKMS_REC_TIME, TIME_ID, sizeof TIME_ID);
  if (r == NULL) {
    if (k->has_record) {
      /* The deployment was forgotten (reset): forget its clock too. */
      memset(&k->cfg, 0, sizeof k->cfg);
      k->has_record = 0;
      k->have_quorum = 0;
      k->round_open = 0;
    }
    return;
  }
  if (k->has_record && memcmp(k->rec_hash, r->blob_hash, 32) == 0) return;
  tkms_rt_config cfg;
  if (tkms_rt_config_decode((const uint8_t *)r->scope_keys, r->u.time.cfg_len, &cfg) != 0) return;
  k->cfg = cfg;
  k->has_record = 1;
  memcpy(k->rec_hash, r->blob_hash, 32);
  if (r->u.time.floor > k->floor) k->floor = r->u.time.floor;
}

static int current(tkms_core *c, uint64_t *now, int *source) {
  tkms_clock *k = &c->clock;
  /* Until the deployment is loaded its time record is not known: handing out
   * host time now would let a host that sets its clock ahead raise the floor
   * of a Roughtime deployment before its configuration is read. */
  if (c->state != TKMS_STATE_READY) {
    *source = TKMS_TIME_NONE;
    *now = 0;
    return 1;
  }
  sync_record(c);
  uint64_t m = mono_ms(), t = 0;
  int src = TKMS_TIME_NONE;
  if (k->has_record && k->cfg.n > 0 && k->have_quorum && m >= k->q_mono_ms &&
      m - k->q_mono_ms <= (uint64_t)TKMS_RT_MAX_AGE_S * 1000u) {
    t = k->q_time + (m - k->q_mono_ms) / 1000u;
    src = TKMS_TIME_ROUGHTIME;
  } else {
    int insecure =
        k->has_record ? (k->cfg.flags & TKMS_RT_FLAG_INSECURE_HOST) != 0 : !c->plat.ops->simulated;
    if (insecure || c->plat.ops->simulated) {
      if (c->plat.ops->now(c->plat.ctx, &t) != 0) return -1;
      src = insecure ? TKMS_TIME_HOST_INSECURE : TKMS_TIME_HOST_SIM;
    }
  }
  *source = src;
  if (src == TKMS_TIME_NONE) {
    *now = 0;
    return 1;
  }
  if (t < k->floor) t = k->floor;
  k->floor = t;
  *now = t;
  return 0;
}

int tkms_clock_now(tkms_core *c, uint64_t *now, int *source) {
  pthread_mutex_lock(&c->clock.mu);
  int r = current(c, now, source);
  pthread_mutex_unlock(&c->clock.mu);
  return r;
}

const char *tkms_clock_source_name(int source) {
  switch (source) {
    case TKMS_TIME_ROUGHTIME:
      return "roughtime";
    case TKMS_TIME_HOST_SIM:
      return "host-sim";
    case TKMS_TIME_HOST_INSECURE:
      return "host-insecure";
    default:
      return "none";
  }
}

void tkms_clock_status(tkms_core *c, tkms_fw *resp) {
  tkms_clock *k = &c->clock;
  pthread_mutex_lock(&k->mu);
  uint64_t now = 0;
  int src = TKMS_TIME_NONE;
  int r = current(c, &now, &src);
  tkms_fw_str(resp, TKMS_F_RT_SOURCE, tkms_clock_source_name(r == 0 ? src : TKMS_TIME_NONE));
  tkms_fw_u32(resp, TKMS_F_RT_TRUSTED, r == 0 && src == TKMS_TIME_ROUGHTIME ? 1u : 0u);
  if (r == 0) tkms_fw_u64(resp, TKMS_F_TIME, now);
  if (k->have_quorum) {
    uint8_t q[16];
    tkms_be64_put(q, k->q_time);
    tkms_be32_put(q + 8, k->q_agree);
    tkms_be32_put(q + 12, k->q_radius);
    tkms_fw_bytes(resp, TKMS_F_RT_QUORUM, q, sizeof q);
  }
  if (k->note[0] != '\0') tkms_fw_str(resp, TKMS_F_RT_NOTE, k->note);
  pthread_mutex_unlock(&k->mu);
}

/* ---- records ---------------------------------------------------------------- */

int tkms_clock_init_record(tkms_op *op) {
  const uint8_t *v;
  size_t n;
  if (tkms_frame_get(op->req, TKMS_F_RT_CONFIG, &v, &n) != 0) {
    /* Host time only on the sim platform or when explicitly configured. */
    if (op->core->plat.ops->simulated) return TKMS_OK;
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "a deployment on the %s platform needs trusted time: initialise it with "
                        "--roughtime-config FILE (Roughtime servers and quorum), or accept the "
                        "host's clock explicitly with --insecure-host-time",
                        op->core->plat.ops->name);
  }
  tkms_rt_config cfg;
  if (n > TKMS_RT_CONFIG_MAX || tkms_rt_config_decode(v, n, &cfg) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "invalid Roughtime configuration: it needs 1 <= quorum <= servers <= %u, "
                        "names of 1..%u and addresses of 1..%u printable characters and distinct "
                        "32-byte Ed25519 public keys (or no servers with insecure host time)",
                        TKMS_RT_MAX_SERVERS, TKMS_RT_NAME_MAX, TKMS_RT_ADDR_MAX);
  tkms_rec *r = timerec_new(v, n, 1, 0);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  int st = tkms_tx_seal_put(op, r, NULL);
  if (st != TKMS_OK) free(r);
  return st;
}

int tkms_clock_tx_floor(tkms_op *op) {
  tkms_core *c = op->core;
  const tkms_rec *old = tkms_index_find(&c->index, TKMS_REC_TIME, TIME_ID, sizeof TIME_ID);
  if (old == NULL || old->version == UINT32_MAX) return TKMS_OK;
  pthread_mutex_lock(&c->clock.mu);
  uint64_t floor = c->clock.floor;
  pthread_mutex_unlock(&c->clock.mu);
  if (floor <= old->u.time.floor) return TKMS_OK;
  tkms_rec *r =
      timerec_new((const uint8_t *)old->scope_keys, old->u.time.cfg_len, old->version + 1, floor);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  int st = tkms_tx_seal_put(op, r, NULL);
  if (st != TKMS_OK) free(r);
  return st;
}

/* ---- the protocol ------------------------------------------------------------ */

int tkms_time_request(tkms_op *op) {
  tkms_core *c = op->core;
  tkms_clock *k = &c->clock;
  pthread_mutex_lock(&k->mu);
  sync_record(c);
  if (!k->has_record || k->cfg.n == 0) {
    pthread_mutex_unlock(&k->mu);
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "this deployment has no Roughtime servers (set at initialisation with "
                        "--roughtime-config)");
  }
  for (unsigned i = 0; i < k->cfg.n; i++) {
    randombytes_buf(k->nonce[i], TKMS_RT_NONCE_BYTES);
    tkms_rt_build_request(k->nonce[i], k->req[i]);
    tkms_fw_str(op->resp, TKMS_F_RT_ADDRESS, k->cfg.s[i].address);
    tkms_fw_bytes(op->resp, TKMS_F_RT_PACKET, k->req[i], TKMS_RT_REQUEST_BYTES);
  }
  k->round_open = 1;
  k->round_mono_ms = mono_ms();
  pthread_mutex_unlock(&k->mu);
  return TKMS_OK;
}

typedef struct {
  uint64_t at;
  int kind; /* +1 start, -1 end */
} edge;

static int edge_cmp(const void *a, const void *b) {
  const edge *x = a, *y = b;
  if (x->at != y->at) return x->at < y->at ? -1 : 1;
  return y->kind - x->kind; /* starts before ends at the same point: closed intervals */
}

/* Marzullo: the largest number of intervals sharing a point, and the range
 * [*lo, *hi] they all share. */
static unsigned best_overlap(const uint64_t *lo_in, const uint64_t *hi_in, unsigned n, uint64_t *lo,
                             uint64_t *hi) {
  edge e[2 * TKMS_RT_MAX_SERVERS];
  for (unsigned i = 0; i < n; i++) {
    e[2 * i] = (edge){lo_in[i], +1};
    e[2 * i + 1] = (edge){hi_in[i], -1};
  }
  qsort(e, 2 * n, sizeof e[0], edge_cmp);
  unsigned cur = 0, best = 0;
  for (unsigned i = 0; i < 2 * n; i++) {
    if (e[i].kind > 0) {
      cur++;
      if (cur > best) {
        best = cur;
        *lo = e[i].at;
        *hi = e[i + 1].at; /* the next edge ends the region (it exists: an end follows) */
      }
    } else {
      cur--;
    }
  }
  return best;
}

int tkms_time_response(tkms_op *op) {
  tkms_core *c = op->core;
  tkms_clock *k = &c->clock;
  pthread_mutex_lock(&k->mu);
  sync_record(c);
  uint64_t m = mono_ms();
  if (!k->round_open || !k->has_record || k->cfg.n == 0) {
    pthread_mutex_unlock(&k->mu);
    return tkms_op_fail(op, TKMS_E_TIME_NO_QUORUM,
                        "no Roughtime request is outstanding: replies are accepted once, for "
                        "the latest TIME_REQUEST only");
  }
  k->round_open = 0; /* one answer per round: its nonces are spent now */
  if (m - k->round_mono_ms > TKMS_RT_MAX_WAIT_MS) {
    snprintf(k->note, sizeof k->note, "replies came %llu ms after the request; round dropped",
             (unsigned long long)(m - k->round_mono_ms));
    pthread_mutex_unlock(&k->mu);
    return tkms_op_fail(op, TKMS_E_TIME_NO_QUORUM, "%s", k->note);
  }
  /* Servers' time at this moment lies in [mid - rad, mid + rad + elapsed]:
   * each signed between our request and now. */
  uint64_t elapsed = (m - k->round_mono_ms + 999u) / 1000u;
  uint64_t lo[TKMS_RT_MAX_SERVERS], hi[TKMS_RT_MAX_SERVERS];
  unsigned nv = 0, seen = 0;
  int done[TKMS_RT_MAX_SERVERS] = {0};
  char note[160];
  tkms_field_iter it;
  tkms_field_iter_init(&it, op->req);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_RT_REPLY) continue;
    if (++seen > 4u * TKMS_RT_MAX_SERVERS) break; /* bounded work */
    if (len < 1 || v[0] >= k->cfg.n) continue;
    unsigned i = v[0];
    if (done[i]) continue; /* one verified answer per server */
    tkms_rt_time t;
    int rc = tkms_rt_verify(k->req[i], TKMS_RT_REQUEST_BYTES, k->nonce[i], k->cfg.s[i].pk, v + 1,
                            len - 1, &t);
    if (rc != TKMS_RT_OK || t.midp > UINT64_MAX / 2 || t.radius > 86400u) {
      snprintf(note, sizeof note, "%s: %s", k->cfg.s[i].name,
               rc != TKMS_RT_OK ? tkms_rt_strerror(rc) : "implausible time or radius");
      tkms_fw_str(op->resp, TKMS_F_RT_NOTE, note);
      continue;
    }
    done[i] = 1;
    lo[nv] = t.midp > t.radius ? t.midp - t.radius : 0;
    hi[nv] = t.midp + t.radius + elapsed;
    nv++;
    snprintf(note, sizeof note, "%s: ok midpoint %llu radius %u", k->cfg.s[i].name,
             (unsigned long long)t.midp, t.radius);
    tkms_fw_str(op->resp, TKMS_F_RT_NOTE, note);
  }
  sodium_memzero(k->nonce, sizeof k->nonce);
  uint64_t a = 0, b = 0;
  unsigned agree = nv > 0 ? best_overlap(lo, hi, nv, &a, &b) : 0;
  if (agree < k->cfg.quorum) {
    snprintf(k->note, sizeof k->note,
             "no quorum: %u verified replies, at most %u agree, %u needed; time not updated", nv,
             agree, k->cfg.quorum);
    pthread_mutex_unlock(&k->mu);
    return tkms_op_fail(op, TKMS_E_TIME_NO_QUORUM, "%s", k->note);
  }
  uint64_t qt = a + (b - a) / 2;
  k->have_quorum = 1;
  k->q_time = qt;
  k->q_mono_ms = m;
  k->q_radius = (uint32_t)((b - a) / 2 > UINT32_MAX ? UINT32_MAX : (b - a) / 2);
  k->q_agree = agree;
  uint64_t now = qt < k->floor ? k->floor : qt;
  if (qt < k->floor)
    snprintf(k->note, sizeof k->note,
             "quorum of %u at %llu is behind the time already handed out (%llu); time does not "
             "go back, it waits",
             agree, (unsigned long long)qt, (unsigned long long)k->floor);
  else
    snprintf(k->note, sizeof k->note, "quorum of %u of %u servers at %llu", agree, k->cfg.n,
             (unsigned long long)qt);
  k->floor = now;
  uint8_t q[16];
  tkms_be64_put(q, k->q_time);
  tkms_be32_put(q + 8, k->q_agree);
  tkms_be32_put(q + 12, k->q_radius);
  tkms_fw_bytes(op->resp, TKMS_F_RT_QUORUM, q, sizeof q);
  tkms_fw_u64(op->resp, TKMS_F_TIME, now);
  pthread_mutex_unlock(&k->mu);
  return TKMS_OK;
}
