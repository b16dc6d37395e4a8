/* tests/unit/test_sethash.c — the ECMH multiset hash behind the manifest:
 * known answers, order independence, add/remove inverses, distinct sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "crypto/sethash.h"
#include "vectors.h"

#define MANY 40

static void digest_of(const tkms_sethash *h, uint8_t out[33]) {
  tkms_sethash_digest(h, out);
}

static void empty_digest(uint8_t out[33]) {
  tkms_sethash h;
  assert_int_equal(tkms_sethash_init(&h), 0);
  digest_of(&h, out);
}

static void add_str(tkms_sethash *h, const char *s) {
  assert_int_equal(tkms_sethash_add(h, s, strlen(s)), 0);
}

static void remove_str(tkms_sethash *h, const char *s) {
  assert_int_equal(tkms_sethash_remove(h, s, strlen(s)), 0);
}

/* Expected values from an independent Python model of the construction in
 * sethash.h (SHA-256 try-and-increment to an even-y point, affine addition).
 * "alpha" needs a second try (ctr = 1), so the retry path is pinned too. */
static void test_known_answers(void **state) {
  (void)state;
  uint8_t d[33], want[33];
  tkms_sethash h;
  assert_int_equal(tkms_sethash_init(&h), 0);
  digest_of(&h, d);
  assert_int_equal(
      tv_hex("02da0aebe199bd5b389d3f9277bd3b044be885c1d3b223631c90a9a5c820a3c2d7", want, 33), 0);
  assert_memory_equal(d, want, 33);
  add_str(&h, "alpha");
  digest_of(&h, d);
  assert_int_equal(
      tv_hex("02857f28af3c5c7f760630d120c405b598d2351505ac6c5c31be20143f567e5f65", want, 33), 0);
  assert_memory_equal(d, want, 33);
  add_str(&h, "beta");
  digest_of(&h, d);
  assert_int_equal(
      tv_hex("02025c39a952d03aaff627b0547da3742073a1a019ee533ce90c0a0db354097e2f", want, 33), 0);
  assert_memory_equal(d, want, 33);
}

static void test_order_independent(void **state) {
  (void)state;
  static const char *elems[3] = {"key:1", "key:2", "key:3"};
  static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  uint8_t first[33], d[33];
  for (int p = 0; p < 6; p++) {
    tkms_sethash h;
    assert_int_equal(tkms_sethash_init(&h), 0);
    for (int i = 0; i < 3; i++) add_str(&h, elems[perms[p][i]]);
    digest_of(&h, d);
    if (p == 0) memcpy(first, d, 33);
    assert_memory_equal(d, first, 33);
  }
  /* many elements, forwards and in a stride-7 shuffle */
  char buf[32];
  tkms_sethash fwd, shuf;
  assert_int_equal(tkms_sethash_init(&fwd), 0);
  assert_int_equal(tkms_sethash_init(&shuf), 0);
  for (int i = 0; i < MANY; i++) {
    snprintf(buf, sizeof buf, "record-%d", i);
    add_str(&fwd, buf);
    snprintf(buf, sizeof buf, "record-%d", (i * 7) % MANY); /* 7 is coprime to 40 */
    add_str(&shuf, buf);
  }
  uint8_t a[33], b[33];
  digest_of(&fwd, a);
  digest_of(&shuf, b);
  assert_memory_equal(a, b, 33);
}

