/* tests/unit/test_core_sessions.c — delegation to session keys: scope, expiry,
 * revocation, and every refusal. */
#include "test_core_harness.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

/* OpenSession request: ops is a NULL-terminated list, keys n ids. */
static void req_open(h_env *e, tkms_fw *w, const char *owner, const char *skey,
                     const char *const *ops, const uint8_t (*keys)[16], size_t n_keys,
                     uint64_t expiry) {
  h_begin(w, TKMS_OP_SESSION_OPEN);
  tkms_fw_str(w, TKMS_F_OWNER, owner);
  tkms_fw_str(w, TKMS_F_SESSION_KEY, skey);
  for (size_t i = 0; ops[i] != NULL; i++) tkms_fw_str(w, TKMS_F_SCOPE_OP, ops[i]);
  for (size_t i = 0; i < n_keys; i++) tkms_fw_bytes(w, TKMS_F_SCOPE_KEY, keys[i], 16);
  tkms_fw_u64(w, TKMS_F_EXPIRY, expiry);
  h_envelope(e, w, NULL, h_now + 60);
}

static void open_session(h_env *e, const h_signer *owner, const h_signer *skey,
                         const char *const *ops, const uint8_t (*keys)[16], size_t n_keys,
                         uint64_t expiry, uint8_t sid[16]) {
  tkms_fw w;
  req_open(e, &w, owner->text, skey->text, ops, keys, n_keys, expiry);
  h_sign(e, &w, owner, NULL);
  if (h_call(e, &w) != TKMS_OK) fail_msg("open refused: %s", e->err);
  h_fixed(e, TKMS_F_SESSION_ID, sid, 16);
  char own[TKMS_MAX_PRINCIPAL + 1];
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_OWNER, own, TKMS_MAX_PRINCIPAL), 0);
  assert_string_equal(own, owner->text);
  h_commit(e);
}

static int sign_via(h_env *e, const uint8_t key_id[16], const h_signer *signer,
                    const uint8_t *sid) {
  uint8_t d[32] = {3};
  tkms_fw w;
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sign(e, &w, signer, sid);
  return h_call(e, &w);
}

static void test_session_scope(void **state) {
  h_env *e = *state;
  h_signer owner, other, skey, stranger;
  h_signer_eoa(&owner, 1);
  h_signer_eoa(&other, 2);
  h_signer_ed(&skey, 3);
  h_signer_ed(&stranger, 4);
  uint8_t k1[16], k2[16], k3[16], sid[16];
  h_create(e, &owner, "secp256k1", k1, NULL);
  h_create(e, &owner, "secp256k1", k2, NULL);
  h_create(e, &other, "secp256k1", k3, NULL);
  static const char *const sign_only[] = {"sign", NULL};
  uint8_t keys[1][16];
  memcpy(keys[0], k1, 16);
  open_session(e, &owner, &skey, sign_only, (const uint8_t(*)[16])keys, 1, h_now + 3600, sid);

  /* in scope: the session key signs for k1 */
  assert_int_equal(sign_via(e, k1, &skey, sid), TKMS_OK);
  assert_true(h_has(e, TKMS_F_SIGNATURE));

  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;
  uint8_t d[32] = {3};
  /* another key of the same owner, not listed */
  h_req_sign(e, &w, k2, "digest", d, 32);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* another owner's key */
  h_req_sign(e, &w, k3, "digest", d, 32);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* an op the session does not have */
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, k1);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k1);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* signed by someone other than the session key */
  h_req_sign(e, &w, k1, "digest", d, 32);
  h_sign(e, &w, &stranger, sid);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  /* the owner's own signature with the session id is not the session key's */
  h_req_sign(e, &w, k1, "digest", d, 32);
  h_sign(e, &w, &owner, sid);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  /* a session cannot open sessions */
  static const char *const all[] = {"create", "sign", "rotate", "destroy", NULL};
  req_open(e, &w, owner.text, stranger.text, all, NULL, 0, h_now + 60);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* a session limited to listed keys may not create keys, even with "create" */
  static const char *const sign_create[] = {"sign", "create", NULL};
  uint8_t sid2[16];
  open_session(e, &owner, &skey, sign_create, (const uint8_t(*)[16])keys, 1, h_now + 3600, sid2);
  h_snap_take(e, &before);
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &skey, sid2);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  assert_non_null(strstr(e->err, "limited to listed keys cannot create"));
  assert_int_equal(sign_via(e, k1, &skey, sid2), TKMS_OK);
  /* unknown session */
  uint8_t nosid[16] = {0xee};
  h_req_sign(e, &w, k1, "digest", d, 32);
  h_sign(e, &w, &skey, nosid);
  h_refused(e, &w, TKMS_E_SESSION_UNKNOWN, &before);
}

