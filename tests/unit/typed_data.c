/* tests/unit/typed_data.c — generic EIP-712 encoder over the crypto primitives. */
#include "typed_data.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/eip712.h"
#include "vectors.h"

#define TD_MAX_DEPTH 32 /* nesting of structs and arrays in one value */
#define TD_MAX_TYPES 256

/* ---- a growable string ---- */

typedef struct {
  char *s;
  size_t len, cap;
  int failed;
} sbuf;

static void sb_add(sbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *ns = realloc(b->s, cap);
    if (ns == NULL) {
      b->failed = 1;
      return;
    }
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

/* ---- type grammar ---- */

/* The fields of a struct type, checked to be [{name, type}, ...]; NULL if
 * the name is not a struct type. */
static json_t *struct_fields(json_t *types, const char *name) {
  json_t *fields = json_object_get(types, name);
  if (!json_is_array(fields)) return NULL;
  size_t i;
  json_t *f;
  json_array_foreach(fields, i, f) {
    if (!json_is_string(json_object_get(f, "name")) ||
        !json_is_string(json_object_get(f, "type"))) {
      return NULL;
    }
  }
  return fields;
}

static const char *field_name(json_t *f) {
  return json_string_value(json_object_get(f, "name"));
}

static const char *field_type(json_t *f) {
  return json_string_value(json_object_get(f, "type"));
}

/* The type with every array suffix removed: "Person[2][]" -> "Person". */
static char *base_type(const char *type) {
  size_t n = strcspn(type, "[");
  char *b = malloc(n + 1);
  if (b != NULL) {
    memcpy(b, type, n);
    b[n] = 0;
  }
  return b;
}

typedef struct {
  char *names[TD_MAX_TYPES];
  size_t n;
} name_set;

static int set_has(const name_set *s, const char *name) {
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->names[i], name) == 0) return 1;
  }
  return 0;
}

static void set_free(name_set *s) {
  for (size_t i = 0; i < s->n; i++) free(s->names[i]);
  s->n = 0;
}

/* Every struct type reachable from name (including name). Recursive type
 * definitions are legal EIP-712, so visited types are not entered again. */
static int collect_deps(json_t *types, const char *name, name_set *s) {
  json_t *fields = struct_fields(types, name);
  if (fields == NULL || set_has(s, name)) return 0;
  if (s->n == TD_MAX_TYPES) return -1;
  s->names[s->n] = strdup(name);
  if (s->names[s->n] == NULL) return -1;
  s->n++;
  size_t i;
  json_t *f;
  json_array_foreach(fields, i, f) {
    char *b = base_type(field_type(f));
    int rc = b != NULL ? collect_deps(types, b, s) : -1;
    free(b);
    if (rc != 0) return -1;
  }
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void encode_one_type(json_t *types, const char *name, sbuf *b) {
  json_t *fields = struct_fields(types, name);
  size_t i;
  json_t *f;
  sb_add(b, name);
  sb_add(b, "(");
  json_array_foreach(fields, i, f) {
    if (i > 0) sb_add(b, ",");
    sb_add(b, field_type(f));
    sb_add(b, " ");
    sb_add(b, field_name(f));
  }
  sb_add(b, ")");
}

int td_encode_type(json_t *types, const char *primary, char **out) {
  name_set deps = {.n = 0};
  sbuf b = {0};
  *out = NULL;
  if (struct_fields(types, primary) == NULL || collect_deps(types, primary, &deps) != 0) {
    set_free(&deps);
    return -1;
  }
  /* names[0] is the primary type; only the referenced ones are sorted. */
  qsort(deps.names + 1, deps.n - 1, sizeof deps.names[0], cmp_names);
  for (size_t i = 0; i < deps.n; i++) encode_one_type(types, deps.names[i], &b);
  set_free(&deps);
  if (b.failed || b.s == NULL) {
    free(b.s);
    return -1;
  }
  *out = b.s;
  return 0;
}

/* ---- atomic values ---- */

static int parse_size(const char *s, unsigned *out) {
  unsigned v = 0;
  if (*s == '\0' || (*s == '0' && s[1] != '\0')) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 1000) return -1;
    v = v * 10 + (unsigned)(*s - '0');
  }
  *out = v;
  return 0;
}

