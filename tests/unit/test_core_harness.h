/* tests/unit/test_core_harness.h — drives the trusted core in-process, as the host would.
 *
 * Included by each tests/unit/test_core_*.c (each is its own program, so the
 * helpers are static). It plays the untrusted host: builds request frames with
 * the frame writer, signs them as a client would (EOA over the EIP-712 digest,
 * Ed25519 over the 66-byte preimage), keeps a toy store of sealed records and
 * manifest that it updates on COMMIT, and restarts the core over that store.
 * Time is a fake clock so expiry can be tested without sleeping. */
#ifndef TKMS_TEST_CORE_HARNESS_H
#define TKMS_TEST_CORE_HARNESS_H
#include <limits.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka after the standard headers */
#include <cmocka.h>

#include "core/authz.h"
#include "core/core.h"
#include "core/index.h"
#include "core/manifest.h"
#include "core/receipts.h"
#include "core/txn.h"
#include "crypto/eip712.h"
#include "crypto/kdf.h"
#include "crypto/secp256k1_eth.h"
#include "platform/platform.h"
#include "proto/frame.h"
#include "proto/ops.h"
#include "proto/requests.h"

#define H_UNUSED __attribute__((unused))
#define H_MAX_RECS 4096

/* ---- fake clock ---------------------------------------------------------- */
static uint64_t h_now = 1767222000u; /* 2026-01-01 */

static H_UNUSED int h_clock(void *ctx, uint64_t *now) {
  (void)ctx;
  *now = h_now;
  return 0;
}

static tkms_platform_ops h_ops; /* the sim platform with the fake clock */

/* ---- the toy host store -------------------------------------------------- */
typedef struct {
  uint8_t type, id_len, id[32];
  uint32_t version;
  uint8_t *blob;
  size_t blob_len;
} h_rec;

typedef struct {
  char dir[PATH_MAX];
  const char *exe; /* binary the platform measures (NULL: this test program) */
  tkms_core *core;
  tkms_conn conn;
  h_rec recs[H_MAX_RECS];
  size_t n_recs;
  uint8_t manifest[TKMS_MANIFEST_BYTES];
  size_t manifest_len;
  uint8_t dmk[128];
  size_t dmk_len;
  uint8_t salt[32], identity[20], domain[32];
  /* last response */
  tkms_fw resp;
  tkms_frame rf;
  int status;
  char err[512];
} h_env;

/* ---- signers (clients) --------------------------------------------------- */
typedef struct {
  int eoa; /* 1: secp256k1 EOA; 0: ed25519 */
  uint8_t sk[64];
  uint8_t pub[32];
  uint8_t addr[20];
  char text[TKMS_MAX_PRINCIPAL + 1];
} h_signer;

static H_UNUSED void h_hex(const uint8_t *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  out[0] = '0';
  out[1] = 'x';
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = d[b[i] >> 4];
    out[3 + 2 * i] = d[b[i] & 15];
  }
  out[2 + 2 * n] = 0;
}

static H_UNUSED void h_signer_eoa(h_signer *s, uint8_t seed) {
  memset(s, 0, sizeof *s);
  s->eoa = 1;
  s->sk[31] = seed; /* sk = seed: deterministic, valid for seed >= 1 */
  s->sk[0] = 0x42;
  uint8_t pub65[65];
  assert_int_equal(tkms_secp_pubkey(s->sk, NULL, pub65), 0);
  tkms_eth_address(pub65, s->addr);
  strcpy(s->text, "eoa:");
  h_hex(s->addr, 20, s->text + 4);
}

static H_UNUSED void h_signer_ed(h_signer *s, uint8_t seed) {
  memset(s, 0, sizeof *s);
  uint8_t sd[32];
  memset(sd, seed, sizeof sd);
  crypto_sign_seed_keypair(s->pub, s->sk, sd);
  strcpy(s->text, "ed25519:");
  h_hex(s->pub, 32, s->text + 8);
}

/* ---- responses ------------------------------------------------------------ */
static H_UNUSED int h_get(h_env *e, uint8_t tag, const uint8_t **v, size_t *n) {
  return tkms_frame_get(&e->rf, tag, v, n);
}

static H_UNUSED int h_has(h_env *e, uint8_t tag) {
  return tkms_frame_count(&e->rf, tag) > 0;
}

static H_UNUSED void h_fixed(h_env *e, uint8_t tag, uint8_t *out, size_t n) {
  assert_int_equal(tkms_frame_get_fixed(&e->rf, tag, out, n), 0);
}

