/* tests/unit/test_core_keys.c — key create/sign/rotate/destroy through the core's
 * ECALL table, and every refusal of a signed request. */
#include "test_core_harness.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

static void sign_digest_and_check(h_env *e, const h_signer *owner, const uint8_t key_id[16],
                                  const uint8_t addr[20]) {
  uint8_t digest[32], sig[65], got[20];
  randombytes_buf(digest, sizeof digest);
  tkms_fw w;
  h_req_sign(e, &w, key_id, "digest", digest, 32);
  h_sign(e, &w, owner, NULL);
  if (h_call(e, &w) != TKMS_OK) fail_msg("sign refused: %s", e->err);
  h_fixed(e, TKMS_F_SIGNATURE, sig, 65);
  assert_int_equal(tkms_secp_recover(digest, sig, got), TKMS_SECP_OK);
  assert_memory_equal(got, addr, 20);
}

static void test_eoa_secp_lifecycle(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);

  /* create: prepared transaction with the key record, the nonce and a manifest */
  tkms_fw w;
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  uint8_t key_id[16], pub[33], addr[20], addr2[20];
  h_fixed(e, TKMS_F_KEY_ID, key_id, 16);
  h_fixed(e, TKMS_F_PUBKEY, pub, 33);
  h_fixed(e, TKMS_F_ADDRESS, addr, 20);
  assert_int_equal(h_u32(e, TKMS_F_VERSION), 1);
  assert_int_equal(h_u64(e, TKMS_F_TIME), h_now);
  assert_int_equal(tkms_frame_count(&e->rf, TKMS_F_PUT), 2); /* key + request id */
  assert_true(h_has(e, TKMS_F_MANIFEST));
  assert_int_equal(tkms_eth_address_from_pub33(pub, addr2), 0);
  assert_memory_equal(addr, addr2, 20);

  /* not usable before COMMIT (another socket sees nothing yet) */
  tkms_conn other;
  tkms_conn_init(&other, e->core);
  uint8_t d[32] = {1};
  h_store_apply(e); /* the host has stored it, but not committed */
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call_on(e, &other, &w), TKMS_E_NOT_FOUND);
  tkms_conn_close(&other);

  /* commit the prepared create (the store already has it) */
  tkms_fw cm;
  h_begin(&cm, TKMS_OP_COMMIT);
  tkms_fw_u64(&cm, TKMS_F_TXID, e->conn.pending->txid);
  assert_int_equal(h_call(e, &cm), TKMS_OK);

  sign_digest_and_check(e, &owner, key_id, addr);

  /* personal_sign */
  const char *msg = "hello tkms";
  uint8_t sig[65], got[20], dg[32];
  h_req_sign(e, &w, key_id, "personal", (const uint8_t *)msg, strlen(msg));
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_u32(e, TKMS_F_VERSION), 1);
  h_fixed(e, TKMS_F_SIGNATURE, sig, 65);
  tkms_eip191_digest(msg, strlen(msg), dg);
  assert_int_equal(tkms_secp_recover(dg, sig, got), TKMS_SECP_OK);
  assert_memory_equal(got, addr, 20);

  /* rotate: a new secret, version 2; the old blob is now stale */
  h_rec *old = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  uint8_t *old_blob = malloc(old->blob_len);
  size_t old_len = old->blob_len;
  memcpy(old_blob, old->blob, old_len);
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, key_id);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_u32(e, TKMS_F_VERSION), 2);
  uint8_t addr_v2[20];
  h_fixed(e, TKMS_F_ADDRESS, addr_v2, 20);
  assert_memory_not_equal(addr, addr_v2, 20);
  h_commit(e);
  sign_digest_and_check(e, &owner, key_id, addr_v2);

  h_snap before;
  h_snap_take(e, &before);
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_BLOB, old_blob, old_len);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_STALE_RECORD, &before);
  free(old_blob);

  /* A request the owner signed for version 1 does not sign with version 2's
   * secret, even with the current blob; a request without a version is malformed. */
  h_rec *cur = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  for (int with_version = 1; with_version >= 0; with_version--) {
    h_begin(&w, TKMS_OP_KEY_SIGN);
    tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
    tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
    tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
    if (with_version) tkms_fw_u32(&w, TKMS_F_VERSION, 1);
    h_envelope(e, &w, NULL, h_now + 60);
    tkms_fw_bytes(&w, TKMS_F_BLOB, cur->blob, cur->blob_len);
    if (with_version) {
      h_sign(e, &w, &owner, NULL);
      h_refused(e, &w, TKMS_E_WRONG_VERSION, &before);
      assert_non_null(strstr(e->err, "signed for version 1; the key is at version 2"));
    } else {
      tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, d, 32);
      h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
      assert_non_null(strstr(e->err, "version"));
    }
  }

  /* destroy: a receipt signed by the deployment identity */
  h_rec *last = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  uint8_t *last_blob = malloc(last->blob_len);
  size_t last_len = last->blob_len;
  memcpy(last_blob, last->blob, last_len);
  uint8_t rid[32];
  /* A prepared destroy carries no receipt, and an aborted one never gets one:
   * otherwise a host could hold a valid receipt for a key that lives on. */
  randombytes_buf(rid, sizeof rid);
  h_begin(&w, TKMS_OP_KEY_DESTROY);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  h_envelope(e, &w, rid, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_false(h_has(e, TKMS_F_RECEIPT_SIG));
  h_abort(e, h_u64(e, TKMS_F_TXID));
  assert_false(h_has(e, TKMS_F_RECEIPT_SIG));
  assert_non_null(h_store_find(e, TKMS_REC_KEY, key_id, 16));

  randombytes_buf(rid, sizeof rid);
  h_begin(&w, TKMS_OP_KEY_DESTROY);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  h_envelope(e, &w, rid, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_false(h_has(e, TKMS_F_RECEIPT_SIG));
  uint8_t rsig[65], kid[16];
  char own[TKMS_MAX_PRINCIPAL + 1];
  h_fixed(e, TKMS_F_KEY_ID, kid, 16);
  assert_memory_equal(kid, key_id, 16);
  assert_int_equal(h_u32(e, TKMS_F_VERSION), 2);
  assert_int_equal(h_u64(e, TKMS_F_TIME), h_now);
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_OWNER, own, TKMS_MAX_PRINCIPAL), 0);
  assert_string_equal(own, owner.text);
  h_commit(e); /* the receipt comes with the COMMIT answer */
  h_fixed(e, TKMS_F_RECEIPT_SIG, rsig, 65);
  tkms_receipt rc = {.owner = owner.text, .version = 2, .destroyed_at = h_now};
  memcpy(rc.key_id, key_id, 16);
  memcpy(rc.request_id, rid, 32);
  tkms_receipt_digest(e->domain, &rc, dg);
  assert_int_equal(tkms_secp_recover(dg, rsig, got), TKMS_SECP_OK);
  assert_memory_equal(got, e->identity, 20);
  assert_null(h_store_find(e, TKMS_REC_KEY, key_id, 16));

  /* gone: even the last valid blob cannot sign */
  h_snap_take(e, &before);
  h_req_sign(e, &w, key_id, "digest", d, 32);
  tkms_fw_bytes(&w, TKMS_F_BLOB, last_blob, last_len);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_NOT_FOUND, &before);
  free(last_blob);
}

