/* src/host/routes_keys.c — /v1/keys routes (docs/api.md). The host answers
 * from public metadata what it can (listing, reading, unknown or destroyed
 * keys) and carries everything else to the core; the owner of an existing key
 * comes from the core's own index, never from the client. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "host/flatjson.h"
#include "host/policy_json.h"
#include "host/routes_priv.h"
#include "proto/hex.h"
#include "proto/ops.h"

#define MAX_LISTED_VERSIONS 1000u /* bounds a GET answer; rotations are signed requests */
#define SIGN_ATTEMPTS 3           /* a rotation may replace the blob between read and use */

/* ---- rendering ----------------------------------------------------------------- */

static const char *state_name(int state) {
  return state == TKMS_KEY_STATE_DESTROYED ? "destroyed" : "active";
}

static json_t *key_json(const tkms_key_meta *k) {
  json_t *o =
      json_pack("{s:o, s:s, s:s, s:s, s:I, s:o, s:I, s:I}", "key_id", tkms_json_hexstr(k->id, 16),
                "key_type", k->key_type, "owner", k->owner, "state", state_name(k->state),
                "version", (json_int_t)k->version, "public_key",
                tkms_json_hexstr(k->current.public_key, k->current.public_key_len), "created_at",
                (json_int_t)k->created_at, "updated_at", (json_int_t)k->updated_at);
  if (o && k->current.has_address)
    json_object_set_new(o, "address", tkms_json_hexstr(k->current.address, 20));
  if (o && k->current.has_operator_id)
    json_object_set_new(o, "operator_id", tkms_json_hexstr(k->current.operator_id, 32));
  if (o && k->state == TKMS_KEY_STATE_DESTROYED)
    json_object_set_new(o, "destroyed_at", json_integer((json_int_t)k->destroyed_at));
  return o;
}

/* The receipt fields as the EIP-712 DeletionReceipt message (camelCase). */
static void add_receipt(json_t *o, const tkms_receipt *r) {
  /* Unsigned: the host died between the destroy's COMMIT and storing the
   * signature (store.h). A receipt without its signature proves nothing. */
  static const uint8_t unsigned_sig[65];
  if (memcmp(r->signature, unsigned_sig, sizeof unsigned_sig) == 0) return;
  json_object_set_new(
      o, "receipt",
      json_pack("{s:o, s:s, s:I, s:I, s:o}", "keyId", tkms_json_hexstr(r->key_id, 16), "owner",
                r->owner, "version", (json_int_t)r->version, "destroyedAt",
                (json_int_t)r->destroyed_at, "requestId", tkms_json_hexstr(r->request_id, 32)));
  json_object_set_new(o, "receipt_signature", tkms_json_hexstr(r->signature, 65));
  json_object_set_new(o, "signer", tkms_json_hexstr(r->signer, 20));
}

typedef struct {
  json_t *arr;
  uint32_t current;
  int usable;
  unsigned n;
} versions_ctx;

static int add_version(void *ctx, const tkms_key_version *v) {
  versions_ctx *c = ctx;
  if (c->n++ >= MAX_LISTED_VERSIONS) return 1;
  json_t *o = json_pack("{s:I, s:o, s:I, s:b}", "version", (json_int_t)v->version, "public_key",
                        tkms_json_hexstr(v->public_key, v->public_key_len), "created_at",
                        (json_int_t)v->created_at, "usable", c->usable && v->version == c->current);
  if (o && v->has_address) json_object_set_new(o, "address", tkms_json_hexstr(v->address, 20));
  if (o && v->has_operator_id)
    json_object_set_new(o, "operator_id", tkms_json_hexstr(v->operator_id, 32));
  return json_array_append_new(c->arr, o) == 0 ? 0 : -1;
}

/* The full key object of GET /v1/keys/{id} (also the answer to rotate). */
static void key_full(tkms_host *h, const tkms_key_meta *k, tkms_resp *resp) {
  json_t *o = key_json(k);
  versions_ctx vc = {json_array(), k->version, k->state == TKMS_KEY_STATE_ACTIVE, 0};
  int rc = vc.arr ? tkms_store_key_versions(h->store, k->id, add_version, &vc) : -1;
  if (rc != 0 && rc != 1) {
    json_decref(o);
    json_decref(vc.arr);
    tkms_resp_store_error(resp, rc);
    return;
  }
  if (o)
    json_object_set_new(o, "versions", vc.arr);
  else
    json_decref(vc.arr);
  if (o && rc == 1) json_object_set_new(o, "versions_truncated", json_true());
  if (o && k->state == TKMS_KEY_STATE_DESTROYED) {
    tkms_receipt r;
    rc = tkms_store_receipt_get(h->store, k->id, &r);
    if (rc == TKMS_STORE_OK)
      add_receipt(o, &r);
    else if (rc != TKMS_STORE_NOTFOUND) {
      json_decref(o);
      tkms_resp_store_error(resp, rc);
      return;
    }
  }
  tkms_resp_json(resp, 200, o);
}

