/* src/crypto/eip712.c — the EIP-712 word encodings and the final digest.
 * Callers assemble encodeData from these words; the type grammar lives with
 * whoever defines the types (the core's fixed request types, the tests' generic
 * JSON encoder), so this file stays small and free of parsing. */
#include "crypto/eip712.h"

#include <string.h>

#include "crypto/keccak.h"

void tkms_eip712_type_hash(const char *encode_type, uint8_t out[32]) {
  tkms_keccak256(encode_type, strlen(encode_type), out);
}

void tkms_eip712_word_uint64(uint64_t v, uint8_t w[32]) {
  memset(w, 0, TKMS_EIP712_WORD);
  for (int i = 31; i >= 24; i--) {
    w[i] = (uint8_t)v;
    v >>= 8;
  }
}

void tkms_eip712_word_address(const uint8_t addr[20], uint8_t w[32]) {
  memset(w, 0, 12);
  memcpy(w + 12, addr, 20);
}

void tkms_eip712_word_bool(int v, uint8_t w[32]) {
  tkms_eip712_word_uint64(v ? 1u : 0u, w);
}

int tkms_eip712_word_bytes_n(const uint8_t *b, size_t n, uint8_t w[32]) {
  if (n < 1 || n > TKMS_EIP712_WORD) return -1;
  memset(w, 0, TKMS_EIP712_WORD);
  memcpy(w, b, n);
  return 0;
}

void tkms_eip712_word_dynamic(const void *b, size_t n, uint8_t w[32]) {
  tkms_keccak256(b, n, w);
}

void tkms_eip712_word_array(const uint8_t (*elems)[32], size_t n, uint8_t w[32]) {
  tkms_keccak_ctx c;
  tkms_keccak256_init(&c);
  for (size_t i = 0; i < n; i++) tkms_keccak256_update(&c, elems[i], TKMS_EIP712_WORD);
  tkms_keccak256_final(&c, w);
}

void tkms_eip712_hash_struct(const uint8_t type_hash[32], const uint8_t (*words)[32], size_t n,
                             uint8_t out[32]) {
  tkms_keccak_ctx c;
  tkms_keccak256_init(&c);
  tkms_keccak256_update(&c, type_hash, TKMS_EIP712_WORD);
  for (size_t i = 0; i < n; i++) tkms_keccak256_update(&c, words[i], TKMS_EIP712_WORD);
  tkms_keccak256_final(&c, out);
}

void tkms_eip712_preimage(const uint8_t domain_sep[32], const uint8_t struct_hash[32],
                          uint8_t out[66]) {
  out[0] = 0x19;
  out[1] = 0x01;
  memcpy(out + 2, domain_sep, 32);
  memcpy(out + 34, struct_hash, 32);
}

void tkms_eip712_digest(const uint8_t domain_sep[32], const uint8_t struct_hash[32],
                        uint8_t out[32]) {
  uint8_t pre[TKMS_EIP712_PREIMAGE_BYTES];
  tkms_eip712_preimage(domain_sep, struct_hash, pre);
  tkms_keccak256(pre, sizeof pre, out);
}