static void test_session_all_keys_and_create(void **state) {
  h_env *e = *state;
  h_signer owner, other, skey;
  h_signer_ed(&owner, 1);
  h_signer_eoa(&other, 2);
  h_signer_eoa(&skey, 3); /* an EOA session key: wrong signers are WRONG_SIGNER */
  uint8_t sid[16], k[16];
  static const char *const ops[] = {"create", "sign", "rotate", "destroy", NULL};
  open_session(e, &owner, &skey, ops, NULL, 0, h_now + TKMS_MAX_SESSION_TTL, sid);

  /* create for the owner via the session, then use every op on it */
  tkms_fw w;
  h_req_create(e, &w, owner.text, "ed25519");
  h_sign(e, &w, &skey, sid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_KEY_ID, k, 16);
  h_commit(e);
  uint8_t msg[4] = {1, 2, 3, 4};
  h_req_sign(e, &w, k, "message", msg, 4);
  h_sign(e, &w, &skey, sid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, k);
  h_sign(e, &w, &skey, sid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);

  h_snap before;
  h_snap_take(e, &before);
  /* create for someone else */
  h_req_create(e, &w, other.text, "ed25519");
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* someone else's signature where the session key's is expected */
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k);
  h_sign(e, &w, &other, sid);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);

  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, k);
  h_sign(e, &w, &skey, sid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_false(h_has(e, TKMS_F_RECEIPT_SIG));
  h_commit(e);
  assert_true(h_has(e, TKMS_F_RECEIPT_SIG));
}

static void test_session_expiry(void **state) {
  h_env *e = *state;
  h_signer owner, skey;
  h_signer_eoa(&owner, 1);
  h_signer_ed(&skey, 3);
  uint8_t k[16], sid[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  static const char *const ops[] = {"sign", NULL};
  open_session(e, &owner, &skey, ops, NULL, 0, h_now + 100, sid);
  h_now += 100; /* expiry itself is still valid */
  assert_int_equal(sign_via(e, k, &skey, sid), TKMS_OK);
  h_now += 1;
  h_snap before;
  h_snap_take(e, &before);
  uint8_t d[32] = {3};
  tkms_fw w;
  h_req_sign(e, &w, k, "digest", d, 32);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SESSION_EXPIRED, &before);

  /* later mutations prune expired sessions (and the store follows) */
  for (int i = 0; i < 64 && tkms_index_count(&e->core->index, TKMS_REC_SESSION) > 0; i++) {
    uint8_t k2[16];
    h_create(e, &owner, "ed25519", k2, NULL);
  }
  assert_int_equal(tkms_index_count(&e->core->index, TKMS_REC_SESSION), 0);
  assert_null(h_store_find(e, TKMS_REC_SESSION, sid, 16));
  assert_int_equal(h_restart(e), TKMS_OK);
}

static void req_revoke(h_env *e, tkms_fw *w, const uint8_t target[16], const h_signer *signer,
                       const uint8_t *sid) {
  h_begin(w, TKMS_OP_SESSION_REVOKE);
  tkms_fw_bytes(w, TKMS_F_TARGET_SESSION, target, 16);
  h_envelope(e, w, NULL, h_now + 60);
  h_sign(e, w, signer, sid);
}

