/* tests/unit/typed_data.h — a generic EIP-712 typed-data encoder for tests,
 * reading the JSON form wallets use ({types, primaryType, domain, message})
 * and built only on the src/crypto/eip712.h primitives. Strict: unknown types,
 * missing or extra fields, out-of-range integers and wrong lengths fail. */
#ifndef TKMS_TESTS_TYPED_DATA_H
#define TKMS_TESTS_TYPED_DATA_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* encodeType(primary): primary first, then every struct it references,
 * directly or not, sorted by name. malloc'd string. Returns 0 or -1. */
int td_encode_type(json_t *types, const char *primary, char **out);
/* typeHash ‖ encodeData(value) as a malloc'd buffer (geth calls it "encoded"). */
int td_encode_data(json_t *types, const char *type, json_t *value, uint8_t **out, size_t *len);
/* hashStruct(value) under types[type]. */
int td_hash_struct(json_t *types, const char *type, json_t *value, uint8_t out[32]);
/* The signing digest of a whole typed-data object; the message is taken from
 * "message" or, as in geth's test data, "data". Returns 0 or -1. */
int td_digest(json_t *typed_data, uint8_t out[32]);
#endif
