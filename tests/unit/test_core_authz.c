/* tests/unit/test_core_authz.c — what the core hashes and who it accepts as a signer.
 *
 * The EIP-712 vectors were computed independently with ethers v6
 * (TypedDataEncoder and Wallet.signTypedData, private key 1) over domain
 * {name: "tkms", version: "1", salt: 0x11..11}, so the core's hashing of frames
 * is checked against other people's code, not against itself. */
#include "core/principal.h"
#include "proto/hex.h"
#include "test_core_harness.h"

static void unhex(const char *s, uint8_t *out, size_t n) {
  assert_int_equal(tkms_hex_decode_exact(s, out, n), 0);
}

#define RID "0x2222222222222222222222222222222222222222222222222222222222222222"
#define OWNER1 "eoa:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
#define DEADLINE 1767225600u

/* Builds a frame, parses it and returns its hashStruct as request type rt. */
static void hash_of(tkms_fw *w, int rt, uint8_t out[32]) {
  assert_int_equal(tkms_fw_finish(w), 0);
  tkms_frame f;
  assert_int_equal(tkms_frame_parse(w->buf + 4, w->len - 4, &f), 0);
  assert_int_equal(tkms_request_hash_struct(&f, rt, out, NULL), 0);
  tkms_fw_free(w);
}

static void test_domain_separator(void **state) {
  (void)state;
  uint8_t salt[32], ds[32], want[32];
  memset(salt, 0x11, 32);
  tkms_domain_separator(salt, ds);
  unhex("0xa7200e14ac16ac8f01e570b44628583f096da6ca2c470c80fdffdafeb939fce1", want, 32);
  assert_memory_equal(ds, want, 32);
}

static void test_create_key_vector(void **state) {
  (void)state;
  uint8_t rid[32], sh[32], want[32], salt[32], ds[32], digest[32], sig[65], addr[20];
  unhex(RID, rid, 32);
  tkms_fw w;
  tkms_fw_init(&w, TKMS_OP_KEY_CREATE, 0, 1);
  /* field order in the frame does not matter; the type's order does */
  tkms_fw_u64(&w, TKMS_F_DEADLINE, DEADLINE);
  tkms_fw_str(&w, TKMS_F_OWNER, OWNER1);
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  hash_of(&w, TKMS_RT_CREATE_KEY, sh);
  unhex("0x1e774e866b6ead8b7914797728a985c8aa9d8ea3ecce81cb0efaa59362545dc1", want, 32);
  assert_memory_equal(sh, want, 32);
  memset(salt, 0x11, 32);
  tkms_domain_separator(salt, ds);
  tkms_eip712_digest(ds, sh, digest);
  unhex("0x4ec63894aadc793f6c61c486be1a38e0c48f6ccee4fe457808db87983ad13faf", want, 32);
  assert_memory_equal(digest, want, 32);
  /* (values from ethers v6 with policy = 0x, the default policy) */
  /* ethers' signTypedData by key 1 recovers to that key's address */
  unhex(
      "0x7d9e8196307cf0f594e8f123184aff2df34b19370a4df81c3577694c609111f6387e3a0ca4c8ecd2bde6ab0f97"
      "b69c64ec01a4a149e69ae6910405901aa06d031b",
      sig, 65);
  assert_int_equal(tkms_secp_recover(digest, sig, addr), TKMS_SECP_OK);
  tkms_principal p;
  tkms_principal_eoa(addr, &p);
  assert_string_equal(p.text, OWNER1);
}