static H_UNUSED uint64_t h_u64(h_env *e, uint8_t tag) {
  uint64_t v = 0;
  assert_int_equal(tkms_frame_get_u64(&e->rf, tag, &v), 0);
  return v;
}

static H_UNUSED uint32_t h_u32(h_env *e, uint8_t tag) {
  uint32_t v = 0;
  assert_int_equal(tkms_frame_get_u32(&e->rf, tag, &v), 0);
  return v;
}

/* Sends a finished request on the env's connection (or conn), parses the reply. */
static H_UNUSED int h_call_on(h_env *e, tkms_conn *conn, tkms_fw *req) {
  assert_int_equal(tkms_fw_finish(req), 0);
  tkms_fw_free(&e->resp);
  assert_int_equal(tkms_core_dispatch(conn, req->buf + 4, req->len - 4, &e->resp), 0);
  tkms_fw_free(req);
  assert_int_equal(tkms_frame_parse(e->resp.buf + 4, e->resp.len - 4, &e->rf), 0);
  e->status = e->rf.status;
  e->err[0] = 0;
  if (e->status != TKMS_OK) {
    /* An error carries exactly one field, F_ERR_MSG, and nothing else. */
    assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_ERR_MSG, e->err, sizeof e->err - 1), 0);
    tkms_field_iter it;
    tkms_field_iter_init(&it, &e->rf);
    uint8_t t;
    const uint8_t *v;
    size_t n, count = 0;
    while (tkms_field_next(&it, &t, &v, &n) == 1) count++;
    assert_int_equal(count, 1);
  }
  return e->status;
}

static H_UNUSED int h_call(h_env *e, tkms_fw *req) {
  return h_call_on(e, &e->conn, req);
}

static H_UNUSED void h_begin(tkms_fw *w, uint16_t op) {
  static uint32_t seq;
  assert_int_equal(tkms_fw_init(w, op, 0, ++seq), 0);
}

/* ---- the store ------------------------------------------------------------ */
static H_UNUSED h_rec *h_store_find(h_env *e, uint8_t type, const uint8_t *id, size_t id_len) {
  for (size_t i = 0; i < e->n_recs; i++) {
    h_rec *r = &e->recs[i];
    if (r->type == type && r->id_len == id_len && memcmp(r->id, id, id_len) == 0) return r;
  }
  return NULL;
}

static H_UNUSED void h_store_del(h_env *e, uint8_t type, const uint8_t *id, size_t id_len) {
  h_rec *r = h_store_find(e, type, id, id_len);
  assert_non_null(r);
  free(r->blob);
  *r = e->recs[--e->n_recs];
}

/* What the host does with a prepared transaction: write it to storage. */
static H_UNUSED void h_store_apply(h_env *e) {
  tkms_field_iter it;
  tkms_field_iter_init(&it, &e->rf);
  uint8_t t;
  const uint8_t *v;
  size_t n;
  while (tkms_field_next(&it, &t, &v, &n) == 1) {
    if (t == TKMS_F_PUT) {
      assert_true(n > 6);
      uint8_t idl = v[1];
      h_rec *r = h_store_find(e, v[0], v + 2, idl);
      if (r == NULL) {
        assert_true(e->n_recs < H_MAX_RECS);
        r = &e->recs[e->n_recs++];
      } else {
        free(r->blob);
      }
      r->type = v[0];
      r->id_len = idl;
      memcpy(r->id, v + 2, idl);
      r->version = tkms_be32_get(v + 2 + idl);
      r->blob_len = n - 6 - idl;
      r->blob = malloc(r->blob_len);
      memcpy(r->blob, v + 6 + idl, r->blob_len);
    } else if (t == TKMS_F_DEL) {
      h_store_del(e, v[0], v + 2, v[1]);
    } else if (t == TKMS_F_MANIFEST) {
      assert_true(n <= sizeof e->manifest);
      memcpy(e->manifest, v, n);
      e->manifest_len = n;
    } else if (t == TKMS_F_DMK) {
      memcpy(e->dmk, v, n);
      e->dmk_len = n;
    }
  }
}

/* After an OK prepare: store it, then COMMIT. */
static H_UNUSED void h_commit(h_env *e) {
  assert_int_equal(e->status, TKMS_OK);
  uint64_t txid = h_u64(e, TKMS_F_TXID);
  h_store_apply(e);
  tkms_fw w;
  h_begin(&w, TKMS_OP_COMMIT);
  tkms_fw_u64(&w, TKMS_F_TXID, txid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
}

static H_UNUSED void h_abort(h_env *e, uint64_t txid) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_ABORT);
  tkms_fw_u64(&w, TKMS_F_TXID, txid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
}

