/* tests/unit/test_attest_dcap.c — Intel DCAP verification (src/attest/dcap*.c,
 * json.c, tcb_json.c) on the real quotes and collateral in ../shared/vectors/
 * attestation/ at their pinned times (vectors/README.md), and one negative test
 * per refusal, each asserting its specific reason code.
 *
 * Revocation cannot be shown on the Intel chain itself: a CRL naming the PCK
 * leaf would have to be signed by Intel's PCK CA. So revocation, CRL expiry
 * and the root pin are tested on tkms_dcap_chain_verify — the exact function
 * the verifier runs on the PCK chain — with a three-level P-256 hierarchy and
 * CRLs made here, passing the test root's key as the pin; and end to end in
 * test_attest_dcap_synth.c, on quotes and collateral re-signed by a test CA. */
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
#include "attest/dcap_pck.h"
#include "attest/dcap_quote.h"
#include "attest/json.h"
#include "attest/tcb_json.h"
#include "cli/collateral.h"
#include "testca.h"
#include "vectors.h"

#define QVL "attestation/dcap-qvl/"
#define GTG "attestation/go-tdx-guest/"

static uint64_t t_of(const char *s) {
  uint64_t t = 0;
  assert_int_equal(tkms_dcap_parse_time(s, strlen(s), &t), 0);
  return t;
}

static void hex_of(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static const tkms_attest_meas *meas(const tkms_attest_claims *c, const char *name) {
  for (size_t i = 0; i < c->n_meas; i++)
    if (strcmp(c->meas[i].name, name) == 0) return &c->meas[i];
  return NULL;
}

static void assert_meas_hex(const tkms_attest_claims *c, const char *name, const char *hex) {
  const tkms_attest_meas *m = meas(c, name);
  if (m == NULL) fail_msg("no measurement %s", name);
  char got[2 * TKMS_ATTEST_MEAS_MAX + 1];
  hex_of(m->value, m->len, got);
  if (strcmp(got, hex) != 0) fail_msg("%s = %s, want %s", name, got, hex);
}

/* A loaded set: quote bytes and collateral items. */
typedef struct {
  uint8_t *quote;
  size_t len;
  tkms_cli_collateral col;
} set;

static void load_file_item(set *s, const char *name, const char *rel) {
  uint8_t *b;
  size_t n;
  assert_int_equal(tv_read(rel, &b, &n), 0);
  assert_int_equal(tkms_cli_collateral_add(&s->col, name, b, n), 0);
  free(b);
}

/* dcap-qvl sample: the quote, its collateral JSON split into items, and the root. */
static void load_qvl(set *s, const char *quote, const char *collateral) {
  tkms_cli_collateral_init(&s->col);
  assert_int_equal(tv_read(quote, &s->quote, &s->len), 0);
  uint8_t *b;
  size_t n;
  assert_int_equal(tv_read(collateral, &b, &n), 0);
  assert_int_equal(tkms_cli_collateral_from_json(&s->col, (const char *)b, n), 0);
  free(b);
  load_file_item(s, "root_ca", QVL "TrustedRootCA.der");
}

/* go-tdx-guest: PCS responses and PEM chains as separate files. */
static void load_gtg(set *s) {
  tkms_cli_collateral_init(&s->col);
  assert_int_equal(tv_read(GTG "tdx_prod_quote_SPR_E4.dat", &s->quote, &s->len), 0);
  load_file_item(s, "tcb_info", GTG "sample_tcbInfo_response");
  load_file_item(s, "tcb_info_issuer_chain", GTG "tcbInfoIssuerChain.pem");
  load_file_item(s, "qe_identity", GTG "sample_qeIdentity_response");
  load_file_item(s, "qe_identity_issuer_chain", GTG "qeIdentityIssuerChain.pem");
  load_file_item(s, "pck_crl", GTG "pckcrl");
  load_file_item(s, "pck_crl_issuer_chain", GTG "pckCrlIssuerChain.pem");
  load_file_item(s, "root_ca_crl", GTG "rootcrl.der");
  load_file_item(s, "root_ca", GTG "trusted_root.pem");
}

static void set_free(set *s) {
  free(s->quote);
  tkms_cli_collateral_free(&s->col);
}

/* The reason of the last verify(). */
static char last_reason[TKMS_ATTEST_REASON_MAX];

static int verify(const set *s, int format, const char *at, tkms_attest_claims *c) {
  int rc = tkms_attest_verify(format, s->quote, s->len, &s->col.col, t_of(at), c, last_reason);
  assert_true(last_reason[0] != '\0' || rc == TKMS_ATTEST_OK);
  if (rc != TKMS_ATTEST_OK) printf("    (%s: %s)\n", tkms_attest_error_name(rc), last_reason);
  return rc;
}

static uint8_t *item_data(set *s, const char *name, size_t *len) {
  for (size_t i = 0; i < s->col.col.n; i++)
    if (strcmp(s->col.names[i], name) == 0) {
      *len = s->col.items[i].len;
      return s->col.data[i];
    }
  fail_msg("no item %s", name);
  return NULL;
}

#define SGX_AT "2025-07-01T00:00:00Z"
#define SGX_MRENCLAVE "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
#define SGX_MRSIGNER "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"

/* ---- positive sets ---------------------------------------------------- */

static void test_sgx_positive(void **state) {
  (void)state;
  set s;
  load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_SGX);
  assert_int_equal(c.tcb_status, TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
  assert_string_equal(tkms_attest_tcb_name(c.tcb_status), "ConfigurationAndSWHardeningNeeded");
  assert_int_equal(c.n_advisories, 2);
  assert_string_equal(c.advisories[0], "INTEL-SA-00289");
  assert_string_equal(c.advisories[1], "INTEL-SA-00615");
  assert_meas_hex(&c, "mrenclave", SGX_MRENCLAVE);
  assert_meas_hex(&c, "mrsigner", SGX_MRSIGNER);
  assert_meas_hex(&c, "isvprodid", "0000");
  assert_meas_hex(&c, "isvsvn", "0000");
  assert_int_equal(c.report_data_len, 64);
  assert_memory_equal(c.report_data, "Hello, world!\0\0\0", 16);
  assert_int_equal(c.debug, 0);
  assert_int_equal(c.verified_at, t_of(SGX_AT));

  /* AUTO finds the SGX verifier. */
  tkms_attest_claims a;
  assert_int_equal(verify(&s, TKMS_ATTEST_AUTO, SGX_AT, &a), TKMS_ATTEST_OK);
  assert_int_equal(a.format, TKMS_ATTEST_SGX);
  /* Without root_ca the quote chain's own root is used: its key is the pin. */
  size_t n;
  item_data(&s, "root_ca", &n);
  s.col.items[s.col.col.n - 1].name = "unused";
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &a), TKMS_ATTEST_OK);
  /* A zero-padded quote still verifies: parsing is bounded by the length fields. */
  uint8_t *padded = calloc(1, s.len + 512);
  memcpy(padded, s.quote, s.len);
  free(s.quote);
  s.quote = padded;
  s.len += 512;
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &a), TKMS_ATTEST_OK);
  set_free(&s);
}

