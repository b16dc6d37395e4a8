/* src/crypto/bn254/field.h — internal: the BN254 tower Fp, Fp2, Fp6, Fp12 and Fr.
 *
 * Fp elements are kept in Montgomery form (a * 2^256 mod p) on four 64-bit limbs, least
 * significant first, always fully reduced (< p). Every function here runs in time
 * independent of the values (masks instead of branches), except the byte decoders' check
 * that an input is below p (inputs are public). Outputs may alias inputs.
 *
 * Tower: Fp2 = Fp[i]/(i^2 + 1), Fp6 = Fp2[v]/(v^3 - xi) with xi = 9 + i,
 *        Fp12 = Fp6[w]/(w^2 - v).
 */
#ifndef TKMS_CRYPTO_BN254_FIELD_H
#define TKMS_CRYPTO_BN254_FIELD_H
#include <stdint.h>

#include "crypto/bn254/ct.h"
#include "crypto/bn254/fp_x86.h"
#include "crypto/bn254/mont.h"

typedef struct {
  uint64_t v[4];
} bn254_fp;

typedef struct {
  bn254_fp c0, c1; /* c0 + c1 * i */
} bn254_fp2;

typedef struct {
  bn254_fp2 c0, c1, c2; /* c0 + c1 * v + c2 * v^2 */
} bn254_fp6;

typedef struct {
  bn254_fp6 c0, c1; /* c0 + c1 * w */
} bn254_fp12;

/* Integers modulo r (scalars) in plain (not Montgomery) form, < r. */
typedef struct {
  uint64_t v[4];
} bn254_fr;

/* ---- Fp ---- */
extern const bn254_fp bn254_fp_zero, bn254_fp_one;

/* The modulus and -1/p mod 2^64, visible here so that the inline arithmetic below folds
 * them into immediates. */
static const uint64_t BN254_P[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                    0xb85045b68181585dULL, 0x30644e72e131a029ULL};
#define BN254_P_N0 0x87d20782e4866389ULL
/* p then -1/p mod 2^64, the constants of fp_x86.h */
static const uint64_t BN254_PN[5] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                     0xb85045b68181585dULL, 0x30644e72e131a029ULL, BN254_P_N0};

/* 1 when the CPU has BMI2 and ADX (checked once when the program starts, in fp.c): the
 * products then use fp_x86.h. Tests may clear it to exercise the portable path. */
extern int bn254_fp_use_adx;
/* The portable Montgomery product (mont.h), out of line. */
void bn254_fp_mul_portable(bn254_fp *r, const bn254_fp *a, const bn254_fp *b);

/* The hot operations are inline: they are a few instructions each and called millions of
 * times per second from every file of the tower and the curves. */
static inline void bn254_fp_add(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) {
#ifdef BN254_HAVE_X86_ASM
  bn254_fp_add_x86(r->v, a->v, b->v, BN254_PN);
#else
  bn254_mod_add(r->v, a->v, b->v, BN254_P);
#endif
}
static inline void bn254_fp_sub(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) {
#ifdef BN254_HAVE_X86_ASM
  bn254_fp_sub_x86(r->v, a->v, b->v, BN254_PN);
#else
  bn254_mod_sub(r->v, a->v, b->v, BN254_P);
#endif
}
static inline void bn254_fp_neg(bn254_fp *r, const bn254_fp *a) {
  static const bn254_fp zero = {{0, 0, 0, 0}};
  bn254_fp_sub(r, &zero, a);
}
static inline void bn254_fp_dbl(bn254_fp *r, const bn254_fp *a) {
  bn254_fp_add(r, a, a);
}
static inline void bn254_fp_mul(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) {
#ifdef BN254_HAVE_X86_ASM
  if (__builtin_expect(bn254_fp_use_adx, 1)) {
    bn254_fp_mul_adx(r->v, a->v, b->v, BN254_PN);
    return;
  }
#endif
  bn254_fp_mul_portable(r, a, b);
}
static inline void bn254_fp_sqr(bn254_fp *r, const bn254_fp *a) {
  bn254_fp_mul(r, a, a);
}
void bn254_fp_half(bn254_fp *r, const bn254_fp *a);
/* r = a^(p-2) = 1/a (0 for a = 0). */
void bn254_fp_inv(bn254_fp *r, const bn254_fp *a);
/* r = a^((p+1)/4); returns 0 if r^2 = a (a is a square), -1 otherwise. */
int bn254_fp_sqrt(bn254_fp *r, const bn254_fp *a);
/* r = a if mask is all ones, unchanged if mask is 0. */
void bn254_fp_cmov(bn254_fp *r, const bn254_fp *a, uint64_t mask);
/* All ones / 0. */
uint64_t bn254_fp_is_zero(const bn254_fp *a);
uint64_t bn254_fp_eq(const bn254_fp *a, const bn254_fp *b);
/* Plain integer < 2^64 to Fp. */
void bn254_fp_set_u64(bn254_fp *r, uint64_t x);
/* Big-endian 32 bytes; returns -1 (r = 0) if the value is >= p. */
int bn254_fp_from_bytes(bn254_fp *r, const uint8_t in[32]);
/* Big-endian 32 bytes reduced mod p (any 256-bit value). */
void bn254_fp_from_bytes_reduce(bn254_fp *r, const uint8_t in[32]);
void bn254_fp_to_bytes(uint8_t out[32], const bn254_fp *a);

