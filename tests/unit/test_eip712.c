/* tests/unit/test_eip712.c — EIP-712 primitives, and every case of geth's
 * typed-data test file encoded through them by the generic encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "crypto/eip712.h"
#include "crypto/keccak.h"
#include "typed_data.h"
#include "vectors.h"

#define GETH_TYPED_DATA "geth-eip712-typed-data.json"
#define GETH_TYPED_DATA_CASES 123

static void hex32(const char *hex, uint8_t out[32]) {
  assert_int_equal(tv_hex(hex, out, 32), 0);
}

/* ---- the primitives ---- */

static void test_words(void **state) {
  (void)state;
  uint8_t w[32], want[32] = {0};

  tkms_eip712_word_uint64(0x0102030405060708ull, w);
  memcpy(want + 24, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  assert_memory_equal(w, want, 32);

  tkms_eip712_word_bool(7, w); /* any true value encodes as 1 */
  memset(want, 0, 32);
  want[31] = 1;
  assert_memory_equal(w, want, 32);
  tkms_eip712_word_bool(0, w);
  want[31] = 0;
  assert_memory_equal(w, want, 32);

  uint8_t addr[20];
  for (int i = 0; i < 20; i++) addr[i] = (uint8_t)(0xA0 + i);
  tkms_eip712_word_address(addr, w);
  memcpy(want + 12, addr, 20);
  assert_memory_equal(w, want, 32);

  /* bytesN is right-padded, unlike every number */
  assert_int_equal(tkms_eip712_word_bytes_n((const uint8_t *)"\xAB\xCD", 2, w), 0);
  memset(want, 0, 32);
  want[0] = 0xAB;
  want[1] = 0xCD;
  assert_memory_equal(w, want, 32);
  uint8_t big[33] = {0};
  assert_int_equal(tkms_eip712_word_bytes_n(big, 0, w), -1);
  assert_int_equal(tkms_eip712_word_bytes_n(big, 33, w), -1);
  assert_int_equal(tkms_eip712_word_bytes_n(big, 32, w), 0);

  uint8_t k[32];
  tkms_eip712_word_dynamic("abc", 3, w);
  tkms_keccak256("abc", 3, k);
  assert_memory_equal(w, k, 32);

  /* an array hashes the concatenation of its element words */
  uint8_t elems[2][32], cat[64];
  memset(elems[0], 0x11, 32);
  memset(elems[1], 0x22, 32);
  memcpy(cat, elems[0], 32);
  memcpy(cat + 32, elems[1], 32);
  tkms_eip712_word_array((const uint8_t(*)[32])elems, 2, w);
  tkms_keccak256(cat, 64, k);
  assert_memory_equal(w, k, 32);
  tkms_eip712_word_array(NULL, 0, w);
  tkms_keccak256("", 0, k);
  assert_memory_equal(w, k, 32);
}

/* The "Ether Mail" example of the EIP-712 text, assembled by hand from the
 * primitives (the values are those published in the EIP). */
static void test_ether_mail_by_hand(void **state) {
  (void)state;
  uint8_t th_domain[32], th_mail[32], th_person[32], words[5][32];
  tkms_eip712_type_hash(
      "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
      th_domain);
  tkms_eip712_type_hash(
      "Mail(Person from,Person to,string contents)"
      "Person(string name,address wallet)",
      th_mail);
  tkms_eip712_type_hash("Person(string name,address wallet)", th_person);
  uint8_t want[32];
  hex32("a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2", want);
  assert_memory_equal(th_mail, want, 32);

  uint8_t addr[20], dsep[32], from[32], to[32], mail[32], digest[32], pre[66];
  tkms_eip712_word_dynamic("Ether Mail", 10, words[0]);
  tkms_eip712_word_dynamic("1", 1, words[1]);
  tkms_eip712_word_uint64(1, words[2]);
  assert_int_equal(tv_hex("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC", addr, 20), 0);
  tkms_eip712_word_address(addr, words[3]);
  tkms_eip712_hash_struct(th_domain, (const uint8_t(*)[32])words, 4, dsep);
  hex32("f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", want);
  assert_memory_equal(dsep, want, 32);

  tkms_eip712_word_dynamic("Cow", 3, words[0]);
  assert_int_equal(tv_hex("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", addr, 20), 0);
  tkms_eip712_word_address(addr, words[1]);
  tkms_eip712_hash_struct(th_person, (const uint8_t(*)[32])words, 2, from);
  tkms_eip712_word_dynamic("Bob", 3, words[0]);
  assert_int_equal(tv_hex("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", addr, 20), 0);
  tkms_eip712_word_address(addr, words[1]);
  tkms_eip712_hash_struct(th_person, (const uint8_t(*)[32])words, 2, to);
  memcpy(words[0], from, 32);
  memcpy(words[1], to, 32);
  tkms_eip712_word_dynamic("Hello, Bob!", 11, words[2]);
  tkms_eip712_hash_struct(th_mail, (const uint8_t(*)[32])words, 3, mail);
  hex32("c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e", want);
  assert_memory_equal(mail, want, 32);

  tkms_eip712_preimage(dsep, mail, pre);
  assert_int_equal(pre[0], 0x19);
  assert_int_equal(pre[1], 0x01);
  assert_memory_equal(pre + 2, dsep, 32);
  assert_memory_equal(pre + 34, mail, 32);
  tkms_eip712_digest(dsep, mail, digest);
  hex32("be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", want);
  assert_memory_equal(digest, want, 32);
  tkms_keccak256(pre, sizeof pre, want);
  assert_memory_equal(digest, want, 32);
}

/* ---- geth's typed-data file, all of it ---- */

/* Geth's own test (apitypes TestTypedDataArrayValidate) loads every case and
 * requires HashStruct of domain and message to succeed and the digest to
 * match: the file holds no negative cases (every entry has a non-empty
 * "encoded" and "digest"). A case without them would be a must-fail case
 * here, so that convention is handled too; refusals are tested below on
 * mutated copies of the file's cases. */
static void test_geth_typed_data_all(void **state) {
  (void)state;
  json_t *all = tv_json(GETH_TYPED_DATA);
  assert_non_null(all);
  assert_true(json_is_array(all));
  assert_int_equal(json_array_size(all), GETH_TYPED_DATA_CASES);

  size_t i, matched = 0, refused = 0;
  json_t *c;
  json_array_foreach(all, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *enc_hex = json_string_value(json_object_get(c, "encoded"));
    const char *dig_hex = json_string_value(json_object_get(c, "digest"));
    json_t *types = json_object_get(c, "types");
    const char *primary = json_string_value(json_object_get(c, "primaryType"));
    assert_non_null(name);
    assert_non_null(primary);
    uint8_t digest[32];
    int must_fail = (dig_hex == NULL || dig_hex[0] == '\0');
    if (must_fail) {
      if (td_digest(c, digest) != 0)
        refused++;
      else
        fail_msg("case %zu (%s) should have been refused", i, name);
      continue;
    }
    uint8_t want[32];
    hex32(dig_hex, want);
    if (td_digest(c, digest) != 0) fail_msg("case %zu (%s): encoder refused it", i, name);
    if (memcmp(digest, want, 32) != 0) fail_msg("case %zu (%s): digest differs", i, name);
    if (enc_hex != NULL && enc_hex[0] != '\0') {
      uint8_t *enc, *want_enc;
      size_t enc_len, want_len;
      assert_int_equal(tv_hex_alloc(enc_hex, &want_enc, &want_len), 0);
      assert_int_equal(td_encode_data(types, primary, json_object_get(c, "data"), &enc, &enc_len),
                       0);
      if (enc_len != want_len || memcmp(enc, want_enc, enc_len) != 0) {
        fail_msg("case %zu (%s): encoded differs", i, name);
      }
      free(enc);
      free(want_enc);
    }
    matched++;
  }
  print_message("geth typed data: %zu of %d matched, %zu expected-to-fail refused\n", matched,
                GETH_TYPED_DATA_CASES, refused);
  assert_int_equal(matched + refused, GETH_TYPED_DATA_CASES);
  json_decref(all);
}

static json_t *find_case(json_t *all, const char *name) {
  size_t i;
  json_t *c;
  json_array_foreach(all, i, c) {
    if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0) return c;
  }
  return NULL;
}

