/* src/crypto/bn254/g2.c — G2: the order-r subgroup of the twist y^2 = x^3 + 3/(9+i) over Fp2.
 * Complete Jacobian group law (the formulas of g1.c over Fp2), psi, validation with the
 * subgroup test, encoding, and the public tkms_bn254_g2_* functions. */
#include <string.h>

#include "crypto/bn254/bn254.h"
#include "crypto/bn254/curve.h"

/* b' = 3/(9+i) in Montgomery form */
static const bn254_fp2 B3 = {
    {{0x3bf938e377b802a8ULL, 0x020b1b273633535dULL, 0x26b7edf049755260ULL, 0x2514c6324384a86dULL}},
    {{0x38e7ecccd1dcff67ULL, 0x65f0b37d93ce0d3eULL, 0xd749d0dd22ac00aaULL, 0x0141b9ce4a688d4dULL}}};

/* The generator of BN254.sol / EIP-197, Montgomery form: x = x0 + x1 i with
 * x0 = 10857046999023057135944570762232829481370756359578518086990519993285655852781,
 * x1 = 11559732032986387107991004021392285783925812861821192530917403151452391805634,
 * y0 = 8495653923123431417604973247489272438418190587263600148770280649306958101930,
 * y1 = 4082367875863433681332203403145435568316851327593401208105741076214120093531. */
const bn254_g2_aff bn254_g2_gen = {
    {{{0x8e83b5d102bc2026ULL, 0xdceb1935497b0172ULL, 0xfbb8264797811adfULL, 0x19573841af96503bULL}},
     {{0xafb4737da84c6140ULL, 0x6043dd5a5802d8c4ULL, 0x09e950fc52a02f86ULL,
       0x14fef0833aea7b6bULL}}},
    {{{0x619dfa9d886be9f6ULL, 0xfe7fd297f59e9b78ULL, 0xff9e1a62231b7dfeULL, 0x28fd7eebae9e4206ULL}},
     {{0x64095b56c71856eeULL, 0xdc57f922327d3cbbULL, 0x55f935be33351076ULL,
       0x0da4a0e693fd6482ULL}}},
    0};

/* u, the BN parameter */
static const uint64_t BN_U[1] = {0x44e992b44a6909f1ULL};

void bn254_g2_from_aff(bn254_g2 *r, const bn254_g2_aff *a) {
  uint64_t inf = bn254_ct_mask((uint64_t)(a->inf & 1));
  r->x = a->x;
  r->y = a->y;
  r->z = bn254_fp2_one;
  bn254_fp2_cmov(&r->z, &bn254_fp2_zero, inf);
}

/* 1/0 = 0 with Fermat, so infinity comes out as (0, 0) without a branch. */
void bn254_g2_to_aff(bn254_g2_aff *r, const bn254_g2 *a) {
  bn254_fp2 zi, zi2;
  uint64_t inf = bn254_fp2_is_zero(&a->z);
  bn254_fp2_inv(&zi, &a->z);
  bn254_fp2_sqr(&zi2, &zi);
  bn254_fp2_mul(&r->x, &a->x, &zi2);
  bn254_fp2_mul(&zi2, &zi2, &zi);
  bn254_fp2_mul(&r->y, &a->y, &zi2);
  r->inf = (int)(inf & 1);
}

/* dbl-2009-l (a = 0): 2M + 5S. Infinity (Z = 0) stays infinity; the twist's order is odd, so it has
 * no point of order 2. */
void bn254_g2_dbl(bn254_g2 *r, const bn254_g2 *a) {
  bn254_fp2 A, B, C, D, E, F, t;
  bn254_fp2_sqr(&A, &a->x);
  bn254_fp2_sqr(&B, &a->y);
  bn254_fp2_sqr(&C, &B);
  bn254_fp2_add(&D, &a->x, &B);
  bn254_fp2_sqr(&D, &D);
  bn254_fp2_sub(&D, &D, &A);
  bn254_fp2_sub(&D, &D, &C);
  bn254_fp2_dbl(&D, &D);
  bn254_fp2_dbl(&E, &A);
  bn254_fp2_add(&E, &E, &A);
  bn254_fp2_sqr(&F, &E);
  bn254_fp2_mul(&r->z, &a->y, &a->z); /* last read of a, so r may alias it */
  bn254_fp2_dbl(&r->z, &r->z);
  bn254_fp2_dbl(&t, &D);
  bn254_fp2_sub(&r->x, &F, &t);
  bn254_fp2_sub(&t, &D, &r->x);
  bn254_fp2_mul(&t, &E, &t);
  bn254_fp2_dbl(&C, &C);
  bn254_fp2_dbl(&C, &C);
  bn254_fp2_dbl(&C, &C);
  bn254_fp2_sub(&r->y, &t, &C);
}

