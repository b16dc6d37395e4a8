/* src/core/principal.h — who may sign requests.
 *
 *   "eoa:0x<40 lowercase hex>"      an Ethereum account: signs the EIP-712 digest
 *   "ed25519:0x<64 lowercase hex>"  an Ed25519 public key: signs the 66-byte preimage
 *
 * Exactly one spelling per principal (lower case, 0x prefix) so that string
 * comparison of owners is identity comparison, and so that an owner hashed into a
 * signed request or a deletion receipt has one form. */
#ifndef TKMS_CORE_PRINCIPAL_H
#define TKMS_CORE_PRINCIPAL_H
#include <stddef.h>
#include <stdint.h>

#include "proto/ops.h"

typedef enum { TKMS_PRINCIPAL_EOA = 1, TKMS_PRINCIPAL_ED25519 = 2 } tkms_principal_kind;

typedef struct {
  tkms_principal_kind kind;
  uint8_t id[32]; /* eoa: 20-byte address; ed25519: 32-byte public key */
  size_t id_len;
  char text[TKMS_MAX_PRINCIPAL + 1]; /* the canonical spelling */
} tkms_principal;

/* Parses a canonical principal. Returns 0, or -1 for any other form or case. */
int tkms_principal_parse(const char *s, tkms_principal *out);
/* The principal of an Ethereum address. */
void tkms_principal_eoa(const uint8_t addr[20], tkms_principal *out);
#endif