/* The Ether Mail case of the file, then small mutations of it that a strict
 * encoder must refuse (each is a way to make a wallet display one thing and
 * the signature cover another). */
static void test_geth_mutations_refused(void **state) {
  (void)state;
  json_t *all = tv_json(GETH_TYPED_DATA);
  assert_non_null(all);
  json_t *base = find_case(all, "EIP712 example");
  assert_non_null(base);
  uint8_t d[32];
  assert_int_equal(td_digest(base, d), 0);

  char *enc_type;
  assert_int_equal(td_encode_type(json_object_get(base, "types"), "Mail", &enc_type), 0);
  assert_string_equal(enc_type,
                      "Mail(Person from,Person to,string contents)Person(string name,address "
                      "wallet)");
  free(enc_type);

  json_t *m;
  /* a field missing from the message */
  m = json_deep_copy(base);
  json_object_del(json_object_get(m, "data"), "contents");
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  /* an extra field the types do not sign */
  m = json_deep_copy(base);
  json_object_set_new(json_object_get(m, "data"), "extra", json_string("x"));
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  /* an address one byte short */
  m = json_deep_copy(base);
  json_object_set_new(json_object_get(json_object_get(m, "data"), "from"), "wallet",
                      json_string("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD8"));
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  /* a struct where a string belongs */
  m = json_deep_copy(base);
  json_object_set_new(json_object_get(m, "data"), "contents", json_object());
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  /* an unknown member type */
  m = json_deep_copy(base);
  json_object_set_new(json_array_get(json_object_get(json_object_get(m, "types"), "Mail"), 2),
                      "type", json_string("text"));
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  /* an unknown primary type */
  m = json_deep_copy(base);
  json_object_set_new(m, "primaryType", json_string("Letter"));
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  /* a chainId that is not a number */
  m = json_deep_copy(base);
  json_object_set_new(json_object_get(m, "domain"), "chainId", json_string("one"));
  assert_int_equal(td_digest(m, d), -1);
  json_decref(m);
  json_decref(all);
}

