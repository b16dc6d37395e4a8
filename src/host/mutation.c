/* src/host/mutation.c — two-phase mutations; see mutation.h and proto/ops.h. */
#include "host/mutation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ops.h"

/* Record encoding: u8 type | u8 id_len (1..32) | id | u32 version | blob. */
static int decode_put(const uint8_t *v, size_t n, tkms_store_record *r) {
  if (n < 2) return -1;
  uint8_t id_len = v[1];
  if (id_len == 0 || id_len > TKMS_STORE_ID_MAX || n < 2u + id_len + 4u) return -1;
  memset(r, 0, sizeof *r);
  r->type = v[0];
  r->id_len = id_len;
  memcpy(r->id, v + 2, id_len);
  r->version = tkms_be32_get(v + 2 + id_len);
  r->blob = v + 2 + id_len + 4;
  r->blob_len = n - 2 - id_len - 4;
  return 0;
}

/* Record reference: u8 type | u8 id_len | id, exactly. */
static int decode_del(const uint8_t *v, size_t n, tkms_store_ref *r) {
  if (n < 2) return -1;
  uint8_t id_len = v[1];
  if (id_len == 0 || id_len > TKMS_STORE_ID_MAX || n != 2u + id_len) return -1;
  memset(r, 0, sizeof *r);
  r->type = v[0];
  r->id_len = id_len;
  memcpy(r->id, v + 2, id_len);
  return 0;
}

void tkms_prepared_free(tkms_prepared *p) {
  free(p->puts);
  free(p->dels);
  memset(p, 0, sizeof *p);
}

int tkms_prepared_parse(const tkms_frame *f, tkms_prepared *p) {
  memset(p, 0, sizeof *p);
  if (tkms_frame_get_u64(f, TKMS_F_TXID, &p->txid) != 0) return -1;
  size_t np = tkms_frame_count(f, TKMS_F_PUT), nd = tkms_frame_count(f, TKMS_F_DEL);
  if ((np && (p->puts = calloc(np, sizeof *p->puts)) == NULL) ||
      (nd && (p->dels = calloc(nd, sizeof *p->dels)) == NULL)) {
    tkms_prepared_free(p);
    return -1;
  }
  tkms_field_iter it;
  tkms_field_iter_init(&it, f);
  uint8_t tag;
  const uint8_t *v;
  size_t n;
  size_t ip = 0, id = 0;
  while (tkms_field_next(&it, &tag, &v, &n) == 1) {
    int bad = 0;
    if (tag == TKMS_F_PUT) {
      bad = decode_put(v, n, &p->puts[ip++]);
    } else if (tag == TKMS_F_DEL) {
      bad = decode_del(v, n, &p->dels[id++]);
    } else if (tag == TKMS_F_MANIFEST && p->tx.manifest == NULL) {
      p->tx.manifest = n ? v : (const uint8_t *)"";
      p->tx.manifest_len = n;
    } else if (tag == TKMS_F_DMK && p->tx.dmk == NULL) {
      bad = n == 0;
      p->tx.dmk = v;
      p->tx.dmk_len = n;
    }
    if (bad) {
      tkms_prepared_free(p);
      return -1;
    }
  }
  p->tx.puts = p->puts;
  p->tx.n_puts = np;
  p->tx.dels = p->dels;
  p->tx.n_dels = nd;
  return 0;
}

/* Sends COMMIT or ABORT {F_TXID}. Returns 0 with the reply's status in *status,
 * or -1 on transport failure. */
static int finish(tkms_chan *ch, uint16_t op, uint64_t txid, uint16_t *status,
                  uint8_t receipt_sig[65], int *has_receipt) {
  tkms_fw w;
  tkms_reply rep;
  int rc = -1;
  if (tkms_fw_init(&w, op, 0, 0) != 0) return -1;
  tkms_fw_u64(&w, TKMS_F_TXID, txid);
  if (tkms_fw_finish(&w) == 0 && tkms_core_call(ch, &w, &rep) == 0) {
    *status = rep.f.status;
    /* A destroy's deletion receipt comes with the COMMIT answer. */
    if (has_receipt != NULL)
      *has_receipt = tkms_frame_get_fixed(&rep.f, TKMS_F_RECEIPT_SIG, receipt_sig, 65) == 0;
    tkms_reply_free(&rep);
    rc = 0;
  }
  tkms_fw_free(&w);
  return rc;
}