/* ---- core life cycle ---------------------------------------------------- */
static H_UNUSED int h_open_core(h_env *e, int init, char *err, size_t err_len) {
  h_ops = tkms_platform_sim;
  h_ops.now = h_clock;
  tkms_platform_cfg cfg = {.data_dir = e->dir, .init = init, .exe_path = e->exe};
  tkms_platform p;
  if (tkms_platform_open(&h_ops, &cfg, &p, err, err_len) != 0) return -1;
  assert_int_equal(tkms_core_new(&p, init, &e->core), 0);
  e->core->busy_ms = 50; /* tests do not wait 5 s for BUSY */
  tkms_conn_init(&e->conn, e->core);
  return 0;
}

static H_UNUSED void h_close_core(h_env *e) {
  if (e->core == NULL) return;
  tkms_conn_close(&e->conn);
  tkms_core_free(e->core);
  e->core = NULL;
}

static H_UNUSED void h_status(h_env *e) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_STATUS);
  assert_int_equal(h_call(e, &w), TKMS_OK);
}

static H_UNUSED void h_read_deployment(h_env *e) {
  h_status(e);
  h_fixed(e, TKMS_F_DEPLOY_SALT, e->salt, 32);
  h_fixed(e, TKMS_F_IDENTITY, e->identity, 20);
  tkms_domain_separator(e->salt, e->domain);
}

/* A fresh data directory and an initialised, ready core. */
static H_UNUSED h_env *h_setup(void) {
  assert_int_equal(sodium_init() >= 0, 1);
  assert_int_equal(tkms_secp_init(), 0);
  h_env *e = calloc(1, sizeof *e);
  assert_non_null(e);
  strcpy(e->dir, "/tmp/tkms-test-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  char err[512];
  assert_int_equal(h_open_core(e, 1, err, sizeof err), 0);
  tkms_fw w;
  h_begin(&w, TKMS_OP_INIT);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  h_read_deployment(e);
  return e;
}

static H_UNUSED void h_rmdir(const char *dir) {
  static const char *files[] = {"sim-root.key", "sim-counter"};
  char p[PATH_MAX + 32];
  for (size_t i = 0; i < 2; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
}

static H_UNUSED void h_teardown(h_env *e) {
  h_close_core(e);
  tkms_fw_free(&e->resp);
  for (size_t i = 0; i < e->n_recs; i++) free(e->recs[i].blob);
  h_rmdir(e->dir);
  free(e);
}

/* Loads a store into the current core; returns the first refusal or TKMS_OK. */
static H_UNUSED int h_load(h_env *e) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_LOAD_DMK);
  tkms_fw_bytes(&w, TKMS_F_DMK, e->dmk, e->dmk_len);
  if (h_call(e, &w) != TKMS_OK) return e->status;
  h_begin(&w, TKMS_OP_LOAD_RECORDS);
  for (size_t i = 0; i < e->n_recs; i++) {
    h_rec *r = &e->recs[i];
    uint8_t buf[4096];
    buf[0] = r->type;
    buf[1] = r->id_len;
    memcpy(buf + 2, r->id, r->id_len);
    tkms_be32_put(buf + 2 + r->id_len, r->version);
    memcpy(buf + 6 + r->id_len, r->blob, r->blob_len);
    tkms_fw_bytes(&w, TKMS_F_REC, buf, 6 + r->id_len + r->blob_len);
  }
  if (h_call(e, &w) != TKMS_OK) return e->status;
  h_begin(&w, TKMS_OP_LOAD_END);
  tkms_fw_bytes(&w, TKMS_F_MANIFEST, e->manifest, e->manifest_len);
  return h_call(e, &w);
}

/* Kills the core (without a goodbye) and starts a new one over the same store. */
static H_UNUSED int h_restart(h_env *e) {
  h_close_core(e);
  char err[512];
  assert_int_equal(h_open_core(e, 0, err, sizeof err), 0);
  return h_load(e);
}

/* A copy of the store, to bring back later (a database backup). */
typedef struct {
  h_rec recs[H_MAX_RECS];
  size_t n_recs;
  uint8_t manifest[TKMS_MANIFEST_BYTES];
  size_t manifest_len;
} h_backup;

static H_UNUSED h_backup *h_backup_take(h_env *e) {
  h_backup *b = calloc(1, sizeof *b);
  for (size_t i = 0; i < e->n_recs; i++) {
    b->recs[i] = e->recs[i];
    b->recs[i].blob = malloc(e->recs[i].blob_len);
    memcpy(b->recs[i].blob, e->recs[i].blob, e->recs[i].blob_len);
  }
  b->n_recs = e->n_recs;
  memcpy(b->manifest, e->manifest, e->manifest_len);
  b->manifest_len = e->manifest_len;
  return b;
}

