/* src/core/sessions.c — SESSION_OPEN and SESSION_REVOKE (see sessions.h). */
#include "core/sessions.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/op.h"
#include "core/seal.h"
#include "core/secmem.h"
#include "core/txn.h"
#include "crypto/kdf.h"

uint8_t tkms_scope_op_parse(const char *s) {
  static const struct {
    const char *name;
    uint8_t bit;
  } ops[] = {{"create", TKMS_SCOPE_CREATE},
             {"sign", TKMS_SCOPE_SIGN},
             {"rotate", TKMS_SCOPE_ROTATE},
             {"destroy", TKMS_SCOPE_DESTROY}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if (strcmp(s, ops[i].name) == 0) return ops[i].bit;
  }
  return 0;
}

int tkms_session_covers_key(const tkms_rec *s, const uint8_t *key_id) {
  if (s->u.session.n_keys == 0) return 1;
  for (size_t i = 0; i < s->u.session.n_keys; i++) {
    if (memcmp(s->scope_keys[i], key_id, 16) == 0) return 1;
  }
  return 0;
}

int tkms_session_mac_key(const tkms_secrets *sec, const tkms_deployment *dep,
                         const uint8_t client_pk[32], uint8_t out[TKMS_MAC_SESSION_BYTES]) {
  uint8_t shared[crypto_scalarmult_BYTES];
  /* libsodium refuses (-1) exactly when the result is all zero: a low-order
   * point, which would give every such client the same, public, key. */
  if (crypto_scalarmult(shared, sec->session_x25519_sk, client_pk) != 0) {
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(out, TKMS_MAC_SESSION_BYTES);
    return 1;
  }
  static const char label[] = TKMS_MAC_SESSION_INFO;
  uint8_t info[sizeof label - 1 + 64];
  memcpy(info, label, sizeof label - 1);
  memcpy(info + sizeof label - 1, dep->session_x25519, 32);
  memcpy(info + sizeof label - 1 + 32, client_pk, 32);
  int rc = tkms_hkdf_sha256(dep->salt, sizeof dep->salt, shared, sizeof shared, info, sizeof info,
                            out, TKMS_MAC_SESSION_BYTES);
  sodium_memzero(shared, sizeof shared);
  if (rc != 0) {
    sodium_memzero(out, TKMS_MAC_SESSION_BYTES);
    return -1;
  }
  return 0;
}

int tkms_session_mac_attach(const tkms_secrets *sec, const tkms_deployment *dep, tkms_rec *r) {
  if (r->type != TKMS_REC_SESSION || r->u.session.attested || r->u.session.mac_key != NULL)
    return 0;
  tkms_principal pk;
  if (tkms_principal_parse_session_key(r->u.session.session_key, &pk) != 0) return -1;
  if (pk.kind != TKMS_PRINCIPAL_X25519) return 0;
  uint8_t *k = tkms_secmem_key_alloc();
  if (k == NULL) return -1;
  int rc = tkms_session_mac_key(sec, dep, pk.id, k);
  if (rc != 0) {
    tkms_secmem_key_free(k);
    return rc;
  }
  r->u.session.mac_key = k;
  return 0;
}

/* F_OWNER F_SESSION_KEY F_SCOPE_OP* F_SCOPE_KEY* F_EXPIRY; signed by the owner. */
int tkms_session_open_parse(tkms_op *op) {
  const tkms_frame *f = op->req;
  char s[TKMS_MAX_PRINCIPAL + 1];
  if (tkms_frame_get_str(f, TKMS_F_OWNER, s, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_principal_parse(s, &op->owner) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "owner must be a principal: eoa:0x<40 lowercase hex> or "
                        "ed25519:0x<64 lowercase hex>");
  if (tkms_frame_get_str(f, TKMS_F_SESSION_KEY, s, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_principal_parse_session_key(s, &op->session_key) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "session_key must be eoa:0x<40 lowercase hex>, ed25519:0x<64 lowercase "
                        "hex> or x25519:0x<64 lowercase hex> (a MAC session)");
  if (op->session_key.kind == TKMS_PRINCIPAL_X25519) {
    uint8_t k[TKMS_MAC_SESSION_BYTES];
    int rc = tkms_session_mac_key(op->core->sec, &op->core->dep, op->session_key.id, k);
    sodium_memzero(k, sizeof k);
    if (rc == 1)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                          "session_key is an X25519 point of low order (no shared secret): "
                          "make a fresh X25519 key pair");
    if (rc != 0) return tkms_op_fail(op, TKMS_E_INTERNAL, "deriving the MAC session key failed");
  }
  if (op->has_session)
    return tkms_op_fail(op, TKMS_E_SCOPE,
                        "a session cannot open sessions: the owner must sign OpenSession");

  /* Walk the repeated fields in order; their order is part of what was signed. */
  tkms_field_iter it;
  tkms_field_iter_init(&it, f);
  uint8_t tag;
  const uint8_t *v;
  size_t len, n_ops = 0;
  op->scope_ops = 0;
  op->n_scope_keys = 0;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag == TKMS_F_SCOPE_OP) {
      char name[16];
      if (len == 0 || len >= sizeof name)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                            "operations must be one of create, sign, rotate, destroy");
      memcpy(name, v, len);
      name[len] = '\0';
      uint8_t bit = tkms_scope_op_parse(name);
      if (bit == 0)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                            "operations must be one of create, sign, rotate, destroy");
      if (op->scope_ops & bit)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "operations lists %s twice", name);
      op->scope_ops |= bit;
      n_ops++;
    } else if (tag == TKMS_F_SCOPE_KEY) {
      if (len != TKMS_KEY_ID_BYTES)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "each of key_ids must be 16 bytes");
      if (++op->n_scope_keys > TKMS_MAX_SCOPE_KEYS)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "key_ids lists more than %u keys",
                            TKMS_MAX_SCOPE_KEYS);
    }
  }
  if (n_ops == 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "operations must name at least one operation");
  if (tkms_frame_get_u64(f, TKMS_F_EXPIRY, &op->expiry) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "expiry (unix seconds) is required");
  if (op->expiry <= op->now)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "expiry is not in the future");
  if (op->expiry - op->now > TKMS_MAX_SESSION_TTL)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "expiry is more than %u s ahead",
                        TKMS_MAX_SESSION_TTL);
  return TKMS_OK;
}

