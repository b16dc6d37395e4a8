/* tests/unit/test_bn254.c — BN254 public API: every go-ethereum precompile vector (0x06, 0x07,
 * 0x08) read at run time from ../shared/vectors/ (or $TKMS_VECTORS), each refusal, the
 * scalar rules, bilinearity e(aP, bQ) = e(P, Q)^(ab), and the portable (non-assembly) path.
 * Field and curve internals are in test_bn254_field.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "crypto/bn254/bn254.h"
#include "crypto/bn254/field.h"
#include "vectors.h"

/* r, big-endian */
static const uint8_t R_BE[32] = {0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45,
                                 0xb6, 0x81, 0x81, 0x58, 0x5d, 0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9,
                                 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00, 0x00, 0x01};
/* p, big-endian */
static const uint8_t P_BE[32] = {0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45,
                                 0xb6, 0x81, 0x81, 0x58, 0x5d, 0x97, 0x81, 0x6a, 0x91, 0x68, 0x71,
                                 0xca, 0x8d, 0x3c, 0x20, 0x8c, 0x16, 0xd8, 0x7c, 0xfd, 0x47};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd64(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static void rnd_bytes(uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rnd64();
}

/* The counts of vectors actually checked, for the summary line. */
static int n_add, n_mul, n_pair;

/* Input zero-padded on the right (or truncated) to n bytes, as the precompiles read it. */
static void padded(const char *hex, uint8_t *out, size_t n) {
  uint8_t *in;
  size_t len;
  assert_int_equal(tv_hex_alloc(hex, &in, &len), 0);
  memset(out, 0, n);
  memcpy(out, in, len < n ? len : n);
  free(in);
}

/* Runs fn over every case of a go-ethereum precompile file; the files hold only successes
 * (go-ethereum keeps failures in separate fail-*.json files with ExpectedError, which are
 * not in the shared set), so every case must be accepted and match. */
static void each_case(const char *file,
                      void (*fn)(const char *in, const char *exp, const char *name)) {
  json_t *arr = tv_json(file);
  assert_non_null(arr);
  assert_true(json_is_array(arr) && json_array_size(arr) > 0);
  size_t i;
  json_t *c;
  json_array_foreach(arr, i, c) {
    const char *in = NULL, *exp = NULL, *name = NULL;
    assert_int_equal(
        json_unpack(c, "{s:s, s:s, s:s}", "Input", &in, "Expected", &exp, "Name", &name), 0);
    assert_null(json_object_get(c, "ExpectedError"));
    fn(in, exp, name);
  }
  json_decref(arr);
}

static void add_case(const char *in, const char *exp, const char *name) {
  uint8_t buf[128], want[64], got[64];
  padded(in, buf, sizeof buf);
  assert_int_equal(tv_hex(exp, want, 64), 0);
  if (tkms_bn254_g1_add(got, buf, buf + 64) != 0) fail_msg("add %s refused", name);
  if (memcmp(got, want, 64)) fail_msg("add %s differs", name);
  n_add++;
}

static void mul_case(const char *in, const char *exp, const char *name) {
  uint8_t buf[96], want[64], got[64];
  padded(in, buf, sizeof buf);
  assert_int_equal(tv_hex(exp, want, 64), 0);
  /* both paths: the public one (the precompile's) and the constant-time one */
  if (tkms_bn254_g1_mul_public(got, buf, buf + 64) || memcmp(got, want, 64))
    fail_msg("mul_public %s", name);
  if (tkms_bn254_g1_mul(got, buf, buf + 64) || memcmp(got, want, 64)) fail_msg("mul %s", name);
  n_mul++;
}

static void pairing_case(const char *in, const char *exp, const char *name) {
  uint8_t *buf, want[32];
  size_t len;
  assert_int_equal(tv_hex_alloc(in, &buf, &len), 0);
  assert_int_equal(tv_hex(exp, want, 32), 0);
  assert_int_equal(len % TKMS_BN254_PAIR_BYTES, 0);
  size_t n = len / TKMS_BN254_PAIR_BYTES;
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(tkms_bn254_g1_check(buf + i * 192), 0);
    assert_int_equal(tkms_bn254_g2_check(buf + i * 192 + 64), 0);
  }
  int one = want[31] == 1;
  if ((tkms_bn254_pairing_check(buf, n) == 0) != one) fail_msg("pairing %s", name);
  free(buf);
  n_pair++;
}

