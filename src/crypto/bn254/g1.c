/* src/crypto/bn254/g1.c — G1: y^2 = x^3 + 3 over Fp. Complete Jacobian group law, encoding
 * and validation, and the public tkms_bn254_g1_* functions. */
#include <string.h>

#include "crypto/bn254/bn254.h"
#include "crypto/bn254/curve.h"

/* 3 in Montgomery form */
static const bn254_fp B3 = {
    {0x7a17caa950ad28d7ULL, 0x1f6ac17ae15521b9ULL, 0x334bea4e696bd284ULL, 0x2a1f6744ce179d8eULL}};

/* (1, 2) in Montgomery form */
const bn254_g1_aff bn254_g1_gen = {
    {{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}},
    {{0xa6ba871b8b1e1b3aULL, 0x14f1d651eb8e167bULL, 0xccdd46def0f28c58ULL, 0x1c14ef83340fbe5eULL}},
    0};

void bn254_g1_from_aff(bn254_g1 *r, const bn254_g1_aff *a) {
  uint64_t inf = bn254_ct_mask((uint64_t)(a->inf & 1));
  r->x = a->x;
  r->y = a->y;
  r->z = bn254_fp_one;
  bn254_fp_cmov(&r->z, &bn254_fp_zero, inf);
}

/* 1/0 = 0 with Fermat, so infinity comes out as (0, 0) without a branch. */
void bn254_g1_to_aff(bn254_g1_aff *r, const bn254_g1 *a) {
  bn254_fp zi, zi2;
  uint64_t inf = bn254_fp_is_zero(&a->z);
  bn254_fp_inv(&zi, &a->z);
  bn254_fp_sqr(&zi2, &zi);
  bn254_fp_mul(&r->x, &a->x, &zi2);
  bn254_fp_mul(&zi2, &zi2, &zi);
  bn254_fp_mul(&r->y, &a->y, &zi2);
  r->inf = (int)(inf & 1);
}

/* dbl-2009-l (a = 0): 2M + 5S. Infinity (Z = 0) stays infinity; G1 has no point of order 2. */
void bn254_g1_dbl(bn254_g1 *r, const bn254_g1 *a) {
  bn254_fp A, B, C, D, E, F, t;
  bn254_fp_sqr(&A, &a->x);
  bn254_fp_sqr(&B, &a->y);
  bn254_fp_sqr(&C, &B);
  bn254_fp_add(&D, &a->x, &B);
  bn254_fp_sqr(&D, &D);
  bn254_fp_sub(&D, &D, &A);
  bn254_fp_sub(&D, &D, &C);
  bn254_fp_dbl(&D, &D);
  bn254_fp_dbl(&E, &A);
  bn254_fp_add(&E, &E, &A);
  bn254_fp_sqr(&F, &E);
  bn254_fp_mul(&r->z, &a->y, &a->z); /* last read of a, so r may alias it */
  bn254_fp_dbl(&r->z, &r->z);
  bn254_fp_dbl(&t, &D);
  bn254_fp_sub(&r->x, &F, &t);
  bn254_fp_sub(&t, &D, &r->x);
  bn254_fp_mul(&t, &E, &t);
  bn254_fp_dbl(&C, &C);
  bn254_fp_dbl(&C, &C);
  bn254_fp_dbl(&C, &C);
  bn254_fp_sub(&r->y, &t, &C);
}

/* add-2007-bl without the exceptional cases; *same is all ones when H = 0 and R = 0 (a = b
 * or an infinite input: the callers sort those out). */
