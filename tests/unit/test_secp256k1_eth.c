/* tests/unit/test_secp256k1_eth.c — Ethereum signatures: geth's ecrecover
 * vectors under our stricter rules, the EOA basics, RFC 6979 answers,
 * round trips and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>
#include <sodium.h>

#include "crypto/kdf.h"
#include "crypto/keccak.h"
#include "crypto/secp256k1_eth.h"
#include "vectors.h"

#define ROUNDTRIP_KEYS 200

/* n and n/2 from eth-eoa-basics.json, loaded once so the test's idea of the
 * bounds comes from the vector file, not from the code under test. */
static uint8_t secp_n[32], half_n[32];

static int group_setup(void **state) {
  (void)state;
  json_t *j = tv_json("eth-eoa-basics.json");
  if (j == NULL || tkms_secp_init() != 0) return -1;
  json_t *sv = json_object_get(j, "eoa_signature_vector");
  int rc = tv_hex(json_string_value(json_object_get(sv, "secp256k1_n")), secp_n, 32) |
           tv_hex(json_string_value(json_object_get(sv, "half_n")), half_n, 32);
  json_decref(j);
  return rc;
}

static void hex_to(const char *hex, uint8_t *out, size_t n) {
  assert_non_null(hex);
  assert_int_equal(tv_hex(hex, out, n), 0);
}

/* out = a - b (big-endian, a >= b). */
static void sub256(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]) {
  int borrow = 0;
  for (int i = 31; i >= 0; i--) {
    int t = a[i] - b[i] - borrow;
    borrow = t < 0;
    out[i] = (uint8_t)(t + (borrow ? 256 : 0));
  }
}

/* out = a + b mod 2^256 (big-endian). */
static void add256(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]) {
  unsigned carry = 0;
  for (int i = 31; i >= 0; i--) {
    unsigned t = (unsigned)a[i] + b[i] + carry;
    out[i] = (uint8_t)t;
    carry = t >> 8;
  }
}

/* The EIP-2 twin: (r, n - s) with the other v verifies the same message. */
static void malleate(const uint8_t sig[65], uint8_t twin[65]) {
  memcpy(twin, sig, 32);
  sub256(secp_n, sig + 32, twin + 32);
  twin[64] = sig[64] == 27 ? 28 : 27;
}

/* ---- geth's ecrecover precompile vectors ---- */

/* The precompile takes hash ‖ v ‖ r ‖ s as four 32-byte words. Our signatures
 * carry v in one byte, so a v word that is not exactly 27 or 28 cannot be
 * expressed; a caller converting must refuse it, and this does. */
static int precompile_to_sig(const uint8_t in[128], uint8_t digest[32], uint8_t sig[65]) {
  for (int i = 32; i < 63; i++) {
    if (in[i] != 0) return -1;
  }
  if (in[63] != 27 && in[63] != 28) return -1;
  memcpy(digest, in, 32);
  memcpy(sig, in + 64, 64);
  sig[64] = in[63];
  return 0;
}

/* For each vector, what our recover must answer, derived from the precompile's
 * answer plus the checks the precompile does not make:
 *   v word not 27/28                  -> unrepresentable (precompile: empty too)
 *   r or s zero or >= n               -> MALFORMED      (precompile: empty)
 *   s > n/2                           -> HIGH_S even where the precompile
 *                                        returns an address (EIP-2); then the
 *                                        low-s twin must give that address
 *   precompile empty, otherwise fine  -> INVALID (no point with x = r)
 *   precompile address                -> OK with the same address */