static void test_sign_vector(void **state) {
  (void)state;
  uint8_t rid[32], kid[16], sh[32], want[32];
  unhex(RID, rid, 32);
  memset(kid, 0x33, 16);
  tkms_fw w;
  tkms_fw_init(&w, TKMS_OP_KEY_SIGN, 0, 1);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, kid, 16);
  tkms_fw_str(&w, TKMS_F_SIGN_MODE, "personal");
  tkms_fw_bytes(&w, TKMS_F_PAYLOAD, "hello", 5);
  tkms_fw_u32(&w, TKMS_F_VERSION, 7);
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_u64(&w, TKMS_F_DEADLINE, DEADLINE);
  tkms_fw_bytes(&w, TKMS_F_BLOB, "not signed", 10); /* not part of the struct */
  hash_of(&w, TKMS_RT_SIGN, sh);
  unhex("0x5a1d4e9507219a928287c76d257ddc09d52b17c17b2a082f6c345ea6de2482d1", want, 32);
  assert_memory_equal(sh, want, 32);
}

static void test_open_session_vector(void **state) {
  (void)state;
  uint8_t rid[32], k1[16], k2[16], sh[32], want[32];
  unhex(RID, rid, 32);
  memset(k1, 0x44, 16);
  memset(k2, 0x55, 16);
  tkms_fw w;
  tkms_fw_init(&w, TKMS_OP_SESSION_OPEN, 0, 1);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY,
              "ed25519:0xabababababababababababababababababababababababababababababababab");
  tkms_fw_str(&w, TKMS_F_SCOPE_OP, "sign");
  tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, k1, 16);
  tkms_fw_str(&w, TKMS_F_SCOPE_OP, "rotate");
  tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, k2, 16);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, 1767800000u);
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_u64(&w, TKMS_F_DEADLINE, DEADLINE);
  hash_of(&w, TKMS_RT_OPEN_SESSION, sh);
  unhex("0xb909662728c151a49c70c0dc12bf3278759fe868bcc1b14c8d6d3a8855f1cfb2", want, 32);
  assert_memory_equal(sh, want, 32);

  /* an empty key list hashes as keccak256("") */
  tkms_fw_init(&w, TKMS_OP_SESSION_OPEN, 0, 1);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY,
              "ed25519:0xabababababababababababababababababababababababababababababababab");
  tkms_fw_str(&w, TKMS_F_SCOPE_OP, "create");
  tkms_fw_u64(&w, TKMS_F_EXPIRY, 1767800000u);
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_u64(&w, TKMS_F_DEADLINE, DEADLINE);
  hash_of(&w, TKMS_RT_OPEN_SESSION, sh);
  unhex("0xfdaf7f8e5f876cf9a7b102de510253dc1516d72c37495122259645a26231d30a", want, 32);
  assert_memory_equal(sh, want, 32);
}

static void test_revoke_and_receipt_vectors(void **state) {
  (void)state;
  uint8_t rid[32], sid[16], sh[32], want[32], salt[32], ds[32], d[32];
  unhex(RID, rid, 32);
  memset(sid, 0x66, 16);
  tkms_fw w;
  tkms_fw_init(&w, TKMS_OP_SESSION_REVOKE, 0, 1);
  tkms_fw_bytes(&w, TKMS_F_TARGET_SESSION, sid, 16);
  tkms_fw_bytes(&w, TKMS_F_SESSION_ID, rid, 16); /* the signer's session: not signed */
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_u64(&w, TKMS_F_DEADLINE, DEADLINE);
  hash_of(&w, TKMS_RT_REVOKE_SESSION, sh);
  unhex("0x353e3637f9f147be2acb3d18496f930e87a8208f715c2aff5513363b9346deeb", want, 32);
  assert_memory_equal(sh, want, 32);

  memset(salt, 0x11, 32);
  tkms_domain_separator(salt, ds);
  tkms_receipt r = {.owner = OWNER1, .version = 2, .destroyed_at = 1767222100u};
  memset(r.key_id, 0x33, 16);
  memcpy(r.request_id, rid, 32);
  tkms_receipt_digest(ds, &r, d);
  unhex("0x144363bcf3812f92bc6e62541c23830058be2d135e7c46f62df66a4c6df022f0", want, 32);
  assert_memory_equal(d, want, 32);
}