static void test_ed25519_owner_and_keys(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_ed(&owner, 7);
  uint8_t key_id[16], pub[32], sig[64];
  h_create(e, &owner, "ed25519", key_id, pub);

  const uint8_t msg[] = "an ed25519 message";
  tkms_fw w;
  h_req_sign(e, &w, key_id, "message", msg, sizeof msg);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_SIGNATURE, sig, 64);
  assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, pub), 0);

  /* modes are per key type */
  h_snap before;
  h_snap_take(e, &before);
  uint8_t d[32] = {0};
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);

  /* an ed25519 owner may also hold secp256k1 keys */
  uint8_t k2[16], pub33[33], addr[20];
  h_create(e, &owner, "secp256k1", k2, pub33);
  assert_int_equal(tkms_eth_address_from_pub33(pub33, addr), 0);
  sign_digest_and_check(e, &owner, k2, addr);
  h_snap_take(e, &before);
  h_req_sign(e, &w, k2, "message", msg, sizeof msg);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);

  /* rotate + destroy signed by the ed25519 owner */
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, key_id);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  uint8_t pub2[32];
  h_fixed(e, TKMS_F_PUBKEY, pub2, 32);
  assert_memory_not_equal(pub, pub2, 32);
  h_commit(e);
  h_req_sign(e, &w, key_id, "message", msg, sizeof msg);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_SIGNATURE, sig, 64);
  assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, pub2), 0);
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);

  /* unknown key types are refused before anything happens */
  h_snap_take(e, &before);
  h_req_create(e, &w, owner.text, "rsa2048");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);
}

