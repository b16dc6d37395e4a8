/* src/core/authz.c — request authorisation (see authz.h). */
#include "core/authz.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "core/sessions.h"
#include "crypto/eip712.h"
#include "crypto/secp256k1_eth.h"
#include "proto/hex.h"
#include "proto/requests.h"

/* Which frame field carries each EIP-712 member. "sessionId" is the session a
 * RevokeSession acts on (F_TARGET_SESSION), not the signer's F_SESSION_ID. */
/* json: what docs/api.md calls the field, for error messages clients read. */
static const struct {
  const char *name;
  uint8_t tag;
  const char *json;
} member_tags[] = {
    {"keyType", TKMS_F_KEY_TYPE, "key_type"},
    {"owner", TKMS_F_OWNER, "owner"},
    {"requestId", TKMS_F_REQUEST_ID, "request_id"},
    {"deadline", TKMS_F_DEADLINE, "deadline"},
    {"keyId", TKMS_F_KEY_ID, "key_id"},
    {"mode", TKMS_F_SIGN_MODE, "mode"},
    {"payload", TKMS_F_PAYLOAD, "payload"},
    {"version", TKMS_F_VERSION, "version"},
    {"sessionKey", TKMS_F_SESSION_KEY, "session_key"},
    {"operations", TKMS_F_SCOPE_OP, "operations"},
    {"keyIds", TKMS_F_SCOPE_KEY, "key_ids"},
    {"expiry", TKMS_F_EXPIRY, "expiry"},
    {"sessionId", TKMS_F_TARGET_SESSION, "session_id (the session to revoke)"},
    {"policy", TKMS_F_POLICY, "policy"},
    {"newOwner", TKMS_F_NEW_OWNER, "new_owner"},
};

static const char *json_name(const char *name) {
  for (size_t i = 0; i < sizeof member_tags / sizeof member_tags[0]; i++) {
    if (strcmp(member_tags[i].name, name) == 0) return member_tags[i].json;
  }
  return name;
}

#define MAX_MEMBERS 8
#define MAX_ARRAY 64 /* >= TKMS_MAX_SCOPE_KEYS and the number of scope ops */

static int tag_of(const char *name) {
  for (size_t i = 0; i < sizeof member_tags / sizeof member_tags[0]; i++) {
    if (strcmp(member_tags[i].name, name) == 0) return member_tags[i].tag;
  }
  return -1;
}

/* The single occurrence of tag: a repeated scalar would let the signed value
 * and the used value differ in some future reader, so it is refused. */
static int get_one(const tkms_frame *f, uint8_t tag, const uint8_t **v, size_t *n) {
  if (tkms_frame_count(f, tag) != 1) return -1;
  return tkms_frame_get(f, tag, v, n);
}

/* Encodes one member as its 32-byte word. */
static int member_word(const tkms_frame *f, const tkms_eip712_field *m, uint8_t w[32]) {
  int tag = tag_of(m->name);
  if (tag < 0) return -1;
  const char *t = m->type;
  if (strcmp(t, "string[]") == 0 || strcmp(t, "bytes16[]") == 0) {
    static const size_t elem_max = 16; /* scope ops are short; key ids exactly 16 */
    uint8_t words[MAX_ARRAY][32];
    size_t n = 0;
    tkms_field_iter it;
    tkms_field_iter_init(&it, f);
    uint8_t tg;
    const uint8_t *v;
    size_t len;
    while (tkms_field_next(&it, &tg, &v, &len) == 1) {
      if (tg != tag) continue;
      if (n == MAX_ARRAY || len == 0 || len > elem_max) return -1;
      if (t[0] == 's') {
        tkms_eip712_word_dynamic(v, len, words[n]);
      } else if (len != 16 || tkms_eip712_word_bytes_n(v, 16, words[n]) != 0) {
        return -1;
      }
      n++;
    }
    tkms_eip712_word_array((const uint8_t(*)[32])words, n, w);
    return 0;
  }
  const uint8_t *v;
  size_t n;
  if (get_one(f, (uint8_t)tag, &v, &n) != 0) return -1;
  if (strcmp(t, "string") == 0 || strcmp(t, "bytes") == 0) {
    if (n > TKMS_MAX_PAYLOAD) return -1;
    tkms_eip712_word_dynamic(v, n, w);
  } else if (strcmp(t, "bytes32") == 0 || strcmp(t, "bytes16") == 0) {
    size_t want = t[5] == '3' ? 32 : 16;
    if (n != want || tkms_eip712_word_bytes_n(v, n, w) != 0) return -1;
  } else if (strcmp(t, "uint64") == 0 && n == 8) {
    tkms_eip712_word_uint64(tkms_be64_get(v), w);
  } else if (strcmp(t, "uint32") == 0 && n == 4) {
    tkms_eip712_word_uint64(tkms_be32_get(v), w);
  } else {
    return -1;
  }
  return 0;
}

/* typeHash of every request type, hashed once (two Keccak blocks each, on
 * every signed request otherwise). */