/* Looks the key up; answers 404 / 410 / store errors. want_active: a
 * destroyed key is an error (key operations), not a result (GET). */
static int lookup(tkms_host *h, const uint8_t id[16], int want_active, tkms_key_meta *k,
                  tkms_resp *resp) {
  int rc = tkms_store_key_get(h->store, id, k);
  if (rc == TKMS_STORE_NOTFOUND) {
    tkms_resp_error(resp, 404, "key_not_found", "no such key");
    return -1;
  }
  if (rc != TKMS_STORE_OK) {
    tkms_resp_store_error(resp, rc);
    return -1;
  }
  if (want_active && k->state == TKMS_KEY_STATE_DESTROYED) {
    tkms_resp_error(resp, 410, "key_destroyed",
                    "the key was destroyed; its public data and receipt remain readable");
    return -1;
  }
  return 0;
}

/* Public data of a key version from a create/rotate answer. */
int tkms_key_result_version(const tkms_frame *f, tkms_key_version *v, uint8_t key_id[16]) {
  const uint8_t *pk;
  size_t pklen;
  memset(v, 0, sizeof *v);
  if (tkms_frame_get_fixed(f, TKMS_F_KEY_ID, key_id, 16) != 0 ||
      tkms_frame_get_u32(f, TKMS_F_VERSION, &v->version) != 0 ||
      tkms_frame_get_u64(f, TKMS_F_TIME, &v->created_at) != 0 ||
      tkms_frame_get(f, TKMS_F_PUBKEY, &pk, &pklen) != 0 || pklen == 0 || pklen > TKMS_PUBKEY_MAX)
    return -1;
  memcpy(v->public_key, pk, pklen);
  v->public_key_len = pklen;
  v->has_address = tkms_frame_get_fixed(f, TKMS_F_ADDRESS, v->address, 20) == 0;
  v->has_operator_id = tkms_frame_get_fixed(f, TKMS_F_OPERATOR_ID, v->operator_id, 32) == 0;
  return 0;
}

/* ---- POST /v1/keys --------------------------------------------------------------- */

typedef struct {
  const char *key_type;
  const char *owner;
  tkms_key_meta key; /* filled from the answer, for the response */
} create_ctx;

static int create_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  create_ctx *c = ctx;
  m->kind = TKMS_META_KEY_CREATE;
  if (tkms_key_result_version(f, &m->ver, m->key.id) != 0) return -1;
  snprintf(m->key.owner, sizeof m->key.owner, "%s", c->owner);
  snprintf(m->key.key_type, sizeof m->key.key_type, "%s", c->key_type);
  m->key.state = TKMS_KEY_STATE_ACTIVE;
  m->key.version = m->ver.version;
  m->key.created_at = m->key.updated_at = m->ver.created_at;
  m->key.current = m->ver;
  c->key = m->key;
  return 0;
}

