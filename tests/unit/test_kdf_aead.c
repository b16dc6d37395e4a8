/* tests/unit/test_kdf_aead.c — HKDF-SHA256 (RFC 5869), SHA-256, and the
 * XChaCha20-Poly1305 sealing: round trips and every way a blob can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>
#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/ct.h"
#include "crypto/kdf.h"
#include "vectors.h"

static void fill_range(uint8_t *b, size_t n, uint8_t first) {
  for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(first + i);
}

static void expect_okm(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                       const uint8_t *info, size_t info_len, const char *hex) {
  uint8_t want[128], got[128];
  size_t n = strlen(hex) / 2;
  assert_true(n <= sizeof want);
  assert_int_equal(tv_hex(hex, want, n), 0);
  assert_int_equal(tkms_hkdf_sha256(salt, salt_len, ikm, ikm_len, info, info_len, got, n), 0);
  assert_memory_equal(got, want, n);
}

/* RFC 5869 appendix A, test cases 1-3 (SHA-256). */
static void test_hkdf_rfc5869(void **state) {
  (void)state;
  uint8_t ikm[80], salt[80], info[80];
  memset(ikm, 0x0b, 22);
  fill_range(salt, 13, 0x00);
  fill_range(info, 10, 0xf0);
  expect_okm(salt, 13, ikm, 22, info, 10,
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b8871858"
             "65");
  fill_range(ikm, 80, 0x00);
  fill_range(salt, 80, 0x60);
  fill_range(info, 80, 0xb0);
  expect_okm(salt, 80, ikm, 80, info, 80,
             "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271"
             "cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
  memset(ikm, 0x0b, 22);
  expect_okm(NULL, 0, ikm, 22, NULL, 0,
             "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96"
             "c8");
  /* an empty IKM is legal HKDF (value from Python's hmac module) */
  expect_okm(NULL, 0, NULL, 0, (const uint8_t *)"x", 1,
             "0dfd7b633e54fd3c77e68749c2c9a8899dd4a0e86dec0043242e714f6cc75913");
}

static void test_hkdf_limits(void **state) {
  (void)state;
  static uint8_t out[255 * 32 + 1];
  uint8_t ikm[32] = {1};
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, NULL, 0, out, 255 * 32), 0);
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, NULL, 0, out, 255 * 32 + 1), -1);
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, NULL, 0, out, 0), -1);
  assert_int_equal(tkms_hkdf_sha256(NULL, 5, ikm, 32, NULL, 0, out, 32), -1);
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, NULL, 32, NULL, 0, out, 32), -1);
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, NULL, 1, out, 32), -1);
  /* different purposes (info) give independent keys; a prefix of a longer
   * output equals the shorter output, as RFC 5869's T(1) ‖ T(2) … demands */
  uint8_t a[64], b[32], c[32];
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, (const uint8_t *)"seal", 4, a, 64), 0);
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, (const uint8_t *)"seal", 4, b, 32), 0);
  assert_int_equal(tkms_hkdf_sha256(NULL, 0, ikm, 32, (const uint8_t *)"sign", 4, c, 32), 0);
  assert_memory_equal(a, b, 32);
  assert_memory_not_equal(b, c, 32);
}

static void test_sha256(void **state) {
  (void)state;
  uint8_t got[32], want[32];
  tkms_sha256("abc", 3, got);
  assert_int_equal(
      tv_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32), 0);
  assert_memory_equal(got, want, 32);
  tkms_sha256("", 0, got);
  assert_int_equal(
      tv_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32), 0);
  assert_memory_equal(got, want, 32);
}

/* ---- AEAD ---- */

static const uint8_t ad[] = "key-id:42|v1|record";

static void test_aead_roundtrip(void **state) {
  (void)state;
  uint8_t key[32];
  randombytes_buf(key, sizeof key);
  static const size_t lens[] = {0, 1, 15, 16, 17, 64, 1000, 4096};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    size_t n = lens[i];
    uint8_t *pt = malloc(n + 1), *sealed = malloc(n + TKMS_AEAD_OVERHEAD);
    uint8_t *sealed2 = malloc(n + TKMS_AEAD_OVERHEAD), *back = malloc(n + 1);
    assert_non_null(pt);
    assert_non_null(sealed);
    assert_non_null(sealed2);
    assert_non_null(back);
    randombytes_buf(pt, n);
    assert_int_equal(tkms_aead_seal(key, ad, sizeof ad, pt, n, sealed), 0);
    assert_int_equal(tkms_aead_open(key, ad, sizeof ad, sealed, n + TKMS_AEAD_OVERHEAD, back), 0);
    assert_memory_equal(back, pt, n);
    /* the layout is nonce ‖ ciphertext ‖ tag, openable by libsodium directly */
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(back, NULL, NULL, sealed + 24,
                                                                n + 16, ad, sizeof ad, sealed, key),
                     0);
    assert_memory_equal(back, pt, n);
    /* a fresh random nonce each time: sealing twice gives different blobs */
    assert_int_equal(tkms_aead_seal(key, ad, sizeof ad, pt, n, sealed2), 0);
    assert_false(tkms_ct_equal(sealed, sealed2, 24));
    assert_memory_not_equal(sealed, sealed2, n + TKMS_AEAD_OVERHEAD);
    free(pt);
    free(sealed);
    free(sealed2);
    free(back);
  }
  /* no associated data at all */
  uint8_t s[TKMS_AEAD_OVERHEAD + 3], b[3];
  assert_int_equal(tkms_aead_seal(key, NULL, 0, (const uint8_t *)"abc", 3, s), 0);
  assert_int_equal(tkms_aead_open(key, NULL, 0, s, sizeof s, b), 0);
  assert_memory_equal(b, "abc", 3);
}

