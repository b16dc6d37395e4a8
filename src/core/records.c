/* src/core/records.c — record layouts (see records.h). */
#include "core/records.h"

#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "core/attested.h"
#include "core/clock.h"
#include "core/governance.h"
#include "core/keys.h"
#include "core/principal.h"
#include "core/sessions.h"

static size_t id_len_for(uint8_t type) {
  switch (type) {
    case TKMS_REC_KEY:
      return TKMS_KEY_ID_BYTES;
    case TKMS_REC_SESSION:
      return TKMS_SESSION_ID_BYTES;
    case TKMS_REC_NONCE:
      return TKMS_REQUEST_ID_BYTES;
    case TKMS_REC_TIME:
      return 1;
    case TKMS_REC_GOV:
      return TKMS_GOV_REC_ID_LEN;
    case TKMS_REC_POLICY_CHANGE:
      return TKMS_KEY_ID_BYTES;
    default:
      return 0;
  }
}

int tkms_rec_enc_parse(const uint8_t *p, size_t n, tkms_rec_enc *out) {
  if (n < 2) return -1;
  size_t want = id_len_for(p[0]);
  if (want == 0 || p[1] != want || n < 2 + want + 4 + 1) return -1;
  out->type = p[0];
  out->id_len = p[1];
  out->id = p + 2;
  out->version = tkms_be32_get(p + 2 + want);
  out->blob = p + 2 + want + 4;
  out->blob_len = n - (2 + want + 4);
  return 0;
}

void tkms_fw_rec_put(tkms_fw *w, uint8_t tag, const tkms_rec *r, const uint8_t *blob,
                     size_t blob_len) {
  /* Blobs are small (< 2 KiB); build the field in one piece. */
  uint8_t buf[2 + TKMS_REC_ID_MAX + 4 + TKMS_REC_PLAIN_MAX + 64];
  size_t n = 2 + r->id_len + 4;
  if (blob_len > sizeof buf - n) {
    w->err = 1;
    return;
  }
  buf[0] = r->type;
  buf[1] = r->id_len;
  memcpy(buf + 2, r->id, r->id_len);
  tkms_be32_put(buf + 2 + r->id_len, r->version);
  memcpy(buf + n, blob, blob_len);
  tkms_fw_bytes(w, tag, buf, n + blob_len);
}

void tkms_fw_rec_del(tkms_fw *w, const tkms_rec *r) {
  uint8_t buf[2 + TKMS_REC_ID_MAX];
  buf[0] = r->type;
  buf[1] = r->id_len;
  memcpy(buf + 2, r->id, r->id_len);
  tkms_fw_bytes(w, TKMS_F_DEL, buf, 2 + r->id_len);
}

/* A bounded writer for plaintexts. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
  int err;
} wbuf;

static void put(wbuf *b, const void *src, size_t n) {
  if (b->err || n > b->cap - b->len) {
    b->err = 1;
    return;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}
static void put_u8(wbuf *b, uint8_t v) {
  put(b, &v, 1);
}
static void put_u32(wbuf *b, uint32_t v) {
  uint8_t x[4];
  tkms_be32_put(x, v);
  put(b, x, 4);
}
static void put_u64(wbuf *b, uint64_t v) {
  uint8_t x[8];
  tkms_be64_put(x, v);
  put(b, x, 8);
}
static void put_u16(wbuf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(b, x, 2);
}
/* u16 length | canonical policy; length 0 for the default policy. */
static void put_policy(wbuf *b, const tkms_policy *p) {
  uint8_t enc[TKMS_POLICY_ENC_MAX];
  size_t n = p == NULL || tkms_policy_is_default(p) ? 0 : tkms_policy_encode(p, enc, sizeof enc);
  if (p != NULL && n == 0 && !tkms_policy_is_default(p)) {
    b->err = 1;
    return;
  }
  put_u16(b, (uint16_t)n);
  put(b, enc, n);
}
static void put_str(wbuf *b, const char *s) {
  size_t n = strlen(s);
  if (n > 255) {
    b->err = 1;
    return;
  }
  put_u8(b, (uint8_t)n);
  put(b, s, n);
}

