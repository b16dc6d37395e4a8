/* src/core/lifecycle.c — STATUS, INIT and start-up loading (LOAD_DMK,
 * LOAD_RECORDS, LOAD_END): how a core comes to hold a deployment.
 *
 * A core that cannot unseal or finds the stored state inconsistent says exactly
 * why and goes back to UNINITIALISED with nothing loaded. It never creates a new
 * deployment over existing data: INIT needs --init (the host's store is empty). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/governance.h"
#include "core/manifest.h"
#include "core/op.h"
#include "core/records.h"
#include "core/seal.h"
#include "core/secmem.h"
#include "core/sessions.h"
#include "core/txn.h"
#include "proto/hex.h"

int tkms_lc_status(tkms_op *op) {
  tkms_core *c = op->core;
  uint64_t ctr; /* F_COUNTER is the committed counter K */
  if (c->plat.ops->counter_read(c->plat.ctx, TKMS_COUNTER_COMMITTED, &ctr) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "cannot read the platform counter");
  tkms_fw_str(op->resp, TKMS_F_PLATFORM, c->plat.ops->name);
  tkms_fw_u32(op->resp, TKMS_F_SIMULATED, c->plat.ops->simulated ? 1u : 0u);
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, c->measurement, sizeof c->measurement);
  tkms_fw_u32(op->resp, TKMS_F_STATE, (uint32_t)c->state);
  tkms_fw_u64(op->resp, TKMS_F_COUNTER, ctr);
  char version[64];
  snprintf(version, sizeof version, "%s%s%s", TKMS_CORE_VERSION, c->build_tag[0] ? "+" : "",
           c->build_tag);
  tkms_fw_str(op->resp, TKMS_F_CORE_VERSION, version);
  if (c->has_test_root) tkms_fw_u32(op->resp, TKMS_F_ATT_TEST_ROOT, 1u);
  if (c->sec != NULL) {
    tkms_fw_bytes(op->resp, TKMS_F_DEPLOY_SALT, c->dep.salt, sizeof c->dep.salt);
    tkms_fw_bytes(op->resp, TKMS_F_IDENTITY, c->dep.identity, sizeof c->dep.identity);
    tkms_fw_bytes(op->resp, TKMS_F_SESSION_X25519, c->dep.session_x25519,
                  sizeof c->dep.session_x25519);
  }
  tkms_clock_status(c, op->resp);
  return TKMS_OK;
}

/* The platform seal key, in locked memory for as long as it is needed. */
static uint8_t *seal_key_get(tkms_core *c) {
  uint8_t *k = tkms_secmem_alloc(TKMS_SEAL_KEY_BYTES);
  if (k != NULL && c->plat.ops->seal_key(c->plat.ctx, k) != 0) {
    tkms_secmem_free(k);
    k = NULL;
  }
  return k;
}

int tkms_lc_init(tkms_op *op) {
  tkms_core *c = op->core;
  if (c->state != TKMS_STATE_UNINITIALISED)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "this core already holds a deployment");
  if (!c->init_allowed)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "the core was started without --init: it creates a deployment only "
                        "over an empty store");
  /* A counter that has moved means this data directory already held a
   * deployment. A new one would advance the counters past the old database's
   * manifest and make it unloadable for good, so a misconfigured host (wrong
   * database path) must not be able to do that with --init alone. The genesis
   * manifest follows the rule of every other (tkms_tx_finish: P := P + 1;
   * COMMIT: K := P). An INIT that was prepared and ABORTed (or whose core died
   * before COMMIT) moved only P: no deployment was ever committed, so INIT may
   * run again; a genesis the host did store still loads (K <= m <= P). */
  tkms_tx *tx = op->tx;
  uint64_t k;
  if (c->plat.ops->counter_read(c->plat.ctx, TKMS_COUNTER_COMMITTED, &k) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "cannot read the platform counter");
  if (k != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "the platform counter is at %llu: this data directory already holds a "
                        "deployment's state. Load its database; to really start over, remove "
                        "the platform state (sim: sim-counter and sim-root.key) first",
                        (unsigned long long)k);
  if (tkms_hierarchy_create(&tx->init_sec, &tx->init_dep) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "creating the deployment master key failed");
  uint8_t *sk = seal_key_get(c);
  uint8_t sealed[TKMS_SEALED_DMK_BYTES];
  int r = sk != NULL ? tkms_dmk_seal(sk, tx->init_sec, sealed) : -1;
  tkms_secmem_free(sk);
  if (r != 0) return tkms_op_fail(op, TKMS_E_INTERNAL, "sealing the deployment master key failed");
  /* Trusted time: the Roughtime servers and quorum are sealed with the genesis. */
  int st = tkms_clock_init_record(op);
  if (st != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_DMK, sealed, sizeof sealed);
  tkms_fw_bytes(op->resp, TKMS_F_DEPLOY_SALT, tx->init_dep.salt, sizeof tx->init_dep.salt);
  tkms_fw_bytes(op->resp, TKMS_F_IDENTITY, tx->init_dep.identity, sizeof tx->init_dep.identity);
  /* Governance is fixed now, sealed in the genesis transaction. */
  return tkms_gov_init(op);
}