static void test_geth_ecrecover(void **state) {
  (void)state;
  json_t *all = tv_json("geth-precompiles/ecRecover.json");
  assert_non_null(all);
  assert_true(json_array_size(all) > 0);
  size_t i, n_unrep = 0, n_malformed = 0, n_high = 0, n_invalid = 0, n_ok = 0;
  json_t *c;
  json_array_foreach(all, i, c) {
    const char *name = json_string_value(json_object_get(c, "Name"));
    uint8_t *raw, *exp;
    size_t raw_len, exp_len;
    assert_int_equal(tv_hex_alloc(json_string_value(json_object_get(c, "Input")), &raw, &raw_len),
                     0);
    assert_int_equal(
        tv_hex_alloc(json_string_value(json_object_get(c, "Expected")), &exp, &exp_len), 0);
    assert_true(exp_len == 0 || exp_len == 32);
    uint8_t in[128] = {0}; /* the precompile zero-pads short input */
    memcpy(in, raw, raw_len < 128 ? raw_len : 128);

    uint8_t digest[32], sig[65], addr[20];
    if (precompile_to_sig(in, digest, sig) != 0) {
      if (exp_len != 0) fail_msg("%s: precompile accepted a v we cannot express", name);
      /* Even a careless caller that kept only v's low byte gets no address. */
      memcpy(digest, in, 32);
      memcpy(sig, in + 64, 64);
      sig[64] = in[63];
      assert_int_not_equal(tkms_secp_recover(digest, sig, addr), TKMS_SECP_OK);
      n_unrep++;
      goto next;
    }
    const uint8_t *r = in + 64, *s = in + 96;
    static const uint8_t zero[32];
    tkms_secp_result want;
    if (memcmp(r, zero, 32) == 0 || memcmp(s, zero, 32) == 0 || memcmp(r, secp_n, 32) >= 0 ||
        memcmp(s, secp_n, 32) >= 0) {
      want = TKMS_SECP_MALFORMED;
      n_malformed++;
    } else if (memcmp(s, half_n, 32) > 0) {
      want = TKMS_SECP_HIGH_S;
      n_high++;
    } else if (exp_len == 0) {
      want = TKMS_SECP_INVALID;
      n_invalid++;
    } else {
      want = TKMS_SECP_OK;
      n_ok++;
    }
    tkms_secp_result got = tkms_secp_recover(digest, sig, addr);
    if (got != want) fail_msg("%s: got %d, want %d", name, (int)got, (int)want);
    if (want == TKMS_SECP_OK) assert_memory_equal(addr, exp + 12, 20);
    if (want == TKMS_SECP_HIGH_S && exp_len != 0) {
      uint8_t twin[65];
      malleate(sig, twin);
      assert_int_equal(tkms_secp_recover(digest, twin, addr), TKMS_SECP_OK);
      assert_memory_equal(addr, exp + 12, 20);
    }
  next:
    free(raw);
    free(exp);
  }
  print_message(
      "ecRecover: %zu vectors: %zu ok, %zu high-s (twin recovered), %zu invalid, "
      "%zu malformed, %zu unrepresentable v\n",
      json_array_size(all), n_ok, n_high, n_invalid, n_malformed, n_unrep);
  assert_int_equal(n_ok + n_high + n_invalid + n_malformed + n_unrep, json_array_size(all));
  json_decref(all);
}

/* ---- eth-eoa-basics.json ---- */

static void test_address_of_sk_1(void **state) {
  (void)state;
  json_t *j = tv_json("eth-eoa-basics.json");
  assert_non_null(j);
  uint8_t sk[32] = {0}, pub33[33], pub65[65], a1[20], a2[20], want[20];
  sk[31] = 1;
  hex_to(json_string_value(json_object_get(j, "address_of_sk_1")), want, 20);
  assert_int_equal(tkms_secp_pubkey(sk, pub33, pub65), 0);
  assert_int_equal(pub65[0], 0x04);
  tkms_eth_address(pub65, a1);
  assert_memory_equal(a1, want, 20);
  assert_int_equal(tkms_eth_address_from_pub33(pub33, a2), 0);
  assert_memory_equal(a2, want, 20);
  /* either output may be omitted */
  assert_int_equal(tkms_secp_pubkey(sk, NULL, pub65), 0);
  assert_int_equal(tkms_secp_pubkey(sk, pub33, NULL), 0);
  json_decref(j);
}

static void test_eip191(void **state) {
  (void)state;
  json_t *j = tv_json("eth-eoa-basics.json");
  assert_non_null(j);
  json_t *e = json_object_get(j, "eip191_personal_sign");
  const char *msg = json_string_value(json_object_get(e, "message_utf8"));
  uint8_t want[32], got[32], *pre;
  size_t pre_len;
  hex_to(json_string_value(json_object_get(e, "digest")), want, 32);
  tkms_eip191_digest(msg, strlen(msg), got);
  assert_memory_equal(got, want, 32);
  assert_int_equal(
      tv_hex_alloc(json_string_value(json_object_get(e, "prefixed_bytes_hex")), &pre, &pre_len), 0);
  tkms_keccak256(pre, pre_len, got);
  assert_memory_equal(got, want, 32);
  free(pre);
  json_decref(j);
}

