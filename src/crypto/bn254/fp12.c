/* src/crypto/bn254/fp12.c — Fp12 = Fp6[w]/(w^2 - v), constant time: products, the sparse
 * line product of the Miller loop, Frobenius maps and the cyclotomic squaring. */
#include "crypto/bn254/field.h"

/* FROBk[j] = xi^(j (p^k - 1) / 6): w^j raised to p^k is FROBk[j] w^j.
 * An Fp12 element is sum c_j w^j with (c0..c5) = (a.c0.c0, a.c1.c0, a.c0.c1, a.c1.c1,
 * a.c0.c2, a.c1.c2) since v = w^2. Values in Montgomery form. */
static const bn254_fp2 FROB1[6] = {
    {{{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0xaf9ba69633144907ULL, 0xca6b1d7387afb78aULL, 0x11bded5ef08a2087ULL, 0x02f34d751a1f3a7cULL}},
     {{0xa222ae234c492d72ULL, 0xd00f02a4565de15bULL, 0xdc2ff3a253dfc926ULL,
       0x10a75716b3899551ULL}}},
    {{{0xb5773b104563ab30ULL, 0x347f91c8a9aa6454ULL, 0x7a007127242e0991ULL, 0x1956bcd8118214ecULL}},
     {{0x6e849f1ea0aa4757ULL, 0xaa1c7b6d89f89141ULL, 0xb6e713cdfae0ca3aULL,
       0x26694fbb4e82ebc3ULL}}},
    {{{0xe4bbdd0c2936b629ULL, 0xbb30f162e133bacbULL, 0x31a9d1b6f9645366ULL, 0x253570bea500f8ddULL}},
     {{0xa1d77ce45ffe77c7ULL, 0x07affd117826d1dbULL, 0x6d16bd27bb7edc6bULL,
       0x2c87200285defeccULL}}},
    {{{0x7361d77f843abe92ULL, 0xa5bb2bd3273411fbULL, 0x9c941f314b3e2399ULL, 0x15df9cddbb9fd3ecULL}},
     {{0x5dddfd154bd8c949ULL, 0x62cb29a5a4445b60ULL, 0x37bc870a0c7dd2b9ULL,
       0x24830a9d3171f0fdULL}}},
    {{{0xc970692f41690fe7ULL, 0xe240342127694b0bULL, 0x32bee66b83c459e8ULL, 0x12aabced0ab08841ULL}},
     {{0x0d485d2340aebfa9ULL, 0x05193418ab2fcc57ULL, 0xd3b0a40b8a4910f5ULL,
       0x2f21ebb535d2925aULL}}},
};
static const bn254_fp2 FROB2[6] = {
    {{{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0xca8d800500fa1bf2ULL, 0xf0c5d61468b39769ULL, 0x0e201271ad0d4418ULL, 0x04290f65bad856e6ULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0x3350c88e13e80b9cULL, 0x7dce557cdb5e56b9ULL, 0x6001b4b8b615564aULL, 0x2682e617020217e0ULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0x68c3488912edefaaULL, 0x8d087f6872aabf4fULL, 0x51e1a24709081231ULL, 0x2259d6b14729c0faULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0x71930c11d782e155ULL, 0xa6bb947cffbe3323ULL, 0xaa303344d4741444ULL, 0x2c3b3f0d26594943ULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0x08cfc388c494f1abULL, 0x19b315148d1373d4ULL, 0x584e90fdcb6c0213ULL, 0x09e1685bdf2f8849ULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
};
static const bn254_fp2 FROB3[6] = {
    {{{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}},
     {{0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL,
       0x0000000000000000ULL}}},
    {{{0x365316184e46d97dULL, 0x0af7129ed4c96d9fULL, 0x659da72fca1009b5ULL, 0x08116d8983a20d23ULL}},
     {{0xb1df4af7c39c1939ULL, 0x3d9f02878a73bf7fULL, 0x9b2220928caf0ae0ULL,
       0x26684515eff054a6ULL}}},
    {{{0xc9af22f716ad6badULL, 0xb311782a4aa662b2ULL, 0x19eeaf64e248c7f4ULL, 0x20273e77e3439f82ULL}},
     {{0xacc02860f7ce93acULL, 0x3933d5817ba76b4cULL, 0x69e6188b446c8467ULL,
       0x0a46036d4417cc55ULL}}},
    {{{0x5764af0aaf46471eULL, 0xdc50792e873e0fc1ULL, 0x86a673ff881d04f6ULL, 0x0b2eddb43c30a74cULL}},
     {{0x9a490f32787e8580ULL, 0x8fd16d7ff04af8b1ULL, 0x4b39888ec6027bf2ULL,
       0x03dd2e705b52a15dULL}}},
    {{{0x448a93a57b6762dfULL, 0xbfd62df528fdeadfULL, 0xd858f5d00e9bd47aULL, 0x06b03d4d3476ec58ULL}},
     {{0x2b19daf4bcc936d1ULL, 0xa1a54e7a56f4299fULL, 0xb533eee05adeaef1ULL,
       0x170c812b84dda0b2ULL}}},
    {{{0xe0bc4b2275cf559fULL, 0xc238b945c154e60fULL, 0x803982a5929a7d5eULL, 0x15ce052df7e4a37eULL}},
     {{0x2d28efbdbf3799a7ULL, 0x9b097e3c1ad60773ULL, 0x982d4113af4a535bULL,
       0x24e18991e3056063ULL}}},
};

/* psi on the twist: (x, y) -> (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2)) and its square. */
const bn254_fp2 bn254_frob_x1 = {
    {{0xb5773b104563ab30ULL, 0x347f91c8a9aa6454ULL, 0x7a007127242e0991ULL, 0x1956bcd8118214ecULL}},
    {{0x6e849f1ea0aa4757ULL, 0xaa1c7b6d89f89141ULL, 0xb6e713cdfae0ca3aULL, 0x26694fbb4e82ebc3ULL}}};
const bn254_fp2 bn254_frob_y1 = {
    {{0xe4bbdd0c2936b629ULL, 0xbb30f162e133bacbULL, 0x31a9d1b6f9645366ULL, 0x253570bea500f8ddULL}},
    {{0xa1d77ce45ffe77c7ULL, 0x07affd117826d1dbULL, 0x6d16bd27bb7edc6bULL, 0x2c87200285defeccULL}}};
const bn254_fp bn254_frob_x2 = {
    {0x3350c88e13e80b9cULL, 0x7dce557cdb5e56b9ULL, 0x6001b4b8b615564aULL, 0x2682e617020217e0ULL}};

void bn254_fp12_set_one(bn254_fp12 *r) {
  bn254_fp2 z = {bn254_fp_zero, bn254_fp_zero};
  bn254_fp2_set_one(&r->c0.c0);
  r->c0.c1 = r->c0.c2 = z;
  r->c1.c0 = r->c1.c1 = r->c1.c2 = z;
}

uint64_t bn254_fp12_is_one(const bn254_fp12 *a) {
  bn254_fp2 one;
  bn254_fp2_set_one(&one);
  return bn254_fp2_eq(&a->c0.c0, &one) & bn254_fp2_is_zero(&a->c0.c1) &
         bn254_fp2_is_zero(&a->c0.c2) & bn254_fp2_is_zero(&a->c1.c0) &
         bn254_fp2_is_zero(&a->c1.c1) & bn254_fp2_is_zero(&a->c1.c2);
}

/* Karatsuba over Fp6: (a0 + a1 w)(b0 + b1 w) = a0 b0 + a1 b1 v + ((a0 + a1)(b0 + b1) - a0 b0 -
 * a1 b1) w */
void bn254_fp12_mul(bn254_fp12 *r, const bn254_fp12 *a, const bn254_fp12 *b) {
  bn254_fp6 t0, t1, s, u;
  bn254_fp6_mul(&t0, &a->c0, &b->c0);
  bn254_fp6_mul(&t1, &a->c1, &b->c1);
  bn254_fp6_add(&s, &a->c0, &a->c1);
  bn254_fp6_add(&u, &b->c0, &b->c1);
  bn254_fp6_mul(&s, &s, &u);
  bn254_fp6_sub(&s, &s, &t0);
  bn254_fp6_sub(&r->c1, &s, &t1);
  bn254_fp6_mul_v(&t1, &t1);
  bn254_fp6_add(&r->c0, &t0, &t1);
}

/* Complex squaring: with t = a0 a1, c0 = (a0 + a1)(a0 + v a1) - t - v t, c1 = 2 t. */
void bn254_fp12_sqr(bn254_fp12 *r, const bn254_fp12 *a) {
  bn254_fp6 t, s, u;
  bn254_fp6_mul(&t, &a->c0, &a->c1);
  bn254_fp6_add(&s, &a->c0, &a->c1);
  bn254_fp6_mul_v(&u, &a->c1);
  bn254_fp6_add(&u, &u, &a->c0);
  bn254_fp6_mul(&s, &s, &u);
  bn254_fp6_sub(&s, &s, &t);
  bn254_fp6_mul_v(&u, &t);
  bn254_fp6_sub(&r->c0, &s, &u);
  bn254_fp6_add(&r->c1, &t, &t);
}

void bn254_fp12_conj(bn254_fp12 *r, const bn254_fp12 *a) {
  r->c0 = a->c0;
  bn254_fp6_neg(&r->c1, &a->c1);
}

/* 1/(a0 + a1 w) = (a0 - a1 w) / (a0^2 - v a1^2) */
void bn254_fp12_inv(bn254_fp12 *r, const bn254_fp12 *a) {
  bn254_fp6 t0, t1;
  bn254_fp6_sqr(&t0, &a->c0);
  bn254_fp6_sqr(&t1, &a->c1);
  bn254_fp6_mul_v(&t1, &t1);
  bn254_fp6_sub(&t0, &t0, &t1);
  bn254_fp6_inv(&t0, &t0);
  bn254_fp6_mul(&r->c0, &a->c0, &t0);
  bn254_fp6_mul(&t1, &a->c1, &t0);
  bn254_fp6_neg(&r->c1, &t1);
}

/* a * (l0 + (l1 + l3 v) w): 13 Fp2 products instead of 18. */
void bn254_fp12_mul_line(bn254_fp12 *r, const bn254_fp12 *a, const bn254_fp2 *l0,
                         const bn254_fp2 *l1, const bn254_fp2 *l3) {
  bn254_fp6 t0, t1, s;
  bn254_fp2 m;
  bn254_fp6_mul_fp2(&t0, &a->c0, l0);
  bn254_fp6_mul_01(&t1, &a->c1, l1, l3);
  bn254_fp6_add(&s, &a->c0, &a->c1);
  bn254_fp2_add(&m, l0, l1);
  bn254_fp6_mul_01(&s, &s, &m, l3);
  bn254_fp6_sub(&s, &s, &t0);
  bn254_fp6_sub(&r->c1, &s, &t1);
  bn254_fp6_mul_v(&t1, &t1);
  bn254_fp6_add(&r->c0, &t0, &t1);
}

void bn254_fp12_frob(bn254_fp12 *r, const bn254_fp12 *a, int k) {
  const bn254_fp2 *g = k == 1 ? FROB1 : k == 2 ? FROB2 : FROB3;
  /* (coefficient, power of w) pairs in storage order */
  const bn254_fp2 *in[6] = {&a->c0.c0, &a->c1.c0, &a->c0.c1, &a->c1.c1, &a->c0.c2, &a->c1.c2};
  bn254_fp2 *out[6] = {&r->c0.c0, &r->c1.c0, &r->c0.c1, &r->c1.c1, &r->c0.c2, &r->c1.c2};
  for (int j = 0; j < 6; j++) {
    bn254_fp2 c = *in[j];
    if (k != 2) bn254_fp2_conj(&c, &c); /* p odd: x^p conjugates Fp2 */
    if (k == 2)
      bn254_fp2_mul_fp(out[j], &c, &g[j].c0); /* FROB2 lies in Fp */
    else
      bn254_fp2_mul(out[j], &c, &g[j]);
  }
}

/* (a + b t)^2 in Fp4 = Fp2[t]/(t^2 - xi): returns a^2 + xi b^2 and 2ab. */
static void fp4_sqr(bn254_fp2 *r0, bn254_fp2 *r1, const bn254_fp2 *a, const bn254_fp2 *b) {
  bn254_fp2 a2, b2, s;
  bn254_fp2_sqr(&a2, a);
  bn254_fp2_sqr(&b2, b);
  bn254_fp2_add(&s, a, b);
  bn254_fp2_sqr(&s, &s);
  bn254_fp2_sub(&s, &s, &a2);
  bn254_fp2_sub(r1, &s, &b2);
  bn254_fp2_mul_xi(&b2, &b2);
  bn254_fp2_add(r0, &a2, &b2);
}

/* 3 t + 2 s (plus) or 3 t - 2 s (minus) */
static void three_t_pm_two_s(bn254_fp2 *r, const bn254_fp2 *t, const bn254_fp2 *s, int plus) {
  bn254_fp2 u;
  if (plus)
    bn254_fp2_add(&u, t, s);
  else
    bn254_fp2_sub(&u, t, s);
  bn254_fp2_dbl(&u, &u);
  bn254_fp2_add(r, &u, t);
}

/* Granger-Scott: view Fp12 as Fp4[w]/(w^3 - t) with t = w^3, element A + B w + C w^2 where
 * A = (a0, b1), B = (b0, a2), C = (a1, b2); for a^(p^6 + 1) = 1,
 * A' = 3A^2 - 2 conj(A), B' = 3 t C^2 + 2 conj(B), C' = 3 B^2 - 2 conj(C). */
void bn254_fp12_cyclo_sqr(bn254_fp12 *r, const bn254_fp12 *a) {
  bn254_fp2 t3, t4, t5, t6, t7, t8, t9;
  fp4_sqr(&t3, &t4, &a->c0.c0, &a->c1.c1);
  fp4_sqr(&t5, &t6, &a->c1.c0, &a->c0.c2);
  fp4_sqr(&t7, &t8, &a->c0.c1, &a->c1.c2);
  bn254_fp2_mul_xi(&t9, &t8);
  three_t_pm_two_s(&r->c0.c0, &t3, &a->c0.c0, 0);
  three_t_pm_two_s(&r->c0.c1, &t5, &a->c0.c1, 0);
  three_t_pm_two_s(&r->c0.c2, &t7, &a->c0.c2, 0);
  three_t_pm_two_s(&r->c1.c0, &t9, &a->c1.c0, 1);
  three_t_pm_two_s(&r->c1.c1, &t4, &a->c1.c1, 1);
  three_t_pm_two_s(&r->c1.c2, &t6, &a->c1.c2, 1);
}