/* Forgets everything loaded so far (wrong DMK, rollback, tampering). */
static void reset(tkms_core *c) {
  pthread_rwlock_wrlock(&c->lock);
  tkms_index_clear(&c->index);
  tkms_secrets_free(c->sec);
  c->sec = NULL;
  memset(&c->dep, 0, sizeof c->dep);
  tkms_sethash_init(&c->set);
  c->n_records = 0;
  c->state = TKMS_STATE_UNINITIALISED;
  c->imported = 0;
  c->must_finish = 0;
  pthread_rwlock_unlock(&c->lock);
}

static int fail_reset(tkms_op *op) {
  reset(op->core);
  return op->status;
}

int tkms_lc_load_dmk(tkms_op *op) {
  tkms_core *c = op->core;
  const uint8_t *v;
  size_t n;
  if (c->state != TKMS_STATE_UNINITIALISED)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "LOAD_DMK only at start-up");
  if (tkms_frame_get(op->req, TKMS_F_DMK, &v, &n) != 0 || n != TKMS_SEALED_DMK_BYTES)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "F_DMK (the %u-byte sealed DMK) is required",
                        TKMS_SEALED_DMK_BYTES);
  uint8_t *sk = seal_key_get(c);
  uint8_t *dmk = tkms_secmem_alloc(TKMS_DMK_BYTES);
  int r = (sk == NULL || dmk == NULL) ? -2 : tkms_dmk_open(sk, v, n, dmk);
  tkms_secrets *sec = NULL;
  tkms_deployment dep;
  if (r == 0) r = tkms_hierarchy_from_dmk(dmk, &sec, &dep) == 0 ? 0 : -2;
  tkms_secmem_free(sk);
  tkms_secmem_free(dmk);
  if (r == -2) return tkms_op_fail(op, TKMS_E_INTERNAL, "cannot derive the platform seal key");
  if (r != 0) {
    char m[2 * TKMS_MEASUREMENT_BYTES + 3];
    tkms_hex_encode(c->measurement, TKMS_MEASUREMENT_BYTES, m);
    return tkms_op_fail(op, TKMS_E_UNSEAL,
                        "cannot unseal the deployment master key: it was sealed by a different "
                        "core build or a different %s root secret (this core's measurement is "
                        "%s). Run the tkms-enclave binary that created this data directory, or "
                        "restore the platform's root secret (sim: DATA_DIR/sim-root.key); tkms "
                        "never creates a new identity over existing data.",
                        c->plat.ops->name, m);
  }
  pthread_rwlock_wrlock(&c->lock);
  tkms_index_clear(&c->index);
  tkms_sethash_init(&c->set);
  c->n_records = 0;
  c->sec = sec;
  c->dep = dep;
  c->state = TKMS_STATE_LOADING;
  pthread_rwlock_unlock(&c->lock);
  return TKMS_OK;
}

int tkms_lc_load_records(tkms_op *op) {
  tkms_core *c = op->core;
  if (c->state != TKMS_STATE_LOADING)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "LOAD_RECORDS only after LOAD_DMK");
  tkms_field_iter it;
  tkms_field_iter_init(&it, op->req);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  pthread_rwlock_wrlock(&c->lock);
  int st = TKMS_OK;
  while (st == TKMS_OK && tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_REC) continue;
    tkms_rec_enc e;
    tkms_rec *r = NULL;
    if (tkms_rec_enc_parse(v, len, &e) != 0) {
      st = tkms_op_fail(op, TKMS_E_BAD_REQUEST, "malformed F_REC record encoding");
    } else if (tkms_index_find(&c->index, e.type, e.id, e.id_len) != NULL) {
      st = tkms_op_fail(op, TKMS_E_TAMPERED, "record type %u is listed twice", e.type);
    } else if (tkms_record_open(c->sec, e.type, e.id, e.id_len, e.version, e.blob, e.blob_len, &r,
                                NULL) != 0) {
      st = tkms_op_fail(op, TKMS_E_TAMPERED,
                        "a record of type %u (version %u) does not authenticate: it was "
                        "altered, moved to another id, type or version, or belongs to another "
                        "deployment",
                        e.type, e.version);
    } else if (tkms_session_mac_attach(c->sec, &c->dep, r) != 0) {
      /* Under the exclusive lock, before the entry is visible. Low order was
       * refused at open, so this is memory: retryable (the host restarts the
       * load), not a refusal of the stored state. */
      tkms_rec_free(r);
      st = tkms_op_fail(op, TKMS_E_BUSY,
                        "cannot derive a MAC session's key at load (out of locked memory); "
                        "retry");
    } else if (c->n_records == UINT32_MAX || tkms_set_add(&c->set, r) != 0) {
      tkms_rec_free(r);
      st = tkms_op_fail(op, TKMS_E_INTERNAL, "too many records");
    } else {
      tkms_index_put(&c->index, r);
      c->n_records++;
    }
  }
  pthread_rwlock_unlock(&c->lock);
  return st == TKMS_OK ? TKMS_OK : fail_reset(op);
}

