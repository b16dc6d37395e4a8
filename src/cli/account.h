/* src/cli/account.h — local development accounts: the principal a CLI user signs
 * requests with. A secp256k1 account is an Ethereum EOA (principal "eoa:0x<addr>");
 * an Ed25519 account is principal "ed25519:0x<public key>".
 *
 * The secret lives in sodium_malloc'd memory (guard pages, locked, wiped on free)
 * and never leaves this file except into the 0600 account file. */
#ifndef TKMS_CLI_ACCOUNT_H
#define TKMS_CLI_ACCOUNT_H
#include <stddef.h>
#include <stdint.h>

#include "crypto/eip712.h"

typedef enum {
  TKMS_CLI_ACCOUNT_SECP256K1 = 1,
  TKMS_CLI_ACCOUNT_ED25519 = 2,
} tkms_cli_account_type;

/* "ed25519:0x" + 64 hex digits + NUL */
#define TKMS_CLI_PRINCIPAL_MAX 80u
#define TKMS_CLI_ACCOUNT_SIG_MAX 65u

typedef struct {
  tkms_cli_account_type type;
  uint8_t *secret;        /* secp256k1: 32-byte key; ed25519: libsodium's 64-byte sk */
  uint8_t public_key[33]; /* secp256k1: compressed (33); ed25519: 32 */
  size_t public_key_len;
  uint8_t address[20]; /* secp256k1 only */
  char principal[TKMS_CLI_PRINCIPAL_MAX];
  char display[TKMS_CLI_PRINCIPAL_MAX]; /* what `dev-account` prints: address or public key */
} tkms_cli_account;

/* Parses "secp256k1" / "ed25519". Returns 0 or -1. */
int tkms_cli_account_type_parse(const char *s, tkms_cli_account_type *t);

/* A fresh random account. Returns 0, or -1 after printing why. */
int tkms_cli_account_generate(tkms_cli_account_type t, tkms_cli_account *a);

/* Writes the account to a new file (mode 0600; refuses to overwrite).
 * Returns 0, or -1 after printing why. */
int tkms_cli_account_save(const tkms_cli_account *a, const char *path);

/* Loads and checks an account file (the stored address / public key must match
 * the private key). Returns 0, or -1 after printing why. */
int tkms_cli_account_load(const char *path, tkms_cli_account *a);

/* Signs an EIP-712 preimage (0x19 0x01 ‖ domainSeparator ‖ hashStruct) the way
 * the account's principal signs requests: an EOA signs keccak256(preimage)
 * (65 bytes r‖s‖v, v 27/28, low-s); Ed25519 signs the 66 bytes (64-byte signature).
 * Returns 0, or -1 after printing why. */
int tkms_cli_account_sign(const tkms_cli_account *a,
                          const uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES],
                          uint8_t sig[TKMS_CLI_ACCOUNT_SIG_MAX], size_t *sig_len);

/* Wipes and frees the secret; safe on a zeroed or already-freed account. */
void tkms_cli_account_free(tkms_cli_account *a);
#endif
