/* src/crypto/bn254/fp_x86.h — internal: x86-64 inline assembly for the hot Fp operations.
 * Straight-line code, with cmov (never a branch) for the final conditional subtraction:
 * constant time.
 *
 * bn254_fp_mul_adx: Montgomery product with BMI2/ADX (mulx and the two carry chains of
 * adcx/adox), used when the CPU has them (fp.c checks once). CIOS: one multiply-accumulate
 * row then one reduction row per limb of b; the running sum stays below 2^320 (p < 2^254),
 * so no carry leaves the fifth word, and the result before the final subtraction is < 2p.
 * bn254_fp_add_x86 / bn254_fp_sub_x86: plain x86-64 (add/adc/sbb/cmov), always usable.
 * pn holds p in four words then -1/p mod 2^64, so that one register addresses all the
 * constants (few registers are free at -O0 or with sanitizers and frame pointers); the
 * "memory" clobber stands for the arrays read and written through the pointers.
 * The portable versions in mont.h compute the same values (unit tests compare them). */
#ifndef TKMS_CRYPTO_BN254_FP_X86_H
#define TKMS_CRYPTO_BN254_FP_X86_H
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BN254_HAVE_X86_ASM 1

/* r = a b / 2^256 mod p for a, b < p (r < p). */
static inline void bn254_fp_mul_adx(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                    const uint64_t pn[5]) {
  uint64_t t0, t1, t2, t3, t4, lo, hi, z;
  __asm__(
      "movq 0(%[b]), %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq 0(%[a]), %[t0], %[t1]\n\t"
      "mulxq 8(%[a]), %[lo], %[t2]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "mulxq 16(%[a]), %[lo], %[t3]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "mulxq 24(%[a]), %[lo], %[t4]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adcxq %[z], %[t4]\n\t"
      "movq %[t0], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[hi], %[t1]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[hi], %[t2]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "adcxq %[z], %[t4]\n\t"
      "movq 8(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[hi], %[t2]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 24(%[a]), %[lo], %[t0]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[z], %[t0]\n\t"
      "adcxq %[z], %[t0]\n\t"
      "movq %[t1], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[hi], %[t2]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "adcxq %[z], %[t0]\n\t"
      "movq 16(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "mulxq 24(%[a]), %[lo], %[t1]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "adcxq %[z], %[t1]\n\t"
      "movq %[t2], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[hi], %[t1]\n\t"
      "adcxq %[z], %[t1]\n\t"
      "movq 24(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[hi], %[t1]\n\t"
      "mulxq 24(%[a]), %[lo], %[t2]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[z], %[t2]\n\t"
      "adcxq %[z], %[t2]\n\t"
      "movq %[t3], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[hi], %[t1]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[hi], %[t2]\n\t"
      "adcxq %[z], %[t2]\n\t"
      "movq %[t4], %[lo]\n\t"
      "subq 0(%[p]), %[lo]\n\t"
      "movq %[t0], %[hi]\n\t"
      "sbbq 8(%[p]), %[hi]\n\t"
      "movq %[t1], %[z]\n\t"
      "sbbq 16(%[p]), %[z]\n\t"
      "movq %[t2], %[t3]\n\t"
      "sbbq 24(%[p]), %[t3]\n\t"
      "cmovcq %[t4], %[lo]\n\t"
      "cmovcq %[t0], %[hi]\n\t"
      "cmovcq %[t1], %[z]\n\t"
      "cmovcq %[t2], %[t3]\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
      : [a] "r"(a), [b] "r"(b), [p] "r"(pn)
      : "rdx", "cc", "memory");
  r[0] = lo;
  r[1] = hi;
  r[2] = z;
  r[3] = t3;
}

/* r = a + b mod p for a, b < p: a + b < 2^255, then subtract p unless that borrows. */
static inline void bn254_fp_add_x86(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                    const uint64_t pn[5]) {
  uint64_t s0, s1, s2, s3, d0, d1, d2, d3;
  __asm__(
      "movq 0(%[a]), %[s0]\n\t"
      "movq 8(%[a]), %[s1]\n\t"
      "movq 16(%[a]), %[s2]\n\t"
      "movq 24(%[a]), %[s3]\n\t"
      "addq 0(%[b]), %[s0]\n\t"
      "adcq 8(%[b]), %[s1]\n\t"
      "adcq 16(%[b]), %[s2]\n\t"
      "adcq 24(%[b]), %[s3]\n\t"
      "movq %[s0], %[d0]\n\t"
      "subq 0(%[p]), %[d0]\n\t"
      "movq %[s1], %[d1]\n\t"
      "sbbq 8(%[p]), %[d1]\n\t"
      "movq %[s2], %[d2]\n\t"
      "sbbq 16(%[p]), %[d2]\n\t"
      "movq %[s3], %[d3]\n\t"
      "sbbq 24(%[p]), %[d3]\n\t"
      "cmovcq %[s0], %[d0]\n\t"
      "cmovcq %[s1], %[d1]\n\t"
      "cmovcq %[s2], %[d2]\n\t"
      "cmovcq %[s3], %[d3]\n\t"
      : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [d0] "=&r"(d0),
        [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3)
      : [a] "r"(a), [b] "r"(b), [p] "r"(pn)
      : "cc", "memory");
  r[0] = d0;
  r[1] = d1;
  r[2] = d2;
  r[3] = d3;
}

