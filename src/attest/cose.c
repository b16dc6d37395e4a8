/* src/attest/cose.c — bounded CBOR checks and COSE_Sign1 (see cose.h). */
#include "attest/cose.h"

#include <stdlib.h>
#include <string.h>

/* Reads an item head: major type, additional info, argument. 0 or -1. */
static int head(const uint8_t *b, size_t len, size_t *pos, unsigned *mt, unsigned *ai,
                uint64_t *arg) {
  if (*pos >= len) return -1;
  uint8_t ib = b[(*pos)++];
  *mt = ib >> 5;
  *ai = ib & 31u;
  size_t n;
  if (*ai < 24) {
    *arg = *ai;
    return 0;
  } else if (*ai <= 27) {
    n = (size_t)1 << (*ai - 24);
  } else {
    return -1; /* 28-30 reserved; 31 indefinite length: refused */
  }
  if (len - *pos < n) return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v << 8 | b[(*pos)++];
  *arg = v;
  return 0;
}

static int scan(const uint8_t *b, size_t len, size_t *pos, unsigned depth, unsigned max_depth,
                size_t *budget) {
  unsigned mt, ai;
  uint64_t arg;
  if (*budget == 0) return -1;
  (*budget)--;
  if (head(b, len, pos, &mt, &ai, &arg) != 0) return -1;
  switch (mt) {
    case 0:
    case 1:
      return 0;
    case 2:
    case 3:
      if (arg > len - *pos) return -1;
      *pos += (size_t)arg;
      return 0;
    case 4:
    case 5: {
      /* every item takes at least one byte: a count beyond that is a lie */
      uint64_t items = arg;
      if (mt == 5) {
        if (items > (len - *pos) / 2) return -1;
        items *= 2;
      }
      if (items > len - *pos || items > *budget || depth + 1 > max_depth) return -1;
      for (uint64_t i = 0; i < items; i++) {
        if (scan(b, len, pos, depth + 1, max_depth, budget) != 0) return -1;
      }
      return 0;
    }
    case 6:
      if (depth + 1 > max_depth) return -1;
      return scan(b, len, pos, depth + 1, max_depth, budget);
    default: /* 7: simple values and floats; the head already consumed them */
      return ai == 24 && arg < 32 ? -1 : 0;
  }
}

int tkms_cbor_check(const uint8_t *buf, size_t len, unsigned max_depth, size_t max_items) {
  if (buf == NULL || len == 0) return -1;
  size_t pos = 0, budget = max_items;
  if (scan(buf, len, &pos, 0, max_depth, &budget) != 0) return -1;
  return pos == len ? 0 : -1;
}

cbor_item_t *tkms_cbor_load(const uint8_t *buf, size_t len) {
  if (tkms_cbor_check(buf, len, TKMS_CBOR_MAX_DEPTH, TKMS_CBOR_MAX_ITEMS) != 0) return NULL;
  struct cbor_load_result res;
  cbor_item_t *it = cbor_load(buf, len, &res);
  if (it == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
    if (it != NULL) cbor_decref(&it);
    return NULL;
  }
  return it;
}

cbor_item_t *tkms_cbor_map_text(const cbor_item_t *map, const char *key, int *dup) {
  *dup = 0;
  if (!cbor_isa_map(map) || !cbor_map_is_definite(map)) return NULL;
  struct cbor_pair *p = cbor_map_handle(map);
  size_t n = cbor_map_size(map), klen = strlen(key);
  cbor_item_t *found = NULL;
  for (size_t i = 0; i < n; i++) {
    const cbor_item_t *k = p[i].key;
    if (!cbor_isa_string(k) || !cbor_string_is_definite(k)) continue;
    if (cbor_string_length(k) != klen || memcmp(cbor_string_handle(k), key, klen) != 0) continue;
    if (found != NULL) *dup = 1;
    found = p[i].value;
  }
  return *dup ? NULL : found;
}

int tkms_cbor_int(const cbor_item_t *it, int64_t *out) {
  if (cbor_isa_uint(it)) {
    uint64_t v = cbor_get_int(it);
    if (v > (uint64_t)INT64_MAX) return -1;
    *out = (int64_t)v;
    return 0;
  }
  if (cbor_isa_negint(it)) {
    uint64_t v = cbor_get_int(it); /* the value is -1 - v */
    if (v > (uint64_t)INT64_MAX) return -1;
    *out = -1 - (int64_t)v;
    return 0;
  }
  return -1;
}

