/* src/core/key_ops.c — KEY_CREATE, KEY_SIGN, KEY_ROTATE, KEY_DESTROY.
 * Authorisation has run before any handler here (dispatch.c); parse steps run
 * before it and only validate fields and find the key. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/key_policy.h"
#include "core/keys.h"
#include "core/op.h"
#include "core/receipts.h"
#include "core/seal.h"
#include "core/secmem.h"
#include "core/txn.h"
#include "crypto/avs.h"
#include "crypto/bn254/bn254.h"
#include "crypto/kdf.h"

/* ---- parse steps ----------------------------------------------------------- */

int tkms_key_create_parse(tkms_op *op) {
  char s[TKMS_MAX_PRINCIPAL + 1];
  if (tkms_frame_get_str(op->req, TKMS_F_KEY_TYPE, s, 32) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "key_type is required");
  op->key_type = tkms_keytype_parse(s);
  if (op->key_type == 0)
    return tkms_op_fail(op, TKMS_E_UNSUPPORTED,
                        "key type %s is not supported "
                        "(secp256k1, ed25519, bn254)",
                        s);
  if (tkms_frame_get_str(op->req, TKMS_F_OWNER, s, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_principal_parse(s, &op->owner) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "owner must be a principal: eoa:0x<40 lowercase hex> or "
                        "ed25519:0x<64 lowercase hex>");
  /* An AVS operator is an Ethereum account: EigenLayer registers the key for
   * an address, and avs_registration signs for the owner's address. */
  if (op->key_type == TKMS_KEYTYPE_BN254 && op->owner.kind != TKMS_PRINCIPAL_EOA)
    return tkms_op_fail(op, TKMS_E_UNSUPPORTED,
                        "bn254 keys are EigenLayer operator keys: the owner must be an "
                        "eoa:0x... account, not %s",
                        op->owner.text);
  return tkms_policy_parse_field(op);
}

int tkms_policy_parse_field(tkms_op *op) {
  const uint8_t *v;
  size_t n;
  const char *why = "?";
  if (tkms_frame_count(op->req, TKMS_F_POLICY) != 1 ||
      tkms_frame_get(op->req, TKMS_F_POLICY, &v, &n) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "policy (canonical bytes, may be empty) is required");
  if (n > TKMS_POLICY_ENC_MAX || tkms_policy_decode(v, n, &op->policy, &why) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "policy: %s",
                        n > TKMS_POLICY_ENC_MAX ? "longer than any canonical policy" : why);
  op->policy_given = n > 0;
  return TKMS_OK;
}

/* F_KEY_ID names a live key; its owner in force now must authorise. */
int tkms_key_ref_parse(tkms_op *op) {
  uint8_t id[TKMS_KEY_ID_BYTES];
  if (tkms_frame_count(op->req, TKMS_F_KEY_ID) != 1 ||
      tkms_frame_get_fixed(op->req, TKMS_F_KEY_ID, id, sizeof id) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "key_id (16 bytes) is required");
  op->key = tkms_index_find(&op->core->index, TKMS_REC_KEY, id, sizeof id);
  if (op->key == NULL) return tkms_op_fail(op, TKMS_E_NOT_FOUND, "no such key");
  if (tkms_principal_parse(tkms_key_owner_at(op->core, op->key, op->now), &op->owner) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "key record has a bad owner");
  return TKMS_OK;
}

int tkms_key_sign_parse(tkms_op *op) {
  char s[33];
  if (tkms_frame_get_str(op->req, TKMS_F_SIGN_MODE, s, sizeof s - 1) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "mode is required");
  /* Like an unknown key type: a well-formed value the service does not offer. */
  if ((op->mode = tkms_mode_parse(s)) == 0)
    return tkms_op_fail(op, TKMS_E_UNSUPPORTED,
                        "mode %s is not supported (digest, personal, message, bn254_g1_mul, "
                        "bn254_hash, avs_registration)",
                        s);
  if (tkms_frame_count(op->req, TKMS_F_PAYLOAD) != 1 ||
      tkms_frame_get(op->req, TKMS_F_PAYLOAD, &op->payload, &op->payload_len) != 0 ||
      op->payload_len > TKMS_MAX_PAYLOAD)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "payload (at most %u bytes) is required",
                        TKMS_MAX_PAYLOAD);
  if (tkms_frame_count(op->req, TKMS_F_BLOB) != 1 ||
      tkms_frame_get(op->req, TKMS_F_BLOB, &op->blob, &op->blob_len) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "F_BLOB (the key's sealed record) is required");
  const uint8_t *v;
  size_t vn;
  if (tkms_frame_count(op->req, TKMS_F_VERSION) != 1 ||
      tkms_frame_get(op->req, TKMS_F_VERSION, &v, &vn) != 0 || vn != 4)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "version (the key version to sign with) is required");
  uint32_t version = tkms_be32_get(v);
  int st = tkms_key_ref_parse(op);
  if (st != TKMS_OK) return st;
  /* The owner signs for one version: after a rotation an old request must not
   * silently sign with the new secret (nor the other way round). */
  if (version != op->key->version)
    return tkms_op_fail(op, TKMS_E_WRONG_VERSION,
                        "the request was signed for version %u; the key is at version %u", version,
                        op->key->version);
  if (!tkms_mode_allowed(op->key->u.key.key_type, op->mode))
    return tkms_op_fail(op, TKMS_E_UNSUPPORTED, "mode %s is not available for %s keys", s,
                        tkms_keytype_name(op->key->u.key.key_type));
  if (op->mode == TKMS_MODE_DIGEST && op->payload_len != 32)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "mode digest signs exactly 32 bytes");
  if (op->key->u.key.key_type == TKMS_KEYTYPE_BN254) {
    /* The point sk will multiply, from public data only: a bad point is refused
     * here, before authorisation and long before the secret is opened. The
     * registration message names the owner from the core's own index (the
     * sealed record), never an address the client or the host chose. */
    const char *why = "?";
    if (op->owner.kind != TKMS_PRINCIPAL_EOA)
      return tkms_op_fail(op, TKMS_E_INTERNAL, "bn254 key record has a non-eoa owner");
    if (tkms_bn254_mode_point(op->mode, op->payload, op->payload_len, op->owner.id, op->bn_point,
                              &why) != 0)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "mode %s: %s", s, why);
  }
  return TKMS_OK;
}