/* Every refusal of the authorisation envelope, on create (a mutation) and on sign. */
static void test_refusals(void **state) {
  h_env *e = *state;
  h_signer owner, mallory, edo, edm;
  h_signer_eoa(&owner, 1);
  h_signer_eoa(&mallory, 2);
  h_signer_ed(&edo, 3);
  h_signer_ed(&edm, 4);
  uint8_t key_id[16], d[32] = {9};
  h_create(e, &owner, "secp256k1", key_id, NULL);
  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;
  uint8_t sig[65];

  /* wrong deployment: signed correctly, but for another deployment's salt */
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  uint8_t rid[32] = {1}, other[32] = {2};
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_u64(&w, TKMS_F_DEADLINE, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_DEPLOYMENT, other, 32);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_WRONG_DEPLOYMENT, &before);

  /* expired (deadline 1 s ago) vs. deadline == now still accepted below */
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  h_envelope(e, &w, NULL, h_now - 1);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_EXPIRED, &before);

  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now - 1);
  h_rec *kr = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  tkms_fw_bytes(&w, TKMS_F_BLOB, kr->blob, kr->blob_len);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_EXPIRED, &before);

  /* deadline too far: one second beyond the window */
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  h_envelope(e, &w, NULL, h_now + TKMS_MAX_DEADLINE_WINDOW + 1);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_DEADLINE_TOO_FAR, &before);

  /* bad signatures: wrong length, r = 0, garbage */
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sig_for(e->domain, &w, &owner, sig);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 64);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sig_for(e->domain, &w, &owner, sig);
  memset(sig, 0, 32);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  h_req_sign(e, &w, key_id, "digest", d, 32);
  memset(sig, 0xff, sizeof sig);
  sig[64] = 27;
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);

  /* the high-s twin of a valid signature (same signer, s -> n - s, v flipped) */
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sig_for(e->domain, &w, &owner, sig);
  h_high_s_twin(sig);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_HIGH_S, &before);
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sig_for(e->domain, &w, &owner, sig);
  h_high_s_twin(sig);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_HIGH_S, &before);
  /* v outside {27, 28} */
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sig_for(e->domain, &w, &owner, sig);
  sig[64] -= 27;
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_HIGH_S, &before);

  /* wrong signer: valid signature by someone else (create for owner, sign of owner's key) */
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &mallory, NULL);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sign(e, &w, &mallory, NULL);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &w, &mallory, NULL);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);
  /* a signature over another domain recovers to someone else */
  uint8_t dom2[32];
  tkms_domain_separator(other, dom2);
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, key_id);
  h_sig_for(dom2, &w, &owner, sig);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);
  /* ed25519: another key's signature does not verify */
  h_req_create(e, &w, edo.text, "ed25519");
  h_sign(e, &w, &edm, NULL);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);
  /* an eoa owner's request signed with an ed25519 signature */
  h_req_create(e, &w, owner.text, "ed25519");
  h_sign(e, &w, &edo, NULL);
  h_refused(e, &w, TKMS_E_BAD_SIGNATURE, &before);

  /* a signed field changed after signing */
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now + 60);
  h_sig_for(e->domain, &w, &owner, sig);
  tkms_fw_free(&w);
  uint8_t d2[32] = {10};
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d2, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_BLOB, kr->blob, kr->blob_len);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, sig, 65);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);

  /* a deadline exactly now is still valid */
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now);
  tkms_fw_bytes(&w, TKMS_F_BLOB, kr->blob, kr->blob_len);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
}