static H_UNUSED void h_backup_restore(h_env *e, h_backup *b) {
  for (size_t i = 0; i < e->n_recs; i++) free(e->recs[i].blob);
  memcpy(e->recs, b->recs, b->n_recs * sizeof b->recs[0]);
  e->n_recs = b->n_recs;
  memcpy(e->manifest, b->manifest, b->manifest_len);
  e->manifest_len = b->manifest_len;
  free(b); /* the blobs now belong to e */
}

/* The platform counters of the running core: P (prepared) and K (committed). */
static H_UNUSED uint64_t h_counter(h_env *e, unsigned idx) {
  uint64_t v = 0;
  assert_int_equal(e->core->plat.ops->counter_read(e->core->plat.ctx, idx, &v), 0);
  return v;
}

/* ---- state snapshots: a refusal must change nothing --------------------- */
typedef struct {
  uint64_t counter;  /* committed (K) */
  uint64_t prepared; /* prepared (P): a refusal burns no value either */
  uint32_t n_records;
  uint8_t digest[TKMS_SETHASH_BYTES];
  size_t keys, sessions, nonces;
  int state;
} h_snap;

static H_UNUSED void h_snap_take(h_env *e, h_snap *s) {
  memset(s, 0, sizeof *s);
  assert_int_equal(
      e->core->plat.ops->counter_read(e->core->plat.ctx, TKMS_COUNTER_COMMITTED, &s->counter), 0);
  assert_int_equal(
      e->core->plat.ops->counter_read(e->core->plat.ctx, TKMS_COUNTER_PREPARED, &s->prepared), 0);
  s->n_records = e->core->n_records;
  tkms_sethash_digest(&e->core->set, s->digest);
  s->keys = tkms_index_count(&e->core->index, TKMS_REC_KEY);
  s->sessions = tkms_index_count(&e->core->index, TKMS_REC_SESSION);
  s->nonces = tkms_index_count(&e->core->index, TKMS_REC_NONCE);
  s->state = e->core->state;
}

/* The core holds no prepared transaction and its state is exactly s. The
 * prepared counter P is not compared: an ABORTed or dropped prepare burns a
 * value of P by design (txn.c); h_refused checks that a refusal burns none. */
static H_UNUSED void h_snap_same(h_env *e, const h_snap *s) {
  h_snap now;
  assert_null(e->conn.pending);
  h_snap_take(e, &now);
  now.prepared = s->prepared;
  assert_memory_equal(&now, s, sizeof now);
}

/* A refusal: expected status, nothing signed, nothing prepared, nothing changed. */
static H_UNUSED void h_refused(h_env *e, tkms_fw *w, int want, const h_snap *before) {
  uint64_t p0 = h_counter(e, TKMS_COUNTER_PREPARED);
  int st = h_call(e, w);
  if (st != want) fail_msg("status %d (%s), expected %d", st, e->err, want);
  assert_false(h_has(e, TKMS_F_SIGNATURE));
  assert_false(h_has(e, TKMS_F_RECEIPT_SIG));
  assert_false(h_has(e, TKMS_F_TXID));
  h_snap_same(e, before);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), p0); /* burned no value of P */
}

/* ---- signed requests ------------------------------------------------------- */
static H_UNUSED void h_envelope(h_env *e, tkms_fw *w, const uint8_t *request_id,
                                uint64_t deadline) {
  uint8_t rid[32];
  if (request_id == NULL) {
    randombytes_buf(rid, sizeof rid);
    request_id = rid;
  }
  tkms_fw_bytes(w, TKMS_F_REQUEST_ID, request_id, 32);
  tkms_fw_u64(w, TKMS_F_DEADLINE, deadline);
  tkms_fw_bytes(w, TKMS_F_DEPLOYMENT, e->salt, 32);
}

static H_UNUSED int h_rt_of(uint16_t op) {
  switch (op) {
    case TKMS_OP_KEY_CREATE:
      return TKMS_RT_CREATE_KEY;
    case TKMS_OP_KEY_SIGN:
      return TKMS_RT_SIGN;
    case TKMS_OP_KEY_ROTATE:
      return TKMS_RT_ROTATE_KEY;
    case TKMS_OP_KEY_DESTROY:
      return TKMS_RT_DESTROY_KEY;
    case TKMS_OP_SESSION_OPEN:
      return TKMS_RT_OPEN_SESSION;
    case TKMS_OP_SESSION_REVOKE:
      return TKMS_RT_REVOKE_SESSION;
    case TKMS_OP_POLICY_UPDATE:
      return TKMS_RT_UPDATE_POLICY;
    case TKMS_OP_POLICY_CANCEL:
      return TKMS_RT_CANCEL_POLICY_CHANGE;
    default:
      return -1;
  }
}

