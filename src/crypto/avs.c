/* src/crypto/avs.c — EigenLayer registration hash, operator id and signature check
 * (see avs.h). */
#include "crypto/avs.h"

#include <string.h>

#include "crypto/bn254/bn254.h"
#include "crypto/eip712.h"
#include "crypto/keccak.h"

int tkms_avs_registration_digest(const uint8_t chain_id[32], const uint8_t coordinator[20],
                                 const uint8_t operator_addr[20], uint8_t digest[32]) {
  uint8_t th[32], words[4][32], domain[32], sh[32];
  tkms_eip712_type_hash(TKMS_AVS_DOMAIN_TYPE, th);
  tkms_eip712_word_dynamic(TKMS_AVS_DOMAIN_NAME, strlen(TKMS_AVS_DOMAIN_NAME), words[0]);
  tkms_eip712_word_dynamic(TKMS_AVS_DOMAIN_VERSION, strlen(TKMS_AVS_DOMAIN_VERSION), words[1]);
  memcpy(words[2], chain_id, 32); /* uint256: the word is the value itself */
  tkms_eip712_word_address(coordinator, words[3]);
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])words, 4, domain);
  tkms_eip712_type_hash(TKMS_AVS_REGISTRATION_TYPE, th);
  tkms_eip712_word_address(operator_addr, words[0]);
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])words, 1, sh);
  tkms_eip712_digest(domain, sh, digest);
  return 0;
}

int tkms_avs_registration_point(const uint8_t chain_id[32], const uint8_t coordinator[20],
                                const uint8_t operator_addr[20], uint8_t point[64]) {
  uint8_t d[32];
  tkms_avs_registration_digest(chain_id, coordinator, operator_addr, d);
  return tkms_bn254_hash_to_g1(point, d);
}

void tkms_avs_operator_id(const uint8_t g1[64], uint8_t id[32]) {
  tkms_keccak256(g1, 64, id);
}

int tkms_avs_verify(const uint8_t pk[192], const uint8_t msg_hash[32], const uint8_t sigma[64],
                    const char **why) {
  const uint8_t *apk = pk, *apk2 = pk + 64;
  const char *w = NULL;
  if (tkms_bn254_g1_check(apk) != 0)
    w = "g1 is not a valid G1 point (a coordinate >= p, or not on the curve)";
  else if (tkms_bn254_g1_is_infinity(apk) == 0)
    w = "g1 is the point at infinity";
  else if (tkms_bn254_g2_check(apk2) != 0)
    w = "g2 is not a valid G2 point (a coordinate >= p, not on the twist, or not in the "
        "order-r subgroup)";
  else if (tkms_bn254_g2_is_infinity(apk2) == 0)
    w = "g2 is the point at infinity";
  else if (tkms_bn254_g1_check(sigma) != 0)
    w = "signature is not a valid G1 point (a coordinate >= p, or not on the curve)";
  if (w != NULL) {
    if (why != NULL) *why = w;
    return -1;
  }
  /* gamma over public data only: the variable-time multiplications are fine. */
  uint8_t buf[32 + 64 + 128 + 64], gamma[32], h[64], g1[64], t[64], a[64], b[64];
  uint8_t pairs[2 * TKMS_BN254_PAIR_BYTES];
  memcpy(buf, msg_hash, 32);
  memcpy(buf + 32, apk, 64);
  memcpy(buf + 96, apk2, 128);
  memcpy(buf + 224, sigma, 64);
  tkms_keccak256(buf, sizeof buf, gamma);
  tkms_bn254_scalar_reduce(gamma, gamma);
  tkms_bn254_hash_to_g1(h, msg_hash);
  tkms_bn254_g1_generator(g1);
  if (tkms_bn254_g1_mul_public(t, apk, gamma) != 0 || tkms_bn254_g1_add(a, sigma, t) != 0 ||
      tkms_bn254_g1_mul_public(t, g1, gamma) != 0 || tkms_bn254_g1_add(b, h, t) != 0 ||
      tkms_bn254_g2_generator(pairs + 64) != 0 || tkms_bn254_g2_neg(pairs + 64, pairs + 64) != 0) {
    if (why != NULL) *why = "internal error"; /* unreachable with valid inputs */
    return -1;
  }
  memcpy(pairs, a, 64);
  memcpy(pairs + TKMS_BN254_PAIR_BYTES, b, 64);
  memcpy(pairs + TKMS_BN254_PAIR_BYTES + 64, apk2, 128);
  /* Every point is valid here, so -1 means "the product is not 1". */
  return tkms_bn254_pairing_check(pairs, 2) == 0 ? TKMS_AVS_VALID : TKMS_AVS_INVALID;
}
