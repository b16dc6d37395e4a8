/* src/core/keys.h — the key types the core holds and what each can sign.
 *
 *   secp256k1  secret = the scalar (32 bytes); public key 33 bytes compressed;
 *              modes "digest" (payload is exactly the 32-byte digest) and
 *              "personal" (EIP-191 personal_sign digest of the payload);
 *              signature 65 bytes r|s|v, low-s, v = 27/28.
 *   ed25519    secret = the 32-byte seed; public key 32 bytes; mode "message";
 *              signature 64 bytes.
 * Secrets passed in and out are in locked memory owned by the caller. */
#ifndef TKMS_CORE_KEYS_H
#define TKMS_CORE_KEYS_H
#include <stddef.h>
#include <stdint.h>

enum { TKMS_KEYTYPE_SECP256K1 = 1, TKMS_KEYTYPE_ED25519 = 2 };
enum { TKMS_MODE_DIGEST = 1, TKMS_MODE_PERSONAL = 2, TKMS_MODE_MESSAGE = 3 };

#define TKMS_KEY_SECRET_BYTES 32u
#define TKMS_KEY_SIG_MAX 65u

/* "secp256k1" | "ed25519" -> TKMS_KEYTYPE_*, or 0. */
int tkms_keytype_parse(const char *s);
const char *tkms_keytype_name(int type);
/* 33 or 32; 0 for an unknown type. */
size_t tkms_key_pub_len(int type);
/* "digest" | "personal" | "message" -> TKMS_MODE_*, or 0. */
int tkms_mode_parse(const char *s);
/* 1 if the key type has this mode. */
int tkms_mode_allowed(int type, int mode);

/* New random secret; pub gets tkms_key_pub_len(type) bytes; addr (secp256k1
 * only, may be NULL) the Ethereum address. Returns 0 or -1. */
int tkms_key_generate(int type, uint8_t secret[32], uint8_t *pub, uint8_t addr[20]);
/* Public key and address of an existing secret. Returns 0 or -1. */
int tkms_key_public(int type, const uint8_t secret[32], uint8_t *pub, uint8_t addr[20]);
/* Signs payload in mode; sig gets *sig_len bytes (65 or 64). The caller has
 * checked tkms_mode_allowed and the payload length for "digest".
 * Returns 0 or -1. */
int tkms_key_sign(int type, int mode, const uint8_t secret[32], const uint8_t *payload,
                  size_t payload_len, uint8_t sig[TKMS_KEY_SIG_MAX], size_t *sig_len);
#endif
