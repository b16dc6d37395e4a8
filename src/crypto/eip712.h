/* src/crypto/eip712.h — EIP-712 hashing primitives. Pure functions.
 * hashStruct(s) = keccak256(typeHash ‖ encodeData(s)); every member of
 * encodeData is one 32-byte word built by the tkms_eip712_word_* helpers.
 * digest = keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)). */
#ifndef TKMS_CRYPTO_EIP712_H
#define TKMS_CRYPTO_EIP712_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_EIP712_WORD 32u
#define TKMS_EIP712_PREIMAGE_BYTES 66u

/* typeHash = keccak256(encodeType), e.g. "Mail(Person from,...)Person(...)". */
void tkms_eip712_type_hash(const char *encode_type, uint8_t out[32]);
/* uintN (N <= 64 here): big-endian, left-padded. */
void tkms_eip712_word_uint64(uint64_t v, uint8_t w[32]);
/* address: 20 bytes left-padded. */
void tkms_eip712_word_address(const uint8_t addr[20], uint8_t w[32]);
/* bool: 0 or 1. */
void tkms_eip712_word_bool(int v, uint8_t w[32]);
/* bytesN, 1 <= n <= 32: right-padded with zeros. Returns 0, -1 if n is out of range. */
int tkms_eip712_word_bytes_n(const uint8_t *b, size_t n, uint8_t w[32]);
/* string / bytes: keccak256 of the content. */
void tkms_eip712_word_dynamic(const void *b, size_t n, uint8_t w[32]);
/* Arrays: keccak256 of the concatenated 32-byte encodings of the elements. */
void tkms_eip712_word_array(const uint8_t (*elems)[32], size_t n, uint8_t w[32]);
/* keccak256(type_hash ‖ words[0] ‖ … ‖ words[n-1]). */
void tkms_eip712_hash_struct(const uint8_t type_hash[32], const uint8_t (*words)[32], size_t n,
                             uint8_t out[32]);
/* 0x19 0x01 ‖ domain ‖ struct (66 bytes): what an Ed25519 principal signs. */
void tkms_eip712_preimage(const uint8_t domain_sep[32], const uint8_t struct_hash[32],
                          uint8_t out[66]);
/* keccak256 of the preimage: what an EOA signs. */
void tkms_eip712_digest(const uint8_t domain_sep[32], const uint8_t struct_hash[32],
                        uint8_t out[32]);
#endif