static void abort_tx(tkms_chan *ch, uint64_t txid) {
  uint16_t status;
  /* If ABORT itself fails the core is restarted by tkms_core_call, which
   * forgets the prepared change just as well. */
  if (finish(ch, TKMS_OP_ABORT, txid, &status, NULL, NULL) == 0 && status != TKMS_OK)
    tkms_core_fail(ch, "the core refused to abort a prepared transaction");
}

int tkms_mutate(tkms_chan *ch, tkms_store *st, tkms_fw *req, tkms_meta_fn meta_fn, void *ctx,
                tkms_reply *rep, tkms_resp *resp) {
  if (tkms_core_call(ch, req, rep) != 0) {
    tkms_resp_unavailable(resp, "the trusted core stopped before answering; nothing was changed");
    return TKMS_MUT_FAILED;
  }
  if (rep->f.status != TKMS_OK) {
    char msg[512];
    tkms_reply_errmsg(rep, msg, sizeof msg);
    tkms_resp_core_error(resp, rep->f.status, msg);
    return TKMS_MUT_REFUSED;
  }
  tkms_prepared p;
  if (tkms_prepared_parse(&rep->f, &p) != 0) {
    uint64_t txid;
    if (tkms_frame_get_u64(&rep->f, TKMS_F_TXID, &txid) == 0)
      abort_tx(ch, txid);
    else
      tkms_core_fail(ch, "the core sent a prepared transaction without a txid");
    tkms_reply_free(rep);
    tkms_resp_error(resp, 500, "internal", "the core's answer was malformed; nothing was changed");
    return TKMS_MUT_FAILED;
  }
  if (meta_fn != NULL && meta_fn(ctx, &rep->f, &p.tx.meta) != 0) {
    abort_tx(ch, p.txid);
    tkms_prepared_free(&p);
    tkms_reply_free(rep);
    tkms_resp_error(resp, 500, "internal", "the core's answer was incomplete; nothing was changed");
    return TKMS_MUT_FAILED;
  }
  int src = tkms_store_apply(st, &p.tx);
  uint64_t txid = p.txid;
  int destroy = p.tx.meta.kind == TKMS_META_KEY_DESTROY;
  uint8_t key_id[TKMS_KEY_ID_BYTES];
  memcpy(key_id, p.tx.meta.receipt.key_id, sizeof key_id);
  tkms_prepared_free(&p);
  if (src != TKMS_STORE_OK) {
    abort_tx(ch, txid);
    tkms_reply_free(rep);
    if (src == TKMS_STORE_BUSY)
      tkms_resp_error(resp, 503, "core_busy", "storage is busy; nothing was changed; retry");
    else
      tkms_resp_error(resp, 500, "internal", "storage write failed; nothing was changed");
    fprintf(stderr, "tkms: store: apply failed (%d); transaction aborted\n", src);
    return TKMS_MUT_FAILED;
  }
  uint16_t status;
  uint8_t receipt_sig[65];
  int has_receipt = 0;
  if (finish(ch, TKMS_OP_COMMIT, txid, &status, receipt_sig, &has_receipt) != 0) {
    /* The change is durable in the store; the restarted core loads it. We
     * cannot confirm it, so the client must check before retrying. */
    tkms_reply_free(rep);
    tkms_resp_unavailable(resp,
                          "the change was stored but the trusted core stopped before confirming "
                          "it; it takes effect when the core has reloaded - check before retrying");
    return TKMS_MUT_FAILED;
  }
  if (status != TKMS_OK) {
    /* The store now holds state the running core did not accept: restart it
     * so memory and storage agree again. */
    tkms_core_fail(ch, "the core refused COMMIT after a durable write");
    tkms_reply_free(rep);
    tkms_resp_unavailable(resp, "the trusted core is reloading; check the outcome before retrying");
    return TKMS_MUT_FAILED;
  }
  if (destroy && (!has_receipt ||
                  tkms_store_receipt_set_signature(st, key_id, receipt_sig) != TKMS_STORE_OK)) {
    /* The destroy is committed; only its receipt is missing. */
    fprintf(stderr, "tkms: a destroy committed without a stored deletion receipt\n");
  }
  return TKMS_MUT_OK;
}