/* ---- atomic encodings through the generic encoder ---- */

/* Encodes {"v": value} under {"T": [{"name": "v", "type": type}]} and returns
 * the single data word, or -1. */
static int encode_single(const char *type, const char *value_json, uint8_t w[32]) {
  json_error_t err;
  json_t *types = json_pack("{s:[{s:s,s:s}]}", "T", "name", "v", "type", type);
  json_t *val = json_loads(value_json, JSON_DECODE_ANY, &err);
  assert_non_null(types);
  assert_non_null(val);
  json_t *obj = json_pack("{s:o}", "v", val);
  uint8_t *enc;
  size_t len;
  int rc = td_encode_data(types, "T", obj, &enc, &len);
  if (rc == 0) {
    assert_int_equal(len, 64);
    memcpy(w, enc + 32, 32);
    free(enc);
  }
  json_decref(obj);
  json_decref(types);
  return rc;
}

static void expect_word(const char *type, const char *value_json, const char *hex) {
  uint8_t w[32], want[32];
  if (encode_single(type, value_json, w) != 0) fail_msg("%s %s refused", type, value_json);
  hex32(hex, want);
  assert_memory_equal(w, want, 32);
}

static void expect_refused(const char *type, const char *value_json) {
  uint8_t w[32];
  if (encode_single(type, value_json, w) == 0) fail_msg("%s %s accepted", type, value_json);
}