/* mag = mag * base + digit over 256 bits; -1 on overflow. */
static int mag_mul_add(uint8_t mag[32], unsigned base, unsigned digit) {
  unsigned carry = digit;
  for (int i = 31; i >= 0; i--) {
    unsigned t = mag[i] * base + carry;
    mag[i] = (uint8_t)t;
    carry = t >> 8;
  }
  return carry == 0 ? 0 : -1;
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

/* A JSON integer, or a string in decimal or 0x-hex with an optional '-':
 * the forms wallets and geth send for uintN/intN. */
static int parse_integer(json_t *v, uint8_t mag[32], int *neg) {
  memset(mag, 0, 32);
  *neg = 0;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    uint64_t m = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    *neg = i < 0;
    for (int k = 31; k >= 24; k--, m >>= 8) mag[k] = (uint8_t)m;
    return 0;
  }
  if (!json_is_string(v)) return -1;
  const char *s = json_string_value(v);
  if (*s == '-') {
    *neg = 1;
    s++;
  }
  unsigned base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  if (*s == '\0') return -1;
  for (; *s; s++) {
    int d = digit_value(*s);
    if (d >= (int)base || mag_mul_add(mag, base, (unsigned)d) != 0) return -1;
  }
  return 0;
}

/* -1, 0, 1 as a < b, a == b, a > b (big-endian). */
static int mag_cmp(const uint8_t a[32], const uint8_t b[32]) {
  return memcmp(a, b, 32) < 0 ? -1 : memcmp(a, b, 32) > 0;
}

static int encode_integer(json_t *v, unsigned bits, int is_signed, uint8_t w[32]) {
  uint8_t mag[32], limit[32] = {0};
  int neg;
  if (bits < 8 || bits > 256 || bits % 8 != 0 || parse_integer(v, mag, &neg) != 0) return -1;
  static const uint8_t zero[32];
  if (mag_cmp(mag, zero) == 0) neg = 0; /* "-0" is 0 */
  if (!is_signed) {
    if (neg) return -1;
    /* value < 2^bits: every byte above the low bits/8 is zero */
    for (unsigned k = 0; k < 32 - bits / 8; k++) {
      if (mag[k] != 0) return -1;
    }
  } else {
    /* -2^(bits-1) <= value < 2^(bits-1) */
    limit[31 - (bits - 1) / 8] = (uint8_t)(1u << ((bits - 1) % 8));
    if (neg ? mag_cmp(mag, limit) > 0 : mag_cmp(mag, limit) >= 0) return -1;
  }
  int fits64 = 1;
  for (int k = 0; k < 24; k++) fits64 &= mag[k] == 0;
  if (!neg && fits64) {
    uint64_t m = 0;
    for (int k = 24; k < 32; k++) m = m << 8 | mag[k];
    tkms_eip712_word_uint64(m, w);
    return 0;
  }
  memcpy(w, mag, 32);
  if (neg) {
    /* two's complement over the whole 256-bit word (sign extension) */
    unsigned carry = 1;
    for (int k = 31; k >= 0; k--) {
      unsigned t = (uint8_t)~w[k] + carry;
      w[k] = (uint8_t)t;
      carry = t >> 8;
    }
  }
  return 0;
}

static int encode_atomic(const char *type, json_t *v, uint8_t w[32]) {
  unsigned n;
  if (strcmp(type, "string") == 0) {
    if (!json_is_string(v)) return -1;
    tkms_eip712_word_dynamic(json_string_value(v), json_string_length(v), w);
    return 0;
  }
  if (strcmp(type, "bool") == 0) {
    if (!json_is_boolean(v)) return -1;
    tkms_eip712_word_bool(json_is_true(v), w);
    return 0;
  }
  if (strcmp(type, "address") == 0) {
    uint8_t a[20];
    if (!json_is_string(v) || tv_hex(json_string_value(v), a, sizeof a) != 0) return -1;
    tkms_eip712_word_address(a, w);
    return 0;
  }
  if (strcmp(type, "bytes") == 0) {
    uint8_t *b;
    size_t len;
    if (!json_is_string(v) || strncmp(json_string_value(v), "0x", 2) != 0 ||
        tv_hex_alloc(json_string_value(v), &b, &len) != 0) {
      return -1;
    }
    tkms_eip712_word_dynamic(b, len, w);
    free(b);
    return 0;
  }
  if (strncmp(type, "bytes", 5) == 0 && parse_size(type + 5, &n) == 0) {
    uint8_t b[32];
    if (n < 1 || n > 32 || !json_is_string(v) || tv_hex(json_string_value(v), b, n) != 0) {
      return -1;
    }
    return tkms_eip712_word_bytes_n(b, n, w);
  }
  if (strncmp(type, "uint", 4) == 0 && parse_size(type + 4, &n) == 0) {
    return encode_integer(v, n, 0, w);
  }
  if (strncmp(type, "int", 3) == 0 && parse_size(type + 3, &n) == 0) {
    return encode_integer(v, n, 1, w);
  }
  return -1; /* unknown type */
}

/* ---- structs and arrays ---- */

static int encode_value(json_t *types, const char *type, json_t *v, uint8_t w[32], int depth);

