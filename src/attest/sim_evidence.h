/* src/attest/sim_evidence.h — verifier of the tkms sim platform's evidence.
 *
 * The layout is defined by src/platform/sim.c (sim_evidence) and restated here
 * because src/attest may not include src/platform (scripts/check-layering.sh).
 * tests/unit/test_attest_sim.c verifies what sim.c produces, so the two cannot
 * drift apart unnoticed:
 *   0    20  "TKMS-SIM-EVIDENCE-v1"
 *   20   32  measurement (core binary + libraries: docs/reproducible-builds.md)
 *   52   64  report_data
 *   116  32  sim attestation public key (Ed25519)
 *   148  64  Ed25519 signature over bytes 0..147
 *
 * Sim evidence proves nothing to anyone: the signing key is derived from a file
 * that root on the host can read. Claims always carry debug = 1, so that no
 * policy written for real TEEs accepts it.
 * Collateral "sim_attestation_key" (optional): the 32-byte Ed25519 public key
 * the evidence must carry (E_ROOT otherwise). Without it the embedded key is
 * taken as it is (trust on first use) and returned as a claim to pin later. */
#ifndef TKMS_ATTEST_SIM_EVIDENCE_H
#define TKMS_ATTEST_SIM_EVIDENCE_H
#include "attest/attest.h"
#include "attest/verifier.h"

#define TKMS_ATTEST_SIM_MAGIC "TKMS-SIM-EVIDENCE-v1"
#define TKMS_ATTEST_SIM_MAGIC_BYTES 20u
#define TKMS_ATTEST_SIM_OFF_MEASUREMENT 20u
#define TKMS_ATTEST_SIM_OFF_REPORT_DATA 52u
#define TKMS_ATTEST_SIM_OFF_KEY 116u
#define TKMS_ATTEST_SIM_OFF_SIG 148u
#define TKMS_ATTEST_SIM_BYTES 212u

extern const tkms_attest_verifier tkms_attest_sim_verifier;
#endif