/* ---- handlers ------------------------------------------------------------- */

/* Seals a new version of a key and adds it to the transaction; answers F_KEY_ID
 * F_VERSION F_PUBKEY [F_ADDRESS] F_TIME. The secret is made and dropped here. */
static int put_new_key(tkms_op *op, tkms_rec *r) {
  uint8_t *secret = tkms_secmem_alloc(TKMS_KEY_SECRET_BYTES);
  uint8_t addr[20];
  if (secret == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  int st = TKMS_OK;
  if (tkms_key_generate(r->u.key.key_type, secret, r->u.key.pub, addr) != 0) {
    st = tkms_op_fail(op, TKMS_E_INTERNAL, "key generation failed");
  } else {
    r->u.key.pub_len = (uint8_t)tkms_key_pub_len(r->u.key.key_type);
    r->u.key.created_at = op->now;
    st = tkms_tx_seal_put(op, r, secret);
  }
  tkms_secmem_free(secret); /* zeroises: the sealed blob is now the only copy */
  if (st != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, r->id, TKMS_KEY_ID_BYTES);
  tkms_fw_u32(op->resp, TKMS_F_VERSION, r->version);
  tkms_fw_bytes(op->resp, TKMS_F_PUBKEY, r->u.key.pub, r->u.key.pub_len);
  if (r->u.key.key_type == TKMS_KEYTYPE_SECP256K1)
    tkms_fw_bytes(op->resp, TKMS_F_ADDRESS, addr, 20);
  if (r->u.key.key_type == TKMS_KEYTYPE_BN254) {
    uint8_t oid[32]; /* keccak here: the host has none (layering) */
    tkms_avs_operator_id(r->u.key.pub, oid);
    tkms_fw_bytes(op->resp, TKMS_F_OPERATOR_ID, oid, sizeof oid);
  }
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

/* A live bn254 key of owner, for the one-key-per-operator rule. */
typedef struct {
  const char *owner;
  int found;
} bn254_owner_ctx;

static void find_bn254_owner(const tkms_rec *r, void *arg) {
  bn254_owner_ctx *c = arg;
  if (r->type == TKMS_REC_KEY && r->u.key.key_type == TKMS_KEYTYPE_BN254 &&
      strcmp(r->u.key.owner, c->owner) == 0)
    c->found = 1;
}

int tkms_key_create(tkms_op *op) {
  if (op->key_type == TKMS_KEYTYPE_BN254) {
    /* One operator key per EOA: EigenLayer registers one BLS key per operator;
     * a new one is a rotation of the existing key. Checked under the mutation
     * lock, which holds until COMMIT/ABORT, so two creates cannot both pass.
     * A full index walk: creates are rare and signed; lookups stay O(1). */
    bn254_owner_ctx c = {op->owner.text, 0};
    tkms_index_each(&op->core->index, find_bn254_owner, &c);
    if (c.found)
      return tkms_op_fail(op, TKMS_E_EXISTS,
                          "%s already has a bn254 key; rotate it (or destroy it) instead",
                          op->owner.text);
  }
  tkms_rec *r = tkms_rec_new(0);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  r->type = TKMS_REC_KEY;
  r->id_len = TKMS_KEY_ID_BYTES;
  do {
    randombytes_buf(r->id, TKMS_KEY_ID_BYTES);
  } while (tkms_index_find(&op->core->index, TKMS_REC_KEY, r->id, r->id_len) != NULL);
  r->version = 1;
  r->u.key.key_type = (uint8_t)op->key_type;
  memcpy(r->u.key.owner, op->owner.text, sizeof r->u.key.owner);
  if (tkms_rec_set_policy(r, &op->policy) != 0) {
    tkms_rec_free(r);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  }
  int st = put_new_key(op, r);
  if (st != TKMS_OK) tkms_rec_free(r);
  return st;
}

int tkms_key_rotate(tkms_op *op) {
  /* The new version replaces the record: the old secret exists nowhere after
   * the host commits, only its public key in the host's metadata. */
  if (op->key->version == UINT32_MAX)
    return tkms_op_fail(op, TKMS_E_LIMIT, "the key has reached its last version");
  tkms_rec *r = tkms_rec_dup(op->key);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  r->version++;
  int st = put_new_key(op, r);
  if (st != TKMS_OK) tkms_rec_free(r);
  return st;
}

int tkms_key_destroy(tkms_op *op) {
  const tkms_rec *k = op->key;
  /* The receipt is signed at COMMIT (dispatch.c), after the destroy is durable. */
  tkms_tx *tx = op->tx;
  /* The owner in force (a due owner change counts, materialised or not). */
  snprintf(tx->receipt_owner, sizeof tx->receipt_owner, "%s", op->owner.text);
  tx->receipt =
      (tkms_receipt){.owner = tx->receipt_owner, .version = k->version, .destroyed_at = op->now};
  memcpy(tx->receipt.key_id, k->id, TKMS_KEY_ID_BYTES);
  memcpy(tx->receipt.request_id, op->request_id, TKMS_REQUEST_ID_BYTES);
  tx->has_receipt = 1;
  int st = tkms_tx_del(op, k);
  if (st != TKMS_OK) return st;
  /* A pending policy change dies with its key: nothing may later apply to a
   * key id that no longer exists. */
  const tkms_rec *pending = tkms_key_pending(op->core, k);
  if (pending != NULL && (st = tkms_tx_del(op, pending)) != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, k->id, TKMS_KEY_ID_BYTES);
  tkms_fw_u32(op->resp, TKMS_F_VERSION, k->version);
  tkms_fw_str(op->resp, TKMS_F_OWNER, op->owner.text);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

int tkms_key_sign_op(tkms_op *op) {
  const tkms_rec *k = op->key;
  uint8_t h[32];
  tkms_sha256(op->blob, op->blob_len, h);
  /* The host must hand back exactly the current record: an older version (before
   * a rotate) or another key's blob is refused before anything is decrypted. */
  if (sodium_memcmp(h, k->blob_hash, 32) != 0)
    return tkms_op_fail(op, TKMS_E_STALE_RECORD,
                        "the stored record is not the current record of this key (version %u); "
                        "retry",
                        k->version);
  /* The policy's limits, as in force now (a due pending change included). */
  const tkms_policy *pol = tkms_key_policy_at(op->core, k, op->now);
  if (pol->not_after != 0 && op->now > pol->not_after)
    return tkms_op_fail(op, TKMS_E_KEY_EXPIRED,
                        "the key's policy allows signing until %llu (now %llu)",
                        (unsigned long long)pol->not_after, (unsigned long long)op->now);
  int rl = tkms_rate_take(&op->core->rate, k->id, pol->rate_per_minute, op->now);
  if (rl != 0)
    return rl < 0 ? tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory")
                  : tkms_op_fail(op, TKMS_E_KEY_RATE_LIMITED,
                                 "the key's policy allows %u signatures per minute; retry in "
                                 "%llu s",
                                 pol->rate_per_minute, (unsigned long long)(60 - op->now % 60));
  tkms_rec *opened = NULL;
  uint8_t *secret = NULL;
  if (tkms_record_open(op->core->sec, TKMS_REC_KEY, k->id, k->id_len, k->version, op->blob,
                       op->blob_len, &opened, &secret) != 0 ||
      secret == NULL) {
    tkms_rec_free(opened);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the current record of this key does not open");
  }
  tkms_rec_free(opened);
  uint8_t sig[TKMS_KEY_SIG_MAX];
  size_t sig_len = 0;
  int bn = k->u.key.key_type == TKMS_KEYTYPE_BN254, r;
  if (bn) {
    r = tkms_key_sign_bn254(secret, op->bn_point, sig);
    sig_len = TKMS_BN254_G1_BYTES;
  } else {
    r = tkms_key_sign(k->u.key.key_type, op->mode, secret, op->payload, op->payload_len, sig,
                      &sig_len);
  }
  tkms_secmem_free(secret);
  if (r != 0) return tkms_op_fail(op, TKMS_E_INTERNAL, "signing failed");
  tkms_fw_bytes(op->resp, TKMS_F_SIGNATURE, sig, sig_len);
  tkms_fw_u32(op->resp, TKMS_F_VERSION, k->version);
  if (bn && op->mode != TKMS_MODE_BN254_G1_MUL)
    tkms_fw_bytes(op->resp, TKMS_F_BN_POINT, op->bn_point, TKMS_BN254_G1_BYTES);
  return TKMS_OK;
}

/* ---- BN254_VERIFY: public data only ------------------------------------------ */

int tkms_bn254_verify(tkms_op *op) {
  uint8_t pk[192], msg[32], sig[64];
  if (tkms_frame_count(op->req, TKMS_F_PUBKEY) != 1 ||
      tkms_frame_get_fixed(op->req, TKMS_F_PUBKEY, pk, sizeof pk) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "public key (192 bytes: G1 || G2) is required");
  if (tkms_frame_count(op->req, TKMS_F_PAYLOAD) != 1 ||
      tkms_frame_get_fixed(op->req, TKMS_F_PAYLOAD, msg, sizeof msg) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "message hash (32 bytes) is required");
  if (tkms_frame_count(op->req, TKMS_F_SIGNATURE) != 1 ||
      tkms_frame_get_fixed(op->req, TKMS_F_SIGNATURE, sig, sizeof sig) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "signature (64 bytes: a G1 point) is required");
  const char *why = "?";
  int v = tkms_avs_verify(pk, msg, sig, &why);
  if (v < 0) return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "%s", why);
  tkms_fw_u32(op->resp, TKMS_F_VALID, v == TKMS_AVS_VALID ? 1u : 0u);
  return TKMS_OK;
}