static void test_tdx_positive_v4(void **state) {
  (void)state;
  set s;
  load_qvl(&s, QVL "tdx_quote", QVL "tdx_quote_collateral.json");
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_TDX, "2025-07-01T00:00:00Z", &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_TDX);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  assert_int_equal(c.n_advisories, 0);
  const tkms_attest_meas *m = meas(&c, "mrtd");
  assert_non_null(m);
  assert_int_equal(m->len, 48);
  char hex[97];
  hex_of(m->value, 16, hex);
  assert_string_equal(hex, "91eb2b44d141d4ece09f0c75c2c53d24");
  assert_meas_hex(&c, "tee_tcb_svn", "06010300000000000000000000000000");
  assert_non_null(meas(&c, "rtmr3"));
  assert_non_null(meas(&c, "mrconfigid"));
  assert_null(meas(&c, "tee_tcb_svn2"));
  assert_int_equal(c.debug, 0);
  tkms_attest_claims a;
  assert_int_equal(verify(&s, TKMS_ATTEST_AUTO, "2025-07-01T00:00:00Z", &a), TKMS_ATTEST_OK);
  assert_int_equal(a.format, TKMS_ATTEST_TDX);
  /* An SGX verifier refuses a TDX quote. */
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, "2025-07-01T00:00:00Z", &a),
                   TKMS_ATTEST_E_UNSUPPORTED);
  set_free(&s);
}

