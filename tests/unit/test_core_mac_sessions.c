/* tests/unit/test_core_mac_sessions.c — MAC sessions: a client X25519 key as the
 * session key, each request authenticated by HMAC-SHA256 of its EIP-712 digest
 * under a key the client shares with the core (core/sessions.h).
 *
 * The client side here computes the MAC key itself (X25519 and HMAC from
 * libsodium, HKDF written out from RFC 5869), not with the core's functions; the
 * Node test checks it once more against node:crypto. */
#include "test_core_harness.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

/* A MAC session's client: an X25519 key pair and the MAC key it derives. */
typedef struct {
  uint8_t sk[32], pk[32];
  char text[TKMS_MAX_PRINCIPAL + 1];
  uint8_t mac_key[32];
} mac_client;

/* The deployment's session key, as STATUS reports it. */
static void core_x25519(h_env *e, uint8_t pk[32]) {
  h_status(e);
  h_fixed(e, TKMS_F_SESSION_X25519, pk, 32);
}

/* RFC 5869 with L = 32 (one block): PRK = HMAC(salt, IKM); OKM = HMAC(PRK, info || 1). */
static void hkdf32(const uint8_t salt[32], const uint8_t ikm[32], const uint8_t *info,
                   size_t info_len, uint8_t out[32]) {
  uint8_t prk[32], one = 1;
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, salt, 32);
  crypto_auth_hmacsha256_update(&st, ikm, 32);
  crypto_auth_hmacsha256_final(&st, prk);
  crypto_auth_hmacsha256_init(&st, prk, 32);
  crypto_auth_hmacsha256_update(&st, info, info_len);
  crypto_auth_hmacsha256_update(&st, &one, 1);
  crypto_auth_hmacsha256_final(&st, out);
}

static void mac_client_new(h_env *e, mac_client *c, uint8_t seed) {
  memset(c, 0, sizeof *c);
  memset(c->sk, seed, sizeof c->sk);
  assert_int_equal(crypto_scalarmult_base(c->pk, c->sk), 0);
  strcpy(c->text, "x25519:");
  h_hex(c->pk, 32, c->text + 7);
  uint8_t core_pk[32], shared[32], info[19 + 64];
  core_x25519(e, core_pk);
  assert_int_equal(crypto_scalarmult(shared, c->sk, core_pk), 0);
  memcpy(info, "tkms-session-mac-v1", 19);
  memcpy(info + 19, core_pk, 32);
  memcpy(info + 51, c->pk, 32);
  hkdf32(e->salt, shared, info, sizeof info, c->mac_key);
}

/* The 32-byte authenticator of the request built so far in w. */
static void mac_for(h_env *e, tkms_fw *w, const uint8_t mac_key[32], uint8_t mac[32]) {
  assert_int_equal(tkms_fw_finish(w), 0);
  tkms_frame f;
  assert_int_equal(tkms_frame_parse(w->buf + 4, w->len - 4, &f), 0);
  uint8_t sh[32], d[32];
  assert_int_equal(tkms_request_hash_struct(&f, h_rt_of(f.op), sh, NULL), 0);
  tkms_eip712_digest(e->domain, sh, d);
  crypto_auth_hmacsha256(mac, d, 32, mac_key);
}

/* Appends F_SESSION_ID and an authenticator: mac (32 bytes) edited by tweak. */
static void mac_sign(h_env *e, tkms_fw *w, const uint8_t mac_key[32], const uint8_t sid[16],
                     int flip_bit, size_t len) {
  uint8_t mac[65] = {0};
  mac_for(e, w, mac_key, mac);
  if (flip_bit >= 0) mac[flip_bit / 8] ^= (uint8_t)(1u << (flip_bit % 8));
  tkms_fw_bytes(w, TKMS_F_SESSION_ID, sid, 16);
  tkms_fw_bytes(w, TKMS_F_AUTH_SIG, mac, len);
}

static int req_open_session(h_env *e, const h_signer *owner, const char *skey,
                            const char *const *ops, uint64_t expiry) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_SESSION_OPEN);
  tkms_fw_str(&w, TKMS_F_OWNER, owner->text);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, skey);
  for (size_t i = 0; ops[i] != NULL; i++) tkms_fw_str(&w, TKMS_F_SCOPE_OP, ops[i]);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, expiry);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, owner, NULL);
  return h_call(e, &w);
}

