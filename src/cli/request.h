/* src/cli/request.h — EIP-712 typed data for tkms requests and receipts: the
 * hashing (from the type table in proto/requests.h) and the signed envelope.
 *
 * Field values are given in the order of the type's fields. Encoding follows
 * EIP-712: string/bytes → keccak256 of the content; bytesN → exactly N bytes,
 * right-padded; uintN → big-endian, left-padded, must fit in N bits;
 * T[] → keccak256 of the concatenated encodings of the elements. */
#ifndef TKMS_CLI_REQUEST_H
#define TKMS_CLI_REQUEST_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/account.h"
#include "crypto/eip712.h"

/* Requests expire this long after they are made: long enough for a slow
 * network, short enough that a leaked signed request is soon useless. */
#define TKMS_CLI_DEADLINE_SECONDS 300u

typedef struct tkms_cli_value {
  const uint8_t *bytes; /* string (UTF-8), bytes, bytesN */
  size_t len;
  uint64_t num;                       /* uintN */
  const struct tkms_cli_value *elems; /* T[] */
  size_t n_elems;
} tkms_cli_value;

/* Convenience constructors. */
tkms_cli_value tkms_cli_value_str(const char *s);
tkms_cli_value tkms_cli_value_bytes(const uint8_t *b, size_t len);
tkms_cli_value tkms_cli_value_uint(uint64_t v);

/* The domain separator of EIP712Domain(string name,string version,bytes32 salt)
 * with name "tkms", version "1" and the deployment salt. */
void tkms_cli_domain_separator(const uint8_t salt[32], uint8_t out[32]);

/* hashStruct of request type rt (TKMS_RT_*) with n values. Returns 0, or -1 if n
 * does not match the type or a value does not fit its field (printed). */
int tkms_cli_hash_struct(int rt, const tkms_cli_value *vals, size_t n, uint8_t out[32]);

/* The 66-byte preimage and the digest that is signed. Returns 0 or -1 as above. */
int tkms_cli_typed_digest(const uint8_t salt[32], int rt, const tkms_cli_value *vals, size_t n,
                          uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES], uint8_t digest[32]);

/* The typed data as a wallet's eth_signTypedData_v4 takes it:
 * {"domain", "primaryType", "types" (EIP712Domain and the primary type), "message"}.
 * For `--dry-run`, so anyone can check what was signed with an independent
 * EIP-712 implementation. Returns a new object, or NULL. */
json_t *tkms_cli_typed_data_json(const uint8_t salt[32], int rt, const tkms_cli_value *vals,
                                 size_t n);

/* The replay and expiry fields of one request. */
typedef struct {
  uint8_t salt[32];       /* the deployment the request is meant for */
  uint8_t request_id[32]; /* random: the core applies a request at most once */
  uint64_t deadline;      /* unix seconds */
} tkms_cli_envelope;

/* A fresh envelope: random request_id, deadline now + TKMS_CLI_DEADLINE_SECONDS.
 * Returns 0 or -1. */
int tkms_cli_envelope_init(tkms_cli_envelope *e, const uint8_t salt[32]);

/* Signs request type rt with the account and adds request_id, deadline,
 * deployment and signature to body. vals must already contain the envelope's
 * requestId and deadline where the type has them. Returns 0, or -1 after printing why. */
int tkms_cli_request_sign(const tkms_cli_account *a, const tkms_cli_envelope *e, int rt,
                          const tkms_cli_value *vals, size_t n, json_t *body);
#endif
