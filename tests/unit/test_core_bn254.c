/* tests/unit/test_core_bn254.c — bn254 (EigenLayer operator) keys through the core's
 * ECALL table: generation, the three sign modes checked against the bn254 library by
 * pairings, the registration message hash against a value computed independently
 * (ethers TypedDataEncoder + a JS hashToG1, see below), invalid points refused before
 * the secret is opened, one key per owner, rotation and BN254_VERIFY. */
#include "core/keys.h"
#include "crypto/avs.h"
#include "crypto/bn254/bn254.h"
#include "crypto/keccak.h"
#include "test_core_harness.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

static const uint8_t P_BYTES[32] = {
    0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d,
    0x97, 0x81, 0x6a, 0x91, 0x68, 0x71, 0xca, 0x8d, 0x3c, 0x20, 0x8c, 0x16, 0xd8, 0x7c, 0xfd, 0x47};

static void unhex(const char *h, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

/* e(sig, G2) == e(point, pk2): sig = sk * point for the sk of pk2 = sk * G2. */
static int pairing_matches(const uint8_t sig[64], const uint8_t point[64], const uint8_t pk2[128]) {
  uint8_t pairs[2 * TKMS_BN254_PAIR_BYTES];
  memcpy(pairs, sig, 64);
  tkms_bn254_g2_generator(pairs + 64);
  assert_int_equal(tkms_bn254_g2_neg(pairs + 64, pairs + 64), 0);
  memcpy(pairs + 192, point, 64);
  memcpy(pairs + 256, pk2, 128);
  return tkms_bn254_pairing_check(pairs, 2) == 0;
}

/* Creates and commits a bn254 key; checks F_PUBKEY and F_OPERATOR_ID. */
static void create_bn(h_env *e, const h_signer *owner, uint8_t key_id[16], uint8_t pub[192]) {
  tkms_fw w;
  h_req_create(e, &w, owner->text, "bn254");
  h_sign(e, &w, owner, NULL);
  if (h_call(e, &w) != TKMS_OK) fail_msg("create refused: %s", e->err);
  h_fixed(e, TKMS_F_KEY_ID, key_id, 16);
  h_fixed(e, TKMS_F_PUBKEY, pub, 192);
  assert_false(h_has(e, TKMS_F_ADDRESS));
  uint8_t oid[32], want[32];
  h_fixed(e, TKMS_F_OPERATOR_ID, oid, 32);
  tkms_keccak256(pub, 64, want);
  assert_memory_equal(oid, want, 32);
  /* the two halves belong to one sk: e(pk1, G2) == e(G1, pk2) */
  uint8_t g1[64];
  tkms_bn254_g1_generator(g1);
  assert_int_equal(tkms_bn254_g1_check(pub), 0);
  assert_int_equal(tkms_bn254_g2_check(pub + 64), 0);
  assert_true(pairing_matches(pub, g1, pub + 64));
  h_commit(e);
}

/* Signs payload in mode; returns the status; sig/point filled on success. */
static int sign_bn(h_env *e, const h_signer *owner, const uint8_t key_id[16], const char *mode,
                   const uint8_t *payload, size_t len, uint8_t sig[64], uint8_t point[64]) {
  tkms_fw w;
  h_req_sign(e, &w, key_id, mode, payload, len);
  h_sign(e, &w, owner, NULL);
  int st = h_call(e, &w);
  if (st != TKMS_OK) return st;
  h_fixed(e, TKMS_F_SIGNATURE, sig, 64);
  if (point != NULL) h_fixed(e, TKMS_F_BN_POINT, point, 64);
  return st;
}

/* ---- pure functions ------------------------------------------------------------ */

/* The registration digest and H for operator 0x11..11, chain 17000, coordinator 0x22..22,
 * computed with ethers v6 TypedDataEncoder.hash(domain {AVSRegistryCoordinator, v0.0.1,
 * 17000, 0x22..22}, {BN254PubkeyRegistration: [operator address]}) and BN254.sol's
 * hashToG1 over @noble/curves' Fp (the loop of tests/evm/registration.test.mjs). */
static void test_registration_vector(void **state) {
  (void)state;
  uint8_t th[32], want[32];
  tkms_eip712_type_hash(TKMS_AVS_REGISTRATION_TYPE, th);
  unhex("2bd82124057f0913bc3b772ce7b83e8057c1ad1f3510fc83778be20f10ec5de6", want, 32);
  assert_memory_equal(th, want, 32); /* PROTOCOLS.md's TYPEHASH */

  uint8_t chain[32] = {0}, coord[20], opaddr[20], d[32], pt[64], wantpt[64];
  chain[30] = 17000 >> 8;
  chain[31] = 17000 & 0xff;
  memset(coord, 0x22, 20);
  memset(opaddr, 0x11, 20);
  tkms_avs_registration_digest(chain, coord, opaddr, d);
  unhex("e912c734080cc06dbc73fc3ac70dba5b1eef5ed9469e06333ce4103764d54349", want, 32);
  assert_memory_equal(d, want, 32);
  tkms_avs_registration_point(chain, coord, opaddr, pt);
  unhex(
      "27818d6883463fc6db32e560c10858e4c0e9b493a4d6dbfe4c61dfdc02e14e2e"
      "12952161916c0207f84f0d936a2c8c4a726ae945653ad906766b0df815c720c9",
      wantpt, 64);
  assert_memory_equal(pt, wantpt, 64);
  /* another operator, chain or coordinator gives another message */
  opaddr[19] ^= 1;
  tkms_avs_registration_point(chain, coord, opaddr, pt);
  assert_memory_not_equal(pt, wantpt, 64);
}

static void test_generation(void **state) {
  (void)state;
  assert_int_equal(sodium_init() >= 0, 1);
  assert_int_equal(tkms_keytype_parse("bn254"), TKMS_KEYTYPE_BN254);
  assert_string_equal(tkms_keytype_name(TKMS_KEYTYPE_BN254), "bn254");
  assert_int_equal(tkms_key_pub_len(TKMS_KEYTYPE_BN254), 192);
  int top_bits_seen = 0;
  for (int i = 0; i < 200; i++) {
    uint8_t sk[32], pub[192], g1[64], g2[128];
    assert_int_equal(tkms_key_generate(TKMS_KEYTYPE_BN254, sk, pub, NULL), 0);
    assert_int_equal(tkms_bn254_scalar_check(sk), 0); /* 1 <= sk < r */
    assert_true(memcmp(sk, P_BYTES, 32) < 0);
    top_bits_seen |= sk[0];
    assert_int_equal(tkms_bn254_g1_mul_base(g1, sk), 0);
    assert_int_equal(tkms_bn254_g2_mul_base(g2, sk), 0);
    assert_memory_equal(pub, g1, 64);
    assert_memory_equal(pub + 64, g2, 128);
  }
  assert_true(top_bits_seen & 0x20); /* the top byte is used, not truncated away */
  /* public key of a secret out of range: refused */
  uint8_t zero[32] = {0}, pub[192];
  assert_int_equal(tkms_key_public(TKMS_KEYTYPE_BN254, zero, pub, NULL), -1);
  /* modes belong to their key types */
  for (int m = TKMS_MODE_BN254_G1_MUL; m <= TKMS_MODE_AVS_REGISTRATION; m++) {
    assert_true(tkms_mode_allowed(TKMS_KEYTYPE_BN254, m));
    assert_false(tkms_mode_allowed(TKMS_KEYTYPE_SECP256K1, m));
    assert_false(tkms_mode_allowed(TKMS_KEYTYPE_ED25519, m));
  }
  assert_false(tkms_mode_allowed(TKMS_KEYTYPE_BN254, TKMS_MODE_DIGEST));
  assert_false(tkms_mode_allowed(TKMS_KEYTYPE_BN254, TKMS_MODE_MESSAGE));
}

/* ---- through the core ------------------------------------------------------------ */

static void test_modes(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 5);
  uint8_t key_id[16], pub[192], sig[64], pt[64];
  create_bn(e, &owner, key_id, pub);

  /* bn254_g1_mul: sigma = sk * P for a P the client chose */
  uint8_t k[32], p[64];
  randombytes_buf(k, 32);
  assert_int_equal(tkms_bn254_g1_mul_base(p, k), 0);
  assert_int_equal(sign_bn(e, &owner, key_id, "bn254_g1_mul", p, 64, sig, NULL), TKMS_OK);
  assert_false(h_has(e, TKMS_F_BN_POINT));
  assert_int_equal(h_u32(e, TKMS_F_VERSION), 1);
  assert_true(pairing_matches(sig, p, pub + 64));
  /* and it is bound to P: it does not verify as a signature of another point */
  uint8_t g1[64];
  tkms_bn254_g1_generator(g1);
  assert_false(pairing_matches(sig, g1, pub + 64));

  /* bn254_hash: H = hashToG1(h) in the core */
  uint8_t h[32], hp[64];
  randombytes_buf(h, 32);
  assert_int_equal(sign_bn(e, &owner, key_id, "bn254_hash", h, 32, sig, pt), TKMS_OK);
  assert_int_equal(tkms_bn254_hash_to_g1(hp, h), 0);
  assert_memory_equal(pt, hp, 64);
  assert_true(pairing_matches(sig, hp, pub + 64));

  /* BN254_VERIFY: EigenLayer's check holds for it, fails for another message */
  tkms_fw w;
  h_begin(&w, TKMS_OP_BN254_VERIFY);
  tkms_fw_bytes(&w, TKMS_F_PUBKEY, pub, 192);
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, h, 32);
  tkms_fw_bytes(&w, TKMS_F_SIGNATURE, sig, 64);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_u32(e, TKMS_F_VALID), 1);
  h[0] ^= 1;
  h_begin(&w, TKMS_OP_BN254_VERIFY);
  tkms_fw_bytes(&w, TKMS_F_PUBKEY, pub, 192);
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, h, 32);
  tkms_fw_bytes(&w, TKMS_F_SIGNATURE, sig, 64);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_u32(e, TKMS_F_VALID), 0);

  /* avs_registration: H for the key's owner, computed in the core */
  uint8_t payload[52], coord[20], want[64];
  memset(payload, 0, 32);
  payload[31] = 1; /* chain id 1 */
  randombytes_buf(coord, 20);
  memcpy(payload + 32, coord, 20);
  assert_int_equal(sign_bn(e, &owner, key_id, "avs_registration", payload, 52, sig, pt), TKMS_OK);
  tkms_avs_registration_point(payload, coord, owner.addr, want);
  assert_memory_equal(pt, want, 64);
  assert_true(pairing_matches(sig, want, pub + 64));
  /* EigenLayer's registration check: gamma = keccak(sigma, P, P', H) mod r;
   * e(sigma + gamma P, -G2) e(H + gamma G1, P') = 1 */
  uint8_t buf[320], gamma[32], t[64], a[64], b[64], pairs[384];
  memcpy(buf, sig, 64);
  memcpy(buf + 64, pub, 192);
  memcpy(buf + 256, want, 64);
  tkms_keccak256(buf, sizeof buf, gamma);
  tkms_bn254_scalar_reduce(gamma, gamma);
  assert_int_equal(tkms_bn254_g1_mul_public(t, pub, gamma), 0);
  assert_int_equal(tkms_bn254_g1_add(a, sig, t), 0);
  assert_int_equal(tkms_bn254_g1_mul_public(t, g1, gamma), 0);
  assert_int_equal(tkms_bn254_g1_add(b, want, t), 0);
  memcpy(pairs, a, 64);
  tkms_bn254_g2_generator(pairs + 64);
  assert_int_equal(tkms_bn254_g2_neg(pairs + 64, pairs + 64), 0);
  memcpy(pairs + 192, b, 64);
  memcpy(pairs + 256, pub + 64, 128);
  assert_int_equal(tkms_bn254_pairing_check(pairs, 2), 0);

  /* the owner survives a restart: the 192-byte public key decodes from the record */
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_int_equal(sign_bn(e, &owner, key_id, "bn254_hash", h, 32, sig, pt), TKMS_OK);
  assert_int_equal(tkms_bn254_hash_to_g1(hp, h), 0);
  assert_true(pairing_matches(sig, hp, pub + 64));
}

