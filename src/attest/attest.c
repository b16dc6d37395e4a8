/* src/attest/attest.c — dispatch to the per-format verifiers (see attest.h). */
#include "attest/attest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attest/dcap.h"
#include "attest/nitro.h"
#include "attest/sim_evidence.h"
#include "attest/snp.h"
#include "attest/tpm2_quote.h"
#include "attest/verifier.h"

/* Verifiers, in the order AUTO tries their detect(). Each format file adds its
 * own line. */
static const tkms_attest_verifier *const verifiers[] = {
    &tkms_attest_dcap_sgx,      &tkms_attest_dcap_tdx,       &tkms_attest_sim_verifier,
    &tkms_attest_tpm2_verifier, &tkms_attest_nitro_verifier, &tkms_attest_snp_verifier,
};

int tkms_attest_fail(char reason[TKMS_ATTEST_REASON_MAX], int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, TKMS_ATTEST_REASON_MAX, fmt, ap);
  va_end(ap);
  if (reason[0] == '\0') snprintf(reason, TKMS_ATTEST_REASON_MAX, "%s", "refused");
  return code;
}

int tkms_attest_add_meas(tkms_attest_claims *out, const char *name, const uint8_t *v, size_t len) {
  if (out->n_meas >= TKMS_ATTEST_MAX_MEAS || len > TKMS_ATTEST_MEAS_MAX ||
      strlen(name) >= TKMS_ATTEST_MEAS_NAME)
    return -1;
  tkms_attest_meas *m = &out->meas[out->n_meas++];
  snprintf(m->name, sizeof m->name, "%s", name);
  memcpy(m->value, v, len);
  m->len = len;
  return 0;
}

const tkms_attest_item *tkms_attest_collateral_get(const tkms_attest_collateral *c,
                                                   const char *name) {
  if (c == NULL) return NULL;
  for (size_t i = 0; i < c->n; i++) {
    if (c->items[i].name != NULL && strcmp(c->items[i].name, name) == 0) return &c->items[i];
  }
  return NULL;
}

int tkms_attest_verify(int format, const uint8_t *evidence, size_t len,
                       const tkms_attest_collateral *col, uint64_t at, tkms_attest_claims *out,
                       char reason[TKMS_ATTEST_REASON_MAX]) {
  memset(out, 0, sizeof *out);
  reason[0] = '\0';
  if (evidence == NULL || len == 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "no evidence");
  const tkms_attest_verifier *v = NULL;
  for (size_t i = 0; i < sizeof verifiers / sizeof verifiers[0] && v == NULL; i++) {
    const tkms_attest_verifier *c = verifiers[i];
    if (c == NULL) continue;
    if (format == TKMS_ATTEST_AUTO ? c->detect(evidence, len) : c->format == format) v = c;
  }
  if (v == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED,
                            format == TKMS_ATTEST_AUTO ? "evidence of an unknown format"
                                                       : "no verifier for this format");
  out->format = v->format;
  out->verified_at = at;
  int st = v->verify(evidence, len, col, at, out, reason);
  if (st != TKMS_ATTEST_OK && reason[0] == '\0') tkms_attest_fail(reason, st, "%s", "refused");
  return st;
}

const char *tkms_attest_format_name(int format) {
  static const char *const n[] = {"auto", "sgx", "tdx", "snp", "nitro", "tpm2", "sim"};
  return format >= 0 && format < (int)(sizeof n / sizeof n[0]) ? n[format] : NULL;
}

const char *tkms_attest_tcb_name(int s) {
  static const char *const n[] = {"NotApplicable",
                                  "UpToDate",
                                  "SWHardeningNeeded",
                                  "ConfigurationNeeded",
                                  "ConfigurationAndSWHardeningNeeded",
                                  "OutOfDate",
                                  "OutOfDateConfigurationNeeded",
                                  "Revoked",
                                  "NoMatch"};
  return s >= 0 && s < TKMS_TCB__COUNT ? n[s] : NULL;
}

const char *tkms_attest_error_name(int code) {
  static const char *const n[] = {
      "ok",          "malformed", "unsupported",   "collateral",           "root",
      "chain",       "expired",   "revoked",       "collateral_signature", "qe_report",
      "qe_identity", "signature", "tcb_unmatched", "tcb_mismatch",         "internal"};
  return code >= 0 && code < TKMS_ATTEST_E__COUNT ? n[code] : NULL;
}
