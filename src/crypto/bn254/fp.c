/* src/crypto/bn254/fp.c — the base field Fp of BN254 in Montgomery form, constant time. */
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "crypto/bn254/field.h"
#include "crypto/bn254/mont.h"

/* 2^512 mod p: converts into Montgomery form. */
static const uint64_t P_R2[4] = {0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL,
                                 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL};

int bn254_fp_use_adx = 0;

/* Runs before main (fp.o is linked whenever any Fp code is). CPUID leaf 7: EBX bit 8 is
 * BMI2 (mulx), bit 19 is ADX (adcx/adox). */
__attribute__((constructor)) static void fp_detect_cpu(void) {
#ifdef BN254_HAVE_X86_ASM
  unsigned a, b, c, d;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) bn254_fp_use_adx = (b >> 8 & 1) && (b >> 19 & 1);
#endif
}

void bn254_fp_mul_portable(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) {
  bn254_mont_mul(r->v, a->v, b->v, BN254_P, BN254_P_N0);
}

const bn254_fp bn254_fp_zero = {{0, 0, 0, 0}};
/* 2^256 mod p */
const bn254_fp bn254_fp_one = {
    {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}};

/* Exponents, as 64 nibbles from the most significant: p - 2 and (p + 1) / 4. */
static const uint64_t EXP_P_MINUS_2[4] = {0x3c208c16d87cfd45ULL, 0x97816a916871ca8dULL,
                                          0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const uint64_t EXP_SQRT[4] = {0x4f082305b61f3f52ULL, 0x65e05aa45a1c72a3ULL,
                                     0x6e14116da0605617ULL, 0x0c19139cb84c680aULL};

/* a / 2: add p when a is odd (a + p < 2^255), then shift. */
void bn254_fp_half(bn254_fp *r, const bn254_fp *a) {
  uint64_t t[4], padd[4];
  uint64_t odd = bn254_ct_mask(a->v[0] & 1);
  for (int i = 0; i < 4; i++) padd[i] = BN254_P[i] & odd;
  bn254_limbs_add(t, a->v, padd);
  for (int i = 0; i < 3; i++) r->v[i] = (t[i] >> 1) | (t[i + 1] << 63);
  r->v[3] = t[3] >> 1;
}

/* a^e for a fixed public exponent: 4-bit windows; the table index is the exponent's nibble,
 * which is public, so the lookups need no masking. */
static void fp_pow_fixed(bn254_fp *r, const bn254_fp *a, const uint64_t e[4]) {
  bn254_fp table[16], acc = bn254_fp_one;
  table[0] = bn254_fp_one;
  table[1] = *a;
  for (int i = 2; i < 16; i++) bn254_fp_mul(&table[i], &table[i - 1], a);
  for (int n = 63; n >= 0; n--) {
    unsigned nib = (unsigned)(e[n / 16] >> (4 * (n % 16))) & 15;
    if (n != 63)
      for (int s = 0; s < 4; s++) bn254_fp_sqr(&acc, &acc);
    bn254_fp_mul(&acc, &acc, &table[nib]);
  }
  *r = acc;
}

void bn254_fp_inv(bn254_fp *r, const bn254_fp *a) {
  fp_pow_fixed(r, a, EXP_P_MINUS_2);
}

int bn254_fp_sqrt(bn254_fp *r, const bn254_fp *a) {
  bn254_fp y, y2;
  fp_pow_fixed(&y, a, EXP_SQRT);
  bn254_fp_sqr(&y2, &y);
  uint64_t ok = bn254_fp_eq(&y2, a);
  *r = y;
  return (int)(~ok & 1) * -1;
}

void bn254_fp_cmov(bn254_fp *r, const bn254_fp *a, uint64_t mask) {
  mask = bn254_ct_barrier(mask);
  for (int i = 0; i < 4; i++) r->v[i] = (r->v[i] & ~mask) | (a->v[i] & mask);
}

uint64_t bn254_fp_is_zero(const bn254_fp *a) {
  return bn254_ct_is_zero(a->v[0] | a->v[1] | a->v[2] | a->v[3]);
}

uint64_t bn254_fp_eq(const bn254_fp *a, const bn254_fp *b) {
  uint64_t d = 0;
  for (int i = 0; i < 4; i++) d |= a->v[i] ^ b->v[i];
  return bn254_ct_is_zero(d);
}

void bn254_fp_set_u64(bn254_fp *r, uint64_t x) {
  uint64_t t[4] = {x, 0, 0, 0};
  bn254_mont_mul(r->v, t, P_R2, BN254_P, BN254_P_N0);
}

int bn254_fp_from_bytes(bn254_fp *r, const uint8_t in[32]) {
  uint64_t t[4], d[4];
  bn254_limbs_from_be(t, in);
  /* Coordinates >= p are refused, never reduced: the precompiles do the same, and it
   * keeps every point with a single encoding. */
  if (!bn254_limbs_sub(d, t, BN254_P)) {
    *r = bn254_fp_zero;
    return -1;
  }
  bn254_mont_mul(r->v, t, P_R2, BN254_P, BN254_P_N0);
  return 0;
}

void bn254_fp_from_bytes_reduce(bn254_fp *r, const uint8_t in[32]) {
  uint64_t t[4];
  bn254_limbs_from_be(t, in);
  bn254_mod_reduce_256(t, t, BN254_P);
  bn254_mont_mul(r->v, t, P_R2, BN254_P, BN254_P_N0);
}

void bn254_fp_to_bytes(uint8_t out[32], const bn254_fp *a) {
  static const uint64_t one[4] = {1, 0, 0, 0};
  uint64_t t[4];
  bn254_mont_mul(t, a->v, one, BN254_P, BN254_P_N0);
  bn254_limbs_to_be(out, t);
}
