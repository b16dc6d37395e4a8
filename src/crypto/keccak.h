/* src/crypto/keccak.h — Keccak-256 as Ethereum uses it (pad 0x01..0x80, not SHA3's 0x06).
 * Pure functions, no I/O. */
#ifndef TKMS_CRYPTO_KECCAK_H
#define TKMS_CRYPTO_KECCAK_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_KECCAK256_BYTES 32u

typedef struct {
  uint64_t st[25];
  size_t pos; /* bytes absorbed into the current block */
} tkms_keccak_ctx;

void tkms_keccak256_init(tkms_keccak_ctx *c);
void tkms_keccak256_update(tkms_keccak_ctx *c, const void *in, size_t len);
/* Writes the digest and wipes the context. */
void tkms_keccak256_final(tkms_keccak_ctx *c, uint8_t out[32]);
/* One shot. */
void tkms_keccak256(const void *in, size_t len, uint8_t out[32]);
#endif