static uint8_t type_hashes[TKMS_RT__COUNT][32];
static pthread_once_t type_hashes_once = PTHREAD_ONCE_INIT;

static void type_hashes_init(void) {
  for (int i = 0; i < TKMS_RT__COUNT; i++)
    tkms_eip712_type_hash(tkms_eip712_request_types[i].encode_type, type_hashes[i]);
}

int tkms_request_hash_struct(const tkms_frame *f, int rt, uint8_t out[32], const char **bad) {
  if (rt < 0 || rt >= TKMS_RT__COUNT) return -1;
  if (pthread_once(&type_hashes_once, type_hashes_init) != 0) return -1;
  const tkms_eip712_request_type *t = &tkms_eip712_request_types[rt];
  uint8_t words[MAX_MEMBERS][32];
  if (t->n_fields > MAX_MEMBERS) return -1;
  for (size_t i = 0; i < t->n_fields; i++) {
    if (member_word(f, &t->fields[i], words[i]) != 0) {
      if (bad != NULL) *bad = t->fields[i].name;
      return -1;
    }
  }
  tkms_eip712_hash_struct(type_hashes[rt], (const uint8_t(*)[32])words, t->n_fields, out);
  return 0;
}

int tkms_authz_envelope(tkms_op *op) {
  const tkms_frame *f = op->req;
  const uint8_t *v;
  size_t n;
  uint8_t deployment[32];
  if (get_one(f, TKMS_F_REQUEST_ID, &v, &n) != 0 || n != TKMS_REQUEST_ID_BYTES)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "request_id (32 bytes) is required");
  memcpy(op->request_id, v, n);
  if (get_one(f, TKMS_F_DEADLINE, &v, &n) != 0 || n != 8)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "deadline (unix seconds) is required");
  op->deadline = tkms_be64_get(v);
  if (get_one(f, TKMS_F_DEPLOYMENT, &v, &n) != 0 || n != TKMS_SALT_BYTES)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "deployment (the 32-byte deployment salt) is required");
  memcpy(deployment, v, n);
  if (get_one(f, TKMS_F_AUTH_SIG, &op->auth_sig, &op->auth_sig_len) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "signature is required");
  size_t ns = tkms_frame_count(f, TKMS_F_SESSION_ID);
  op->has_session = ns > 0;
  if (ns > 1 || (ns == 1 &&
                 (tkms_frame_get(f, TKMS_F_SESSION_ID, &v, &n) != 0 || n != TKMS_SESSION_ID_BYTES)))
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "session_id must be 16 bytes, at most once");
  if (ns == 1) memcpy(op->session_id, v, TKMS_SESSION_ID_BYTES);

  return tkms_authz_deployment_deadline(op, deployment);
}

int tkms_authz_deployment_deadline(tkms_op *op, const uint8_t deployment[TKMS_SALT_BYTES]) {
  if (sodium_memcmp(deployment, op->core->dep.salt, TKMS_SALT_BYTES) != 0) {
    char want[2 * TKMS_SALT_BYTES + 3];
    tkms_hex_encode(op->core->dep.salt, TKMS_SALT_BYTES, want);
    return tkms_op_fail(op, TKMS_E_WRONG_DEPLOYMENT,
                        "the request was signed for another deployment; this one's salt is %s",
                        want);
  }
  if (op->deadline < op->now)
    return tkms_op_fail(op, TKMS_E_EXPIRED, "the deadline %llu has passed (now %llu)",
                        (unsigned long long)op->deadline, (unsigned long long)op->now);
  if (op->deadline - op->now > TKMS_MAX_DEADLINE_WINDOW)
    return tkms_op_fail(op, TKMS_E_DEADLINE_TOO_FAR,
                        "the deadline is more than %u s ahead (now %llu)", TKMS_MAX_DEADLINE_WINDOW,
                        (unsigned long long)op->now);
  return TKMS_OK;
}

