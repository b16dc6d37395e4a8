/* tests/unit/test_core_governance.c — governance fixed at INIT, announce/cancel
 * with M-of-N governor signatures, the time-lock, and migration of the DMK to a
 * successor core with another measurement (core/governance.h).
 *
 * Two cores run in this process over one data directory, as the host runs them:
 * the successor B (measuring another file, so another measurement and seal key)
 * and the current core A as a migration source (counters read-only). */
#include <fcntl.h>
#include <sys/stat.h>

#include "core/governance.h"
#include "core/records.h"
#include "test_core_harness.h"

#define DELAY 100u

static h_signer gov[3], outsider;

/* ---- helpers ---------------------------------------------------------------- */

static int open_core(h_env *e, const char *exe, int init, int readonly, tkms_core **out) {
  h_ops = tkms_platform_sim;
  h_ops.now = h_clock;
  char err[512];
  tkms_platform_cfg cfg = {
      .data_dir = e->dir, .init = init, .exe_path = exe, .counter_readonly = readonly};
  tkms_platform p;
  if (tkms_platform_open(&h_ops, &cfg, &p, err, sizeof err) != 0) {
    print_error("%s\n", err);
    return -1;
  }
  assert_int_equal(tkms_core_new(&p, init, out), 0);
  (*out)->busy_ms = 50;
  (*out)->migrate_source = readonly;
  return 0;
}

/* A deployment initialised with 2-of-3 governors (gov[0..2]) and DELAY, on
 * core A (this test program). */
static h_env *setup_production(int with_governance) {
  assert_true(sodium_init() >= 0);
  assert_int_equal(tkms_secp_init(), 0);
  for (int i = 0; i < 3; i++) h_signer_eoa(&gov[i], (uint8_t)(10 + i));
  h_signer_eoa(&outsider, 99);
  h_env *e = calloc(1, sizeof *e);
  assert_non_null(e);
  strcpy(e->dir, "/tmp/tkms-test-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  assert_int_equal(open_core(e, NULL, 1, 0, &e->core), 0);
  tkms_conn_init(&e->conn, e->core);
  tkms_fw w;
  h_begin(&w, TKMS_OP_INIT);
  if (with_governance) {
    for (int i = 0; i < 3; i++) tkms_fw_bytes(&w, TKMS_F_GOVERNOR, gov[i].addr, 20);
    tkms_fw_u32(&w, TKMS_F_GOV_THRESHOLD, 2);
    tkms_fw_u64(&w, TKMS_F_GOV_DELAY, DELAY);
  }
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  h_read_deployment(e);
  return e;
}

static int setup(void **state) {
  *state = setup_production(1);
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

/* The signature of governor s over AnnounceUpgrade / CancelUpgrade. */
static void gov_sig(const h_env *e, int rt, const h_signer *s, const uint8_t m[32],
                    const uint8_t rid[32], uint64_t deadline, uint8_t sig[65]) {
  uint8_t th[32], words[3][32], sh[32], d[32];
  tkms_eip712_type_hash(tkms_eip712_request_types[rt].encode_type, th);
  memcpy(words[0], m, 32);
  memcpy(words[1], rid, 32);
  tkms_eip712_word_uint64(deadline, words[2]);
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])words, 3, sh);
  tkms_eip712_digest(e->domain, sh, d);
  assert_int_equal(tkms_secp_sign(s->sk, d, sig), 0);
}

/* Builds and sends an ANNOUNCE / CANCEL signed by the signers. */
static int gov_req(h_env *e, uint16_t op, const h_signer *const *signers, size_t n,
                   const uint8_t m[32], const uint8_t *rid_in) {
  int rt = op == TKMS_OP_GOV_ANNOUNCE ? TKMS_RT_ANNOUNCE_UPGRADE : TKMS_RT_CANCEL_UPGRADE;
  uint8_t rid[32];
  if (rid_in != NULL)
    memcpy(rid, rid_in, 32);
  else
    randombytes_buf(rid, sizeof rid);
  uint64_t deadline = h_now + 60;
  tkms_fw w;
  h_begin(&w, op);
  tkms_fw_bytes(&w, TKMS_F_MEASUREMENT, m, 32);
  h_envelope(e, &w, rid, deadline);
  for (size_t i = 0; i < n; i++) {
    uint8_t sig[65];
    gov_sig(e, rt, signers[i], m, rid, deadline, sig);
    tkms_fw_bytes(&w, TKMS_F_GOV_SIG, sig, sizeof sig);
  }
  return h_call(e, &w);
}

/* ---- quorum counting (pure) --------------------------------------------------- */