/* add-2007-bl without the exceptional cases; *same is all ones when H = 0 and R = 0 (a = b
 * or an infinite input: the callers sort those out). */
static void g2_add_core(bn254_g2 *res, uint64_t *same, const bn254_g2 *a, const bn254_g2 *b) {
  bn254_fp2 z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
  bn254_fp2_sqr(&z1z1, &a->z);
  bn254_fp2_sqr(&z2z2, &b->z);
  bn254_fp2_mul(&u1, &a->x, &z2z2);
  bn254_fp2_mul(&u2, &b->x, &z1z1);
  bn254_fp2_mul(&s1, &a->y, &b->z);
  bn254_fp2_mul(&s1, &s1, &z2z2);
  bn254_fp2_mul(&s2, &b->y, &a->z);
  bn254_fp2_mul(&s2, &s2, &z1z1);
  bn254_fp2_sub(&h, &u2, &u1);
  bn254_fp2_sub(&rr, &s2, &s1);
  bn254_fp2_dbl(&rr, &rr);
  *same = bn254_fp2_is_zero(&h) & bn254_fp2_is_zero(&rr);
  bn254_fp2_dbl(&i, &h);
  bn254_fp2_sqr(&i, &i);
  bn254_fp2_mul(&j, &h, &i);
  bn254_fp2_mul(&v, &u1, &i);
  bn254_fp2_sqr(&res->x, &rr);
  bn254_fp2_sub(&res->x, &res->x, &j);
  bn254_fp2_dbl(&t, &v);
  bn254_fp2_sub(&res->x, &res->x, &t);
  bn254_fp2_sub(&t, &v, &res->x);
  bn254_fp2_mul(&t, &rr, &t);
  bn254_fp2_mul(&s1, &s1, &j);
  bn254_fp2_dbl(&s1, &s1);
  bn254_fp2_sub(&res->y, &t, &s1);
  bn254_fp2_add(&t, &a->z, &b->z);
  bn254_fp2_sqr(&t, &t);
  bn254_fp2_sub(&t, &t, &z1z1);
  bn254_fp2_sub(&t, &t, &z2z2);
  bn254_fp2_mul(&res->z, &t, &h);
}

/* Complete: the doubling and the infinite inputs patched in with masks. a = -b needs no
 * patch: H = 0 gives Z3 = 0. */
void bn254_g2_add(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b) {
  bn254_g2 res, d;
  uint64_t same, ainf = bn254_fp2_is_zero(&a->z), binf = bn254_fp2_is_zero(&b->z);
  g2_add_core(&res, &same, a, b);
  same &= ~ainf & ~binf;
  bn254_g2_dbl(&d, a);
  bn254_fp2_cmov(&res.x, &d.x, same);
  bn254_fp2_cmov(&res.y, &d.y, same);
  bn254_fp2_cmov(&res.z, &d.z, same);
  bn254_fp2_cmov(&res.x, &b->x, ainf);
  bn254_fp2_cmov(&res.y, &b->y, ainf);
  bn254_fp2_cmov(&res.z, &b->z, ainf);
  bn254_fp2_cmov(&res.x, &a->x, binf);
  bn254_fp2_cmov(&res.y, &a->y, binf);
  bn254_fp2_cmov(&res.z, &a->z, binf);
  *r = res;
}

/* The same sum with branches, for public points only: no doubling unless needed. */
void bn254_g2_add_vartime(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b) {
  uint64_t same;
  if (bn254_fp2_is_zero(&a->z) & 1) {
    *r = *b;
  } else if (bn254_fp2_is_zero(&b->z) & 1) {
    *r = *a;
  } else {
    bn254_g2 res;
    g2_add_core(&res, &same, a, b);
    if (same & 1)
      bn254_g2_dbl(r, a);
    else
      *r = res;
  }
}

