/* src/host/routes_attested.c — POST /v1/attestation/challenge and
 * POST /v1/sessions/attested (docs/attested-sessions.md). The host only
 * marshals: the core makes and consumes the nonce, verifies the evidence,
 * checks the binding and every key's policy. */
#include <string.h>

#include "host/routes_priv.h"
#include "proto/hex.h"
#include "proto/ops.h"

void tkms_route_attest_challenge(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"_"};
  json_t *body = NULL;
  /* No fields; an empty body or {} is accepted. */
  if (req->body_len > 0 && tkms_body_parse(req, fields, 0, &body, resp) != 0) return;
  json_decref(body);
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_ATTEST_CHALLENGE, 0, 0) != 0) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int r = tkms_core_request(req->host, &w, &rep, resp);
  tkms_fw_free(&w);
  if (r != 0) return;
  uint8_t nonce[32];
  uint64_t exp;
  if (tkms_frame_get_fixed(&rep.f, TKMS_F_NONCE, nonce, sizeof nonce) != 0 ||
      tkms_frame_get_u64(&rep.f, TKMS_F_EXPIRY, &exp) != 0) {
    tkms_reply_free(&rep);
    tkms_resp_error(resp, 500, "internal", "the core's challenge answer is incomplete");
    return;
  }
  tkms_reply_free(&rep);
  tkms_resp_json(resp, 200,
                 json_pack("{s:o, s:I}", "nonce", tkms_json_hexstr(nonce, sizeof nonce),
                           "expires_at", (json_int_t)exp));
}

typedef struct {
  const char *session_key;
  uint64_t expiry;
  tkms_session_meta s;
} att_ctx;

static int att_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  att_ctx *c = ctx;
  m->kind = TKMS_META_SESSION_OPEN;
  if (tkms_frame_get_fixed(f, TKMS_F_SESSION_ID, m->session.id, TKMS_SESSION_ID_BYTES) != 0 ||
      tkms_frame_get_str(f, TKMS_F_OWNER, m->session.owner, TKMS_MAX_PRINCIPAL) != 0)
    return -1;
  snprintf(m->session.session_key, sizeof m->session.session_key, "%s", c->session_key);
  m->session.expiry = c->expiry;
  c->s = m->session;
  return 0;
}

/* "0x…" hex into a fresh buffer of at most max bytes. */
static uint8_t *hex_alloc(const char *s, size_t max, size_t *n) {
  size_t l = strlen(s);
  if (l < 4 || s[0] != '0' || s[1] != 'x' || (l - 2) % 2 != 0 || (l - 2) / 2 > max) return NULL;
  uint8_t *b = malloc((l - 2) / 2);
  if (b == NULL) return NULL;
  if (tkms_hex_decode(s, b, (l - 2) / 2, n) != 0) {
    free(b);
    return NULL;
  }
  return b;
}

/* collateral: {name: "0x…"}; each item becomes u8 name_len | name | data. */
static int collateral_parse(const json_t *body, tkms_fw *w, tkms_resp *resp) {
  json_t *col = json_object_get(body, "collateral"), *v;
  const char *name;
  if (col == NULL) return 0;
  if (!json_is_object(col) || json_object_size(col) > TKMS_MAX_COLLATERAL_ITEMS) {
    tkms_resp_error(resp, 400, "bad_request",
                    "collateral must be an object of at most 16 items {name: \"0x…\"}");
    return -1;
  }
  json_object_foreach(col, name, v) {
    size_t nl = strlen(name), n = 0;
    const char *s = json_string_value(v);
    uint8_t *b =
        s != NULL && nl >= 1 && nl <= 32 ? hex_alloc(s, TKMS_MAX_COLLATERAL_ITEM, &n) : NULL;
    uint8_t *item = b != NULL ? malloc(1 + nl + n) : NULL;
    if (item == NULL) {
      free(b);
      tkms_resp_error(resp, 400, "bad_request",
                      "each collateral item is named by 1..32 characters and is 0x-prefixed hex");
      return -1;
    }
    item[0] = (uint8_t)nl;
    memcpy(item + 1, name, nl);
    memcpy(item + 1 + nl, b, n);
    tkms_fw_bytes(w, TKMS_F_COLLATERAL, item, 1 + nl + n);
    free(item);
    free(b);
  }
  return 0;
}

