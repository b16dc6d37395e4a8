/* src/core/policy_ops.c — POLICY_UPDATE, POLICY_CANCEL, POLICY_GET,
 * POLICY_MATERIALISE: changing a key's owner and policy under the time-lock.
 *
 * The rule (DESIGN.md "Time-lock"): a change that widens access -- a new owner,
 * or a policy that tkms_policy_widens() -- is recorded as a pending change
 * (record type 6) with accepted_at = now and effective_at = now + the delay of
 * the policy in force, and is in force from effective_at (key_policy.h). A
 * change that only narrows applies at once. One pending change per key; the
 * owner in force may cancel it before effective_at. Time is op->now.
 *
 * Applying a change re-seals the key's current record (same version) with the
 * new owner and policy, so the host must hand back that record (F_BLOB), as for
 * a sign; the secret is opened and dropped here. A due pending change is folded
 * into the key record ("materialised") by POLICY_MATERIALISE, which needs no
 * signature: the core checks effective_at <= now itself, so the host can only
 * delay it, and a delayed change is in force anyway. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/key_policy.h"
#include "core/keys.h"
#include "core/op.h"
#include "core/seal.h"
#include "core/secmem.h"
#include "core/txn.h"
#include "crypto/kdf.h"

/* ---- helpers ----------------------------------------------------------------- */

static void put_policy_field(tkms_op *op, uint8_t tag, const tkms_policy *p) {
  uint8_t b[TKMS_POLICY_ENC_MAX];
  size_t n = tkms_policy_encode(p, b, sizeof b);
  tkms_fw_bytes(op->resp, tag, b, n);
}

/* The pending change's fields in the answer. */
static void put_pending(tkms_op *op, const tkms_rec *pc) {
  tkms_fw_str(op->resp, TKMS_F_NEW_OWNER, pc->u.pending.new_owner);
  put_policy_field(op, TKMS_F_PENDING_POLICY, tkms_rec_policy(pc));
  tkms_fw_u64(op->resp, TKMS_F_ACCEPTED_AT, pc->u.pending.accepted_at);
  tkms_fw_u64(op->resp, TKMS_F_EFFECTIVE_AT, pc->u.pending.effective_at);
}

/* F_BLOB, which must be the key's current record. */
static int get_blob(tkms_op *op) {
  if (tkms_frame_count(op->req, TKMS_F_BLOB) != 1 ||
      tkms_frame_get(op->req, TKMS_F_BLOB, &op->blob, &op->blob_len) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "F_BLOB (the key's sealed record) is required");
  uint8_t h[32];
  tkms_sha256(op->blob, op->blob_len, h);
  if (sodium_memcmp(h, op->key->blob_hash, 32) != 0)
    return tkms_op_fail(op, TKMS_E_STALE_RECORD,
                        "the stored record is not the current record of this key (version %u); "
                        "retry",
                        op->key->version);
  return TKMS_OK;
}

/* Re-seals the key's current record (op->blob, checked) with owner and policy,
 * same version, into the transaction. */
static int reseal_key(tkms_op *op, const char *owner, const tkms_policy *policy) {
  const tkms_rec *k = op->key;
  tkms_rec *opened = NULL;
  uint8_t *secret = NULL;
  if (tkms_record_open(op->core->sec, TKMS_REC_KEY, k->id, k->id_len, k->version, op->blob,
                       op->blob_len, &opened, &secret) != 0 ||
      secret == NULL) {
    tkms_rec_free(opened);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the current record of this key does not open");
  }
  tkms_rec_free(opened);
  tkms_rec *r = tkms_rec_dup(k);
  int st = TKMS_OK;
  if (r == NULL || tkms_rec_set_policy(r, policy) != 0) {
    st = tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  } else {
    snprintf(r->u.key.owner, sizeof r->u.key.owner, "%s", owner);
    st = tkms_tx_seal_put(op, r, secret);
  }
  tkms_secmem_free(secret);
  if (st != TKMS_OK) tkms_rec_free(r);
  return st;
}

/* ---- parse steps ----------------------------------------------------------------- */