static void test_quorum_counting(void **state) {
  h_env *e = *state;
  tkms_gov g;
  assert_int_equal(tkms_gov_get(e->core, &g), TKMS_GOV_MODE_PRODUCTION);
  assert_int_equal(g.n_governors, 3);
  assert_int_equal(g.threshold, 2);
  assert_int_equal(g.delay, DELAY);
  uint8_t m[32], rid[32], s0[65], s1[65], sx[65];
  randombytes_buf(m, 32);
  randombytes_buf(rid, 32);
  uint64_t dl = h_now + 60;
  gov_sig(e, TKMS_RT_ANNOUNCE_UPGRADE, &gov[0], m, rid, dl, s0);
  gov_sig(e, TKMS_RT_ANNOUNCE_UPGRADE, &gov[1], m, rid, dl, s1);
  gov_sig(e, TKMS_RT_ANNOUNCE_UPGRADE, &outsider, m, rid, dl, sx);
  unsigned count = 99;
  size_t bad = 99;
  /* a duplicate governor counts once */
  const uint8_t *dup[] = {s0, s0, s0};
  assert_int_equal(tkms_gov_count_signers(&g, e->domain, TKMS_RT_ANNOUNCE_UPGRADE, m, rid, dl, dup,
                                          3, &count, &bad),
                   TKMS_OK);
  assert_int_equal(count, 1);
  /* a non-governor is ignored */
  const uint8_t *two[] = {sx, s1, s0};
  assert_int_equal(tkms_gov_count_signers(&g, e->domain, TKMS_RT_ANNOUNCE_UPGRADE, m, rid, dl, two,
                                          3, &count, &bad),
                   TKMS_OK);
  assert_int_equal(count, 2);
  /* signed for CANCEL, counted for ANNOUNCE: these recover to other addresses */
  assert_int_equal(tkms_gov_count_signers(&g, e->domain, TKMS_RT_CANCEL_UPGRADE, m, rid, dl, two, 3,
                                          &count, &bad),
                   TKMS_OK);
  assert_int_equal(count, 0);
  /* another deadline: not what was signed */
  assert_int_equal(tkms_gov_count_signers(&g, e->domain, TKMS_RT_ANNOUNCE_UPGRADE, m, rid, dl + 1,
                                          two, 3, &count, &bad),
                   TKMS_OK);
  assert_int_equal(count, 0);
  /* a high-s twin refuses the whole request */
  uint8_t hs[65];
  memcpy(hs, s1, 65);
  h_high_s_twin(hs);
  const uint8_t *withhs[] = {s0, hs};
  assert_int_equal(tkms_gov_count_signers(&g, e->domain, TKMS_RT_ANNOUNCE_UPGRADE, m, rid, dl,
                                          withhs, 2, &count, &bad),
                   TKMS_E_HIGH_S);
  assert_int_equal(bad, 1);
  /* garbage refuses too */
  uint8_t junk[65];
  memset(junk, 0, sizeof junk);
  junk[64] = 27;
  const uint8_t *withjunk[] = {junk, s0, s1};
  assert_int_equal(tkms_gov_count_signers(&g, e->domain, TKMS_RT_ANNOUNCE_UPGRADE, m, rid, dl,
                                          withjunk, 3, &count, &bad),
                   TKMS_E_BAD_SIGNATURE);
  assert_int_equal(bad, 0);
}

/* ---- announce / cancel through the core ------------------------------------------ */

static void test_announce_cancel(void **state) {
  h_env *e = *state;
  uint8_t m[32], rid[32];
  randombytes_buf(m, 32);
  randombytes_buf(rid, 32);
  const h_signer *one[] = {&gov[0], &outsider, &gov[0]};
  const h_signer *two[] = {&gov[2], &gov[0]};
  h_snap before;
  h_snap_take(e, &before);
  assert_int_equal(gov_req(e, TKMS_OP_GOV_ANNOUNCE, one, 3, m, NULL), TKMS_E_GOV_QUORUM);
  h_snap_same(e, &before);
  h_now += 5;
  assert_int_equal(gov_req(e, TKMS_OP_GOV_ANNOUNCE, two, 2, m, rid), TKMS_OK);
  uint8_t a[48];
  h_fixed(e, TKMS_F_GOV_ANNOUNCEMENT, a, 48);
  assert_memory_equal(a, m, 32);
  assert_int_equal(tkms_be64_get(a + 32), h_now);
  assert_int_equal(tkms_be64_get(a + 40), h_now + DELAY);
  h_commit(e);
  /* replay */
  assert_int_equal(gov_req(e, TKMS_OP_GOV_ANNOUNCE, two, 2, m, rid), TKMS_E_REPLAY);
  /* again, fresh: already announced */
  assert_int_equal(gov_req(e, TKMS_OP_GOV_ANNOUNCE, two, 2, m, NULL), TKMS_E_ALREADY_ANNOUNCED);
  /* survives a restart */
  assert_int_equal(h_restart(e), TKMS_OK);
  tkms_gov g;
  assert_int_equal(tkms_gov_get(e->core, &g), TKMS_GOV_MODE_PRODUCTION);
  assert_int_equal(g.n_ann, 1);
  assert_memory_equal(g.ann[0].measurement, m, 32);
  /* cancel: quorum, then gone */
  assert_int_equal(gov_req(e, TKMS_OP_GOV_CANCEL, one, 3, m, NULL), TKMS_E_GOV_QUORUM);
  assert_int_equal(gov_req(e, TKMS_OP_GOV_CANCEL, two, 2, m, NULL), TKMS_OK);
  h_commit(e);
  assert_int_equal(tkms_gov_get(e->core, &g), TKMS_GOV_MODE_PRODUCTION);
  assert_int_equal(g.n_ann, 0);
  assert_int_equal(gov_req(e, TKMS_OP_GOV_CANCEL, two, 2, m, NULL), TKMS_E_NOT_ANNOUNCED);
}

