/* src/attest/json.c — strict bounded JSON tokeniser (see json.h). */
#include "attest/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const unsigned char *s;
  size_t len, pos;
  tkms_sjson_tok *tok;
  size_t n, cap;
} parser;

static void skip_ws(parser *p) {
  while (p->pos < p->len) {
    unsigned char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

/* Appends a token; returns its index or -1 when the token bound is reached. */
static long new_tok(parser *p, uint8_t type) {
  if (p->n >= TKMS_SJSON_MAX_TOKENS) return -1;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    if (cap > TKMS_SJSON_MAX_TOKENS) cap = TKMS_SJSON_MAX_TOKENS;
    tkms_sjson_tok *t = realloc(p->tok, cap * sizeof *t);
    if (t == NULL) return -1;
    p->tok = t;
    p->cap = cap;
  }
  tkms_sjson_tok *t = &p->tok[p->n];
  memset(t, 0, sizeof *t);
  t->type = type;
  t->start = (uint32_t)p->pos;
  return (long)p->n++;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* One UTF-8 sequence starting at p->pos (first byte >= 0x80): well-formed,
 * shortest form, no surrogates, <= U+10FFFF. */
static int utf8_seq(parser *p) {
  const unsigned char *s = p->s + p->pos;
  size_t left = p->len - p->pos;
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return -1;
  }
  if (left < n) return -1;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  p->pos += n;
  return 0;
}

static int parse_string(parser *p, long *idx) {
  long t = new_tok(p, TKMS_SJSON_STRING);
  if (t < 0) return -1;
  p->pos++; /* opening quote */
  for (;;) {
    if (p->pos >= p->len) return -1;
    unsigned char c = p->s[p->pos];
    if (c == '"') {
      p->pos++;
      break;
    }
    if (c < 0x20) return -1;
    if (c == '\\') {
      if (p->pos + 1 >= p->len) return -1;
      unsigned char e = p->s[p->pos + 1];
      if (e == 'u') {
        if (p->len - p->pos < 6) return -1;
        for (size_t i = 2; i < 6; i++)
          if (hexval(p->s[p->pos + i]) < 0) return -1;
        p->pos += 6;
      } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
        p->pos += 2;
      } else {
        return -1;
      }
    } else if (c >= 0x80) {
      if (utf8_seq(p) != 0) return -1;
    } else {
      p->pos++;
    }
  }
  p->tok[t].end = (uint32_t)p->pos;
  p->tok[t].next = (uint32_t)p->n;
  *idx = t;
  return 0;
}

static int digits(parser *p) {
  size_t s = p->pos;
  while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  return p->pos > s ? 0 : -1;
}

static int parse_number(parser *p) {
  long t = new_tok(p, TKMS_SJSON_NUMBER);
  if (t < 0) return -1;
  if (p->pos < p->len && p->s[p->pos] == '-') p->pos++;
  if (p->pos >= p->len) return -1;
  if (p->s[p->pos] == '0') {
    p->pos++;
  } else if (digits(p) != 0) {
    return -1;
  }
  if (p->pos < p->len && p->s[p->pos] == '.') {
    p->pos++;
    if (digits(p) != 0) return -1;
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    if (digits(p) != 0) return -1;
  }
  p->tok[t].end = (uint32_t)p->pos;
  p->tok[t].next = (uint32_t)p->n;
  return 0;
}

static int parse_literal(parser *p, const char *lit, uint8_t type) {
  size_t n = strlen(lit);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0) return -1;
  long t = new_tok(p, type);
  if (t < 0) return -1;
  p->pos += n;
  p->tok[t].end = (uint32_t)p->pos;
  p->tok[t].next = (uint32_t)p->n;
  return 0;
}

static int same_key(const parser *p, size_t a, size_t b) {
  const tkms_sjson_tok *x = &p->tok[a], *y = &p->tok[b];
  return x->end - x->start == y->end - y->start &&
         memcmp(p->s + x->start, p->s + y->start, x->end - x->start) == 0;
}

static int parse_value(parser *p, unsigned depth);

static int parse_container(parser *p, unsigned depth, int is_obj) {
  if (depth >= TKMS_SJSON_MAX_DEPTH) return -1;
  long t = new_tok(p, is_obj ? TKMS_SJSON_OBJECT : TKMS_SJSON_ARRAY);
  if (t < 0) return -1;
  p->pos++; /* { or [ */
  skip_ws(p);
  char close = is_obj ? '}' : ']';
  uint32_t count = 0;
  if (p->pos < p->len && p->s[p->pos] == close) {
    p->pos++;
  } else {
    for (;;) {
      skip_ws(p);
      if (is_obj) {
        long k;
        if (p->pos >= p->len || p->s[p->pos] != '"' || parse_string(p, &k) != 0) return -1;
        /* Duplicate keys make a document mean different things to different
         * readers; refuse them. Compare with the earlier keys of this object. */
        size_t prev = (size_t)t + 1;
        for (uint32_t i = 0; i < count; i++) {
          if (same_key(p, prev, (size_t)k)) return -1;
          prev = p->tok[prev + 1].next; /* skip the value to the next key */
        }
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') return -1;
        p->pos++;
        skip_ws(p);
      }
      if (parse_value(p, depth + 1) != 0) return -1;
      count++;
      skip_ws(p);
      if (p->pos >= p->len) return -1;
      if (p->s[p->pos] == ',') {
        p->pos++;
        continue;
      }
      if (p->s[p->pos] == close) {
        p->pos++;
        break;
      }
      return -1;
    }
  }
  p->tok[t].end = (uint32_t)p->pos;
  p->tok[t].size = count;
  p->tok[t].next = (uint32_t)p->n;
  return 0;
}