/* F_KEY_ID F_NEW_OWNER F_POLICY: the key, and what the owner asks it to become. */
int tkms_policy_update_parse(tkms_op *op) {
  int st = tkms_key_ref_parse(op);
  if (st != TKMS_OK) return st;
  const uint8_t *v;
  size_t n;
  if (tkms_frame_count(op->req, TKMS_F_NEW_OWNER) != 1 ||
      tkms_frame_get(op->req, TKMS_F_NEW_OWNER, &v, &n) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "new_owner is required (\"\" = unchanged)");
  op->new_owner_given = n > 0;
  if (n > 0) {
    char s[TKMS_MAX_PRINCIPAL + 1];
    if (n > TKMS_MAX_PRINCIPAL)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "new_owner is longer than any principal");
    memcpy(s, v, n);
    s[n] = '\0';
    if (memchr(v, 0, n) != NULL || tkms_principal_parse(s, &op->new_owner) != 0)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                          "new_owner must be a principal: eoa:0x<40 lowercase hex> or "
                          "ed25519:0x<64 lowercase hex>");
    if (op->key->u.key.key_type == TKMS_KEYTYPE_BN254)
      return tkms_op_fail(op, TKMS_E_UNSUPPORTED,
                          "a bn254 key is its operator's key: it cannot change owner (create a "
                          "key for the new operator instead)");
  }
  if ((st = tkms_policy_parse_field(op)) != TKMS_OK) return st;
  if (!op->new_owner_given && !op->policy_given)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "nothing to change: give new_owner, policy or both");
  return TKMS_OK;
}

/* F_KEY_ID of a live key (CANCEL; GET and MATERIALISE use it without auth). */
int tkms_policy_key_parse(tkms_op *op) {
  return tkms_key_ref_parse(op);
}

/* ---- handlers ----------------------------------------------------------------------- */

int tkms_policy_update(tkms_op *op) {
  tkms_core *c = op->core;
  const tkms_rec *k = op->key;
  const tkms_rec *pc = tkms_key_pending(c, k);
  if (pc != NULL && pc->u.pending.effective_at > op->now)
    return tkms_op_fail(op, TKMS_E_CHANGE_PENDING,
                        "a policy change of this key is pending until %llu; cancel it first",
                        (unsigned long long)pc->u.pending.effective_at);
  /* Compared against what is in force now (a due change included). */
  tkms_policy cur = *tkms_key_policy_at(c, k, op->now);
  char cur_owner[TKMS_MAX_PRINCIPAL + 1], new_owner[TKMS_MAX_PRINCIPAL + 1];
  snprintf(cur_owner, sizeof cur_owner, "%s", tkms_key_owner_at(c, k, op->now));
  snprintf(new_owner, sizeof new_owner, "%s", op->new_owner_given ? op->new_owner.text : cur_owner);
  tkms_policy next = op->policy_given ? op->policy : cur;
  int widens = strcmp(new_owner, cur_owner) != 0 || tkms_policy_widens(&cur, &next);
  int st = get_blob(op);
  if (st != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, k->id, TKMS_KEY_ID_BYTES);
  if (widens && cur.delay_s > 0) {
    /* Pending. A due change still unmaterialised is folded into the key first,
     * so that replacing its record does not take it out of force. */
    if (pc != NULL && (st = reseal_key(op, cur_owner, &cur)) != TKMS_OK) return st;
    if (op->now > UINT64_MAX - cur.delay_s)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "the time-lock would end after the year 2^64");
    tkms_rec *r = tkms_rec_new(0);
    if (r != NULL) r->type = TKMS_REC_POLICY_CHANGE; /* before the policy: its slot */
    if (r == NULL || tkms_rec_set_policy(r, &next) != 0) {
      tkms_rec_free(r);
      return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
    }
    r->id_len = TKMS_KEY_ID_BYTES;
    memcpy(r->id, k->id, TKMS_KEY_ID_BYTES);
    r->version = 1;
    r->u.pending.accepted_at = op->now;
    r->u.pending.effective_at = op->now + cur.delay_s;
    memcpy(r->u.pending.new_owner, new_owner, sizeof r->u.pending.new_owner);
    if ((st = tkms_tx_seal_put(op, r, NULL)) != TKMS_OK) {
      tkms_rec_free(r);
      return st;
    }
    tkms_fw_u32(op->resp, TKMS_F_APPLIED, 0);
    tkms_fw_str(op->resp, TKMS_F_OWNER, cur_owner);
    put_policy_field(op, TKMS_F_POLICY, &cur);
    put_pending(op, r); /* r belongs to the tx now; it lives until commit/abort */
  } else {
    /* Narrowing only (or a widening under a zero delay): at once. */
    if ((st = reseal_key(op, new_owner, &next)) != TKMS_OK) return st;
    if (pc != NULL && (st = tkms_tx_del(op, pc)) != TKMS_OK) return st;
    tkms_fw_u32(op->resp, TKMS_F_APPLIED, 1);
    tkms_fw_str(op->resp, TKMS_F_OWNER, new_owner);
    put_policy_field(op, TKMS_F_POLICY, &next);
  }
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