/* madd-2007-bl (b affine) without the exceptional cases; *same as in g2_add_core. */
static void g2_add_aff_core(bn254_g2 *res, uint64_t *same, const bn254_g2 *a,
                            const bn254_g2_aff *b) {
  bn254_fp2 z1z1, u2, s2, h, hh, i, j, rr, v, t;
  bn254_fp2_sqr(&z1z1, &a->z);
  bn254_fp2_mul(&u2, &b->x, &z1z1);
  bn254_fp2_mul(&s2, &b->y, &a->z);
  bn254_fp2_mul(&s2, &s2, &z1z1);
  bn254_fp2_sub(&h, &u2, &a->x);
  bn254_fp2_sub(&rr, &s2, &a->y);
  bn254_fp2_dbl(&rr, &rr);
  *same = bn254_fp2_is_zero(&h) & bn254_fp2_is_zero(&rr);
  bn254_fp2_sqr(&hh, &h);
  bn254_fp2_dbl(&i, &hh);
  bn254_fp2_dbl(&i, &i);
  bn254_fp2_mul(&j, &h, &i);
  bn254_fp2_mul(&v, &a->x, &i);
  bn254_fp2_sqr(&res->x, &rr);
  bn254_fp2_sub(&res->x, &res->x, &j);
  bn254_fp2_dbl(&t, &v);
  bn254_fp2_sub(&res->x, &res->x, &t);
  bn254_fp2_sub(&t, &v, &res->x);
  bn254_fp2_mul(&t, &rr, &t);
  bn254_fp2_mul(&j, &a->y, &j);
  bn254_fp2_dbl(&j, &j);
  bn254_fp2_sub(&res->y, &t, &j);
  bn254_fp2_add(&t, &a->z, &h);
  bn254_fp2_sqr(&t, &t);
  bn254_fp2_sub(&t, &t, &z1z1);
  bn254_fp2_sub(&res->z, &t, &hh);
}

/* Complete mixed addition with the same masked patches; b->inf is read as data, never
 * branched on. */
void bn254_g2_add_aff(bn254_g2 *r, const bn254_g2 *a, const bn254_g2_aff *b) {
  bn254_g2 res, d;
  uint64_t same, ainf = bn254_fp2_is_zero(&a->z);
  uint64_t binf = bn254_ct_mask((uint64_t)(b->inf & 1));
  g2_add_aff_core(&res, &same, a, b);
  same &= ~ainf & ~binf;
  bn254_g2_dbl(&d, a);
  bn254_fp2_cmov(&res.x, &d.x, same);
  bn254_fp2_cmov(&res.y, &d.y, same);
  bn254_fp2_cmov(&res.z, &d.z, same);
  bn254_fp2_cmov(&res.x, &b->x, ainf);
  bn254_fp2_cmov(&res.y, &b->y, ainf);
  bn254_fp2_cmov(&res.z, &bn254_fp2_one, ainf);
  bn254_fp2_cmov(&res.x, &a->x, binf);
  bn254_fp2_cmov(&res.y, &a->y, binf);
  bn254_fp2_cmov(&res.z, &a->z, binf);
  *r = res;
}

/* The same with branches, for public points. */
void bn254_g2_add_aff_vartime(bn254_g2 *r, const bn254_g2 *a, const bn254_g2_aff *b) {
  uint64_t same;
  if (b->inf) {
    *r = *a;
  } else if (bn254_fp2_is_zero(&a->z) & 1) {
    bn254_g2_from_aff(r, b);
  } else {
    bn254_g2 res;
    g2_add_aff_core(&res, &same, a, b);
    if (same & 1)
      bn254_g2_dbl(r, a);
    else
      *r = res;
  }
}

void bn254_g2_neg(bn254_g2 *r, const bn254_g2 *a) {
  r->x = a->x;
  bn254_fp2_neg(&r->y, &a->y);
  r->z = a->z;
}

/* psi(x, y) = (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2)); in Jacobian form Z is
 * conjugated too (conj is a field automorphism). */
void bn254_g2_psi(bn254_g2 *r, const bn254_g2 *a) {
  bn254_fp2_conj(&r->x, &a->x);
  bn254_fp2_mul(&r->x, &r->x, &bn254_frob_x1);
  bn254_fp2_conj(&r->y, &a->y);
  bn254_fp2_mul(&r->y, &r->y, &bn254_frob_y1);
  bn254_fp2_conj(&r->z, &a->z);
}