/* The signature a client would make over the request built so far in w.
 * Uses domain (the deployment's unless the test wants another). */
static H_UNUSED size_t h_sig_for(const uint8_t domain[32], tkms_fw *w, const h_signer *s,
                                 uint8_t sig[65]) {
  assert_int_equal(tkms_fw_finish(w), 0);
  tkms_frame f;
  assert_int_equal(tkms_frame_parse(w->buf + 4, w->len - 4, &f), 0);
  uint8_t sh[32];
  assert_int_equal(tkms_request_hash_struct(&f, h_rt_of(f.op), sh, NULL), 0);
  if (s->eoa) {
    uint8_t d[32];
    tkms_eip712_digest(domain, sh, d);
    assert_int_equal(tkms_secp_sign(s->sk, d, sig), 0);
    return 65;
  }
  uint8_t pre[66];
  tkms_eip712_preimage(domain, sh, pre);
  crypto_sign_detached(sig, NULL, pre, sizeof pre, s->sk);
  return 64;
}

/* Signs as s (with session_id if not NULL) and appends F_SESSION_ID, F_AUTH_SIG. */
static H_UNUSED void h_sign(h_env *e, tkms_fw *w, const h_signer *s, const uint8_t *session_id) {
  uint8_t sig[65];
  size_t n = h_sig_for(e->domain, w, s, sig);
  if (session_id != NULL) tkms_fw_bytes(w, TKMS_F_SESSION_ID, session_id, 16);
  tkms_fw_bytes(w, TKMS_F_AUTH_SIG, sig, n);
}

/* ---- common requests ------------------------------------------------------- */
static H_UNUSED void h_req_create(h_env *e, tkms_fw *w, const char *owner, const char *key_type) {
  h_begin(w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(w, TKMS_F_KEY_TYPE, key_type);
  tkms_fw_str(w, TKMS_F_OWNER, owner);
  tkms_fw_bytes(w, TKMS_F_POLICY, (const uint8_t *)"", 0); /* the default policy */
  h_envelope(e, w, NULL, h_now + 60);
}

static H_UNUSED void h_req_key(h_env *e, tkms_fw *w, uint16_t op, const uint8_t key_id[16]) {
  h_begin(w, op);
  tkms_fw_bytes(w, TKMS_F_KEY_ID, key_id, 16);
  h_envelope(e, w, NULL, h_now + 60);
}

/* The version of the key's record in the host's store (1 if there is none). */
static H_UNUSED uint32_t h_key_version(h_env *e, const uint8_t key_id[16]) {
  h_rec *r = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  return r != NULL ? r->version : 1;
}

static H_UNUSED void h_req_sign(h_env *e, tkms_fw *w, const uint8_t key_id[16], const char *mode,
                                const uint8_t *payload, size_t len) {
  h_begin(w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(w, TKMS_F_SIGN_MODE, mode);
  tkms_fw_bytes(w, TKMS_F_PAYLOAD, payload, len);
  tkms_fw_u32(w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, w, NULL, h_now + 60);
  h_rec *r = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  if (r != NULL) tkms_fw_bytes(w, TKMS_F_BLOB, r->blob, r->blob_len);
}

/* Creates and commits a key; returns its id (and public key if pub != NULL). */
static H_UNUSED void h_create(h_env *e, const h_signer *owner, const char *key_type,
                              uint8_t key_id[16], uint8_t *pub) {
  tkms_fw w;
  h_req_create(e, &w, owner->text, key_type);
  h_sign(e, &w, owner, NULL);
  if (h_call(e, &w) != TKMS_OK) fail_msg("create refused: %s", e->err);
  h_fixed(e, TKMS_F_KEY_ID, key_id, 16);
  if (pub != NULL) h_fixed(e, TKMS_F_PUBKEY, pub, strcmp(key_type, "ed25519") == 0 ? 32 : 33);
  h_commit(e);
}

/* The high-s twin of a valid signature: s -> n - s, v flipped. Same signer. */
static H_UNUSED void h_high_s_twin(uint8_t sig[65]) {
  static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  int borrow = 0;
  for (int i = 31; i >= 0; i--) {
    int d = n[i] - sig[32 + i] - borrow;
    borrow = d < 0;
    sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
  }
  sig[64] = sig[64] == 27 ? 28 : 27;
}
#endif