static void test_tdx_v5_outdated(void **state) {
  (void)state;
  set s;
  load_qvl(&s, QVL "tdx_quote_outdated", QVL "tdx_quote_outdated_collateral.json");
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_TDX, "2026-03-01T00:00:00Z", &c),
                   TKMS_ATTEST_E_TCB_UNMATCHED);
  assert_int_equal(c.tcb_status, TKMS_TCB_NO_MATCH);
  /* signatures valid, so the claims are filled */
  assert_int_equal(c.format, TKMS_ATTEST_TDX);
  const tkms_attest_meas *m = meas(&c, "mrtd");
  assert_non_null(m);
  char hex[97];
  hex_of(m->value, 16, hex);
  assert_string_equal(hex, "273828c46252fcbdd8ad2dd907130222");
  assert_meas_hex(&c, "tee_tcb_svn2", "0d010300000000000000000000000000");
  set_free(&s);
}

/* Not a set of the README table, but the manifest's note: go-tdx-guest's v5
 * sample quote with its TCB info (PCS response form, signed by the re-issued
 * TCB signing key) and dcap-qvl's 2026 collateral for the same FMSPC. */
static void test_tdx_v5_positive(void **state) {
  (void)state;
  set s;
  load_qvl(&s, GTG "quote_v5_sample.dat", QVL "tdx_quote_outdated_collateral.json");
  load_file_item(&s, "tcb_info", GTG "sample_tcbinfo_response_v5");
  for (size_t i = 0; i < s.col.col.n; i++)
    if (strcmp(s.col.items[i].name, "tcb_info_signature") == 0) s.col.items[i].name = "unused";
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_AUTO, "2026-02-25T00:00:00Z", &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_TDX);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  assert_meas_hex(&c, "tee_tcb_svn", "0b010400000000000000000000000000");
  assert_meas_hex(&c, "tee_tcb_svn2", "0d010400000000000000000000000000");
  /* that TCB info expires 2026-03-03T14:49:26Z; the rest of the set later */
  assert_int_equal(verify(&s, TKMS_ATTEST_AUTO, "2026-03-05T00:00:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  assert_non_null(strstr(last_reason, "tcb_info"));
  set_free(&s);
}

static void test_tdx_go_tdx_guest(void **state) {
  (void)state;
  set s;
  load_gtg(&s);
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_AUTO, "2023-07-01T01:00:00Z", &c),
                   TKMS_ATTEST_E_TCB_UNMATCHED);
  assert_int_equal(c.format, TKMS_ATTEST_TDX);
  assert_int_equal(c.tcb_status, TKMS_TCB_NO_MATCH);
  assert_meas_hex(&c, "tee_tcb_svn", "03000400000000000000000000000000");
  /* After the TCB info's nextUpdate (2023-07-18) the same set is stale. */
  assert_int_equal(verify(&s, TKMS_ATTEST_TDX, "2023-07-20T00:00:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  set_free(&s);
}

/* ---- negative tests on the SGX set ----------------------------------- */

static int sgx_with_flip(size_t off, uint8_t mask) {
  set s;
  load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
  s.quote[off] ^= mask;
  tkms_attest_claims c;
  int rc = verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c);
  set_free(&s);
  return rc;
}

static void test_sgx_flipped_body(void **state) {
  (void)state;
  assert_int_equal(sgx_with_flip(112, 0x01), TKMS_ATTEST_E_SIGNATURE); /* MRENCLAVE */
  assert_int_equal(sgx_with_flip(368, 0x80), TKMS_ATTEST_E_SIGNATURE); /* REPORTDATA */
  assert_int_equal(sgx_with_flip(96, 0x02), TKMS_ATTEST_E_SIGNATURE);  /* DEBUG attribute */
  assert_int_equal(sgx_with_flip(8, 0x01), TKMS_ATTEST_E_SIGNATURE);   /* header QE SVN */
}

static void test_sgx_flipped_qe_report(void **state) {
  (void)state;
  assert_int_equal(sgx_with_flip(564 + 10, 0x04), TKMS_ATTEST_E_QE_REPORT);
  assert_int_equal(sgx_with_flip(564 + 320, 0x01), TKMS_ATTEST_E_QE_REPORT); /* its REPORTDATA */
  assert_int_equal(sgx_with_flip(948 + 5, 0x01), TKMS_ATTEST_E_QE_REPORT);   /* its signature */
  /* The attestation key or the QE auth data no longer match the QE's binding. */
  assert_int_equal(sgx_with_flip(500 + 3, 0x01), TKMS_ATTEST_E_QE_REPORT);
  assert_int_equal(sgx_with_flip(1014, 0x01), TKMS_ATTEST_E_QE_REPORT);
}