static void test_init_validation(void **state) {
  (void)state;
  h_env *e = setup_production(0);
  tkms_gov g;
  assert_int_equal(tkms_gov_get(e->core, &g), TKMS_GOV_MODE_DEVELOPMENT);
  uint8_t m[32] = {1};
  const h_signer *two[] = {&gov[0], &gov[1]};
  assert_int_equal(gov_req(e, TKMS_OP_GOV_ANNOUNCE, two, 2, m, NULL), TKMS_E_NOT_GOVERNED);
  h_teardown(e);
  /* INIT refuses bad governance and creates nothing */
  struct {
    int n, dup;
    uint32_t m;
    uint64_t delay;
  } bad[] = {
      {0, 0, 1, 0}, {0, 0, 0, 5}, {2, 0, 3, 0}, {2, 1, 1, 0}, {1, 0, 1, TKMS_GOV_MAX_DELAY + 1}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h_env *x = calloc(1, sizeof *x);
    strcpy(x->dir, "/tmp/tkms-test-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    assert_int_equal(open_core(x, NULL, 1, 0, &x->core), 0);
    tkms_conn_init(&x->conn, x->core);
    tkms_fw w;
    h_begin(&w, TKMS_OP_INIT);
    for (int j = 0; j < bad[i].n; j++)
      tkms_fw_bytes(&w, TKMS_F_GOVERNOR, gov[bad[i].dup ? 0 : j].addr, 20);
    if (bad[i].m) tkms_fw_u32(&w, TKMS_F_GOV_THRESHOLD, bad[i].m);
    if (bad[i].delay) tkms_fw_u64(&w, TKMS_F_GOV_DELAY, bad[i].delay);
    assert_int_equal(h_call(x, &w), TKMS_E_BAD_REQUEST);
    assert_int_equal(x->core->state, TKMS_STATE_UNINITIALISED);
    assert_int_equal(h_counter(x, TKMS_COUNTER_PREPARED), 0);
    h_teardown(x);
  }
}

/* ---- the record layout ------------------------------------------------------- */

static void test_record_layout(void **state) {
  (void)state;
  tkms_gov g;
  memset(&g, 0, sizeof g);
  g.n_governors = 2;
  g.threshold = 2;
  g.delay = 77;
  memset(g.governors[0], 1, 20);
  memset(g.governors[1], 2, 20);
  g.n_ann = 1;
  memset(g.ann[0].measurement, 3, 32);
  g.ann[0].accepted_at = 10;
  g.ann[0].effective_at = 87;
  tkms_rec *r = tkms_rec_new(TKMS_REC_GOV_SLOTS);
  r->type = TKMS_REC_GOV;
  r->id_len = 1;
  r->id[0] = 'g';
  r->version = 4;
  tkms_gov_to_rec(&g, r);
  uint8_t pt[TKMS_GOVREC_MAX + 1];
  size_t n = tkms_rec_plain_encode(r, NULL, pt, sizeof pt);
  /* 1 | 2 | 40 | 2 | 8 | 1 | 48 */
  assert_int_equal(n, 1 + 1 + 40 + 1 + 8 + 1 + 48);
  tkms_rec *back = NULL;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, pt, n, &back, NULL), 0);
  tkms_gov g2;
  tkms_gov_from_rec(back, &g2);
  assert_memory_equal(&g, &g2, sizeof g);
  tkms_rec *dup = tkms_rec_dup(back);
  tkms_gov_from_rec(dup, &g2);
  assert_memory_equal(&g, &g2, sizeof g);
  free(dup);
  free(back);
  /* with the holder: 32 more bytes, and it comes back */
  g.has_holder = 1;
  memset(g.holder, 5, 32);
  tkms_gov_to_rec(&g, r);
  uint8_t pth[TKMS_GOVREC_MAX + 1];
  size_t nh = tkms_rec_plain_encode(r, NULL, pth, sizeof pth);
  assert_int_equal(nh, n + 32);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, pth, nh, &back, NULL), 0);
  tkms_gov_from_rec(back, &g2);
  assert_memory_equal(&g, &g2, sizeof g);
  free(back);
  /* ... and a part of it is refused */
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, pth, nh - 1, &back, NULL), -1);
  g.has_holder = 0;
  memset(g.holder, 0, 32);
  tkms_gov_to_rec(&g, r);
  /* threshold above N, a repeated governor, a truncated or padded record: refused */
  uint8_t bad[sizeof pt];
  memcpy(bad, pt, n);
  bad[42] = 3;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, bad, n, &back, NULL), -1);
  memcpy(bad, pt, n);
  memset(bad + 22, 1, 20);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, bad, n, &back, NULL), -1);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, pt, n - 1, &back, NULL), -1);
  memcpy(bad, pt, n);
  bad[n] = 0;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, bad, n + 1, &back, NULL), -1);
  /* effective before accepted */
  memcpy(bad, pt, n);
  bad[n - 1] = 0;
  bad[n - 2] = 0;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_GOV, r->id, 1, 4, bad, n, &back, NULL), -1);
  free(r);
}

