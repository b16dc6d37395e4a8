/* tests/unit/test_core_lifecycle.c — INIT, STATUS, loading sealed state after a
 * restart, and the refusals that protect it: rollback, tampering, unsealing by
 * another build, a counter that cannot advance. */
#include <fcntl.h>
#include <sys/stat.h>

#include "test_core_harness.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

static void file_sha256(const char *path, uint8_t out[32]) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) crypto_hash_sha256_update(&st, buf, n);
  fclose(f);
  crypto_hash_sha256_final(&st, out);
}

static void test_init_and_status(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  assert_int_equal(tkms_secp_init(), 0);
  h_env *e = calloc(1, sizeof *e);
  strcpy(e->dir, "/tmp/tkms-test-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  char err[512];
  assert_int_equal(h_open_core(e, 1, err, sizeof err), 0);

  /* before INIT: sim, measured, uninitialised, no deployment yet */
  h_status(e);
  char s[64];
  uint8_t m[32], want[32];
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_PLATFORM, s, 32), 0);
  assert_string_equal(s, "sim");
  assert_int_equal(h_u32(e, TKMS_F_SIMULATED), 1);
  h_fixed(e, TKMS_F_MEASUREMENT, m, 32);
  /* the measurement covers this binary and its libraries: not the binary's hash alone */
  assert_int_equal(tkms_platform_measure_self(NULL, want, NULL, 0, NULL, err, sizeof err), 0);
  assert_memory_equal(m, want, 32);
  file_sha256("/proc/self/exe", want);
  assert_memory_not_equal(m, want, 32);
  assert_int_equal(h_u32(e, TKMS_F_STATE), TKMS_STATE_UNINITIALISED);
  assert_int_equal(h_u64(e, TKMS_F_COUNTER), 0);
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_CORE_VERSION, s, 32), 0);
  assert_false(h_has(e, TKMS_F_DEPLOY_SALT));

  /* key ops are not ready */
  h_snap before;
  h_snap_take(e, &before);
  h_signer owner;
  h_signer_eoa(&owner, 1);
  tkms_fw w;
  h_req_create(e, &w, owner.text, "secp256k1");
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, owner.sk, 32);
  h_refused(e, &w, TKMS_E_NOT_READY, &before);
  h_begin(&w, TKMS_OP_ATTEST);
  tkms_fw_bytes(&w, TKMS_F_NONCE, want, 32);
  h_refused(e, &w, TKMS_E_NOT_READY, &before);

  /* INIT prepares; an ABORT leaves nothing behind but a burned value of P */
  h_begin(&w, TKMS_OP_INIT);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), 1);
  h_abort(e, h_u64(e, TKMS_F_TXID));
  h_snap_same(e, &before);
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), 0);
  h_status(e);
  assert_int_equal(h_u32(e, TKMS_F_STATE), TKMS_STATE_UNINITIALISED);
  assert_int_equal(h_u64(e, TKMS_F_COUNTER), 0);

  /* nothing was committed (K = 0), so INIT may run again; its genesis manifest
   * gets the next P and COMMIT sets K to it */
  /* INIT + COMMIT */
  h_begin(&w, TKMS_OP_INIT);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  uint8_t salt[32], id[20];
  h_fixed(e, TKMS_F_DEPLOY_SALT, salt, 32);
  h_fixed(e, TKMS_F_IDENTITY, id, 20);
  assert_int_equal(tkms_frame_count(&e->rf, TKMS_F_DMK), 1);
  assert_int_equal(tkms_frame_count(&e->rf, TKMS_F_MANIFEST), 1);
  /* the one record of a genesis: the governance record (none given: development) */
  assert_int_equal(tkms_frame_count(&e->rf, TKMS_F_PUT), 1);
  {
    const uint8_t *put;
    size_t put_len;
    assert_int_equal(tkms_frame_get(&e->rf, TKMS_F_PUT, &put, &put_len), 0);
    assert_int_equal(put[0], TKMS_REC_GOV);
  }
  h_commit(e);
  h_read_deployment(e);
  assert_int_equal(h_u32(e, TKMS_F_STATE), TKMS_STATE_READY);
  assert_int_equal(h_u64(e, TKMS_F_COUNTER), 2);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), 2);
  assert_memory_equal(e->salt, salt, 32);
  assert_memory_equal(e->identity, id, 20);

  /* INIT once only */
  h_snap_take(e, &before);
  h_begin(&w, TKMS_OP_INIT);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);

  /* a restart reloads the same deployment */
  assert_int_equal(h_restart(e), TKMS_OK);
  uint8_t salt2[32];
  h_status(e);
  h_fixed(e, TKMS_F_DEPLOY_SALT, salt2, 32);
  assert_memory_equal(salt, salt2, 32);
  assert_int_equal(h_u64(e, TKMS_F_COUNTER), 2);

  /* a core started without --init never creates a deployment */
  h_close_core(e);
  assert_int_equal(h_open_core(e, 0, err, sizeof err), 0);
  h_snap_take(e, &before);
  h_begin(&w, TKMS_OP_INIT);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "--init"));

  /* --init over a data directory whose counter has moved (a host pointed at the
   * wrong, empty database) does not create a second deployment either */
  h_close_core(e);
  assert_int_equal(h_open_core(e, 1, err, sizeof err), 0);
  h_snap_take(e, &before);
  h_begin(&w, TKMS_OP_INIT);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "already holds a deployment"));
  assert_int_equal(h_load(e), TKMS_OK); /* the real database still loads */
  h_teardown(e);
}

