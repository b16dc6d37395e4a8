/* src/core/attestation.c — ATTEST: platform evidence binding the deployment identity.
 *
 * report_data = SHA-256("tkms-attest-v1" ‖ identity address ‖ deployment salt ‖ nonce)
 *               ‖ 32 zero bytes
 * A verifier who trusts the measurement in the evidence learns that this code,
 * holding this deployment's identity, answered its fresh nonce. */
#include <stdlib.h>
#include <string.h>

#include "core/op.h"
#include "crypto/kdf.h"

#define ATTEST_LABEL "tkms-attest-v1"

int tkms_attest(tkms_op *op) {
  tkms_core *c = op->core;
  uint8_t nonce[32], rd[TKMS_REPORT_DATA_BYTES], in[sizeof(ATTEST_LABEL) - 1 + 20 + 32 + 32];
  if (tkms_frame_get_fixed(op->req, TKMS_F_NONCE, nonce, sizeof nonce) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "nonce (32 bytes) is required");
  size_t n = sizeof(ATTEST_LABEL) - 1;
  memcpy(in, ATTEST_LABEL, n);
  memcpy(in + n, c->dep.identity, 20);
  memcpy(in + n + 20, c->dep.salt, 32);
  memcpy(in + n + 52, nonce, 32);
  memset(rd, 0, sizeof rd);
  tkms_sha256(in, sizeof in, rd);
  /* Evidence is public; on the heap because worker stacks are small. */
  uint8_t *ev = malloc(TKMS_EVIDENCE_MAX);
  size_t ev_len = 0;
  if (ev == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  if (c->plat.ops->evidence(c->plat.ctx, rd, ev, TKMS_EVIDENCE_MAX, &ev_len) != 0) {
    free(ev);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the platform could not produce evidence");
  }
  tkms_fw_bytes(op->resp, TKMS_F_EVIDENCE, ev, ev_len);
  free(ev);
  tkms_fw_bytes(op->resp, TKMS_F_REPORT_DATA, rd, sizeof rd);
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, c->measurement, sizeof c->measurement);
  tkms_fw_str(op->resp, TKMS_F_PLATFORM, c->plat.ops->name);
  tkms_fw_u32(op->resp, TKMS_F_SIMULATED, c->plat.ops->simulated ? 1u : 0u);
  tkms_fw_bytes(op->resp, TKMS_F_IDENTITY, c->dep.identity, sizeof c->dep.identity);
  tkms_fw_bytes(op->resp, TKMS_F_DEPLOY_SALT, c->dep.salt, sizeof c->dep.salt);
  return TKMS_OK;
}