void tkms_route_keys_create(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"key_type", "owner", "policy", TKMS_ENVELOPE_FIELDS,
                                       "session_id"};
  json_t *body;
  uint8_t pol[TKMS_POLICY_JSON_ENC_MAX];
  size_t pol_len = 0;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  create_ctx c = {0};
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_KEY_CREATE, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  if (tkms_json_str(body, "key_type", 1, TKMS_KEY_TYPE_MAX, &c.key_type, &e) != 0 ||
      tkms_json_str(body, "owner", 1, TKMS_MAX_PRINCIPAL, &c.owner, &e) != 0 ||
      tkms_policy_json_encode(json_object_get(body, "policy"), "policy", pol, sizeof pol, &pol_len,
                              &e) != 0 ||
      tkms_envelope_parse(body, &w, 1, NULL, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else {
    tkms_fw_str(&w, TKMS_F_KEY_TYPE, c.key_type);
    tkms_fw_str(&w, TKMS_F_OWNER, c.owner);
    tkms_fw_bytes(&w, TKMS_F_POLICY, pol, pol_len); /* empty: the default policy */
    tkms_reply rep;
    if (tkms_core_mutation(req->host, &w, create_meta, &c, &rep, resp) == 0) {
      tkms_reply_free(&rep);
      tkms_resp_json(resp, 201, key_json(&c.key));
    }
  }
  tkms_fw_free(&w);
  json_decref(body);
}

/* ---- GET /v1/keys?owner=&limit=&cursor= ------------------------------------------ */

static int list_one(void *ctx, const tkms_key_meta *k) {
  return json_array_append_new(ctx, key_json(k)) == 0 ? 0 : -1;
}

/* eoa:0x<40 hex> or ed25519:0x<64 hex>, lower case: the forms the core accepts. */
static int principal_text_ok(const char *s) {
  size_t digits;
  if (strncmp(s, "eoa:0x", 6) == 0) {
    s += 6;
    digits = 40;
  } else if (strncmp(s, "ed25519:0x", 10) == 0) {
    s += 10;
    digits = 64;
  } else {
    return 0;
  }
  if (strlen(s) != digits) return 0;
  for (; *s; s++) {
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
  }
  return 1;
}

void tkms_route_keys_list(tkms_req *req, tkms_resp *resp) {
  const char *owner_q = tkms_req_query(req, "owner");
  const char *limit_q = tkms_req_query(req, "limit");
  const char *cursor_q = tkms_req_query(req, "cursor");
  char owner[TKMS_MAX_PRINCIPAL + 1];
  if (owner_q == NULL || tkms_json_printable(owner_q, TKMS_MAX_PRINCIPAL) != 0) {
    tkms_resp_error(resp, 400, "bad_request",
                    "query parameter owner (a principal, e.g. eoa:0x...) is required");
    return;
  }
  /* Principals are stored in their canonical lower-case form (ops.h); accept a
   * checksummed address in a query, but nothing that is not a principal. */
  snprintf(owner, sizeof owner, "%s", owner_q);
  for (char *p = owner; *p; p++) *p = (char)tolower((unsigned char)*p);
  if (!principal_text_ok(owner)) {
    tkms_resp_error(resp, 400, "bad_request",
                    "owner must be a principal: eoa:0x<40 hex> or ed25519:0x<64 hex>");
    return;
  }
  unsigned long limit = 50;
  if (limit_q != NULL) {
    char *end;
    if (limit_q[0] < '0' || limit_q[0] > '9' || strlen(limit_q) > 3 ||
        (limit = strtoul(limit_q, &end, 10), *end != '\0') || limit < 1 || limit > 100) {
      tkms_resp_error(resp, 400, "bad_request", "limit must be an integer from 1 to 100");
      return;
    }
  }
  uint64_t after = 0, next = 0;
  if (cursor_q != NULL) {
    uint8_t cb[8];
    if (tkms_hex_decode_exact(cursor_q, cb, sizeof cb) != 0) {
      tkms_resp_error(resp, 400, "bad_request",
                      "cursor must be a next_cursor from a previous page");
      return;
    }
    after = tkms_be64_get(cb);
  }
  json_t *arr = json_array();
  if (arr == NULL) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int rc = tkms_store_keys_by_owner(req->host->store, owner, after, (unsigned)limit, list_one, arr,
                                    &next);
  if (rc != TKMS_STORE_OK) {
    json_decref(arr);
    tkms_resp_store_error(resp, rc);
    return;
  }
  json_t *cursor = json_null();
  if (next != 0) {
    uint8_t cb[8];
    tkms_be64_put(cb, next);
    cursor = tkms_json_hexstr(cb, sizeof cb);
  }
  tkms_resp_json(resp, 200, json_pack("{s:o, s:o}", "keys", arr, "next_cursor", cursor));
}

/* ---- GET /v1/keys/{id} ---------------------------------------------------------- */

void tkms_route_key_get(tkms_req *req, tkms_resp *resp) {
  uint8_t id[16];
  tkms_key_meta k;
  if (tkms_path_id(req, id, sizeof id, "key id", resp) != 0) return;
  if (lookup(req->host, id, 0, &k, resp) != 0) return;
  key_full(req->host, &k, resp);
}

/* ---- POST /v1/keys/{id}/sign ------------------------------------------------------ */

int tkms_sign_frame(tkms_host *h, const uint8_t id[16], const char *mode, const uint8_t *payload,
                    size_t plen, uint32_t version, const tkms_envelope *env, tkms_fw *w,
                    tkms_resp *resp) {
  uint32_t ver;
  uint8_t *blob;
  size_t blen;
  memset(w, 0, sizeof *w);
  int src = tkms_store_record_get(h->store, TKMS_REC_KEY, id, 16, &ver, &blob, &blen);
  if (src != TKMS_STORE_OK) {
    if (src == TKMS_STORE_NOTFOUND)
      tkms_resp_error(resp, 500, "internal", "the key's sealed record is missing from storage");
    else
      tkms_resp_store_error(resp, src);
    return -1;
  }
  if (tkms_fw_init(w, TKMS_OP_KEY_SIGN, 0, 0) != 0) {
    tkms_store_free(blob, blen);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return -1;
  }
  tkms_fw_bytes(w, TKMS_F_KEY_ID, id, 16);
  tkms_fw_str(w, TKMS_F_SIGN_MODE, mode);
  tkms_fw_bytes(w, TKMS_F_PAYLOAD, payload, plen);
  tkms_fw_u32(w, TKMS_F_VERSION, version != 0 ? version : ver);
  tkms_fw_bytes(w, TKMS_F_BLOB, blob, blen);
  tkms_store_free(blob, blen);
  tkms_envelope_put(w, env);
  if (tkms_fw_finish(w) != 0) {
    tkms_fw_free(w);
    tkms_resp_error(resp, 400, "bad_request", "the request is too large for the core");
    return -1;
  }
  return 0;
}

/* What the answer names besides the core's result. */
typedef struct {
  uint8_t id[16];
  char mode[17];
} sign_meta;

static const char *const sign_fields[] = {"mode", "payload", "version", TKMS_ENVELOPE_FIELDS,
                                          "session_id"};

/* A hex string of min..max bytes, as tkms_json_hex accepts it. */
static int fj_hex(const tkms_fj_member *v, size_t min, size_t max, uint8_t *out, size_t *n) {
  if (v == NULL || !v->is_str || v->str_len > TKMS_JSON_MAX_STRING ||
      tkms_hex_decode_len(v->str, v->str_len, out, max, n) != 0)
    return -1;
  return *n >= min ? 0 : -1;
}

int tkms_sign_body_fast(const char *buf, size_t len, tkms_sign_body *b) {
  tkms_fj o;
  if (buf == NULL || tkms_fj_parse(buf, len, &o) != 0) return -1;
  for (size_t i = 0; i < o.n; i++) {
    size_t k = 0;
    while (k < sizeof sign_fields / sizeof *sign_fields &&
           (strlen(sign_fields[k]) != o.m[i].name_len ||
            memcmp(sign_fields[k], o.m[i].name, o.m[i].name_len) != 0))
      k++;
    if (k == sizeof sign_fields / sizeof *sign_fields) return -1; /* an unknown field */
  }
  const tkms_fj_member *mode = tkms_fj_get(&o, "mode"), *ver = tkms_fj_get(&o, "version"),
                       *dl = tkms_fj_get(&o, "deadline"), *sid = tkms_fj_get(&o, "session_id");
  /* mode: 1..16 printable characters (the subset has no others). */
  if (mode == NULL || !mode->is_str || mode->str_len == 0 || mode->str_len > 16) return -1;
  if (ver == NULL || ver->is_str || ver->num == 0 || ver->num > UINT32_MAX) return -1;
  if (dl == NULL || dl->is_str) return -1;
  tkms_envelope *env = &b->env;
  memset(env, 0, sizeof *env);
  size_t n;
  if (fj_hex(tkms_fj_get(&o, "payload"), 0, TKMS_MAX_PAYLOAD, b->payload, &b->plen) != 0) {
    explicit_bzero(b->payload, TKMS_MAX_PAYLOAD); /* a failed decode may have written some */
    b->plen = 0;
    return -1;
  }
  if (fj_hex(tkms_fj_get(&o, "request_id"), sizeof env->request_id, sizeof env->request_id,
             env->request_id, &n) != 0 ||
      fj_hex(tkms_fj_get(&o, "deployment"), sizeof env->deployment, sizeof env->deployment,
             env->deployment, &n) != 0 ||
      fj_hex(tkms_fj_get(&o, "signature"), 0, sizeof env->sig, env->sig, &env->sig_len) != 0 ||
      (sid != NULL &&
       fj_hex(sid, sizeof env->session_id, sizeof env->session_id, env->session_id, &n) != 0)) {
    /* The jansson path decodes the payload again: leave nothing of this one. */
    explicit_bzero(b->payload, b->plen);
    b->plen = 0;
    return -1;
  }
  env->has_session = sid != NULL;
  memcpy(b->mode, mode->str, mode->str_len);
  b->mode[mode->str_len] = '\0';
  b->version = ver->num;
  env->deadline = dl->num;
  return 0;
}

/* The jansson path. An envelope error is kept in *env_err (env_bad = 1) rather
 * than answered: it is reported after the key lookup, as it always was. */
static int sign_body_json(const tkms_req *req, tkms_sign_body *b, int *env_bad,
                          tkms_json_err *env_err, tkms_resp *resp) {
  json_t *body;
  if (tkms_body_parse(req, sign_fields, sizeof sign_fields / sizeof *sign_fields, &body, resp) != 0)
    return -1;
  tkms_json_err e = {0};
  const char *mode;
  int rc = -1;
  if (tkms_json_str(body, "mode", 1, 16, &mode, &e) != 0 ||
      tkms_json_hex(body, "payload", 1, 0, TKMS_MAX_PAYLOAD, b->payload, &b->plen, &e) != 0 ||
      tkms_json_u64(body, "version", 1, &b->version, &e) != 0) {
    tkms_resp_json_error(resp, &e);
    goto out;
  }
  snprintf(b->mode, sizeof b->mode, "%s", mode);
  if (b->version == 0 || b->version > UINT32_MAX) {
    tkms_resp_error(resp, 400, "bad_request", "version must be a key version (1 .. 2^32-1)");
    goto out;
  }
  *env_bad = tkms_envelope_read(body, 1, &b->env, env_err) != 0;
  rc = 0;
out:
  json_decref(body);
  return rc;
}

int tkms_sign_body_json(const tkms_req *req, tkms_sign_body *b, tkms_resp *resp) {
  int env_bad = 0;
  tkms_json_err e = {0};
  if (sign_body_json(req, b, &env_bad, &e, resp) != 0) return -1;
  if (env_bad) {
    tkms_resp_json_error(resp, &e);
    return -1;
  }
  return 0;
}

/* Parses the body and builds a KEY_SIGN frame carrying the key's current
 * sealed record, finished. Returns 0, or -1 with resp set. */
static int sign_build(tkms_req *req, tkms_fw *w, sign_meta *m, tkms_resp *resp) {
  tkms_key_meta k;
  int rc = -1, env_bad = 0;
  tkms_json_err env_err = {0};
  memset(w, 0, sizeof *w);
  if (tkms_path_id(req, m->id, sizeof m->id, "key id", resp) != 0) return -1;
  tkms_sign_body b;
  memset(&b, 0, sizeof b);
  b.payload = malloc(TKMS_MAX_PAYLOAD);
  if (b.payload == NULL) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return -1;
  }
  /* The flat fast path, or jansson for anything else (and for every error). */
  if (tkms_sign_body_fast(req->body, req->body_len, &b) != 0) {
    b.plen = 0;
    if (sign_body_json(req, &b, &env_bad, &env_err, resp) != 0) goto out;
  }
  snprintf(m->mode, sizeof m->mode, "%s", b.mode);
  if (lookup(req->host, m->id, 1, &k, resp) != 0) goto out;
  if (env_bad) {
    tkms_resp_json_error(resp, &env_err);
    goto out;
  }
  if (tkms_sign_frame(req->host, m->id, b.mode, b.payload, b.plen, (uint32_t)b.version, &b.env, w,
                      resp) != 0)
    goto out;
  rc = 0;
out:
  /* On success, what was decoded (not all 16 KiB on every request); a failed
   * decode may have written more. */
  explicit_bzero(b.payload, rc == 0 ? b.plen : TKMS_MAX_PAYLOAD);
  free(b.payload);
  return rc;
}