static void test_sgx_flipped_signature(void **state) {
  (void)state;
  assert_int_equal(sgx_with_flip(436, 0x01), TKMS_ATTEST_E_SIGNATURE);
  assert_int_equal(sgx_with_flip(436 + 40, 0x10), TKMS_ATTEST_E_SIGNATURE);
}

static void test_sgx_flipped_tcb_info(void **state) {
  (void)state;
  set s;
  load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
  size_t n;
  uint8_t *ti = item_data(&s, "tcb_info", &n);
  /* "tcbEvaluationDataNumber":17 -> 18: still well-formed JSON, no longer signed */
  char *p = strstr((char *)ti, "\"tcbEvaluationDataNumber\":17");
  assert_non_null(p);
  p[strlen("\"tcbEvaluationDataNumber\":1")] = '8';
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_E_COLLATERAL_SIG);
  p[strlen("\"tcbEvaluationDataNumber\":1")] = '7';
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_OK);
  /* the same for the QE identity */
  uint8_t *qe = item_data(&s, "qe_identity", &n);
  p = strstr((char *)qe, "\"isvprodid\":1");
  assert_non_null(p);
  p[strlen("\"isvprodid\":")] = '2';
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_E_COLLATERAL_SIG);
  p[strlen("\"isvprodid\":")] = '1';
  /* a flipped collateral signature */
  uint8_t *sig = item_data(&s, "tcb_info_signature", &n);
  assert_int_equal(n, 64);
  sig[7] ^= 1;
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_E_COLLATERAL_SIG);
  set_free(&s);
}

static void test_sgx_expired(void **state) {
  (void)state;
  set s;
  load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
  tkms_attest_claims c;
  /* after nextUpdate of the collateral (2025-07-19) */
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, "2025-08-01T00:00:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  /* before its issueDate (2025-06-19) */
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, "2025-06-01T00:00:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  /* the QE identity's nextUpdate (10:01:18) passed, the PCK CRL (10:23:18) still valid */
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, "2025-07-19T10:10:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  assert_non_null(strstr(last_reason, "qe_identity"));
  /* the TCB info is issued (10:56:11) after the verification time; all else valid */
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, "2025-06-19T10:30:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  assert_non_null(strstr(last_reason, "tcb_info"));
  /* after the PCK leaf's notAfter */
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, "2040-01-01T00:00:00Z", &c), TKMS_ATTEST_E_EXPIRED);
  set_free(&s);
}

static void test_wrong_root(void **state) {
  (void)state;
  EVP_PKEY *k = tca_key();
  X509 *root = tca_cert("Not Intel SGX Root CA", k, NULL, NULL, 1, 1);
  unsigned char *der = NULL;
  int n = i2d_X509(root, &der);
  assert_true(n > 0);
  set s;
  load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
  assert_int_equal(tkms_cli_collateral_add(&s.col, "root_ca", der, (size_t)n), 0);
  tkms_attest_claims c;
  assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_E_ROOT);
  set_free(&s);
  OPENSSL_free(der);
  X509_free(root);
  EVP_PKEY_free(k);
}

static void test_missing_collateral(void **state) {
  (void)state;
  static const char *const required[] = {"root_ca_crl", "pck_crl",
                                         "tcb_info",    "tcb_info_issuer_chain",
                                         "qe_identity", "qe_identity_signature"};
  for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) {
    set s;
    load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
    for (size_t i = 0; i < s.col.col.n; i++)
      if (strcmp(s.col.items[i].name, required[r]) == 0) s.col.items[i].name = "renamed";
    tkms_attest_claims c;
    assert_int_equal(verify(&s, TKMS_ATTEST_SGX, SGX_AT, &c), TKMS_ATTEST_E_COLLATERAL);
    set_free(&s);
  }
  /* TDX collateral for an SGX quote */
  set s, t;
  load_qvl(&s, QVL "sgx_quote", QVL "sgx_quote_collateral.json");
  load_qvl(&t, QVL "tdx_quote", QVL "tdx_quote_collateral.json");
  free(s.quote);
  s.quote = t.quote;
  s.len = t.len;
  t.quote = NULL;
  tkms_attest_claims c;
  /* the TDX quote's PCK CA is the Platform CA, the SGX set's CRL is the Processor CA's */
  assert_int_equal(verify(&s, TKMS_ATTEST_TDX, SGX_AT, &c), TKMS_ATTEST_E_COLLATERAL);
  set_free(&s);
  set_free(&t);
}