static int revoke_session(h_env *e, const uint8_t target[16], const h_signer *signer,
                          const uint8_t *sid) {
  tkms_fw w;
  req_revoke(e, &w, target, signer, sid);
  return h_call(e, &w);
}

static void test_session_revoke(void **state) {
  h_env *e = *state;
  h_signer owner, skey, skey2, other;
  h_signer_eoa(&owner, 1);
  h_signer_eoa(&other, 9);
  h_signer_ed(&skey, 3);
  h_signer_ed(&skey2, 4);
  uint8_t k[16], s1[16], s2[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  static const char *const ops[] = {"sign", NULL};
  open_session(e, &owner, &skey, ops, NULL, 0, h_now + 3600, s1);
  open_session(e, &owner, &skey2, ops, NULL, 0, h_now + 3600, s2);

  h_snap before;
  h_snap_take(e, &before);
  /* a session may revoke only itself; a stranger not at all */
  assert_int_equal(revoke_session(e, s2, &skey, s1), TKMS_E_SCOPE);
  h_snap_same(e, &before);
  assert_int_equal(revoke_session(e, s2, &other, NULL), TKMS_E_WRONG_SIGNER);
  h_snap_same(e, &before);

  /* revoked by the owner: the session is unknown from then on */
  assert_int_equal(revoke_session(e, s1, &owner, NULL), TKMS_OK);
  h_commit(e);
  assert_int_equal(sign_via(e, k, &skey, s1), TKMS_E_SESSION_UNKNOWN);
  assert_false(h_has(e, TKMS_F_SIGNATURE));
  /* revoked by itself */
  assert_int_equal(sign_via(e, k, &skey2, s2), TKMS_OK);
  assert_int_equal(revoke_session(e, s2, &skey2, s2), TKMS_OK);
  h_commit(e);
  assert_int_equal(sign_via(e, k, &skey2, s2), TKMS_E_SESSION_UNKNOWN);
  /* revoking twice: unknown */
  h_snap_take(e, &before);
  assert_int_equal(revoke_session(e, s2, &owner, NULL), TKMS_E_SESSION_UNKNOWN);
  h_snap_same(e, &before);
  /* and it stays revoked across a restart */
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_int_equal(sign_via(e, k, &skey, s1), TKMS_E_SESSION_UNKNOWN);
}

/* A replayed RevokeSession is a replay even though the session is gone now,
 * whether the owner or the session itself signed it. */
static void test_session_revoke_replay(void **state) {
  h_env *e = *state;
  h_signer owner, skey;
  h_signer_eoa(&owner, 1);
  h_signer_ed(&skey, 3);
  static const char *const ops[] = {"sign", NULL};
  for (int self = 0; self < 2; self++) {
    uint8_t sid[16];
    open_session(e, &owner, &skey, ops, NULL, 0, h_now + 3600, sid);
    tkms_fw w;
    req_revoke(e, &w, sid, self ? &skey : &owner, self ? sid : NULL);
    assert_int_equal(tkms_fw_finish(&w), 0);
    size_t len = w.len;
    uint8_t *copy = malloc(len);
    memcpy(copy, w.buf, len);
    assert_int_equal(h_call(e, &w), TKMS_OK);
    h_commit(e);
    h_snap before;
    h_snap_take(e, &before);
    tkms_fw again = {.buf = malloc(len), .len = len, .cap = len};
    memcpy(again.buf, copy, len);
    h_refused(e, &again, TKMS_E_REPLAY, &before);
    assert_null(strstr(e->err, "F_"));
    assert_int_equal(h_restart(e), TKMS_OK);
    h_snap_take(e, &before);
    again = (tkms_fw){.buf = copy, .len = len, .cap = len};
    h_refused(e, &again, TKMS_E_REPLAY, &before);
    /* a fresh revoke of the gone session: unknown */
    req_revoke(e, &w, sid, &owner, NULL);
    h_refused(e, &w, TKMS_E_SESSION_UNKNOWN, &before);
  }
}

/* A refusal's message names the API's JSON field, never a frame tag. */
static void api_message(h_env *e, const char *field) {
  if (strstr(e->err, field) == NULL || strstr(e->err, "F_") != NULL)
    fail_msg("message \"%s\" should name %s and no frame field", e->err, field);
}

static void test_session_open_refusals(void **state) {
  h_env *e = *state;
  h_signer owner, skey, other;
  h_signer_eoa(&owner, 1);
  h_signer_eoa(&other, 2);
  h_signer_ed(&skey, 3);
  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;
  static const char *const sign_only[] = {"sign", NULL};
  static const char *const bad_op[] = {"sign", "export", NULL};
  static const char *const dup_op[] = {"sign", "sign", NULL};
  static const char *const no_op[] = {NULL};
  static const uint8_t junk[65] = {1};

  req_open(e, &w, owner.text, skey.text, sign_only, NULL, 0, h_now + TKMS_MAX_SESSION_TTL + 1);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "expiry");
  req_open(e, &w, owner.text, skey.text, sign_only, NULL, 0, h_now);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "expiry");
  req_open(e, &w, owner.text, skey.text, bad_op, NULL, 0, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "operations");
  req_open(e, &w, owner.text, skey.text, dup_op, NULL, 0, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "operations");
  req_open(e, &w, owner.text, skey.text, no_op, NULL, 0, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, junk, 65);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  req_open(e, &w, owner.text, "ed25519:0x1234", sign_only, NULL, 0, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "session_key");
  /* too many keys in scope */
  uint8_t(*keys)[16] = calloc(TKMS_MAX_SCOPE_KEYS + 1, 16);
  for (size_t i = 0; i <= TKMS_MAX_SCOPE_KEYS; i++) keys[i][0] = (uint8_t)i;
  req_open(e, &w, owner.text, skey.text, sign_only, (const uint8_t(*)[16])keys,
           TKMS_MAX_SCOPE_KEYS + 1, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, junk, 65);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "key_ids");
  /* duplicate key ids */
  memcpy(keys[1], keys[0], 16);
  req_open(e, &w, owner.text, skey.text, sign_only, (const uint8_t(*)[16])keys, 2, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  api_message(e, "key_ids");
  /* exactly the maximum is fine */
  req_open(e, &w, owner.text, skey.text, sign_only, (const uint8_t(*)[16])keys + 1,
           TKMS_MAX_SCOPE_KEYS, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_abort(e, h_u64(e, TKMS_F_TXID));
  free(keys);
  /* signed by someone who is not the owner */
  req_open(e, &w, owner.text, skey.text, sign_only, NULL, 0, h_now + 60);
  h_sign(e, &w, &other, NULL);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);
  /* operations are signed in order: reordering them breaks the signature */
  static const char *const two[] = {"sign", "rotate", NULL};
  static const char *const owt[] = {"rotate", "sign", NULL};
  uint8_t sig[65], rid[32] = {4};
  req_open(e, &w, owner.text, skey.text, two, NULL, 0, h_now + 60);
  tkms_fw_free(&w);
  h_begin(&w, TKMS_OP_SESSION_OPEN);
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, skey.text);
  for (int i = 0; two[i]; i++) tkms_fw_str(&w, TKMS_F_SCOPE_OP, two[i]);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
  h_envelope(e, &w, rid, h_now + 60);
  h_sig_for(e->domain, &w, &owner, sig);
  tkms_fw_free(&w);
  h_begin(&w, TKMS_OP_SESSION_OPEN);
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, skey.text);
  for (int i = 0; owt[i]; i++) tkms_fw_str(&w, TKMS_F_SCOPE_OP, owt[i]);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
  h_envelope(e, &w, rid, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_session_scope, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_all_keys_and_create, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_revoke, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_revoke_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_open_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