/* ---- the time-lock gate (pure) ------------------------------------------------ */

static void test_timelock_boundary(void **state) {
  (void)state;
  tkms_gov g;
  memset(&g, 0, sizeof g);
  g.n_governors = 1;
  g.threshold = 1;
  g.delay = DELAY;
  g.governors[0][0] = 1;
  uint8_t m[32] = {7}, other[32] = {8};
  g.n_ann = 1;
  memcpy(g.ann[0].measurement, m, 32);
  g.ann[0].accepted_at = 1000;
  g.ann[0].effective_at = 1000 + DELAY;
  assert_int_equal(tkms_gov_valid(&g), 0);
  const tkms_gov_announcement *a = NULL;
  char msg[400];
  assert_int_equal(tkms_gov_migration_allowed(&g, m, 1000 + DELAY - 1, &a, msg, sizeof msg),
                   TKMS_E_TIMELOCK);
  assert_null(a);
  assert_non_null(strstr(msg, "becomes effective at 1100"));
  assert_int_equal(tkms_gov_migration_allowed(&g, m, 1000 + DELAY, &a, msg, sizeof msg), TKMS_OK);
  assert_ptr_equal(a, &g.ann[0]);
  assert_int_equal(tkms_gov_migration_allowed(&g, other, 1u << 30, &a, msg, sizeof msg),
                   TKMS_E_NOT_ANNOUNCED);
  assert_non_null(strstr(msg, "tkms governance announce --measurement 0x08"));
  /* a development deployment needs nothing */
  tkms_gov dev;
  memset(&dev, 0, sizeof dev);
  assert_int_equal(tkms_gov_migration_allowed(&dev, other, 0, &a, msg, sizeof msg), TKMS_OK);
  assert_null(a);
}

/* ---- migration --------------------------------------------------------------- */

typedef struct {
  h_env *e;
  char exe_b[PATH_MAX + 16];
  tkms_core *a, *b;
  tkms_conn ca, cb;
  uint8_t mb[32];
} mig;

static void mig_close(mig *x) {
  if (x->a) {
    tkms_conn_close(&x->ca);
    tkms_core_free(x->a);
    x->a = NULL;
  }
  if (x->b) {
    tkms_conn_close(&x->cb);
    tkms_core_free(x->b);
    x->b = NULL;
  }
}

/* B (another "binary") without a deployment, and A (exe_a; NULL: this program)
 * loaded as a migration source. */
static void mig_open_from(mig *x, const char *exe_a) {
  h_env *e = x->e;
  h_close_core(e);
  assert_int_equal(open_core(e, x->exe_b[0] ? x->exe_b : NULL, 0, 0, &x->b), 0);
  tkms_conn_init(&x->cb, x->b);
  tkms_fw w;
  h_begin(&w, TKMS_OP_LOAD_DMK);
  tkms_fw_bytes(&w, TKMS_F_DMK, e->dmk, e->dmk_len);
  assert_int_equal(h_call_on(e, &x->cb, &w), TKMS_E_UNSEAL);
  h_begin(&w, TKMS_OP_STATUS);
  assert_int_equal(h_call_on(e, &x->cb, &w), TKMS_OK);
  h_fixed(e, TKMS_F_MEASUREMENT, x->mb, 32);
  assert_int_equal(open_core(e, exe_a, 0, 1, &e->core), 0);
  tkms_conn_init(&e->conn, e->core);
  assert_int_equal(h_load(e), TKMS_OK);
  x->a = e->core;
  x->ca = e->conn;
  e->core = NULL;
}

