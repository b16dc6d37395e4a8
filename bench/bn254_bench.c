/* bench/bn254_bench.c — operations per second of the BN254 code: G1 and G2 scalar
 * multiplication (secret-scalar and public-scalar paths), pairing, pairing check, hashToG1.
 * Prints one line per operation: "name ops/s". Targets on a 2-core machine: G1 mul >= 10,000/s,
 * G2 mul >= 4,000/s, pairing >= 1,000/s. bench/bn254_noble.mjs measures @noble/curves. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/bn254/bn254.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A fixed pseudo-random scalar below r (top byte cleared). */
static void scalar(uint8_t k[32], uint32_t seed) {
  for (int i = 0; i < 32; i++) {
    seed = seed * 1103515245u + 12345u;
    k[i] = (uint8_t)(seed >> 16);
  }
  k[0] &= 0x1f;
}

static volatile uint8_t sink;

#define RUN(name, secs, body)                                \
  do {                                                       \
    long n_ = 0;                                             \
    double t0_ = now(), t_;                                  \
    do {                                                     \
      for (int i_ = 0; i_ < 16; i_++, n_++) {                \
        body;                                                \
      }                                                      \
      t_ = now() - t0_;                                      \
    } while (t_ < (secs));                                   \
    printf("%-22s %10.0f ops/s\n", (name), (double)n_ / t_); \
  } while (0)

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  uint8_t k[32], g1[64], g2[128], out[384], pairs[2 * 192], h[32] = {0};
  scalar(k, 1);
  tkms_bn254_g1_mul_base(g1, k);
  tkms_bn254_g2_mul_base(g2, k);
  RUN("g1_mul (ct)", secs, tkms_bn254_g1_mul(out, g1, k); k[31] ^= out[5]);
  RUN("g1_mul_public", secs, tkms_bn254_g1_mul_public(out, g1, k); k[31] ^= out[5]);
  RUN("g2_mul (ct)", secs, tkms_bn254_g2_mul(out, g2, k); k[31] ^= out[5]);
  RUN("g2_mul_public", secs, tkms_bn254_g2_mul_public(out, g2, k); k[31] ^= out[5]);
  RUN("g2_check (subgroup)", secs, sink ^= (uint8_t)tkms_bn254_g2_check(g2));
  RUN("pairing", secs, tkms_bn254_pairing(out, g1, g2); sink ^= out[7]);
  /* e(P, Q) e(-P, Q) = 1: the shape of a BLS verification */
  memcpy(pairs, g1, 64);
  memcpy(pairs + 64, g2, 128);
  tkms_bn254_g1_neg(pairs + 192, g1);
  memcpy(pairs + 256, g2, 128);
  RUN("pairing_check (2 pairs)", secs, sink ^= (uint8_t)tkms_bn254_pairing_check(pairs, 2));
  RUN("hash_to_g1", secs, tkms_bn254_hash_to_g1(out, h); h[31]++);
  return sink == 0xff ? 1 : 0;
}
