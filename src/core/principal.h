/* src/core/principal.h — who may sign requests.
 *
 *   "eoa:0x<40 lowercase hex>"      an Ethereum account: signs the EIP-712 digest
 *   "ed25519:0x<64 lowercase hex>"  an Ed25519 public key: signs the 66-byte preimage
 *   "x25519:0x<64 lowercase hex>"   a client X25519 public key: ONLY a session key of a
 *                                   MAC session (tkms_principal_parse_session_key); it
 *                                   authenticates with an HMAC under a key it shares
 *                                   with the core, so it can never own anything
 *
 * Exactly one spelling per principal (lower case, 0x prefix) so that string
 * comparison of owners is identity comparison, and so that an owner hashed into a
 * signed request or a deletion receipt has one form. */
#ifndef TKMS_CORE_PRINCIPAL_H
#define TKMS_CORE_PRINCIPAL_H
#include <stddef.h>
#include <stdint.h>

#include "proto/ops.h"

typedef enum {
  TKMS_PRINCIPAL_EOA = 1,
  TKMS_PRINCIPAL_ED25519 = 2,
  TKMS_PRINCIPAL_X25519 = 3, /* session keys only */
} tkms_principal_kind;

typedef struct {
  tkms_principal_kind kind;
  uint8_t id[32]; /* eoa: 20-byte address; ed25519, x25519: 32-byte public key */
  size_t id_len;
  char text[TKMS_MAX_PRINCIPAL + 1]; /* the canonical spelling */
} tkms_principal;

/* Parses a canonical principal that may own keys and sign: eoa or ed25519.
 * Returns 0, or -1 for any other form or case -- "x25519:" included. */
int tkms_principal_parse(const char *s, tkms_principal *out);
/* Parses a session key: what tkms_principal_parse accepts, or "x25519:0x<64 hex>"
 * (a MAC session). Only OpenSession's session_key and a session record's key use
 * it. The point is not checked here: the session open does (low order). */
int tkms_principal_parse_session_key(const char *s, tkms_principal *out);
/* The principal of an Ethereum address. */
void tkms_principal_eoa(const uint8_t addr[20], tkms_principal *out);
#endif