/* Copies the F_SCOPE_KEY list into r; refuses duplicates. */
static int copy_scope_keys(tkms_op *op, tkms_rec *r) {
  tkms_field_iter it;
  tkms_field_iter_init(&it, op->req);
  uint8_t tag;
  const uint8_t *v;
  size_t len, n = 0;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_SCOPE_KEY) continue;
    for (size_t i = 0; i < n; i++) {
      if (memcmp(r->scope_keys[i], v, 16) == 0)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "key_ids lists a key twice");
    }
    memcpy(r->scope_keys[n++], v, 16);
  }
  r->u.session.n_keys = (uint8_t)n;
  return TKMS_OK;
}

int tkms_session_open(tkms_op *op) {
  tkms_core *c = op->core;
  if (tkms_index_count(&c->index, TKMS_REC_SESSION) >= TKMS_MAX_SESSIONS)
    return tkms_op_fail(op, TKMS_E_LIMIT, "this deployment has %u live sessions, the maximum",
                        TKMS_MAX_SESSIONS);
  tkms_rec *r = tkms_rec_new(op->n_scope_keys);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  r->type = TKMS_REC_SESSION;
  r->id_len = TKMS_SESSION_ID_BYTES;
  do {
    randombytes_buf(r->id, TKMS_SESSION_ID_BYTES);
  } while (tkms_index_find(&c->index, TKMS_REC_SESSION, r->id, r->id_len) != NULL);
  r->version = 1;
  memcpy(r->u.session.owner, op->owner.text, sizeof r->u.session.owner);
  memcpy(r->u.session.session_key, op->session_key.text, sizeof r->u.session.session_key);
  r->u.session.ops = op->scope_ops;
  r->u.session.expiry = op->expiry;
  int st = copy_scope_keys(op, r);
  /* A MAC session's key goes with the record: the tx owns it until COMMIT puts
   * it in the index (under the exclusive lock); ABORT frees both. The sign path
   * only reads it. */
  if (st == TKMS_OK && tkms_session_mac_attach(c->sec, &c->dep, r) != 0)
    st = tkms_op_fail(op, TKMS_E_INTERNAL, "deriving the MAC session key failed");
  if (st != TKMS_OK || (st = tkms_tx_seal_put(op, r, NULL)) != TKMS_OK) {
    tkms_rec_free(r);
    return st;
  }
  tkms_fw_bytes(op->resp, TKMS_F_SESSION_ID, r->id, TKMS_SESSION_ID_BYTES);
  tkms_fw_str(op->resp, TKMS_F_OWNER, op->owner.text);
  return TKMS_OK;
}

/* F_TARGET_SESSION; signed by the session's owner, or by the session itself. */
int tkms_session_revoke_parse(tkms_op *op) {
  uint8_t id[TKMS_SESSION_ID_BYTES];
  if (tkms_frame_get_fixed(op->req, TKMS_F_TARGET_SESSION, id, sizeof id) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "the session id to revoke (16 bytes) is required");
  op->target = tkms_index_find(&op->core->index, TKMS_REC_SESSION, id, sizeof id);
  if (op->target == NULL)
    return tkms_op_fail(op, TKMS_E_SESSION_UNKNOWN, "no such session (never opened, or revoked)");
  if (op->target->u.session.attested) {
    /* Its owner is a measurement, which signs nothing: only the session key can. */
    if (!op->has_session || memcmp(op->session_id, id, sizeof id) != 0)
      return tkms_op_fail(op, TKMS_E_SCOPE,
                          "an attested session is revoked by its own session key (session_id)");
    return TKMS_OK;
  }
  if (tkms_principal_parse(op->target->u.session.owner, &op->owner) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "session record has a bad owner");
  /* A host-supplied F_OWNER is only a claim; if given it must match. */
  char s[TKMS_MAX_PRINCIPAL + 1];
  if (tkms_frame_count(op->req, TKMS_F_OWNER) > 0 &&
      (tkms_frame_get_str(op->req, TKMS_F_OWNER, s, TKMS_MAX_PRINCIPAL) != 0 ||
       strcmp(s, op->owner.text) != 0))
    return tkms_op_fail(op, TKMS_E_WRONG_SIGNER,
                        "the session belongs to %s, not to the owner in the request",
                        op->owner.text);
  if (op->has_session && memcmp(op->session_id, id, sizeof id) != 0)
    return tkms_op_fail(op, TKMS_E_SCOPE, "a session may revoke only itself");
  return TKMS_OK;
}

int tkms_session_revoke(tkms_op *op) {
  int st = tkms_tx_del(op, op->target);
  if (st != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_TARGET_SESSION, op->target->id, TKMS_SESSION_ID_BYTES);
  return TKMS_OK;
}
