/* src/attest/verifier.h — internal: the table attest.c dispatches through.
 * Each format file (dcap.c, snp.c, nitro.c, tpm2.c, sim.c) defines one
 * tkms_attest_verifier and attest.c lists it in its table. */
#ifndef TKMS_ATTEST_VERIFIER_H
#define TKMS_ATTEST_VERIFIER_H
#include "attest/attest.h"

typedef struct {
  int format; /* TKMS_ATTEST_* */
  const char *name;
  /* 1 if the bytes look like this format (cheap, bounded; used for AUTO). */
  int (*detect)(const uint8_t *ev, size_t len);
  /* As tkms_attest_verify, for this format; out is zeroed by the caller and
   * out->format / out->verified_at are already set. */
  int (*verify)(const uint8_t *ev, size_t len, const tkms_attest_collateral *col, uint64_t at,
                tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]);
} tkms_attest_verifier;

/* Writes a reason (printf-style) and returns code. */
int tkms_attest_fail(char reason[TKMS_ATTEST_REASON_MAX], int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a named measurement to out (ignored past TKMS_ATTEST_MAX_MEAS or if
 * len > TKMS_ATTEST_MEAS_MAX; returns -1 then). */
int tkms_attest_add_meas(tkms_attest_claims *out, const char *name, const uint8_t *v, size_t len);
#endif
