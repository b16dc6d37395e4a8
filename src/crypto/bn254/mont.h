/* src/crypto/bn254/mont.h — internal: 4x64-bit limb arithmetic modulo an odd m < 2^254,
 * shared by Fp (fp.c) and Fr (fr.c). Constant time: carries and borrows become masks.
 * Inputs must be fully reduced (< m) unless a function says otherwise; m's top limb must
 * be below 2^62 so that sums of two reduced values fit in 256 bits and the Montgomery
 * product needs no fifth limb. */
#ifndef TKMS_CRYPTO_BN254_MONT_H
#define TKMS_CRYPTO_BN254_MONT_H
#include <stdint.h>

#include "crypto/bn254/ct.h"

typedef unsigned __int128 bn254_u128;

#define BN254_UNROLL _Pragma("GCC unroll 4")

/* Add and subtract with carry on 64-bit words (the compiler turns these into adc/sbb). */
#define BN254_ADC(r, c, a, b)                    \
  do {                                           \
    bn254_u128 s_ = (bn254_u128)(a) + (b) + (c); \
    (r) = (uint64_t)s_;                          \
    (c) = (uint64_t)(s_ >> 64);                  \
  } while (0)
#define BN254_SBB(r, br, a, b)                    \
  do {                                            \
    bn254_u128 d_ = (bn254_u128)(a) - (b) - (br); \
    (r) = (uint64_t)d_;                           \
    (br) = (uint64_t)(d_ >> 127);                 \
  } while (0)

/* r = a - b; returns the borrow (0 or 1). */
static inline uint64_t bn254_limbs_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint64_t br = 0, r0, r1, r2, r3;
  BN254_SBB(r0, br, a[0], b[0]);
  BN254_SBB(r1, br, a[1], b[1]);
  BN254_SBB(r2, br, a[2], b[2]);
  BN254_SBB(r3, br, a[3], b[3]);
  r[0] = r0, r[1] = r1, r[2] = r2, r[3] = r3;
  return br;
}

/* r = a + b; returns the carry (0 or 1). */
static inline uint64_t bn254_limbs_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint64_t c = 0, r0, r1, r2, r3;
  BN254_ADC(r0, c, a[0], b[0]);
  BN254_ADC(r1, c, a[1], b[1]);
  BN254_ADC(r2, c, a[2], b[2]);
  BN254_ADC(r3, c, a[3], b[3]);
  r[0] = r0, r[1] = r1, r[2] = r2, r[3] = r3;
  return c;
}

/* (t0..t3) - m if that does not borrow, else (t0..t3), into r. Needs t < 2m. */
static inline void bn254_reduce_words(uint64_t r[4], uint64_t t0, uint64_t t1, uint64_t t2,
                                      uint64_t t3, const uint64_t m[4]) {
  uint64_t br = 0, d0, d1, d2, d3;
  BN254_SBB(d0, br, t0, m[0]);
  BN254_SBB(d1, br, t1, m[1]);
  BN254_SBB(d2, br, t2, m[2]);
  BN254_SBB(d3, br, t3, m[3]);
  uint64_t keep = bn254_ct_mask(br); /* borrow: t < m, keep t */
  r[0] = (t0 & keep) | (d0 & ~keep);
  r[1] = (t1 & keep) | (d1 & ~keep);
  r[2] = (t2 & keep) | (d2 & ~keep);
  r[3] = (t3 & keep) | (d3 & ~keep);
}

/* r = a - m if a >= m, else a. Needs a < 2m (and < 2^256). */
static inline void bn254_mod_reduce_once(uint64_t r[4], const uint64_t a[4], const uint64_t m[4]) {
  bn254_reduce_words(r, a[0], a[1], a[2], a[3], m);
}

static inline void bn254_mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                 const uint64_t m[4]) {
  uint64_t c = 0, s0, s1, s2, s3;
  BN254_ADC(s0, c, a[0], b[0]);
  BN254_ADC(s1, c, a[1], b[1]);
  BN254_ADC(s2, c, a[2], b[2]);
  BN254_ADC(s3, c, a[3], b[3]); /* < 2m < 2^255: c = 0 */
  bn254_reduce_words(r, s0, s1, s2, s3, m);
}