/* r = a - b mod p for a, b < p: a - b, then add p masked by the borrow. The masked words
 * are computed before the additions because "and" clears the carry flag. */
static inline void bn254_fp_sub_x86(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                                    const uint64_t pn[5]) {
  uint64_t s0, s1, s2, s3, m, t0, t1, t2;
  __asm__(
      "xorl %k[m], %k[m]\n\t"
      "movq 0(%[a]), %[s0]\n\t"
      "movq 8(%[a]), %[s1]\n\t"
      "movq 16(%[a]), %[s2]\n\t"
      "movq 24(%[a]), %[s3]\n\t"
      "subq 0(%[b]), %[s0]\n\t"
      "sbbq 8(%[b]), %[s1]\n\t"
      "sbbq 16(%[b]), %[s2]\n\t"
      "sbbq 24(%[b]), %[s3]\n\t"
      "sbbq $0, %[m]\n\t" /* m = 0 - borrow: all ones or zero */
      "movq 0(%[p]), %[t0]\n\t"
      "movq 8(%[p]), %[t1]\n\t"
      "movq 16(%[p]), %[t2]\n\t"
      "andq %[m], %[t0]\n\t"
      "andq %[m], %[t1]\n\t"
      "andq %[m], %[t2]\n\t"
      "andq 24(%[p]), %[m]\n\t"
      "addq %[t0], %[s0]\n\t"
      "adcq %[t1], %[s1]\n\t"
      "adcq %[t2], %[s2]\n\t"
      "adcq %[m], %[s3]\n\t"
      : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [m] "=&r"(m),
        [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2)
      : [a] "r"(a), [b] "r"(b), [p] "r"(pn)
      : "cc", "memory");
  r[0] = s0;
  r[1] = s1;
  r[2] = s2;
  r[3] = s3;
}
/* Lazy reduction for Fp2 (fp2.c): a full 512-bit product and a separate Montgomery
 * reduction, so that a0 b0 - a1 b1 and a0 b1 + a1 b0 are each reduced once. */

/* t = a b as eight words, for a, b < 2^255. */
static inline void bn254_mul512_adx(uint64_t t[8], const uint64_t a[4], const uint64_t b[4]) {
  uint64_t t0, t1, t2, t3, t4, lo, hi, z;
  /* volatile: the result goes to memory only, so the outputs alone would not keep it */
  __asm__ volatile(
      "movq 0(%[b]), %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq 0(%[a]), %[t0], %[t1]\n\t"
      "mulxq 8(%[a]), %[lo], %[t2]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "mulxq 16(%[a]), %[lo], %[t3]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "mulxq 24(%[a]), %[lo], %[t4]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adcxq %[z], %[t4]\n\t"
      "movq %[t0], 0(%[r])\n\t"
      "movq 8(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[hi], %[t2]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 24(%[a]), %[lo], %[t0]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[z], %[t0]\n\t"
      "adcxq %[z], %[t0]\n\t"
      "movq %[t1], 8(%[r])\n\t"
      "movq 16(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "adoxq %[hi], %[t3]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "mulxq 24(%[a]), %[lo], %[t1]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "adcxq %[z], %[t1]\n\t"
      "movq %[t2], 16(%[r])\n\t"
      "movq 24(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adoxq %[hi], %[t4]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t4]\n\t"
      "adoxq %[hi], %[t0]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[t0]\n\t"
      "adoxq %[hi], %[t1]\n\t"
      "mulxq 24(%[a]), %[lo], %[t2]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "adoxq %[z], %[t2]\n\t"
      "adcxq %[z], %[t2]\n\t"
      "movq %[t3], 24(%[r])\n\t"
      "movq %[t4], 32(%[r])\n\t"
      "movq %[t0], 40(%[r])\n\t"
      "movq %[t1], 48(%[r])\n\t"
      "movq %[t2], 56(%[r])\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
      : [r] "r"(t), [a] "r"(a), [b] "r"(b)
      : "rdx", "cc", "memory");
  (void)t0, (void)t1, (void)t2, (void)t3, (void)t4, (void)lo, (void)hi, (void)z;
}