static void test_malformed_requests(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t key_id[16], d[32] = {0};
  h_create(e, &owner, "secp256k1", key_id, NULL);
  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;

  /* unknown op, bad status, garbage frame */
  h_begin(&w, 0x7777);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "unknown op"));
  assert_int_equal(tkms_fw_init(&w, TKMS_OP_STATUS, 5, 1), 0);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  uint8_t junk[3] = {9, 9, 9};
  tkms_fw_free(&e->resp);
  assert_int_equal(tkms_core_dispatch(&e->conn, junk, sizeof junk, &e->resp), 0);
  assert_int_equal(tkms_frame_parse(e->resp.buf + 4, e->resp.len - 4, &e->rf), 0);
  assert_int_equal(e->rf.status, TKMS_E_BAD_REQUEST);

  /* missing envelope fields */
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  /* messages name the API's JSON fields, not frame tags: clients read them */
  assert_non_null(strstr(e->err, "request_id"));
  assert_null(strstr(e->err, "F_"));
  h_req_create(e, &w, owner.text, "secp256k1");
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before); /* no F_AUTH_SIG */
  /* owner in a non-canonical spelling */
  char upper[TKMS_MAX_PRINCIPAL + 1];
  strcpy(upper, owner.text);
  for (char *p = upper + 6; *p; p++)
    if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
  h_req_create(e, &w, upper, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_req_create(e, &w, "0x1234", "secp256k1");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "owner must be a principal"));
  assert_null(strstr(e->err, "F_"));
  /* a repeated scalar field */
  h_req_create(e, &w, owner.text, "secp256k1");
  tkms_fw_u64(&w, TKMS_F_DEADLINE, h_now + 1);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, d, 32);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  /* sign: digest mode needs 32 bytes; payload limit; key id size; no blob */
  h_req_sign(e, &w, key_id, "digest", d, 31);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  uint8_t *big = calloc(1, TKMS_MAX_PAYLOAD + 1);
  h_req_sign(e, &w, key_id, "personal", big, TKMS_MAX_PAYLOAD + 1);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, d, 32);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  free(big);
  assert_non_null(strstr(e->err, "payload"));
  assert_null(strstr(e->err, "F_"));
  /* a well-formed mode the service does not offer is unsupported, like an
   * unknown key type; a missing one is a bad request */
  h_req_sign(e, &w, key_id, "sideways", d, 32);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);
  assert_non_null(strstr(e->err, "mode sideways is not supported"));
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, d, 32);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "mode"));
  assert_null(strstr(e->err, "F_"));
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 15);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  tkms_fw_bytes(&w, TKMS_F_BLOB, d, 32);
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, d, 32);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, key_id));
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before); /* no F_BLOB */
  /* an unknown key */
  uint8_t nokey[16] = {1, 2, 3};
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, nokey);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_NOT_FOUND, &before);
  /* a key type the service does not offer */
  h_req_create(e, &w, owner.text, "rsa4096");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);
  assert_null(strstr(e->err, "F_"));
  /* lifecycle ops out of order */
  h_begin(&w, TKMS_OP_INIT);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_begin(&w, TKMS_OP_LOAD_DMK);
  tkms_fw_bytes(&w, TKMS_F_DMK, e->dmk, e->dmk_len);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_begin(&w, TKMS_OP_LOAD_END);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_begin(&w, TKMS_OP_COMMIT);
  tkms_fw_u64(&w, TKMS_F_TXID, 1);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_begin(&w, TKMS_OP_ATTEST);
  tkms_fw_bytes(&w, TKMS_F_NONCE, d, 31);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "nonce"));
  assert_null(strstr(e->err, "F_"));
}

/* A blob moved to another key, or a previous version, is refused before opening. */
static void test_stale_and_moved_blobs(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t a[16], b[16], d[32] = {5};
  h_create(e, &owner, "secp256k1", a, NULL);
  h_create(e, &owner, "secp256k1", b, NULL);
  h_snap before;
  h_snap_take(e, &before);
  h_rec *ra = h_store_find(e, TKMS_REC_KEY, a, 16);
  tkms_fw w;
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, b, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "digest");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, h_key_version(e, b));
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_BLOB, ra->blob, ra->blob_len);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_STALE_RECORD, &before);
  assert_non_null(strstr(e->err, "not the current record"));

  /* At load time a blob moved under another key id does not authenticate. */
  h_rec *rb = h_store_find(e, TKMS_REC_KEY, b, 16);
  uint8_t *save = rb->blob;
  size_t save_len = rb->blob_len;
  rb->blob = malloc(ra->blob_len);
  memcpy(rb->blob, ra->blob, ra->blob_len);
  rb->blob_len = ra->blob_len;
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  assert_non_null(strstr(e->err, "does not authenticate"));
  assert_int_equal(e->core->state, TKMS_STATE_UNINITIALISED);
  free(rb->blob);
  rb->blob = save;
  rb->blob_len = save_len;
  /* the same blob under another version number fails too */
  rb->version = 2;
  assert_int_equal(h_restart(e), TKMS_E_TAMPERED);
  rb->version = 1;
  assert_int_equal(h_restart(e), TKMS_OK);
}

