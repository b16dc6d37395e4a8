/* src/crypto/bn254/ct.h — internal: constant-time helpers. Secrets flow only through
 * arithmetic and masks built here, never through branches or memory indices. */
#ifndef TKMS_CRYPTO_BN254_CT_H
#define TKMS_CRYPTO_BN254_CT_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Hides a value from the optimiser so that masks stay masks and never become branches. */
static inline uint64_t bn254_ct_barrier(uint64_t x) {
  __asm__("" : "+r"(x));
  return x;
}
/* All ones if x == 0, else 0. */
static inline uint64_t bn254_ct_is_zero(uint64_t x) {
  x = bn254_ct_barrier(x);
  return ((x | (0 - x)) >> 63) - 1;
}
/* All ones if bit is 1, else 0 (bit must be 0 or 1). */
static inline uint64_t bn254_ct_mask(uint64_t bit) {
  return 0 - bn254_ct_barrier(bit);
}
/* Clears secret intermediates; the compiler may not drop it. */
static inline void bn254_ct_wipe(void *p, size_t n) {
  explicit_bzero(p, n);
}

#endif
