/* src/core/keys.h — the key types the core holds and what each can sign.
 *
 *   secp256k1  secret = the scalar (32 bytes); public key 33 bytes compressed;
 *              modes "digest" (payload is exactly the 32-byte digest) and
 *              "personal" (EIP-191 personal_sign digest of the payload);
 *              signature 65 bytes r|s|v, low-s, v = 27/28.
 *   ed25519    secret = the 32-byte seed; public key 32 bytes; mode "message";
 *              signature 64 bytes.
 *   bn254      (EigenLayer BLS) secret = sk, 32 bytes big-endian, 1 <= sk < r;
 *              public key 192 bytes = G1 pk (x || y, 64) || G2 pk (128, precompile
 *              order x_imag || x_real || y_imag || y_real); owners are eoa: only.
 *              Modes "bn254_g1_mul" (payload a G1 point P), "bn254_hash" (payload a
 *              32-byte hash h, P = hashToG1(h)) and "avs_registration" (payload
 *              chain_id (32) || registry coordinator (20), P = EigenLayer's
 *              pubkeyRegistrationMessageHash(owner)); signature sk * P, 64 bytes.
 *              P is public and is computed by tkms_bn254_mode_point before the
 *              secret is opened; tkms_key_sign_bn254 only multiplies.
 * Secrets passed in and out are in locked memory owned by the caller. */
#ifndef TKMS_CORE_KEYS_H
#define TKMS_CORE_KEYS_H
#include <stddef.h>
#include <stdint.h>

enum { TKMS_KEYTYPE_SECP256K1 = 1, TKMS_KEYTYPE_ED25519 = 2, TKMS_KEYTYPE_BN254 = 3 };
enum {
  TKMS_MODE_DIGEST = 1,
  TKMS_MODE_PERSONAL = 2,
  TKMS_MODE_MESSAGE = 3,
  TKMS_MODE_BN254_G1_MUL = 4,
  TKMS_MODE_BN254_HASH = 5,
  TKMS_MODE_AVS_REGISTRATION = 6,
};

#define TKMS_KEY_SECRET_BYTES 32u
#define TKMS_KEY_SIG_MAX 65u
#define TKMS_KEY_PUB_MAX 192u             /* bn254: G1 || G2 */
#define TKMS_AVS_REGISTRATION_PAYLOAD 52u /* chain_id (32) || coordinator (20) */

/* "secp256k1" | "ed25519" | "bn254" -> TKMS_KEYTYPE_*, or 0. */
int tkms_keytype_parse(const char *s);
const char *tkms_keytype_name(int type);
/* 33, 32 or 192; 0 for an unknown type. */
size_t tkms_key_pub_len(int type);
/* "digest" | "personal" | "message" | "bn254_g1_mul" | "bn254_hash" |
 * "avs_registration" -> TKMS_MODE_*, or 0. */
int tkms_mode_parse(const char *s);
/* 1 if the key type has this mode. */
int tkms_mode_allowed(int type, int mode);

/* New random secret; pub gets tkms_key_pub_len(type) bytes; addr (secp256k1
 * only, may be NULL) the Ethereum address. Returns 0 or -1. */
int tkms_key_generate(int type, uint8_t secret[32], uint8_t *pub, uint8_t addr[20]);
/* Public key and address of an existing secret. Returns 0 or -1. */
int tkms_key_public(int type, const uint8_t secret[32], uint8_t *pub, uint8_t addr[20]);
/* Signs payload in mode with a secp256k1 or ed25519 key; sig gets *sig_len bytes
 * (65 or 64). The caller has checked tkms_mode_allowed and the payload length for
 * "digest". bn254 keys use the two functions below. Returns 0 or -1. */
int tkms_key_sign(int type, int mode, const uint8_t secret[32], const uint8_t *payload,
                  size_t payload_len, uint8_t sig[TKMS_KEY_SIG_MAX], size_t *sig_len);

/* The public G1 point a bn254 mode multiplies the secret by, from public inputs
 * only: the validated payload point (bn254_g1_mul), hashToG1(payload)
 * (bn254_hash), or the registration message hash of `owner` (avs_registration:
 * the key's owner address from its sealed record, never from the client).
 * Returns 0, or -1 with *why naming the failed check (a client error). */
int tkms_bn254_mode_point(int mode, const uint8_t *payload, size_t payload_len,
                          const uint8_t owner[20], uint8_t point[64], const char **why);
/* sig = sk * point, constant time in sk. point must be valid (from
 * tkms_bn254_mode_point). Returns 0 or -1. */
int tkms_key_sign_bn254(const uint8_t secret[32], const uint8_t point[64], uint8_t sig[64]);
#endif