int bn254_g2_aff_on_curve(const bn254_g2_aff *a) {
  bn254_fp2 l, rhs;
  if (a->inf) return 0;
  bn254_fp2_sqr(&l, &a->y);
  bn254_fp2_sqr(&rhs, &a->x);
  bn254_fp2_mul(&rhs, &rhs, &a->x);
  bn254_fp2_add(&rhs, &rhs, &B3);
  return bn254_fp2_eq(&l, &rhs) ? 0 : -1;
}

/* Jacobian equality (variable time, public points). */
static int g2_eq_vartime(const bn254_g2 *a, const bn254_g2 *b) {
  bn254_fp2 z1z1, z2z2, u1, u2;
  int ainf = (int)(bn254_fp2_is_zero(&a->z) & 1), binf = (int)(bn254_fp2_is_zero(&b->z) & 1);
  if (ainf || binf) return ainf == binf;
  bn254_fp2_sqr(&z1z1, &a->z);
  bn254_fp2_sqr(&z2z2, &b->z);
  bn254_fp2_mul(&u1, &a->x, &z2z2);
  bn254_fp2_mul(&u2, &b->x, &z1z1);
  if (!bn254_fp2_eq(&u1, &u2)) return 0;
  bn254_fp2_mul(&z2z2, &z2z2, &b->z);
  bn254_fp2_mul(&z1z1, &z1z1, &a->z);
  bn254_fp2_mul(&u1, &a->y, &z2z2);
  bn254_fp2_mul(&u2, &b->y, &z1z1);
  return bn254_fp2_eq(&u1, &u2) ? 1 : 0;
}

/* The twist has r (2p - r) points; only the order-r part is G2, and a point outside it
 * would let an attacker move a pairing into a small subgroup. The test is
 *   [u + 1]Q + psi([u]Q) + psi^2([u]Q) = psi^3([2u]Q),
 * which holds on G2 because psi acts there as [p] and (u + 1) + u p + u p^2 - 2u p^3 = 0
 * mod r, and which El Housni, Guillevic and Piellard ("Co-factor clearing and subgroup
 * membership testing on pairing-friendly curves", eprint 2022/348, sec. 3 and 5.1) prove
 * equivalent to [r]Q = O on the BN254 twist; gnark-crypto uses the same test. One
 * multiplication by the 63-bit u instead of a 254-bit [r]. The unit tests compare it with
 * [r]Q = O on points of the twist inside and outside G2. */
int bn254_g2_aff_in_subgroup(const bn254_g2_aff *a) {
  bn254_g2 q, uq, lhs, t, rhs;
  if (a->inf) return 0;
  bn254_g2_from_aff(&q, a);
  bn254_g2_mul_vartime(&uq, a, BN_U, 63);
  bn254_g2_add_vartime(&lhs, &uq, &q); /* [u + 1]Q */
  bn254_g2_psi(&t, &uq);
  bn254_g2_add_vartime(&lhs, &lhs, &t); /* + psi([u]Q) */
  bn254_g2_psi(&t, &t);
  bn254_g2_add_vartime(&lhs, &lhs, &t); /* + psi^2([u]Q) */
  bn254_g2_dbl(&rhs, &uq);
  bn254_g2_psi(&rhs, &rhs);
  bn254_g2_psi(&rhs, &rhs);
  bn254_g2_psi(&rhs, &rhs); /* psi^3([2u]Q) */
  return g2_eq_vartime(&lhs, &rhs) ? 0 : -1;
}

/* x_imag || x_real || y_imag || y_real */
int bn254_g2_decode_unchecked_subgroup(bn254_g2_aff *r, const uint8_t in[128]) {
  memset(r, 0, sizeof *r);
  if (bn254_fp_from_bytes(&r->x.c1, in) || bn254_fp_from_bytes(&r->x.c0, in + 32) ||
      bn254_fp_from_bytes(&r->y.c1, in + 64) || bn254_fp_from_bytes(&r->y.c0, in + 96))
    goto bad;
  /* (0, 0) is not on the twist, so the precompile uses it for infinity. */
  r->inf = (bn254_fp2_is_zero(&r->x) & bn254_fp2_is_zero(&r->y)) ? 1 : 0;
  if (bn254_g2_aff_on_curve(r)) goto bad;
  return 0;
bad:
  memset(r, 0, sizeof *r);
  return -1;
}