/* Replay: a request id is used once, also after a restart. */
static void test_replay(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t rid[32];
  randombytes_buf(rid, sizeof rid);
  tkms_fw w;
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  h_envelope(e, &w, rid, h_now + 600);
  h_sign(e, &w, &owner, NULL);
  /* keep an exact copy of the signed request to resend */
  assert_int_equal(tkms_fw_finish(&w), 0);
  uint8_t *copy = malloc(w.len);
  size_t copy_len = w.len;
  memcpy(copy, w.buf, w.len);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);

  h_snap before;
  h_snap_take(e, &before);
  tkms_fw again = {.buf = malloc(copy_len), .len = copy_len, .cap = copy_len};
  memcpy(again.buf, copy, copy_len);
  h_refused(e, &again, TKMS_E_REPLAY, &before);

  /* a different request reusing the id is a replay as well */
  uint8_t key_id[16];
  h_create(e, &owner, "secp256k1", key_id, NULL);
  h_snap_take(e, &before);
  h_begin(&w, TKMS_OP_KEY_ROTATE);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  h_envelope(e, &w, rid, h_now + 600);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_REPLAY, &before);

  /* after a restart the request ids are loaded from their sealed records */
  assert_int_equal(h_restart(e), TKMS_OK);
  h_snap_take(e, &before);
  again = (tkms_fw){.buf = malloc(copy_len), .len = copy_len, .cap = copy_len};
  memcpy(again.buf, copy, copy_len);
  h_refused(e, &again, TKMS_E_REPLAY, &before);
  free(copy);

  /* an aborted request id was never used: it may be sent again */
  h_begin(&w, TKMS_OP_KEY_ROTATE);
  uint8_t rid2[32] = {7};
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  h_envelope(e, &w, rid2, h_now + 600);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(tkms_fw_finish(&w), 0);
  copy_len = w.len;
  copy = malloc(copy_len);
  memcpy(copy, w.buf, copy_len);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_abort(e, h_u64(e, TKMS_F_TXID));
  h_snap_same(e, &before);
  again = (tkms_fw){.buf = copy, .len = copy_len, .cap = copy_len};
  assert_int_equal(h_call(e, &again), TKMS_OK);
  h_commit(e);

  /* a replayed destroy is a replay even though the key is gone now (the host
   * forwards DELETE of a destroyed key to the core): REPLAY, not NOT_FOUND */
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(tkms_fw_finish(&w), 0);
  copy_len = w.len;
  copy = malloc(copy_len);
  memcpy(copy, w.buf, copy_len);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, key_id, 16));
  h_snap_take(e, &before);
  again = (tkms_fw){.buf = malloc(copy_len), .len = copy_len, .cap = copy_len};
  memcpy(again.buf, copy, copy_len);
  h_refused(e, &again, TKMS_E_REPLAY, &before);
  assert_non_null(strstr(e->err, "request_id was already used"));
  /* ... also after a restart */
  assert_int_equal(h_restart(e), TKMS_OK);
  h_snap_take(e, &before);
  again = (tkms_fw){.buf = copy, .len = copy_len, .cap = copy_len};
  h_refused(e, &again, TKMS_E_REPLAY, &before);
  /* a fresh destroy of the gone key is NOT_FOUND (the host answers 410) */
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_NOT_FOUND, &before);
}

/* Expired request ids are pruned by later mutations, a few at a time. */
static void test_nonce_pruning(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k[16];
  for (int i = 0; i < 3; i++) h_create(e, &owner, "ed25519", k, NULL);
  assert_int_equal(tkms_index_count(&e->core->index, TKMS_REC_NONCE), 3);
  h_now += 61; /* past the deadlines (now + 60) */
  /* Each mutation sweeps the next TKMS_PRUNE_SCAN buckets (from a cursor, in a table
   * keyed by a random hash); enough mutations to go round the whole table once, with
   * time standing still so their own request ids stay live, must remove every
   * expired id and nothing else. (Advancing time in the loop made this depend on
   * where the random hash put each id: flaky.) */
  size_t rounds = (e->core->index.n_buckets + TKMS_PRUNE_SCAN - 1) / TKMS_PRUNE_SCAN + 1;
  for (size_t i = 0; i < rounds; i++) h_create(e, &owner, "ed25519", k, NULL);
  assert_int_equal(tkms_index_count(&e->core->index, TKMS_REC_NONCE), rounds);
  /* the store followed the deletions: a restart loads a consistent set */
  assert_int_equal(h_restart(e), TKMS_OK);
}