static void test_revoked_chain(void **state) {
  (void)state;
  EVP_PKEY *rk = tca_key(), *ik = tca_key(), *lk = tca_key();
  X509 *root = tca_cert("Test Root CA", rk, NULL, NULL, 1, 1);
  X509 *ca = tca_cert("Test PCK CA", ik, root, rk, 2, 1);
  X509 *leaf = tca_cert("Test PCK Certificate", lk, ca, ik, 77, 0);
  uint8_t pin[65];
  tca_point(rk, pin);
  const time_t last = 1735689600, next = 1767225600; /* 2025-01-01 .. 2026-01-01 */
  X509_CRL *root_crl = tca_crl(root, rk, -1, last, next);
  X509_CRL *pck_ok = tca_crl(ca, ik, 5, last, next);
  X509_CRL *pck_revoked = tca_crl(ca, ik, 77, last, next);
  X509_CRL *ca_revoked = tca_crl(root, rk, 2, last, next);

  STACK_OF(X509) *chain = sk_X509_new_null();
  sk_X509_push(chain, leaf);
  sk_X509_push(chain, ca);
  sk_X509_push(chain, root);
  STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
  char reason[TKMS_ATTEST_REASON_MAX];
  uint64_t at = 1751328000; /* 2025-07-01 */

  sk_X509_CRL_push(crls, root_crl);
  sk_X509_CRL_push(crls, pck_ok);
  assert_int_equal(tkms_dcap_chain_verify(chain, root, pin, crls, at, "t", reason), TKMS_ATTEST_OK);
  /* the leaf's serial on the PCK CRL */
  sk_X509_CRL_set(crls, 1, pck_revoked);
  assert_int_equal(tkms_dcap_chain_verify(chain, root, pin, crls, at, "t", reason),
                   TKMS_ATTEST_E_REVOKED);
  /* the PCK CA's serial on the root CRL */
  sk_X509_CRL_set(crls, 0, ca_revoked);
  sk_X509_CRL_set(crls, 1, pck_ok);
  assert_int_equal(tkms_dcap_chain_verify(chain, root, pin, crls, at, "t", reason),
                   TKMS_ATTEST_E_REVOKED);
  sk_X509_CRL_set(crls, 0, root_crl);
  /* CRLs past their nextUpdate */
  assert_int_equal(tkms_dcap_chain_verify(chain, root, pin, crls, 1767225600 + 10, "t", reason),
                   TKMS_ATTEST_E_EXPIRED);
  /* no PCK CRL at all */
  sk_X509_CRL_pop(crls);
  assert_int_equal(tkms_dcap_chain_verify(chain, root, pin, crls, at, "t", reason),
                   TKMS_ATTEST_E_COLLATERAL);
  sk_X509_CRL_push(crls, pck_ok);
  /* the Intel pin refuses the test root */
  assert_int_equal(
      tkms_dcap_chain_verify(chain, root, tkms_dcap_intel_root_key, crls, at, "t", reason),
      TKMS_ATTEST_E_ROOT);
  /* a leaf issued by another CA with the same name does not chain */
  EVP_PKEY *ok2 = tca_key();
  X509 *other_ca = tca_cert("Test PCK CA", ok2, root, rk, 3, 1);
  X509 *other_leaf = tca_cert("Test PCK Certificate", lk, other_ca, ok2, 78, 0);
  sk_X509_set(chain, 0, other_leaf);
  assert_int_equal(tkms_dcap_chain_verify(chain, root, pin, crls, at, "t", reason),
                   TKMS_ATTEST_E_CHAIN);
  printf("    (%s)\n", reason);

  sk_X509_free(chain);
  sk_X509_CRL_free(crls);
  X509_CRL_free(root_crl);
  X509_CRL_free(pck_ok);
  X509_CRL_free(pck_revoked);
  X509_CRL_free(ca_revoked);
  X509_free(other_leaf);
  X509_free(other_ca);
  X509_free(leaf);
  X509_free(ca);
  X509_free(root);
  EVP_PKEY_free(ok2);
  EVP_PKEY_free(rk);
  EVP_PKEY_free(ik);
  EVP_PKEY_free(lk);
}