static void g1_add_core(bn254_g1 *res, uint64_t *same, const bn254_g1 *a, const bn254_g1 *b) {
  bn254_fp z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
  bn254_fp_sqr(&z1z1, &a->z);
  bn254_fp_sqr(&z2z2, &b->z);
  bn254_fp_mul(&u1, &a->x, &z2z2);
  bn254_fp_mul(&u2, &b->x, &z1z1);
  bn254_fp_mul(&s1, &a->y, &b->z);
  bn254_fp_mul(&s1, &s1, &z2z2);
  bn254_fp_mul(&s2, &b->y, &a->z);
  bn254_fp_mul(&s2, &s2, &z1z1);
  bn254_fp_sub(&h, &u2, &u1);
  bn254_fp_sub(&rr, &s2, &s1);
  bn254_fp_dbl(&rr, &rr);
  *same = bn254_fp_is_zero(&h) & bn254_fp_is_zero(&rr);
  bn254_fp_dbl(&i, &h);
  bn254_fp_sqr(&i, &i);
  bn254_fp_mul(&j, &h, &i);
  bn254_fp_mul(&v, &u1, &i);
  bn254_fp_sqr(&res->x, &rr);
  bn254_fp_sub(&res->x, &res->x, &j);
  bn254_fp_dbl(&t, &v);
  bn254_fp_sub(&res->x, &res->x, &t);
  bn254_fp_sub(&t, &v, &res->x);
  bn254_fp_mul(&t, &rr, &t);
  bn254_fp_mul(&s1, &s1, &j);
  bn254_fp_dbl(&s1, &s1);
  bn254_fp_sub(&res->y, &t, &s1);
  bn254_fp_add(&t, &a->z, &b->z);
  bn254_fp_sqr(&t, &t);
  bn254_fp_sub(&t, &t, &z1z1);
  bn254_fp_sub(&t, &t, &z2z2);
  bn254_fp_mul(&res->z, &t, &h);
}

/* Complete: the doubling and the infinite inputs patched in with masks. a = -b needs no
 * patch: H = 0 gives Z3 = 0. */
void bn254_g1_add(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b) {
  bn254_g1 res, d;
  uint64_t same, ainf = bn254_fp_is_zero(&a->z), binf = bn254_fp_is_zero(&b->z);
  g1_add_core(&res, &same, a, b);
  same &= ~ainf & ~binf;
  bn254_g1_dbl(&d, a);
  bn254_fp_cmov(&res.x, &d.x, same);
  bn254_fp_cmov(&res.y, &d.y, same);
  bn254_fp_cmov(&res.z, &d.z, same);
  bn254_fp_cmov(&res.x, &b->x, ainf);
  bn254_fp_cmov(&res.y, &b->y, ainf);
  bn254_fp_cmov(&res.z, &b->z, ainf);
  bn254_fp_cmov(&res.x, &a->x, binf);
  bn254_fp_cmov(&res.y, &a->y, binf);
  bn254_fp_cmov(&res.z, &a->z, binf);
  *r = res;
}

/* The same sum with branches, for public points only: no doubling unless needed. */
void bn254_g1_add_vartime(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b) {
  uint64_t same;
  if (bn254_fp_is_zero(&a->z) & 1) {
    *r = *b;
  } else if (bn254_fp_is_zero(&b->z) & 1) {
    *r = *a;
  } else {
    bn254_g1 res;
    g1_add_core(&res, &same, a, b);
    if (same & 1)
      bn254_g1_dbl(r, a);
    else
      *r = res;
  }
}

