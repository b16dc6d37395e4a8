/* src/host/routes_policy.c — a key's policy and its time-locked changes:
 *   GET    /v1/keys/{id}/policy          the policy in force and the pending change
 *   POST   /v1/keys/{id}/policy          UpdatePolicy (200 applied / 202 pending)
 *   DELETE /v1/keys/{id}/policy/pending  CancelPolicyChange
 * The core decides everything (widening or not, the delay, effective_at) and is
 * the only source of what is shown: these handlers translate. When the core
 * reports a due change the host asks it to materialise the change (fold it
 * into the key record) and updates the owner in its metadata; delaying that
 * changes nothing that matters, because the core treats a due change as in
 * force whether or not it was materialised (docs/policy.md). */
#include <stdlib.h>
#include <string.h>

#include "host/policy_json.h"
#include "host/routes_priv.h"
#include "proto/hex.h"
#include "proto/ops.h"

#define POLICY_ATTEMPTS 4 /* re-read the key's record after a racing rotation */

/* The policy field tag of f as JSON (NULL if missing or malformed). */
static json_t *policy_of(const tkms_frame *f, uint8_t tag) {
  const uint8_t *v;
  size_t n;
  if (tkms_frame_get(f, tag, &v, &n) != 0) return NULL;
  return tkms_policy_json_decode(v, n);
}

/* The answer of POLICY_GET / POLICY_UPDATE as JSON; NULL if incomplete. */
static json_t *policy_answer(const tkms_frame *f) {
  uint8_t id[16];
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint64_t now;
  json_t *pol = policy_of(f, TKMS_F_POLICY);
  if (pol == NULL || tkms_frame_get_fixed(f, TKMS_F_KEY_ID, id, 16) != 0 ||
      tkms_frame_get_str(f, TKMS_F_OWNER, owner, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_frame_get_u64(f, TKMS_F_TIME, &now) != 0) {
    json_decref(pol);
    return NULL;
  }
  json_t *pending = json_null();
  char new_owner[TKMS_MAX_PRINCIPAL + 1];
  uint64_t accepted, effective;
  if (tkms_frame_get_str(f, TKMS_F_NEW_OWNER, new_owner, TKMS_MAX_PRINCIPAL) == 0) {
    json_t *pp = policy_of(f, TKMS_F_PENDING_POLICY);
    if (pp == NULL || tkms_frame_get_u64(f, TKMS_F_ACCEPTED_AT, &accepted) != 0 ||
        tkms_frame_get_u64(f, TKMS_F_EFFECTIVE_AT, &effective) != 0) {
      json_decref(pp);
      json_decref(pol);
      return NULL;
    }
    pending = json_pack("{s:s, s:o, s:I, s:I, s:b}", "new_owner", new_owner, "policy", pp,
                        "accepted_at", (json_int_t)accepted, "effective_at", (json_int_t)effective,
                        "effective", effective <= now);
  }
  return json_pack("{s:o, s:s, s:o, s:o, s:I}", "key_id", tkms_json_hexstr(id, 16), "owner", owner,
                   "policy", pol, "pending", pending, "time", (json_int_t)now);
}

/* A 404 about a key that the host knows was destroyed becomes 410, as on the
 * other key routes. */
static void destroyed_is_gone(tkms_host *h, const uint8_t id[16], tkms_resp *resp) {
  tkms_key_meta k;
  if (resp->status == 404 && tkms_store_key_get(h->store, id, &k) == TKMS_STORE_OK &&
      k.state == TKMS_KEY_STATE_DESTROYED) {
    tkms_resp_clear(resp);
    tkms_resp_error(resp, 410, "key_destroyed",
                    "the key was destroyed; its public data and receipt remain readable");
  }
}

/* The key's current sealed record from storage (resp set on failure). */
static int current_blob(tkms_host *h, const uint8_t id[16], uint8_t **blob, size_t *blen,
                        tkms_resp *resp) {
  uint32_t ver;
  int rc = tkms_store_record_get(h->store, TKMS_REC_KEY, id, 16, &ver, blob, blen);
  if (rc == TKMS_STORE_OK) return 0;
  if (rc == TKMS_STORE_NOTFOUND)
    tkms_resp_error(resp, 404, "key_not_found", "no such key");
  else
    tkms_resp_store_error(resp, rc);
  return -1;
}

/* The owner in force, for the host's metadata (listing by owner). Always the
 * owner the core reports as in force now: an applied change may have changed
 * it, and so may a due change the core folded in while accepting a new
 * pending one. */
static int owner_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  const uint8_t *want = ctx;
  uint64_t t;
  if (tkms_frame_get_fixed(f, TKMS_F_KEY_ID, m->key.id, 16) != 0 ||
      memcmp(m->key.id, want, 16) != 0 ||
      tkms_frame_get_str(f, TKMS_F_OWNER, m->key.owner, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_frame_get_u64(f, TKMS_F_TIME, &t) != 0)
    return -1;
  m->kind = TKMS_META_KEY_OWNER;
  m->key.updated_at = t;
  return 0;
}

static int no_meta(void *ctx, const tkms_frame *f, tkms_store_meta_change *m) {
  (void)ctx;
  (void)f;
  m->kind = TKMS_META_NONE;
  return 0;
}

/* Asks the core to materialise a due change of key id. Best effort: on any
 * failure the change is still in force in the core. */
void tkms_policy_materialise_key(tkms_host *h, const uint8_t id[16]) {
  for (int attempt = 0; attempt < POLICY_ATTEMPTS; attempt++) {
    tkms_resp scratch;
    memset(&scratch, 0, sizeof scratch);
    uint8_t *blob;
    size_t blen;
    if (current_blob(h, id, &blob, &blen, &scratch) != 0) {
      tkms_resp_clear(&scratch);
      return;
    }
    tkms_fw w;
    tkms_reply rep;
    if (tkms_fw_init(&w, TKMS_OP_POLICY_MATERIALISE, 0, 0) != 0) {
      tkms_store_free(blob, blen);
      return;
    }
    tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
    tkms_fw_bytes(&w, TKMS_F_BLOB, blob, blen);
    tkms_store_free(blob, blen);
    int rc = tkms_core_mutation(h, &w, owner_meta, (void *)id, &rep, &scratch);
    tkms_fw_free(&w);
    if (rc == 0) tkms_reply_free(&rep);
    int stale = rc != 0 && scratch.status == 409 && scratch.body != NULL &&
                strstr(scratch.body, "stale_record") != NULL;
    tkms_resp_clear(&scratch);
    if (!stale) return;
  }
}

/* POLICY_GET for id; 0 with rep, or -1 with resp set. */
static int policy_get(tkms_host *h, const uint8_t id[16], tkms_reply *rep, tkms_resp *resp) {
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_POLICY_GET, 0, 0) != 0) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return -1;
  }
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
  int rc = tkms_core_request(h, &w, rep, resp);
  tkms_fw_free(&w);
  return rc == 0 ? 0 : -1;
}