static void test_truncated(void **state) {
  (void)state;
  static const char *const quotes[] = {QVL "sgx_quote", QVL "tdx_quote", QVL "tdx_quote_outdated"};
  for (size_t q = 0; q < 3; q++) {
    set s;
    load_qvl(&s, quotes[q],
             q == 0 ? QVL "sgx_quote_collateral.json" : QVL "tdx_quote_collateral.json");
    int fmt = q == 0 ? TKMS_ATTEST_SGX : TKMS_ATTEST_TDX;
    char reason[TKMS_ATTEST_REASON_MAX];
    tkms_attest_claims c;
    /* Every prefix shorter than the length the fields describe is malformed
     * (tdx_quote carries 70 bytes of zero padding after that length). */
    tkms_dcap_quote p;
    assert_int_equal(tkms_dcap_quote_parse(s.quote, s.len, &p, reason), TKMS_ATTEST_OK);
    assert_true(p.quote_len <= s.len);
    for (size_t n = 0; n < p.quote_len; n++) {
      int rc = tkms_attest_verify(fmt, s.quote, n, &s.col.col, t_of(SGX_AT), &c, reason);
      if (rc != TKMS_ATTEST_E_MALFORMED) fail_msg("%s length %zu: %d %s", quotes[q], n, rc, reason);
    }
    set_free(&s);
  }
}

