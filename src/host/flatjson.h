/* src/host/flatjson.h — a fast path for the request bodies of the hottest
 * route (signing): a strict parser for one flat JSON object.
 *
 * It accepts only a subset of what jansson accepts (json.h), and callers fall
 * back to jansson for anything else, so the answer to every request, errors
 * included, stays the one the jansson path gives; fuzz/fuzz_sign_body.c
 * checks that with jansson as the oracle. The subset: one object of at most
 * TKMS_FJ_MAX members, no duplicate names, names and string values of
 * printable ASCII without escapes (0x20..0x7e except '"' and '\'), other
 * values non-negative integers without sign, fraction, exponent or leading
 * zero, at most 2^63 - 1; JSON whitespace around tokens. No allocation; the
 * members point into the caller's buffer. */
#ifndef TKMS_HOST_FLATJSON_H
#define TKMS_HOST_FLATJSON_H

#include <stddef.h>
#include <stdint.h>

#define TKMS_FJ_MAX 16

typedef struct {
  const char *name;
  size_t name_len;
  int is_str;      /* 1: a string (str, str_len); 0: an integer (num) */
  const char *str; /* not NUL-terminated */
  size_t str_len;
  uint64_t num;
} tkms_fj_member;

typedef struct {
  tkms_fj_member m[TKMS_FJ_MAX];
  size_t n;
} tkms_fj;

/* 0 when buf[0..len) is in the subset (out filled), -1 otherwise. */
int tkms_fj_parse(const char *buf, size_t len, tkms_fj *out);
/* The member called name, or NULL. */
const tkms_fj_member *tkms_fj_get(const tkms_fj *o, const char *name);

#endif