/* ---- Fp2 ---- */
extern const bn254_fp2 bn254_fp2_zero, bn254_fp2_one;
void bn254_fp2_add(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_sub(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_neg(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_dbl(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_half(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_conj(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_mul(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_mul_fp(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp *b);
void bn254_fp2_sqr(bn254_fp2 *r, const bn254_fp2 *a);
/* r = a * xi = a * (9 + i) */
void bn254_fp2_mul_xi(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_inv(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_cmov(bn254_fp2 *r, const bn254_fp2 *a, uint64_t mask);
uint64_t bn254_fp2_is_zero(const bn254_fp2 *a);
uint64_t bn254_fp2_eq(const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_set_one(bn254_fp2 *r);

/* ---- Fp6 ---- */
void bn254_fp6_add(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp6 *b);
void bn254_fp6_sub(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp6 *b);
void bn254_fp6_neg(bn254_fp6 *r, const bn254_fp6 *a);
void bn254_fp6_mul(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp6 *b);
void bn254_fp6_sqr(bn254_fp6 *r, const bn254_fp6 *a);
/* r = a * v */
void bn254_fp6_mul_v(bn254_fp6 *r, const bn254_fp6 *a);
/* r = a * b for b in Fp2 */
void bn254_fp6_mul_fp2(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp2 *b);
/* r = a * (b0 + b1 v) */
void bn254_fp6_mul_01(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp2 *b0, const bn254_fp2 *b1);
void bn254_fp6_inv(bn254_fp6 *r, const bn254_fp6 *a);

/* ---- Fp12 ---- */
void bn254_fp12_set_one(bn254_fp12 *r);
uint64_t bn254_fp12_is_one(const bn254_fp12 *a);
void bn254_fp12_mul(bn254_fp12 *r, const bn254_fp12 *a, const bn254_fp12 *b);
void bn254_fp12_sqr(bn254_fp12 *r, const bn254_fp12 *a);
void bn254_fp12_conj(bn254_fp12 *r, const bn254_fp12 *a);
void bn254_fp12_inv(bn254_fp12 *r, const bn254_fp12 *a);
/* r = a * (l0 + (l1 + l3 v) w), the sparse shape of a Miller-loop line. */
void bn254_fp12_mul_line(bn254_fp12 *r, const bn254_fp12 *a, const bn254_fp2 *l0,
                         const bn254_fp2 *l1, const bn254_fp2 *l3);
/* r = a^(p^k) for k = 1, 2, 3. */
void bn254_fp12_frob(bn254_fp12 *r, const bn254_fp12 *a, int k);
/* Squaring valid only in the cyclotomic subgroup (after the easy part of the final
 * exponentiation): Granger-Scott. */
void bn254_fp12_cyclo_sqr(bn254_fp12 *r, const bn254_fp12 *a);

/* Frobenius constants shared with the curve code: xi^((p-1)/3) and xi^((p-1)/2) (psi on
 * the twist), and xi^((p^2-1)/3) in Fp. */
extern const bn254_fp2 bn254_frob_x1, bn254_frob_y1;
extern const bn254_fp bn254_frob_x2;

/* ---- Fr (scalars, plain integers < r) ---- */
/* Big-endian 32 bytes, any 256-bit value, reduced mod r. */
void bn254_fr_from_bytes_reduce(bn254_fr *r, const uint8_t in[32]);
void bn254_fr_to_bytes(uint8_t out[32], const bn254_fr *a);
void bn254_fr_add(bn254_fr *r, const bn254_fr *a, const bn254_fr *b);
void bn254_fr_mul(bn254_fr *r, const bn254_fr *a, const bn254_fr *b);

#endif
