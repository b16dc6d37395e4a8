/* src/crypto/secp256k1_eth.c — Ethereum's use of secp256k1 over libsecp256k1:
 * recoverable RFC 6979 signatures with v = 27 + recid, EIP-2 low-s, addresses. */
#include "crypto/secp256k1_eth.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto/keccak.h"

/* Group order n and floor(n/2), big-endian. Signatures are public, so the
 * range checks against them need not be constant time. */
static const uint8_t secp_n[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
};
static const uint8_t secp_half_n[32] = {
    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
};

#define KEYGEN_MAX_TRIES 64 /* each try fails with probability < 2^-127 */

static secp256k1_context *g_ctx;
static int g_init_rc = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* libsecp256k1 aborts on API misuse by default; the core must never abort on
 * a request, so misuse becomes an ordinary failure return. */
static void illegal_cb(const char *msg, void *data) {
  (void)msg;
  (void)data;
}

static void secp_init_once(void) {
  uint8_t seed[32];
  if (sodium_init() < 0) return;
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == NULL) return;
  secp256k1_context_set_illegal_callback(ctx, illegal_cb, NULL);
  /* Blinding makes the signing and keygen multiplications leak nothing that
   * depends on the key, even under a power or timing side channel. */
  randombytes_buf(seed, sizeof seed);
  int ok = secp256k1_context_randomize(ctx, seed);
  sodium_memzero(seed, sizeof seed);
  if (!ok) {
    secp256k1_context_destroy(ctx);
    return;
  }
  g_ctx = ctx;
  g_init_rc = 0;
}

/* Every entry point goes through here so a forgotten tkms_secp_init is an
 * initialisation, not a NULL dereference. */
static const secp256k1_context *secp_ctx(void) {
  if (pthread_once(&g_once, secp_init_once) != 0) return NULL;
  return g_init_rc == 0 ? g_ctx : NULL;
}

int tkms_secp_init(void) {
  return secp_ctx() != NULL ? 0 : -1;
}

static int is_zero32(const uint8_t *a) {
  uint8_t acc = 0;
  for (size_t i = 0; i < 32; i++) acc |= a[i];
  return acc == 0;
}

int tkms_secp_sk_check(const uint8_t sk[32]) {
  /* seckey_verify is constant time and needs no precomputed tables. */
  return secp256k1_ec_seckey_verify(secp256k1_context_static, sk) ? 0 : -1;
}

int tkms_secp_keygen(uint8_t sk[32]) {
  if (sodium_init() < 0) return -1;
  for (int i = 0; i < KEYGEN_MAX_TRIES; i++) {
    randombytes_buf(sk, TKMS_SECP_SK_BYTES);
    if (tkms_secp_sk_check(sk) == 0) return 0;
  }
  sodium_memzero(sk, TKMS_SECP_SK_BYTES);
  return -1;
}

int tkms_secp_pubkey(const uint8_t sk[32], uint8_t pub33[33], uint8_t pub65[65]) {
  const secp256k1_context *ctx = secp_ctx();
  secp256k1_pubkey pk;
  size_t len;
  if (ctx == NULL || !secp256k1_ec_pubkey_create(ctx, &pk, sk)) return -1;
  if (pub33 != NULL) {
    len = TKMS_SECP_PUB33_BYTES;
    if (!secp256k1_ec_pubkey_serialize(ctx, pub33, &len, &pk, SECP256K1_EC_COMPRESSED)) return -1;
  }
  if (pub65 != NULL) {
    len = TKMS_SECP_PUB65_BYTES;
    if (!secp256k1_ec_pubkey_serialize(ctx, pub65, &len, &pk, SECP256K1_EC_UNCOMPRESSED)) {
      return -1;
    }
  }
  return 0;
}

void tkms_eth_address(const uint8_t pub65[65], uint8_t addr[20]) {
  uint8_t h[32];
  tkms_keccak256(pub65 + 1, 64, h);
  memcpy(addr, h + 12, TKMS_ETH_ADDR_BYTES);
}