static void test_restart_keeps_keys(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k1[16], k2[16], pub[33], addr[20];
  h_create(e, &owner, "secp256k1", k1, pub);
  h_create(e, &owner, "ed25519", k2, NULL);
  assert_int_equal(tkms_eth_address_from_pub33(pub, addr), 0);
  assert_int_equal(h_restart(e), TKMS_OK);
  uint8_t d[32] = {1}, sig[65], got[20];
  tkms_fw w;
  h_req_sign(e, &w, k1, "digest", d, 32);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_SIGNATURE, sig, 65);
  assert_int_equal(tkms_secp_recover(d, sig, got), TKMS_SECP_OK);
  assert_memory_equal(got, addr, 20);
  h_status(e);
  assert_int_equal(h_u64(e, TKMS_F_COUNTER), 3);
}

/* "Restore an old copy of the database to bring back a destroyed key." */
static void test_rollback_refused(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k[16], d[32] = {1};
  h_create(e, &owner, "secp256k1", k, NULL);
  h_backup *old = h_backup_take(e);
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  h_backup *latest = h_backup_take(e);

  h_backup_restore(e, old);
  assert_int_equal(h_restart(e), TKMS_E_ROLLBACK);
  assert_non_null(strstr(e->err, "rollback"));
  assert_non_null(strstr(e->err, "old copy of the database"));
  /* nothing was loaded: the destroyed key cannot sign */
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  assert_null(e->core->sec);
  h_req_sign(e, &w, k, "digest", d, 32);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_E_NOT_READY);
  assert_false(h_has(e, TKMS_F_SIGNATURE));

  h_backup_restore(e, latest);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, k, 16));
}

/* The counter file replaced by an older one: the stored manifest is then one
 * this core (as far as its counters know) never issued. */
static void test_counter_behind(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  h_create(e, &owner, "secp256k1", k, NULL);
  h_close_core(e);
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/sim-counter", e->dir);
  uint8_t zero[32] = {0}; /* P = 0 and K = 0, each with its complement */
  memset(zero + 8, 0xff, 8);
  memset(zero + 24, 0xff, 8);
  FILE *f = fopen(p, "wb");
  assert_int_equal(fwrite(zero, 1, 32, f), 32);
  fclose(f);
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  assert_non_null(strstr(e->err, "never issued"));
  assert_non_null(strstr(e->err, "counter is behind"));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
}

/* A garbled or old-format (16-byte) counter file stops the core with a clear
 * error instead of being read as some number. */
static void test_counter_file_garbled(void **state) {
  h_env *e = *state;
  h_close_core(e);
  char p[PATH_MAX + 32], err[512];
  snprintf(p, sizeof p, "%s/sim-counter", e->dir);
  uint8_t b[32];
  FILE *f = fopen(p, "r+b");
  assert_non_null(f);
  assert_int_equal(fread(b, 1, 32, f), 32);
  b[16 + 7] ^= 1; /* K's value no longer matches its complement */
  rewind(f);
  assert_int_equal(fwrite(b, 1, 32, f), 32);
  fclose(f);
  assert_int_equal(h_open_core(e, 0, err, sizeof err), -1);
  assert_non_null(strstr(err, "sim-counter is corrupt"));
  assert_int_equal(truncate(p, 16), 0);
  assert_int_equal(h_open_core(e, 0, err, sizeof err), -1);
  assert_non_null(strstr(err, "sim-counter is corrupt"));
  assert_null(e->core);
}

