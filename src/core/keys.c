/* src/core/keys.c — generating keys and signing with them (see keys.h). */
#include "core/keys.h"

#include <sodium.h>
#include <string.h>

#include "core/secmem.h"
#include "crypto/avs.h"
#include "crypto/bn254/bn254.h"
#include "crypto/secp256k1_eth.h"

int tkms_keytype_parse(const char *s) {
  if (strcmp(s, "secp256k1") == 0) return TKMS_KEYTYPE_SECP256K1;
  if (strcmp(s, "ed25519") == 0) return TKMS_KEYTYPE_ED25519;
  if (strcmp(s, "bn254") == 0) return TKMS_KEYTYPE_BN254;
  return 0;
}

const char *tkms_keytype_name(int type) {
  return type == TKMS_KEYTYPE_SECP256K1 ? "secp256k1"
         : type == TKMS_KEYTYPE_ED25519 ? "ed25519"
         : type == TKMS_KEYTYPE_BN254   ? "bn254"
                                        : "?";
}

size_t tkms_key_pub_len(int type) {
  switch (type) {
    case TKMS_KEYTYPE_SECP256K1:
      return 33u;
    case TKMS_KEYTYPE_ED25519:
      return 32u;
    case TKMS_KEYTYPE_BN254:
      return TKMS_BN254_G1_BYTES + TKMS_BN254_G2_BYTES;
    default:
      return 0u;
  }
}

int tkms_mode_parse(const char *s) {
  if (strcmp(s, "digest") == 0) return TKMS_MODE_DIGEST;
  if (strcmp(s, "personal") == 0) return TKMS_MODE_PERSONAL;
  if (strcmp(s, "message") == 0) return TKMS_MODE_MESSAGE;
  if (strcmp(s, "bn254_g1_mul") == 0) return TKMS_MODE_BN254_G1_MUL;
  if (strcmp(s, "bn254_hash") == 0) return TKMS_MODE_BN254_HASH;
  if (strcmp(s, "avs_registration") == 0) return TKMS_MODE_AVS_REGISTRATION;
  return 0;
}

int tkms_mode_allowed(int type, int mode) {
  if (type == TKMS_KEYTYPE_SECP256K1) return mode == TKMS_MODE_DIGEST || mode == TKMS_MODE_PERSONAL;
  if (type == TKMS_KEYTYPE_ED25519) return mode == TKMS_MODE_MESSAGE;
  if (type == TKMS_KEYTYPE_BN254)
    return mode == TKMS_MODE_BN254_G1_MUL || mode == TKMS_MODE_BN254_HASH ||
           mode == TKMS_MODE_AVS_REGISTRATION;
  return 0;
}

/* The Ed25519 expanded secret key exists only inside this call, in locked memory. */
typedef struct {
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
} ed_sk;

static int ed_public(const uint8_t seed[32], uint8_t pub[32]) {
  ed_sk *k = tkms_secmem_alloc(sizeof *k);
  if (k == NULL) return -1;
  int r = crypto_sign_seed_keypair(pub, k->sk, seed);
  tkms_secmem_free(k);
  return r == 0 ? 0 : -1;
}

int tkms_key_public(int type, const uint8_t secret[32], uint8_t *pub, uint8_t addr[20]) {
  if (type == TKMS_KEYTYPE_SECP256K1) {
    uint8_t pub65[65];
    if (tkms_secp_pubkey(secret, pub, pub65) != 0) return -1;
    if (addr != NULL) tkms_eth_address(pub65, addr);
    return 0;
  }
  if (type == TKMS_KEYTYPE_ED25519) return ed_public(secret, pub);
  if (type == TKMS_KEYTYPE_BN254) {
    /* Both halves with the constant-time base multiplications: sk is secret. */
    if (tkms_bn254_scalar_check(secret) != 0 || tkms_bn254_g1_mul_base(pub, secret) != 0 ||
        tkms_bn254_g2_mul_base(pub + TKMS_BN254_G1_BYTES, secret) != 0)
      return -1;
    return 0;
  }
  return -1;
}