static void open_mac(h_env *e, const h_signer *owner, const mac_client *c, const char *const *ops,
                     uint64_t expiry, uint8_t sid[16]) {
  if (req_open_session(e, owner, c->text, ops, expiry) != TKMS_OK)
    fail_msg("open refused: %s", e->err);
  h_fixed(e, TKMS_F_SESSION_ID, sid, 16);
  h_commit(e);
}

static int mac_sign_digest(h_env *e, const uint8_t key_id[16], const uint8_t mac_key[32],
                           const uint8_t sid[16], int flip_bit, size_t len) {
  uint8_t d[32];
  memset(d, 0x5c, sizeof d);
  tkms_fw w;
  h_req_sign(e, &w, key_id, "digest", d, 32);
  mac_sign(e, &w, mac_key, sid, flip_bit, len);
  return h_call(e, &w);
}

static void test_mac_session_signs(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  mac_client c, other;
  mac_client_new(e, &c, 7);
  mac_client_new(e, &other, 8);
  uint8_t k[16], pub[33], sid[16];
  h_create(e, &owner, "secp256k1", k, pub);
  static const char *const sign_only[] = {"sign", NULL};
  open_mac(e, &owner, &c, sign_only, h_now + 3600, sid);

  /* the MAC verifies, and the key's signature is over the payload */
  assert_int_equal(mac_sign_digest(e, k, c.mac_key, sid, -1, 32), TKMS_OK);
  const uint8_t *sig;
  size_t n;
  assert_int_equal(h_get(e, TKMS_F_SIGNATURE, &sig, &n), 0);
  assert_int_equal(n, 65);
  uint8_t d[32], addr[20], want[20];
  memset(d, 0x5c, sizeof d);
  assert_int_equal(tkms_secp_recover(d, sig, addr), TKMS_SECP_OK);
  assert_int_equal(tkms_eth_address_from_pub33(pub, want), 0);
  assert_memory_equal(addr, want, 20);

  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;
  uint8_t dd[32] = {1};
  /* a flipped bit anywhere: first, middle, last */
  for (int bit = 0; bit < 256; bit += 127) {
    h_req_sign(e, &w, k, "digest", dd, 32);
    mac_sign(e, &w, c.mac_key, sid, bit, 32);
    h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  }
  /* wrong lengths, including an eoa's 65 and an ed25519's 64 */
  static const size_t lens[] = {0, 31, 33, 64, 65};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    h_req_sign(e, &w, k, "digest", dd, 32);
    mac_sign(e, &w, c.mac_key, sid, -1, lens[i]);
    h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
    assert_non_null(strstr(e->err, "a MAC session authenticator is 32 bytes"));
  }
  /* made with another client's MAC key (that client has no session here) */
  h_req_sign(e, &w, k, "digest", dd, 32);
  mac_sign(e, &w, other.mac_key, sid, -1, 32);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  /* a MAC over another request (another payload) */
  {
    tkms_fw w2;
    uint8_t mac[32], d2[32] = {2};
    h_req_sign(e, &w2, k, "digest", d2, 32);
    mac_for(e, &w2, c.mac_key, mac);
    tkms_fw_free(&w2);
    h_req_sign(e, &w, k, "digest", dd, 32);
    tkms_fw_bytes(&w, TKMS_F_SESSION_ID, sid, 16);
    tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, mac, 32);
    h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  }
  /* the scope holds: a sign-only session cannot rotate */
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, k);
  mac_sign(e, &w, c.mac_key, sid, -1, 32);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* the raw MAC key without the session id is nobody's signature */
  h_req_sign(e, &w, k, "digest", dd, 32);
  {
    uint8_t mac[32];
    mac_for(e, &w, c.mac_key, mac);
    tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, mac, 32);
  }
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
}

/* The MAC key is derived again at load: the session signs after a restart,
 * under the same deployment key; then it revokes itself. */