static int bstr(const cbor_item_t *it, const uint8_t **p, size_t *n) {
  if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it)) return -1;
  *p = cbor_bytestring_handle(it);
  *n = cbor_bytestring_length(it);
  if (*p == NULL && *n != 0) return -1;
  return 0;
}

void tkms_cose_sign1_free(tkms_cose_sign1 *m) {
  if (m->root != NULL) cbor_decref(&m->root);
  memset(m, 0, sizeof *m);
}

int tkms_cose_sign1_parse(const uint8_t *buf, size_t len, tkms_cose_sign1 *out) {
  memset(out, 0, sizeof *out);
  /* COSE_Sign1_Tagged is tag 18 (one byte, 0xD2) around the array. The tag is
   * taken off here rather than by libcbor: libcbor 0.8.0 (Debian 12) reports a
   * tag around a definite-length array as malformed. */
  if (len > 0 && buf[0] == 0xD2) {
    buf++;
    len--;
  }
  out->root = tkms_cbor_load(buf, len);
  if (out->root == NULL) return -1;
  const cbor_item_t *arr = out->root;
  if (!cbor_isa_array(arr) || !cbor_array_is_definite(arr) || cbor_array_size(arr) != 4) goto bad;
  cbor_item_t **a = cbor_array_handle(arr);
  if (bstr(a[0], &out->protected_hdr, &out->protected_len) != 0 || !cbor_isa_map(a[1]) ||
      bstr(a[2], &out->payload, &out->payload_len) != 0 ||
      bstr(a[3], &out->signature, &out->signature_len) != 0)
    goto bad;
  /* The protected header: a serialized map (RFC 9052 3), possibly empty (h''). */
  if (out->protected_len > 0) {
    cbor_item_t *ph = tkms_cbor_load(out->protected_hdr, out->protected_len);
    if (ph == NULL) goto bad;
    int ok = cbor_isa_map(ph);
    if (ok) {
      struct cbor_pair *p = cbor_map_handle(ph);
      int seen = 0;
      for (size_t i = 0; ok && i < cbor_map_size(ph); i++) {
        int64_t label;
        if (tkms_cbor_int(p[i].key, &label) != 0 || label != 1) continue;
        ok = !seen && tkms_cbor_int(p[i].value, &out->alg) == 0;
        seen = 1;
      }
    }
    cbor_decref(&ph);
    if (!ok) goto bad;
  }
  return 0;
bad:
  tkms_cose_sign1_free(out);
  return -1;
}

/* A CBOR head for major type mt with argument v. Returns its length (1..9). */
static size_t put_head(uint8_t *o, unsigned mt, uint64_t v) {
  uint8_t m = (uint8_t)(mt << 5);
  if (v < 24) {
    o[0] = m | (uint8_t)v;
    return 1;
  }
  size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
  o[0] = m | (uint8_t)(n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
  for (size_t i = 0; i < n; i++) o[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  return 1 + n;
}

int tkms_cose_sig_structure(const tkms_cose_sign1 *m, uint8_t **out, size_t *out_len) {
  static const char ctx[] = "Signature1";
  size_t cap = 1 + 1 + 10 + 9 + m->protected_len + 1 + 9 + m->payload_len;
  uint8_t *b = malloc(cap);
  if (b == NULL) return -1;
  size_t n = put_head(b, 4, 4);
  n += put_head(b + n, 3, 10);
  memcpy(b + n, ctx, 10);
  n += 10;
  n += put_head(b + n, 2, m->protected_len);
  if (m->protected_len > 0) memcpy(b + n, m->protected_hdr, m->protected_len);
  n += m->protected_len;
  n += put_head(b + n, 2, 0); /* external_aad: empty */
  n += put_head(b + n, 2, m->payload_len);
  if (m->payload_len > 0) memcpy(b + n, m->payload, m->payload_len);
  n += m->payload_len;
  *out = b;
  *out_len = n;
  return 0;
}
