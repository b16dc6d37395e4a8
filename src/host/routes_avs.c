/* src/host/routes_avs.c — /v1/avs: EigenLayer operator keys (docs/api.md "EigenLayer
 * AVS"). A thin shape over the generic key machinery: an operator's key is the
 * bn254 key owned by eoa:<operator>, found by owner and type in the public
 * metadata; every request goes to the core as KEY_CREATE / KEY_SIGN / KEY_ROTATE
 * with the operator's EIP-712 signature, and the core re-checks everything (the
 * owner comes from its own sealed index, the registration message is computed
 * there). The host has no BN254 and no keccak: it only re-encodes bytes.
 *
 * Points: 0x + 64 hex (32-byte big-endian) per coordinate; G1 {X, Y};
 * G2 {X: [x_imag, x_real], Y: [y_imag, y_real]} as Solidity's BN254.G2Point and
 * the precompile, which is also the core's byte order (x_imag || x_real || ...). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/policy_json.h"
#include "host/routes_priv.h"
#include "proto/hex.h"
#include "proto/ops.h"

#define AVS_KEY_TYPE "bn254"
#define G1_BYTES 64u
#define G2_BYTES 128u
#define PUB_BYTES (G1_BYTES + G2_BYTES)
#define SIGN_ATTEMPTS 3 /* a rotation may replace the blob between read and use */
#define MAX_LISTED_VERSIONS 1000u
#define MAX_SAFE_JSON_INT 9007199254740992ull /* 2^53 */

/* ---- encodings ------------------------------------------------------------------- */

static json_t *g1_json(const uint8_t p[64]) {
  return json_pack("{s:o, s:o}", "X", tkms_json_hexstr(p, 32), "Y", tkms_json_hexstr(p + 32, 32));
}

/* Precompile order: x_imag || x_real || y_imag || y_real = X[0] X[1] Y[0] Y[1]. */
static json_t *g2_json(const uint8_t q[128]) {
  return json_pack("{s:[o, o], s:[o, o]}", "X", tkms_json_hexstr(q, 32),
                   tkms_json_hexstr(q + 32, 32), "Y", tkms_json_hexstr(q + 64, 32),
                   tkms_json_hexstr(q + 96, 32));
}

static int fail(tkms_json_err *e, const char *name, const char *what) {
  e->code = "bad_request";
  snprintf(e->message, sizeof e->message, "%s %s", name, what);
  return -1;
}

/* One coordinate: exactly 0x + 64 hex digits. */
static int coord(const json_t *v, const char *name, uint8_t out[32], tkms_json_err *e) {
  const char *s = json_string_value(v);
  if (s == NULL || strlen(s) != 66 || tkms_hex_decode_exact(s, out, 32) != 0)
    return fail(e, name, "must be 0x followed by 64 hex digits (32 bytes, big-endian)");
  return 0;
}

/* {X, Y} (G1) into 64 bytes. Curve checks are the core's: the host has no BN254. */
static int parse_g1(const json_t *body, const char *name, uint8_t out[64], tkms_json_err *e) {
  static const char *const xy[] = {"X", "Y"};
  const json_t *o = json_object_get(body, name);
  if (o == NULL) return fail(e, name, "is required");
  if (!json_is_object(o)) return fail(e, name, "must be an object {X, Y}");
  if (tkms_json_only_fields(o, xy, 2, e) != 0) return fail(e, name, "may only have X and Y");
  char n[48];
  for (int i = 0; i < 2; i++) {
    snprintf(n, sizeof n, "%s.%s", name, xy[i]);
    const json_t *v = json_object_get(o, xy[i]);
    if (v == NULL) return fail(e, n, "is required");
    if (coord(v, n, out + 32 * i, e) != 0) return -1;
  }
  return 0;
}