size_t tkms_rec_plain_encode(const tkms_rec *r, const uint8_t *secret, uint8_t *out, size_t cap) {
  wbuf b = {out, 0, cap, 0};
  int attested = r->type == TKMS_REC_SESSION && r->u.session.attested;
  put_u8(&b, r->type == TKMS_REC_KEY ? TKMS_KEYREC_FORMAT
             : attested              ? TKMS_SESSREC_FORMAT_ATTESTED
                                     : TKMS_REC_FORMAT);
  switch (r->type) {
    case TKMS_REC_KEY:
      if (secret == NULL) return 0;
      put_u8(&b, r->u.key.key_type);
      put_u32(&b, r->version);
      put_u64(&b, r->u.key.created_at);
      put_str(&b, r->u.key.owner);
      put_u8(&b, r->u.key.pub_len);
      put(&b, r->u.key.pub, r->u.key.pub_len);
      put_policy(&b, r->u.key.policy);
      put(&b, secret, 32);
      break;
    case TKMS_REC_POLICY_CHANGE:
      put_u64(&b, r->u.pending.accepted_at);
      put_u64(&b, r->u.pending.effective_at);
      put_str(&b, r->u.pending.new_owner);
      put_policy(&b, r->u.pending.policy);
      break;
    case TKMS_REC_SESSION:
      put_str(&b, r->u.session.owner);
      put_str(&b, r->u.session.session_key);
      put_u8(&b, r->u.session.ops);
      put_u64(&b, r->u.session.expiry);
      put_u8(&b, r->u.session.n_keys);
      put(&b, r->scope_keys, 16u * r->u.session.n_keys);
      if (attested) {
        if (r->u.session.mlen > sizeof r->u.session.meas) return 0;
        put_u8(&b, r->u.session.tee);
        put_u8(&b, r->u.session.mlen);
        put(&b, r->u.session.meas, r->u.session.mlen);
        put_u8(&b, (uint8_t)(r->u.session.svn >> 8));
        put_u8(&b, (uint8_t)r->u.session.svn);
        put_u8(&b, r->u.session.tcb_status);
        put_u64(&b, r->u.session.verified_at);
      }
      break;
    case TKMS_REC_NONCE:
      put_u64(&b, r->u.nonce.deadline);
      break;
    case TKMS_REC_TIME: {
      size_t k = b.err ? 0 : tkms_timerec_encode(r, b.p + b.len, b.cap - b.len);
      if (k == 0) return 0;
      b.len += k;
      break;
    }
    case TKMS_REC_GOV: {
      tkms_gov g;
      tkms_gov_from_rec(r, &g);
      if (tkms_gov_valid(&g) != 0) return 0;
      put_u8(&b, g.n_governors);
      for (unsigned i = 0; i < g.n_governors; i++) put(&b, g.governors[i], 20);
      put_u8(&b, g.threshold);
      put_u64(&b, g.delay);
      put_u8(&b, g.n_ann);
      for (unsigned i = 0; i < g.n_ann; i++) {
        put(&b, g.ann[i].measurement, 32);
        put_u64(&b, g.ann[i].accepted_at);
        put_u64(&b, g.ann[i].effective_at);
      }
      if (g.has_holder) put(&b, g.holder, 32);
      break;
    }
    default:
      return 0;
  }
  return b.err ? 0 : b.len;
}

/* A bounded reader. */
typedef struct {
  const uint8_t *p;
  size_t left;
  int err;
} rbuf;