/* The host stored a commit but the core died before advancing the counter. */
static void test_crash_windows(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  uint64_t k0 = h_counter(e, TKMS_COUNTER_COMMITTED);

  /* prepared, never stored: the restart sees the old state */
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_non_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, k, 16));

  /* prepared and stored, core gone before COMMIT: manifest = counter + 1 */
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_store_apply(e);
  uint64_t p1 = h_counter(e, TKMS_COUNTER_PREPARED);
  assert_int_equal(p1, k0 + 2); /* the first, dropped prepare burned k0 + 1 */
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), k0);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, k, 16));
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), p1); /* caught up at LOAD_END */
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), p1);
  uint8_t k2[16];
  h_create(e, &owner, "ed25519", k2, NULL);
  assert_int_equal(h_restart(e), TKMS_OK);
}

static int fail_advance(void *ctx, unsigned idx, uint64_t v) {
  (void)ctx;
  (void)idx;
  (void)v;
  return -1;
}

/* If the counter cannot advance at COMMIT, the core stops (fail-stop); the host
 * has the new state durably and a restart loads it. */
static void test_counter_failure_stops_core(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k[16];
  tkms_fw w;
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_KEY_ID, k, 16);
  uint64_t txid = h_u64(e, TKMS_F_TXID);
  h_store_apply(e);
  int (*saved)(void *, unsigned, uint64_t) = h_ops.counter_advance;
  h_ops.counter_advance = fail_advance;
  h_begin(&w, TKMS_OP_COMMIT);
  tkms_fw_u64(&w, TKMS_F_TXID, txid);
  assert_int_equal(h_call(e, &w), TKMS_E_INTERNAL);
  assert_non_null(strstr(e->err, "restart"));
  h_ops.counter_advance = saved;
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, k, 16));
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_E_INTERNAL);
  assert_false(h_has(e, TKMS_F_TXID));
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_non_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, k, 16));
}

/* Prepares a create as owner; returns the store as the host would have it had
 * it written the prepared change (A's records + A's manifest), while e's store
 * stays without A. The transaction stays pending on e's socket. */
static h_backup *prepare_create_keep(h_env *e, const h_signer *owner, uint8_t key_id[16],
                                     uint64_t *txid) {
  tkms_fw w;
  h_req_create(e, &w, owner->text, "secp256k1");
  h_sign(e, &w, owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_KEY_ID, key_id, 16);
  *txid = h_u64(e, TKMS_F_TXID);
  h_backup *without = h_backup_take(e);
  h_store_apply(e);
  h_backup *with = h_backup_take(e);
  h_backup_restore(e, without);
  return with;
}

static void destroy_key(h_env *e, const h_signer *owner, const uint8_t key_id[16]) {
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &w, owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
}

/* Loading the kept state must be refused and leave nothing loaded; the real
 * latest state still loads, without the destroyed key. */
static void expect_resurrection_refused(h_env *e, h_backup *kept, const uint8_t victim[16],
                                        const uint8_t a_key[16]) {
  h_backup *latest = h_backup_take(e);
  h_backup_restore(e, kept);
  assert_int_equal(h_restart(e), TKMS_E_ROLLBACK);
  assert_non_null(strstr(e->err, "rollback"));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  assert_null(e->core->sec);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, victim, 16));
  h_backup_restore(e, latest);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, victim, 16));
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, a_key, 16));
}

/* The attack two counters stop: the host keeps a prepared change A that was
 * ABORTed, lets a destroy B commit (acknowledged to the client), then loads A's
 * state. With one counter A and B carried the same manifest value, A's state
 * loaded and the destroyed key came back. */
static void test_aborted_prepare_cannot_resurrect(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t victim[16], a_key[16];
  h_create(e, &owner, "secp256k1", victim, NULL);
  uint64_t k0 = h_counter(e, TKMS_COUNTER_COMMITTED), txid;
  h_backup *kept = prepare_create_keep(e, &owner, a_key, &txid);
  h_abort(e, txid);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), k0 + 1); /* A's value, burned */
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), k0);
  destroy_key(e, &owner, victim);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), k0 + 2); /* B never reuses it */
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), k0 + 2);
  expect_resurrection_refused(e, kept, victim, a_key);
}

/* The same with the core killed before COMMIT (no ABORT ever sent): the core
 * restarts over the store without A, B commits, then A's state is offered. */
