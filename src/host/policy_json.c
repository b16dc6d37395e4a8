/* src/host/policy_json.c — key policy JSON <-> canonical bytes (policy_json.h). */
#include "host/policy_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/hex.h"

#define MAX_SW 8u
#define MAX_DELAY (365u * 24u * 3600u)

static const struct {
  const char *name;
  uint8_t tee, mlen;
} tees[] = {{"sgx", 1, 32}, {"tdx", 2, 48}, {"snp", 3, 48}, {"nitro", 4, 48}, {"tpm2", 5, 32}};

/* Bit i of tcb_mask: the status names of attest.h, NoMatch excluded. */
static const char *const tcb_names[] = {"NotApplicable",
                                        "UpToDate",
                                        "SWHardeningNeeded",
                                        "ConfigurationNeeded",
                                        "ConfigurationAndSWHardeningNeeded",
                                        "OutOfDate",
                                        "OutOfDateConfigurationNeeded",
                                        "Revoked"};
#define N_TCB (sizeof tcb_names / sizeof tcb_names[0])

typedef struct {
  uint8_t tee, mlen, meas[48];
  uint16_t min_svn, mask;
} sw_entry;

static int fail(tkms_json_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(tkms_json_err *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  e->code = "bad_request";
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int sw_cmp(const void *pa, const void *pb) {
  const sw_entry *a = pa, *b = pb;
  if (a->tee != b->tee) return a->tee < b->tee ? -1 : 1;
  if (a->mlen != b->mlen) return a->mlen < b->mlen ? -1 : 1;
  return memcmp(a->meas, b->meas, a->mlen);
}

/* An optional non-negative integer member no larger than max. */
static int get_uint(const json_t *o, const char *name, const char *field, uint64_t max,
                    uint64_t *out, tkms_json_err *e) {
  json_t *v = json_object_get(o, field);
  *out = 0;
  if (v == NULL) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
    return fail(e, "\"%s.%s\" must be an integer from 0 to %llu", name, field,
                (unsigned long long)max);
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

static int only(const json_t *o, const char *const *allowed, size_t n, const char *name,
                tkms_json_err *e) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    size_t i = 0;
    while (i < n && strcmp(k, allowed[i]) != 0) i++;
    if (i == n) return fail(e, "\"%s\" has an unknown member (allowed: see docs/policy.md)", name);
  }
  return 0;
}

static int parse_sw(const json_t *s, const char *name, size_t i, sw_entry *out, tkms_json_err *e) {
  static const char *const fields[] = {"tee", "measurement", "min_svn", "tcb_statuses"};
  char label[64];
  snprintf(label, sizeof label, "%s.software[%zu]", name, i);
  memset(out, 0, sizeof *out);
  if (!json_is_object(s)) return fail(e, "\"%s\" must be an object", label);
  if (only(s, fields, 4, label, e) != 0) return -1;
  const char *tee = json_string_value(json_object_get(s, "tee"));
  size_t t = 0;
  while (tee != NULL && t < sizeof tees / sizeof tees[0] && strcmp(tee, tees[t].name) != 0) t++;
  if (tee != NULL && strcmp(tee, "tpm2") == 0) {
    fail(e,
         "\"%s.tee\": tpm2 is not accepted: the core cannot check a TPM attestation key's "
         "root of trust (no EK certificate chain)",
         label);
    e->code = "unsupported";
    return -1;
  }
  if (tee == NULL || t == sizeof tees / sizeof tees[0])
    return fail(e, "\"%s.tee\" must be one of sgx, tdx, snp, nitro", label);
  out->tee = tees[t].tee;
  out->mlen = tees[t].mlen;
  const char *m = json_string_value(json_object_get(s, "measurement"));
  if (m == NULL || tkms_hex_decode_exact(m, out->meas, out->mlen) != 0)
    return fail(e, "\"%s.measurement\" must be 0x and %u hex bytes for %s", label, out->mlen,
                tees[t].name);
  uint64_t svn;
  if (get_uint(s, label, "min_svn", 65535, &svn, e) != 0) return -1;
  out->min_svn = (uint16_t)svn;
  json_t *st = json_object_get(s, "tcb_statuses");
  if (st == NULL || !json_is_array(st) || json_array_size(st) == 0 || json_array_size(st) > N_TCB)
    return fail(e, "\"%s.tcb_statuses\" must be a non-empty array of TCB status names", label);
  size_t j;
  json_t *x;
  json_array_foreach(st, j, x) {
    const char *sn = json_string_value(x);
    size_t b = 0;
    while (sn != NULL && b < N_TCB && strcmp(sn, tcb_names[b]) != 0) b++;
    if (sn == NULL || b == N_TCB)
      return fail(e,
                  "\"%s.tcb_statuses[%zu]\" must be one of NotApplicable, UpToDate, "
                  "SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, "
                  "OutOfDate, OutOfDateConfigurationNeeded, Revoked",
                  label, j);
    if (out->mask & (1u << b)) return fail(e, "\"%s.tcb_statuses\" repeats %s", label, sn);
    out->mask = (uint16_t)(out->mask | (1u << b));
  }
  return 0;
}

static void be(uint8_t *p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

int tkms_policy_json_encode(const json_t *v, const char *name, uint8_t *out, size_t cap, size_t *n,
                            tkms_json_err *e) {
  static const char *const fields[] = {"delay_s", "require_attestation", "rate_per_minute",
                                       "not_after", "software"};
  *n = 0;
  if (v == NULL) return 0;
  if (cap < TKMS_POLICY_JSON_ENC_MAX) return fail(e, "internal: policy buffer too small");
  if (!json_is_object(v)) return fail(e, "\"%s\" must be an object (docs/policy.md)", name);
  if (only(v, fields, 5, name, e) != 0) return -1;
  uint64_t delay, rate, not_after;
  if (get_uint(v, name, "delay_s", MAX_DELAY, &delay, e) != 0 ||
      get_uint(v, name, "rate_per_minute", UINT32_MAX, &rate, e) != 0 ||
      get_uint(v, name, "not_after", (uint64_t)INT64_MAX, &not_after, e) != 0)
    return -1;
  json_t *ra = json_object_get(v, "require_attestation");
  if (ra != NULL && !json_is_boolean(ra))
    return fail(e, "\"%s.require_attestation\" must be true or false", name);
  json_t *sw = json_object_get(v, "software");
  sw_entry ent[MAX_SW];
  size_t ns = 0;
  if (sw != NULL) {
    if (!json_is_array(sw) || json_array_size(sw) > MAX_SW)
      return fail(e, "\"%s.software\" must be an array of at most %u entries", name, MAX_SW);
    size_t i;
    json_t *s;
    json_array_foreach(sw, i, s) {
      if (parse_sw(s, name, i, &ent[ns++], e) != 0) return -1;
    }
  }
  qsort(ent, ns, sizeof ent[0], sw_cmp);
  for (size_t i = 1; i < ns; i++) {
    if (sw_cmp(&ent[i - 1], &ent[i]) == 0)
      return fail(e, "\"%s.software\" lists the same measurement twice", name);
  }
  size_t off = 0;
  out[off++] = 1;
  be(out + off, delay, 4), off += 4;
  out[off++] = ra != NULL && json_is_true(ra) ? 1 : 0;
  be(out + off, rate, 4), off += 4;
  be(out + off, not_after, 8), off += 8;
  out[off++] = (uint8_t)ns;
  for (size_t i = 0; i < ns; i++) {
    out[off++] = ent[i].tee;
    out[off++] = ent[i].mlen;
    memcpy(out + off, ent[i].meas, ent[i].mlen);
    off += ent[i].mlen;
    be(out + off, ent[i].min_svn, 2), off += 2;
    be(out + off, ent[i].mask, 2), off += 2;
  }
  *n = off;
  return 0;
}

static uint64_t rd(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

static json_t *hexstr(const uint8_t *p, size_t n) {
  char buf[2 + 2 * 48 + 1];
  if (n > 48) return NULL;
  tkms_hex_encode(p, n, buf);
  return json_string(buf);
}

json_t *tkms_policy_json_decode(const uint8_t *b, size_t n) {
  uint64_t delay = 0, rate = 0, not_after = 0;
  int ra = 0;
  json_t *sw = json_array();
  if (sw == NULL) return NULL;
  if (n > 0) {
    if (n < 19 || b[0] != 1 || b[18] > MAX_SW) goto bad;
    delay = rd(b + 1, 4);
    ra = b[5] & 1;
    rate = rd(b + 6, 4);
    not_after = rd(b + 10, 8);
    size_t off = 19;
    for (unsigned i = 0; i < b[18]; i++) {
      if (n - off < 2) goto bad;
      uint8_t tee = b[off], mlen = b[off + 1];
      size_t t = 0;
      while (t < sizeof tees / sizeof tees[0] && tees[t].tee != tee) t++;
      if (t == sizeof tees / sizeof tees[0] || mlen != tees[t].mlen || n - off - 2 < mlen + 4u)
        goto bad;
      json_t *st = json_array();
      uint16_t mask = (uint16_t)rd(b + off + 2 + mlen + 2, 2);
      for (size_t k = 0; st != NULL && k < N_TCB; k++) {
        if (mask & (1u << k)) json_array_append_new(st, json_string(tcb_names[k]));
      }
      json_t *o = json_pack("{s:s, s:o, s:I, s:o}", "tee", tees[t].name, "measurement",
                            hexstr(b + off + 2, mlen), "min_svn",
                            (json_int_t)rd(b + off + 2 + mlen, 2), "tcb_statuses", st);
      if (o == NULL || json_array_append_new(sw, o) != 0) goto bad;
      off += 2u + mlen + 4u;
    }
    if (off != n) goto bad;
  }
  return json_pack("{s:I, s:b, s:I, s:I, s:o}", "delay_s", (json_int_t)delay, "require_attestation",
                   ra, "rate_per_minute", (json_int_t)rate, "not_after", (json_int_t)not_after,
                   "software", sw);
bad:
  json_decref(sw);
  return NULL;
}
