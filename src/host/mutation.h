/* src/host/mutation.h — the host's half of the two-phase mutation protocol
 * (proto/ops.h): op -> prepared transaction -> one durable store transaction
 * -> COMMIT (or ABORT) on the same channel. Only after COMMIT is answered may
 * the client be told: "acknowledged means durable". */
#ifndef TKMS_HOST_MUTATION_H
#define TKMS_HOST_MUTATION_H

#include "host/core.h"
#include "host/errors.h"
#include "host/store.h"

/* A prepared transaction parsed from a core answer. Pointers alias the reply
 * frame, which must outlive it. */
typedef struct {
  uint64_t txid;
  tkms_store_tx tx;
  tkms_store_record *puts;
  tkms_store_ref *dels;
} tkms_prepared;

/* Parses F_TXID, F_PUT*, F_DEL*, F_MANIFEST and F_DMK. Returns 0 or -1
 * (missing txid, malformed record encoding, out of memory). */
int tkms_prepared_parse(const tkms_frame *f, tkms_prepared *p);
void tkms_prepared_free(tkms_prepared *p);

/* Fills the metadata change from the op's result fields. Returns 0, or -1 if
 * the answer lacks a field the metadata needs (the change is then aborted). */
typedef int (*tkms_meta_fn)(void *ctx, const tkms_frame *result, tkms_store_meta_change *m);

enum {
  TKMS_MUT_OK = 0,      /* durable and committed; rep holds the op's result */
  TKMS_MUT_REFUSED = 1, /* the core refused (authorisation, input ...): rep holds
                           its status and F_ERR_MSG, resp the client error */
  TKMS_MUT_FAILED = -1, /* transport, store or protocol failure; resp says it */
};

/* Runs req as a mutation on ch (which the caller holds). meta_fn may be NULL
 * (no public metadata, e.g. INIT). */
int tkms_mutate(tkms_chan *ch, tkms_store *st, tkms_fw *req, tkms_meta_fn meta_fn, void *ctx,
                tkms_reply *rep, tkms_resp *resp);

#endif
