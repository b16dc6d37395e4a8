/* tests/unit/vectors.c — locating and loading ../shared/vectors/. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tests run from the repository root, next to which the shared directory sits. */
#define TV_DEFAULT_DIR "../shared/vectors"

char *tv_path(const char *rel) {
  const char *dir = getenv("TKMS_VECTORS");
  if (dir == NULL || *dir == '\0') dir = TV_DEFAULT_DIR;
  size_t n = strlen(dir) + 1 + strlen(rel) + 1;
  char *p = malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", dir, rel);
  return p;
}

int tv_read(const char *rel, uint8_t **buf, size_t *len) {
  char *path = tv_path(rel);
  FILE *f = path != NULL ? fopen(path, "rb") : NULL;
  int rc = -1;
  *buf = NULL;
  *len = 0;
  if (f == NULL) {
    fprintf(stderr, "vectors: cannot open %s (set TKMS_VECTORS?)\n", path ? path : rel);
    free(path);
    return -1;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = malloc(cap + 1);
  while (b != NULL) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t *nb = realloc(b, cap * 2 + 1);
    if (nb == NULL) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  if (b != NULL && !ferror(f)) {
    b[n] = 0;
    *buf = b;
    *len = n;
    rc = 0;
  } else {
    free(b);
  }
  fclose(f);
  free(path);
  return rc;
}

json_t *tv_json(const char *rel) {
  uint8_t *buf;
  size_t len;
  if (tv_read(rel, &buf, &len) != 0) return NULL;
  json_error_t err;
  json_t *j = json_loadb((const char *)buf, len, 0, &err);
  if (j == NULL) fprintf(stderr, "vectors: %s:%d: %s\n", rel, err.line, err.text);
  free(buf);
  return j;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static const char *skip_0x(const char *hex) {
  return (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) ? hex + 2 : hex;
}

static int hex_decode(const char *h, size_t nbytes, uint8_t *out) {
  for (size_t i = 0; i < nbytes; i++) {
    int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

int tv_hex(const char *hex, uint8_t *out, size_t out_len) {
  const char *h = skip_0x(hex);
  if (strlen(h) != 2 * out_len) return -1;
  return hex_decode(h, out_len, out);
}

int tv_hex_alloc(const char *hex, uint8_t **out, size_t *out_len) {
  const char *h = skip_0x(hex);
  size_t n = strlen(h);
  *out = NULL;
  *out_len = 0;
  if (n % 2 != 0) return -1;
  uint8_t *b = malloc(n / 2 + 1);
  if (b == NULL) return -1;
  if (hex_decode(h, n / 2, b) != 0) {
    free(b);
    return -1;
  }
  *out = b;
  *out_len = n / 2;
  return 0;
}
