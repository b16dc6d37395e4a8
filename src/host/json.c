/* src/host/json.c — strict request-body parsing; see json.h. */
#include "host/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/hex.h"

static int fail(tkms_json_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(tkms_json_err *e, const char *code, const char *fmt, ...) {
  if (e != NULL) {
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Field names come from the client: quote at most a short printable prefix. */
static const char *safe_name(const char *name, char *buf, size_t cap) {
  size_t j = 0;
  for (size_t i = 0; name[i] != '\0' && j + 4 < cap; i++) {
    unsigned char ch = (unsigned char)name[i];
    buf[j++] = (ch >= 0x20 && ch < 0x7f && ch != '"') ? (char)ch : '?';
    if (i >= 40) {
      buf[j++] = '.';
      buf[j++] = '.';
      buf[j++] = '.';
      break;
    }
  }
  buf[j] = '\0';
  return buf;
}

int tkms_json_depth_ok(const char *buf, size_t len, unsigned max_depth) {
  unsigned depth = 0;
  int in_str = 0, esc = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = buf[i];
    if (in_str) {
      if (esc)
        esc = 0;
      else if (ch == '\\')
        esc = 1;
      else if (ch == '"')
        in_str = 0;
      continue;
    }
    if (ch == '"') {
      in_str = 1;
    } else if (ch == '{' || ch == '[') {
      if (++depth > max_depth) return -1;
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      depth--;
    }
  }
  return 0;
}

int tkms_json_parse_object(const char *buf, size_t len, json_t **out, tkms_json_err *e) {
  *out = NULL;
  if (len == 0) return fail(e, "invalid_json", "a JSON object body is required");
  /* jansson recurses per level; bound it before parsing. */
  if (tkms_json_depth_ok(buf, len, TKMS_JSON_MAX_DEPTH) != 0)
    return fail(e, "invalid_json", "JSON nests deeper than %d levels", TKMS_JSON_MAX_DEPTH);
  json_error_t err;
  json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  if (j == NULL)
    return fail(e, "invalid_json", "body is not valid JSON: %.120s (line %d, column %d)", err.text,
                err.line, err.column);
  if (!json_is_object(j)) {
    json_decref(j);
    return fail(e, "invalid_json", "body must be a JSON object");
  }
  *out = j;
  return 0;
}

int tkms_json_only_fields(const json_t *obj, const char *const *allowed, size_t n,
                          tkms_json_err *e) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    size_t i;
    for (i = 0; i < n; i++) {
      if (strcmp(key, allowed[i]) == 0) break;
    }
    if (i == n) {
      char nb[64];
      return fail(e, "bad_request", "unknown field \"%s\"", safe_name(key, nb, sizeof nb));
    }
  }
  return 0;
}

int tkms_json_printable(const char *s, size_t max_len) {
  size_t i;
  for (i = 0; s[i] != '\0'; i++) {
    if (i >= max_len) return -1;
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch > 0x7e) return -1;
  }
  return i == 0 ? -1 : 0;
}

/* Looks up a member; reports a missing required one. */
static int member(const json_t *obj, const char *name, int required, json_t **v, tkms_json_err *e) {
  *v = json_object_get(obj, name);
  if (*v == NULL) {
    if (required) return fail(e, "bad_request", "missing field \"%s\"", name);
    return TKMS_JSON_ABSENT;
  }
  return 0;
}

static int check_str(const json_t *v, const char *label, size_t max_len, const char **out,
                     tkms_json_err *e) {
  if (!json_is_string(v)) return fail(e, "bad_request", "\"%s\" must be a string", label);
  size_t len = json_string_length(v);
  const char *s = json_string_value(v);
  if (len == 0) return fail(e, "bad_request", "\"%s\" must not be empty", label);
  if (len > max_len)
    return fail(e, "bad_request", "\"%s\" is longer than %zu characters", label, max_len);
  /* strlen catches embedded NULs that JSON escapes could carry */
  if (strlen(s) != len || tkms_json_printable(s, max_len) != 0)
    return fail(e, "bad_request", "\"%s\" must be printable ASCII", label);
  *out = s;
  return 0;
}

int tkms_json_str(const json_t *obj, const char *name, int required, size_t max_len,
                  const char **out, tkms_json_err *e) {
  json_t *v;
  int r = member(obj, name, required, &v, e);
  if (r != 0) return r;
  return check_str(v, name, max_len, out, e);
}

static int check_hex(const json_t *v, const char *label, size_t min, size_t max, uint8_t *out,
                     size_t *n, tkms_json_err *e) {
  if (!json_is_string(v))
    return fail(e, "bad_request", "\"%s\" must be a 0x-prefixed hex string", label);
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  /* bound before decoding: 2 + 2*max digits, and at most the global string limit */
  if (len > TKMS_JSON_MAX_STRING || len > 2 + 2 * max) {
    if (min == max) return fail(e, "bad_request", "\"%s\" must be %zu bytes of hex", label, max);
    return fail(e, "bad_request", "\"%s\" is longer than %zu bytes", label, max);
  }
  size_t got = 0;
  if (strlen(s) != len || tkms_hex_decode(s, out, max, &got) != 0)
    return fail(e, "bad_request", "\"%s\" must be 0x-prefixed hex with an even number of digits",
                label);
  if (got < min || got > max) {
    if (min == max) return fail(e, "bad_request", "\"%s\" must be %zu bytes of hex", label, max);
    return fail(e, "bad_request", "\"%s\" must be %zu to %zu bytes", label, min, max);
  }
  *n = got;
  return 0;
}

int tkms_json_hex(const json_t *obj, const char *name, int required, size_t min, size_t max,
                  uint8_t *out, size_t *n, tkms_json_err *e) {
  json_t *v;
  int r = member(obj, name, required, &v, e);
  if (r != 0) return r;
  return check_hex(v, name, min, max, out, n, e);
}

int tkms_json_u64(const json_t *obj, const char *name, int required, uint64_t *out,
                  tkms_json_err *e) {
  json_t *v;
  int r = member(obj, name, required, &v, e);
  if (r != 0) return r;
  if (!json_is_integer(v))
    return fail(e, "bad_request", "\"%s\" must be an integer (unix seconds)", name);
  json_int_t x = json_integer_value(v);
  if (x < 0) return fail(e, "bad_request", "\"%s\" must not be negative", name);
  *out = (uint64_t)x;
  return 0;
}

int tkms_json_array(const json_t *obj, const char *name, int required, size_t max_items,
                    json_t **out, tkms_json_err *e) {
  json_t *v;
  int r = member(obj, name, required, &v, e);
  if (r != 0) return r;
  if (!json_is_array(v)) return fail(e, "bad_request", "\"%s\" must be an array", name);
  if (json_array_size(v) > max_items)
    return fail(e, "bad_request", "\"%s\" has more than %zu entries", name, max_items);
  *out = v;
  return 0;
}

int tkms_json_elem_str(const json_t *v, const char *name, size_t i, size_t max_len,
                       const char **out, tkms_json_err *e) {
  char label[80];
  snprintf(label, sizeof label, "%s[%zu]", name, i);
  return check_str(v, label, max_len, out, e);
}

int tkms_json_elem_hex_exact(const json_t *v, const char *name, size_t i, uint8_t *out, size_t n,
                             tkms_json_err *e) {
  char label[80];
  size_t got;
  snprintf(label, sizeof label, "%s[%zu]", name, i);
  return check_hex(v, label, n, n, out, &got, e);
}
