/* tests/unit/test_keccak.c — Keccak-256: known answers, block boundaries,
 * incremental = one-shot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "crypto/keccak.h"
#include "vectors.h"

#define MAX_LEN 300

static void expect_hash(const void *in, size_t len, const char *hex) {
  uint8_t got[32], want[32];
  assert_int_equal(tv_hex(hex, want, 32), 0);
  tkms_keccak256(in, len, got);
  assert_memory_equal(got, want, 32);
}

static void pattern(uint8_t *m, size_t len) {
  for (size_t i = 0; i < len; i++) m[i] = (uint8_t)(i * 7 + 3);
}

static void test_known_answers(void **state) {
  (void)state;
  expect_hash("", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  expect_hash("abc", 3, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

/* Every keccak256 answer in eth-eoa-basics.json, and a check that the SHA3-256
 * answers there are *not* what we compute (the classic mix-up: same rate,
 * different padding byte). */
static void test_eoa_basics_file(void **state) {
  (void)state;
  json_t *j = tv_json("eth-eoa-basics.json");
  assert_non_null(j);
  json_t *kec = json_object_get(j, "keccak256");
  json_t *sha3 = json_object_get(j, "sha3_256_FIPS202");
  assert_true(json_object_size(kec) >= 2);
  const char *msg;
  json_t *v;
  size_t n = 0;
  json_object_foreach(kec, msg, v) {
    expect_hash(msg, strlen(msg), json_string_value(v));
    n++;
  }
  assert_int_equal(n, json_object_size(kec));
  json_object_foreach(sha3, msg, v) {
    uint8_t got[32], other[32];
    assert_int_equal(tv_hex(json_string_value(v), other, 32), 0);
    tkms_keccak256(msg, strlen(msg), got);
    assert_memory_not_equal(got, other, 32);
  }
  json_decref(j);
}

/* Lengths around the 136-byte rate, where padding either fits in the last
 * block or needs a new one. Expected values computed with @noble/hashes
 * keccak_256 (an independent implementation). */
static void test_block_boundaries(void **state) {
  (void)state;
  static const struct {
    size_t len;
    const char *hex;
  } kat[] = {
      {135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"},
      {136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"},
      {137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39"},
      {200, "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d"},
      {272, "cf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8"},
      {273, "5a7b8187d2778e614097fac3097573de1fee4d972304d3360796a857029bb176"},
  };
  uint8_t m[MAX_LEN];
  memset(m, 'a', sizeof m);
  for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) expect_hash(m, kat[i].len, kat[i].hex);
}

/* keccak256(H(p[0..0]) ‖ H(p[0..1]) ‖ … ‖ H(p[0..300])) for p[i] = 7i + 3:
 * one value that pins the digest of every length from 0 to 300. Expected
 * value from @noble/hashes keccak_256. */
static void test_all_lengths_chain(void **state) {
  (void)state;
  uint8_t m[MAX_LEN];
  static uint8_t cat[(MAX_LEN + 1) * 32];
  pattern(m, sizeof m);
  for (size_t len = 0; len <= MAX_LEN; len++) tkms_keccak256(m, len, cat + 32 * len);
  expect_hash(cat, sizeof cat, "2c42f3ea255cc9e489b3111815c1014717c9fe06d269a2b51cbc4d99c5390a8b");
}

static void hash_in_chunks(const uint8_t *m, size_t len, size_t chunk, uint8_t out[32]) {
  tkms_keccak_ctx c;
  tkms_keccak256_init(&c);
  for (size_t off = 0; off < len; off += chunk) {
    tkms_keccak256_update(&c, m + off, len - off < chunk ? len - off : chunk);
  }
  tkms_keccak256_final(&c, out);
}

static void test_incremental_equals_oneshot(void **state) {
  (void)state;
  /* +1 so the input can also start at an odd address */
  uint8_t buf[MAX_LEN + 1];
  const uint8_t *m = buf + 1;
  pattern(buf + 1, MAX_LEN);
  static const size_t chunks[] = {1, 2, 3, 7, 8, 9, 64, 135, 136, 137, 299};
  for (size_t len = 0; len <= MAX_LEN; len++) {
    uint8_t one[32], inc[32];
    tkms_keccak256(m, len, one);
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
      hash_in_chunks(m, len, chunks[k], inc);
      assert_memory_equal(one, inc, 32);
    }
  }
  /* every two-way split of the boundary lengths, with empty updates between */
  static const size_t lens[] = {135, 136, 137, 271, 272, 273};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    uint8_t one[32], inc[32];
    tkms_keccak256(m, lens[i], one);
    for (size_t cut = 0; cut <= lens[i]; cut++) {
      tkms_keccak_ctx c;
      tkms_keccak256_init(&c);
      tkms_keccak256_update(&c, m, cut);
      tkms_keccak256_update(&c, m, 0);
      tkms_keccak256_update(&c, m + cut, lens[i] - cut);
      tkms_keccak256_final(&c, inc);
      assert_memory_equal(one, inc, 32);
    }
  }
}

static void test_distinct_and_wiped(void **state) {
  (void)state;
  uint8_t a[32], b[32];
  uint8_t m[MAX_LEN];
  pattern(m, sizeof m);
  /* one flipped bit anywhere changes the digest */
  tkms_keccak256(m, sizeof m, a);
  for (size_t i = 0; i < sizeof m; i += 13) {
    m[i] ^= 0x80;
    tkms_keccak256(m, sizeof m, b);
    assert_memory_not_equal(a, b, 32);
    m[i] ^= 0x80;
  }
  /* a trailing zero byte is not the same message (padding is unambiguous) */
  uint8_t z[2] = {0, 0};
  tkms_keccak256(z, 1, a);
  tkms_keccak256(z, 2, b);
  assert_memory_not_equal(a, b, 32);

  tkms_keccak_ctx c, zero;
  memset(&zero, 0, sizeof zero);
  tkms_keccak256_init(&c);
  tkms_keccak256_update(&c, "secret", 6);
  tkms_keccak256_final(&c, a);
  assert_memory_equal(&c, &zero, sizeof c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_eoa_basics_file),
      cmocka_unit_test(test_block_boundaries),
      cmocka_unit_test(test_all_lengths_chain),
      cmocka_unit_test(test_incremental_equals_oneshot),
      cmocka_unit_test(test_distinct_and_wiped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