static void test_hash_refuses_bad_fields(void **state) {
  (void)state;
  uint8_t rid[32] = {0}, sh[32];
  const char *bad = NULL;
  tkms_fw w;
  tkms_frame f;
  /* missing deadline */
  tkms_fw_init(&w, TKMS_OP_KEY_ROTATE, 0, 1);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, rid, 16);
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  assert_int_equal(tkms_fw_finish(&w), 0);
  assert_int_equal(tkms_frame_parse(w.buf + 4, w.len - 4, &f), 0);
  assert_int_equal(tkms_request_hash_struct(&f, TKMS_RT_ROTATE_KEY, sh, &bad), -1);
  assert_string_equal(bad, "deadline");
  tkms_fw_free(&w);
  /* wrong size of a bytes16 */
  tkms_fw_init(&w, TKMS_OP_KEY_ROTATE, 0, 1);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, rid, 17);
  tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
  tkms_fw_u64(&w, TKMS_F_DEADLINE, 1);
  assert_int_equal(tkms_fw_finish(&w), 0);
  assert_int_equal(tkms_frame_parse(w.buf + 4, w.len - 4, &f), 0);
  assert_int_equal(tkms_request_hash_struct(&f, TKMS_RT_ROTATE_KEY, sh, &bad), -1);
  assert_string_equal(bad, "keyId");
  assert_int_equal(tkms_request_hash_struct(&f, 99, sh, &bad), -1);
  tkms_fw_free(&w);
}

static void test_principals(void **state) {
  (void)state;
  tkms_principal p;
  assert_int_equal(tkms_principal_parse(OWNER1, &p), 0);
  assert_int_equal(p.kind, TKMS_PRINCIPAL_EOA);
  assert_int_equal(p.id_len, 20);
  assert_int_equal(p.id[0], 0x7e);
  assert_string_equal(p.text, OWNER1);
  /* a real Ed25519 public key */
  uint8_t pk[32], sk[64], seed[32];
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(pk, sk, seed);
  char s[TKMS_MAX_PRINCIPAL + 1] = "ed25519:";
  h_hex(pk, 32, s + 8);
  assert_int_equal(tkms_principal_parse(s, &p), 0);
  assert_int_equal(p.kind, TKMS_PRINCIPAL_ED25519);
  assert_memory_equal(p.id, pk, 32);

  static const char *const bad[] = {
      "eoa:0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",  /* checksum case */
      "eoa:7e5f4552091a69125d5dfcb7b8c2659029395bdf",    /* no 0x */
      "eoa:0X7e5f4552091a69125d5dfcb7b8c2659029395bdf",  /* 0X */
      "eoa:0x7e5f4552091a69125d5dfcb7b8c2659029395bd",   /* short */
      "eoa:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf0", /* long */
      "eoa:0x7e5f4552091a69125d5dfcb7b8c2659029395bdg",  /* not hex */
      "EOA:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",  /* prefix case */
      " eoa:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
      "secp256k1:0x02aa",
      "measurement:sgx:0x00",
      "ed25519:0x0000000000000000000000000000000000000000000000000000000000000000", /* small order
                                                                                     */
      "",
      "eoa:",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (tkms_principal_parse(bad[i], &p) == 0) fail_msg("accepted %s", bad[i]);
  }
  for (char *c = s + 10; *c; c++)
    if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 32);
  assert_int_equal(tkms_principal_parse(s, &p), -1);
}

int main(void) {
  assert_true(sodium_init() >= 0);
  assert_int_equal(tkms_secp_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_domain_separator),
      cmocka_unit_test(test_create_key_vector),
      cmocka_unit_test(test_sign_vector),
      cmocka_unit_test(test_open_session_vector),
      cmocka_unit_test(test_revoke_and_receipt_vectors),
      cmocka_unit_test(test_hash_refuses_bad_fields),
      cmocka_unit_test(test_principals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