/* NONCE on A, OFFER on B, EXPORT on A. Leaves A's answer in e->rf. */
static int mig_export(mig *x) {
  h_env *e = x->e;
  tkms_fw w;
  uint8_t nonce[32], pk[32], ev[TKMS_SIM_EVIDENCE_BYTES];
  h_begin(&w, TKMS_OP_MIGRATE_NONCE);
  assert_int_equal(h_call_on(e, &x->ca, &w), TKMS_OK);
  h_fixed(e, TKMS_F_NONCE, nonce, 32);
  h_begin(&w, TKMS_OP_MIGRATE_OFFER);
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  assert_int_equal(h_call_on(e, &x->cb, &w), TKMS_OK);
  h_fixed(e, TKMS_F_MIGRATE_PK, pk, 32);
  h_fixed(e, TKMS_F_EVIDENCE, ev, sizeof ev);
  h_begin(&w, TKMS_OP_MIGRATE_EXPORT);
  tkms_fw_bytes(&w, TKMS_F_MIGRATE_PK, pk, 32);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev, sizeof ev);
  return h_call_on(e, &x->ca, &w);
}

static int mig_import(mig *x, const uint8_t ct[TKMS_MIGRATE_CT_BYTES],
                      const uint8_t ev[TKMS_SIM_EVIDENCE_BYTES], const uint8_t salt[32]) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_MIGRATE_IMPORT);
  tkms_fw_bytes(&w, TKMS_F_MIGRATE_CT, ct, TKMS_MIGRATE_CT_BYTES);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev, TKMS_SIM_EVIDENCE_BYTES);
  tkms_fw_bytes(&w, TKMS_F_DEPLOY_SALT, salt, 32);
  return h_call_on(x->e, &x->cb, &w);
}

/* LOAD_RECORDS and LOAD_END from the store, after a DMK came by MIGRATE_IMPORT. */
static int load_rest(h_env *e) {
  tkms_fw w;
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

/* 1 if the loaded governance record names m as the holder. */
static int gov_holder(h_env *e, const uint8_t m[32]) {
  tkms_gov g;
  tkms_gov_get(e->core, &g);
  return g.has_holder && memcmp(g.holder, m, 32) == 0;
}

static int h_restart_exe(h_env *e, const char *exe) {
  h_close_core(e);
  assert_int_equal(open_core(e, exe, 0, 0, &e->core), 0);
  tkms_conn_init(&e->conn, e->core);
  return h_load(e);
}

static void mig_open(mig *x) {
  mig_open_from(x, NULL);
}

/* The whole hand-over as the host runs it: EXPORT, IMPORT + COMMIT, LOAD, FINISH
 * + COMMIT. Leaves B as e->core, the holder, serving. */
static void hand_over(mig *x) {
  h_env *e = x->e;
  uint8_t ct[TKMS_MIGRATE_CT_BYTES], ev_a[TKMS_SIM_EVIDENCE_BYTES], salt[32];
  assert_int_equal(mig_export(x), TKMS_OK);
  h_fixed(e, TKMS_F_MIGRATE_CT, ct, sizeof ct);
  h_fixed(e, TKMS_F_EVIDENCE, ev_a, sizeof ev_a);
  h_fixed(e, TKMS_F_DEPLOY_SALT, salt, 32);
  tkms_conn_close(&x->ca);
  tkms_core_free(x->a);
  x->a = NULL;
  e->core = x->b;
  e->conn = x->cb;
  x->b = NULL;
  tkms_fw w;
  h_begin(&w, TKMS_OP_MIGRATE_IMPORT);
  tkms_fw_bytes(&w, TKMS_F_MIGRATE_CT, ct, TKMS_MIGRATE_CT_BYTES);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev_a, TKMS_SIM_EVIDENCE_BYTES);
  tkms_fw_bytes(&w, TKMS_F_DEPLOY_SALT, salt, 32);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  assert_int_equal(load_rest(e), TKMS_OK);
  h_begin(&w, TKMS_OP_MIGRATE_FINISH);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
}

