/* src/core/txn.c — building, committing and aborting prepared transactions.
 *
 * Rollback protection: two monotonic platform counters.
 *   P (prepared)  advanced durably at every prepare, before the manifest leaves
 *                 the core; the manifest is stamped with the new P. So every
 *                 manifest ever issued carries a value no other manifest has.
 *   K (committed) advanced to the manifest's value at COMMIT, before the core
 *                 answers OK (and so before the host acknowledges the client).
 * ABORT undoes nothing: its value of P is burned. LOAD_END (lifecycle.c)
 * accepts a manifest m iff K <= m <= P, and sets K := m if m > K (the host
 * stored a commit, the core died before COMMIT).
 *
 * Why this is safe: every acknowledged change X has m_X <= K (K advanced to
 * m_X before the acknowledgement, and K never goes back). A manifest m >= K is
 * either X's own manifest or, values being unique, one with m > m_X, i.e. one
 * prepared after X's prepare; the mutation lock serialises prepare ->
 * commit/abort, so X had committed (was applied in memory) before m was
 * prepared from that memory, and m's state includes X. By induction over
 * restarts (a restarted core's memory is a loaded manifest m >= K) this holds
 * for every acknowledged change. A manifest with m < K -- one ABORTed, one whose
 * core died before COMMIT, or a plain old copy -- may lack an acknowledged
 * change (e.g. a destroy) and is refused. */
#include "core/txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/manifest.h"
#include "core/records.h"
#include "core/seal.h"

