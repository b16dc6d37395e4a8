/* src/crypto/bn254/wnaf.c — width-5 NAF recoding of public scalars (variable time). */
#include "crypto/bn254/wnaf.h"

int bn254_wnaf(int8_t naf[BN254_WNAF_MAX], const uint64_t *k, int nbits) {
  uint64_t t[5] = {0, 0, 0, 0, 0};
  int limbs = (nbits + 63) / 64, len = 0;
  for (int i = 0; i < limbs && i < 4; i++) t[i] = k[i];
  if (nbits % 64 && limbs <= 4) t[limbs - 1] &= (~0ULL) >> (64 - nbits % 64);
  while (t[0] | t[1] | t[2] | t[3] | t[4]) {
    int d = 0;
    if (t[0] & 1) {
      d = (int)(t[0] & 31);
      if (d >= 16) d -= 32;
      /* t -= d: subtracting a positive digit never borrows past bit 5, since t & 31 >= d;
       * a negative digit adds up to 15 and may carry. */
      if (d > 0) {
        t[0] -= (uint64_t)d;
      } else {
        uint64_t add = (uint64_t)(-d);
        for (int i = 0; i < 5 && add; i++) {
          t[i] += add;
          add = t[i] < add ? 1 : 0;
        }
      }
    }
    naf[len++] = (int8_t)d;
    for (int i = 0; i < 4; i++) t[i] = (t[i] >> 1) | (t[i + 1] << 63);
    t[4] >>= 1;
  }
  return len;
}