/* A full nonce store refuses mutations only while every stored request id is
 * still within its deadline: once they expire the next mutation prunes before
 * it counts, so a burst cannot wedge the deployment (it used to: refused
 * mutations never pruned, and only mutations prune). */
static void test_nonce_store_full(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t k[16];
  e->core->max_nonces = 3;
  for (int i = 0; i < 3; i++) h_create(e, &owner, "ed25519", k, NULL);
  assert_int_equal(tkms_index_count(&e->core->index, TKMS_REC_NONCE), 3);
  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;
  h_req_create(e, &w, owner.text, "ed25519");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_LIMIT, &before);
  assert_non_null(strstr(e->err, "too many requests within their deadlines"));
  /* still full a second later: the limit is real, not a wedge */
  h_now += 1;
  h_req_create(e, &w, owner.text, "ed25519");
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_LIMIT, &before);
  /* past the deadlines: the next mutation makes room and succeeds */
  h_now += 61;
  h_create(e, &owner, "ed25519", k, NULL);
  assert_true(tkms_index_count(&e->core->index, TKMS_REC_NONCE) <= 3);
  for (int i = 0; i < 4; i++) {
    h_now += 61;
    h_create(e, &owner, "ed25519", k, NULL);
  }
  assert_int_equal(h_restart(e), TKMS_OK);
}

/* The two-phase protocol: nothing but COMMIT/ABORT after a prepare. */
static void test_transaction_protocol(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  h_snap before;
  h_snap_take(e, &before);
  tkms_fw w;

  /* another op on the socket aborts the prepared transaction */
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  uint64_t txid = h_u64(e, TKMS_F_TXID);
  assert_non_null(e->conn.pending);
  h_begin(&w, TKMS_OP_STATUS);
  assert_int_equal(h_call(e, &w), TKMS_E_BAD_REQUEST);
  assert_non_null(strstr(e->err, "aborted"));
  h_snap_same(e, &before);
  h_begin(&w, TKMS_OP_COMMIT);
  tkms_fw_u64(&w, TKMS_F_TXID, txid);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);

  /* a wrong txid aborts too */
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  txid = h_u64(e, TKMS_F_TXID);
  h_begin(&w, TKMS_OP_COMMIT);
  tkms_fw_u64(&w, TKMS_F_TXID, txid + 1);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);

  /* while one socket holds a prepared transaction, another socket's mutation
   * waits and then answers BUSY; signs still work */
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  txid = h_u64(e, TKMS_F_TXID);
  tkms_conn other;
  tkms_conn_init(&other, e->core);
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call_on(e, &other, &w), TKMS_E_BUSY);
  h_begin(&w, TKMS_OP_STATUS);
  assert_int_equal(h_call_on(e, &other, &w), TKMS_OK);
  /* the socket goes away: its transaction is aborted and the lock released */
  tkms_conn_close(&e->conn);
  h_snap_same(e, &before);
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call_on(e, &other, &w), TKMS_OK);
  h_begin(&w, TKMS_OP_ABORT);
  tkms_fw_u64(&w, TKMS_F_TXID, h_u64(e, TKMS_F_TXID));
  assert_int_equal(h_call_on(e, &other, &w), TKMS_OK);
  tkms_conn_close(&other);
  h_snap_same(e, &before);
  (void)txid;
}

