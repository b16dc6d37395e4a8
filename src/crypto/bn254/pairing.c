/* src/crypto/bn254/pairing.c — the optimal ate Miller loop (loop length 6u + 2 in NAF, then
 * the lines through pi(Q) and -pi^2(Q)), and the public pairing functions.
 *
 * T runs in homogeneous projective coordinates on the twist (x = X/Z, y = Y/Z). A line
 * through points of the twist, evaluated at P = (xP, yP) after untwisting
 * (x, y) -> (x w^2, y w^3), has the sparse shape l0 + (l1 + l3 v) w with l0, l1, l3 in Fp2;
 * each line may be scaled by any Fp2 constant, since the final exponentiation sends Fp2 (a
 * subfield of Fp6) to 1. Everything here handles public data: variable time is fine. */
#include <string.h>

#include "crypto/bn254/bn254.h"
#include "crypto/bn254/curve.h"

/* b' = 3/(9+i), Montgomery form (as in g2.c) */
static const bn254_fp2 TWIST_B = {
    {{0x3bf938e377b802a8ULL, 0x020b1b273633535dULL, 0x26b7edf049755260ULL, 0x2514c6324384a86dULL}},
    {{0x38e7ecccd1dcff67ULL, 0x65f0b37d93ce0d3eULL, 0xd749d0dd22ac00aaULL, 0x0141b9ce4a688d4dULL}}};

/* 6u + 2 = 0x19d797039be763ba8 in non-adjacent form, most significant digit first. */
static const int8_t ATE_NAF[66] = {1, 0,  -1, 0, 1,  0, 0,  0,  -1, 0, -1, 0, 0,  0,  -1, 0, 1,
                                   0, -1, 0,  0, -1, 0, 0,  0,  0,  0, 1,  0, 0,  -1, 0,  1, 0,
                                   0, -1, 0,  0, 0,  0, -1, 0,  1,  0, 0,  0, -1, 0,  -1, 0, 0,
                                   1, 0,  0,  0, -1, 0, 0,  -1, 0,  1, 0,  1, 0,  0,  0};

/* Pairs handled together in one Miller loop (sharing the squarings of f). */
#define CHUNK 8

typedef struct {
  bn254_g2 t;       /* running point T */
  bn254_g2_aff q;   /* Q */
  bn254_g2_aff nq;  /* -Q */
  bn254_fp xp, nxp; /* xP, -xP */
  bn254_fp yp, nyp; /* yP, -yP */
} miller_state;

/* T = 2T; line: l0 = -2YZ yP, l1 = 3X^2 xP, l3 = 3b'Z^2 - Y^2 (the tangent at T scaled by
 * -2YZ). Point: X3 = XY(Y^2 - 9b'Z^2)/2, Y3 = ((Y^2 + 9b'Z^2)/2)^2 - 27b'^2 Z^4,
 * Z3 = 2Y^3 Z (Costello, Lange, Naehrig 2010; Aranha et al. 2011). */
static void dbl_step(bn254_fp12 *f, miller_state *s) {
  bn254_g2 *T = &s->t;
  bn254_fp2 A, B, C, E, F, G, H, I, J, t, l0, l1;
  bn254_fp2_mul(&A, &T->x, &T->y);
  bn254_fp2_half(&A, &A);
  bn254_fp2_sqr(&B, &T->y);
  bn254_fp2_sqr(&C, &T->z);
  bn254_fp2_mul(&E, &C, &TWIST_B);
  bn254_fp2_dbl(&t, &E);
  bn254_fp2_add(&E, &E, &t); /* E = 3b'Z^2 */
  bn254_fp2_dbl(&F, &E);
  bn254_fp2_add(&F, &F, &E); /* F = 3E */
  bn254_fp2_add(&G, &B, &F);
  bn254_fp2_half(&G, &G);
  bn254_fp2_add(&H, &T->y, &T->z);
  bn254_fp2_sqr(&H, &H);
  bn254_fp2_sub(&H, &H, &B);
  bn254_fp2_sub(&H, &H, &C); /* H = 2YZ */
  bn254_fp2_sub(&I, &E, &B);
  bn254_fp2_sqr(&J, &T->x);
  /* point */
  bn254_fp2_sub(&t, &B, &F);
  bn254_fp2_mul(&T->x, &A, &t);
  bn254_fp2_sqr(&t, &E);
  bn254_fp2_dbl(&C, &t);
  bn254_fp2_add(&C, &C, &t); /* 3E^2 */
  bn254_fp2_sqr(&T->y, &G);
  bn254_fp2_sub(&T->y, &T->y, &C);
  bn254_fp2_mul(&T->z, &B, &H);
  /* line */
  bn254_fp2_mul_fp(&l0, &H, &s->nyp);
  bn254_fp2_dbl(&t, &J);
  bn254_fp2_add(&J, &J, &t);
  bn254_fp2_mul_fp(&l1, &J, &s->xp);
  bn254_fp12_mul_line(f, f, &l0, &l1, &I);
}

/* T = T + Q (Q affine); line through T and Q scaled by lambda = X - x2 Z:
 * l0 = lambda yP, l1 = -theta xP, l3 = theta x2 - lambda y2 with theta = Y - y2 Z. */