static void test_add_then_remove_is_empty(void **state) {
  (void)state;
  uint8_t empty[33], d[33];
  empty_digest(empty);
  tkms_sethash h;
  assert_int_equal(tkms_sethash_init(&h), 0);
  char buf[32];
  for (int i = 0; i < MANY; i++) {
    snprintf(buf, sizeof buf, "k%d", i);
    add_str(&h, buf);
  }
  digest_of(&h, d);
  assert_memory_not_equal(d, empty, 33);
  for (int i = MANY - 1; i >= 0; i -= 2) { /* remove in a different order */
    snprintf(buf, sizeof buf, "k%d", i);
    remove_str(&h, buf);
  }
  for (int i = 0; i < MANY; i += 2) {
    snprintf(buf, sizeof buf, "k%d", i);
    remove_str(&h, buf);
  }
  digest_of(&h, d);
  assert_memory_equal(d, empty, 33);
  /* the empty element is an element like any other */
  assert_int_equal(tkms_sethash_add(&h, NULL, 0), 0);
  digest_of(&h, d);
  assert_memory_not_equal(d, empty, 33);
  assert_int_equal(tkms_sethash_remove(&h, "", 0), 0);
  digest_of(&h, d);
  assert_memory_equal(d, empty, 33);
}

static void test_different_sets_differ(void **state) {
  (void)state;
  uint8_t d[6][33];
  tkms_sethash h;
  /* {}, {a}, {b}, {a,b}, {a,c}, {a,a} */
  assert_int_equal(tkms_sethash_init(&h), 0);
  digest_of(&h, d[0]);
  add_str(&h, "a");
  digest_of(&h, d[1]);
  add_str(&h, "a"); /* a multiset: twice is not once */
  digest_of(&h, d[5]);
  assert_int_equal(tkms_sethash_init(&h), 0);
  add_str(&h, "b");
  digest_of(&h, d[2]);
  add_str(&h, "a");
  digest_of(&h, d[3]);
  assert_int_equal(tkms_sethash_init(&h), 0);
  add_str(&h, "a");
  add_str(&h, "c");
  digest_of(&h, d[4]);
  for (int i = 0; i < 6; i++) {
    for (int j = i + 1; j < 6; j++) assert_memory_not_equal(d[i], d[j], 33);
  }
  /* element boundaries matter: {"ab"} is not {"a","b"} */
  uint8_t ab[33];
  assert_int_equal(tkms_sethash_init(&h), 0);
  add_str(&h, "ab");
  digest_of(&h, ab);
  assert_memory_not_equal(ab, d[3], 33);
}

static void test_remove_unknown_then_add_back(void **state) {
  (void)state;
  uint8_t orig[33], d[33];
  tkms_sethash h;
  assert_int_equal(tkms_sethash_init(&h), 0);
  add_str(&h, "x");
  add_str(&h, "y");
  digest_of(&h, orig);
  remove_str(&h, "never-added");
  digest_of(&h, d);
  assert_memory_not_equal(d, orig, 33);
  add_str(&h, "never-added");
  digest_of(&h, d);
  assert_memory_equal(d, orig, 33);
  /* and from the empty set */
  uint8_t empty[33];
  empty_digest(empty);
  assert_int_equal(tkms_sethash_init(&h), 0);
  remove_str(&h, "ghost");
  add_str(&h, "ghost");
  digest_of(&h, d);
  assert_memory_equal(d, empty, 33);
}

static void test_refusals(void **state) {
  (void)state;
  tkms_sethash h;
  assert_int_equal(tkms_sethash_init(NULL), -1);
  assert_int_equal(tkms_sethash_add(NULL, "a", 1), -1);
  assert_int_equal(tkms_sethash_init(&h), 0);
  assert_int_equal(tkms_sethash_add(&h, NULL, 1), -1);
  /* a corrupted state is refused and left as it was */
  tkms_sethash bad = h;
  bad.point[0] = 0x05;
  tkms_sethash copy = bad;
  assert_int_equal(tkms_sethash_add(&bad, "a", 1), -1);
  assert_int_equal(tkms_sethash_remove(&bad, "a", 1), -1);
  assert_memory_equal(&bad, &copy, sizeof bad);
  /* x >= p is not a point either */
  memset(bad.point + 1, 0xff, 32);
  bad.point[0] = 0x02;
  assert_int_equal(tkms_sethash_add(&bad, "a", 1), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_order_independent),
      cmocka_unit_test(test_add_then_remove_is_empty),
      cmocka_unit_test(test_different_sets_differ),
      cmocka_unit_test(test_remove_unknown_then_add_back),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