static void expect_open_fails(const uint8_t key[32], const uint8_t *a, size_t a_len,
                              const uint8_t *sealed, size_t len) {
  uint8_t out[64];
  memset(out, 0xAA, sizeof out);
  assert_true(len >= TKMS_AEAD_OVERHEAD && len - TKMS_AEAD_OVERHEAD <= sizeof out);
  assert_int_equal(tkms_aead_open(key, a, a_len, sealed, len, out), -1);
  assert_true(tkms_ct_is_zero(out, len - TKMS_AEAD_OVERHEAD));
}

/* Flipping any bit of nonce, ciphertext, tag, key or associated data must
 * make the blob unopenable: a swapped or edited record is never used. */
static void test_aead_tamper(void **state) {
  (void)state;
  uint8_t key[32], pt[32], sealed[32 + TKMS_AEAD_OVERHEAD], a[sizeof ad];
  randombytes_buf(key, sizeof key);
  randombytes_buf(pt, sizeof pt);
  memcpy(a, ad, sizeof ad);
  assert_int_equal(tkms_aead_seal(key, a, sizeof a, pt, sizeof pt, sealed), 0);
  for (size_t i = 0; i < sizeof sealed; i++) {
    for (int bit = 0; bit < 8; bit += 7) {
      sealed[i] ^= (uint8_t)(1u << bit);
      expect_open_fails(key, a, sizeof a, sealed, sizeof sealed);
      sealed[i] ^= (uint8_t)(1u << bit);
    }
  }
  for (size_t i = 0; i < sizeof a; i++) {
    a[i] ^= 0x01;
    expect_open_fails(key, a, sizeof a, sealed, sizeof sealed);
    a[i] ^= 0x01;
  }
  /* shorter or longer associated data, no associated data */
  expect_open_fails(key, a, sizeof a - 1, sealed, sizeof sealed);
  expect_open_fails(key, NULL, 0, sealed, sizeof sealed);
  for (size_t i = 0; i < sizeof key; i++) {
    key[i] ^= 0x80;
    expect_open_fails(key, a, sizeof a, sealed, sizeof sealed);
    key[i] ^= 0x80;
  }
  /* truncated blobs (a dropped tag byte, a dropped ciphertext byte) */
  expect_open_fails(key, a, sizeof a, sealed, sizeof sealed - 1);
  expect_open_fails(key, a, sizeof a, sealed, TKMS_AEAD_OVERHEAD);
  /* untouched, it still opens */
  uint8_t out[32];
  assert_int_equal(tkms_aead_open(key, a, sizeof a, sealed, sizeof sealed, out), 0);
  assert_memory_equal(out, pt, sizeof pt);
}

static void test_aead_short_blob(void **state) {
  (void)state;
  uint8_t key[32] = {0}, blob[TKMS_AEAD_OVERHEAD] = {0}, out[1];
  for (size_t len = 0; len < TKMS_AEAD_OVERHEAD; len++) {
    assert_int_equal(tkms_aead_open(key, NULL, 0, blob, len, out), -1);
  }
}

static void test_ct_helpers(void **state) {
  (void)state;
  uint8_t a[16] = {0}, b[16] = {0};
  assert_true(tkms_ct_equal(a, b, sizeof a));
  assert_true(tkms_ct_is_zero(a, sizeof a));
  b[15] = 1;
  assert_false(tkms_ct_equal(a, b, sizeof a));
  assert_false(tkms_ct_is_zero(b, sizeof b));
  assert_true(tkms_ct_equal(a, b, 15));
}

static int group_setup(void **state) {
  (void)state;
  return sodium_init() < 0 ? -1 : 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hkdf_rfc5869), cmocka_unit_test(test_hkdf_limits),
      cmocka_unit_test(test_sha256),       cmocka_unit_test(test_aead_roundtrip),
      cmocka_unit_test(test_aead_tamper),  cmocka_unit_test(test_aead_short_blob),
      cmocka_unit_test(test_ct_helpers),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