static void add_step(bn254_fp12 *f, miller_state *s, const bn254_g2_aff *q) {
  bn254_g2 *T = &s->t;
  bn254_fp2 th, la, C, D, E, F, G, H, t, l0, l1, l3;
  bn254_fp2_mul(&t, &q->y, &T->z);
  bn254_fp2_sub(&th, &T->y, &t);
  bn254_fp2_mul(&t, &q->x, &T->z);
  bn254_fp2_sub(&la, &T->x, &t);
  bn254_fp2_sqr(&C, &th);
  bn254_fp2_sqr(&D, &la);
  bn254_fp2_mul(&E, &D, &la);
  bn254_fp2_mul(&F, &T->z, &C);
  bn254_fp2_mul(&G, &T->x, &D);
  bn254_fp2_dbl(&t, &G);
  bn254_fp2_add(&H, &E, &F);
  bn254_fp2_sub(&H, &H, &t);
  /* point */
  bn254_fp2_mul(&T->x, &la, &H);
  bn254_fp2_sub(&t, &G, &H);
  bn254_fp2_mul(&t, &t, &th);
  bn254_fp2_mul(&D, &T->y, &E);
  bn254_fp2_sub(&T->y, &t, &D);
  bn254_fp2_mul(&T->z, &T->z, &E);
  /* line */
  bn254_fp2_mul_fp(&l0, &la, &s->yp);
  bn254_fp2_mul_fp(&l1, &th, &s->nxp);
  bn254_fp2_mul(&l3, &th, &q->x);
  bn254_fp2_mul(&t, &la, &q->y);
  bn254_fp2_sub(&l3, &l3, &t);
  bn254_fp12_mul_line(f, f, &l0, &l1, &l3);
}

/* One Miller loop over at most CHUNK pairs, none at infinity; f is multiplied in. */
static void miller_chunk(bn254_fp12 *f, miller_state *st, int n) {
  bn254_fp12 g;
  bn254_fp12_set_one(&g);
  for (int i = 1; i < (int)sizeof ATE_NAF; i++) {
    if (i > 1) bn254_fp12_sqr(&g, &g); /* g = 1 before the first step */
    for (int j = 0; j < n; j++) {
      dbl_step(&g, &st[j]);
      if (ATE_NAF[i] == 1) add_step(&g, &st[j], &st[j].q);
      if (ATE_NAF[i] == -1) add_step(&g, &st[j], &st[j].nq);
    }
  }
  for (int j = 0; j < n; j++) {
    bn254_g2_aff q1, nq2;
    /* Q1 = pi(Q) = (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2)) */
    bn254_fp2_conj(&q1.x, &st[j].q.x);
    bn254_fp2_mul(&q1.x, &q1.x, &bn254_frob_x1);
    bn254_fp2_conj(&q1.y, &st[j].q.y);
    bn254_fp2_mul(&q1.y, &q1.y, &bn254_frob_y1);
    q1.inf = 0;
    /* -Q2 = -pi^2(Q) = (x xi^((p^2-1)/3), y), since xi^((p^2-1)/2) = -1 */
    bn254_fp2_mul_fp(&nq2.x, &st[j].q.x, &bn254_frob_x2);
    nq2.y = st[j].q.y;
    nq2.inf = 0;
    add_step(&g, &st[j], &q1);
    add_step(&g, &st[j], &nq2);
  }
  bn254_fp12_mul(f, f, &g);
}

void bn254_miller_loop(bn254_fp12 *f, const bn254_g1_aff *p, const bn254_g2_aff *q, int n) {
  miller_state st[CHUNK];
  int m = 0;
  bn254_fp12_set_one(f);
  for (int i = 0; i < n; i++) {
    if (p[i].inf || q[i].inf) continue; /* e(O, Q) = e(P, O) = 1 */
    miller_state *s = &st[m++];
    bn254_g2_from_aff(&s->t, &q[i]);
    s->q = q[i];
    s->nq = q[i];
    bn254_fp2_neg(&s->nq.y, &s->nq.y);
    s->xp = p[i].x;
    s->yp = p[i].y;
    bn254_fp_neg(&s->nxp, &p[i].x);
    bn254_fp_neg(&s->nyp, &p[i].y);
    if (m == CHUNK) {
      miller_chunk(f, st, m);
      m = 0;
    }
  }
  if (m) miller_chunk(f, st, m);
}

/* ---- public API ---- */

int tkms_bn254_pairing_check(const uint8_t *pairs, size_t n) {
  bn254_fp12 f, acc;
  bn254_g1_aff p[CHUNK];
  bn254_g2_aff q[CHUNK];
  bn254_fp12_set_one(&acc);
  for (size_t i = 0; i < n; i += CHUNK) {
    int m = (int)(n - i < CHUNK ? n - i : CHUNK);
    for (int j = 0; j < m; j++) {
      const uint8_t *in = pairs + (i + (size_t)j) * TKMS_BN254_PAIR_BYTES;
      if (bn254_g1_decode(&p[j], in) || bn254_g2_decode(&q[j], in + 64)) return -1;
    }
    bn254_miller_loop(&f, p, q, m);
    bn254_fp12_mul(&acc, &acc, &f);
  }
  bn254_final_exp(&acc, &acc);
  return bn254_fp12_is_one(&acc) ? 0 : -1;
}

int tkms_bn254_pairing(uint8_t out[384], const uint8_t p[64], const uint8_t q[128]) {
  bn254_g1_aff a;
  bn254_g2_aff b;
  bn254_fp12 f;
  if (bn254_g1_decode(&a, p) || bn254_g2_decode(&b, q)) {
    memset(out, 0, TKMS_BN254_GT_BYTES); /* after reading: out may alias p or q */
    return -1;
  }
  bn254_miller_loop(&f, &a, &b, 1);
  bn254_final_exp(&f, &f);
  const bn254_fp2 *c[6] = {&f.c0.c0, &f.c0.c1, &f.c0.c2, &f.c1.c0, &f.c1.c1, &f.c1.c2};
  for (int j = 0; j < 6; j++) {
    bn254_fp_to_bytes(out + 64 * j, &c[j]->c0);
    bn254_fp_to_bytes(out + 64 * j + 32, &c[j]->c1);
  }
  return 0;
}