static void test_migration(void **state) {
  h_env *e = *state;
  mig x = {.e = e};
  /* Core B measures another file than this program. */
  snprintf(x.exe_b, sizeof x.exe_b, "%s/core-b", e->dir);
  FILE *f = fopen(x.exe_b, "wb");
  assert_non_null(f);
  fputs("another core build", f);
  fclose(f);
  uint8_t key_id[16];
  h_signer owner;
  h_signer_eoa(&owner, 3);
  h_create(e, &owner, "secp256k1", key_id, NULL);

  /* Not announced: refused, and A says which command announces it. */
  mig_open(&x);
  assert_int_equal(mig_export(&x), TKMS_E_NOT_ANNOUNCED);
  char hb[67];
  h_hex(x.mb, 32, hb);
  assert_non_null(strstr(e->err, hb));
  assert_non_null(strstr(e->err, "tkms governance announce --measurement"));
  /* A migration source never moves the counters. */
  mig_close(&x);

  /* Announce B on A (a normal core again). */
  assert_int_equal(h_restart(e), TKMS_OK);
  const h_signer *two[] = {&gov[1], &gov[2]};
  uint64_t t0 = h_now;
  assert_int_equal(gov_req(e, TKMS_OP_GOV_ANNOUNCE, two, 2, x.mb, NULL), TKMS_OK);
  h_commit(e);

  /* One second before effective_at: time-locked. */
  mig_open(&x);
  h_now = t0 + DELAY - 1;
  assert_int_equal(mig_export(&x), TKMS_E_TIMELOCK);
  /* At effective_at: allowed. */
  h_now = t0 + DELAY;
  assert_int_equal(mig_export(&x), TKMS_OK);
  uint8_t ct[TKMS_MIGRATE_CT_BYTES], ev_a[TKMS_SIM_EVIDENCE_BYTES], salt[32], mb2[32];
  h_fixed(e, TKMS_F_MIGRATE_CT, ct, sizeof ct);
  h_fixed(e, TKMS_F_EVIDENCE, ev_a, sizeof ev_a);
  h_fixed(e, TKMS_F_DEPLOY_SALT, salt, 32);
  h_fixed(e, TKMS_F_MEASUREMENT, mb2, 32);
  assert_memory_equal(mb2, x.mb, 32);
  assert_memory_equal(salt, e->salt, 32);
  assert_int_equal(h_u32(e, TKMS_F_GOV_MODE), TKMS_GOV_MODE_PRODUCTION);

  /* A ciphertext for another key (B made a new offer since) fails. */
  tkms_fw w;
  uint8_t n2[32] = {5};
  h_begin(&w, TKMS_OP_MIGRATE_OFFER);
  tkms_fw_bytes(&w, TKMS_F_NONCE, n2, 32);
  assert_int_equal(h_call_on(e, &x.cb, &w), TKMS_OK);
  assert_int_equal(mig_import(&x, ct, ev_a, salt), TKMS_E_MIGRATION);
  assert_int_equal(x.b->state, TKMS_STATE_UNINITIALISED);

  /* A fresh round; a flipped ciphertext byte or another stated salt fails too. */
  assert_int_equal(mig_export(&x), TKMS_OK);
  h_fixed(e, TKMS_F_MIGRATE_CT, ct, sizeof ct);
  h_fixed(e, TKMS_F_EVIDENCE, ev_a, sizeof ev_a);
  ct[50] ^= 1;
  assert_int_equal(mig_import(&x, ct, ev_a, salt), TKMS_E_MIGRATION);
  ct[50] ^= 1;
  salt[0] ^= 1;
  assert_int_equal(mig_import(&x, ct, ev_a, salt), TKMS_E_MIGRATION);
  salt[0] ^= 1;
  assert_null(x.cb.pending);

  /* The real one. A's sealed DMK and the state before the hand-over are kept,
   * as the host keeps dmk.<A> (a root user could keep them too). */
  uint8_t dmk_a[sizeof e->dmk];
  size_t dmk_a_len = e->dmk_len;
  memcpy(dmk_a, e->dmk, dmk_a_len);
  h_backup *before = h_backup_take(e);
  assert_int_equal(mig_import(&x, ct, ev_a, salt), TKMS_OK);
  uint8_t ma[32];
  h_fixed(e, TKMS_F_MEASUREMENT, ma, 32);
  assert_memory_equal(ma, x.a->measurement, 32);
  assert_false(h_has(e, TKMS_F_MANIFEST)); /* only the DMK changes */
  uint64_t k0 = 0;
  assert_int_equal(x.b->plat.ops->counter_read(x.b->plat.ctx, TKMS_COUNTER_COMMITTED, &k0), 0);
  {
    uint64_t txid = h_u64(e, TKMS_F_TXID);
    h_store_apply(e);
    h_begin(&w, TKMS_OP_COMMIT);
    tkms_fw_u64(&w, TKMS_F_TXID, txid);
    assert_int_equal(h_call_on(e, &x.cb, &w), TKMS_OK);
  }
  assert_int_equal(x.b->state, TKMS_STATE_LOADING);

  /* B loads the state in this process: accepted although A is the holder (B
   * imported), but B serves nothing until it has recorded itself. */
  tkms_conn_close(&x.ca);
  tkms_core_free(x.a);
  x.a = NULL;
  e->core = x.b;
  e->conn = x.cb;
  x.b = NULL;
  assert_int_equal(load_rest(e), TKMS_OK);
  assert_int_equal(e->core->state, TKMS_STATE_READY);
  assert_int_equal(gov_holder(e, ma), 1);
  uint8_t digest[32] = {9};
  h_snap s0;
  h_snap_take(e, &s0);
  h_req_sign(e, &w, key_id, "digest", digest, 32);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_NOT_READY, &s0);
  assert_non_null(strstr(e->err, "MIGRATE_FINISH"));
  h_begin(&w, TKMS_OP_GOV_STATUS);
  assert_int_equal(h_call(e, &w), TKMS_E_NOT_READY);
  /* FINISH: a mutation that moves the counters and makes B the holder. */
  h_begin(&w, TKMS_OP_MIGRATE_FINISH);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_true(h_has(e, TKMS_F_MANIFEST));
  h_commit(e);
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), k0 + 1);
  assert_int_equal(gov_holder(e, x.mb), 1);
  h_begin(&w, TKMS_OP_MIGRATE_FINISH); /* once */
  assert_int_equal(h_call(e, &w), TKMS_E_BAD_REQUEST);
  h_req_sign(e, &w, key_id, "digest", digest, 32);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);

  /* B restarts from the store like any core: it is the holder. */
  assert_int_equal(h_restart_exe(e, x.exe_b), TKMS_OK);
  uint8_t salt_b[32];
  h_status(e);
  h_fixed(e, TKMS_F_DEPLOY_SALT, salt_b, 32);
  assert_memory_equal(salt_b, e->salt, 32);
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), k0 + 1);
  h_req_sign(e, &w, key_id, "digest", digest, 32);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  /* A serving core does not hand its deployment over. */
  h_begin(&w, TKMS_OP_MIGRATE_NONCE);
  assert_int_equal(h_call(e, &w), TKMS_E_BAD_REQUEST);
  assert_non_null(strstr(e->err, "--migrate-source"));

  /* A (this program's measurement) cannot unseal the stored DMK: it is B's. */
  h_close_core(e);
  assert_int_equal(open_core(e, NULL, 0, 0, &e->core), 0);
  tkms_conn_init(&e->conn, e->core);
  assert_int_equal(h_load(e), TKMS_E_UNSEAL);
  /* With its old sealed DMK restored: the newest state names B as the holder,
   * refused; nothing moves. */
  uint8_t dmk_b[sizeof e->dmk];
  size_t dmk_b_len = e->dmk_len;
  memcpy(dmk_b, e->dmk, dmk_b_len);
  memcpy(e->dmk, dmk_a, dmk_a_len);
  e->dmk_len = dmk_a_len;
  uint64_t p1 = h_counter(e, TKMS_COUNTER_PREPARED);
  assert_int_equal(h_load(e), TKMS_E_NOT_ANNOUNCED);
  assert_non_null(strstr(e->err, "held by the core"));
  assert_non_null(strstr(e->err, hb));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), k0 + 1);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), p1);
  /* the state from before the hand-over (A the holder): a rollback */
  h_backup *after = h_backup_take(e);
  h_backup_restore(e, before);
  assert_int_equal(h_load(e), TKMS_E_ROLLBACK);
  h_backup_restore(e, after);
  /* As a migration source A loads (it only exports) but serves nothing. */
  h_close_core(e);
  assert_int_equal(open_core(e, NULL, 0, 1, &e->core), 0);
  tkms_conn_init(&e->conn, e->core);
  assert_int_equal(h_load(e), TKMS_OK);
  h_req_sign(e, &w, key_id, "digest", digest, 32);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_E_NOT_READY);
  assert_non_null(strstr(e->err, "--migrate-source"));
  h_begin(&w, TKMS_OP_GOV_STATUS);
  assert_int_equal(h_call(e, &w), TKMS_E_NOT_READY);
  h_begin(&w, TKMS_OP_MIGRATE_NONCE);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_close_core(e);
  memcpy(e->dmk, dmk_b, dmk_b_len);
  e->dmk_len = dmk_b_len;
  unlink(x.exe_b);
}