static void test_geth_add(void **state) {
  (void)state;
  each_case("geth-precompiles/bn256Add.json", add_case);
  assert_int_equal(n_add, 16);
}

static void test_geth_mul(void **state) {
  (void)state;
  each_case("geth-precompiles/bn256ScalarMul.json", mul_case);
  assert_int_equal(n_mul, 19);
}

static void test_geth_pairing(void **state) {
  (void)state;
  each_case("geth-precompiles/bn256Pairing.json", pairing_case);
  assert_int_equal(n_pair, 14);
}

/* The same vectors with the portable C multiplication instead of the BMI2/ADX assembly. */
static void test_geth_portable(void **state) {
  (void)state;
  int saved = bn254_fp_use_adx;
  bn254_fp_use_adx = 0;
  n_mul = n_pair = 0;
  each_case("geth-precompiles/bn256ScalarMul.json", mul_case);
  each_case("geth-precompiles/bn256Pairing.json", pairing_case);
  bn254_fp_use_adx = saved;
  assert_int_equal(n_mul + n_pair, 33);
}

/* Every refusal of a malformed point, and what is written on refusal. */
static void test_refusals(void **state) {
  (void)state;
  uint8_t g1[64], g2[128], bad[128], out[384], k[32] = {0}, pairs[192];
  k[31] = 5;
  tkms_bn254_g1_generator(g1);
  tkms_bn254_g2_generator(g2);
  /* G1: off the curve (1, 3) */
  memcpy(bad, g1, 64);
  bad[63] = 3;
  assert_int_equal(tkms_bn254_g1_check(bad), -1);
  memset(out, 0xaa, 64);
  assert_int_equal(tkms_bn254_g1_add(out, bad, g1), -1);
  assert_int_equal(tkms_bn254_g1_is_infinity(out), 0); /* zeroed on refusal */
  assert_int_equal(tkms_bn254_g1_add(out, g1, bad), -1);
  assert_int_equal(tkms_bn254_g1_mul(out, bad, k), -1);
  assert_int_equal(tkms_bn254_g1_mul_public(out, bad, k), -1);
  assert_int_equal(tkms_bn254_g1_neg(out, bad), -1);
  /* G1: x = p (a coordinate not below p is refused, never reduced: p + 1 = 1 mod p) */
  memcpy(bad, P_BE, 32);
  bad[31]++;
  memcpy(bad + 32, g1 + 32, 32);
  assert_int_equal(tkms_bn254_g1_check(bad), -1);
  memcpy(bad, g1, 32);
  memcpy(bad + 32, P_BE, 32);
  assert_int_equal(tkms_bn254_g1_check(bad), -1);
  /* (0, y) and (x, 0) are not infinity */
  memset(bad, 0, 64);
  bad[63] = 2;
  assert_int_equal(tkms_bn254_g1_check(bad), -1);
  /* G2: a changed coordinate, each coordinate >= p, the real/imaginary order swapped */
  for (int c = 0; c < 4; c++) {
    memcpy(bad, g2, 128);
    bad[32 * c + 31] ^= 1;
    assert_int_equal(tkms_bn254_g2_check(bad), -1);
    memcpy(bad + 32 * c, P_BE, 32);
    assert_int_equal(tkms_bn254_g2_check(bad), -1);
  }
  memcpy(bad, g2 + 32, 32);
  memcpy(bad + 32, g2, 32);
  memcpy(bad + 64, g2 + 96, 32);
  memcpy(bad + 96, g2 + 64, 32);
  assert_int_equal(tkms_bn254_g2_check(bad), -1); /* gnark / eigensdk order */
  assert_int_equal(tkms_bn254_g2_mul(out, bad, k), -1);
  assert_int_equal(tkms_bn254_g2_mul_public(out, bad, k), -1);
  assert_int_equal(tkms_bn254_g2_add(out, bad, g2), -1);
  assert_int_equal(tkms_bn254_g2_neg(out, bad), -1);
  /* a pairing input with a bad point is refused even when the other half is infinity */
  memset(pairs, 0, sizeof pairs);
  memcpy(pairs + 64, bad, 128);
  assert_int_equal(tkms_bn254_pairing_check(pairs, 1), -1);
  memset(pairs + 64, 0, 128);
  assert_int_equal(tkms_bn254_pairing_check(pairs, 1), 0); /* e(O, O) = 1 */
  assert_int_equal(tkms_bn254_pairing(out, g1, bad), -1);
}