/* {X: [x_imag, x_real], Y: [y_imag, y_real]} (G2) into 128 bytes, precompile order. */
static int parse_g2(const json_t *body, const char *name, uint8_t out[128], tkms_json_err *e) {
  static const char *const xy[] = {"X", "Y"};
  const json_t *o = json_object_get(body, name);
  if (o == NULL) return fail(e, name, "is required");
  if (!json_is_object(o)) return fail(e, name, "must be an object {X: [x_imag, x_real], Y: [...]}");
  if (tkms_json_only_fields(o, xy, 2, e) != 0) return fail(e, name, "may only have X and Y");
  char n[48];
  for (int i = 0; i < 2; i++) {
    const json_t *a = json_object_get(o, xy[i]);
    snprintf(n, sizeof n, "%s.%s", name, xy[i]);
    if (!json_is_array(a) || json_array_size(a) != 2)
      return fail(e, n, "must be an array [imaginary, real] of two coordinates");
    for (size_t j = 0; j < 2; j++) {
      snprintf(n, sizeof n, "%s.%s[%zu]", name, xy[i], j);
      if (coord(json_array_get(a, j), n, out + 64 * i + 32 * j, e) != 0) return -1;
    }
  }
  return 0;
}

static int parse_bytes32(const json_t *body, const char *name, uint8_t out[32], tkms_json_err *e) {
  const json_t *v = json_object_get(body, name);
  if (v == NULL) return fail(e, name, "is required");
  return coord(v, name, out, e);
}

/* An Ethereum address "0x" + 40 hex, any case (a checksum is not checked: the
 * canonical form is lower case). Writes the principal "eoa:0x<lower>". */
