/* src/crypto/bn254/bn254.h — BN254 (alt_bn128) as Ethereum and EigenLayer use it.
 * Pure functions, no I/O, no allocation.
 *
 * Curve: p = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47,
 *        r = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001.
 * G1: y^2 = x^3 + 3 over Fp, generator (1, 2), cofactor 1.
 * G2: y^2 = x^3 + 3/(9+i) over Fp2 = Fp[i]/(i^2 + 1), the order-r subgroup.
 *
 * Encodings (the EVM precompiles 0x06/0x07/0x08 and Solidity BN254.sol):
 *   field element  32 bytes, big-endian, must be < p (never reduced on input).
 *   scalar         32 bytes, big-endian, any 256-bit value; used modulo r.
 *   G1 point       64 bytes: x || y.
 *   G2 point       128 bytes: x_imag || x_real || y_imag || y_real, where
 *                  x = x_real + x_imag * i. IMAGINARY PART FIRST, as in the precompile
 *                  and in BN254.G2Point (X = [x1, x0]). gnark's E2{A0, A1} and eigensdk-go's
 *                  SerializeG2 put the real part first: convert before calling.
 *   infinity       all-zero bytes ((0,0) for G1, (0,0,0,0) for G2). It is the only
 *                  encoding of infinity and it is what every function writes for it.
 *
 * Every point input is validated (coordinates < p, on the curve, G2 in the order-r
 * subgroup); an invalid input makes the function return -1 and leave the output zeroed.
 * Return values: 0 on success, -1 on error. Outputs may alias inputs.
 *
 * Constant time: functions marked [secret] do not branch on, or index memory by, the
 * scalar (checked under valgrind by tests/ctime/). Points are always treated as public.
 */
#ifndef TKMS_CRYPTO_BN254_H
#define TKMS_CRYPTO_BN254_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_BN254_FIELD_BYTES 32u
#define TKMS_BN254_SCALAR_BYTES 32u
#define TKMS_BN254_G1_BYTES 64u
#define TKMS_BN254_G2_BYTES 128u
/* One pairing-check input: a G1 point then a G2 point, as in precompile 0x08. */
#define TKMS_BN254_PAIR_BYTES 192u

/* ---- scalars (integers modulo r) ---- */

/* Checks 1 <= k < r, the range of a secret key. [secret]
 * In: k. Returns 0 if in range, -1 otherwise. */
int tkms_bn254_scalar_check(const uint8_t k[32]);

/* out = in mod r (e.g. keccak256(...) mod r for a Fiat-Shamir challenge). [secret]
 * In: any 256-bit value. Out: out < r. Returns 0. */
int tkms_bn254_scalar_reduce(uint8_t out[32], const uint8_t in[32]);

/* out = a + b mod r and out = a * b mod r. Inputs are any 256-bit values. [secret]
 * Returns 0. */
int tkms_bn254_scalar_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
int tkms_bn254_scalar_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);

/* ---- G1 ---- */

/* Writes the generator (1, 2). Returns 0. */
int tkms_bn254_g1_generator(uint8_t out[64]);

/* Checks an encoded G1 point: coordinates < p and on the curve, or (0,0).
 * Returns 0 if valid, -1 otherwise. */
int tkms_bn254_g1_check(const uint8_t pt[64]);

/* Returns 0 if the encoded point is infinity (all zero), -1 otherwise (no validation). */
int tkms_bn254_g1_is_infinity(const uint8_t pt[64]);

/* out = a + b (precompile 0x06). In: two valid points. Returns 0, or -1 if either input
 * is invalid. */
int tkms_bn254_g1_add(uint8_t out[64], const uint8_t a[64], const uint8_t b[64]);

/* out = -a. Returns 0, or -1 if a is invalid. */
int tkms_bn254_g1_neg(uint8_t out[64], const uint8_t a[64]);

/* out = [k]pt with k secret: k mod r split as k0 + k1 lambda along the endomorphism
 * (x, y) -> (beta x, y) by a masked division, fixed 4-bit windows, tables scanned in full,
 * complete additions. [secret] In: valid point, any 256-bit k (used mod r).
 * Returns 0, or -1 if pt is invalid. */