static void test_dropped_prepare_cannot_resurrect(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t victim[16], a_key[16];
  h_create(e, &owner, "secp256k1", victim, NULL);
  uint64_t txid;
  h_backup *kept = prepare_create_keep(e, &owner, a_key, &txid);
  assert_int_equal(h_restart(e), TKMS_OK); /* K <= m (store without A) <= P */
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, a_key, 16));
  destroy_key(e, &owner, victim);
  expect_resurrection_refused(e, kept, victim, a_key);
}

static void write_counters(h_env *e, uint64_t p, uint64_t k) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/sim-counter", e->dir);
  uint8_t b[32];
  uint64_t v[2] = {p, k};
  for (int c = 0; c < 2; c++) {
    for (int i = 0; i < 8; i++) {
      b[16 * c + i] = (uint8_t)(v[c] >> (56 - 8 * i));
      b[16 * c + 8 + i] = (uint8_t)~b[16 * c + i];
    }
  }
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, 32, f), 32);
  fclose(f);
}

/* LOAD_END accepts m iff K <= m <= P, and catches K up to m. */
static void test_load_window(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k1[16], k2[16];
  h_create(e, &owner, "secp256k1", k1, NULL);
  h_backup *old = h_backup_take(e);
  uint64_t m_old = h_counter(e, TKMS_COUNTER_COMMITTED);

  /* m == K < P: a later prepare was aborted; the committed state loads, K stays */
  uint64_t txid;
  h_backup *kept = prepare_create_keep(e, &owner, k2, &txid);
  h_abort(e, txid);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), m_old);
  assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), m_old + 1);

  /* K < m <= P: the host committed A to storage but the core died before
   * COMMIT (here: it was even aborted afterwards; nothing was acknowledged
   * since, so A's state is as good as any). Loads, and K catches up. */
  h_backup *committed = h_backup_take(e);
  h_backup_restore(e, kept);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_non_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, k2, 16));
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), m_old + 1);
  /* ... after which the state at K = m_old is a rollback */
  h_backup_restore(e, committed);
  assert_int_equal(h_restart(e), TKMS_E_ROLLBACK);

  /* m < K: the message says rollback and names both values */
  h_backup_restore(e, old);
  assert_int_equal(h_restart(e), TKMS_E_ROLLBACK);
  assert_non_null(strstr(e->err, "rollback refused"));
  char want[96];
  snprintf(want, sizeof want, "manifest %llu", (unsigned long long)m_old);
  assert_non_null(strstr(e->err, want));

  /* m > P: a manifest never issued (counters behind the store by one) */
  h_close_core(e);
  write_counters(e, m_old - 1, m_old - 1);
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  assert_non_null(strstr(e->err, "never issued"));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  h_close_core(e);
  write_counters(e, m_old, m_old);
  assert_int_equal(h_restart(e), TKMS_OK);
}

/* If P cannot advance at prepare, no manifest leaves the core and nothing is
 * pending; the core keeps serving once the counter works again. */
static void test_prepare_failure_burns_nothing(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  h_snap before;
  h_snap_take(e, &before);
  int (*saved)(void *, unsigned, uint64_t) = h_ops.counter_advance;
  h_ops.counter_advance = fail_advance;
  tkms_fw w;
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_INTERNAL, &before);
  assert_non_null(strstr(e->err, "prepared counter"));
  h_ops.counter_advance = saved;
  uint8_t k[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  assert_int_equal(h_counter(e, TKMS_COUNTER_COMMITTED), before.counter + 1);
}