int tkms_tx_begin(tkms_op *op) {
  tkms_core *c = op->core;
  tkms_tx *tx = calloc(1, sizeof *tx);
  if (tx == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  tx->op = op->req->op;
  tx->set = c->set;
  tx->n_records = c->n_records;
  op->tx = tx;
  return TKMS_OK;
}

static const tkms_tx_change *tx_find(const tkms_tx *tx, const tkms_rec *r) {
  for (size_t i = 0; i < tx->n; i++) {
    const tkms_rec *x = tx->ch[i].rec;
    if (x->type == r->type && x->id_len == r->id_len && memcmp(x->id, r->id, r->id_len) == 0)
      return &tx->ch[i];
  }
  return NULL;
}

static int tx_append(tkms_op *op, int del, tkms_rec *r) {
  tkms_tx *tx = op->tx;
  /* One record is touched at most once per transaction: the set hash and the
   * host's storage transaction both assume it. */
  if (tx_find(tx, r) != NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "record touched twice");
  if (tx->n == tx->cap) {
    size_t cap = tx->cap ? tx->cap * 2 : 16;
    tkms_tx_change *ch = realloc(tx->ch, cap * sizeof *ch);
    if (ch == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
    tx->ch = ch;
    tx->cap = cap;
  }
  tx->ch[tx->n].del = del;
  tx->ch[tx->n].rec = r;
  tx->n++;
  return TKMS_OK;
}

int tkms_tx_seal_put(tkms_op *op, tkms_rec *r, const uint8_t *secret) {
  tkms_tx *tx = op->tx;
  uint8_t *blob = NULL;
  size_t blob_len = 0;
  /* INIT seals its records with the hierarchy it is creating. */
  const tkms_secrets *sec = tx->init_sec != NULL ? tx->init_sec : op->core->sec;
  if (tkms_record_seal(sec, r, secret, &blob, &blob_len) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "sealing a record failed");
  const tkms_rec *old = tkms_index_find(&op->core->index, r->type, r->id, r->id_len);
  tkms_sethash set = tx->set;
  int bad = (old != NULL && tkms_set_remove(&set, old) != 0) || tkms_set_add(&set, r) != 0;
  if (!bad && old == NULL && tx->n_records == UINT32_MAX) bad = 1;
  int st = bad ? tkms_op_fail(op, TKMS_E_INTERNAL, "set hash update failed") : tx_append(op, 0, r);
  if (st == TKMS_OK) {
    tx->set = set;
    if (old == NULL) tx->n_records++;
    tkms_fw_rec_put(op->resp, TKMS_F_PUT, r, blob, blob_len);
  }
  free(blob);
  return st;
}

int tkms_tx_del(tkms_op *op, const tkms_rec *r) {
  tkms_tx *tx = op->tx;
  tkms_rec *copy = tkms_rec_dup(r);
  if (copy == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  tkms_sethash set = tx->set;
  int st = tkms_set_remove(&set, r) != 0
               ? tkms_op_fail(op, TKMS_E_INTERNAL, "set hash update failed")
               : tx_append(op, 1, copy);
  if (st != TKMS_OK) {
    tkms_rec_free(copy);
    return st;
  }
  tx->set = set;
  tx->n_records--;
  if (r->type == TKMS_REC_NONCE) tx->n_nonce_dels++;
  tkms_fw_rec_del(op->resp, r);
  return TKMS_OK;
}

static int prune(tkms_op *op, size_t scan, size_t max_del);

/* Live nonces once this transaction commits. */
static size_t nonces_after(const tkms_op *op) {
  return tkms_index_count(&op->core->index, TKMS_REC_NONCE) - op->tx->n_nonce_dels;
}

int tkms_tx_put_nonce(tkms_op *op) {
  if (nonces_after(op) >= op->core->max_nonces) {
    int st = prune(op, TKMS_PRUNE_FULL_SCAN, TKMS_PRUNE_FULL_DEL);
    if (st != TKMS_OK) return st;
    if (nonces_after(op) >= op->core->max_nonces)
      return tkms_op_fail(op, TKMS_E_LIMIT,
                          "too many requests within their deadlines (%u); retry when some "
                          "expire (at most %u s)",
                          op->core->max_nonces, TKMS_MAX_DEADLINE_WINDOW);
  }
  tkms_rec *r = tkms_rec_new(0);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  r->type = TKMS_REC_NONCE;
  r->id_len = TKMS_REQUEST_ID_BYTES;
  memcpy(r->id, op->request_id, TKMS_REQUEST_ID_BYTES);
  r->version = 1;
  r->u.nonce.deadline = op->deadline;
  int st = tkms_tx_seal_put(op, r, NULL);
  if (st != TKMS_OK) free(r);
  return st;
}

typedef struct {
  const tkms_tx *tx;
  uint64_t now;
} prune_arg;

/* Expired and not already part of this transaction. A nonce is kept until its
 * deadline has passed: until then the deadline check alone would not stop a
 * replay. */
static int expired(const tkms_rec *r, void *varg) {
  const prune_arg *a = varg;
  int old = (r->type == TKMS_REC_NONCE && r->u.nonce.deadline < a->now) ||
            (r->type == TKMS_REC_SESSION && r->u.session.expiry < a->now);
  return old && tx_find(a->tx, r) == NULL;
}

static int prune(tkms_op *op, size_t scan, size_t max_del) {
  const tkms_rec *found[TKMS_PRUNE_FULL_DEL];
  prune_arg a = {op->tx, op->now};
  if (max_del > TKMS_PRUNE_FULL_DEL) max_del = TKMS_PRUNE_FULL_DEL;
  size_t n = tkms_index_sweep(&op->core->index, &op->core->prune_cursor, scan, expired, &a, found,
                              max_del);
  for (size_t i = 0; i < n; i++) {
    int st = tkms_tx_del(op, found[i]);
    if (st != TKMS_OK) return st;
  }
  return TKMS_OK;
}

int tkms_tx_prune(tkms_op *op) {
  return prune(op, TKMS_PRUNE_SCAN, TKMS_PRUNE_PER_TX);
}

int tkms_tx_finish(tkms_op *op) {
  tkms_core *c = op->core;
  tkms_tx *tx = op->tx;
  const tkms_secrets *sec = tx->init_sec != NULL ? tx->init_sec : c->sec;
  /* Burn a fresh value of P before anything is released: the manifest below is
   * the only one that will ever carry it. A refused request (any earlier
   * failure) burns nothing. */
  uint64_t p;
  if (c->plat.ops->counter_read(c->plat.ctx, TKMS_COUNTER_PREPARED, &p) != 0 || p == UINT64_MAX)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "cannot read the platform's prepared counter");
  if (c->plat.ops->counter_advance(c->plat.ctx, TKMS_COUNTER_PREPARED, p + 1) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "cannot advance the platform's prepared counter");
  tx->counter = p + 1;
  tkms_manifest m = {.counter = tx->counter, .n_records = tx->n_records};
  tkms_sethash_digest(&tx->set, m.digest);
  uint8_t sealed[TKMS_MANIFEST_BYTES];
  if (tkms_manifest_seal(sec, &m, sealed) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "sealing the manifest failed");
  tx->txid = c->next_txid++;
  tkms_fw_u64(op->resp, TKMS_F_TXID, tx->txid);
  tkms_fw_bytes(op->resp, TKMS_F_MANIFEST, sealed, sizeof sealed);
  return TKMS_OK;
}

int tkms_tx_commit(tkms_core *c, tkms_tx *tx, char *msg, size_t msg_len) {
  uint64_t k = 0;
  if (tx->migrated) {
    /* The successor's sealed DMK is stored: nothing else changed, so no counter
     * moves. The records and the manifest are loaded next, as at any start. */
    pthread_rwlock_wrlock(&c->lock);
    c->sec = tx->init_sec;
    c->dep = tx->init_dep;
    tx->init_sec = NULL;
    c->state = TKMS_STATE_LOADING;
    c->imported = 1; /* LOAD_END lets it load; MIGRATE_FINISH makes it the holder */
    pthread_rwlock_unlock(&c->lock);
    tkms_tx_free(tx);
    return TKMS_OK;
  }
  /* K first: if it cannot advance, the host already holds the new state
   * durably and a restart will load it (K < manifest <= P, caught up there).
   * Answering OK without K would acknowledge a change X with m_X > K, and a
   * later LOAD_END could accept an older manifest (K <= m < m_X) that lacks X. */
  if (c->plat.ops->counter_advance(c->plat.ctx, TKMS_COUNTER_COMMITTED, tx->counter) != 0 ||
      c->plat.ops->counter_read(c->plat.ctx, TKMS_COUNTER_COMMITTED, &k) != 0 || k != tx->counter) {
    c->failed = 1;
    snprintf(msg, msg_len,
             "the platform's committed counter could not advance to %llu (now %llu); the core "
             "stops accepting requests: restart it, it will reload the committed state",
             (unsigned long long)tx->counter, (unsigned long long)k);
    tkms_tx_free(tx);
    return TKMS_E_INTERNAL;
  }
  pthread_rwlock_wrlock(&c->lock);
  for (size_t i = 0; i < tx->n; i++) {
    tkms_rec *r = tx->ch[i].rec;
    if (tx->ch[i].del) {
      tkms_index_del(&c->index, r->type, r->id, r->id_len);
    } else {
      tkms_index_put(&c->index, r);
      tx->ch[i].rec = NULL; /* the index owns it now */
    }
  }
  c->set = tx->set;
  c->n_records = tx->n_records;
  if (tx->op == TKMS_OP_MIGRATE_FINISH) c->must_finish = 0; /* the holder now: it serves */
  if (tx->init_sec != NULL) {
    c->sec = tx->init_sec;
    c->dep = tx->init_dep;
    tx->init_sec = NULL;
    c->state = TKMS_STATE_READY;
  }
  pthread_rwlock_unlock(&c->lock);
  tkms_tx_free(tx);
  return TKMS_OK;
}

void tkms_tx_free(tkms_tx *tx) {
  if (tx == NULL) return;
  for (size_t i = 0; i < tx->n; i++) tkms_rec_free(tx->ch[i].rec);
  free(tx->ch);
  tkms_secrets_free(tx->init_sec);
  free(tx);
}