static int parse_address(const char *s, uint8_t addr[20], char principal[TKMS_MAX_PRINCIPAL + 1]) {
  char low[43];
  if (s == NULL || strlen(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return -1;
  for (size_t i = 0; i < 42; i++) low[i] = (char)tolower((unsigned char)s[i]);
  low[42] = '\0';
  if (tkms_hex_decode_exact(low, addr, 20) != 0) return -1;
  if (principal != NULL) snprintf(principal, TKMS_MAX_PRINCIPAL + 1, "eoa:%s", low);
  return 0;
}

static int parse_eoa(const json_t *body, const char *name, uint8_t addr[20],
                     char principal[TKMS_MAX_PRINCIPAL + 1], tkms_json_err *e) {
  const json_t *v = json_object_get(body, name);
  if (v == NULL) return fail(e, name, "is required");
  if (parse_address(json_string_value(v), addr, principal) != 0)
    return fail(e, name, "must be an Ethereum address: 0x followed by 40 hex digits");
  return 0;
}

/* chain_id: a JSON integer (<= 2^53, exact in every JSON reader) or a decimal
 * string of a uint256. Out: 32 bytes big-endian. */
static int parse_chain_id(const json_t *body, uint8_t out[32], tkms_json_err *e) {
  const json_t *v = json_object_get(body, "chain_id");
  memset(out, 0, 32);
  if (v == NULL) return fail(e, "chain_id", "is required");
  if (json_is_integer(v)) {
    json_int_t n = json_integer_value(v);
    if (n < 0 || (uint64_t)n > MAX_SAFE_JSON_INT)
      return fail(e, "chain_id", "as a JSON integer must be 0..2^53 (use a decimal string above)");
    tkms_be64_put(out + 24, (uint64_t)n);
    return 0;
  }
  const char *s = json_string_value(v);
  size_t len = s ? strlen(s) : 0;
  if (len == 0 || len > 78)
    return fail(e, "chain_id", "must be a JSON integer or a decimal string of a uint256");
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return fail(e, "chain_id", "must be a JSON integer or a decimal string of a uint256");
    unsigned carry = (unsigned)(s[i] - '0');
    for (int j = 31; j >= 0; j--) { /* out = out * 10 + digit */
      unsigned t = out[j] * 10u + carry;
      out[j] = (uint8_t)t;
      carry = t >> 8;
    }
    if (carry != 0) return fail(e, "chain_id", "does not fit in a uint256");
  }
  return 0;
}

/* ---- the operator's key --------------------------------------------------------- */

/* The operator from the {eoa} path segment. */
static int path_operator(tkms_req *req, uint8_t addr[20], char principal[TKMS_MAX_PRINCIPAL + 1],
                         tkms_resp *resp) {
  if (req->route->arg_too_long || parse_address(req->route->arg, addr, principal) != 0) {
    tkms_resp_error(resp, 400, "bad_request",
                    "the operator in the path must be an Ethereum address: 0x + 40 hex digits");
    return -1;
  }
  return 0;
}

/* The operator's active bn254 key from the public metadata; 404 if none. */
static int operator_key(tkms_host *h, const char *principal, tkms_key_meta *k, tkms_resp *resp) {
  int rc = tkms_store_key_by_owner_type(h->store, principal, AVS_KEY_TYPE, k);
  if (rc == TKMS_STORE_NOTFOUND) {
    tkms_resp_error(resp, 404, "key_not_found", "this operator has no active bn254 key");
    return -1;
  }
  if (rc != TKMS_STORE_OK) {
    tkms_resp_store_error(resp, rc);
    return -1;
  }
  if (k->current.public_key_len != PUB_BYTES) {
    tkms_resp_error(resp, 500, "internal", "the stored bn254 public key has the wrong length");
    return -1;
  }
  return 0;
}

static const char *operator_of(const tkms_key_meta *k) {
  return k->owner + 4; /* "eoa:0x..." -> "0x..." */
}

/* The create / rotate / GET object of an operator key at version v. */
static json_t *key_object(const tkms_key_meta *k, const tkms_key_version *v) {
  json_t *o = json_pack("{s:s, s:o, s:I, s:o, s:o, s:I}", "operator", operator_of(k), "key_id",
                        tkms_json_hexstr(k->id, 16), "version", (json_int_t)v->version, "g1",
                        g1_json(v->public_key), "g2", g2_json(v->public_key + G1_BYTES),
                        "created_at", (json_int_t)v->created_at);
  if (o && v->has_operator_id)
    json_object_set_new(o, "operator_id", tkms_json_hexstr(v->operator_id, 32));
  return o;
}

/* ---- POST /v1/avs/keys and POST /v1/avs/keys/{eoa}/rotate ---------------------- */

typedef struct {
  const char *owner;
  const uint8_t *key_id; /* rotate: the key we asked for */
  tkms_key_meta key;
} avs_mut_ctx;

static int create_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  avs_mut_ctx *c = ctx;
  m->kind = TKMS_META_KEY_CREATE;
  if (tkms_key_result_version(f, &m->ver, m->key.id) != 0 || m->ver.public_key_len != PUB_BYTES ||
      !m->ver.has_operator_id)
    return -1;
  snprintf(m->key.owner, sizeof m->key.owner, "%s", c->owner);
  snprintf(m->key.key_type, sizeof m->key.key_type, "%s", AVS_KEY_TYPE);
  m->key.state = TKMS_KEY_STATE_ACTIVE;
  m->key.version = m->ver.version;
  m->key.created_at = m->key.updated_at = m->ver.created_at;
  m->key.current = m->ver;
  c->key = m->key;
  return 0;
}

static int rotate_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  avs_mut_ctx *c = ctx;
  m->kind = TKMS_META_KEY_ROTATE;
  if (tkms_key_result_version(f, &m->ver, m->key.id) != 0 ||
      memcmp(m->key.id, c->key_id, 16) != 0 || m->ver.public_key_len != PUB_BYTES ||
      !m->ver.has_operator_id)
    return -1;
  c->key.current = m->ver;
  c->key.version = m->ver.version;
  return 0;
}