static int parse_value(parser *p, unsigned depth) {
  if (p->pos >= p->len) return -1;
  long k;
  switch (p->s[p->pos]) {
    case '{':
      return parse_container(p, depth, 1);
    case '[':
      return parse_container(p, depth, 0);
    case '"':
      return parse_string(p, &k);
    case 't':
      return parse_literal(p, "true", TKMS_SJSON_TRUE);
    case 'f':
      return parse_literal(p, "false", TKMS_SJSON_FALSE);
    case 'n':
      return parse_literal(p, "null", TKMS_SJSON_NULL);
    default:
      return parse_number(p);
  }
}

int tkms_sjson_parse(tkms_sjson *j, const char *s, size_t len) {
  memset(j, 0, sizeof *j);
  if (s == NULL || len == 0 || len > TKMS_SJSON_MAX_LEN) return -1;
  parser p = {.s = (const unsigned char *)s, .len = len};
  skip_ws(&p);
  int rc = parse_value(&p, 0);
  if (rc == 0) {
    skip_ws(&p);
    if (p.pos != p.len) rc = -1;
  }
  if (rc != 0) {
    free(p.tok);
    return -1;
  }
  j->s = s;
  j->len = len;
  j->tok = p.tok;
  j->n = p.n;
  return 0;
}

void tkms_sjson_free(tkms_sjson *j) {
  free(j->tok);
  memset(j, 0, sizeof *j);
}

static int valid(const tkms_sjson *j, int t) {
  return j != NULL && t >= 0 && (size_t)t < j->n;
}

int tkms_sjson_get(const tkms_sjson *j, int obj, const char *key) {
  if (!valid(j, obj) || j->tok[obj].type != TKMS_SJSON_OBJECT) return -1;
  size_t klen = strlen(key);
  size_t k = (size_t)obj + 1;
  for (uint32_t i = 0; i < j->tok[obj].size; i++) {
    const tkms_sjson_tok *kt = &j->tok[k];
    if (kt->end - kt->start == klen + 2 && memcmp(j->s + kt->start + 1, key, klen) == 0)
      return (int)(k + 1);
    k = j->tok[k + 1].next;
  }
  return -1;
}

int tkms_sjson_at(const tkms_sjson *j, int arr, size_t i) {
  if (!valid(j, arr) || j->tok[arr].type != TKMS_SJSON_ARRAY || i >= j->tok[arr].size) return -1;
  size_t k = (size_t)arr + 1;
  while (i-- > 0) k = j->tok[k].next;
  return (int)k;
}

int tkms_sjson_str(const tkms_sjson *j, int t, const char **p, size_t *len) {
  if (!valid(j, t) || j->tok[t].type != TKMS_SJSON_STRING) return -1;
  const char *s = j->s + j->tok[t].start + 1;
  size_t n = j->tok[t].end - j->tok[t].start - 2;
  if (memchr(s, '\\', n) != NULL) return -1;
  *p = s;
  *len = n;
  return 0;
}

int tkms_sjson_str_eq(const tkms_sjson *j, int t, const char *s) {
  const char *v;
  size_t n;
  if (tkms_sjson_str(j, t, &v, &n) != 0) return 0;
  return n == strlen(s) && memcmp(v, s, n) == 0;
}

int tkms_sjson_uint(const tkms_sjson *j, int t, uint64_t max, uint64_t *v) {
  if (!valid(j, t) || j->tok[t].type != TKMS_SJSON_NUMBER) return -1;
  uint64_t x = 0;
  for (uint32_t i = j->tok[t].start; i < j->tok[t].end; i++) {
    char c = j->s[i];
    if (c < '0' || c > '9') return -1; /* sign, fraction or exponent */
    uint64_t d = (uint64_t)(c - '0');
    if (d > max || x > (max - d) / 10) return -1;
    x = x * 10 + d;
  }
  *v = x;
  return 0;
}

int tkms_sjson_hex(const tkms_sjson *j, int t, uint8_t *out, size_t out_len) {
  const char *s;
  size_t n;
  if (tkms_sjson_str(j, t, &s, &n) != 0 || n != 2 * out_len) return -1;
  for (size_t i = 0; i < out_len; i++) {
    int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