static const uint8_t *take(rbuf *b, size_t n) {
  if (b->err || n > b->left) {
    b->err = 1;
    return NULL;
  }
  const uint8_t *r = b->p;
  b->p += n;
  b->left -= n;
  return r;
}
static uint8_t get_u8(rbuf *b) {
  const uint8_t *p = take(b, 1);
  return p ? p[0] : 0;
}
static uint32_t get_u32(rbuf *b) {
  const uint8_t *p = take(b, 4);
  return p ? tkms_be32_get(p) : 0;
}
static uint64_t get_u64(rbuf *b) {
  const uint8_t *p = take(b, 8);
  return p ? tkms_be64_get(p) : 0;
}
/* u16 length | canonical policy into r's policy slot. */
static void get_policy(rbuf *b, tkms_rec *r) {
  const uint8_t *l = take(b, 2);
  size_t n = l ? (size_t)(l[0] << 8 | l[1]) : 0;
  const uint8_t *enc = take(b, n);
  tkms_policy p;
  const char *why;
  if (b->err || n > TKMS_POLICY_ENC_MAX || tkms_policy_decode(enc, n, &p, &why) != 0 ||
      tkms_rec_set_policy(r, &p) != 0)
    b->err = 1;
}
/* A principal: length-prefixed, canonical. session_key: a session's key, which
 * may also be a MAC session's "x25519:" key (an owner never is). */
static void get_principal_as(rbuf *b, char out[TKMS_MAX_PRINCIPAL + 1], int session_key) {
  uint8_t n = get_u8(b);
  const uint8_t *s = take(b, n);
  tkms_principal pr;
  if (s == NULL || n == 0 || n > TKMS_MAX_PRINCIPAL) {
    b->err = 1;
    return;
  }
  memcpy(out, s, n);
  out[n] = '\0';
  int rc =
      session_key ? tkms_principal_parse_session_key(out, &pr) : tkms_principal_parse(out, &pr);
  if (rc != 0) b->err = 1;
}

static void get_principal(rbuf *b, char out[TKMS_MAX_PRINCIPAL + 1]) {
  get_principal_as(b, out, 0);
}

/* A measurement principal: length-prefixed; its form is checked by the caller
 * against the record's tee and measurement. */
static void get_measurement_principal(rbuf *b, char out[TKMS_MAX_PRINCIPAL + 1]) {
  uint8_t n = get_u8(b);
  const uint8_t *s = take(b, n);
  if (s == NULL || n == 0 || n > TKMS_MAX_PRINCIPAL) {
    b->err = 1;
    return;
  }
  memcpy(out, s, n);
  out[n] = '\0';
}

