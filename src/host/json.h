/* src/host/json.h — strict parsing of request bodies.
 *
 * Bodies are untrusted: before jansson sees them we bound the nesting depth
 * (a pre-scan outside strings), then require an object without duplicate
 * keys, allow only the fields a route names, and check each field's type,
 * length and hex encoding. Every refusal fills a tkms_json_err whose code is
 * an API error code ("invalid_json" or "bad_request") and whose message names
 * the offending field. */
#ifndef TKMS_HOST_JSON_H
#define TKMS_HOST_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TKMS_JSON_MAX_DEPTH 8
#define TKMS_JSON_MAX_STRING 65536u /* characters, hex included (docs/api.md Limits) */

typedef struct {
  const char *code; /* "invalid_json" | "bad_request" | "unsupported" (policy tee tpm2) */
  char message[200];
} tkms_json_err;

/* Field lookups return this when an optional field is absent. */
#define TKMS_JSON_ABSENT 1

/* Returns 0 if no bracket nesting in buf (outside strings) exceeds max_depth. */
int tkms_json_depth_ok(const char *buf, size_t len, unsigned max_depth);

/* Parses buf as one JSON object (depth <= TKMS_JSON_MAX_DEPTH, no duplicate
 * keys, no trailing data). *out gets a new reference. Returns 0 or -1. */
int tkms_json_parse_object(const char *buf, size_t len, json_t **out, tkms_json_err *e);

/* Fails naming the first member of obj not in allowed[0..n). */
int tkms_json_only_fields(const json_t *obj, const char *const *allowed, size_t n,
                          tkms_json_err *e);

/* A string of 1..max_len printable ASCII characters. *out points into obj.
 * Returns 0, TKMS_JSON_ABSENT (optional and missing) or -1. */
int tkms_json_str(const json_t *obj, const char *name, int required, size_t max_len,
                  const char **out, tkms_json_err *e);
/* 0x-prefixed hex of min..max bytes into out (capacity max). */
int tkms_json_hex(const json_t *obj, const char *name, int required, size_t min, size_t max,
                  uint8_t *out, size_t *n, tkms_json_err *e);
/* A non-negative JSON integer (not a real, not a string). */
int tkms_json_u64(const json_t *obj, const char *name, int required, uint64_t *out,
                  tkms_json_err *e);
/* An array of at most max_items elements. *out is borrowed. */
int tkms_json_array(const json_t *obj, const char *name, int required, size_t max_items,
                    json_t **out, tkms_json_err *e);

/* Element checks for arrays: name is used in messages as name[i]. */
int tkms_json_elem_str(const json_t *v, const char *name, size_t i, size_t max_len,
                       const char **out, tkms_json_err *e);
int tkms_json_elem_hex_exact(const json_t *v, const char *name, size_t i, uint8_t *out, size_t n,
                             tkms_json_err *e);

/* Validates a printable-ASCII string of 1..max_len characters (what the frame
 * codec accepts as a string field). Returns 0 or -1. */
int tkms_json_printable(const char *s, size_t max_len);

#endif
