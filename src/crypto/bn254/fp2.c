/* src/crypto/bn254/fp2.c — Fp2 = Fp[i]/(i^2 + 1), constant time. */
#include "crypto/bn254/field.h"

const bn254_fp2 bn254_fp2_zero = {{{0, 0, 0, 0}}, {{0, 0, 0, 0}}};
const bn254_fp2 bn254_fp2_one = {
    {{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}},
    {{0, 0, 0, 0}}};

void bn254_fp2_add(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) {
  bn254_fp_add(&r->c0, &a->c0, &b->c0);
  bn254_fp_add(&r->c1, &a->c1, &b->c1);
}

void bn254_fp2_sub(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) {
  bn254_fp_sub(&r->c0, &a->c0, &b->c0);
  bn254_fp_sub(&r->c1, &a->c1, &b->c1);
}

void bn254_fp2_neg(bn254_fp2 *r, const bn254_fp2 *a) {
  bn254_fp_neg(&r->c0, &a->c0);
  bn254_fp_neg(&r->c1, &a->c1);
}

void bn254_fp2_dbl(bn254_fp2 *r, const bn254_fp2 *a) {
  bn254_fp_dbl(&r->c0, &a->c0);
  bn254_fp_dbl(&r->c1, &a->c1);
}

void bn254_fp2_half(bn254_fp2 *r, const bn254_fp2 *a) {
  bn254_fp_half(&r->c0, &a->c0);
  bn254_fp_half(&r->c1, &a->c1);
}

void bn254_fp2_conj(bn254_fp2 *r, const bn254_fp2 *a) {
  r->c0 = a->c0;
  bn254_fp_neg(&r->c1, &a->c1);
}

/* Karatsuba: (a0 + a1 i)(b0 + b1 i) = a0 b0 - a1 b1 + ((a0 + a1)(b0 + b1) - a0 b0 - a1 b1) i */
static void fp2_mul_reduced(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) {
  bn254_fp t0, t1, sa, sb;
  bn254_fp_mul(&t0, &a->c0, &b->c0);
  bn254_fp_mul(&t1, &a->c1, &b->c1);
  bn254_fp_add(&sa, &a->c0, &a->c1);
  bn254_fp_add(&sb, &b->c0, &b->c1);
  bn254_fp_mul(&sa, &sa, &sb);
  bn254_fp_sub(&r->c0, &t0, &t1);
  bn254_fp_sub(&sa, &sa, &t0);
  bn254_fp_sub(&r->c1, &sa, &t1);
}

#ifdef BN254_HAVE_X86_ASM
/* p^2, eight words */
static const uint64_t P_SQUARED[8] = {
    0x3b5458a2275d69b1ULL, 0xa602072d09eac101ULL, 0x4a50189c6d96cadcULL, 0x04689e957a1242c8ULL,
    0x26edfa5c34c6b38dULL, 0xb00b855116375606ULL, 0x599a6f7c0348d21cULL, 0x0925c4b8763cbf9cULL};

/* r = a - b on eight words; returns the borrow. */
static uint64_t sub512(uint64_t r[8], const uint64_t a[8], const uint64_t b[8]) {
  uint64_t br = 0;
  for (int i = 0; i < 8; i++) BN254_SBB(r[i], br, a[i], b[i]);
  return br;
}

/* The same Karatsuba with lazy reduction: three 512-bit products, two reductions.
 * a0 b1 + a1 b0 < 2p^2 and a0 b0 - a1 b1 + p^2 (when negative) < 2p^2 are both below
 * p 2^256, the bound bn254_redc_adx needs. Constant time: the borrow becomes a mask. */
