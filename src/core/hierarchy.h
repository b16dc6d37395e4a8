/* src/core/hierarchy.h — the key hierarchy under the deployment master key (DMK).
 *
 *   DMK (32 random bytes, made once at INIT; outside the core only sealed)
 *    └─ HKDF-SHA256(ikm = DMK, salt = "tkms-v1", info = label)
 *        "record-seal"        record AEAD key
 *        "manifest-seal"      manifest AEAD key
 *        "deployment-salt"    public: the EIP-712 domain salt
 *        "identity-secp256k1" deployment identity key (receipts); if the output is
 *                             not a valid secp256k1 scalar, retry with info = label ‖ u8 i
 *                             for i = 1, 2, ... (probability 2^-128 per step).
 *        "tkms-session-x25519-v1"  deployment X25519 key for MAC sessions (any 32
 *                             bytes are an X25519 secret; its public key is public)
 * Every node of a deployment derives the same keys from the same DMK. */
#ifndef TKMS_CORE_HIERARCHY_H
#define TKMS_CORE_HIERARCHY_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_DMK_BYTES 32u
#define TKMS_SEALED_DMK_BYTES (TKMS_DMK_BYTES + 40u) /* AEAD overhead */

/* Lives in sodium_malloc'd memory (locked, guard pages) and is read-only after
 * derivation; freed with tkms_secrets_free, which zeroises. */
typedef struct {
  uint8_t dmk[TKMS_DMK_BYTES];
  uint8_t record_key[32];
  uint8_t manifest_key[32];
  uint8_t identity_sk[32];
  uint8_t session_x25519_sk[32]; /* MAC sessions: X25519 with the client's key */
} tkms_secrets;

/* Public values derived from the DMK. */
typedef struct {
  uint8_t salt[32];           /* deployment salt = EIP-712 domain salt */
  uint8_t identity[20];       /* address of the identity key */
  uint8_t domain_sep[32];     /* EIP-712 domain separator (name "tkms", version "1", salt) */
  uint8_t session_x25519[32]; /* public key of session_x25519_sk (STATUS, /v1/health) */
} tkms_deployment;

/* A fresh random DMK and everything derived from it. Returns 0 or -1. */
int tkms_hierarchy_create(tkms_secrets **sec, tkms_deployment *dep);
/* Derives everything from a given DMK (copied into locked memory). Returns 0 or -1. */
int tkms_hierarchy_from_dmk(const uint8_t dmk[TKMS_DMK_BYTES], tkms_secrets **sec,
                            tkms_deployment *dep);
void tkms_secrets_free(tkms_secrets *sec);

/* The sealed DMK: AEAD(platform seal key, AD = "tkms-dmk-v1", DMK). */
int tkms_dmk_seal(const uint8_t seal_key[32], const tkms_secrets *sec,
                  uint8_t out[TKMS_SEALED_DMK_BYTES]);
/* Returns 0, or -1 if the blob does not open under this seal key. */
int tkms_dmk_open(const uint8_t seal_key[32], const uint8_t *sealed, size_t len,
                  uint8_t dmk[TKMS_DMK_BYTES]);

/* EIP712Domain(string name,string version,bytes32 salt) separator for a salt. */
void tkms_domain_separator(const uint8_t salt[32], uint8_t out[32]);
#endif