/* A development deployment: B -> A is a migration like A -> B, without an
 * announcement, and A becomes the holder again through MIGRATE_FINISH. */
static void test_dev_round_trip(void **state) {
  (void)state;
  h_env *e = setup_production(0);
  mig x = {.e = e};
  snprintf(x.exe_b, sizeof x.exe_b, "%s/core-b", e->dir);
  FILE *f = fopen(x.exe_b, "wb");
  assert_non_null(f);
  fputs("a development build", f);
  fclose(f);
  uint8_t ma[32];
  memcpy(ma, e->core->measurement, 32);
  assert_int_equal(gov_holder(e, ma), 1); /* INIT: the initialising core */
  uint8_t dmk_a[sizeof e->dmk];
  size_t dmk_a_len = e->dmk_len;
  memcpy(dmk_a, e->dmk, dmk_a_len);
  /* A -> B */
  mig_open(&x);
  hand_over(&x);
  assert_int_equal(gov_holder(e, x.mb), 1);
  /* A with its old sealed DMK: refused, and told how to go back. */
  h_close_core(e);
  assert_int_equal(open_core(e, NULL, 0, 0, &e->core), 0);
  tkms_conn_init(&e->conn, e->core);
  uint8_t dmk_b[sizeof e->dmk];
  size_t dmk_b_len = e->dmk_len;
  memcpy(dmk_b, e->dmk, dmk_b_len);
  memcpy(e->dmk, dmk_a, dmk_a_len);
  assert_int_equal(h_load(e), TKMS_E_NOT_ANNOUNCED);
  assert_non_null(strstr(e->err, "development deployment"));
  memcpy(e->dmk, dmk_b, dmk_b_len);
  h_close_core(e);
  /* B -> A: B is the source now, A (this program) the successor. */
  char exe_a[PATH_MAX + 16];
  snprintf(exe_a, sizeof exe_a, "%s", x.exe_b);
  x.exe_b[0] = '\0';
  mig_open_from(&x, exe_a);
  hand_over(&x);
  assert_int_equal(gov_holder(e, ma), 1);
  h_close_core(e);
  unlink(exe_a);
  h_teardown(e);
}

