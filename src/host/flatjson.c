/* src/host/flatjson.c — the strict flat-object parser; see flatjson.h. */
#include "host/flatjson.h"

#include <string.h>

static size_t skip_ws(const char *b, size_t len, size_t i) {
  while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) i++;
  return i;
}

/* A string at b[i] == '"': its contents [*s, *s + *n), and the index after
 * the closing quote; 0 if it is not in the subset. */
static size_t string_at(const char *b, size_t len, size_t i, const char **s, size_t *n) {
  if (i >= len || b[i] != '"') return 0;
  size_t start = ++i;
  while (i < len) {
    unsigned char c = (unsigned char)b[i];
    if (c == '"') {
      *s = b + start;
      *n = i - start;
      return i + 1;
    }
    if (c < 0x20 || c > 0x7e || c == '\\') return 0;
    i++;
  }
  return 0;
}

/* An integer at b[i]: its value and the index after it; 0 if not in the
 * subset. */
static size_t uint_at(const char *b, size_t len, size_t i, uint64_t *v) {
  if (i >= len || b[i] < '0' || b[i] > '9') return 0;
  if (b[i] == '0') {
    i++;
    if (i < len && b[i] >= '0' && b[i] <= '9') return 0; /* a leading zero */
    *v = 0;
  } else {
    uint64_t x = 0;
    while (i < len && b[i] >= '0' && b[i] <= '9') {
      unsigned d = (unsigned)(b[i] - '0');
      if (x > (UINT64_C(0x7fffffffffffffff) - d) / 10) return 0; /* > 2^63 - 1 */
      x = x * 10 + d;
      i++;
    }
    *v = x;
  }
  /* A fraction or an exponent is JSON, but not in the subset. */
  if (i < len && (b[i] == '.' || b[i] == 'e' || b[i] == 'E')) return 0;
  return i;
}

int tkms_fj_parse(const char *b, size_t len, tkms_fj *out) {
  out->n = 0;
  size_t i = skip_ws(b, len, 0);
  if (i >= len || b[i] != '{') return -1;
  i = skip_ws(b, len, i + 1);
  if (i < len && b[i] == '}') {
    i = skip_ws(b, len, i + 1);
    return i == len ? 0 : -1;
  }
  for (;;) {
    if (out->n == TKMS_FJ_MAX) return -1;
    tkms_fj_member *m = &out->m[out->n];
    memset(m, 0, sizeof *m);
    size_t j = string_at(b, len, i, &m->name, &m->name_len);
    if (j == 0) return -1;
    for (size_t k = 0; k < out->n; k++) {
      if (out->m[k].name_len == m->name_len && memcmp(out->m[k].name, m->name, m->name_len) == 0)
        return -1; /* a duplicate: jansson's error */
    }
    i = skip_ws(b, len, j);
    if (i >= len || b[i] != ':') return -1;
    i = skip_ws(b, len, i + 1);
    if (i < len && b[i] == '"') {
      m->is_str = 1;
      j = string_at(b, len, i, &m->str, &m->str_len);
    } else {
      j = uint_at(b, len, i, &m->num);
    }
    if (j == 0) return -1;
    out->n++;
    i = skip_ws(b, len, j);
    if (i >= len) return -1;
    if (b[i] == '}') break;
    if (b[i] != ',') return -1;
    i = skip_ws(b, len, i + 1);
  }
  i = skip_ws(b, len, i + 1);
  return i == len ? 0 : -1;
}

const tkms_fj_member *tkms_fj_get(const tkms_fj *o, const char *name) {
  size_t n = strlen(name);
  for (size_t k = 0; k < o->n; k++) {
    if (o->m[k].name_len == n && memcmp(o->m[k].name, name, n) == 0) return &o->m[k];
  }
  return NULL;
}