int tkms_rec_plain_decode(uint8_t type, const uint8_t *id, size_t id_len, uint32_t version,
                          const uint8_t *pt, size_t n, tkms_rec **out, const uint8_t **secret) {
  rbuf b = {pt, n, 0};
  if (id_len != id_len_for(type)) return -1;
  uint8_t format = get_u8(&b);
  if (type == TKMS_REC_TIME) {
    if (format != TKMS_REC_FORMAT) return -1;
    if (secret != NULL) *secret = NULL;
    return tkms_timerec_decode(id, id_len, version, b.p, b.left, out);
  }
  int attested = type == TKMS_REC_SESSION && format == TKMS_SESSREC_FORMAT_ATTESTED;
  if (format != TKMS_REC_FORMAT && !(type == TKMS_REC_KEY && format == TKMS_KEYREC_FORMAT) &&
      !attested)
    return -1;
  size_t n_keys = 0;
  if (type == TKMS_REC_SESSION) {
    /* The key count sits after two variable-length strings: find it first so the
     * record can be allocated with room for the key ids. */
    rbuf peek = b;
    for (int i = 0; i < 2; i++) take(&peek, get_u8(&peek));
    take(&peek, 1 + 8);
    n_keys = get_u8(&peek);
    if (peek.err || n_keys > TKMS_MAX_SCOPE_KEYS) return -1;
  }
  tkms_rec *r = tkms_rec_new(type == TKMS_REC_GOV ? TKMS_REC_GOV_SLOTS : n_keys);
  if (r == NULL) return -1;
  r->type = type;
  r->id_len = (uint8_t)id_len;
  memcpy(r->id, id, id_len);
  r->version = version;
  const uint8_t *sec = NULL;
  switch (type) {
    case TKMS_REC_KEY: {
      r->u.key.key_type = get_u8(&b);
      uint32_t v = get_u32(&b);
      r->u.key.created_at = get_u64(&b);
      get_principal(&b, r->u.key.owner);
      r->u.key.pub_len = get_u8(&b);
      const uint8_t *pub = take(&b, r->u.key.pub_len);
      if (format == TKMS_KEYREC_FORMAT) get_policy(&b, r); /* format 1: default */
      sec = take(&b, 32);
      if (b.err || v != version || pub == NULL || tkms_key_pub_len(r->u.key.key_type) == 0 ||
          r->u.key.pub_len != tkms_key_pub_len(r->u.key.key_type))
        b.err = 1;
      else
        memcpy(r->u.key.pub, pub, r->u.key.pub_len);
      break;
    }
    case TKMS_REC_SESSION: {
      if (attested)
        get_measurement_principal(&b, r->u.session.owner);
      else
        get_principal(&b, r->u.session.owner);
      get_principal_as(&b, r->u.session.session_key, !attested);
      r->u.session.ops = get_u8(&b);
      r->u.session.expiry = get_u64(&b);
      r->u.session.n_keys = get_u8(&b);
      const uint8_t *keys = take(&b, 16u * n_keys);
      if (b.err || r->u.session.ops == 0 || (r->u.session.ops & ~TKMS_SCOPE_ALL) != 0)
        b.err = 1;
      else if (n_keys > 0)
        memcpy(r->scope_keys, keys, 16u * n_keys);
      if (attested) {
        r->u.session.attested = 1;
        r->u.session.tee = get_u8(&b);
        r->u.session.mlen = get_u8(&b);
        const uint8_t *m = take(&b, r->u.session.mlen);
        uint8_t hi = get_u8(&b), lo = get_u8(&b);
        r->u.session.svn = (uint16_t)(hi << 8 | lo);
        r->u.session.tcb_status = get_u8(&b);
        r->u.session.verified_at = get_u64(&b);
        char want[TKMS_MAX_PRINCIPAL + 1];
        if (b.err || m == NULL || r->u.session.ops != TKMS_SCOPE_SIGN ||
            r->u.session.tcb_status >= TKMS_TCB__COUNT ||
            tkms_measurement_principal(r->u.session.tee, m, r->u.session.mlen, want) != 0 ||
            strcmp(want, r->u.session.owner) != 0)
          b.err = 1;
        else
          memcpy(r->u.session.meas, m, r->u.session.mlen);
      }
      break;
    }
    case TKMS_REC_NONCE:
      r->u.nonce.deadline = get_u64(&b);
      break;
    case TKMS_REC_GOV: {
      tkms_gov g;
      memset(&g, 0, sizeof g);
      g.n_governors = get_u8(&b);
      if (g.n_governors > TKMS_GOV_MAX_GOVERNORS) b.err = 1;
      for (unsigned i = 0; !b.err && i < g.n_governors; i++) {
        const uint8_t *a = take(&b, 20);
        if (a != NULL) memcpy(g.governors[i], a, 20);
      }
      g.threshold = get_u8(&b);
      g.delay = get_u64(&b);
      g.n_ann = get_u8(&b);
      if (g.n_ann > TKMS_GOV_MAX_ANNOUNCEMENTS) b.err = 1;
      for (unsigned i = 0; !b.err && i < g.n_ann; i++) {
        const uint8_t *m = take(&b, 32);
        if (m != NULL) memcpy(g.ann[i].measurement, m, 32);
        g.ann[i].accepted_at = get_u64(&b);
        g.ann[i].effective_at = get_u64(&b);
      }
      if (!b.err && b.left == 32) { /* absent in records written before it existed */
        memcpy(g.holder, take(&b, 32), 32);
        g.has_holder = 1;
      }
      if (b.err || tkms_gov_valid(&g) != 0)
        b.err = 1;
      else
        tkms_gov_to_rec(&g, r);
      break;
    }
    case TKMS_REC_POLICY_CHANGE:
      if (version != 1) b.err = 1;
      r->u.pending.accepted_at = get_u64(&b);
      r->u.pending.effective_at = get_u64(&b);
      get_principal(&b, r->u.pending.new_owner);
      get_policy(&b, r);
      if (r->u.pending.effective_at < r->u.pending.accepted_at) b.err = 1;
      break;
    default:
      b.err = 1;
  }
  if (b.err || b.left != 0) {
    tkms_rec_free(r);
    return -1;
  }
  if (secret != NULL) *secret = sec;
  *out = r;
  return 0;
}