#define FF32 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static void test_integer_words(void **state) {
  (void)state;
  expect_word("uint8", "255", "00000000000000000000000000000000000000000000000000000000000000ff");
  expect_word("uint8", "\"0xff\"",
              "00000000000000000000000000000000000000000000000000000000000000ff");
  expect_refused("uint8", "256");
  expect_refused("uint8", "-1");
  expect_refused("uint8", "\"0x100\"");
  expect_word("uint256", "\"0x" FF32 "\"", FF32);
  expect_refused("uint256", "\"0x1" FF32 "\"");
  /* 2^256 - 1 and 2^256 in decimal */
  expect_word("uint256",
              "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
              FF32);
  expect_refused(
      "uint256",
      "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"");
  /* negative intN is the 256-bit two's complement (sign-extended) */
  expect_word("int8", "-1", FF32);
  expect_word("int8", "-128", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80");
  expect_word("int8", "127", "000000000000000000000000000000000000000000000000000000000000007f");
  expect_refused("int8", "128");
  expect_refused("int8", "-129");
  expect_word("int64", "\"-9223372036854775808\"",
              "ffffffffffffffffffffffffffffffffffffffffffffffff8000000000000000");
  expect_word("int256", "\"-0x8000000000000000000000000000000000000000000000000000000000000000\"",
              "8000000000000000000000000000000000000000000000000000000000000000");
  expect_refused("int256",
                 "\"-0x8000000000000000000000000000000000000000000000000000000000000001\"");
  expect_refused("int256",
                 "\"0x8000000000000000000000000000000000000000000000000000000000000000\"");
  expect_word("int16", "\"-0\"",
              "0000000000000000000000000000000000000000000000000000000000000000");
  expect_refused("uint7", "1");
  expect_refused("uint264", "1");
  expect_refused("uint", "1");
  expect_refused("uint08", "1");
  expect_refused("uint256", "\"12a\"");
  expect_refused("uint256", "\"\"");
  expect_refused("uint256", "1.5");
  expect_refused("uint256", "true");
}

static void test_other_atomic_words(void **state) {
  (void)state;
  expect_word("bytes2", "\"0xabcd\"",
              "abcd000000000000000000000000000000000000000000000000000000000000");
  expect_refused("bytes2", "\"0xabcdef\"");
  expect_refused("bytes2", "\"0xab\"");
  expect_refused("bytes0", "\"0x\"");
  expect_refused("bytes33", "\"0x00\"");
  expect_word("bool", "true", "0000000000000000000000000000000000000000000000000000000000000001");
  expect_refused("bool", "\"true\"");
  expect_refused("bool", "1");
  /* keccak256("") for an empty string and empty bytes */
  expect_word("string", "\"\"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  expect_word("bytes", "\"0x\"",
              "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  expect_word("string", "\"abc\"",
              "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  expect_word("bytes", "\"0x616263\"",
              "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  expect_refused("bytes", "\"0x616\"");
  expect_refused("bytes", "\"616263\"");
  expect_refused("string", "3");
  expect_refused("address", "\"0x00\"");
}

static void test_arrays(void **state) {
  (void)state;
  uint8_t w[32], want[32], words[2][32];
  /* uint8[2] = keccak(word(1) ‖ word(2)) */
  tkms_eip712_word_uint64(1, words[0]);
  tkms_eip712_word_uint64(2, words[1]);
  tkms_eip712_word_array((const uint8_t(*)[32])words, 2, want);
  assert_int_equal(encode_single("uint8[2]", "[1, 2]", w), 0);
  assert_memory_equal(w, want, 32);
  assert_int_equal(encode_single("uint8[]", "[1, 2]", w), 0);
  assert_memory_equal(w, want, 32);
  expect_refused("uint8[3]", "[1, 2]");
  expect_refused("uint8[1]", "[1, 2]");
  expect_refused("uint8[]", "1");
  expect_refused("uint8[x]", "[1]");
  expect_refused("[]", "[1]");
  /* nested: bool[1][2] = keccak(keccak(word(true)) ‖ keccak(word(false))) */
  uint8_t inner[1][32];
  tkms_eip712_word_bool(1, inner[0]);
  tkms_eip712_word_array((const uint8_t(*)[32])inner, 1, words[0]);
  tkms_eip712_word_bool(0, inner[0]);
  tkms_eip712_word_array((const uint8_t(*)[32])inner, 1, words[1]);
  tkms_eip712_word_array((const uint8_t(*)[32])words, 2, want);
  assert_int_equal(encode_single("bool[1][2]", "[[true], [false]]", w), 0);
  assert_memory_equal(w, want, 32);
  expect_refused("bool[1][2]", "[[true, false], [false]]");
  /* the empty dynamic array is keccak256("") */
  expect_word("string[]", "[]", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_words),
      cmocka_unit_test(test_ether_mail_by_hand),
      cmocka_unit_test(test_geth_typed_data_all),
      cmocka_unit_test(test_geth_mutations_refused),
      cmocka_unit_test(test_integer_words),
      cmocka_unit_test(test_other_atomic_words),
      cmocka_unit_test(test_arrays),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