int tkms_lc_load_end(tkms_op *op) {
  tkms_core *c = op->core;
  const uint8_t *v;
  size_t n;
  tkms_manifest m;
  uint64_t p, k;
  if (c->state != TKMS_STATE_LOADING)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "LOAD_END only after LOAD_DMK");
  if (tkms_frame_get(op->req, TKMS_F_MANIFEST, &v, &n) != 0) {
    tkms_op_fail(op, TKMS_E_BAD_REQUEST, "F_MANIFEST is required");
    return fail_reset(op);
  }
  if (tkms_manifest_open(c->sec, v, n, &m) != 0) {
    tkms_op_fail(op, TKMS_E_TAMPERED,
                 "the manifest does not open under this deployment's key: it was altered or "
                 "belongs to another deployment");
    return fail_reset(op);
  }
  if (c->plat.ops->counter_read(c->plat.ctx, TKMS_COUNTER_PREPARED, &p) != 0 ||
      c->plat.ops->counter_read(c->plat.ctx, TKMS_COUNTER_COMMITTED, &k) != 0) {
    tkms_op_fail(op, TKMS_E_INTERNAL, "cannot read the platform counters");
    return fail_reset(op);
  }
  /* Accept iff K <= m <= P (see txn.c for why). m == K: the last commit
   * completed. K < m <= P: the host stored a prepared change but the core died
   * before COMMIT; it includes every acknowledged change, so catch K up below.
   * m < K: an older state, e.g. a manifest that was ABORTed or never committed,
   * or an old copy of the database; it could bring back destroyed keys. */
  if (m.counter < k) {
    tkms_op_fail(op, TKMS_E_ROLLBACK,
                 "rollback refused: the stored state (manifest %llu) is older than this core's "
                 "committed counter %llu: it is an old copy of the database, or a change "
                 "that was never committed, and could bring back destroyed keys. Restore the "
                 "most recent database.",
                 (unsigned long long)m.counter, (unsigned long long)k);
    return fail_reset(op);
  }
  if (m.counter > p) {
    tkms_op_fail(op, TKMS_E_TAMPERED,
                 "the stored manifest %llu was never issued by this core (prepared counter "
                 "%llu): the platform counter is behind the stored state, because it was reset "
                 "or replaced by an older copy",
                 (unsigned long long)m.counter, (unsigned long long)p);
    return fail_reset(op);
  }
  uint8_t digest[TKMS_SETHASH_BYTES];
  tkms_sethash_digest(&c->set, digest);
  if (m.n_records != c->n_records || memcmp(digest, m.digest, sizeof digest) != 0) {
    tkms_op_fail(op, TKMS_E_TAMPERED,
                 "the records do not match the manifest (%u loaded, %u expected, or a record "
                 "was replaced): records were added, removed or swapped in storage",
                 c->n_records, m.n_records);
    return fail_reset(op);
  }
  /* Only the holder serves (governance.h): an older core with an old copy of
   * its sealed key is refused here, before anything moves. */
  if (tkms_gov_check_holder(op) != TKMS_OK) return fail_reset(op);
  /* Durable before READY: from now on a manifest older than this one is refused. */
  /* A migration source reads the counters but never moves them: the successor
   * core that owns them from now on does. */
  if (m.counter > k && !c->migrate_source &&
      c->plat.ops->counter_advance(c->plat.ctx, TKMS_COUNTER_COMMITTED, m.counter) != 0) {
    tkms_op_fail(op, TKMS_E_INTERNAL, "cannot advance the platform's committed counter");
    return fail_reset(op);
  }
  pthread_rwlock_wrlock(&c->lock);
  c->state = TKMS_STATE_READY;
  pthread_rwlock_unlock(&c->lock);
  return TKMS_OK;
}