static void test_auto_detection(void **state) {
  (void)state;
  char reason[TKMS_ATTEST_REASON_MAX];
  tkms_attest_claims c;
  uint8_t junk[64] = {1, 2, 3};
  assert_int_equal(tkms_attest_verify(TKMS_ATTEST_AUTO, junk, sizeof junk, NULL, 0, &c, reason),
                   TKMS_ATTEST_E_UNSUPPORTED);
  static const struct {
    const char *file;
    int sgx, tdx;
  } cases[] = {{QVL "sgx_quote", 1, 0},           {QVL "tdx_quote", 0, 1},
               {QVL "tdx_quote_outdated", 0, 1},  {GTG "tdx_prod_quote_SPR_E4.dat", 0, 1},
               {GTG "quote_v5_sample.dat", 0, 1}, {GTG "cos-113-tdx-quote.dat", 0, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t *q;
    size_t n;
    assert_int_equal(tv_read(cases[i].file, &q, &n), 0);
    assert_int_equal(tkms_dcap_quote_is_sgx(q, n), cases[i].sgx);
    assert_int_equal(tkms_dcap_quote_is_tdx(q, n), cases[i].tdx);
    /* every one parses, the zero-padded COS quote included */
    tkms_dcap_quote p;
    assert_int_equal(tkms_dcap_quote_parse(q, n, &p, reason), TKMS_ATTEST_OK);
    if (strstr(cases[i].file, "cos-113") != NULL) {
      assert_int_equal(n, 8000);
      assert_true(p.quote_len < n);
    }
    /* no collateral: a collateral error, after the format is known */
    assert_int_equal(tkms_attest_verify(TKMS_ATTEST_AUTO, q, n, NULL, 0, &c, reason),
                     TKMS_ATTEST_E_COLLATERAL);
    assert_int_equal(c.format, cases[i].sgx ? TKMS_ATTEST_SGX : TKMS_ATTEST_TDX);
    free(q);
  }
}

/* The debug flag comes from the body; a debug quote cannot be made from a
 * production one (the signature breaks, see test_sgx_flipped_body), so the
 * parser is tested directly. Refusing debug enclaves is policy (issue 5). */
static void test_debug_flag(void **state) {
  (void)state;
  char reason[TKMS_ATTEST_REASON_MAX];
  uint8_t *q;
  size_t n;
  assert_int_equal(tv_read(QVL "sgx_quote", &q, &n), 0);
  tkms_dcap_quote p;
  tkms_attest_claims c;
  assert_int_equal(tkms_dcap_quote_parse(q, n, &p, reason), TKMS_ATTEST_OK);
  memset(&c, 0, sizeof c);
  assert_int_equal(tkms_dcap_body_claims(&p, &c), 0);
  assert_int_equal(c.debug, 0);
  q[96] |= 0x02;
  memset(&c, 0, sizeof c);
  assert_int_equal(tkms_dcap_body_claims(&p, &c), 0);
  assert_int_equal(c.debug, 1);
  assert_meas_hex(&c, "mrenclave", SGX_MRENCLAVE);
  free(q);

  assert_int_equal(tv_read(QVL "tdx_quote", &q, &n), 0);
  assert_int_equal(tkms_dcap_quote_parse(q, n, &p, reason), TKMS_ATTEST_OK);
  memset(&c, 0, sizeof c);
  assert_int_equal(tkms_dcap_body_claims(&p, &c), 0);
  assert_int_equal(c.debug, 0);
  q[168] |= 0x01;
  memset(&c, 0, sizeof c);
  assert_int_equal(tkms_dcap_body_claims(&p, &c), 0);
  assert_int_equal(c.debug, 1);
  free(q);
}

/* FMSPC, PCE-ID and the TCB from the PCK certificates' SGX extension. */
static void pck_of(const char *file, tkms_dcap_pck_tcb *t) {
  char reason[TKMS_ATTEST_REASON_MAX];
  uint8_t *q;
  size_t n;
  assert_int_equal(tv_read(file, &q, &n), 0);
  tkms_dcap_quote p;
  assert_int_equal(tkms_dcap_quote_parse(q, n, &p, reason), TKMS_ATTEST_OK);
  STACK_OF(X509) * chain;
  assert_int_equal(tkms_dcap_certs_load(p.pck_chain, p.pck_chain_len, &chain), 0);
  assert_int_equal(sk_X509_num(chain), 3);
  assert_int_equal(tkms_dcap_pck_tcb_read(sk_X509_value(chain, 0), t), 0);
  /* the CA is no PCK certificate */
  tkms_dcap_pck_tcb other;
  assert_int_equal(tkms_dcap_pck_tcb_read(sk_X509_value(chain, 1), &other), -1);
  /* the names the verifier requires of the PCK leaf (and of the collateral signer) */
  assert_true(tkms_dcap_cn_is(sk_X509_value(chain, 0), "Intel SGX PCK Certificate"));
  assert_false(tkms_dcap_cn_is(sk_X509_value(chain, 1), "Intel SGX PCK Certificate"));
  assert_false(tkms_dcap_cn_is(sk_X509_value(chain, 0), "Intel SGX TCB Signing"));
  assert_true(tkms_dcap_cn_is(sk_X509_value(chain, 2), "Intel SGX Root CA"));
  sk_X509_pop_free(chain, X509_free);
  free(q);
}

static void test_pck_extension(void **state) {
  (void)state;
  tkms_dcap_pck_tcb t;
  char hex[33];
  pck_of(QVL "sgx_quote", &t);
  hex_of(t.fmspc, 6, hex);
  assert_string_equal(hex, "00a067110000");
  hex_of(t.pce_id, 2, hex);
  assert_string_equal(hex, "0000");
  hex_of(t.comp_svn, 16, hex);
  assert_string_equal(hex, "0b0b0202ff0100000000000000000000");
  assert_int_equal(t.pcesvn, 13);
  pck_of(QVL "tdx_quote", &t);
  hex_of(t.fmspc, 6, hex);
  assert_string_equal(hex, "b0c06f000000");
  pck_of(GTG "tdx_prod_quote_SPR_E4.dat", &t);
  hex_of(t.fmspc, 6, hex);
  assert_string_equal(hex, "50806f000000");
  /* a bare extension: refused when truncated or empty */
  uint8_t bad[4] = {0x30, 0x02, 0x30, 0x00};
  assert_int_equal(tkms_dcap_pck_tcb_parse(bad, sizeof bad, &t), -1);
  assert_int_equal(tkms_dcap_pck_tcb_parse(bad, 1, &t), -1);
}

/* ---- JSON reader and dates ------------------------------------------- */

static int parses(const char *s) {
  tkms_sjson j;
  int rc = tkms_sjson_parse(&j, s, strlen(s));
  tkms_sjson_free(&j);
  return rc == 0;
}

static void test_json_reader(void **state) {
  (void)state;
  assert_true(parses("{}"));
  assert_true(parses(" [1, -2.5e+3, \"a\\u00e9\\n\", true, false, null, {\"k\": []}] "));
  assert_true(parses("\"\xc3\xa9\""));
  assert_false(parses(""));
  assert_false(parses("{\"a\":1,}"));
  assert_false(parses("[1,]"));
  assert_false(parses("{\"a\":1}x"));
  assert_false(parses("{\"a\":1,\"a\":2}")); /* duplicate key */
  assert_false(parses("01"));
  assert_false(parses("1."));
  assert_false(parses("\"\x01\""));
  assert_false(parses("\"\\x\""));
  assert_false(parses("\"\xc3\""));         /* truncated UTF-8 */
  assert_false(parses("\"\xed\xa0\x80\"")); /* surrogate */
  assert_false(parses("{'a':1}"));
  assert_false(parses("tru"));
  char deep[64];
  memset(deep, '[', 17);
  memset(deep + 17, ']', 17);
  deep[34] = '\0';
  assert_false(parses(deep)); /* 17 levels > TKMS_SJSON_MAX_DEPTH */
  memset(deep, '[', 16);
  memset(deep + 16, ']', 16);
  deep[32] = '\0';
  assert_true(parses(deep));

  const char *doc = "{\"tcbInfo\": {\"id\":\"SGX\", \"n\":[1,2,3]} ,\"signature\":\"00ff\"}";
  tkms_sjson j;
  assert_int_equal(tkms_sjson_parse(&j, doc, strlen(doc)), 0);
  int body = tkms_sjson_get(&j, 0, "tcbInfo");
  assert_true(body > 0);
  /* the raw slice of a value, exactly as in the input */
  assert_int_equal(j.tok[body].end - j.tok[body].start, strlen("{\"id\":\"SGX\", \"n\":[1,2,3]}"));
  assert_memory_equal(doc + j.tok[body].start, "{\"id\":\"SGX\", \"n\":[1,2,3]}",
                      j.tok[body].end - j.tok[body].start);
  assert_true(tkms_sjson_str_eq(&j, tkms_sjson_get(&j, body, "id"), "SGX"));
  uint64_t v;
  assert_int_equal(tkms_sjson_uint(&j, tkms_sjson_at(&j, tkms_sjson_get(&j, body, "n"), 2), 10, &v),
                   0);
  assert_int_equal(v, 3);
  assert_int_equal(tkms_sjson_uint(&j, tkms_sjson_at(&j, tkms_sjson_get(&j, body, "n"), 2), 2, &v),
                   -1);
  assert_int_equal(tkms_sjson_at(&j, tkms_sjson_get(&j, body, "n"), 3), -1);
  uint8_t b[2];
  assert_int_equal(tkms_sjson_hex(&j, tkms_sjson_get(&j, 0, "signature"), b, 2), 0);
  assert_int_equal(b[1], 0xff);
  assert_int_equal(tkms_sjson_get(&j, 0, "missing"), -1);
  tkms_sjson_free(&j);

  assert_int_equal(t_of("2025-07-01T00:00:00Z"), 1751328000);
  assert_int_equal(t_of("2024-02-29T23:59:59Z"), 1709251199);
  assert_int_equal(t_of("2024-02-29T23:59:59.123Z"), 1709251199);
  uint64_t t;
  assert_int_equal(tkms_dcap_parse_time("2023-02-29T00:00:00Z", 20, &t), -1);
  assert_int_equal(tkms_dcap_parse_time("2023-01-01 00:00:00Z", 20, &t), -1);
  assert_int_equal(tkms_dcap_parse_time("2023-01-01T00:00:00", 19, &t), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgx_positive),
      cmocka_unit_test(test_tdx_positive_v4),
      cmocka_unit_test(test_tdx_v5_outdated),
      cmocka_unit_test(test_tdx_go_tdx_guest),
      cmocka_unit_test(test_tdx_v5_positive),
      cmocka_unit_test(test_sgx_flipped_body),
      cmocka_unit_test(test_sgx_flipped_qe_report),
      cmocka_unit_test(test_sgx_flipped_signature),
      cmocka_unit_test(test_sgx_flipped_tcb_info),
      cmocka_unit_test(test_sgx_expired),
      cmocka_unit_test(test_wrong_root),
      cmocka_unit_test(test_missing_collateral),
      cmocka_unit_test(test_revoked_chain),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_auto_detection),
      cmocka_unit_test(test_debug_flag),
      cmocka_unit_test(test_pck_extension),
      cmocka_unit_test(test_json_reader),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
