/* src/attest/tcb_json.c — TCB info and enclave identity documents (see tcb_json.h). */
#include "attest/tcb_json.h"

#include <stdio.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/dcap_collateral.h"

int tkms_tcb_status_parse(const char *s, size_t len) {
  for (int i = TKMS_TCB_UP_TO_DATE; i <= TKMS_TCB_REVOKED; i++) {
    const char *n = tkms_attest_tcb_name(i);
    if (strlen(n) == len && memcmp(n, s, len) == 0) return i;
  }
  return -1;
}

#define FAIL(msg) \
  do {            \
    *why = (msg); \
    return -1;    \
  } while (0)

static int get_time(const tkms_sjson *j, int obj, const char *key, uint64_t *t) {
  const char *s;
  size_t n;
  return tkms_sjson_str(j, tkms_sjson_get(j, obj, key), &s, &n) == 0 &&
                 tkms_dcap_parse_time(s, n, t) == 0
             ? 0
             : -1;
}

static int get_status(const tkms_sjson *j, int obj, int *st) {
  const char *s;
  size_t n;
  if (tkms_sjson_str(j, tkms_sjson_get(j, obj, "tcbStatus"), &s, &n) != 0) return -1;
  *st = tkms_tcb_status_parse(s, n);
  return *st < 0 ? -1 : 0;
}

/* advisoryIDs: optional array of strings; its token, or -1 when absent. */
static int get_advisories(const tkms_sjson *j, int obj, int *adv) {
  int a = tkms_sjson_get(j, obj, "advisoryIDs");
  *adv = -1;
  if (a < 0) return 0;
  if (j->tok[a].type != TKMS_SJSON_ARRAY) return -1;
  for (size_t i = 0; i < j->tok[a].size; i++) {
    const char *s;
    size_t n;
    if (tkms_sjson_str(j, tkms_sjson_at(j, a, i), &s, &n) != 0) return -1;
  }
  *adv = a;
  return 0;
}

