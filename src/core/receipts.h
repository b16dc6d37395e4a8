/* src/core/receipts.h — deletion receipts signed by the deployment identity.
 *
 * EIP-712 DeletionReceipt(bytes16 keyId,string owner,uint32 version,
 *                         uint64 destroyedAt,bytes32 requestId)
 * in the deployment's domain (name "tkms", version "1", salt), signed with the
 * identity key (65 bytes r|s|v). Anyone can check it offline against the
 * identity address from STATUS / /v1/health. */
#ifndef TKMS_CORE_RECEIPTS_H
#define TKMS_CORE_RECEIPTS_H
#include <stdint.h>

#include "core/hierarchy.h"

typedef struct {
  uint8_t key_id[16];
  const char *owner;
  uint32_t version;
  uint64_t destroyed_at;
  uint8_t request_id[32];
} tkms_receipt;

/* The EIP-712 digest of a receipt in a domain. */
void tkms_receipt_digest(const uint8_t domain_sep[32], const tkms_receipt *r, uint8_t out[32]);
/* Signs it with the identity key. Returns 0 or -1. */
int tkms_receipt_sign(const tkms_secrets *sec, const tkms_deployment *dep, const tkms_receipt *r,
                      uint8_t sig[65]);
#endif
