/* src/crypto/bn254/hash_to_g1.c — BN254.sol's hashToG1 (eigenlayer-middleware), bit-exact.
 *
 *   x = uint256(h) % P; loop { (beta, y) = findYFromX(x); if (beta == mulmod(y, y, P))
 *   return G1Point(x, y); x = addmod(x, 1, P); }
 *   findYFromX: beta = x^3 + 3, y = beta^((p+1)/4) (modexp precompile).
 *
 * This is try-and-increment, not a constant-time or indifferentiable hash to the curve, and
 * y is whichever root the exponentiation gives (never negated): any other choice signs a
 * different point than the contract checks. h is public, so the loop may leak its length. */
#include "crypto/bn254/bn254.h"
#include "crypto/bn254/curve.h"

int tkms_bn254_hash_to_g1(uint8_t out[64], const uint8_t h[32]) {
  bn254_g1_aff a;
  bn254_fp three, beta, y;
  bn254_fp_set_u64(&three, 3);
  bn254_fp_from_bytes_reduce(&a.x, h);
  for (;;) {
    bn254_fp_sqr(&beta, &a.x);
    bn254_fp_mul(&beta, &beta, &a.x);
    bn254_fp_add(&beta, &beta, &three);
    if (bn254_fp_sqrt(&y, &beta) == 0) break;
    /* About half of all x give a square: the loop ends after 2 tries on average and after
     * more than 128 with probability 2^-128. */
    bn254_fp_add(&a.x, &a.x, &bn254_fp_one);
  }
  a.y = y;
  a.inf = 0;
  bn254_g1_encode(out, &a);
  return 0;
}