int bn254_g2_decode(bn254_g2_aff *r, const uint8_t in[128]) {
  if (bn254_g2_decode_unchecked_subgroup(r, in)) return -1;
  if (bn254_g2_aff_in_subgroup(r)) {
    memset(r, 0, sizeof *r);
    return -1;
  }
  return 0;
}

/* Writes zeros for infinity; constant time in the point. */
void bn254_g2_encode(uint8_t out[128], const bn254_g2_aff *a) {
  bn254_fp2 x = a->x, y = a->y;
  uint64_t inf = bn254_ct_mask((uint64_t)(a->inf & 1));
  bn254_fp2_cmov(&x, &bn254_fp2_zero, inf);
  bn254_fp2_cmov(&y, &bn254_fp2_zero, inf);
  bn254_fp_to_bytes(out, &x.c1);
  bn254_fp_to_bytes(out + 32, &x.c0);
  bn254_fp_to_bytes(out + 64, &y.c1);
  bn254_fp_to_bytes(out + 96, &y.c0);
}

/* ---- public API ---- */

static int g2_finish(uint8_t out[128], const bn254_g2 *p) {
  bn254_g2_aff a;
  bn254_g2_to_aff(&a, p);
  bn254_g2_encode(out, &a);
  return 0;
}

static int g2_fail(uint8_t out[128]) {
  memset(out, 0, 128);
  return -1;
}

int tkms_bn254_g2_generator(uint8_t out[128]) {
  bn254_g2_encode(out, &bn254_g2_gen);
  return 0;
}

int tkms_bn254_g2_check(const uint8_t pt[128]) {
  bn254_g2_aff a;
  return bn254_g2_decode(&a, pt);
}

int tkms_bn254_g2_is_infinity(const uint8_t pt[128]) {
  uint8_t acc = 0;
  for (int i = 0; i < 128; i++) acc |= pt[i];
  return acc ? -1 : 0;
}

int tkms_bn254_g2_add(uint8_t out[128], const uint8_t a[128], const uint8_t b[128]) {
  bn254_g2_aff pa, pb;
  bn254_g2 ja, r;
  if (bn254_g2_decode(&pa, a) || bn254_g2_decode(&pb, b)) return g2_fail(out);
  bn254_g2_from_aff(&ja, &pa);
  bn254_g2_add_aff(&r, &ja, &pb);
  return g2_finish(out, &r);
}

int tkms_bn254_g2_neg(uint8_t out[128], const uint8_t a[128]) {
  bn254_g2_aff pa;
  if (bn254_g2_decode(&pa, a)) return g2_fail(out);
  bn254_fp2_neg(&pa.y, &pa.y);
  bn254_g2_encode(out, &pa);
  return 0;
}

int tkms_bn254_g2_mul(uint8_t out[128], const uint8_t pt[128], const uint8_t k[32]) {
  bn254_g2_aff pa;
  bn254_g2 r;
  bn254_fr s;
  if (bn254_g2_decode(&pa, pt)) return g2_fail(out);
  bn254_fr_from_bytes_reduce(&s, k);
  bn254_g2_mul_ct(&r, &pa, &s);
  bn254_ct_wipe(&s, sizeof s);
  return g2_finish(out, &r);
}

int tkms_bn254_g2_mul_base(uint8_t out[128], const uint8_t k[32]) {
  bn254_g2 r;
  bn254_fr s;
  bn254_fr_from_bytes_reduce(&s, k);
  bn254_g2_mul_ct(&r, &bn254_g2_gen, &s);
  bn254_ct_wipe(&s, sizeof s);
  return g2_finish(out, &r);
}

int tkms_bn254_g2_mul_public(uint8_t out[128], const uint8_t pt[128], const uint8_t k[32]) {
  bn254_g2_aff pa;
  bn254_g2 r;
  bn254_fr s;
  if (bn254_g2_decode(&pa, pt)) return g2_fail(out);
  /* The precompile takes any 256-bit scalar; [k]P = [k mod r]P on a group of order r. */
  bn254_fr_from_bytes_reduce(&s, k);
  bn254_g2_mul_vartime(&r, &pa, s.v, 256);
  return g2_finish(out, &r);
}
