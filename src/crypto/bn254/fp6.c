/* src/crypto/bn254/fp6.c — Fp6 = Fp2[v]/(v^3 - xi), xi = 9 + i, constant time. */
#include "crypto/bn254/field.h"

void bn254_fp6_add(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp6 *b) {
  bn254_fp2_add(&r->c0, &a->c0, &b->c0);
  bn254_fp2_add(&r->c1, &a->c1, &b->c1);
  bn254_fp2_add(&r->c2, &a->c2, &b->c2);
}

void bn254_fp6_sub(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp6 *b) {
  bn254_fp2_sub(&r->c0, &a->c0, &b->c0);
  bn254_fp2_sub(&r->c1, &a->c1, &b->c1);
  bn254_fp2_sub(&r->c2, &a->c2, &b->c2);
}

void bn254_fp6_neg(bn254_fp6 *r, const bn254_fp6 *a) {
  bn254_fp2_neg(&r->c0, &a->c0);
  bn254_fp2_neg(&r->c1, &a->c1);
  bn254_fp2_neg(&r->c2, &a->c2);
}

/* Karatsuba over Fp2: six multiplications. */
void bn254_fp6_mul(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp6 *b) {
  bn254_fp2 t0, t1, t2, s, u, c0, c1, c2;
  bn254_fp2_mul(&t0, &a->c0, &b->c0);
  bn254_fp2_mul(&t1, &a->c1, &b->c1);
  bn254_fp2_mul(&t2, &a->c2, &b->c2);
  /* c0 = t0 + xi ((a1 + a2)(b1 + b2) - t1 - t2) */
  bn254_fp2_add(&s, &a->c1, &a->c2);
  bn254_fp2_add(&u, &b->c1, &b->c2);
  bn254_fp2_mul(&s, &s, &u);
  bn254_fp2_sub(&s, &s, &t1);
  bn254_fp2_sub(&s, &s, &t2);
  bn254_fp2_mul_xi(&s, &s);
  bn254_fp2_add(&c0, &s, &t0);
  /* c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2 */
  bn254_fp2_add(&s, &a->c0, &a->c1);
  bn254_fp2_add(&u, &b->c0, &b->c1);
  bn254_fp2_mul(&s, &s, &u);
  bn254_fp2_sub(&s, &s, &t0);
  bn254_fp2_sub(&s, &s, &t1);
  bn254_fp2_mul_xi(&u, &t2);
  bn254_fp2_add(&c1, &s, &u);
  /* c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1 */
  bn254_fp2_add(&s, &a->c0, &a->c2);
  bn254_fp2_add(&u, &b->c0, &b->c2);
  bn254_fp2_mul(&s, &s, &u);
  bn254_fp2_sub(&s, &s, &t0);
  bn254_fp2_sub(&s, &s, &t2);
  bn254_fp2_add(&c2, &s, &t1);
  r->c0 = c0;
  r->c1 = c1;
  r->c2 = c2;
}

/* Chung-Hasan SQR2: s0 = a0^2, s1 = 2 a0 a1, s2 = (a0 - a1 + a2)^2, s3 = 2 a1 a2, s4 = a2^2;
 * c0 = s0 + xi s3, c1 = s1 + xi s4, c2 = s1 + s2 + s3 - s0 - s4. */
void bn254_fp6_sqr(bn254_fp6 *r, const bn254_fp6 *a) {
  bn254_fp2 s0, s1, s2, s3, s4, t;
  bn254_fp2_sqr(&s0, &a->c0);
  bn254_fp2_mul(&s1, &a->c0, &a->c1);
  bn254_fp2_dbl(&s1, &s1);
  bn254_fp2_sub(&s2, &a->c0, &a->c1);
  bn254_fp2_add(&s2, &s2, &a->c2);
  bn254_fp2_sqr(&s2, &s2);
  bn254_fp2_mul(&s3, &a->c1, &a->c2);
  bn254_fp2_dbl(&s3, &s3);
  bn254_fp2_sqr(&s4, &a->c2);
  bn254_fp2_mul_xi(&t, &s3);
  bn254_fp2_add(&r->c0, &s0, &t);
  bn254_fp2_mul_xi(&t, &s4);
  bn254_fp2_add(&t, &s1, &t);
  bn254_fp2_add(&s1, &s1, &s2);
  bn254_fp2_add(&s1, &s1, &s3);
  bn254_fp2_sub(&s1, &s1, &s0);
  bn254_fp2_sub(&r->c2, &s1, &s4);
  r->c1 = t;
}

