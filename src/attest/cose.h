/* src/attest/cose.h — internal: bounded CBOR and COSE_Sign1 (RFC 9052) for nitro.c.
 *
 * libcbor decodes; before it sees a byte, tkms_cbor_check walks the encoding with
 * explicit limits (size, nesting, item count, no indefinite lengths, no trailing
 * bytes), so a declared length can never make libcbor allocate more than the
 * input could hold. */
#ifndef TKMS_ATTEST_COSE_H
#define TKMS_ATTEST_COSE_H
#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

#define TKMS_CBOR_MAX_DEPTH 4u
#define TKMS_CBOR_MAX_ITEMS 512u

/* 0 if buf is exactly one well-formed, definite-length CBOR item of at most
 * max_depth nested arrays/maps/tags and max_items items; -1 otherwise. */
int tkms_cbor_check(const uint8_t *buf, size_t len, unsigned max_depth, size_t max_items);

/* tkms_cbor_check, then cbor_load. NULL if either refuses. cbor_decref the result. */
cbor_item_t *tkms_cbor_load(const uint8_t *buf, size_t len);

/* The value of text key `key` in a definite map, or NULL if absent. *dup is set
 * if the key occurs more than once (callers refuse that: ambiguous). */
cbor_item_t *tkms_cbor_map_text(const cbor_item_t *map, const char *key, int *dup);

/* Unsigned or negative integer as int64 (0 or -1). */
int tkms_cbor_int(const cbor_item_t *it, int64_t *out);

/* A parsed COSE_Sign1: [protected bstr, unprotected map, payload bstr, signature
 * bstr], tagged 18 or untagged. The pointers point into `root`. */
typedef struct {
  cbor_item_t *root;
  const uint8_t *protected_hdr;
  size_t protected_len;
  const uint8_t *payload;
  size_t payload_len;
  const uint8_t *signature;
  size_t signature_len;
  int64_t alg; /* protected header label 1; 0 if absent */
} tkms_cose_sign1;

/* 0 or -1 (not a COSE_Sign1 within the limits). On 0, free with tkms_cose_sign1_free. */
int tkms_cose_sign1_parse(const uint8_t *buf, size_t len, tkms_cose_sign1 *out);
void tkms_cose_sign1_free(tkms_cose_sign1 *m);

/* Sig_structure = ["Signature1", protected, h'', payload], CBOR-encoded into a
 * malloc'd buffer. 0 or -1. */
int tkms_cose_sig_structure(const tkms_cose_sign1 *m, uint8_t **out, size_t *out_len);

#define TKMS_COSE_ALG_ES384 (-35)
#endif