void tkms_route_session_open_attested(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"format",      "evidence", "collateral", "nonce",
                                       "session_key", "expiry",   "key_ids"};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  att_ctx c = {0};
  const char *format, *ev_hex;
  uint8_t nonce[32];
  size_t nonce_n = 0;
  json_t *keys = NULL, *v;
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_SESSION_OPEN_ATTESTED, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int kr = 0;
  if (tkms_json_str(body, "format", 1, 16, &format, &e) != 0 ||
      tkms_json_str(body, "evidence", 1, 2 + 2 * TKMS_MAX_EVIDENCE, &ev_hex, &e) != 0 ||
      tkms_json_hex(body, "nonce", 1, 32, 32, nonce, &nonce_n, &e) != 0 ||
      tkms_json_str(body, "session_key", 1, TKMS_MAX_PRINCIPAL, &c.session_key, &e) != 0 ||
      tkms_json_u64(body, "expiry", 1, &c.expiry, &e) != 0 ||
      (kr = tkms_json_array(body, "key_ids", 0, TKMS_MAX_SCOPE_KEYS, &keys, &e)) < 0) {
    tkms_resp_json_error(resp, &e);
    goto out;
  }
  size_t ev_n = 0;
  uint8_t *ev = hex_alloc(ev_hex, TKMS_MAX_EVIDENCE, &ev_n);
  if (ev == NULL) {
    tkms_resp_error(resp, 400, "bad_request", "evidence must be 0x-prefixed hex of at most 64 KiB");
    goto out;
  }
  tkms_fw_str(&w, TKMS_F_ATT_FORMAT, format);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev, ev_n);
  free(ev);
  if (collateral_parse(body, &w, resp) != 0) goto out;
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, sizeof nonce);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, c.session_key);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, c.expiry);
  if (kr == 0) {
    size_t i;
    json_array_foreach(keys, i, v) {
      uint8_t id[TKMS_KEY_ID_BYTES];
      if (tkms_json_elem_hex_exact(v, "key_ids", i, id, sizeof id, &e) != 0) {
        tkms_resp_json_error(resp, &e);
        goto out;
      }
      tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, id, sizeof id);
    }
  }
  tkms_reply rep;
  if (tkms_core_mutation(req->host, &w, att_meta, &c, &rep, resp) == 0) {
    const uint8_t *m;
    size_t ml;
    char fmt[16], tcb[48];
    uint32_t svn = 0;
    uint64_t at = 0;
    if (tkms_frame_get(&rep.f, TKMS_F_ATT_MEASUREMENT, &m, &ml) != 0 ||
        tkms_frame_get_str(&rep.f, TKMS_F_ATT_FORMAT, fmt, sizeof fmt - 1) != 0 ||
        tkms_frame_get_str(&rep.f, TKMS_F_ATT_TCB_STATUS, tcb, sizeof tcb - 1) != 0 ||
        tkms_frame_get_u32(&rep.f, TKMS_F_ATT_SVN, &svn) != 0 ||
        tkms_frame_get_u64(&rep.f, TKMS_F_TIME, &at) != 0) {
      tkms_reply_free(&rep);
      tkms_resp_error(resp, 500, "internal",
                      "the session is open but the core's answer is incomplete");
      goto out;
    }
    json_t *o = json_pack("{s:o, s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:s, s:I}", "session_id",
                          tkms_json_hexstr(c.s.id, TKMS_SESSION_ID_BYTES), "owner", c.s.owner,
                          "session_key", c.s.session_key, "expiry", (json_int_t)c.s.expiry,
                          "operations", "sign", "tee", fmt, "measurement", tkms_json_hexstr(m, ml),
                          "svn", (json_int_t)svn, "tcb_status", tcb, "verified_at", (json_int_t)at);
    tkms_reply_free(&rep);
    if (o != NULL) json_object_set_new(o, "operations", json_pack("[s]", "sign"));
    tkms_resp_json(resp, 201, o);
  }
out:
  tkms_fw_free(&w);
  json_decref(body);
}
