/* src/core/attested_use.c — attestation-gated key use (attested.h, part 3):
 * what authz.c asks at every sign, and what SESSION_OPEN_ATTESTED asks for
 * each key it lists. The policy in force comes from key_policy.h. */
#include <stdio.h>
#include <string.h>

#include "core/attested.h"
#include "core/op.h"
#include "core/sessions.h"

#include "core/key_policy.h"

static const tkms_policy *policy_of(const tkms_op *op, const tkms_rec *key) {
  return tkms_key_policy_at(op->core, key, op->now);
}

int tkms_attested_key_allows(tkms_op *op, const tkms_rec *key, const tkms_att_claims *c) {
  char why[200];
  int st = tkms_attested_policy_check(policy_of(op, key), c, why, sizeof why);
  if (st != TKMS_OK) return tkms_op_fail(op, st, "%s", why);
  return TKMS_OK;
}

int tkms_attested_gate(tkms_op *op, const tkms_ecall *ec) {
  if (op->key == NULL || ec->scope != TKMS_SCOPE_SIGN) return TKMS_OK;
  const tkms_rec *s = op->session;
  if (s != NULL && s->u.session.attested) {
    tkms_att_claims c = {.tee = s->u.session.tee,
                         .mlen = s->u.session.mlen,
                         .svn = s->u.session.svn,
                         .tcb_status = s->u.session.tcb_status,
                         .debug = 0,
                         .verified_at = s->u.session.verified_at};
    memcpy(c.meas, s->u.session.meas, s->u.session.mlen);
    return tkms_attested_key_allows(op, op->key, &c);
  }
  if (policy_of(op, op->key)->flags & TKMS_POLICY_F_REQUIRE_ATTESTATION)
    return tkms_op_fail(op, TKMS_E_ATTESTATION_REQUIRED,
                        "this key requires attestation: only an attested session of allowed "
                        "software may sign with it, not its owner");
  return TKMS_OK;
}