int tkms_eth_address_from_pub33(const uint8_t pub33[33], uint8_t addr[20]) {
  secp256k1_pubkey pk;
  uint8_t pub65[65];
  size_t len = sizeof pub65;
  if (!secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk, pub33, TKMS_SECP_PUB33_BYTES) ||
      !secp256k1_ec_pubkey_serialize(secp256k1_context_static, pub65, &len, &pk,
                                     SECP256K1_EC_UNCOMPRESSED)) {
    return -1;
  }
  tkms_eth_address(pub65, addr);
  return 0;
}

int tkms_secp_sign(const uint8_t sk[32], const uint8_t digest[32], uint8_t sig[65]) {
  const secp256k1_context *ctx = secp_ctx();
  secp256k1_ecdsa_recoverable_signature rs;
  int recid = -1;
  /* NULL nonce function = RFC 6979, and libsecp256k1 always emits low s. */
  if (ctx == NULL || !secp256k1_ecdsa_sign_recoverable(ctx, &rs, digest, sk, NULL, NULL) ||
      !secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig, &recid, &rs)) {
    goto fail;
  }
  /* recid 2/3 (R.x >= n, probability ~2^-127) has no Ethereum v; and a high s
   * would be refused by every verifier, so never hand one out. */
  if (recid < 0 || recid > 1 || memcmp(sig + 32, secp_half_n, 32) > 0) goto fail;
  sig[64] = (uint8_t)(27 + recid);
  sodium_memzero(&rs, sizeof rs);
  return 0;
fail:
  sodium_memzero(&rs, sizeof rs);
  memset(sig, 0, TKMS_SECP_SIG_BYTES);
  return -1;
}

static tkms_secp_result recover_checked(const uint8_t digest[32], const uint8_t sig[65],
                                        uint8_t addr[20]) {
  const uint8_t *r = sig, *s = sig + 32;
  uint8_t v = sig[64];
  if (is_zero32(r) || is_zero32(s) || memcmp(r, secp_n, 32) >= 0 || memcmp(s, secp_n, 32) >= 0) {
    return TKMS_SECP_MALFORMED;
  }
  /* EIP-2: (r, n - s) with the other v is a second valid signature of the same
   * message; accepting both would let anyone mint a fresh-looking copy. */
  if ((v != 27 && v != 28) || memcmp(s, secp_half_n, 32) > 0) return TKMS_SECP_HIGH_S;

  const secp256k1_context *ctx = secp_ctx();
  secp256k1_ecdsa_recoverable_signature rs;
  secp256k1_pubkey pk;
  uint8_t pub65[65];
  size_t len = sizeof pub65;
  if (ctx == NULL) return TKMS_SECP_INVALID;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, v - 27)) {
    return TKMS_SECP_MALFORMED;
  }
  if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, digest) ||
      !secp256k1_ec_pubkey_serialize(ctx, pub65, &len, &pk, SECP256K1_EC_UNCOMPRESSED)) {
    return TKMS_SECP_INVALID;
  }
  tkms_eth_address(pub65, addr);
  /* ecrecover's failure value; a contract comparing against an unset owner
   * (address(0)) would otherwise accept it. */
  uint8_t acc = 0;
  for (size_t i = 0; i < TKMS_ETH_ADDR_BYTES; i++) acc |= addr[i];
  return acc == 0 ? TKMS_SECP_INVALID : TKMS_SECP_OK;
}

tkms_secp_result tkms_secp_recover(const uint8_t digest[32], const uint8_t sig[65],
                                   uint8_t addr[20]) {
  tkms_secp_result rc = recover_checked(digest, sig, addr);
  /* A refused signature must not leave a plausible address behind. */
  if (rc != TKMS_SECP_OK) memset(addr, 0, TKMS_ETH_ADDR_BYTES);
  return rc;
}

void tkms_eip191_digest(const void *msg, size_t len, uint8_t out[32]) {
  static const char prefix[] =
      "\x19"
      "Ethereum Signed Message:\n";
  char dec[24];
  int n = snprintf(dec, sizeof dec, "%zu", len);
  tkms_keccak_ctx c;
  tkms_keccak256_init(&c);
  tkms_keccak256_update(&c, prefix, sizeof prefix - 1);
  tkms_keccak256_update(&c, dec, (size_t)n);
  tkms_keccak256_update(&c, msg, len);
  tkms_keccak256_final(&c, out);
}
