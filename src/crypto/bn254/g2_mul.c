/* src/crypto/bn254/g2_mul.c — scalar multiplication on G2.
 *
 * Secret scalars: k = k0 + k1 lambda with lambda = 6u^2 = p mod r, the eigenvalue of psi on
 * G2, so [k]Q = [k0]Q + [k1]psi(Q) with k0, k1 < 2^127: half the doublings of a plain
 * ladder. The split is an exact integer division done bit by bit with masks (fr.c); then 4-bit
 * windows of k0 and k1 index two tables (Q's multiples and their images under psi), each
 * scanned in full, and every addition is complete (g2.c). Only for points of G2: psi is [p]
 * nowhere else.
 * Public scalars: a plain w-NAF (branchy additions) with no endomorphism, so that the
 * subgroup test built on it (g2.c) stays meaningful for points outside G2. */
#include <string.h>

#include "crypto/bn254/curve.h"
#include "crypto/bn254/wnaf.h"

/* t[i] = [i]a in affine form for i = 1..15, t[0] = infinity. a is public and of order r > 15,
 * so no multiple is infinity; one inversion serves all fifteen (Montgomery's trick). */
static void g2_table(bn254_g2_aff t[16], const bn254_g2_aff *a) {
  bn254_g2 j[16];
  bn254_fp2 acc[16], inv, zi, zi2;
  bn254_g2_from_aff(&j[1], a);
  bn254_g2_dbl(&j[2], &j[1]);
  for (int i = 3; i < 16; i++) bn254_g2_add_aff_vartime(&j[i], &j[i - 1], a);
  acc[1] = j[1].z;
  for (int i = 2; i < 16; i++) bn254_fp2_mul(&acc[i], &acc[i - 1], &j[i].z);
  bn254_fp2_inv(&inv, &acc[15]);
  for (int i = 15; i >= 1; i--) {
    if (i > 1) {
      bn254_fp2_mul(&zi, &inv, &acc[i - 1]); /* 1/z_i */
      bn254_fp2_mul(&inv, &inv, &j[i].z);    /* 1/(z_1 ... z_{i-1}) */
    } else {
      zi = inv;
    }
    bn254_fp2_sqr(&zi2, &zi);
    bn254_fp2_mul(&t[i].x, &j[i].x, &zi2);
    bn254_fp2_mul(&zi2, &zi2, &zi);
    bn254_fp2_mul(&t[i].y, &j[i].y, &zi2);
    t[i].inf = 0;
  }
  memset(&t[0], 0, sizeof t[0]);
  t[0].inf = 1;
}

/* r = t[w] reading every entry, so the memory trace does not depend on w. */
static void g2_lookup(bn254_g2_aff *r, const bn254_g2_aff t[16], uint64_t w) {
  r->x = bn254_fp2_zero;
  r->y = bn254_fp2_zero;
  for (uint64_t i = 1; i < 16; i++) {
    uint64_t m = bn254_ct_is_zero(w ^ i);
    bn254_fp2_cmov(&r->x, &t[i].x, m);
    bn254_fp2_cmov(&r->y, &t[i].y, m);
  }
  r->inf = (int)(bn254_ct_is_zero(w) & 1);
}

static void g2_set_inf(bn254_g2 *r) {
  r->x = bn254_fp2_one;
  r->y = bn254_fp2_one;
  r->z = bn254_fp2_zero;
}

/* 6u^2 = 0x6f4d8248eeb859fbf83e9682e87cfd46 (127 bits) */
static const uint64_t LAMBDA[4] = {0xf83e9682e87cfd46ULL, 0x6f4d8248eeb859fbULL, 0, 0};

/* psi on an affine point: (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2)); infinity stays. */
static void psi_aff(bn254_g2_aff *r, const bn254_g2_aff *a) {
  bn254_fp2_conj(&r->x, &a->x);
  bn254_fp2_mul(&r->x, &r->x, &bn254_frob_x1);
  bn254_fp2_conj(&r->y, &a->y);
  bn254_fp2_mul(&r->y, &r->y, &bn254_frob_y1);
  r->inf = a->inf;
}

void bn254_g2_mul_ct(bn254_g2 *r, const bn254_g2_aff *a, const bn254_fr *k) {
  bn254_g2_aff t0[16], t1[16], sel;
  bn254_g2 acc;
  uint64_t k0[4], k1[2];
  g2_set_inf(&acc);
  if (a->inf) { /* the point is public */
    *r = acc;
    return;
  }
  bn254_fr_divmod(k0, k1, k, LAMBDA); /* k0 < lambda < 2^127, k1 < 2^127 */
  g2_table(t0, a);
  for (int i = 0; i < 16; i++) psi_aff(&t1[i], &t0[i]);
  for (int n = 31; n >= 0; n--) {
    if (n != 31)
      for (int s = 0; s < 4; s++) bn254_g2_dbl(&acc, &acc);
    g2_lookup(&sel, t0, (k0[n / 16] >> (4 * (n % 16))) & 15);
    bn254_g2_add_aff(&acc, &acc, &sel);
    g2_lookup(&sel, t1, (k1[n / 16] >> (4 * (n % 16))) & 15);
    bn254_g2_add_aff(&acc, &acc, &sel);
  }
  *r = acc;
  bn254_ct_wipe(k0, sizeof k0);
  bn254_ct_wipe(k1, sizeof k1);
  bn254_ct_wipe(&sel, sizeof sel);
}

void bn254_g2_mul_vartime(bn254_g2 *r, const bn254_g2_aff *a, const uint64_t *k, int nbits) {
  int8_t naf[BN254_WNAF_MAX];
  bn254_g2 odd[BN254_WNAF_TABLE], acc, twice;
  g2_set_inf(&acc);
  if (a->inf) {
    *r = acc;
    return;
  }
  int len = bn254_wnaf(naf, k, nbits);
  bn254_g2_from_aff(&odd[0], a);
  bn254_g2_dbl(&twice, &odd[0]);
  for (int i = 1; i < BN254_WNAF_TABLE; i++) bn254_g2_add_vartime(&odd[i], &odd[i - 1], &twice);
  for (int i = len - 1; i >= 0; i--) {
    bn254_g2_dbl(&acc, &acc);
    int d = naf[i];
    if (d > 0) {
      bn254_g2_add_vartime(&acc, &acc, &odd[d / 2]);
    } else if (d < 0) {
      bn254_g2 neg;
      bn254_g2_neg(&neg, &odd[-d / 2]);
      bn254_g2_add_vartime(&acc, &acc, &neg);
    }
  }
  *r = acc;
}