/* A 16-entry array of {"svn": n, ...}. */
static int get_components(const tkms_sjson *j, int obj, const char *key, uint8_t out[16]) {
  int a = tkms_sjson_get(j, obj, key);
  if (a < 0 || j->tok[a].type != TKMS_SJSON_ARRAY || j->tok[a].size != 16) return -1;
  for (size_t i = 0; i < 16; i++) {
    uint64_t v;
    if (tkms_sjson_uint(j, tkms_sjson_get(j, tkms_sjson_at(j, a, i), "svn"), 255, &v) != 0)
      return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

/* Levels of the {"tcb":{"isvsvn":n},"tcbStatus":...} kind. */
static int get_isv_levels(const tkms_sjson *j, int obj, tkms_isv_level *lv, size_t *n) {
  int a = tkms_sjson_get(j, obj, "tcbLevels");
  if (a < 0 || j->tok[a].type != TKMS_SJSON_ARRAY || j->tok[a].size == 0 ||
      j->tok[a].size > TKMS_TCB_MAX_LEVELS)
    return -1;
  for (size_t i = 0; i < j->tok[a].size; i++) {
    int l = tkms_sjson_at(j, a, i);
    uint64_t v;
    if (tkms_sjson_uint(j, tkms_sjson_get(j, tkms_sjson_get(j, l, "tcb"), "isvsvn"), 65535, &v) !=
            0 ||
        get_status(j, l, &lv[i].status) != 0 || get_advisories(j, l, &lv[i].advisories) != 0)
      return -1;
    lv[i].isvsvn = (uint16_t)v;
  }
  *n = j->tok[a].size;
  return 0;
}

/* mrsigner / attributes / attributesMask of a TDX module object. */
static int get_module(const tkms_sjson *j, int obj, tkms_tdx_module *m, int with_levels) {
  if (tkms_sjson_hex(j, tkms_sjson_get(j, obj, "mrsigner"), m->mrsigner, 48) != 0 ||
      tkms_sjson_hex(j, tkms_sjson_get(j, obj, "attributes"), m->attributes, 8) != 0 ||
      tkms_sjson_hex(j, tkms_sjson_get(j, obj, "attributesMask"), m->attributes_mask, 8) != 0)
    return -1;
  if (!with_levels) return 0;
  const char *s;
  size_t n;
  if (tkms_sjson_str(j, tkms_sjson_get(j, obj, "id"), &s, &n) != 0 || n == 0 || n >= sizeof m->id)
    return -1;
  memcpy(m->id, s, n);
  m->id[n] = '\0';
  return get_isv_levels(j, obj, m->levels, &m->n_levels);
}

int tkms_tcb_info_read(const tkms_sjson *j, int body, tkms_tcb_info *out, const char **why) {
  memset(out, 0, sizeof *out);
  uint64_t v;
  int id = tkms_sjson_get(j, body, "id");
  if (tkms_sjson_str_eq(j, id, "TDX")) {
    out->is_tdx = 1;
  } else if (!tkms_sjson_str_eq(j, id, "SGX")) {
    FAIL("tcb_info: id is neither SGX nor TDX");
  }
  if (tkms_sjson_uint(j, tkms_sjson_get(j, body, "version"), 100, &v) != 0 || v != 3)
    FAIL("tcb_info: version is not 3");
  if (get_time(j, body, "issueDate", &out->issue_date) != 0 ||
      get_time(j, body, "nextUpdate", &out->next_update) != 0)
    FAIL("tcb_info: bad issueDate or nextUpdate");
  if (tkms_sjson_hex(j, tkms_sjson_get(j, body, "fmspc"), out->fmspc, 6) != 0 ||
      tkms_sjson_hex(j, tkms_sjson_get(j, body, "pceId"), out->pce_id, 2) != 0)
    FAIL("tcb_info: bad fmspc or pceId");
  if (tkms_sjson_uint(j, tkms_sjson_get(j, body, "tcbType"), 100, &v) != 0 || v != 0)
    FAIL("tcb_info: tcbType is not 0");
  int a = tkms_sjson_get(j, body, "tcbLevels");
  if (a < 0 || j->tok[a].type != TKMS_SJSON_ARRAY || j->tok[a].size == 0 ||
      j->tok[a].size > TKMS_TCB_MAX_LEVELS)
    FAIL("tcb_info: bad tcbLevels");
  for (size_t i = 0; i < j->tok[a].size; i++) {
    int l = tkms_sjson_at(j, a, i), t = tkms_sjson_get(j, l, "tcb");
    tkms_tcb_level *lv = &out->levels[i];
    if (get_components(j, t, "sgxtcbcomponents", lv->sgx) != 0 ||
        tkms_sjson_uint(j, tkms_sjson_get(j, t, "pcesvn"), 65535, &v) != 0)
      FAIL("tcb_info: bad SGX TCB components in a level");
    lv->pcesvn = (uint16_t)v;
    if (out->is_tdx && get_components(j, t, "tdxtcbcomponents", lv->tdx) != 0)
      FAIL("tcb_info: bad TDX TCB components in a level");
    if (get_status(j, l, &lv->status) != 0 || get_advisories(j, l, &lv->advisories) != 0)
      FAIL("tcb_info: bad tcbStatus or advisoryIDs in a level");
  }
  out->n_levels = j->tok[a].size;
  if (!out->is_tdx) return 0;
  int m = tkms_sjson_get(j, body, "tdxModule");
  if (m >= 0) {
    if (get_module(j, m, &out->module, 0) != 0) FAIL("tcb_info: bad tdxModule");
    snprintf(out->module.id, sizeof out->module.id, "%s", "TDX_00");
    out->has_module = 1;
  }
  int ids = tkms_sjson_get(j, body, "tdxModuleIdentities");
  if (ids >= 0) {
    if (j->tok[ids].type != TKMS_SJSON_ARRAY || j->tok[ids].size > TKMS_TCB_MAX_MODULES)
      FAIL("tcb_info: bad tdxModuleIdentities");
    for (size_t i = 0; i < j->tok[ids].size; i++)
      if (get_module(j, tkms_sjson_at(j, ids, i), &out->modules[i], 1) != 0)
        FAIL("tcb_info: bad TDX module identity");
    out->n_modules = j->tok[ids].size;
  }
  return 0;
}

int tkms_qe_identity_read(const tkms_sjson *j, int body, tkms_qe_identity *out, const char **why) {
  memset(out, 0, sizeof *out);
  uint64_t v;
  uint8_t b4[4];
  int id = tkms_sjson_get(j, body, "id");
  if (tkms_sjson_str_eq(j, id, "TD_QE")) {
    out->is_td_qe = 1;
  } else if (!tkms_sjson_str_eq(j, id, "QE")) {
    FAIL("qe_identity: id is neither QE nor TD_QE");
  }
  if (tkms_sjson_uint(j, tkms_sjson_get(j, body, "version"), 100, &v) != 0 || v != 2)
    FAIL("qe_identity: version is not 2");
  if (get_time(j, body, "issueDate", &out->issue_date) != 0 ||
      get_time(j, body, "nextUpdate", &out->next_update) != 0)
    FAIL("qe_identity: bad issueDate or nextUpdate");
  /* miscselect is written as the big-endian hex of the 32-bit value */
  if (tkms_sjson_hex(j, tkms_sjson_get(j, body, "miscselect"), b4, 4) != 0)
    FAIL("qe_identity: bad miscselect");
  out->miscselect = (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
  if (tkms_sjson_hex(j, tkms_sjson_get(j, body, "miscselectMask"), b4, 4) != 0)
    FAIL("qe_identity: bad miscselectMask");
  out->miscselect_mask =
      (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
  if (tkms_sjson_hex(j, tkms_sjson_get(j, body, "attributes"), out->attributes, 16) != 0 ||
      tkms_sjson_hex(j, tkms_sjson_get(j, body, "attributesMask"), out->attributes_mask, 16) != 0)
    FAIL("qe_identity: bad attributes or attributesMask");
  if (tkms_sjson_hex(j, tkms_sjson_get(j, body, "mrsigner"), out->mrsigner, 32) != 0)
    FAIL("qe_identity: bad mrsigner");
  if (tkms_sjson_uint(j, tkms_sjson_get(j, body, "isvprodid"), 65535, &v) != 0)
    FAIL("qe_identity: bad isvprodid");
  out->isvprodid = (uint16_t)v;
  if (get_isv_levels(j, body, out->levels, &out->n_levels) != 0) FAIL("qe_identity: bad tcbLevels");
  for (size_t i = 0; i < out->n_levels; i++) {
    int s = out->levels[i].status;
    if (s != TKMS_TCB_UP_TO_DATE && s != TKMS_TCB_OUT_OF_DATE && s != TKMS_TCB_REVOKED)
      FAIL("qe_identity: a level's status is not UpToDate, OutOfDate or Revoked");
  }
  return 0;
}