/* madd-2007-bl (b affine) without the exceptional cases; *same as in g1_add_core. */
static void g1_add_aff_core(bn254_g1 *res, uint64_t *same, const bn254_g1 *a,
                            const bn254_g1_aff *b) {
  bn254_fp z1z1, u2, s2, h, hh, i, j, rr, v, t;
  bn254_fp_sqr(&z1z1, &a->z);
  bn254_fp_mul(&u2, &b->x, &z1z1);
  bn254_fp_mul(&s2, &b->y, &a->z);
  bn254_fp_mul(&s2, &s2, &z1z1);
  bn254_fp_sub(&h, &u2, &a->x);
  bn254_fp_sub(&rr, &s2, &a->y);
  bn254_fp_dbl(&rr, &rr);
  *same = bn254_fp_is_zero(&h) & bn254_fp_is_zero(&rr);
  bn254_fp_sqr(&hh, &h);
  bn254_fp_dbl(&i, &hh);
  bn254_fp_dbl(&i, &i);
  bn254_fp_mul(&j, &h, &i);
  bn254_fp_mul(&v, &a->x, &i);
  bn254_fp_sqr(&res->x, &rr);
  bn254_fp_sub(&res->x, &res->x, &j);
  bn254_fp_dbl(&t, &v);
  bn254_fp_sub(&res->x, &res->x, &t);
  bn254_fp_sub(&t, &v, &res->x);
  bn254_fp_mul(&t, &rr, &t);
  bn254_fp_mul(&j, &a->y, &j);
  bn254_fp_dbl(&j, &j);
  bn254_fp_sub(&res->y, &t, &j);
  bn254_fp_add(&t, &a->z, &h);
  bn254_fp_sqr(&t, &t);
  bn254_fp_sub(&t, &t, &z1z1);
  bn254_fp_sub(&res->z, &t, &hh);
}

/* Complete mixed addition with the same masked patches; b->inf is read as data, never
 * branched on. */
void bn254_g1_add_aff(bn254_g1 *r, const bn254_g1 *a, const bn254_g1_aff *b) {
  bn254_g1 res, d;
  uint64_t same, ainf = bn254_fp_is_zero(&a->z);
  uint64_t binf = bn254_ct_mask((uint64_t)(b->inf & 1));
  g1_add_aff_core(&res, &same, a, b);
  same &= ~ainf & ~binf;
  bn254_g1_dbl(&d, a);
  bn254_fp_cmov(&res.x, &d.x, same);
  bn254_fp_cmov(&res.y, &d.y, same);
  bn254_fp_cmov(&res.z, &d.z, same);
  bn254_fp_cmov(&res.x, &b->x, ainf);
  bn254_fp_cmov(&res.y, &b->y, ainf);
  bn254_fp_cmov(&res.z, &bn254_fp_one, ainf);
  bn254_fp_cmov(&res.x, &a->x, binf);
  bn254_fp_cmov(&res.y, &a->y, binf);
  bn254_fp_cmov(&res.z, &a->z, binf);
  *r = res;
}

/* The same with branches, for public points. */
void bn254_g1_add_aff_vartime(bn254_g1 *r, const bn254_g1 *a, const bn254_g1_aff *b) {
  uint64_t same;
  if (b->inf) {
    *r = *a;
  } else if (bn254_fp_is_zero(&a->z) & 1) {
    bn254_g1_from_aff(r, b);
  } else {
    bn254_g1 res;
    g1_add_aff_core(&res, &same, a, b);
    if (same & 1)
      bn254_g1_dbl(r, a);
    else
      *r = res;
  }
}

void bn254_g1_neg(bn254_g1 *r, const bn254_g1 *a) {
  r->x = a->x;
  bn254_fp_neg(&r->y, &a->y);
  r->z = a->z;
}

int bn254_g1_aff_check(const bn254_g1_aff *a) {
  bn254_fp l, rhs;
  if (a->inf) return 0;
  bn254_fp_sqr(&l, &a->y);
  bn254_fp_sqr(&rhs, &a->x);
  bn254_fp_mul(&rhs, &rhs, &a->x);
  bn254_fp_add(&rhs, &rhs, &B3);
  return bn254_fp_eq(&l, &rhs) ? 0 : -1;
}

int bn254_g1_decode(bn254_g1_aff *r, const uint8_t in[64]) {
  memset(r, 0, sizeof *r);
  if (bn254_fp_from_bytes(&r->x, in) || bn254_fp_from_bytes(&r->y, in + 32)) goto bad;
  /* (0, 0) is not on the curve (3 is not 0), so the precompiles use it for infinity. */
  r->inf = (bn254_fp_is_zero(&r->x) & bn254_fp_is_zero(&r->y)) ? 1 : 0;
  if (bn254_g1_aff_check(r)) goto bad;
  return 0;
bad:
  memset(r, 0, sizeof *r);
  return -1;
}

