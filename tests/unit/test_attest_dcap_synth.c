/* tests/unit/test_attest_dcap_synth.c — the DCAP verifier end to end on quotes
 * and collateral re-signed by a test CA, to reach the checks that real
 * Intel-signed data cannot: a revoked PCK leaf, a QE that is not the one its
 * identity names, the QE and TDX module TCB statuses, the TDX module identity,
 * FMSPC mismatch, collateral signed by the wrong certificate.
 *
 * The "world": a test root (its key passed as the pin to tkms_dcap_verify, the
 * function both verifiers run with the Intel key), a PCK CA, a PCK leaf carrying
 * the real PCK certificate's SGX extension, a "TCB Signing" certificate, CRLs.
 * A quote keeps the real header and body (SGX v3 or TDX v4) and QE report, with
 * a test attestation key bound into the QE report, everything re-signed; the
 * collateral is the real TCB info / QE identity text (optionally edited),
 * re-signed. The baseline must give the same verdict as the real set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/attest.h"
#include "attest/dcap.h"
#include "attest/dcap_collateral.h"
#include "attest/dcap_quote.h"
#include "cli/collateral.h"
#include "dcap_world.h"
#include "testca.h"
#include "vectors.h"

#define AT 1751328000u /* 2025-07-01T00:00:00Z */

/* Runs the verifier on the world's quote (with mods) and collateral. */
static int run(const dcap_world *w, const dcap_quote_mods *m, const char *tcb_info,
               const char *qe_identity, long revoke_root, long revoke_pck,
               tkms_attest_claims *out) {
  size_t len;
  uint8_t *q = dcap_world_quote(w, m, &len);
  tkms_cli_collateral c;
  dcap_world_collateral(w, tcb_info, qe_identity, revoke_root, revoke_pck, &c);
  char reason[TKMS_ATTEST_REASON_MAX] = "";
  memset(out, 0, sizeof *out);
  int rc = tkms_dcap_verify(w->tdx, w->pin, q, len, &c.col, AT, out, reason);
  if (rc != TKMS_ATTEST_OK) printf("    (%s: %s)\n", tkms_attest_error_name(rc), reason);
  free(q);
  tkms_cli_collateral_free(&c);
  return rc;
}

static void test_sgx_synthetic(void **state) {
  (void)state;
  dcap_world w;
  dcap_world_init(&w, 0, "Intel SGX PCK Certificate", "Intel SGX TCB Signing", NULL);
  tkms_attest_claims c;
  /* baseline: the real set's verdict */
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
  assert_int_equal(c.n_advisories, 2);
  /* the same quote against the Intel pin: the test root is refused */
  {
    size_t len;
    uint8_t *q = dcap_world_quote(&w, NULL, &len);
    tkms_cli_collateral col;
    dcap_world_collateral(&w, NULL, NULL, -1, -1, &col);
    char reason[TKMS_ATTEST_REASON_MAX];
    assert_int_equal(tkms_attest_verify(TKMS_ATTEST_SGX, q, len, &col.col, AT, &c, reason),
                     TKMS_ATTEST_E_ROOT);
    free(q);
    tkms_cli_collateral_free(&col);
  }
  /* revocation, end to end: the PCK leaf (serial 77) on the PCK CRL, the CA on the root CRL */
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, 77, &c), TKMS_ATTEST_E_REVOKED);
  assert_int_equal(run(&w, NULL, NULL, NULL, 2, -1, &c), TKMS_ATTEST_E_REVOKED);
  /* the TCB signing certificate on the root CRL */
  assert_int_equal(run(&w, NULL, NULL, NULL, 3, -1, &c), TKMS_ATTEST_E_REVOKED);
  /* QE REPORTDATA[32:64] must be zero */
  dcap_quote_mods m = {.qe_rd_high_nonzero = 1};
  assert_int_equal(run(&w, &m, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_QE_REPORT);
  /* an attestation key that is no point, bound and signed correctly */
  dcap_quote_mods z = {.zero_att_key = 1};
  assert_int_equal(run(&w, &z, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_SIGNATURE);
  /* a debug enclave, correctly signed: verifies, and says so */
  dcap_quote_mods d = {.body_off = {TKMS_SGX_R_ATTRIBUTES}, .body_val = {0x07}};
  assert_int_equal(run(&w, &d, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 1);

  /* the QE is not the one the QE identity names */
  char *e = dcap_edit(w.qe_identity, "\"mrsigner\":\"8C4F", "\"mrsigner\":\"9C4F");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  e = dcap_edit(w.qe_identity, "\"isvprodid\":1", "\"isvprodid\":2");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  e = dcap_edit(w.qe_identity, "\"miscselect\":\"00000000\"", "\"miscselect\":\"00000001\"");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  e = dcap_edit(w.qe_identity, "\"attributes\":\"11", "\"attributes\":\"13");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  /* the QE's ISVSVN (10) reaches only the OutOfDate level: folded into the platform's */
  e = dcap_edit(w.qe_identity, "{\"isvsvn\":8}", "{\"isvsvn\":11}");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
  assert_int_equal(c.n_advisories, 2); /* INTEL-SA-00615 from both, once */
  free(e);
  /* a QE Revoked level */
  char *e1 =
      dcap_edit(w.qe_identity,
                "{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"",
                "{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"Revoked\"");
  assert_int_equal(run(&w, NULL, NULL, e1, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_REVOKED);
  free(e1);
  /* the QE's ISVSVN below every level */
  e = dcap_edit(w.qe_identity, "\"tcbLevels\":[",
                "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":200},\"tcbDate\":\"2025-01-01T00:00:00Z\","
                "\"tcbStatus\":\"UpToDate\"}],\"x\":[");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_TCB_UNMATCHED);
  assert_int_equal(c.tcb_status, TKMS_TCB_NO_MATCH);
  free(e);
  /* a TCB info for another FMSPC, another PCE-ID */
  e = dcap_edit(w.tcb_info, "\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A067110001\"");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  free(e);
  e = dcap_edit(w.tcb_info, "\"pceId\":\"0000\"", "\"pceId\":\"0001\"");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  free(e);
  /* the TCB info's first matching level decides: make it a plain UpToDate one */
  e = dcap_edit(
      w.tcb_info, "\"tcbLevels\":[",
      "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":11},{\"svn\":11},{\"svn\":2},{"
      "\"svn\":2},{\"svn\":255},{\"svn\":1},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{"
      "\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":13},"
      "\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  assert_int_equal(c.n_advisories, 0);
  free(e);
  /* a TCB info for TDX given for an SGX quote */
  e = dcap_edit(w.tcb_info, "\"id\":\"SGX\"", "\"id\":\"TDX\"");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_COLLATERAL);
  free(e);
  dcap_world_free(&w);

  /* collateral signed by a certificate that is not Intel's TCB signing one */
  dcap_world_init(&w, 0, "Intel SGX PCK Certificate", "Intel SGX PCK Certificate", NULL);
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_CHAIN);
  dcap_world_free(&w);
  /* a leaf that is not a PCK certificate */
  dcap_world_init(&w, 0, "Intel SGX TCB Signing", "Intel SGX TCB Signing", NULL);
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_CHAIN);
  dcap_world_free(&w);
}