static void test_mac_session_restart_revoke(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_ed(&owner, 1);
  mac_client c;
  mac_client_new(e, &c, 9);
  uint8_t k[16], sid[16], pk1[32], pk2[32];
  h_create(e, &owner, "secp256k1", k, NULL);
  static const char *const ops[] = {"sign", "rotate", NULL};
  open_mac(e, &owner, &c, ops, h_now + 3600, sid);
  core_x25519(e, pk1);
  assert_int_equal(h_restart(e), TKMS_OK);
  core_x25519(e, pk2);
  assert_memory_equal(pk1, pk2, 32);
  assert_int_equal(mac_sign_digest(e, k, c.mac_key, sid, -1, 32), TKMS_OK);
  assert_true(h_has(e, TKMS_F_SIGNATURE));
  /* a mutation through the MAC session */
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, k);
  mac_sign(e, &w, c.mac_key, sid, -1, 32);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  /* an aborted open leaves nothing behind (its key is freed with the tx) */
  static const char *const sign_only[] = {"sign", NULL};
  mac_client c2;
  mac_client_new(e, &c2, 10);
  assert_int_equal(req_open_session(e, &owner, c2.text, sign_only, h_now + 60), TKMS_OK);
  h_abort(e, h_u64(e, TKMS_F_TXID));
  /* revoked by itself */
  h_begin(&w, TKMS_OP_SESSION_REVOKE);
  tkms_fw_bytes(&w, TKMS_F_TARGET_SESSION, sid, 16);
  h_envelope(e, &w, NULL, h_now + 60);
  mac_sign(e, &w, c.mac_key, sid, -1, 32);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  assert_int_equal(mac_sign_digest(e, k, c.mac_key, sid, -1, 32), TKMS_E_SESSION_UNKNOWN);
  assert_false(h_has(e, TKMS_F_SIGNATURE));
}

static void test_mac_session_expiry(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 2);
  mac_client c;
  mac_client_new(e, &c, 11);
  uint8_t k[16], sid[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  static const char *const ops[] = {"sign", NULL};
  open_mac(e, &owner, &c, ops, h_now + 100, sid);
  h_now += 101;
  assert_int_equal(mac_sign_digest(e, k, c.mac_key, sid, -1, 32), TKMS_E_SESSION_EXPIRED);
  assert_false(h_has(e, TKMS_F_SIGNATURE));
}

/* Low-order X25519 points give an all-zero shared secret: refused at open. */
static void test_mac_session_low_order(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  static const uint8_t low[][32] = {
      {0}, /* 0 */
      {1}, /* 1 */
      /* a point of order 8 */
      {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
       0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
       0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
      /* p - 1 (order 2) */
      {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
  };
  static const char *const ops[] = {"sign", NULL};
  h_snap before;
  h_snap_take(e, &before);
  for (size_t i = 0; i < sizeof low / sizeof low[0]; i++) {
    char text[80] = "x25519:";
    h_hex(low[i], 32, text + 7);
    uint64_t p0 = h_counter(e, TKMS_COUNTER_PREPARED);
    assert_int_equal(req_open_session(e, &owner, text, ops, h_now + 60), TKMS_E_BAD_REQUEST);
    assert_non_null(strstr(e->err, "low order"));
    assert_false(h_has(e, TKMS_F_TXID));
    h_snap_same(e, &before);
    assert_int_equal(h_counter(e, TKMS_COUNTER_PREPARED), p0);
  }
  /* upper-case hex or a short key is not a session key at all */
  mac_client c;
  mac_client_new(e, &c, 12);
  char upper[80];
  strcpy(upper, c.text);
  for (char *p = upper + 9; *p; p++)
    if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
  assert_int_equal(req_open_session(e, &owner, upper, ops, h_now + 60), TKMS_E_BAD_REQUEST);
  c.text[strlen(c.text) - 2] = 0;
  assert_int_equal(req_open_session(e, &owner, c.text, ops, h_now + 60), TKMS_E_BAD_REQUEST);
  h_snap_same(e, &before);
}

/* x25519: is a session key only; never an owner or a new owner. */
static void test_x25519_is_no_owner(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  mac_client c;
  mac_client_new(e, &c, 13);
  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;
  /* a key owned by an x25519 principal (signed by someone: it fails before) */
  h_req_create(e, &w, c.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  /* a session opened by an x25519 "owner" */
  h_begin(&w, TKMS_OP_SESSION_OPEN);
  tkms_fw_str(&w, TKMS_F_OWNER, c.text);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, c.text);
  tkms_fw_str(&w, TKMS_F_SCOPE_OP, "sign");
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  /* a policy change to an x25519 new owner */
  uint8_t k[16];
  h_create(e, &owner, "secp256k1", k, NULL);
  h_snap_take(e, &before);
  h_begin(&w, TKMS_OP_POLICY_UPDATE);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, k, 16);
  tkms_fw_str(&w, TKMS_F_NEW_OWNER, c.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  /* and the parser says so */
  tkms_principal p;
  assert_int_equal(tkms_principal_parse(c.text, &p), -1);
  assert_int_equal(tkms_principal_parse_session_key(c.text, &p), 0);
  assert_int_equal(p.kind, TKMS_PRINCIPAL_X25519);
  assert_memory_equal(p.id, c.pk, 32);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_mac_session_signs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mac_session_restart_revoke, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mac_session_expiry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mac_session_low_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_x25519_is_no_owner, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
