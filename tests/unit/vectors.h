/* tests/unit/vectors.h — finding and reading the shared test vectors.
 * The vectors live outside the repository (../shared/vectors/ from the repo
 * root, or $TKMS_VECTORS) and are never copied into it. */
#ifndef TKMS_TESTS_VECTORS_H
#define TKMS_TESTS_VECTORS_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Path of a file under the vectors directory; malloc'd, or NULL. */
char *tv_path(const char *rel);
/* Whole file, malloc'd (NUL-terminated for convenience; *len excludes the NUL).
 * Returns 0 or -1. */
int tv_read(const char *rel, uint8_t **buf, size_t *len);
/* Parsed JSON file, or NULL (with a message on stderr). Caller json_decref()s. */
json_t *tv_json(const char *rel);

/* Hex (optional 0x prefix, either case) of exactly out_len bytes. 0 or -1. */
int tv_hex(const char *hex, uint8_t *out, size_t out_len);
/* Hex of any even length into a malloc'd buffer (non-NULL even when empty). 0 or -1. */
int tv_hex_alloc(const char *hex, uint8_t **out, size_t *out_len);
#endif