static inline void bn254_mod_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                 const uint64_t m[4]) {
  uint64_t br = 0, c = 0, d0, d1, d2, d3;
  BN254_SBB(d0, br, a[0], b[0]);
  BN254_SBB(d1, br, a[1], b[1]);
  BN254_SBB(d2, br, a[2], b[2]);
  BN254_SBB(d3, br, a[3], b[3]);
  uint64_t mask = bn254_ct_mask(br);
  BN254_ADC(r[0], c, d0, m[0] & mask);
  BN254_ADC(r[1], c, d1, m[1] & mask);
  BN254_ADC(r[2], c, d2, m[2] & mask);
  BN254_ADC(r[3], c, d3, m[3] & mask);
}

/* Montgomery product r = a * b / 2^256 mod m (CIOS; n0 = -1/m mod 2^64). With m's top limb
 * below 2^63 - 1 the running sum never needs a fifth limb (the "no-carry" variant). */
static inline void bn254_mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                  const uint64_t m[4], uint64_t n0) {
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  BN254_UNROLL
  for (int i = 0; i < 4; i++) {
    bn254_u128 c;
    uint64_t hi_a, hi_m, q, bi = b[i];
    c = (bn254_u128)a[0] * bi + t0;
    t0 = (uint64_t)c;
    hi_a = (uint64_t)(c >> 64);
    q = t0 * n0;
    c = (bn254_u128)q * m[0] + t0;
    hi_m = (uint64_t)(c >> 64);

    c = (bn254_u128)a[1] * bi + t1 + hi_a;
    t1 = (uint64_t)c;
    hi_a = (uint64_t)(c >> 64);
    c = (bn254_u128)q * m[1] + t1 + hi_m;
    t0 = (uint64_t)c;
    hi_m = (uint64_t)(c >> 64);

    c = (bn254_u128)a[2] * bi + t2 + hi_a;
    t2 = (uint64_t)c;
    hi_a = (uint64_t)(c >> 64);
    c = (bn254_u128)q * m[2] + t2 + hi_m;
    t1 = (uint64_t)c;
    hi_m = (uint64_t)(c >> 64);

    c = (bn254_u128)a[3] * bi + t3 + hi_a;
    t3 = (uint64_t)c;
    hi_a = (uint64_t)(c >> 64);
    c = (bn254_u128)q * m[3] + t3 + hi_m;
    t2 = (uint64_t)c;
    hi_m = (uint64_t)(c >> 64);

    t3 = hi_a + hi_m;
  }
  bn254_reduce_words(r, t0, t1, t2, t3, m);
}

/* Reduces any 256-bit value modulo m, for m > 2^253 (so 2^256 < 8m): conditional
 * subtractions of 4m, 2m and m. */
static inline void bn254_mod_reduce_256(uint64_t r[4], const uint64_t a[4], const uint64_t m[4]) {
  uint64_t m2[4], m4[4], t[4], d[4];
  bn254_limbs_add(m2, m, m);
  bn254_limbs_add(m4, m2, m2);
  for (int i = 0; i < 4; i++) t[i] = a[i];
  const uint64_t *steps[3] = {m4, m2, m};
  for (int s = 0; s < 3; s++) {
    uint64_t keep = bn254_ct_mask(bn254_limbs_sub(d, t, steps[s]));
    for (int i = 0; i < 4; i++) t[i] = (t[i] & keep) | (d[i] & ~keep);
  }
  for (int i = 0; i < 4; i++) r[i] = t[i];
}

/* Big-endian bytes to limbs and back. */
static inline void bn254_limbs_from_be(uint64_t r[4], const uint8_t in[32]) {
  for (int i = 0; i < 4; i++) {
    uint64_t w = 0;
    for (int j = 0; j < 8; j++) w = (w << 8) | in[(3 - i) * 8 + j];
    r[i] = w;
  }
}
static inline void bn254_limbs_to_be(uint8_t out[32], const uint64_t a[4]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) out[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
}

#endif