/* Renders the core's OK answer; frees rep. */
static void sign_render(const sign_meta *m, tkms_reply *rep, tkms_resp *resp) {
  uint8_t sig[65];
  const uint8_t *sv;
  size_t slen;
  uint32_t version;
  if (tkms_frame_get(&rep->f, TKMS_F_SIGNATURE, &sv, &slen) != 0 || (slen != 64 && slen != 65) ||
      tkms_frame_get_u32(&rep->f, TKMS_F_VERSION, &version) != 0) {
    tkms_reply_free(rep);
    tkms_resp_error(resp, 500, "internal", "the core's signing answer is incomplete");
    return;
  }
  memcpy(sig, sv, slen);
  uint8_t point[64]; /* bn254_hash / avs_registration: the G1 point that was signed */
  int has_point = tkms_frame_get_fixed(&rep->f, TKMS_F_BN_POINT, point, sizeof point) == 0;
  tkms_reply_free(rep);
  /* Written directly rather than built with jansson: this runs once per
   * signature, where jansson's objects and dump cost a few microseconds. The
   * mode is one the core accepted (lower-case letters, digits, '_'), so it
   * needs no escaping; anything else is refused rather than escaped here. */
  for (const char *c = m->mode; *c; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
      tkms_resp_error(resp, 500, "internal", "the signing mode cannot be rendered");
      return;
    }
  }
  char id_hex[2 * 16 + 3], sig_hex[2 * 65 + 3], point_hex[2 * 64 + 3];
  tkms_hex_encode(m->id, 16, id_hex);
  tkms_hex_encode(sig, slen, sig_hex);
  if (has_point) tkms_hex_encode(point, sizeof point, point_hex);
  enum { CAP = 512 };
  char *body = malloc(CAP);
  int n = body == NULL ? -1
                       : snprintf(body, CAP,
                                  "{\"key_id\":\"%s\",\"version\":%u,\"mode\":\"%s\",\"signature\":"
                                  "\"%s\"%s%s%s}",
                                  id_hex, (unsigned)version, m->mode, sig_hex,
                                  has_point ? ",\"point\":\"" : "", has_point ? point_hex : "",
                                  has_point ? "\"" : "");
  if (n < 0 || n >= CAP) {
    const char *why = body == NULL ? "out of memory" : "the answer is too large";
    free(body);
    tkms_resp_error(resp, 500, "internal", why);
    return;
  }
  tkms_resp_clear(resp);
  resp->status = 200;
  resp->body = body;
  resp->len = (size_t)n;
}