static void fp2_mul_lazy(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) {
  uint64_t sa[4], sb[4], t0[8], t1[8], t2[8], add[8], c = 0;
  bn254_limbs_add(sa, a->c0.v, a->c1.v); /* < 2p < 2^255: no reduction needed */
  bn254_limbs_add(sb, b->c0.v, b->c1.v);
  bn254_mul512_adx(t0, a->c0.v, b->c0.v);
  bn254_mul512_adx(t1, a->c1.v, b->c1.v);
  bn254_mul512_adx(t2, sa, sb);
  sub512(t2, t2, t0);
  sub512(t2, t2, t1); /* a0 b1 + a1 b0 */
  uint64_t neg = bn254_ct_mask(sub512(t0, t0, t1));
  for (int i = 0; i < 8; i++) add[i] = P_SQUARED[i] & neg;
  for (int i = 0; i < 8; i++) BN254_ADC(t0[i], c, t0[i], add[i]);
  bn254_redc_adx(r->c0.v, t0, BN254_PN);
  bn254_redc_adx(r->c1.v, t2, BN254_PN);
}
#endif

void bn254_fp2_mul(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) {
#ifdef BN254_HAVE_X86_ASM
  if (bn254_fp_use_adx) {
    fp2_mul_lazy(r, a, b);
    return;
  }
#endif
  fp2_mul_reduced(r, a, b);
}

void bn254_fp2_mul_fp(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp *b) {
  bn254_fp_mul(&r->c0, &a->c0, b);
  bn254_fp_mul(&r->c1, &a->c1, b);
}

/* (a0 + a1 i)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 i */
void bn254_fp2_sqr(bn254_fp2 *r, const bn254_fp2 *a) {
  bn254_fp s, d, m;
  bn254_fp_add(&s, &a->c0, &a->c1);
  bn254_fp_sub(&d, &a->c0, &a->c1);
  bn254_fp_mul(&m, &a->c0, &a->c1);
  bn254_fp_mul(&r->c0, &s, &d);
  bn254_fp_dbl(&r->c1, &m);
}

/* (a0 + a1 i)(9 + i) = (9 a0 - a1) + (a0 + 9 a1) i */
void bn254_fp2_mul_xi(bn254_fp2 *r, const bn254_fp2 *a) {
  bn254_fp t0, t1;
  bn254_fp_dbl(&t0, &a->c0);
  bn254_fp_dbl(&t0, &t0);
  bn254_fp_dbl(&t0, &t0);
  bn254_fp_add(&t0, &t0, &a->c0); /* 9 a0 */
  bn254_fp_dbl(&t1, &a->c1);
  bn254_fp_dbl(&t1, &t1);
  bn254_fp_dbl(&t1, &t1);
  bn254_fp_add(&t1, &t1, &a->c1); /* 9 a1 */
  bn254_fp_sub(&t0, &t0, &a->c1);
  bn254_fp_add(&r->c1, &t1, &a->c0);
  r->c0 = t0;
}

/* 1/(a0 + a1 i) = (a0 - a1 i) / (a0^2 + a1^2) */
void bn254_fp2_inv(bn254_fp2 *r, const bn254_fp2 *a) {
  bn254_fp n, t;
  bn254_fp_sqr(&n, &a->c0);
  bn254_fp_sqr(&t, &a->c1);
  bn254_fp_add(&n, &n, &t);
  bn254_fp_inv(&n, &n);
  bn254_fp_mul(&r->c0, &a->c0, &n);
  bn254_fp_mul(&t, &a->c1, &n);
  bn254_fp_neg(&r->c1, &t);
}

void bn254_fp2_cmov(bn254_fp2 *r, const bn254_fp2 *a, uint64_t mask) {
  bn254_fp_cmov(&r->c0, &a->c0, mask);
  bn254_fp_cmov(&r->c1, &a->c1, mask);
}

uint64_t bn254_fp2_is_zero(const bn254_fp2 *a) {
  return bn254_fp_is_zero(&a->c0) & bn254_fp_is_zero(&a->c1);
}

uint64_t bn254_fp2_eq(const bn254_fp2 *a, const bn254_fp2 *b) {
  return bn254_fp_eq(&a->c0, &b->c0) & bn254_fp_eq(&a->c1, &b->c1);
}

void bn254_fp2_set_one(bn254_fp2 *r) {
  r->c0 = bn254_fp_one;
  r->c1 = bn254_fp_zero;
}