/* Infinity in and out, and scalars at and beyond r. */
static void test_infinity_and_scalars(void **state) {
  (void)state;
  uint8_t g1[64], g2[128], inf[128] = {0}, out[128], out2[128], k[32];
  tkms_bn254_g1_generator(g1);
  tkms_bn254_g2_generator(g2);
  assert_int_equal(tkms_bn254_g1_check(inf), 0);
  assert_int_equal(tkms_bn254_g2_check(inf), 0);
  assert_int_equal(tkms_bn254_g1_add(out, inf, g1), 0);
  assert_memory_equal(out, g1, 64);
  assert_int_equal(tkms_bn254_g1_add(out, g1, inf), 0);
  assert_memory_equal(out, g1, 64);
  assert_int_equal(tkms_bn254_g1_neg(out2, g1), 0);
  assert_int_equal(tkms_bn254_g1_add(out, g1, out2), 0);
  assert_int_equal(tkms_bn254_g1_is_infinity(out), 0);
  assert_int_equal(tkms_bn254_g2_neg(out2, g2), 0);
  assert_int_equal(tkms_bn254_g2_add(out, g2, out2), 0);
  assert_int_equal(tkms_bn254_g2_is_infinity(out), 0);
  assert_int_equal(tkms_bn254_g2_add(out, inf, g2), 0);
  assert_memory_equal(out, g2, 128);
  /* [0]P = [r]P = O, [r + 1]P = P, on both paths and both groups; [k]O = O */
  for (int which = 0; which < 3; which++) {
    memset(k, 0, 32);
    if (which == 1) memcpy(k, R_BE, 32);
    if (which == 2) {
      memcpy(k, R_BE, 32);
      k[31]++;
    }
    for (int path = 0; path < 2; path++) {
      int (*m1[2])(uint8_t *, const uint8_t *, const uint8_t *) = {tkms_bn254_g1_mul,
                                                                   tkms_bn254_g1_mul_public};
      int (*m2[2])(uint8_t *, const uint8_t *, const uint8_t *) = {tkms_bn254_g2_mul,
                                                                   tkms_bn254_g2_mul_public};
      assert_int_equal(m1[path](out, g1, k), 0);
      if (which == 2)
        assert_memory_equal(out, g1, 64);
      else
        assert_int_equal(tkms_bn254_g1_is_infinity(out), 0);
      assert_int_equal(m2[path](out, g2, k), 0);
      if (which == 2)
        assert_memory_equal(out, g2, 128);
      else
        assert_int_equal(tkms_bn254_g2_is_infinity(out), 0);
    }
    assert_int_equal(tkms_bn254_g1_mul(out, inf, k), 0);
    assert_int_equal(tkms_bn254_g1_is_infinity(out), 0);
  }
  /* the all-ones scalar (2^256 - 1, about 5.3 r) is reduced, the same on every path */
  memset(k, 0xff, 32);
  assert_int_equal(tkms_bn254_g1_mul(out, g1, k), 0);
  assert_int_equal(tkms_bn254_g1_mul_public(out2, g1, k), 0);
  assert_memory_equal(out, out2, 64);
  uint8_t kr[32];
  tkms_bn254_scalar_reduce(kr, k);
  assert_int_equal(tkms_bn254_g1_mul_base(out2, kr), 0);
  assert_memory_equal(out, out2, 64);
  /* scalar_check: [1, r - 1] */
  memset(k, 0, 32);
  assert_int_equal(tkms_bn254_scalar_check(k), -1);
  k[31] = 1;
  assert_int_equal(tkms_bn254_scalar_check(k), 0);
  memcpy(k, R_BE, 32);
  assert_int_equal(tkms_bn254_scalar_check(k), -1);
  k[31]--;
  assert_int_equal(tkms_bn254_scalar_check(k), 0);
  memset(k, 0xff, 32);
  assert_int_equal(tkms_bn254_scalar_check(k), -1);
  /* (r - 1) + 1 = 0 and (r - 1)^2 = 1 mod r */
  uint8_t rm1[32], one[32] = {0}, s[32];
  memcpy(rm1, R_BE, 32);
  rm1[31]--;
  one[31] = 1;
  tkms_bn254_scalar_add(s, rm1, one);
  assert_int_equal(tkms_bn254_scalar_check(s), -1);
  tkms_bn254_scalar_mul(s, rm1, rm1);
  assert_memory_equal(s, one, 32);
  /* the empty pairing product is 1 */
  assert_int_equal(tkms_bn254_pairing_check(NULL, 0), 0);
}