/* Writes zeros for infinity; constant time in the point. */
void bn254_g1_encode(uint8_t out[64], const bn254_g1_aff *a) {
  bn254_fp x = a->x, y = a->y;
  uint64_t inf = bn254_ct_mask((uint64_t)(a->inf & 1));
  bn254_fp_cmov(&x, &bn254_fp_zero, inf);
  bn254_fp_cmov(&y, &bn254_fp_zero, inf);
  bn254_fp_to_bytes(out, &x);
  bn254_fp_to_bytes(out + 32, &y);
}

/* ---- public API ---- */

static int g1_finish(uint8_t out[64], const bn254_g1 *p) {
  bn254_g1_aff a;
  bn254_g1_to_aff(&a, p);
  bn254_g1_encode(out, &a);
  return 0;
}

static int g1_fail(uint8_t out[64]) {
  memset(out, 0, 64);
  return -1;
}

int tkms_bn254_g1_generator(uint8_t out[64]) {
  bn254_g1_encode(out, &bn254_g1_gen);
  return 0;
}

int tkms_bn254_g1_check(const uint8_t pt[64]) {
  bn254_g1_aff a;
  return bn254_g1_decode(&a, pt);
}

int tkms_bn254_g1_is_infinity(const uint8_t pt[64]) {
  uint8_t acc = 0;
  for (int i = 0; i < 64; i++) acc |= pt[i];
  return acc ? -1 : 0;
}

int tkms_bn254_g1_add(uint8_t out[64], const uint8_t a[64], const uint8_t b[64]) {
  bn254_g1_aff pa, pb;
  bn254_g1 ja, r;
  if (bn254_g1_decode(&pa, a) || bn254_g1_decode(&pb, b)) return g1_fail(out);
  bn254_g1_from_aff(&ja, &pa);
  bn254_g1_add_aff(&r, &ja, &pb);
  return g1_finish(out, &r);
}

int tkms_bn254_g1_neg(uint8_t out[64], const uint8_t a[64]) {
  bn254_g1_aff pa;
  if (bn254_g1_decode(&pa, a)) return g1_fail(out);
  bn254_fp_neg(&pa.y, &pa.y);
  bn254_g1_encode(out, &pa);
  return 0;
}

int tkms_bn254_g1_mul(uint8_t out[64], const uint8_t pt[64], const uint8_t k[32]) {
  bn254_g1_aff pa;
  bn254_g1 r;
  bn254_fr s;
  if (bn254_g1_decode(&pa, pt)) return g1_fail(out);
  bn254_fr_from_bytes_reduce(&s, k);
  bn254_g1_mul_ct(&r, &pa, &s);
  bn254_ct_wipe(&s, sizeof s);
  return g1_finish(out, &r);
}

int tkms_bn254_g1_mul_base(uint8_t out[64], const uint8_t k[32]) {
  bn254_g1 r;
  bn254_fr s;
  bn254_fr_from_bytes_reduce(&s, k);
  bn254_g1_mul_ct(&r, &bn254_g1_gen, &s);
  bn254_ct_wipe(&s, sizeof s);
  return g1_finish(out, &r);
}

int tkms_bn254_g1_mul_public(uint8_t out[64], const uint8_t pt[64], const uint8_t k[32]) {
  bn254_g1_aff pa;
  bn254_g1 r;
  bn254_fr s;
  if (bn254_g1_decode(&pa, pt)) return g1_fail(out);
  /* The precompile takes any 256-bit scalar; [k]P = [k mod r]P on a group of order r. */
  bn254_fr_from_bytes_reduce(&s, k);
  bn254_g1_mul_vartime(&r, &pa, s.v, 256);
  return g1_finish(out, &r);
}
