/* src/crypto/bn254/curve.h — internal: G1 and G2 points, group law, scalar multiplication,
 * the Miller loop and the final exponentiation.
 *
 * Points are Jacobian (X, Y, Z) standing for (X/Z^2, Y/Z^3); Z = 0 is infinity. Affine points
 * carry an explicit infinity flag. Group law and *_mul_ct are constant time; functions
 * named _vartime, the checks, the decoders and the pairing branch on (public) points.
 */
#ifndef TKMS_CRYPTO_BN254_CURVE_H
#define TKMS_CRYPTO_BN254_CURVE_H
#include <stdint.h>

#include "crypto/bn254/field.h"

typedef struct {
  bn254_fp x, y, z;
} bn254_g1;

typedef struct {
  bn254_fp x, y;
  int inf;
} bn254_g1_aff;

typedef struct {
  bn254_fp2 x, y, z;
} bn254_g2;

typedef struct {
  bn254_fp2 x, y;
  int inf;
} bn254_g2_aff;

/* ---- G1 ---- */
extern const bn254_g1_aff bn254_g1_gen;
void bn254_g1_from_aff(bn254_g1 *r, const bn254_g1_aff *a);
/* Constant time (one inversion by Fermat). */
void bn254_g1_to_aff(bn254_g1_aff *r, const bn254_g1 *a);
void bn254_g1_dbl(bn254_g1 *r, const bn254_g1 *a);
/* Complete: any inputs, including equal, opposite and infinite ones, without branches. */
void bn254_g1_add(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b);
/* The same sum, branching on the points: for public points only. */
void bn254_g1_add_vartime(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b);
/* Complete mixed addition (b affine; b->inf may be set). */
void bn254_g1_add_aff(bn254_g1 *r, const bn254_g1 *a, const bn254_g1_aff *b);
void bn254_g1_add_aff_vartime(bn254_g1 *r, const bn254_g1 *a, const bn254_g1_aff *b);
void bn254_g1_neg(bn254_g1 *r, const bn254_g1 *a);
/* [k]a, k < r secret; a public and of order r (any point of G1). */
void bn254_g1_mul_ct(bn254_g1 *r, const bn254_g1_aff *a, const bn254_fr *k);
/* [k]a for a public k (little-endian limbs, nbits significant bits). */
void bn254_g1_mul_vartime(bn254_g1 *r, const bn254_g1_aff *a, const uint64_t *k, int nbits);
/* 0 if on the curve (or infinity), -1 otherwise. */
int bn254_g1_aff_check(const bn254_g1_aff *a);
/* Encoding (see bn254.h); decode validates. */
int bn254_g1_decode(bn254_g1_aff *r, const uint8_t in[64]);
void bn254_g1_encode(uint8_t out[64], const bn254_g1_aff *a);

/* ---- G2 ---- */
extern const bn254_g2_aff bn254_g2_gen;
void bn254_g2_from_aff(bn254_g2 *r, const bn254_g2_aff *a);
void bn254_g2_to_aff(bn254_g2_aff *r, const bn254_g2 *a);
void bn254_g2_dbl(bn254_g2 *r, const bn254_g2 *a);
void bn254_g2_add(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b);
void bn254_g2_add_vartime(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b);
void bn254_g2_add_aff(bn254_g2 *r, const bn254_g2 *a, const bn254_g2_aff *b);
void bn254_g2_add_aff_vartime(bn254_g2 *r, const bn254_g2 *a, const bn254_g2_aff *b);
void bn254_g2_neg(bn254_g2 *r, const bn254_g2 *a);
/* psi(a) = untwist-Frobenius-twist; acts as [p] on G2. */
void bn254_g2_psi(bn254_g2 *r, const bn254_g2 *a);
/* [k]a, k < r secret; a must be in G2 (the endomorphism split assumes psi = [p] on a). */
void bn254_g2_mul_ct(bn254_g2 *r, const bn254_g2_aff *a, const bn254_fr *k);
void bn254_g2_mul_vartime(bn254_g2 *r, const bn254_g2_aff *a, const uint64_t *k, int nbits);
/* 0 if on the twist (or infinity), -1 otherwise: no subgroup check. */
int bn254_g2_aff_on_curve(const bn254_g2_aff *a);
/* 0 if in the order-r subgroup, -1 otherwise (a must be on the twist). */
int bn254_g2_aff_in_subgroup(const bn254_g2_aff *a);
int bn254_g2_decode(bn254_g2_aff *r, const uint8_t in[128]);
/* Decodes and checks the twist equation only (tests build non-subgroup points with it). */
int bn254_g2_decode_unchecked_subgroup(bn254_g2_aff *r, const uint8_t in[128]);
void bn254_g2_encode(uint8_t out[128], const bn254_g2_aff *a);

/* ---- scalar split (fr.c) ---- */
/* k = q d + rem with 0 <= rem < d, by restoring division one bit at a time with masks:
 * constant time in k. d is public, below 2^255, and k / d must be below 2^128. */
void bn254_fr_divmod(uint64_t rem[4], uint64_t q[2], const bn254_fr *k, const uint64_t d[4]);

/* ---- pairing ---- */
/* f = prod of Miller loops f_{6u+2,Q_i}(P_i) with the two Frobenius lines; points with
 * infinity are skipped. Variable time in the (public) points. */
void bn254_miller_loop(bn254_fp12 *f, const bn254_g1_aff *p, const bn254_g2_aff *q, int n);
/* f^((p^12 - 1) / r * 2u(6u^2 + 3u + 1)): the multiple of the reduced pairing exponent that
 * @noble/curves computes too (Fuentes-Castaneda et al.); coprime to r, so still a pairing. */
void bn254_final_exp(bn254_fp12 *r, const bn254_fp12 *f);

#endif