void tkms_route_key_sign(tkms_req *req, tkms_resp *resp) {
  for (int attempt = 0; attempt < SIGN_ATTEMPTS; attempt++) {
    sign_meta m;
    tkms_fw w;
    tkms_reply rep;
    tkms_resp_clear(resp);
    if (sign_build(req, &w, &m, resp) != 0) return;
    int rc = tkms_core_request(req->host, &w, &rep, resp);
    tkms_fw_free(&w);
    if (rc == TKMS_E_STALE_RECORD) continue; /* a rotation raced us: re-read the blob */
    if (rc != 0) return;
    sign_render(&m, &rep, resp);
    return;
  }
}

/* The pipelined form (routes.h): the frame is built on the HTTP thread, the
 * answer rendered on the thread that owns the core socket (an HTTP loop). */
struct tkms_route_job {
  sign_meta m;
  tkms_fw w;
  tkms_route_done_fn done;
  void *ctx;
};

tkms_route_job *tkms_route_key_sign_prepare(tkms_req *req, tkms_resp *resp) {
  tkms_route_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return NULL;
  }
  if (sign_build(req, &j->w, &j->m, resp) != 0) {
    free(j);
    return NULL;
  }
  return j;
}

static void sign_done(void *arg, tkms_reply *rep) {
  tkms_route_job *j = arg;
  tkms_resp resp = {0};
  int rc = tkms_core_answer(rep, &resp);
  if (rc == TKMS_E_STALE_RECORD) {
    /* A rotation raced us: the synchronous route re-reads the blob. */
    tkms_resp_clear(&resp);
    j->done(j->ctx, NULL);
  } else {
    if (rc == 0) sign_render(&j->m, rep, &resp);
    j->done(j->ctx, &resp);
  }
  free(j);
}