static void test_eoa_signature_vector(void **state) {
  (void)state;
  json_t *j = tv_json("eth-eoa-basics.json");
  assert_non_null(j);
  json_t *v = json_object_get(j, "eoa_signature_vector");
  json_t *twin_j = json_object_get(v, "malleable_high_s_twin");
  uint8_t sk[32], pub65[65], want_pub[65], want_addr[20], addr[20], digest[32], want_digest[32];
  uint8_t sig[65], r[32], s_low[32], s_high[32], sum[32];
  const char *msg = json_string_value(json_object_get(v, "message_utf8"));

  hex_to(json_string_value(json_object_get(v, "sk")), sk, 32);
  hex_to(json_string_value(json_object_get(v, "pubkey_uncompressed")), want_pub, 65);
  hex_to(json_string_value(json_object_get(v, "address_eip55")), want_addr, 20);
  hex_to(json_string_value(json_object_get(v, "eip191_digest")), want_digest, 32);
  hex_to(json_string_value(json_object_get(v, "sig65_rsv_hex")), sig, 65);
  hex_to(json_string_value(json_object_get(v, "r")), r, 32);
  /* s_low is written without its leading zero nibble */
  const char *sl = json_string_value(json_object_get(v, "s_low"));
  char padded[67] = "0x";
  assert_true(strlen(sl) <= 66);
  size_t digits = strlen(sl) - 2;
  memset(padded + 2, '0', 64 - digits);
  memcpy(padded + 2 + 64 - digits, sl + 2, digits + 1);
  hex_to(padded, s_low, 32);
  hex_to(json_string_value(json_object_get(twin_j, "s_high")), s_high, 32);

  assert_int_equal(tkms_secp_pubkey(sk, NULL, pub65), 0);
  assert_memory_equal(pub65, want_pub, 65);
  tkms_eth_address(pub65, addr);
  assert_memory_equal(addr, want_addr, 20);
  tkms_eip191_digest(msg, strlen(msg), digest);
  assert_memory_equal(digest, want_digest, 32);

  /* the published low-s signature recovers the signer */
  assert_memory_equal(sig, r, 32);
  assert_memory_equal(sig + 32, s_low, 32);
  assert_int_equal(sig[64], json_integer_value(json_object_get(v, "v")));
  assert_int_equal(tkms_secp_recover(digest, sig, addr), TKMS_SECP_OK);
  assert_memory_equal(addr, want_addr, 20);

  /* its twin really is the twin (s_low + s_high = n) and must be refused */
  add256(s_low, s_high, sum);
  assert_memory_equal(sum, secp_n, 32);
  uint8_t twin[65];
  memcpy(twin, r, 32);
  memcpy(twin + 32, s_high, 32);
  twin[64] = (uint8_t)json_integer_value(json_object_get(twin_j, "v"));
  memset(addr, 0xAA, sizeof addr);
  assert_int_equal(tkms_secp_recover(digest, twin, addr), TKMS_SECP_HIGH_S);
  static const uint8_t zero20[20];
  assert_memory_equal(addr, zero20, 20);

  /* our own signature of the same digest: low-s, recovers the same signer */
  uint8_t mine[65];
  assert_int_equal(tkms_secp_sign(sk, digest, mine), 0);
  assert_true(memcmp(mine + 32, half_n, 32) <= 0);
  assert_int_equal(tkms_secp_recover(digest, mine, addr), TKMS_SECP_OK);
  assert_memory_equal(addr, want_addr, 20);
  json_decref(j);
}

/* ---- RFC 6979 ---- */

/* Widely published RFC 6979 secp256k1 answers (SHA-256 of the message, low s;
 * e.g. trezor-crypto's and bitcoinjs' test lists), re-checked with
 * @noble/curves, which also gave the recovery ids. */
