/* src/crypto/secp256k1_eth.h — secp256k1 the Ethereum way, over libsecp256k1.
 * Pure functions except tkms_secp_keygen (randomness from libsodium).
 * Signatures are 65 bytes r ‖ s ‖ v with v = 27 + recovery id, s <= n/2. */
#ifndef TKMS_CRYPTO_SECP256K1_ETH_H
#define TKMS_CRYPTO_SECP256K1_ETH_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_SECP_SK_BYTES 32u
#define TKMS_SECP_PUB33_BYTES 33u
#define TKMS_SECP_PUB65_BYTES 65u
#define TKMS_SECP_SIG_BYTES 65u
#define TKMS_ETH_ADDR_BYTES 20u

/* Result of checking a signature. */
typedef enum {
  TKMS_SECP_OK = 0,
  TKMS_SECP_MALFORMED = 1, /* r or s zero or >= n, or unusable */
  TKMS_SECP_HIGH_S = 2,    /* s > n/2 (EIP-2), or v not in {27,28} */
  TKMS_SECP_INVALID = 3,   /* does not recover to a point / zero address */
} tkms_secp_result;

/* Creates the shared context (randomised for side-channel blinding).
 * Call once before anything else; thread-safe afterwards. Returns 0 or -1. */
int tkms_secp_init(void);
/* Random secret key in [1, n-1]. Returns 0 or -1. */
int tkms_secp_keygen(uint8_t sk[32]);
/* 0 if sk is a valid secret key (constant time in sk), -1 otherwise. */
int tkms_secp_sk_check(const uint8_t sk[32]);
/* Public key of sk: compressed (33) and/or uncompressed (65); either may be NULL. */
int tkms_secp_pubkey(const uint8_t sk[32], uint8_t pub33[33], uint8_t pub65[65]);
/* Ethereum address of an uncompressed public key (0x04 ‖ X ‖ Y). */
void tkms_eth_address(const uint8_t pub65[65], uint8_t addr[20]);
/* Ethereum address from a compressed key. Returns 0 or -1. */
int tkms_eth_address_from_pub33(const uint8_t pub33[33], uint8_t addr[20]);
/* RFC 6979 recoverable ECDSA over a 32-byte digest; low-s; v = 27/28. Returns 0 or -1. */
int tkms_secp_sign(const uint8_t sk[32], const uint8_t digest[32], uint8_t sig[65]);
/* Recover the signer's address; enforces 1 <= r,s < n, s <= n/2, v in {27,28},
 * non-zero address. */
tkms_secp_result tkms_secp_recover(const uint8_t digest[32], const uint8_t sig[65],
                                   uint8_t addr[20]);
/* EIP-191 personal_sign digest: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ msg). */
void tkms_eip191_digest(const void *msg, size_t len, uint8_t out[32]);
#endif