/* "T[k]" or "T[]": each element encoded as T, then keccak of the words. */
static int encode_array(json_t *types, const char *type, json_t *v, uint8_t w[32], int depth) {
  size_t tl = strlen(type);
  const char *lb = strrchr(type, '[');
  if (!json_is_array(v) || lb == NULL || type[tl - 1] != ']') return -1;
  size_t dim_len = (size_t)(type + tl - 1 - (lb + 1));
  if (dim_len > 0) {
    char dim[8];
    unsigned k;
    if (dim_len >= sizeof dim) return -1;
    memcpy(dim, lb + 1, dim_len);
    dim[dim_len] = 0;
    if (parse_size(dim, &k) != 0 || k != json_array_size(v)) return -1;
  }
  char *inner = strndup(type, (size_t)(lb - type));
  size_t n = json_array_size(v);
  uint8_t(*elems)[32] = malloc((n ? n : 1) * sizeof *elems);
  int rc = (inner != NULL && elems != NULL && inner[0] != '\0') ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = encode_value(types, inner, json_array_get(v, i), elems[i], depth + 1);
  }
  if (rc == 0) tkms_eip712_word_array((const uint8_t(*)[32])elems, n, w);
  free(elems);
  free(inner);
  return rc;
}

/* typeHash and the encodeData words of one struct value; *words malloc'd. */
static int struct_words(json_t *types, const char *type, json_t *obj, uint8_t type_hash[32],
                        uint8_t (**words)[32], size_t *n, int depth) {
  json_t *fields = struct_fields(types, type);
  char *enc_type;
  *words = NULL;
  *n = 0;
  if (depth > TD_MAX_DEPTH || fields == NULL || !json_is_object(obj)) return -1;
  /* Every key of the value must be a field: extra data would be silently
   * unsigned, which is how a wallet can be shown less than it signs. */
  const char *key;
  json_t *val;
  json_object_foreach(obj, key, val) {
    int known = 0;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) known |= strcmp(field_name(f), key) == 0;
    if (!known) return -1;
  }
  if (td_encode_type(types, type, &enc_type) != 0) return -1;
  tkms_eip712_type_hash(enc_type, type_hash);
  free(enc_type);

  size_t nf = json_array_size(fields);
  uint8_t(*ws)[32] = malloc((nf ? nf : 1) * sizeof *ws);
  if (ws == NULL) return -1;
  for (size_t i = 0; i < nf; i++) {
    json_t *f = json_array_get(fields, i);
    json_t *fv = json_object_get(obj, field_name(f));
    if (fv == NULL || encode_value(types, field_type(f), fv, ws[i], depth + 1) != 0) {
      free(ws);
      return -1;
    }
  }
  *words = ws;
  *n = nf;
  return 0;
}

static int hash_struct_at(json_t *types, const char *type, json_t *obj, uint8_t out[32],
                          int depth) {
  uint8_t th[32];
  uint8_t(*words)[32];
  size_t n;
  if (struct_words(types, type, obj, th, &words, &n, depth) != 0) return -1;
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])words, n, out);
  free(words);
  return 0;
}

static int encode_value(json_t *types, const char *type, json_t *v, uint8_t w[32], int depth) {
  if (depth > TD_MAX_DEPTH) return -1;
  if (type[0] != '\0' && type[strlen(type) - 1] == ']') {
    return encode_array(types, type, v, w, depth);
  }
  if (struct_fields(types, type) != NULL) return hash_struct_at(types, type, v, w, depth);
  return encode_atomic(type, v, w);
}

int td_hash_struct(json_t *types, const char *type, json_t *value, uint8_t out[32]) {
  return hash_struct_at(types, type, value, out, 0);
}

int td_encode_data(json_t *types, const char *type, json_t *value, uint8_t **out, size_t *len) {
  uint8_t th[32];
  uint8_t(*words)[32];
  size_t n;
  *out = NULL;
  *len = 0;
  if (struct_words(types, type, value, th, &words, &n, 0) != 0) return -1;
  uint8_t *b = malloc(32 * (n + 1));
  if (b != NULL) {
    memcpy(b, th, 32);
    if (n > 0) memcpy(b + 32, words, 32 * n);
    *out = b;
    *len = 32 * (n + 1);
  }
  free(words);
  return b != NULL ? 0 : -1;
}

int td_digest(json_t *typed_data, uint8_t out[32]) {
  json_t *types = json_object_get(typed_data, "types");
  json_t *primary = json_object_get(typed_data, "primaryType");
  json_t *domain = json_object_get(typed_data, "domain");
  json_t *msg = json_object_get(typed_data, "message");
  uint8_t dsep[32], sh[32];
  if (msg == NULL) msg = json_object_get(typed_data, "data");
  if (!json_is_object(types) || !json_is_string(primary) || !json_is_object(domain) ||
      msg == NULL) {
    return -1;
  }
  if (td_hash_struct(types, "EIP712Domain", domain, dsep) != 0 ||
      td_hash_struct(types, json_string_value(primary), msg, sh) != 0) {
    return -1;
  }
  tkms_eip712_digest(dsep, sh, out);
  return 0;
}