int tkms_route_job_submit(tkms_host *h, tkms_route_job *j, tkms_route_done_fn done, void *ctx) {
  j->done = done;
  j->ctx = ctx;
  /* The frame is written before submit returns, and j belongs to sign_done
   * (which may run already) once submit succeeded: take the frame out first. */
  tkms_fw w = j->w;
  memset(&j->w, 0, sizeof j->w);
  int r = tkms_core_submit(h->core, &w, sign_done, j);
  tkms_fw_free(&w); /* it carried the sealed record */
  if (r != 0) {
    free(j);
    return -1;
  }
  return 0;
}

/* ---- POST /v1/keys/{id}/rotate and DELETE /v1/keys/{id} ------------------------ */

typedef struct {
  uint8_t id[16];
  uint8_t request_id[TKMS_REQUEST_ID_BYTES];
  tkms_core *core;
  tkms_receipt receipt; /* destroy: for the response */
} keyop_ctx;

static int rotate_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  keyop_ctx *c = ctx;
  m->kind = TKMS_META_KEY_ROTATE;
  if (tkms_key_result_version(f, &m->ver, m->key.id) != 0) return -1;
  /* The core must have rotated the key we asked for. */
  if (memcmp(m->key.id, c->id, 16) != 0) return -1;
  return 0;
}