#define TEE_TCB_SVN TKMS_TD_R_TEE_TCB_SVN

static void test_tdx_synthetic(void **state) {
  (void)state;
  dcap_world w;
  dcap_world_init(&w, 1, "Intel SGX PCK Certificate", "Intel SGX TCB Signing", NULL);
  tkms_attest_claims c;
  /* baseline: TEE_TCB_SVN 06 01 03: module TDX_01 at SVN 6, UpToDate */
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  /* (TEE_TCB_SVN[0], body offset 0, cannot be patched: module SVN changes are
   * made on the TCB info side below.) */
  /* module version 2: no TDX_02 identity */
  dcap_quote_mods v2 = {.body_off = {TEE_TCB_SVN + 1}, .body_val = {2}};
  assert_int_equal(run(&w, &v2, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  /* module version 3: TDX_03 (isvsvn 3 UpToDate), module SVN 6 >= 3 */
  dcap_quote_mods v3 = {.body_off = {TEE_TCB_SVN + 1}, .body_val = {3}};
  assert_int_equal(run(&w, &v3, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  /* module version 0: tcbInfo.tdxModule, and bytes 0-1 count in level matching
   * (level tdx comps 5,0,2 <= 6,0,3) */
  dcap_quote_mods v0 = {.body_off = {TEE_TCB_SVN + 1}, .body_val = {0}};
  assert_int_equal(run(&w, &v0, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  /* TDX late microcode SVN (byte 2) 1 < 2 in every level */
  dcap_quote_mods mc = {.body_off = {TEE_TCB_SVN + 2}, .body_val = {1}};
  assert_int_equal(run(&w, &mc, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_UNMATCHED);
  assert_int_equal(c.tcb_status, TKMS_TCB_NO_MATCH);
  /* MRSIGNERSEAM or SEAMATTRIBUTES not the module identity's */
  dcap_quote_mods ms = {.body_off = {TKMS_TD_R_MRSIGNERSEAM + 5}, .body_val = {0x42}};
  assert_int_equal(run(&w, &ms, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  dcap_quote_mods sa = {.body_off = {TKMS_TD_R_SEAMATTRIBUTES}, .body_val = {0x01}};
  assert_int_equal(run(&w, &sa, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  /* the TDX_01 module identity at SVN 6 made OutOfDate: folded into UpToDate -> OutOfDate */
  char *e =
      dcap_edit(w.tcb_info,
                "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                "\"tcbStatus\":\"UpToDate\"}",
                "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":7},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:"
                "00:00Z\",\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-99999\"]}");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_OUT_OF_DATE);
  assert_int_equal(c.n_advisories, 1);
  assert_string_equal(c.advisories[0], "INTEL-SA-99999");
  free(e);
  /* module SVN below every TDX_01 level */
  e = dcap_edit(w.tcb_info,
                "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
                "\"UpToDate\"},{\"tcb\":{\"isvsvn\":2}",
                "{\"tcb\":{\"isvsvn\":9},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
                "\"UpToDate\"},{\"tcb\":{\"isvsvn\":8}");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_UNMATCHED);
  free(e);
  /* a debug TD, correctly signed */
  dcap_quote_mods dbg = {.body_off = {TKMS_TD_R_TDATTRIBUTES}, .body_val = {0x01}};
  assert_int_equal(run(&w, &dbg, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 1);
  /* an SGX QE identity for a TDX quote */
  e = dcap_edit(w.qe_identity, "\"id\":\"TD_QE\"", "\"id\":\"QE\"");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_COLLATERAL);
  free(e);
  dcap_world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgx_synthetic),
      cmocka_unit_test(test_tdx_synthetic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
