/* src/proto/hex.h — 0x-prefixed lowercase hex, the JSON encoding of binary data. */
#ifndef TKMS_PROTO_HEX_H
#define TKMS_PROTO_HEX_H
#include <stddef.h>
#include <stdint.h>

/* Writes "0x" + 2n lowercase hex digits + NUL; out must hold 2n + 3 bytes. */
void tkms_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes "0x"-prefixed hex (either case) of exactly n bytes. Returns 0 or -1. */
int tkms_hex_decode_exact(const char *s, uint8_t *out, size_t n);
/* Decodes "0x"-prefixed hex of at most max bytes; *n gets the length.
 * An odd number of digits is an error. Returns 0 or -1. */
int tkms_hex_decode(const char *s, uint8_t *out, size_t max, size_t *n);
/* The same for the len characters at s (no NUL needed). */
int tkms_hex_decode_len(const char *s, size_t len, uint8_t *out, size_t max, size_t *n);
#endif