int tkms_bn254_g1_mul(uint8_t out[64], const uint8_t pt[64], const uint8_t k[32]);

/* out = [k]G1 for the generator G1, constant time in k. [secret] Returns 0. */
int tkms_bn254_g1_mul_base(uint8_t out[64], const uint8_t k[32]);

/* out = [k]pt with k public (precompile 0x07): variable time, faster.
 * Never pass a secret scalar. Returns 0, or -1 if pt is invalid. */
int tkms_bn254_g1_mul_public(uint8_t out[64], const uint8_t pt[64], const uint8_t k[32]);

/* ---- G2 ---- */

/* Writes the generator in the order above (x_imag first). Returns 0. */
int tkms_bn254_g2_generator(uint8_t out[128]);

/* Checks an encoded G2 point: four coordinates < p, on the twist and in the order-r
 * subgroup (the endomorphism test of eprint 2022/348, equivalent to [r]Q = O), or all zero.
 * Returns 0 if valid, -1 otherwise. */
int tkms_bn254_g2_check(const uint8_t pt[128]);

/* Returns 0 if the encoded point is infinity (all zero), -1 otherwise (no validation). */
int tkms_bn254_g2_is_infinity(const uint8_t pt[128]);

/* out = a + b. Returns 0, or -1 if either input is invalid. */
int tkms_bn254_g2_add(uint8_t out[128], const uint8_t a[128], const uint8_t b[128]);

/* out = -a. Returns 0, or -1 if a is invalid. */
int tkms_bn254_g2_neg(uint8_t out[128], const uint8_t a[128]);

/* out = [k]pt with k secret: as tkms_bn254_g1_mul, with the endomorphism psi (k0, k1 <
 * 2^127). [secret] In: valid point (the subgroup test runs first), any 256-bit k.
 * Returns 0, or -1 if pt is invalid. */
int tkms_bn254_g2_mul(uint8_t out[128], const uint8_t pt[128], const uint8_t k[32]);

/* out = [k]G2 for the generator G2, constant time in k. [secret] Returns 0. */
int tkms_bn254_g2_mul_base(uint8_t out[128], const uint8_t k[32]);

/* out = [k]pt with k public: variable time. Returns 0, or -1 if pt is invalid. */
int tkms_bn254_g2_mul_public(uint8_t out[128], const uint8_t pt[128], const uint8_t k[32]);

/* ---- pairing ---- */

/* The pairing product check of precompile 0x08: pairs holds n * 192 bytes, each pair a G1
 * point followed by a G2 point. Pairs with an infinity point contribute 1; n = 0 is a
 * product of 1.
 * Returns 0 if every point is valid and prod e(P_i, Q_i) = 1; -1 if any point is invalid
 * or the product is not 1. (To tell the two apart, validate with *_check first.) */
int tkms_bn254_pairing_check(const uint8_t *pairs, size_t n);

/* out = e(P, Q), the reduced optimal ate pairing, as 12 field elements of 32 bytes:
 * the Fp12 element sum c_j * w^j (w^2 = v, v^3 = 9+i) with coefficients of
 * 1, v, v^2, w, vw, v^2w, each Fp2 value written real part first (unlike G2 points).
 * This is the layout of @noble/curves' Fp12 {c0: {c0, c1, c2}, c1: {...}}.
 * Returns 0, or -1 if a point is invalid. */
#define TKMS_BN254_GT_BYTES 384u
int tkms_bn254_pairing(uint8_t out[384], const uint8_t p[64], const uint8_t q[128]);

/* ---- hashing ---- */

/* BN254.sol hashToG1 (eigenlayer-middleware), bit-exact: x = h mod p; repeat
 * { beta = x^3 + 3; y = beta^((p+1)/4); if y^2 = beta return (x, y); x = x + 1 }.
 * y is never negated. Variable time: h is public. Out: a valid G1 point. Returns 0. */
int tkms_bn254_hash_to_g1(uint8_t out[64], const uint8_t h[32]);

#endif