static void test_attest(void **state) {
  h_env *e = *state;
  uint8_t nonce[32], rd[64], ev_rd[64], m[32], ev_m[32], want[32];
  randombytes_buf(nonce, sizeof nonce);
  tkms_fw w;
  h_begin(&w, TKMS_OP_ATTEST);
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  const uint8_t *ev;
  size_t ev_len;
  assert_int_equal(h_get(e, TKMS_F_EVIDENCE, &ev, &ev_len), 0);
  h_fixed(e, TKMS_F_REPORT_DATA, rd, 64);
  h_fixed(e, TKMS_F_MEASUREMENT, m, 32);
  assert_int_equal(h_u32(e, TKMS_F_SIMULATED), 1);
  assert_int_equal(tkms_sim_evidence_parse(ev, ev_len, ev_m, ev_rd, NULL), 0);
  assert_memory_equal(ev, "TKMS-SIM-EVIDENCE-v1", 20);
  assert_memory_equal(ev_rd, rd, 64);
  assert_memory_equal(ev_m, m, 32);
  uint8_t in[14 + 20 + 32 + 32];
  memcpy(in, "tkms-attest-v1", 14);
  memcpy(in + 14, e->identity, 20);
  memcpy(in + 34, e->salt, 32);
  memcpy(in + 66, nonce, 32);
  tkms_sha256(in, sizeof in, want);
  assert_memory_equal(rd, want, 32);
  static const uint8_t zero[32];
  assert_memory_equal(rd + 32, zero, 32);
  /* a flipped byte breaks the evidence signature */
  uint8_t *bad = malloc(ev_len);
  memcpy(bad, ev, ev_len);
  bad[60] ^= 1;
  assert_int_equal(tkms_sim_evidence_parse(bad, ev_len, NULL, NULL, NULL), -1);
  free(bad);
}

/* Random damage to valid requests: the core answers every frame, never crashes,
 * and a damaged signed request is never accepted as something else. */
static void test_damaged_frames(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  uint8_t key_id[16], d[32] = {1};
  h_create(e, &owner, "secp256k1", key_id, NULL);
  tkms_fw reqs[4];
  h_req_create(e, &reqs[0], owner.text, "secp256k1");
  h_sign(e, &reqs[0], &owner, NULL);
  h_req_sign(e, &reqs[1], key_id, "digest", d, 32);
  h_sign(e, &reqs[1], &owner, NULL);
  h_req_key(e, &reqs[2], TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &reqs[2], &owner, NULL);
  h_begin(&reqs[3], TKMS_OP_LOAD_RECORDS);
  h_rec *r = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  uint8_t rec[600];
  rec[0] = r->type;
  rec[1] = r->id_len;
  memcpy(rec + 2, r->id, 16);
  tkms_be32_put(rec + 18, r->version);
  memcpy(rec + 22, r->blob, r->blob_len);
  tkms_fw_bytes(&reqs[3], TKMS_F_REC, rec, 22 + r->blob_len);
  for (int i = 0; i < 4; i++) assert_int_equal(tkms_fw_finish(&reqs[i]), 0);
  h_snap before;
  h_snap_take(e, &before);
  for (int round = 0; round < 3000; round++) {
    tkms_fw *src = &reqs[round % 4];
    size_t len = src->len - 4;
    uint8_t *buf = malloc(len);
    memcpy(buf, src->buf + 4, len);
    uint32_t rnd = randombytes_random();
    if (rnd % 5 == 0 && len > 1) len = 1 + randombytes_uniform((uint32_t)len - 1);
    int flips = 1 + (int)(rnd >> 8) % 3;
    for (int k = 0; k < flips; k++)
      buf[randombytes_uniform((uint32_t)len)] ^= (uint8_t)(1 + randombytes_uniform(255));
    tkms_fw_free(&e->resp);
    assert_int_equal(tkms_core_dispatch(&e->conn, buf, len, &e->resp), 0);
    free(buf);
    assert_int_equal(tkms_frame_parse(e->resp.buf + 4, e->resp.len - 4, &e->rf), 0);
    /* a flipped bit in the op or in a field not covered by the signature (F_BLOB
     * or padding) may still leave a valid request; anything else must be refused */
    if (e->rf.status == TKMS_OK && e->conn.pending != NULL) {
      h_abort(e, h_u64(e, TKMS_F_TXID));
    }
  }
  for (int i = 0; i < 4; i++) tkms_fw_free(&reqs[i]);
  /* the core is still consistent and ready */
  assert_int_equal(e->core->state, TKMS_STATE_READY);
  h_snap_same(e, &before);
  assert_int_equal(h_restart(e), TKMS_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_eoa_secp_lifecycle, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ed25519_owner_and_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale_and_moved_blobs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nonce_pruning, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nonce_store_full, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transaction_protocol, setup, teardown),
      cmocka_unit_test_setup_teardown(test_attest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_frames, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