/* r = t / 2^256 mod p for t < p 2^256 (r < p). One word of t leaves per round; the carry
 * out of the top of each round's window (0, 1 or 2, from the two chains) is kept in c and
 * added into the next word; t + m p < 2p 2^256 < 2^511, so nothing leaves the eighth word. */
static inline void bn254_redc_adx(uint64_t r[4], const uint64_t t[8], const uint64_t pn[5]) {
  uint64_t w0, w1, w2, w3, w4, lo, hi, z, c;
  __asm__(
      "xorl %k[z], %k[z]\n\t"
      "xorl %k[c], %k[c]\n\t"
      "movq 0(%[t]), %[w0]\n\t"
      "movq 8(%[t]), %[w1]\n\t"
      "movq 16(%[t]), %[w2]\n\t"
      "movq 24(%[t]), %[w3]\n\t"
      "movq 32(%[t]), %[w4]\n\t"
      "movq %[w0], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w0]\n\t"
      "adoxq %[hi], %[w1]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w1]\n\t"
      "adoxq %[hi], %[w2]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w2]\n\t"
      "adoxq %[hi], %[w3]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w3]\n\t"
      "adoxq %[hi], %[w4]\n\t"
      "adcxq %[c], %[w4]\n\t"
      "movl $0, %k[c]\n\t"
      "adoxq %[z], %[c]\n\t"
      "adcxq %[z], %[c]\n\t"
      "movq 40(%[t]), %[w0]\n\t"
      "movq %[w1], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w1]\n\t"
      "adoxq %[hi], %[w2]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w2]\n\t"
      "adoxq %[hi], %[w3]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w3]\n\t"
      "adoxq %[hi], %[w4]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w4]\n\t"
      "adoxq %[hi], %[w0]\n\t"
      "adcxq %[c], %[w0]\n\t"
      "movl $0, %k[c]\n\t"
      "adoxq %[z], %[c]\n\t"
      "adcxq %[z], %[c]\n\t"
      "movq 48(%[t]), %[w1]\n\t"
      "movq %[w2], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w2]\n\t"
      "adoxq %[hi], %[w3]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w3]\n\t"
      "adoxq %[hi], %[w4]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w4]\n\t"
      "adoxq %[hi], %[w0]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w0]\n\t"
      "adoxq %[hi], %[w1]\n\t"
      "adcxq %[c], %[w1]\n\t"
      "movl $0, %k[c]\n\t"
      "adoxq %[z], %[c]\n\t"
      "adcxq %[z], %[c]\n\t"
      "movq 56(%[t]), %[w2]\n\t"
      "movq %[w3], %%rdx\n\t"
      "imulq 32(%[p]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w3]\n\t"
      "adoxq %[hi], %[w4]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w4]\n\t"
      "adoxq %[hi], %[w0]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w0]\n\t"
      "adoxq %[hi], %[w1]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adcxq %[lo], %[w1]\n\t"
      "adoxq %[hi], %[w2]\n\t"
      "adcxq %[c], %[w2]\n\t"
      "movl $0, %k[c]\n\t"
      "adoxq %[z], %[c]\n\t"
      "adcxq %[z], %[c]\n\t"
      "movq %[w4], %[lo]\n\t"
      "subq 0(%[p]), %[lo]\n\t"
      "movq %[w0], %[hi]\n\t"
      "sbbq 8(%[p]), %[hi]\n\t"
      "movq %[w1], %[z]\n\t"
      "sbbq 16(%[p]), %[z]\n\t"
      "movq %[w2], %[w3]\n\t"
      "sbbq 24(%[p]), %[w3]\n\t"
      "cmovcq %[w4], %[lo]\n\t"
      "cmovcq %[w0], %[hi]\n\t"
      "cmovcq %[w1], %[z]\n\t"
      "cmovcq %[w2], %[w3]\n\t"
      : [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3), [w4] "=&r"(w4),
        [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z), [c] "=&r"(c)
      : [t] "r"(t), [p] "r"(pn)
      : "rdx", "cc", "memory");
  r[0] = lo;
  r[1] = hi;
  r[2] = z;
  r[3] = w3;
  (void)c;
}

#endif

#endif
