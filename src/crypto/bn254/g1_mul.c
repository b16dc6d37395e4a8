/* src/crypto/bn254/g1_mul.c — scalar multiplication on G1.
 *
 * Secret scalars: k = k0 + k1 lambda with lambda = 36u^3 + 18u^2 + 6u + 1, the eigenvalue of
 * phi(x, y) = (beta x, y) on G1 (beta a cube root of unity in Fp), so
 * [k]P = [k0]P + [k1]phi(P) with k0 < lambda < 2^192 and k1 < r / lambda < 2^63: a quarter
 * fewer doublings. The split is an exact division done bit by bit with masks (fr.c); then
 * 4-bit windows of k0 and k1 index two tables, each scanned in full, and every addition is
 * complete (g1.c): no branch and no memory index depends on k.
 * Public scalars: a plain w-NAF with branchy additions. */
#include <string.h>

#include "crypto/bn254/curve.h"
#include "crypto/bn254/wnaf.h"

/* t[i] = [i]a in affine form for i = 1..15, t[0] = infinity. a is public and of order r > 15,
 * so no multiple is infinity; one inversion serves all fifteen (Montgomery's trick). */
static void g1_table(bn254_g1_aff t[16], const bn254_g1_aff *a) {
  bn254_g1 j[16];
  bn254_fp acc[16], inv, zi, zi2;
  bn254_g1_from_aff(&j[1], a);
  bn254_g1_dbl(&j[2], &j[1]);
  for (int i = 3; i < 16; i++) bn254_g1_add_aff_vartime(&j[i], &j[i - 1], a);
  acc[1] = j[1].z;
  for (int i = 2; i < 16; i++) bn254_fp_mul(&acc[i], &acc[i - 1], &j[i].z);
  bn254_fp_inv(&inv, &acc[15]);
  for (int i = 15; i >= 1; i--) {
    if (i > 1) {
      bn254_fp_mul(&zi, &inv, &acc[i - 1]); /* 1/z_i */
      bn254_fp_mul(&inv, &inv, &j[i].z);    /* 1/(z_1 ... z_{i-1}) */
    } else {
      zi = inv;
    }
    bn254_fp_sqr(&zi2, &zi);
    bn254_fp_mul(&t[i].x, &j[i].x, &zi2);
    bn254_fp_mul(&zi2, &zi2, &zi);
    bn254_fp_mul(&t[i].y, &j[i].y, &zi2);
    t[i].inf = 0;
  }
  memset(&t[0], 0, sizeof t[0]);
  t[0].inf = 1;
}

/* r = t[w] reading every entry, so the memory trace does not depend on w. */
static void g1_lookup(bn254_g1_aff *r, const bn254_g1_aff t[16], uint64_t w) {
  r->x = bn254_fp_zero;
  r->y = bn254_fp_zero;
  for (uint64_t i = 1; i < 16; i++) {
    uint64_t m = bn254_ct_is_zero(w ^ i);
    bn254_fp_cmov(&r->x, &t[i].x, m);
    bn254_fp_cmov(&r->y, &t[i].y, m);
  }
  r->inf = (int)(bn254_ct_is_zero(w) & 1);
}

static void g1_set_inf(bn254_g1 *r) {
  r->x = bn254_fp_one;
  r->y = bn254_fp_one;
  r->z = bn254_fp_zero;
}

/* lambda = 36u^3 + 18u^2 + 6u + 1 (192 bits) and beta (Montgomery form) with
 * phi(P) = (beta x, y) = [lambda]P on G1. */
static const uint64_t LAMBDA[4] = {0x8b17ea66b99c90ddULL, 0x5bfc41088d8daaa7ULL,
                                   0xb3c4d79d41a91758ULL, 0};
static const bn254_fp BETA = {
    {0x71930c11d782e155ULL, 0xa6bb947cffbe3323ULL, 0xaa303344d4741444ULL, 0x2c3b3f0d26594943ULL}};

void bn254_g1_mul_ct(bn254_g1 *r, const bn254_g1_aff *a, const bn254_fr *k) {
  bn254_g1_aff t0[16], t1[16], sel;
  bn254_g1 acc;
  uint64_t k0[4], k1[2];
  g1_set_inf(&acc);
  if (a->inf) { /* the point is public */
    *r = acc;
    return;
  }
  bn254_fr_divmod(k0, k1, k, LAMBDA);
  g1_table(t0, a);
  for (int i = 0; i < 16; i++) {
    bn254_fp_mul(&t1[i].x, &t0[i].x, &BETA);
    t1[i].y = t0[i].y;
    t1[i].inf = t0[i].inf;
  }
  /* 48 windows of k0 (192 bits); k1 (63 bits) joins for the last 16 */
  for (int n = 47; n >= 0; n--) {
    if (n != 47)
      for (int s = 0; s < 4; s++) bn254_g1_dbl(&acc, &acc);
    g1_lookup(&sel, t0, (k0[n / 16] >> (4 * (n % 16))) & 15);
    bn254_g1_add_aff(&acc, &acc, &sel);
    if (n < 16) { /* n is public */
      g1_lookup(&sel, t1, (k1[n / 16] >> (4 * (n % 16))) & 15);
      bn254_g1_add_aff(&acc, &acc, &sel);
    }
  }
  *r = acc;
  bn254_ct_wipe(k0, sizeof k0);
  bn254_ct_wipe(k1, sizeof k1);
  bn254_ct_wipe(&sel, sizeof sel);
}

void bn254_g1_mul_vartime(bn254_g1 *r, const bn254_g1_aff *a, const uint64_t *k, int nbits) {
  int8_t naf[BN254_WNAF_MAX];
  bn254_g1 odd[BN254_WNAF_TABLE], acc, twice;
  g1_set_inf(&acc);
  if (a->inf) {
    *r = acc;
    return;
  }
  int len = bn254_wnaf(naf, k, nbits);
  bn254_g1_from_aff(&odd[0], a);
  bn254_g1_dbl(&twice, &odd[0]);
  for (int i = 1; i < BN254_WNAF_TABLE; i++) bn254_g1_add_vartime(&odd[i], &odd[i - 1], &twice);
  for (int i = len - 1; i >= 0; i--) {
    bn254_g1_dbl(&acc, &acc);
    int d = naf[i];
    if (d > 0) {
      bn254_g1_add_vartime(&acc, &acc, &odd[d / 2]);
    } else if (d < 0) {
      bn254_g1 neg;
      bn254_g1_neg(&neg, &odd[-d / 2]);
      bn254_g1_add_vartime(&acc, &acc, &neg);
    }
  }
  *r = acc;
}