/* Random scalars: the constant-time and public paths agree, [a]([b]P) = [ab]P, and
 * [a]P + [b]P = [a + b]P, in both groups. */
static void test_scalar_mul_paths(void **state) {
  (void)state;
  uint8_t g1[64], g2[128], a[32], b[32], ab[32], x[128], y[128], z[128];
  tkms_bn254_g1_generator(g1);
  tkms_bn254_g2_generator(g2);
  for (int i = 0; i < 24; i++) {
    rnd_bytes(a, 32);
    rnd_bytes(b, 32);
    if (i == 0) memset(a, 0xff, 32);
    assert_int_equal(tkms_bn254_g1_mul(x, g1, a), 0);
    assert_int_equal(tkms_bn254_g1_mul_public(y, g1, a), 0);
    assert_memory_equal(x, y, 64);
    assert_int_equal(tkms_bn254_g1_mul_base(y, a), 0);
    assert_memory_equal(x, y, 64);
    tkms_bn254_scalar_mul(ab, a, b);
    assert_int_equal(tkms_bn254_g1_mul(y, x, b), 0);
    assert_int_equal(tkms_bn254_g1_mul_base(z, ab), 0);
    assert_memory_equal(y, z, 64);
    assert_int_equal(tkms_bn254_g2_mul(x, g2, a), 0);
    assert_int_equal(tkms_bn254_g2_mul_public(y, g2, a), 0);
    assert_memory_equal(x, y, 128);
    assert_int_equal(tkms_bn254_g2_mul(y, x, b), 0);
    assert_int_equal(tkms_bn254_g2_mul_base(z, ab), 0);
    assert_memory_equal(y, z, 128);
    tkms_bn254_scalar_add(ab, a, b);
    assert_int_equal(tkms_bn254_g2_mul_base(y, b), 0);
    assert_int_equal(tkms_bn254_g2_add(y, x, y), 0);
    assert_int_equal(tkms_bn254_g2_mul_base(z, ab), 0);
    assert_memory_equal(y, z, 128);
    /* outputs may alias inputs */
    memcpy(z, x, 128);
    assert_int_equal(tkms_bn254_g2_mul(z, z, b), 0);
    assert_int_equal(tkms_bn254_g2_mul(y, x, b), 0);
    assert_memory_equal(y, z, 128);
    assert_int_equal(tkms_bn254_g1_mul_base(z, a), 0);
    assert_int_equal(tkms_bn254_g1_add(y, z, g1), 0);
    assert_int_equal(tkms_bn254_g1_add(z, z, g1), 0);
    assert_memory_equal(y, z, 64);
    /* doubling through add: P + P = [2]P */
    assert_int_equal(tkms_bn254_g2_add(y, x, x), 0);
    uint8_t two[32] = {0};
    two[31] = 2;
    assert_int_equal(tkms_bn254_g2_mul_public(z, x, two), 0);
    assert_memory_equal(y, z, 128);
  }
}