void tkms_route_avs_create(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"eoa", "policy", TKMS_ENVELOPE_FIELDS, "session_id"};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  uint8_t pol[TKMS_POLICY_JSON_ENC_MAX];
  size_t pol_len = 0;
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint8_t addr[20];
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_KEY_CREATE, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  if (parse_eoa(body, "eoa", addr, owner, &e) != 0 ||
      tkms_policy_json_encode(json_object_get(body, "policy"), "policy", pol, sizeof pol, &pol_len,
                              &e) != 0 ||
      tkms_envelope_parse(body, &w, 1, NULL, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else {
    /* The client signed CreateKey{keyType: "bn254", owner: "eoa:0x<lower>",
     * policy: the canonical bytes of `policy` (0x when absent)}. */
    tkms_fw_str(&w, TKMS_F_KEY_TYPE, AVS_KEY_TYPE);
    tkms_fw_str(&w, TKMS_F_OWNER, owner);
    tkms_fw_bytes(&w, TKMS_F_POLICY, pol, pol_len);
    avs_mut_ctx c = {.owner = owner};
    tkms_reply rep;
    if (tkms_core_mutation(req->host, &w, create_meta, &c, &rep, resp) == 0) {
      tkms_reply_free(&rep);
      tkms_resp_json(resp, 201, key_object(&c.key, &c.key.current));
    }
  }
  tkms_fw_free(&w);
  json_decref(body);
}

void tkms_route_avs_rotate(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {TKMS_ENVELOPE_FIELDS, "session_id"};
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint8_t addr[20];
  tkms_key_meta k;
  json_t *body;
  if (path_operator(req, addr, owner, resp) != 0) return;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_KEY_ROTATE, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  if (operator_key(req->host, owner, &k, resp) == 0) {
    tkms_fw_bytes(&w, TKMS_F_KEY_ID, k.id, sizeof k.id);
    if (tkms_envelope_parse(body, &w, 1, NULL, &e) != 0) {
      tkms_resp_json_error(resp, &e);
    } else {
      avs_mut_ctx c = {.owner = owner, .key_id = k.id, .key = k};
      tkms_reply rep;
      if (tkms_core_mutation(req->host, &w, rotate_meta, &c, &rep, resp) == 0) {
        tkms_reply_free(&rep);
        tkms_resp_json(resp, 200, key_object(&c.key, &c.key.current));
      }
    }
  }
  tkms_fw_free(&w);
  json_decref(body);
}

/* ---- GET /v1/avs/keys/{eoa} ------------------------------------------------------- */

typedef struct {
  json_t *arr;
  uint32_t current;
  unsigned n;
} versions_ctx;

static int add_version(void *ctx, const tkms_key_version *v) {
  versions_ctx *c = ctx;
  if (c->n++ >= MAX_LISTED_VERSIONS) return 1;
  if (v->public_key_len != PUB_BYTES) return -1;
  json_t *o =
      json_pack("{s:I, s:o, s:o, s:I, s:b}", "version", (json_int_t)v->version, "g1",
                g1_json(v->public_key), "g2", g2_json(v->public_key + G1_BYTES), "created_at",
                (json_int_t)v->created_at, "usable", v->version == c->current);
  if (o && v->has_operator_id)
    json_object_set_new(o, "operator_id", tkms_json_hexstr(v->operator_id, 32));
  return json_array_append_new(c->arr, o) == 0 ? 0 : -1;
}

void tkms_route_avs_get(tkms_req *req, tkms_resp *resp) {
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint8_t addr[20];
  tkms_key_meta k;
  if (path_operator(req, addr, owner, resp) != 0) return;
  if (operator_key(req->host, owner, &k, resp) != 0) return;
  json_t *o = key_object(&k, &k.current);
  versions_ctx vc = {json_array(), k.version, 0};
  int rc = vc.arr ? tkms_store_key_versions(req->host->store, k.id, add_version, &vc) : -1;
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
  tkms_resp_json(resp, 200, o);
}

/* ---- the three signing routes ------------------------------------------------------ */

typedef struct {
  const char *mode;
  uint8_t payload[64];
  size_t payload_len;
  /* results */
  tkms_key_meta key;
  uint32_t version;
  uint8_t sig[64];
  uint8_t point[64];
  int has_point;
} avs_sign;

/* KEY_SIGN of the operator's key with the body's envelope and optional version
 * (default: the current one; the client signed Sign{keyId, mode, payload,
 * version, requestId, deadline}). Returns 0 or -1 with resp set. */
static int sign_call(tkms_req *req, const json_t *body, const char *owner, avs_sign *a,
                     tkms_resp *resp) {
  tkms_json_err e = {0};
  uint64_t version = 0;
  int has_version = tkms_json_u64(body, "version", 0, &version, &e);
  if (has_version < 0 || (has_version == 0 && (version == 0 || version > UINT32_MAX))) {
    if (has_version == 0) fail(&e, "version", "must be a key version (1..2^32-1)");
    tkms_resp_json_error(resp, &e);
    return -1;
  }
  if (operator_key(req->host, owner, &a->key, resp) != 0) return -1;
  tkms_envelope env;
  if (tkms_envelope_read(body, 1, &env, &e) != 0) {
    tkms_resp_json_error(resp, &e);
    return -1;
  }
  for (int attempt = 0; attempt < SIGN_ATTEMPTS; attempt++) {
    tkms_fw w;
    tkms_reply rep;
    tkms_resp_clear(resp);
    if (tkms_sign_frame(req->host, a->key.id, a->mode, a->payload, a->payload_len,
                        has_version == 0 ? (uint32_t)version : 0, &env, &w, resp) != 0)
      return -1;
    int rc = tkms_core_request(req->host, &w, &rep, resp);
    tkms_fw_free(&w);
    if (rc != 0) {
      /* stale_record: a rotation replaced the blob since we read it; re-read it. */
      if (rc == TKMS_E_STALE_RECORD) continue;
      return -1;
    }
    if (tkms_frame_get_fixed(&rep.f, TKMS_F_SIGNATURE, a->sig, 64) != 0 ||
        tkms_frame_get_u32(&rep.f, TKMS_F_VERSION, &a->version) != 0) {
      tkms_reply_free(&rep);
      tkms_resp_error(resp, 500, "internal", "the core's signing answer is incomplete");
      return -1;
    }
    a->has_point = tkms_frame_get_fixed(&rep.f, TKMS_F_BN_POINT, a->point, 64) == 0;
    tkms_reply_free(&rep);
    /* The public key to answer with is the one of the version that signed. */
    if (a->version != a->key.version &&
        (tkms_store_key_get(req->host->store, a->key.id, &a->key) != TKMS_STORE_OK ||
         a->key.version != a->version || a->key.current.public_key_len != PUB_BYTES)) {
      tkms_resp_error(resp, 503, "core_busy", "the key was rotated while signing; retry");
      return -1;
    }
    return 0;
  }
  return -1; /* resp holds the last stale_record */
}

/* The fields every signing answer has. */
static json_t *sign_object(const avs_sign *a) {
  return json_pack("{s:s, s:o, s:I, s:o, s:o, s:o}", "operator", operator_of(&a->key), "key_id",
                   tkms_json_hexstr(a->key.id, 16), "version", (json_int_t)a->version, "signature",
                   g1_json(a->sig), "g1", g1_json(a->key.current.public_key), "g2",
                   g2_json(a->key.current.public_key + G1_BYTES));
}

#define SIGN_FIELDS "eoa", "version", TKMS_ENVELOPE_FIELDS, "session_id"

void tkms_route_avs_scalar_mul(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"hash", SIGN_FIELDS};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint8_t addr[20];
  avs_sign a = {.mode = "bn254_g1_mul", .payload_len = 64};
  if (parse_eoa(body, "eoa", addr, owner, &e) != 0 || parse_g1(body, "hash", a.payload, &e) != 0)
    tkms_resp_json_error(resp, &e);
  else if (sign_call(req, body, owner, &a, resp) == 0)
    tkms_resp_json(resp, 200, sign_object(&a));
  json_decref(body);
}