/* Evidence that is not this machine's, or that binds another nonce, is refused. */
static void test_export_checks_evidence(void **state) {
  h_env *e = *state;
  mig x = {.e = e};
  snprintf(x.exe_b, sizeof x.exe_b, "%s/core-b", e->dir);
  FILE *f = fopen(x.exe_b, "wb");
  fputs("core b, again", f);
  fclose(f);
  mig_open(&x);
  tkms_fw w;
  uint8_t nonce[32], pk[32], ev[TKMS_SIM_EVIDENCE_BYTES];
  h_begin(&w, TKMS_OP_MIGRATE_NONCE);
  assert_int_equal(h_call_on(e, &x.ca, &w), TKMS_OK);
  h_fixed(e, TKMS_F_NONCE, nonce, 32);
  nonce[0] ^= 1; /* B binds another nonce */
  h_begin(&w, TKMS_OP_MIGRATE_OFFER);
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  assert_int_equal(h_call_on(e, &x.cb, &w), TKMS_OK);
  h_fixed(e, TKMS_F_MIGRATE_PK, pk, 32);
  h_fixed(e, TKMS_F_EVIDENCE, ev, sizeof ev);
  h_begin(&w, TKMS_OP_MIGRATE_EXPORT);
  tkms_fw_bytes(&w, TKMS_F_MIGRATE_PK, pk, 32);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev, sizeof ev);
  assert_int_equal(h_call_on(e, &x.ca, &w), TKMS_E_MIGRATION);
  /* the nonce is spent: without a new one, nothing */
  h_begin(&w, TKMS_OP_MIGRATE_EXPORT);
  tkms_fw_bytes(&w, TKMS_F_MIGRATE_PK, pk, 32);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev, sizeof ev);
  assert_int_equal(h_call_on(e, &x.ca, &w), TKMS_E_BAD_REQUEST);
  /* evidence signed by another machine's key */
  h_begin(&w, TKMS_OP_MIGRATE_NONCE);
  assert_int_equal(h_call_on(e, &x.ca, &w), TKMS_OK);
  uint8_t seed[32] = {1}, opk[32], osk[64];
  crypto_sign_seed_keypair(opk, osk, seed);
  memcpy(ev + 116, opk, 32);
  crypto_sign_detached(ev + 148, NULL, ev, 148, osk);
  h_begin(&w, TKMS_OP_MIGRATE_EXPORT);
  tkms_fw_bytes(&w, TKMS_F_MIGRATE_PK, pk, 32);
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, ev, sizeof ev);
  assert_int_equal(h_call_on(e, &x.ca, &w), TKMS_E_MIGRATION);
  assert_non_null(strstr(e->err, "another machine"));
  mig_close(&x);
  unlink(x.exe_b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_quorum_counting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_announce_cancel, setup, teardown),
      cmocka_unit_test(test_init_validation),
      cmocka_unit_test(test_timelock_boundary),
      cmocka_unit_test(test_record_layout),
      cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_checks_evidence, setup, teardown),
      cmocka_unit_test(test_dev_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