/* Bad points and payloads: BAD_REQUEST naming the check, refused before the blob is
 * even looked at (a garbage blob would otherwise be STALE_RECORD), nothing changed. */
static void test_invalid_inputs(void **state) {
  h_env *e = *state;
  h_signer owner, other;
  h_signer_eoa(&owner, 6);
  h_signer_eoa(&other, 7);
  uint8_t key_id[16], pub[192];
  create_bn(e, &owner, key_id, pub);
  h_snap before;
  h_snap_take(e, &before);

  uint8_t off[64] = {0}, big[64], inf[64] = {0}, ok[64];
  off[31] = 1;
  off[63] = 3; /* (1, 3): 9 != 1 + 3 */
  tkms_bn254_g1_generator(ok);
  memcpy(big, ok, 64);
  /* x + p: the same point mod p, but a coordinate >= p */
  int carry = 0;
  for (int i = 31; i >= 0; i--) {
    int s = big[i] + P_BYTES[i] + carry;
    big[i] = (uint8_t)s;
    carry = s >> 8;
  }
  const struct {
    const char *mode;
    const uint8_t *payload;
    size_t len;
    const char *msg;
  } bad[] = {
      {"bn254_g1_mul", off, 64, "not on the curve"},
      {"bn254_g1_mul", big, 64, ">= p"},
      {"bn254_g1_mul", inf, 64, "infinity"},
      {"bn254_g1_mul", ok, 63, "64-byte"},
      {"bn254_hash", ok, 31, "32-byte"},
      {"bn254_hash", ok, 33, "32-byte"},
      {"avs_registration", ok, 51, "chain_id"},
      {"avs_registration", ok, 64, "chain_id"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tkms_fw w;
    h_begin(&w, TKMS_OP_KEY_SIGN);
    tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
    tkms_fw_str(&w, TKMS_F_SIGN_MODE, bad[i].mode);
    tkms_fw_bytes(&w, TKMS_F_PAYLOAD, bad[i].payload, bad[i].len);
    tkms_fw_u32(&w, TKMS_F_VERSION, 1);
    h_envelope(e, &w, NULL, h_now + 60);
    uint8_t junk[200];
    randombytes_buf(junk, sizeof junk);
    tkms_fw_bytes(&w, TKMS_F_BLOB, junk, sizeof junk);
    h_sign(e, &w, &owner, NULL);
    h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
    if (strstr(e->err, bad[i].msg) == NULL) fail_msg("case %zu: message '%s'", i, e->err);
  }

  /* modes and key types do not mix */
  uint8_t d[32] = {1};
  tkms_fw w;
  h_req_sign(e, &w, key_id, "digest", d, 32);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);
  uint8_t sk_id[16];
  h_create(e, &other, "secp256k1", sk_id, NULL);
  h_snap_take(e, &before);
  h_req_sign(e, &w, sk_id, "bn254_hash", d, 32);
  h_sign(e, &w, &other, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);

  /* another EOA cannot use the key */
  h_req_sign(e, &w, key_id, "bn254_hash", d, 32);
  h_sign(e, &w, &other, NULL);
  h_refused(e, &w, TKMS_E_WRONG_SIGNER, &before);

  /* BN254_VERIFY: malformed inputs are BAD_REQUEST, not "false" */
  uint8_t sig[64];
  assert_int_equal(sign_bn(e, &owner, key_id, "bn254_hash", d, 32, sig, NULL), TKMS_OK);
  uint8_t badg2[192], badg1[192];
  memcpy(badg2, pub, 192);
  badg2[100] ^= 1; /* G2 off the twist */
  memcpy(badg1, pub, 192);
  memcpy(badg1, off, 64); /* G1 off the curve */
  const struct {
    const uint8_t *pk;
    size_t pklen;
    const uint8_t *s;
    size_t slen;
  } vb[] = {{badg2, 192, sig, 64}, {badg1, 192, sig, 64}, {pub, 192, off, 64},
            {pub, 192, big, 64},   {pub, 191, sig, 64},   {pub, 192, sig, 63}};
  for (size_t i = 0; i < sizeof vb / sizeof vb[0]; i++) {
    h_begin(&w, TKMS_OP_BN254_VERIFY);
    tkms_fw_bytes(&w, TKMS_F_PUBKEY, vb[i].pk, vb[i].pklen);
    tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
    tkms_fw_bytes(&w, TKMS_F_SIGNATURE, vb[i].s, vb[i].slen);
    if (h_call(e, &w) != TKMS_E_BAD_REQUEST) fail_msg("verify case %zu: status %d", i, e->status);
  }
  /* an infinity public key half is refused too */
  uint8_t infpk[192];
  memcpy(infpk, pub, 192);
  memset(infpk + 64, 0, 128);
  h_begin(&w, TKMS_OP_BN254_VERIFY);
  tkms_fw_bytes(&w, TKMS_F_PUBKEY, infpk, 192);
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, d, 32);
  tkms_fw_bytes(&w, TKMS_F_SIGNATURE, sig, 64);
  assert_int_equal(h_call(e, &w), TKMS_E_BAD_REQUEST);
  assert_non_null(strstr(e->err, "infinity"));
}