/* Verifies op->auth_sig by signer over the request's EIP-712 struct hash sh. */
static int verify_signature(tkms_op *op, const tkms_principal *signer, const uint8_t sh[32]) {
  const uint8_t *ds = op->core->dep.domain_sep;
  if (signer->kind == TKMS_PRINCIPAL_EOA) {
    if (op->auth_sig_len != TKMS_SECP_SIG_BYTES)
      return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE, "an eoa signature is 65 bytes r|s|v");
    uint8_t digest[32], addr[20];
    tkms_eip712_digest(ds, sh, digest);
    switch (tkms_secp_recover(digest, op->auth_sig, addr)) {
      case TKMS_SECP_OK:
        break;
      case TKMS_SECP_HIGH_S:
        return tkms_op_fail(op, TKMS_E_HIGH_S,
                            "non-canonical signature: s must be <= n/2 and v 27 or 28");
      default:
        return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE, "the signature does not verify");
    }
    if (memcmp(addr, signer->id, 20) != 0) {
      tkms_principal got;
      tkms_principal_eoa(addr, &got);
      return tkms_op_fail(op, TKMS_E_WRONG_SIGNER, "the request is signed by %s, not by %s",
                          got.text, signer->text);
    }
    return TKMS_OK;
  }
  if (signer->kind == TKMS_PRINCIPAL_X25519) {
    /* A MAC session: HMAC-SHA256 under the key this session shares with the
     * core, over the same digest an eoa signs. Only a session has such a key. */
    const uint8_t *k = op->session != NULL ? op->session->u.session.mac_key : NULL;
    if (k == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "the MAC session has no key");
    if (op->auth_sig_len != crypto_auth_hmacsha256_BYTES)
      return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE, "a MAC session authenticator is 32 bytes");
    uint8_t digest[32];
    tkms_eip712_digest(ds, sh, digest);
    /* constant time */
    if (crypto_auth_hmacsha256_verify(op->auth_sig, digest, sizeof digest, k) != 0)
      return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE,
                          "the MAC session authenticator does not verify (HMAC-SHA256 of the "
                          "EIP-712 digest under the session's MAC key)");
    return TKMS_OK;
  }
  if (op->auth_sig_len != crypto_sign_BYTES)
    return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE, "an ed25519 signature is 64 bytes");
  uint8_t pre[TKMS_EIP712_PREIMAGE_BYTES];
  tkms_eip712_preimage(ds, sh, pre);
  if (crypto_sign_verify_detached(op->auth_sig, pre, sizeof pre, signer->id) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE, "the signature does not verify for %s",
                        signer->text);
  return TKMS_OK;
}

/* The session may do this op, on this key, for this owner. */
static int check_scope(tkms_op *op, const tkms_ecall *ec) {
  const tkms_rec *s = op->session;
  if (ec->scope == TKMS_SCOPE_SELF) {
    if (op->target == NULL || memcmp(op->target->id, s->id, s->id_len) != 0)
      return tkms_op_fail(op, TKMS_E_SCOPE, "a session may only revoke itself");
    return TKMS_OK;
  }
  if ((s->u.session.ops & ec->scope) == 0)
    return tkms_op_fail(op, TKMS_E_SCOPE, "the session does not allow this operation");
  if (s->u.session.attested) {
    /* Attested software is not the owner's delegate: no owner check here; the
     * key's policy decides (tkms_attested_gate). Its scope is sign only. */
    if (op->key != NULL && !tkms_session_covers_key(s, op->key->id))
      return tkms_op_fail(op, TKMS_E_SCOPE, "the session does not cover this key");
    return TKMS_OK;
  }
  if (strcmp(s->u.session.owner, op->owner.text) != 0)
    return tkms_op_fail(op, TKMS_E_SCOPE, "the session acts for %s, not for %s", s->u.session.owner,
                        op->owner.text);
  if (op->key != NULL && !tkms_session_covers_key(s, op->key->id))
    return tkms_op_fail(op, TKMS_E_SCOPE, "the session does not cover this key");
  /* A session limited to listed keys acts on those keys only: a key it created
   * would be outside its own list. */
  if (ec->scope == TKMS_SCOPE_CREATE && s->u.session.n_keys > 0)
    return tkms_op_fail(op, TKMS_E_SCOPE, "a session limited to listed keys cannot create keys");
  return TKMS_OK;
}

int tkms_authz_verify(tkms_op *op, const tkms_ecall *ec) {
  tkms_core *c = op->core;
  tkms_principal session_key;
  const tkms_principal *signer = &op->owner;
  if (op->has_session) {
    op->session =
        tkms_index_find(&c->index, TKMS_REC_SESSION, op->session_id, TKMS_SESSION_ID_BYTES);
    if (op->session == NULL)
      return tkms_op_fail(op, TKMS_E_SESSION_UNKNOWN, "no such session (never opened, or revoked)");
    if (op->session->u.session.expiry < op->now)
      return tkms_op_fail(op, TKMS_E_SESSION_EXPIRED, "the session expired at %llu",
                          (unsigned long long)op->session->u.session.expiry);
    if (tkms_principal_parse_session_key(op->session->u.session.session_key, &session_key) != 0)
      return tkms_op_fail(op, TKMS_E_INTERNAL, "session record has a bad key");
    signer = &session_key;
  }
  uint8_t sh[32];
  const char *bad = "?";
  if (tkms_request_hash_struct(op->req, ec->rt, sh, &bad) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "request field %s is missing or malformed",
                        json_name(bad));
  int st = verify_signature(op, signer, sh);
  if (st != TKMS_OK) return st;
  if (op->has_session && (st = check_scope(op, ec)) != TKMS_OK) return st;
  if ((st = tkms_attested_gate(op, ec)) != TKMS_OK) return st;
  return TKMS_OK;
}

int tkms_authz_replay(tkms_op *op) {
  if (tkms_index_find(&op->core->index, TKMS_REC_NONCE, op->request_id, TKMS_REQUEST_ID_BYTES) !=
      NULL)
    return tkms_op_fail(op, TKMS_E_REPLAY, "this request_id was already used");
  return TKMS_OK;
}
