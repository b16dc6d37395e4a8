/* src/core/txn.h — prepared transactions: the core side of the two-phase protocol.
 *
 * A mutation builds a tkms_tx while holding the mutation lock: every record it
 * writes or deletes goes into the response (F_PUT / F_DEL) and into the tx, and
 * the tx keeps the new set hash. Before the manifest leaves the core, the
 * platform's prepared counter P advances durably and the manifest is stamped
 * with the new P, so no two manifests ever share a value. Nothing in memory
 * changes until COMMIT: then the committed counter K advances to the manifest's
 * value first and only then is the change applied. LOAD_END accepts a manifest
 * m iff K <= m <= P (txn.c explains why that is safe). */
#ifndef TKMS_CORE_TXN_H
#define TKMS_CORE_TXN_H
#include <stddef.h>
#include <stdint.h>

#include "core/op.h"
#include "core/receipts.h"
#include "proto/ops.h"

typedef struct {
  int del;
  tkms_rec *rec; /* put: the new record (owned until applied); del: a copy for its id */
} tkms_tx_change;

struct tkms_tx {
  uint64_t txid;
  uint16_t op;
  tkms_tx_change *ch;
  size_t n, cap;
  tkms_sethash set;       /* set hash after the change */
  uint32_t n_records;     /* live records after the change */
  uint32_t n_nonce_dels;  /* nonces this transaction deletes (pruned) */
  uint64_t counter;       /* the manifest's value: P after tkms_tx_finish advanced it */
  tkms_secrets *init_sec; /* INIT: the new hierarchy, installed at commit */
  tkms_deployment init_dep;
  int migrated; /* MIGRATE_IMPORT: only the sealed DMK; no manifest, no counter;
                   COMMIT installs init_sec and leaves the core LOADING */
  /* DESTROY: the deletion receipt, signed only once the destroy is committed
   * (K advanced). Signed at prepare, a host could take the receipt and ABORT,
   * keeping a live key that everyone believes destroyed. */
  int has_receipt;
  tkms_receipt receipt; /* .owner points at receipt_owner */
  char receipt_owner[TKMS_MAX_PRINCIPAL + 1];
};

#define TKMS_PRUNE_PER_TX 8u /* expired nonces/sessions deleted per mutation */
#define TKMS_PRUNE_SCAN 256u /* index buckets looked at per mutation */
#define TKMS_MAX_NONCES                                      \
  (1u << 20) /* live request ids: about an hour of mutations \
                (tkms_core.max_nonces; tests lower it) */
/* When the nonce store is full, a mutation first prunes harder than usual: this
 * many buckets scanned and records deleted at most. */
#define TKMS_PRUNE_FULL_SCAN 65536u
#define TKMS_PRUNE_FULL_DEL 64u

/* Starts op->tx. Returns TKMS_OK or a status (op_fail'ed). */
int tkms_tx_begin(tkms_op *op);
/* Seals r (plus secret for keys) and adds it; on success the tx owns r.
 * On failure the caller still owns r. Returns TKMS_OK or a status. */
int tkms_tx_seal_put(tkms_op *op, tkms_rec *r, const uint8_t *secret);
/* Deletes the live record r. Returns TKMS_OK or a status. */
int tkms_tx_del(tkms_op *op, const tkms_rec *r);
/* Records op->request_id as a nonce (replay protection). If the store of live
 * nonces is full it first deletes expired ones (so a burst that filled it cannot
 * wedge the deployment once the burst's deadlines have passed); only if none
 * has expired is the request refused with TKMS_E_LIMIT. */
int tkms_tx_put_nonce(tkms_op *op);
/* Deletes up to TKMS_PRUNE_PER_TX expired nonces and sessions. */
int tkms_tx_prune(tkms_op *op);
/* Advances the prepared counter P durably, seals the new manifest stamped with
 * it and writes F_TXID and F_MANIFEST. */
int tkms_tx_finish(tkms_op *op);

/* Applies tx (advancing the committed counter K to the manifest's value first).
 * Returns TKMS_OK, or TKMS_E_INTERNAL
 * after which the core is fail-stopped. Frees tx either way. */
int tkms_tx_commit(tkms_core *c, tkms_tx *tx, char *msg, size_t msg_len);
/* Forgets tx. */
void tkms_tx_free(tkms_tx *tx);
#endif
