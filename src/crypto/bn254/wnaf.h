/* src/crypto/bn254/wnaf.h — internal: width-5 non-adjacent form of a public scalar, for the
 * variable-time multiplications (G1, G2 and the G2 subgroup test). */
#ifndef TKMS_CRYPTO_BN254_WNAF_H
#define TKMS_CRYPTO_BN254_WNAF_H
#include <stdint.h>

#define BN254_WNAF_W 5
/* odd multiples 1, 3, ..., 15 */
#define BN254_WNAF_TABLE 8
#define BN254_WNAF_MAX 258

/* Writes the digits of k (little-endian limbs, the low nbits <= 256 bits used), least
 * significant first; each is 0 or odd in [-15, 15]. Returns the number of digits.
 * Variable time: only for public scalars. */
int bn254_wnaf(int8_t naf[BN254_WNAF_MAX], const uint64_t *k, int nbits);

#endif
