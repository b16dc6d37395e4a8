/* src/attest/json.h — a small, strict, bounded JSON reader for signed
 * collateral (Intel TCB info, QE identity). The trusted core links no JSON
 * library, and the signed documents must be read exactly as signed, so this
 * reader tokenises in place: every token records its raw byte extent in the
 * input, which lets a caller slice the exact bytes a signature covers.
 *
 * Strict (RFC 8259): one value, optional surrounding whitespace, nothing else;
 * no comments, no trailing commas, no leading zeros, no control characters in
 * strings, valid escapes and UTF-8, no duplicate keys in an object.
 * Bounded: input length, nesting depth and token count are limited; recursion
 * depth equals nesting depth. Nothing is allocated except the token array. */
#ifndef TKMS_ATTEST_JSON_H
#define TKMS_ATTEST_JSON_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_SJSON_MAX_LEN (1u << 20) /* 1 MiB: Intel documents are ~5 KiB */
#define TKMS_SJSON_MAX_DEPTH 16u
#define TKMS_SJSON_MAX_TOKENS 8192u

enum {
  TKMS_SJSON_OBJECT = 1,
  TKMS_SJSON_ARRAY,
  TKMS_SJSON_STRING,
  TKMS_SJSON_NUMBER,
  TKMS_SJSON_TRUE,
  TKMS_SJSON_FALSE,
  TKMS_SJSON_NULL,
};

/* One value (or object key). start/end: raw extent in the input, [start, end),
 * quotes included for strings. size: members of an object (key/value pairs) or
 * elements of an array. next: index of the first token after this value's
 * subtree. An object's children are key, value, key, value, ... */
typedef struct {
  uint8_t type;
  uint32_t start, end;
  uint32_t size;
  uint32_t next;
} tkms_sjson_tok;

typedef struct {
  const char *s;
  size_t len;
  tkms_sjson_tok *tok;
  size_t n;
} tkms_sjson;

/* Parses s[0..len). Returns 0, or -1 if the text is not strict JSON or exceeds a
 * bound (j is then empty). Token 0 is the top-level value. j->s points into
 * the caller's buffer, which must outlive j. */
int tkms_sjson_parse(tkms_sjson *j, const char *s, size_t len);
void tkms_sjson_free(tkms_sjson *j);

/* Value token of key in object token obj, or -1 (also if obj is no object).
 * Keys are compared byte for byte with their raw (unescaped) text. */
int tkms_sjson_get(const tkms_sjson *j, int obj, const char *key);
/* Element i of array token arr, or -1. */
int tkms_sjson_at(const tkms_sjson *j, int arr, size_t i);
/* The contents of string token t without quotes; refuses strings with escapes
 * (the fields read from Intel documents never need them). 0 or -1. */
int tkms_sjson_str(const tkms_sjson *j, int t, const char **p, size_t *len);
/* 1 if string token t equals the NUL-terminated s exactly. */
int tkms_sjson_str_eq(const tkms_sjson *j, int t, const char *s);
/* A non-negative integer without fraction or exponent, <= max. 0 or -1. */
int tkms_sjson_uint(const tkms_sjson *j, int t, uint64_t max, uint64_t *v);
/* Hex string token of exactly out_len bytes (either case). 0 or -1. */
int tkms_sjson_hex(const tkms_sjson *j, int t, uint8_t *out, size_t out_len);
#endif