/* GT bytes (see bn254.h) to an Fp12 element. */
static void gt_parse(bn254_fp12 *f, const uint8_t in[384]) {
  bn254_fp2 *c[6] = {&f->c0.c0, &f->c0.c1, &f->c0.c2, &f->c1.c0, &f->c1.c1, &f->c1.c2};
  for (int j = 0; j < 6; j++) {
    assert_int_equal(bn254_fp_from_bytes(&c[j]->c0, in + 64 * j), 0);
    assert_int_equal(bn254_fp_from_bytes(&c[j]->c1, in + 64 * j + 32), 0);
  }
}

static void fp12_pow(bn254_fp12 *r, const bn254_fp12 *a, const uint8_t e[32]) {
  bn254_fp12 acc;
  bn254_fp12_set_one(&acc);
  for (int i = 0; i < 256; i++) {
    bn254_fp12_sqr(&acc, &acc);
    if ((e[i / 8] >> (7 - i % 8)) & 1) bn254_fp12_mul(&acc, &acc, a);
  }
  *r = acc;
}

/* e(aP, bQ) = e(P, Q)^(ab), e(P, Q) != 1, e(P, Q)^r = 1, and the check form
 * e(aP, bQ) e(-abP, Q) = 1 (and != 1 when one factor is off by one). */
static void test_bilinearity(void **state) {
  (void)state;
  uint8_t g1[64], g2[128], a[32], b[32], ab[32], p[64], q[128], gt[384], gt2[384];
  uint8_t pairs[2 * 192];
  bn254_fp12 e, eab, want;
  tkms_bn254_g1_generator(g1);
  tkms_bn254_g2_generator(g2);
  assert_int_equal(tkms_bn254_pairing(gt, g1, g2), 0);
  gt_parse(&e, gt);
  assert_false(bn254_fp12_is_one(&e) & 1);
  fp12_pow(&want, &e, R_BE);
  assert_true(bn254_fp12_is_one(&want) & 1);
  for (int i = 0; i < 4; i++) {
    rnd_bytes(a, 32);
    rnd_bytes(b, 32);
    tkms_bn254_scalar_reduce(a, a);
    tkms_bn254_scalar_reduce(b, b);
    tkms_bn254_scalar_mul(ab, a, b);
    assert_int_equal(tkms_bn254_g1_mul_base(p, a), 0);
    assert_int_equal(tkms_bn254_g2_mul_base(q, b), 0);
    assert_int_equal(tkms_bn254_pairing(gt2, p, q), 0);
    gt_parse(&eab, gt2);
    fp12_pow(&want, &e, ab);
    assert_memory_equal(&eab, &want, sizeof eab); /* Montgomery form is canonical */
    memcpy(pairs, p, 64);
    memcpy(pairs + 64, q, 128);
    assert_int_equal(tkms_bn254_g1_mul_base(pairs + 192, ab), 0);
    assert_int_equal(tkms_bn254_g1_neg(pairs + 192, pairs + 192), 0);
    memcpy(pairs + 256, g2, 128);
    assert_int_equal(tkms_bn254_pairing_check(pairs, 2), 0);
    assert_int_equal(tkms_bn254_g1_add(pairs, pairs, g1), 0);
    assert_int_equal(tkms_bn254_pairing_check(pairs, 2), -1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_geth_add),         cmocka_unit_test(test_geth_mul),
      cmocka_unit_test(test_geth_pairing),     cmocka_unit_test(test_geth_portable),
      cmocka_unit_test(test_refusals),         cmocka_unit_test(test_infinity_and_scalars),
      cmocka_unit_test(test_scalar_mul_paths), cmocka_unit_test(test_bilinearity),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  fprintf(stderr, "bn254 vectors: add %d/16, mul %d/19 (x2 paths), pairing %d/14\n", n_add, n_mul,
          n_pair);
  return rc;
}
