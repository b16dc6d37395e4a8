/* src/crypto/bn254/fr.c — scalars modulo the group order r, constant time. */
#include <string.h>

#include "crypto/bn254/bn254.h"
#include "crypto/bn254/curve.h"
#include "crypto/bn254/field.h"
#include "crypto/bn254/mont.h"

static const uint64_t R_MOD[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                  0xb85045b68181585dULL, 0x30644e72e131a029ULL};
/* -1/r mod 2^64 */
static const uint64_t R_N0 = 0xc2e1f593efffffffULL;
/* 2^512 mod r */
static const uint64_t R_R2[4] = {0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL,
                                 0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL};

void bn254_fr_from_bytes_reduce(bn254_fr *r, const uint8_t in[32]) {
  bn254_limbs_from_be(r->v, in);
  bn254_mod_reduce_256(r->v, r->v, R_MOD);
}

void bn254_fr_to_bytes(uint8_t out[32], const bn254_fr *a) {
  bn254_limbs_to_be(out, a->v);
}

void bn254_fr_add(bn254_fr *r, const bn254_fr *a, const bn254_fr *b) {
  bn254_mod_add(r->v, a->v, b->v, R_MOD);
}

/* Plain product: mont(mont(a, b), 2^512) = a * b / 2^256 * 2^512 / 2^256 = a * b. */
void bn254_fr_mul(bn254_fr *r, const bn254_fr *a, const bn254_fr *b) {
  uint64_t t[4];
  bn254_mont_mul(t, a->v, b->v, R_MOD, R_N0);
  bn254_mont_mul(r->v, t, R_R2, R_MOD, R_N0);
}

void bn254_fr_divmod(uint64_t rem[4], uint64_t q[2], const bn254_fr *k, const uint64_t d[4]) {
  uint64_t t[4], acc[4] = {0, 0, 0, 0}, quo[2] = {0, 0};
  for (int i = 253; i >= 0; i--) { /* k < r < 2^254 */
    /* acc < d < 2^255, so the shift fits */
    acc[3] = (acc[3] << 1) | (acc[2] >> 63);
    acc[2] = (acc[2] << 1) | (acc[1] >> 63);
    acc[1] = (acc[1] << 1) | (acc[0] >> 63);
    acc[0] = (acc[0] << 1) | ((k->v[i / 64] >> (i % 64)) & 1);
    uint64_t take = bn254_ct_mask(bn254_limbs_sub(t, acc, d) ^ 1); /* acc >= d */
    for (int j = 0; j < 4; j++) acc[j] = (t[j] & take) | (acc[j] & ~take);
    if (i < 128) quo[i / 64] |= (take & 1) << (i % 64); /* i is public */
  }
  for (int j = 0; j < 4; j++) rem[j] = acc[j];
  q[0] = quo[0];
  q[1] = quo[1];
  bn254_ct_wipe(acc, sizeof acc);
  bn254_ct_wipe(t, sizeof t);
}

int tkms_bn254_scalar_check(const uint8_t k[32]) {
  uint64_t t[4], d[4];
  bn254_limbs_from_be(t, k);
  uint64_t below_r = bn254_ct_mask(bn254_limbs_sub(d, t, R_MOD));
  uint64_t zero = bn254_ct_is_zero(t[0] | t[1] | t[2] | t[3]);
  uint64_t ok = below_r & ~zero;
  /* The verdict is the one bit the caller may learn. */
  return (int)(bn254_ct_barrier(ok) & 1) - 1;
}

int tkms_bn254_scalar_reduce(uint8_t out[32], const uint8_t in[32]) {
  bn254_fr a;
  bn254_fr_from_bytes_reduce(&a, in);
  bn254_fr_to_bytes(out, &a);
  bn254_ct_wipe(&a, sizeof a);
  return 0;
}

int tkms_bn254_scalar_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  bn254_fr x, y;
  bn254_fr_from_bytes_reduce(&x, a);
  bn254_fr_from_bytes_reduce(&y, b);
  bn254_fr_add(&x, &x, &y);
  bn254_fr_to_bytes(out, &x);
  bn254_ct_wipe(&x, sizeof x);
  bn254_ct_wipe(&y, sizeof y);
  return 0;
}

int tkms_bn254_scalar_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  bn254_fr x, y;
  bn254_fr_from_bytes_reduce(&x, a);
  bn254_fr_from_bytes_reduce(&y, b);
  bn254_fr_mul(&x, &x, &y);
  bn254_fr_to_bytes(out, &x);
  bn254_ct_wipe(&x, sizeof x);
  bn254_ct_wipe(&y, sizeof y);
  return 0;
}
