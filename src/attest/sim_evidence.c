/* src/attest/sim_evidence.c — the sim platform's evidence (see sim_evidence.h). */
#include "attest/sim_evidence.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

static int sim_detect(const uint8_t *ev, size_t len) {
  return len >= TKMS_ATTEST_SIM_MAGIC_BYTES &&
         memcmp(ev, TKMS_ATTEST_SIM_MAGIC, TKMS_ATTEST_SIM_MAGIC_BYTES) == 0;
}

/* 1 valid, 0 invalid, -1 library failure. */
static int ed25519_verify(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *msg,
                          size_t len) {
  EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  int rc = -1;
  if (k != NULL && m != NULL && EVP_DigestVerifyInit(m, NULL, NULL, NULL, k) == 1)
    rc = EVP_DigestVerify(m, sig, 64, msg, len) == 1 ? 1 : 0;
  else if (k == NULL)
    rc = 0; /* not a point: no signature can verify */
  EVP_MD_CTX_free(m);
  EVP_PKEY_free(k);
  ERR_clear_error();
  return rc;
}

static int sim_verify(const uint8_t *ev, size_t len, const tkms_attest_collateral *col, uint64_t at,
                      tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  (void)at;
  if (len != TKMS_ATTEST_SIM_BYTES || !sim_detect(ev, len))
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "sim evidence is %u bytes starting with %s", TKMS_ATTEST_SIM_BYTES,
                            TKMS_ATTEST_SIM_MAGIC);
  const uint8_t *pk = ev + TKMS_ATTEST_SIM_OFF_KEY;
  const tkms_attest_item *pin = tkms_attest_collateral_get(col, "sim_attestation_key");
  if (pin != NULL && pin->len != 32)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                            "sim_attestation_key must be a 32-byte Ed25519 public key");
  if (pin != NULL && memcmp(pin->data, pk, 32) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT,
                            "evidence is signed by another sim attestation key");
  int v = ed25519_verify(pk, ev + TKMS_ATTEST_SIM_OFF_SIG, ev, TKMS_ATTEST_SIM_OFF_SIG);
  if (v < 0) return tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "Ed25519 check failed");
  if (v == 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_SIGNATURE,
                            "sim evidence signature does not verify");
  if (tkms_attest_add_meas(out, "measurement", ev + TKMS_ATTEST_SIM_OFF_MEASUREMENT, 32) != 0 ||
      tkms_attest_add_meas(out, "sim_attestation_key", pk, 32) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "claims do not fit");
  memcpy(out->report_data, ev + TKMS_ATTEST_SIM_OFF_REPORT_DATA, 64);
  out->report_data_len = 64;
  out->debug = 1; /* a simulation: never production evidence */
  out->tcb_status = TKMS_TCB_NOT_APPLICABLE;
  return TKMS_ATTEST_OK;
}

const tkms_attest_verifier tkms_attest_sim_verifier = {
    .format = TKMS_ATTEST_SIM,
    .name = "sim",
    .detect = sim_detect,
    .verify = sim_verify,
};
