/* src/proto/hex.c — hex encoding; see hex.h. */
#include "proto/hex.h"

#include <string.h>

void tkms_hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  out[0] = '0';
  out[1] = 'x';
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = digits[in[i] >> 4];
    out[3 + 2 * i] = digits[in[i] & 15];
  }
  out[2 + 2 * n] = '\0';
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int tkms_hex_decode_len(const char *s, size_t len, uint8_t *out, size_t max, size_t *n) {
  if (s == NULL || len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return -1;
  size_t digits = len - 2;
  if (digits % 2 != 0 || digits > 2 * max) return -1;
  for (size_t i = 0; i < digits / 2; i++) {
    int hi = nibble(s[2 + 2 * i]), lo = nibble(s[3 + 2 * i]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)((hi << 4) | lo);
  }
  *n = digits / 2;
  return 0;
}

int tkms_hex_decode(const char *s, uint8_t *out, size_t max, size_t *n) {
  /* One character past the longest valid string is enough to refuse it. */
  return s == NULL ? -1 : tkms_hex_decode_len(s, strnlen(s, 2 * max + 3), out, max, n);
}

int tkms_hex_decode_exact(const char *s, uint8_t *out, size_t n) {
  size_t got = 0;
  if (tkms_hex_decode(s, out, n, &got) != 0 || got != n) return -1;
  return 0;
}