/* (c0 + c1 v + c2 v^2) v = xi c2 + c0 v + c1 v^2 */
void bn254_fp6_mul_v(bn254_fp6 *r, const bn254_fp6 *a) {
  bn254_fp2 t;
  bn254_fp2_mul_xi(&t, &a->c2);
  r->c2 = a->c1;
  r->c1 = a->c0;
  r->c0 = t;
}

void bn254_fp6_mul_fp2(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp2 *b) {
  bn254_fp2_mul(&r->c0, &a->c0, b);
  bn254_fp2_mul(&r->c1, &a->c1, b);
  bn254_fp2_mul(&r->c2, &a->c2, b);
}

/* a (b0 + b1 v) = a0 b0 + xi a2 b1 + (a0 b1 + a1 b0) v + (a1 b1 + a2 b0) v^2: five products. */
void bn254_fp6_mul_01(bn254_fp6 *r, const bn254_fp6 *a, const bn254_fp2 *b0, const bn254_fp2 *b1) {
  bn254_fp2 t0, t1, s, u, c0, c1, c2;
  bn254_fp2_mul(&t0, &a->c0, b0);
  bn254_fp2_mul(&t1, &a->c1, b1);
  bn254_fp2_mul(&s, &a->c2, b1);
  bn254_fp2_mul_xi(&s, &s);
  bn254_fp2_add(&c0, &t0, &s);
  bn254_fp2_add(&s, &a->c0, &a->c1);
  bn254_fp2_add(&u, b0, b1);
  bn254_fp2_mul(&s, &s, &u);
  bn254_fp2_sub(&s, &s, &t0);
  bn254_fp2_sub(&c1, &s, &t1);
  bn254_fp2_mul(&s, &a->c2, b0);
  bn254_fp2_add(&c2, &t1, &s);
  r->c0 = c0;
  r->c1 = c1;
  r->c2 = c2;
}

/* A = a0^2 - xi a1 a2, B = xi a2^2 - a0 a1, C = a1^2 - a0 a2,
 * F = a0 A + xi (a2 B + a1 C); 1/a = (A, B, C) / F. */
void bn254_fp6_inv(bn254_fp6 *r, const bn254_fp6 *a) {
  bn254_fp2 A, B, C, F, t;
  bn254_fp2_sqr(&A, &a->c0);
  bn254_fp2_mul(&t, &a->c1, &a->c2);
  bn254_fp2_mul_xi(&t, &t);
  bn254_fp2_sub(&A, &A, &t);
  bn254_fp2_sqr(&B, &a->c2);
  bn254_fp2_mul_xi(&B, &B);
  bn254_fp2_mul(&t, &a->c0, &a->c1);
  bn254_fp2_sub(&B, &B, &t);
  bn254_fp2_sqr(&C, &a->c1);
  bn254_fp2_mul(&t, &a->c0, &a->c2);
  bn254_fp2_sub(&C, &C, &t);
  bn254_fp2_mul(&F, &a->c2, &B);
  bn254_fp2_mul(&t, &a->c1, &C);
  bn254_fp2_add(&F, &F, &t);
  bn254_fp2_mul_xi(&F, &F);
  bn254_fp2_mul(&t, &a->c0, &A);
  bn254_fp2_add(&F, &F, &t);
  bn254_fp2_inv(&F, &F);
  bn254_fp2_mul(&r->c0, &A, &F);
  bn254_fp2_mul(&r->c1, &B, &F);
  bn254_fp2_mul(&r->c2, &C, &F);
}