/* A pending change whose effective_at has come (per the core's clock). */
static int due(const tkms_frame *f) {
  uint64_t now, eff;
  return tkms_frame_get_u64(f, TKMS_F_EFFECTIVE_AT, &eff) == 0 &&
         tkms_frame_get_u64(f, TKMS_F_TIME, &now) == 0 && eff <= now;
}

void tkms_route_key_policy_get(tkms_req *req, tkms_resp *resp) {
  uint8_t id[16];
  tkms_reply rep;
  if (tkms_path_id(req, id, sizeof id, "key id", resp) != 0) return;
  if (policy_get(req->host, id, &rep, resp) != 0) {
    destroyed_is_gone(req->host, id, resp);
    return;
  }
  if (due(&rep.f)) {
    /* Fold it in now, then show the state after it. */
    tkms_reply_free(&rep);
    tkms_policy_materialise_key(req->host, id);
    if (policy_get(req->host, id, &rep, resp) != 0) return;
  }
  json_t *o = policy_answer(&rep.f);
  tkms_reply_free(&rep);
  if (o == NULL) {
    tkms_resp_error(resp, 500, "internal", "the core's policy answer is incomplete");
    return;
  }
  tkms_resp_json(resp, 200, o);
}

void tkms_route_key_policy_update(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {"new_owner", "policy", TKMS_ENVELOPE_FIELDS, "session_id"};
  uint8_t id[16], pol[TKMS_POLICY_JSON_ENC_MAX];
  size_t pol_len = 0;
  json_t *body;
  if (tkms_path_id(req, id, sizeof id, "key id", resp) != 0) return;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  const char *new_owner = "";
  json_t *no = json_object_get(body, "new_owner");
  if ((no != NULL && !(json_is_string(no) && json_string_length(no) == 0) &&
       tkms_json_str(body, "new_owner", 0, TKMS_MAX_PRINCIPAL, &new_owner, &e) < 0) ||
      tkms_policy_json_encode(json_object_get(body, "policy"), "policy", pol, sizeof pol, &pol_len,
                              &e) != 0) {
    tkms_resp_json_error(resp, &e);
    json_decref(body);
    return;
  }
  for (int attempt = 0; attempt < POLICY_ATTEMPTS; attempt++) {
    tkms_resp_clear(resp);
    uint8_t *blob;
    size_t blen;
    if (current_blob(req->host, id, &blob, &blen, resp) != 0) {
      destroyed_is_gone(req->host, id, resp);
      break;
    }
    tkms_fw w;
    if (tkms_fw_init(&w, TKMS_OP_POLICY_UPDATE, 0, 0) != 0) {
      tkms_store_free(blob, blen);
      tkms_resp_error(resp, 500, "internal", "out of memory");
      break;
    }
    tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
    /* "" = unchanged and 0x = unchanged: what the client signed. */
    tkms_fw_bytes(&w, TKMS_F_NEW_OWNER, (const uint8_t *)new_owner, strlen(new_owner));
    tkms_fw_bytes(&w, TKMS_F_POLICY, pol, pol_len);
    tkms_fw_bytes(&w, TKMS_F_BLOB, blob, blen);
    tkms_store_free(blob, blen);
    if (tkms_envelope_parse(body, &w, 1, NULL, &e) != 0) {
      tkms_fw_free(&w);
      tkms_resp_json_error(resp, &e);
      break;
    }
    tkms_reply rep;
    int rc = tkms_core_mutation(req->host, &w, owner_meta, id, &rep, resp);
    tkms_fw_free(&w);
    if (rc != 0) {
      if (resp->status == 409 && resp->body != NULL && strstr(resp->body, "stale_record"))
        continue; /* a rotation raced us: re-read the blob */
      break;
    }
    uint32_t applied = 0;
    json_t *o = policy_answer(&rep.f);
    int ok = o != NULL && tkms_frame_get_u32(&rep.f, TKMS_F_APPLIED, &applied) == 0;
    tkms_reply_free(&rep);
    if (!ok) {
      json_decref(o);
      tkms_resp_error(resp, 500, "internal",
                      "the change is committed but the answer is incomplete");
      break;
    }
    json_object_set_new(o, "applied", json_boolean(applied));
    tkms_resp_json(resp, applied ? 200 : 202, o);
    break;
  }
  json_decref(body);
}

void tkms_route_key_policy_cancel(tkms_req *req, tkms_resp *resp) {
  static const char *const fields[] = {TKMS_ENVELOPE_FIELDS, "session_id"};
  uint8_t id[16];
  json_t *body;
  if (tkms_path_id(req, id, sizeof id, "key id", resp) != 0) return;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  tkms_fw w;
  if (tkms_fw_init(&w, TKMS_OP_POLICY_CANCEL, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
  tkms_reply rep;
  if (tkms_envelope_parse(body, &w, 1, NULL, &e) != 0) {
    tkms_resp_json_error(resp, &e);
  } else if (tkms_core_mutation(req->host, &w, no_meta, NULL, &rep, resp) != 0) {
    destroyed_is_gone(req->host, id, resp);
  } else {
    uint64_t t = 0;
    tkms_frame_get_u64(&rep.f, TKMS_F_TIME, &t);
    tkms_reply_free(&rep);
    tkms_resp_json(resp, 200,
                   json_pack("{s:o, s:b, s:I}", "key_id", tkms_json_hexstr(id, 16), "cancelled", 1,
                             "time", (json_int_t)t));
  }
  tkms_fw_free(&w);
  json_decref(body);
}