void tkms_route_avs_sign(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"message_hash", SIGN_FIELDS};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint8_t addr[20];
  avs_sign a = {.mode = "bn254_hash", .payload_len = 32};
  if (parse_eoa(body, "eoa", addr, owner, &e) != 0 ||
      parse_bytes32(body, "message_hash", a.payload, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else if (sign_call(req, body, owner, &a, resp) == 0) {
    json_t *o = sign_object(&a);
    if (o && a.has_point) json_object_set_new(o, "message_point", g1_json(a.point));
    tkms_resp_json(resp, 200, o);
  }
  json_decref(body);
}

void tkms_route_avs_registration(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"chain_id", "registry_coordinator", SIGN_FIELDS};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint8_t addr[20];
  avs_sign a = {.mode = "avs_registration", .payload_len = 52};
  /* payload = chain_id (uint256) || registry coordinator: the operator is not in
   * it; the core takes it from the key's sealed record. */
  if (parse_eoa(body, "eoa", addr, owner, &e) != 0 || parse_chain_id(body, a.payload, &e) != 0 ||
      parse_eoa(body, "registry_coordinator", a.payload + 32, NULL, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else if (sign_call(req, body, owner, &a, resp) == 0) {
    if (!a.has_point) {
      tkms_resp_error(resp, 500, "internal", "the core's registration answer is incomplete");
    } else {
      const uint8_t *pk = a.key.current.public_key;
      json_t *o =
          json_pack("{s:s, s:o, s:I, s:o, s:{s:o, s:o, s:o}}", "operator", operator_of(&a.key),
                    "key_id", tkms_json_hexstr(a.key.id, 16), "version", (json_int_t)a.version,
                    "message_hash", g1_json(a.point), "params", "pubkeyRegistrationSignature",
                    g1_json(a.sig), "pubkeyG1", g1_json(pk), "pubkeyG2", g2_json(pk + G1_BYTES));
      tkms_resp_json(resp, 200, o);
    }
  }
  json_decref(body);
}

/* ---- POST /v1/avs/verify ------------------------------------------------------------ */

void tkms_route_avs_verify(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"g1", "g2", "message_hash", "signature"};
  json_t *body;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  uint8_t pk[PUB_BYTES], msg[32], sig[64];
  if (parse_g1(body, "g1", pk, &e) != 0 || parse_g2(body, "g2", pk + G1_BYTES, &e) != 0 ||
      parse_bytes32(body, "message_hash", msg, &e) != 0 ||
      parse_g1(body, "signature", sig, &e) != 0) {
    tkms_resp_json_error(resp, &e);
    json_decref(body);
    return;
  }
  json_decref(body);
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_BN254_VERIFY, 0, 0) != 0) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  tkms_fw_bytes(&w, TKMS_F_PUBKEY, pk, sizeof pk);
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, msg, sizeof msg);
  tkms_fw_bytes(&w, TKMS_F_SIGNATURE, sig, sizeof sig);
  int rc = tkms_core_request(req->host, &w, &rep, resp);
  tkms_fw_free(&w);
  if (rc != 0) {
    /* Every field is well-formed here, so the core's bad_request is a point that
     * is not on its curve or subgroup: say so with a code of its own. */
    if (rc == TKMS_E_BAD_REQUEST) {
      char msgbuf[400] = "invalid point";
      json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
      const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
      if (m != NULL) snprintf(msgbuf, sizeof msgbuf, "%s", m);
      json_decref(j);
      tkms_resp_error(resp, 400, "invalid_point", msgbuf);
    }
    return;
  }
  uint32_t valid = 0;
  if (tkms_frame_get_u32(&rep.f, TKMS_F_VALID, &valid) != 0 || valid > 1) {
    tkms_reply_free(&rep);
    tkms_resp_error(resp, 500, "internal", "the core's verify answer is incomplete");
    return;
  }
  tkms_reply_free(&rep);
  tkms_resp_json(resp, 200, json_pack("{s:b}", "valid", (int)valid));
}