int tkms_policy_cancel(tkms_op *op) {
  const tkms_rec *pc = tkms_key_pending(op->core, op->key);
  if (pc == NULL)
    return tkms_op_fail(op, TKMS_E_NO_PENDING_CHANGE, "no policy change of this key is pending");
  if (pc->u.pending.effective_at <= op->now)
    return tkms_op_fail(op, TKMS_E_CHANGE_EFFECTIVE,
                        "the change took effect at %llu (now %llu); it can no longer be "
                        "cancelled, only undone by another change",
                        (unsigned long long)pc->u.pending.effective_at,
                        (unsigned long long)op->now);
  int st = tkms_tx_del(op, pc);
  if (st != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, op->key->id, TKMS_KEY_ID_BYTES);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

int tkms_policy_get(tkms_op *op) {
  int st = tkms_key_ref_parse(op);
  if (st != TKMS_OK) return st;
  const tkms_rec *pc = tkms_key_pending(op->core, op->key);
  tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, op->key->id, TKMS_KEY_ID_BYTES);
  tkms_fw_str(op->resp, TKMS_F_OWNER, tkms_key_owner_at(op->core, op->key, op->now));
  put_policy_field(op, TKMS_F_POLICY, tkms_key_policy_at(op->core, op->key, op->now));
  if (pc != NULL) put_pending(op, pc);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

int tkms_policy_materialise(tkms_op *op) {
  const tkms_rec *pc = tkms_key_pending(op->core, op->key);
  if (pc == NULL)
    return tkms_op_fail(op, TKMS_E_NO_PENDING_CHANGE, "no policy change of this key is pending");
  if (pc->u.pending.effective_at > op->now)
    return tkms_op_fail(op, TKMS_E_CHANGE_NOT_DUE, "the change takes effect at %llu (now %llu)",
                        (unsigned long long)pc->u.pending.effective_at,
                        (unsigned long long)op->now);
  int st = get_blob(op);
  if (st != TKMS_OK) return st;
  if ((st = reseal_key(op, pc->u.pending.new_owner, tkms_rec_policy(pc))) != TKMS_OK) return st;
  if ((st = tkms_tx_del(op, pc)) != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, op->key->id, TKMS_KEY_ID_BYTES);
  tkms_fw_str(op->resp, TKMS_F_OWNER, pc->u.pending.new_owner);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

/* ---- POLICY_DUE: where the host's sweep should materialise ------------------------ */

#define DUE_SCAN_BUCKETS 4096u /* index buckets looked at per call */

static int due_pred(const tkms_rec *r, void *arg) {
  const uint64_t *now = arg;
  return r->type == TKMS_REC_POLICY_CHANGE && r->u.pending.effective_at <= *now;
}

int tkms_policy_due(tkms_op *op) {
  uint64_t cur = 0;
  if (tkms_frame_count(op->req, TKMS_F_CURSOR) > 0 &&
      tkms_frame_get_u64(op->req, TKMS_F_CURSOR, &cur) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "cursor must be a u64");
  /* The cursor is the host's (this op runs under the read lock, concurrently
   * with others); any value is safe: the index masks it to its size. */
  size_t cursor = (size_t)cur;
  const tkms_rec *found[TKMS_POLICY_DUE_MAX];
  uint64_t now = op->now;
  size_t n = tkms_index_sweep(&op->core->index, &cursor, DUE_SCAN_BUCKETS, due_pred, &now, found,
                              TKMS_POLICY_DUE_MAX);
  for (size_t i = 0; i < n; i++) tkms_fw_bytes(op->resp, TKMS_F_KEY_ID, found[i]->id, 16);
  tkms_fw_u64(op->resp, TKMS_F_CURSOR, (uint64_t)cursor);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}