static void test_rfc6979_known_answers(void **state) {
  (void)state;
  static const struct {
    const char *sk, *msg, *r, *s;
    int recid;
  } kat[] = {
      {"0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
       "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8",
       "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5", 1},
      {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
       "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0",
       "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5", 0},
      {"f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
       "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c",
       "58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea", 0},
  };
  for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
    uint8_t sk[32], digest[32], r[32], s[32], sig[65];
    hex_to(kat[i].sk, sk, 32);
    hex_to(kat[i].r, r, 32);
    hex_to(kat[i].s, s, 32);
    tkms_sha256(kat[i].msg, strlen(kat[i].msg), digest);
    assert_int_equal(tkms_secp_sign(sk, digest, sig), 0);
    assert_memory_equal(sig, r, 32);
    assert_memory_equal(sig + 32, s, 32);
    assert_int_equal(sig[64], 27 + kat[i].recid);
  }
}

/* ---- round trips ---- */

static void test_roundtrip_random_keys(void **state) {
  (void)state;
  for (int k = 0; k < ROUNDTRIP_KEYS; k++) {
    uint8_t sk[32], pub33[33], pub65[65], a65[20], a33[20], digest[32], sig[65], sig2[65];
    uint8_t addr[20], twin[65];
    assert_int_equal(tkms_secp_keygen(sk), 0);
    assert_int_equal(tkms_secp_sk_check(sk), 0);
    assert_int_equal(tkms_secp_pubkey(sk, pub33, pub65), 0);
    assert_true(pub33[0] == 0x02 || pub33[0] == 0x03);
    assert_memory_equal(pub33 + 1, pub65 + 1, 32); /* same x */
    tkms_eth_address(pub65, a65);
    assert_int_equal(tkms_eth_address_from_pub33(pub33, a33), 0);
    assert_memory_equal(a65, a33, 20);

    randombytes_buf(digest, sizeof digest);
    assert_int_equal(tkms_secp_sign(sk, digest, sig), 0);
    assert_true(memcmp(sig + 32, half_n, 32) <= 0);
    assert_true(sig[64] == 27 || sig[64] == 28);
    assert_int_equal(tkms_secp_recover(digest, sig, addr), TKMS_SECP_OK);
    assert_memory_equal(addr, a65, 20);

    /* deterministic: same key and digest, same signature */
    assert_int_equal(tkms_secp_sign(sk, digest, sig2), 0);
    assert_memory_equal(sig, sig2, 65);

    /* the high-s twin is refused */
    malleate(sig, twin);
    assert_int_equal(tkms_secp_recover(digest, twin, addr), TKMS_SECP_HIGH_S);

    /* a different digest recovers someone else (or nobody) */
    digest[k % 32] ^= 1;
    tkms_secp_result rc = tkms_secp_recover(digest, sig, addr);
    assert_true(rc != TKMS_SECP_OK || memcmp(addr, a65, 20) != 0);
    assert_int_equal(tkms_secp_sign(sk, digest, sig2), 0);
    assert_memory_not_equal(sig, sig2, 64);
  }
}

/* ---- refusals ---- */

static void expect_recover(const uint8_t digest[32], const uint8_t sig[65], tkms_secp_result want) {
  uint8_t addr[20];
  static const uint8_t zero20[20];
  memset(addr, 0xAA, sizeof addr);
  assert_int_equal(tkms_secp_recover(digest, sig, addr), want);
  if (want != TKMS_SECP_OK) assert_memory_equal(addr, zero20, 20);
}

