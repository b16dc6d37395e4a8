/* src/core/keys.c — generating keys and signing with them (see keys.h). */
#include "core/keys.h"

#include <sodium.h>
#include <string.h>

#include "core/secmem.h"
#include "crypto/secp256k1_eth.h"

int tkms_keytype_parse(const char *s) {
  if (strcmp(s, "secp256k1") == 0) return TKMS_KEYTYPE_SECP256K1;
  if (strcmp(s, "ed25519") == 0) return TKMS_KEYTYPE_ED25519;
  return 0;
}

const char *tkms_keytype_name(int type) {
  return type == TKMS_KEYTYPE_SECP256K1 ? "secp256k1"
         : type == TKMS_KEYTYPE_ED25519 ? "ed25519"
                                        : "?";
}

size_t tkms_key_pub_len(int type) {
  return type == TKMS_KEYTYPE_SECP256K1 ? 33u : type == TKMS_KEYTYPE_ED25519 ? 32u : 0u;
}

int tkms_mode_parse(const char *s) {
  if (strcmp(s, "digest") == 0) return TKMS_MODE_DIGEST;
  if (strcmp(s, "personal") == 0) return TKMS_MODE_PERSONAL;
  if (strcmp(s, "message") == 0) return TKMS_MODE_MESSAGE;
  return 0;
}

int tkms_mode_allowed(int type, int mode) {
  if (type == TKMS_KEYTYPE_SECP256K1) return mode == TKMS_MODE_DIGEST || mode == TKMS_MODE_PERSONAL;
  if (type == TKMS_KEYTYPE_ED25519) return mode == TKMS_MODE_MESSAGE;
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
  return -1;
}

int tkms_key_generate(int type, uint8_t secret[32], uint8_t *pub, uint8_t addr[20]) {
  if (type == TKMS_KEYTYPE_SECP256K1) {
    if (tkms_secp_keygen(secret) != 0) return -1;
  } else if (type == TKMS_KEYTYPE_ED25519) {
    randombytes_buf(secret, 32);
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
  if (!tkms_mode_allowed(type, mode)) return -1;
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