/* Records missing, added, swapped for an older version, or a bad manifest. */
static void test_tampering(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k1[16], k2[16];
  h_create(e, &owner, "secp256k1", k1, NULL);
  h_create(e, &owner, "secp256k1", k2, NULL);
  h_rec *r1 = h_store_find(e, TKMS_REC_KEY, k1, 16);
  h_rec v1 = *r1;
  v1.blob = malloc(r1->blob_len);
  memcpy(v1.blob, r1->blob, r1->blob_len);
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, k1);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);

  /* a record missing */
  h_rec saved = e->recs[--e->n_recs];
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  assert_non_null(strstr(e->err, "do not match the manifest"));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  e->recs[e->n_recs++] = saved;
  assert_int_equal(h_restart(e), TKMS_OK);

  /* an extra, validly sealed record (a key destroyed since) */
  h_backup *before_destroy = h_backup_take(e);
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k2);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  h_rec *gone = NULL;
  for (size_t i = 0; i < before_destroy->n_recs; i++) {
    h_rec *r = &before_destroy->recs[i];
    if (r->type == TKMS_REC_KEY && memcmp(r->id, k2, 16) == 0) gone = r;
  }
  assert_non_null(gone);
  e->recs[e->n_recs] = *gone;
  e->recs[e->n_recs].blob = malloc(gone->blob_len);
  memcpy(e->recs[e->n_recs].blob, gone->blob, gone->blob_len);
  e->n_recs++;
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  h_store_del(e, TKMS_REC_KEY, k2, 16);
  for (size_t i = 0; i < before_destroy->n_recs; i++) free(before_destroy->recs[i].blob);
  free(before_destroy);
  assert_int_equal(h_restart(e), TKMS_OK);

  /* the previous version of a rotated key in place of the current one */
  r1 = h_store_find(e, TKMS_REC_KEY, k1, 16);
  h_rec cur = *r1;
  *r1 = v1;
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  *r1 = cur;
  free(v1.blob);
  assert_int_equal(h_restart(e), TKMS_OK);

  /* a garbled manifest, or one from another deployment */
  e->manifest[30] ^= 1;
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  assert_non_null(strstr(e->err, "manifest does not open"));
  e->manifest[30] ^= 1;
  /* a record listed twice */
  e->recs[e->n_recs] = e->recs[0];
  e->recs[e->n_recs].blob = malloc(e->recs[0].blob_len);
  memcpy(e->recs[e->n_recs].blob, e->recs[0].blob, e->recs[0].blob_len);
  e->n_recs++;
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  free(e->recs[--e->n_recs].blob);
  assert_int_equal(h_restart(e), TKMS_OK);
}

/* Another core build (another measurement) cannot unseal, and says why. */
static void test_unseal_other_build(void **state) {
  h_env *e = *state;
  /* "copy the binary and append a byte" */
  char other[PATH_MAX + 32];
  snprintf(other, sizeof other, "%s/other-build", e->dir);
  FILE *in = fopen("/proc/self/exe", "rb"), *out = fopen(other, "wb");
  assert_non_null(in);
  assert_non_null(out);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
  fputc(0, out);
  fclose(in);
  fclose(out);
  e->exe = other;
  assert_int_equal(h_restart(e), TKMS_E_UNSEAL);
  assert_non_null(strstr(e->err, "cannot unseal the deployment master key"));
  assert_non_null(strstr(e->err, "different core build"));
  uint8_t m[32];
  char mhex[67];
  char merr[256];
  assert_int_equal(tkms_platform_measure_self(other, m, NULL, 0, NULL, merr, sizeof merr), 0);
  h_hex(m, 32, mhex);
  assert_non_null(strstr(e->err, mhex));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  assert_null(e->core->sec);
  /* the original build still can */
  e->exe = NULL;
  assert_int_equal(h_restart(e), TKMS_OK);
  unlink(other);

  /* the seal key depends on the measurement and on the root secret */
  uint8_t root[32] = {1}, m1[32] = {2}, m2[32] = {3}, k1[32], k2[32], k3[32];
  assert_int_equal(tkms_sim_derive_seal_key(root, m1, k1), 0);
  assert_int_equal(tkms_sim_derive_seal_key(root, m2, k2), 0);
  root[0] ^= 1;
  assert_int_equal(tkms_sim_derive_seal_key(root, m1, k3), 0);
  assert_memory_not_equal(k1, k2, 32);
  assert_memory_not_equal(k1, k3, 32);
}

/* A different root secret (another machine, or a regenerated file) cannot unseal. */
static void test_unseal_other_root(void **state) {
  h_env *e = *state;
  h_close_core(e);
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/sim-root.key", e->dir);
  int fd = open(p, O_WRONLY | O_TRUNC);
  assert_true(fd >= 0);
  uint8_t other[32] = {7};
  assert_int_equal(write(fd, other, 32), 32);
  close(fd);
  assert_int_equal(h_restart(e), TKMS_E_UNSEAL);
  assert_non_null(strstr(e->err, "root secret"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_and_status),
      cmocka_unit_test_setup_teardown(test_restart_keeps_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rollback_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_behind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_file_garbled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_aborted_prepare_cannot_resurrect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dropped_prepare_cannot_resurrect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_window, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prepare_failure_burns_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_crash_windows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_failure_stops_core, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unseal_other_build, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unseal_other_root, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