static void test_recover_refusals(void **state) {
  (void)state;
  uint8_t sk[32] = {0}, digest[32], sig[65], bad[65];
  sk[31] = 7;
  tkms_sha256("refusals", 8, digest);
  assert_int_equal(tkms_secp_sign(sk, digest, sig), 0);
  expect_recover(digest, sig, TKMS_SECP_OK);

  static const uint8_t ff[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  uint8_t one[32] = {0};
  one[31] = 1;

  /* r = 0, s = 0 */
  memcpy(bad, sig, 65);
  memset(bad, 0, 32);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  memcpy(bad, sig, 65);
  memset(bad + 32, 0, 32);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  /* r = n, r = n + 1, r = 2^256 - 1 */
  memcpy(bad, sig, 65);
  memcpy(bad, secp_n, 32);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  add256(secp_n, one, bad);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  memcpy(bad, ff, 32);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  /* s = n, s = 2^256 - 1: out of range before they are "high" */
  memcpy(bad, sig, 65);
  memcpy(bad + 32, secp_n, 32);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  memcpy(bad + 32, ff, 32);
  expect_recover(digest, bad, TKMS_SECP_MALFORMED);
  /* s = n - 1 and s = n/2 + 1 are high; s = n/2 is the largest low s */
  memcpy(bad, sig, 65);
  sub256(secp_n, one, bad + 32);
  expect_recover(digest, bad, TKMS_SECP_HIGH_S);
  add256(half_n, one, bad + 32);
  expect_recover(digest, bad, TKMS_SECP_HIGH_S);
  memcpy(bad + 32, half_n, 32);
  uint8_t addr[20];
  tkms_secp_result rc = tkms_secp_recover(digest, bad, addr);
  assert_true(rc == TKMS_SECP_OK || rc == TKMS_SECP_INVALID);
  /* v outside {27, 28}, including the raw {0, 1} form */
  static const uint8_t bad_v[] = {0, 1, 2, 26, 29, 30, 35, 36, 255};
  for (size_t i = 0; i < sizeof bad_v; i++) {
    memcpy(bad, sig, 65);
    bad[64] = bad_v[i];
    expect_recover(digest, bad, TKMS_SECP_HIGH_S);
  }
  /* the other v is a valid signature of someone else, not of this signer */
  uint8_t signer[20], other[20];
  assert_int_equal(tkms_secp_recover(digest, sig, signer), TKMS_SECP_OK);
  memcpy(bad, sig, 65);
  bad[64] = sig[64] == 27 ? 28 : 27;
  rc = tkms_secp_recover(digest, bad, other);
  assert_true(rc != TKMS_SECP_OK || memcmp(signer, other, 20) != 0);
}

static void test_secret_key_checks(void **state) {
  (void)state;
  uint8_t sk[32] = {0}, pub65[65], sig[65], digest[32] = {1};
  static const uint8_t zero65[65];
  assert_int_equal(tkms_secp_sk_check(sk), -1); /* zero */
  assert_int_equal(tkms_secp_pubkey(sk, NULL, pub65), -1);
  memset(sig, 0xAA, sizeof sig);
  assert_int_equal(tkms_secp_sign(sk, digest, sig), -1);
  assert_memory_equal(sig, zero65, 65);
  memcpy(sk, secp_n, 32); /* n */
  assert_int_equal(tkms_secp_sk_check(sk), -1);
  assert_int_equal(tkms_secp_sign(sk, digest, sig), -1);
  memset(sk, 0xff, 32); /* 2^256 - 1 */
  assert_int_equal(tkms_secp_sk_check(sk), -1);
  uint8_t one[32] = {0};
  one[31] = 1;
  sub256(secp_n, one, sk); /* n - 1 */
  assert_int_equal(tkms_secp_sk_check(sk), 0);
  assert_int_equal(tkms_secp_sk_check(one), 0);
  /* calling init again is harmless */
  assert_int_equal(tkms_secp_init(), 0);
}

static void test_pub33_refusals(void **state) {
  (void)state;
  uint8_t sk[32] = {0}, pub33[33], addr[20];
  sk[31] = 1;
  assert_int_equal(tkms_secp_pubkey(sk, pub33, NULL), 0);
  uint8_t bad[33];
  memcpy(bad, pub33, 33);
  bad[0] = 0x04; /* not a compressed prefix */
  assert_int_equal(tkms_eth_address_from_pub33(bad, addr), -1);
  memset(bad + 1, 0xff, 32); /* x >= p */
  bad[0] = 0x02;
  assert_int_equal(tkms_eth_address_from_pub33(bad, addr), -1);
  memset(bad + 1, 0, 32); /* x = 0: 0^3 + 7 = 7 is not a square mod p */
  assert_int_equal(tkms_eth_address_from_pub33(bad, addr), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_geth_ecrecover),
      cmocka_unit_test(test_address_of_sk_1),
      cmocka_unit_test(test_eip191),
      cmocka_unit_test(test_eoa_signature_vector),
      cmocka_unit_test(test_rfc6979_known_answers),
      cmocka_unit_test(test_roundtrip_random_keys),
      cmocka_unit_test(test_recover_refusals),
      cmocka_unit_test(test_secret_key_checks),
      cmocka_unit_test(test_pub33_refusals),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