static int destroy_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  keyop_ctx *c = ctx;
  tkms_receipt *r = &m->receipt;
  m->kind = TKMS_META_KEY_DESTROY;
  if (tkms_frame_get_fixed(f, TKMS_F_KEY_ID, r->key_id, 16) != 0 ||
      memcmp(r->key_id, c->id, 16) != 0 ||
      tkms_frame_get_u32(f, TKMS_F_VERSION, &r->version) != 0 ||
      tkms_frame_get_str(f, TKMS_F_OWNER, r->owner, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_frame_get_u64(f, TKMS_F_TIME, &r->destroyed_at) != 0)
    return -1;
  memset(r->signature, 0, sizeof r->signature); /* signed at COMMIT (store.h) */
  memcpy(r->request_id, c->request_id, sizeof r->request_id);
  tkms_core_info info;
  tkms_core_info_get(c->core, &info);
  if (!info.has_deployment) return -1;
  memcpy(r->signer, info.identity, 20);
  c->receipt = *r;
  return 0;
}

/* Shared body of rotate and destroy: envelope-only requests on an active key. */
static int keyop(tkms_req *req, uint16_t op, tkms_meta_fn fn, keyop_ctx *c, tkms_resp *resp) {
  static const char *const fields[] = {TKMS_ENVELOPE_FIELDS, "session_id"};
  tkms_key_meta k;
  json_t *body;
  if (tkms_path_id(req, c->id, sizeof c->id, "key id", resp) != 0) return -1;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return -1;
  tkms_json_err e = {0};
  tkms_fw w;
  int rc = -1;
  if (tkms_fw_init(&w, op, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return -1;
  }
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, c->id, sizeof c->id);
  if (tkms_envelope_parse(body, &w, 1, c->request_id, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else if (lookup(req->host, c->id, 0, &k, resp) == 0) {
    /* A destroyed key still goes to the core: only the core knows whether this
     * request id was used before, and a replay must say replayed_request. The
     * core no longer knows the key, so its "not found" means "destroyed" here. */
    tkms_reply rep;
    if (tkms_core_mutation(req->host, &w, fn, c, &rep, resp) == 0) {
      tkms_reply_free(&rep);
      rc = 0;
    } else if (k.state == TKMS_KEY_STATE_DESTROYED && resp->status == 404) {
      tkms_resp_error(resp, 410, "key_destroyed",
                      "the key was destroyed; its public data and receipt remain readable");
    }
  }
  tkms_fw_free(&w);
  json_decref(body);
  return rc;
}

void tkms_route_key_rotate(tkms_req *req, tkms_resp *resp) {
  keyop_ctx c = {.core = req->host->core};
  if (keyop(req, TKMS_OP_KEY_ROTATE, rotate_meta, &c, resp) != 0) return;
  tkms_key_meta k;
  if (lookup(req->host, c.id, 0, &k, resp) != 0) return;
  key_full(req->host, &k, resp);
}

void tkms_route_key_destroy(tkms_req *req, tkms_resp *resp) {
  keyop_ctx c = {.core = req->host->core};
  if (keyop(req, TKMS_OP_KEY_DESTROY, destroy_meta, &c, resp) != 0) return;
  json_t *o = json_pack("{s:o, s:s}", "key_id", tkms_json_hexstr(c.id, 16), "state", "destroyed");
  /* The receipt's signature was stored after COMMIT; read it back. */
  if (o && tkms_store_receipt_get(req->host->store, c.id, &c.receipt) == TKMS_STORE_OK)
    add_receipt(o, &c.receipt);
  tkms_resp_json(resp, 200, o);
}