/* sk uniform in [1, r-1]: rejection sampling. r is just below 2^254, so the top
 * two bits are cleared first and a draw is rejected with probability ~0.24; the
 * loop runs on fresh randomness and its count reveals nothing about the kept sk. */
static int bn254_keygen(uint8_t secret[32]) {
  for (int i = 0; i < 1024; i++) {
    randombytes_buf(secret, 32);
    secret[0] &= 0x3f;
    if (tkms_bn254_scalar_check(secret) == 0) return 0;
  }
  sodium_memzero(secret, 32);
  return -1; /* 1024 rejections in a row: the RNG is broken */
}

int tkms_key_generate(int type, uint8_t secret[32], uint8_t *pub, uint8_t addr[20]) {
  if (type == TKMS_KEYTYPE_SECP256K1) {
    if (tkms_secp_keygen(secret) != 0) return -1;
  } else if (type == TKMS_KEYTYPE_ED25519) {
    randombytes_buf(secret, 32);
  } else if (type == TKMS_KEYTYPE_BN254) {
    if (bn254_keygen(secret) != 0) return -1;
  } else {
    return -1;
  }
  if (tkms_key_public(type, secret, pub, addr) != 0) {
    sodium_memzero(secret, 32);
    return -1;
  }
  return 0;
}

int tkms_key_sign(int type, int mode, const uint8_t secret[32], const uint8_t *payload,
                  size_t payload_len, uint8_t sig[TKMS_KEY_SIG_MAX], size_t *sig_len) {
  if (!tkms_mode_allowed(type, mode) || type == TKMS_KEYTYPE_BN254) return -1;
  if (type == TKMS_KEYTYPE_SECP256K1) {
    uint8_t digest[32];
    if (mode == TKMS_MODE_DIGEST) {
      if (payload_len != 32) return -1;
      memcpy(digest, payload, 32);
    } else {
      tkms_eip191_digest(payload, payload_len, digest);
    }
    if (tkms_secp_sign(secret, digest, sig) != 0) return -1;
    *sig_len = TKMS_SECP_SIG_BYTES;
    return 0;
  }
  ed_sk *k = tkms_secmem_alloc(sizeof *k);
  if (k == NULL) return -1;
  uint8_t pub[32];
  int r = crypto_sign_seed_keypair(pub, k->sk, secret) == 0 &&
                  crypto_sign_detached(sig, NULL, payload, payload_len, k->sk) == 0
              ? 0
              : -1;
  tkms_secmem_free(k);
  *sig_len = crypto_sign_BYTES;
  return r;
}

int tkms_bn254_mode_point(int mode, const uint8_t *payload, size_t payload_len,
                          const uint8_t owner[20], uint8_t point[64], const char **why) {
  switch (mode) {
    case TKMS_MODE_BN254_G1_MUL:
      if (payload_len != TKMS_BN254_G1_BYTES) {
        *why = "mode bn254_g1_mul takes a 64-byte G1 point X || Y";
        return -1;
      }
      if (tkms_bn254_g1_check(payload) != 0) {
        *why = "the point is not on the curve or a coordinate is >= p";
        return -1;
      }
      if (tkms_bn254_g1_is_infinity(payload) == 0) {
        *why = "the point is the point at infinity";
        return -1;
      }
      memcpy(point, payload, TKMS_BN254_G1_BYTES);
      return 0;
    case TKMS_MODE_BN254_HASH:
      if (payload_len != 32) {
        *why = "mode bn254_hash takes a 32-byte message hash";
        return -1;
      }
      return tkms_bn254_hash_to_g1(point, payload);
    case TKMS_MODE_AVS_REGISTRATION:
      if (payload_len != TKMS_AVS_REGISTRATION_PAYLOAD) {
        *why = "mode avs_registration takes chain_id (32 bytes) || registry coordinator (20)";
        return -1;
      }
      return tkms_avs_registration_point(payload, payload + 32, owner, point);
    default:
      *why = "not a bn254 mode";
      return -1;
  }
}

int tkms_key_sign_bn254(const uint8_t secret[32], const uint8_t point[64], uint8_t sig[64]) {
  return tkms_bn254_g1_mul(sig, point, secret);
}