static void test_one_key_per_owner(void **state) {
  h_env *e = *state;
  h_signer owner, ed;
  h_signer_eoa(&owner, 8);
  h_signer_ed(&ed, 9);
  uint8_t key_id[16], pub[192];
  h_snap before;
  tkms_fw w;

  /* an ed25519 owner cannot hold an operator key */
  h_snap_take(e, &before);
  h_req_create(e, &w, ed.text, "bn254");
  h_sign(e, &w, &ed, NULL);
  h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);
  assert_non_null(strstr(e->err, "eoa"));

  create_bn(e, &owner, key_id, pub);
  /* a second one is refused, also after a restart; other key types are not affected */
  for (int round = 0; round < 2; round++) {
    h_snap_take(e, &before);
    h_req_create(e, &w, owner.text, "bn254");
    h_sign(e, &w, &owner, NULL);
    h_refused(e, &w, TKMS_E_EXISTS, &before);
    assert_int_equal(h_restart(e), TKMS_OK);
  }
  uint8_t sk_id[16];
  h_create(e, &owner, "secp256k1", sk_id, NULL);

  /* rotation: same key id, version 2, a new sk; the old blob no longer signs */
  h_rec *old = h_store_find(e, TKMS_REC_KEY, key_id, 16);
  uint8_t *old_blob = malloc(old->blob_len);
  size_t old_len = old->blob_len;
  memcpy(old_blob, old->blob, old_len);
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, key_id);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  uint8_t id2[16], pub2[192], oid[32], want[32];
  h_fixed(e, TKMS_F_KEY_ID, id2, 16);
  assert_memory_equal(id2, key_id, 16);
  assert_int_equal(h_u32(e, TKMS_F_VERSION), 2);
  h_fixed(e, TKMS_F_PUBKEY, pub2, 192);
  assert_memory_not_equal(pub, pub2, 64);
  assert_memory_not_equal(pub + 64, pub2 + 64, 128);
  h_fixed(e, TKMS_F_OPERATOR_ID, oid, 32);
  tkms_keccak256(pub2, 64, want);
  assert_memory_equal(oid, want, 32);
  h_commit(e);
  uint8_t h[32] = {7}, sig[64], hp[64];
  assert_int_equal(sign_bn(e, &owner, key_id, "bn254_hash", h, 32, sig, NULL), TKMS_OK);
  assert_int_equal(tkms_bn254_hash_to_g1(hp, h), 0);
  assert_true(pairing_matches(sig, hp, pub2 + 64));
  assert_false(pairing_matches(sig, hp, pub + 64));
  h_snap_take(e, &before);
  h_req_sign(e, &w, key_id, "bn254_hash", h, 32);
  tkms_fw_bytes(&w, TKMS_F_BLOB, old_blob, old_len); /* replaces nothing: a second F_BLOB */
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "bn254_hash");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, h, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, 2);
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_BLOB, old_blob, old_len);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_STALE_RECORD, &before);
  free(old_blob);
  /* a request signed for the old version is refused (TKMS_E_WRONG_VERSION) */
  h_begin(&w, TKMS_OP_KEY_SIGN);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, key_id, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "bn254_hash");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, h, 32);
  tkms_fw_u32(&w, TKMS_F_VERSION, 1);
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_BLOB, h_store_find(e, TKMS_REC_KEY, key_id, 16)->blob,
                h_store_find(e, TKMS_REC_KEY, key_id, 16)->blob_len);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_WRONG_VERSION, &before);

  /* after a destroy the owner may create a new operator key */
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, key_id);
  h_sign(e, &w, &owner, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  uint8_t key3[16], pub3[192];
  create_bn(e, &owner, key3, pub3);
  assert_memory_not_equal(key3, key_id, 16);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registration_vector),
      cmocka_unit_test(test_generation),
      cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid_inputs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_key_per_owner, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
