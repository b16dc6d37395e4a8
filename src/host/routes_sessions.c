/* src/host/routes_sessions.c — POST /v1/sessions and DELETE /v1/sessions/{id}
 * (docs/api.md). The core checks every signature and scope; the host only
 * marshals the fields and keeps the session's public metadata. */
#include <string.h>

#include "host/routes_priv.h"
#include "proto/ops.h"

#define MAX_SCOPE_OPS \
  8u /* the API knows 4 operations; room for duplicates to be refused by the core */
#define MAX_SCOPE_OP_LEN 16u

typedef struct {
  const char *session_key;
  uint64_t expiry;
  tkms_session_meta s; /* for the response */
} open_ctx;

static int open_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  open_ctx *c = ctx;
  m->kind = TKMS_META_SESSION_OPEN;
  if (tkms_frame_get_fixed(f, TKMS_F_SESSION_ID, m->session.id, TKMS_SESSION_ID_BYTES) != 0 ||
      tkms_frame_get_str(f, TKMS_F_OWNER, m->session.owner, TKMS_MAX_PRINCIPAL) != 0)
    return -1;
  snprintf(m->session.session_key, sizeof m->session.session_key, "%s", c->session_key);
  m->session.expiry = c->expiry;
  c->s = m->session;
  return 0;
}

/* Appends operations[] and key_ids[] as repeated scope fields. */
static int scope_parse(const json_t *body, tkms_fw *w, tkms_json_err *e) {
  json_t *ops, *keys = NULL, *v;
  size_t i;
  if (tkms_json_array(body, "operations", 1, MAX_SCOPE_OPS, &ops, e) != 0) return -1;
  json_array_foreach(ops, i, v) {
    const char *op;
    if (tkms_json_elem_str(v, "operations", i, MAX_SCOPE_OP_LEN, &op, e) != 0) return -1;
    tkms_fw_str(w, TKMS_F_SCOPE_OP, op);
  }
  int r = tkms_json_array(body, "key_ids", 0, TKMS_MAX_SCOPE_KEYS, &keys, e);
  if (r < 0) return -1;
  if (r == 0) {
    json_array_foreach(keys, i, v) {
      uint8_t id[TKMS_KEY_ID_BYTES];
      if (tkms_json_elem_hex_exact(v, "key_ids", i, id, sizeof id, e) != 0) return -1;
      tkms_fw_bytes(w, TKMS_F_SCOPE_KEY, id, sizeof id);
    }
  }
  return 0;
}

void tkms_route_session_open(tkms_req *req, tkms_resp *resp) {
  /* No session_id: a session is opened by the owner itself (ops.h). */
  static const char *const fields[] = {"session_key", "operations", "key_ids",
                                       "expiry",      "owner",      TKMS_ENVELOPE_FIELDS};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  open_ctx c = {0};
  const char *owner;
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_SESSION_OPEN, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  if (tkms_json_str(body, "session_key", 1, TKMS_MAX_PRINCIPAL, &c.session_key, &e) != 0 ||
      tkms_json_u64(body, "expiry", 1, &c.expiry, &e) != 0 ||
      tkms_json_str(body, "owner", 1, TKMS_MAX_PRINCIPAL, &owner, &e) != 0 ||
      scope_parse(body, &w, &e) != 0 || tkms_envelope_parse(body, &w, 0, NULL, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else {
    tkms_fw_str(&w, TKMS_F_SESSION_KEY, c.session_key);
    tkms_fw_u64(&w, TKMS_F_EXPIRY, c.expiry);
    tkms_fw_str(&w, TKMS_F_OWNER, owner);
    tkms_reply rep;
    if (tkms_core_mutation(req->host, &w, open_meta, &c, &rep, resp) == 0) {
      tkms_reply_free(&rep);
      tkms_resp_json(resp, 201,
                     json_pack("{s:o, s:s, s:s, s:I}", "session_id",
                               tkms_json_hexstr(c.s.id, TKMS_SESSION_ID_BYTES), "owner", c.s.owner,
                               "session_key", c.s.session_key, "expiry", (json_int_t)c.s.expiry));
    }
  }
  tkms_fw_free(&w);
  json_decref(body);
}

typedef struct {
  uint8_t id[TKMS_SESSION_ID_BYTES];
} revoke_ctx;

static int revoke_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  revoke_ctx *c = ctx;
  m->kind = TKMS_META_SESSION_REVOKE;
  memcpy(m->session.id, c->id, sizeof c->id);
  return 0;
}

void tkms_route_session_revoke(tkms_req *req, tkms_resp *resp) {
  /* Signed by the owner ("owner") or by the session key ("session_id"). */
  static const char *const fields[] = {"owner", TKMS_ENVELOPE_FIELDS, "session_id"};
  revoke_ctx c;
  json_t *body;
  if (tkms_path_id(req, c.id, sizeof c.id, "session id", resp) != 0) return;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  const char *owner = NULL;
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_SESSION_REVOKE, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int r = tkms_json_str(body, "owner", 0, TKMS_MAX_PRINCIPAL, &owner, &e);
  int has_sid = json_object_get(body, "session_id") != NULL;
  if (r < 0 || tkms_envelope_parse(body, &w, 1, NULL, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else if ((r == 0) == has_sid) {
    tkms_resp_error(resp, 400, "bad_request",
                    "give exactly one of \"owner\" (signed by the owner) or \"session_id\" "
                    "(signed by the session key)");
  } else {
    tkms_fw_bytes(&w, TKMS_F_TARGET_SESSION, c.id, sizeof c.id);
    if (r == 0) tkms_fw_str(&w, TKMS_F_OWNER, owner);
    tkms_reply rep;
    if (tkms_core_mutation(req->host, &w, revoke_meta, &c, &rep, resp) == 0) {
      tkms_reply_free(&rep);
      tkms_resp_json(resp, 200,
                     json_pack("{s:o, s:b}", "session_id",
                               tkms_json_hexstr(c.id, TKMS_SESSION_ID_BYTES), "revoked", 1));
    }
  }
  tkms_fw_free(&w);
  json_decref(body);
}
