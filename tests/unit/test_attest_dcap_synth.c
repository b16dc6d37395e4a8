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
#include "testca.h"
#include "vectors.h"

#define AT 1751328000u      /* 2025-07-01T00:00:00Z */
#define CRL_LAST 1735689600 /* 2025-01-01 */
#define CRL_NEXT 1767225600 /* 2026-01-01 */

typedef struct {
  int tdx;
  EVP_PKEY *root_k, *ca_k, *leaf_k, *tcb_k, *att_k;
  X509 *root, *ca, *leaf, *tcb;
  uint8_t pin[65];
  /* from the real set */
  uint8_t *real;
  size_t real_len;
  tkms_dcap_quote rq;
  char *tcb_info, *qe_identity; /* the signed JSON text */
} world;

/* A copy of the SGX extension of the real PCK leaf in the real quote's chain. */
static X509_EXTENSION *real_sgx_ext(const tkms_dcap_quote *q) {
  STACK_OF(X509) * chain;
  assert_int_equal(tkms_dcap_certs_load(q->pck_chain, q->pck_chain_len, &chain), 0);
  ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
  X509 *leaf = sk_X509_value(chain, 0);
  int idx = X509_get_ext_by_OBJ(leaf, o, -1);
  assert_true(idx >= 0);
  X509_EXTENSION *e = X509_EXTENSION_dup(X509_get_ext(leaf, idx));
  ASN1_OBJECT_free(o);
  sk_X509_pop_free(chain, X509_free);
  return e;
}

static char *json_field(const char *collateral_rel, const char *key) {
  json_t *j = tv_json(collateral_rel);
  assert_non_null(j);
  const char *s = json_string_value(json_object_get(j, key));
  assert_non_null(s);
  char *out = strdup(s);
  json_decref(j);
  return out;
}

static void world_init(world *w, int tdx, const char *leaf_cn, const char *tcb_cn) {
  memset(w, 0, sizeof *w);
  w->tdx = tdx;
  const char *quote = tdx ? "attestation/dcap-qvl/tdx_quote" : "attestation/dcap-qvl/sgx_quote";
  const char *col = tdx ? "attestation/dcap-qvl/tdx_quote_collateral.json"
                        : "attestation/dcap-qvl/sgx_quote_collateral.json";
  char reason[TKMS_ATTEST_REASON_MAX];
  assert_int_equal(tv_read(quote, &w->real, &w->real_len), 0);
  assert_int_equal(tkms_dcap_quote_parse(w->real, w->real_len, &w->rq, reason), TKMS_ATTEST_OK);
  w->tcb_info = json_field(col, "tcb_info");
  w->qe_identity = json_field(col, "qe_identity");
  w->root_k = tca_key();
  w->ca_k = tca_key();
  w->leaf_k = tca_key();
  w->tcb_k = tca_key();
  w->att_k = tca_key();
  w->root = tca_cert("Test SGX Root CA", w->root_k, NULL, NULL, 1, 1);
  w->ca = tca_cert("Test SGX PCK CA", w->ca_k, w->root, w->root_k, 2, 1);
  w->tcb = tca_cert(tcb_cn, w->tcb_k, w->root, w->root_k, 3, 0);
  /* the leaf: built by hand to carry the real SGX extension before signing */
  X509 *leaf = X509_new();
  X509_set_version(leaf, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(leaf), 77);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf), "CN", MBSTRING_ASC,
                             (const unsigned char *)leaf_cn, -1, -1, 0);
  X509_set_issuer_name(leaf, X509_get_subject_name(w->ca));
  ASN1_TIME_set(X509_getm_notBefore(leaf), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(leaf), 1893456000);
  X509_set_pubkey(leaf, w->leaf_k);
  X509_EXTENSION *e = real_sgx_ext(&w->rq);
  assert_int_equal(X509_add_ext(leaf, e, -1), 1);
  X509_EXTENSION_free(e);
  assert_true(X509_sign(leaf, w->ca_k, EVP_sha256()) > 0);
  w->leaf = leaf;
  tca_point(w->root_k, w->pin);
}

static void world_free(world *w) {
  EVP_PKEY *k[] = {w->root_k, w->ca_k, w->leaf_k, w->tcb_k, w->att_k};
  X509 *x[] = {w->root, w->ca, w->leaf, w->tcb};
  for (size_t i = 0; i < 5; i++) EVP_PKEY_free(k[i]);
  for (size_t i = 0; i < 4; i++) X509_free(x[i]);
  free(w->real);
  free(w->tcb_info);
  free(w->qe_identity);
}

/* What a quote may be changed in before it is signed. */
typedef struct {
  size_t body_off[4]; /* offsets into the body (0 = none, body offset 0 is never patched) */
  uint8_t body_val[4];
  int qe_rd_high_nonzero; /* REPORTDATA[32] = 1 in the QE report */
  int zero_att_key;       /* an attestation key that is no curve point */
} quote_mods;

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A quote in the real one's layout (v3 or v4), signed by the world. */
static uint8_t *make_quote(const world *w, const quote_mods *m, size_t *len) {
  const tkms_dcap_quote *r = &w->rq;
  X509 *chain[3] = {w->leaf, w->ca, w->root};
  size_t pem_len;
  char *pem = tca_pem(chain, 3, &pem_len);
  uint8_t att[65];
  tca_point(w->att_k, att);
  uint8_t key[64];
  memcpy(key, att + 1, 64);
  if (m != NULL && m->zero_att_key) memset(key, 0, 64);
  /* QE report: the real one, binding our attestation key */
  uint8_t qe[384];
  memcpy(qe, r->qe_report, 384);
  uint8_t *hb = malloc(64 + r->qe_auth_len);
  memcpy(hb, key, 64);
  memcpy(hb + 64, r->qe_auth, r->qe_auth_len);
  unsigned hl;
  assert_int_equal(EVP_Digest(hb, 64 + r->qe_auth_len, qe + 320, &hl, EVP_sha256(), NULL), 1);
  free(hb);
  memset(qe + 352, 0, 32);
  if (m != NULL && m->qe_rd_high_nonzero) qe[352] = 1;
  uint8_t qe_sig[64];
  tca_sign(w->leaf_k, qe, 384, qe_sig);
  /* QE part: report, signature, auth data, type 5 PEM chain */
  size_t qe_part_len = 384 + 64 + 2 + r->qe_auth_len + 6 + pem_len;
  size_t cert_len = w->tdx ? 6 + qe_part_len : qe_part_len;
  size_t sig_len = 128 + cert_len;
  size_t total = r->signed_len + 4 + sig_len;
  uint8_t *q = calloc(1, total), *p = q;
  memcpy(p, r->signed_data, r->signed_len);
  for (int i = 0; m != NULL && i < 4; i++)
    if (m->body_off[i] != 0)
      q[(size_t)(r->body - r->signed_data) + m->body_off[i]] = m->body_val[i];
  p += r->signed_len;
  put32(p, (uint32_t)sig_len);
  p += 4;
  uint8_t *sig = p;
  p += 64;
  memcpy(p, key, 64);
  p += 64;
  if (w->tdx) {
    put16(p, 6);
    put32(p + 2, (uint32_t)qe_part_len);
    p += 6;
  }
  memcpy(p, qe, 384);
  p += 384;
  memcpy(p, qe_sig, 64);
  p += 64;
  put16(p, (uint16_t)r->qe_auth_len);
  p += 2;
  memcpy(p, r->qe_auth, r->qe_auth_len);
  p += r->qe_auth_len;
  put16(p, 5);
  put32(p + 2, (uint32_t)pem_len);
  p += 6;
  memcpy(p, pem, pem_len);
  p += pem_len;
  assert_int_equal((size_t)(p - q), total);
  tca_sign(w->att_k, q, r->signed_len, sig);
  free(pem);
  *len = total;
  return q;
}

/* Collateral for the world: tcb_info / qe_identity text (NULL: the real one)
 * re-signed; the CA or the leaf revoked when asked. */
static void make_collateral(const world *w, const char *tcb_info, const char *qe_identity,
                            long revoke_on_root_crl, long revoke_on_pck_crl,
                            tkms_cli_collateral *c) {
  tkms_cli_collateral_init(c);
  size_t n;
  uint8_t *b = tca_cert_der(w->root, &n);
  assert_int_equal(tkms_cli_collateral_add(c, "root_ca", b, n), 0);
  free(b);
  X509_CRL *rc = tca_crl(w->root, w->root_k, revoke_on_root_crl, CRL_LAST, CRL_NEXT);
  X509_CRL *pc = tca_crl(w->ca, w->ca_k, revoke_on_pck_crl, CRL_LAST, CRL_NEXT);
  b = tca_crl_der(rc, &n);
  assert_int_equal(tkms_cli_collateral_add(c, "root_ca_crl", b, n), 0);
  free(b);
  b = tca_crl_der(pc, &n);
  assert_int_equal(tkms_cli_collateral_add(c, "pck_crl", b, n), 0);
  free(b);
  X509_CRL_free(rc);
  X509_CRL_free(pc);
  X509 *chain[2] = {w->tcb, w->root};
  char *pem = tca_pem(chain, 2, &n);
  assert_int_equal(tkms_cli_collateral_add(c, "tcb_info_issuer_chain", (uint8_t *)pem, n), 0);
  assert_int_equal(tkms_cli_collateral_add(c, "qe_identity_issuer_chain", (uint8_t *)pem, n), 0);
  free(pem);
  const char *ti = tcb_info != NULL ? tcb_info : w->tcb_info;
  const char *qi = qe_identity != NULL ? qe_identity : w->qe_identity;
  uint8_t sig[64];
  tca_sign(w->tcb_k, (const uint8_t *)ti, strlen(ti), sig);
  assert_int_equal(tkms_cli_collateral_add(c, "tcb_info", (const uint8_t *)ti, strlen(ti)), 0);
  assert_int_equal(tkms_cli_collateral_add(c, "tcb_info_signature", sig, 64), 0);
  tca_sign(w->tcb_k, (const uint8_t *)qi, strlen(qi), sig);
  assert_int_equal(tkms_cli_collateral_add(c, "qe_identity", (const uint8_t *)qi, strlen(qi)), 0);
  assert_int_equal(tkms_cli_collateral_add(c, "qe_identity_signature", sig, 64), 0);
}

/* s with the first occurrence of from replaced by to (malloc'd). */
static char *edit(const char *s, const char *from, const char *to) {
  const char *at = strstr(s, from);
  if (at == NULL) fail_msg("'%s' not in the document", from);
  size_t a = (size_t)(at - s), fl = strlen(from), tl = strlen(to), sl = strlen(s);
  char *out = malloc(sl - fl + tl + 1);
  memcpy(out, s, a);
  memcpy(out + a, to, tl);
  memcpy(out + a + tl, at + fl, sl - a - fl + 1);
  return out;
}

/* Runs the verifier on the world's quote (with mods) and collateral. */
static int run(const world *w, const quote_mods *m, const char *tcb_info, const char *qe_identity,
               long revoke_root, long revoke_pck, tkms_attest_claims *out) {
  size_t len;
  uint8_t *q = make_quote(w, m, &len);
  tkms_cli_collateral c;
  make_collateral(w, tcb_info, qe_identity, revoke_root, revoke_pck, &c);
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
  world w;
  world_init(&w, 0, "Intel SGX PCK Certificate", "Intel SGX TCB Signing");
  tkms_attest_claims c;
  /* baseline: the real set's verdict */
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
  assert_int_equal(c.n_advisories, 2);
  /* the same quote against the Intel pin: the test root is refused */
  {
    size_t len;
    uint8_t *q = make_quote(&w, NULL, &len);
    tkms_cli_collateral col;
    make_collateral(&w, NULL, NULL, -1, -1, &col);
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
  quote_mods m = {.qe_rd_high_nonzero = 1};
  assert_int_equal(run(&w, &m, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_QE_REPORT);
  /* an attestation key that is no point, bound and signed correctly */
  quote_mods z = {.zero_att_key = 1};
  assert_int_equal(run(&w, &z, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_SIGNATURE);
  /* a debug enclave, correctly signed: verifies, and says so */
  quote_mods d = {.body_off = {TKMS_SGX_R_ATTRIBUTES}, .body_val = {0x07}};
  assert_int_equal(run(&w, &d, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 1);

  /* the QE is not the one the QE identity names */
  char *e = edit(w.qe_identity, "\"mrsigner\":\"8C4F", "\"mrsigner\":\"9C4F");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  e = edit(w.qe_identity, "\"isvprodid\":1", "\"isvprodid\":2");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  e = edit(w.qe_identity, "\"miscselect\":\"00000000\"", "\"miscselect\":\"00000001\"");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  e = edit(w.qe_identity, "\"attributes\":\"11", "\"attributes\":\"13");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_QE_IDENTITY);
  free(e);
  /* the QE's ISVSVN (10) reaches only the OutOfDate level: folded into the platform's */
  e = edit(w.qe_identity, "{\"isvsvn\":8}", "{\"isvsvn\":11}");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
  assert_int_equal(c.n_advisories, 2); /* INTEL-SA-00615 from both, once */
  free(e);
  /* a QE Revoked level */
  char *e1 = edit(w.qe_identity,
                  "{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"",
                  "{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"Revoked\"");
  assert_int_equal(run(&w, NULL, NULL, e1, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_REVOKED);
  free(e1);
  /* the QE's ISVSVN below every level */
  e = edit(w.qe_identity, "\"tcbLevels\":[",
           "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":200},\"tcbDate\":\"2025-01-01T00:00:00Z\","
           "\"tcbStatus\":\"UpToDate\"}],\"x\":[");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_TCB_UNMATCHED);
  assert_int_equal(c.tcb_status, TKMS_TCB_NO_MATCH);
  free(e);
  /* a TCB info for another FMSPC, another PCE-ID */
  e = edit(w.tcb_info, "\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A067110001\"");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  free(e);
  e = edit(w.tcb_info, "\"pceId\":\"0000\"", "\"pceId\":\"0001\"");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  free(e);
  /* the TCB info's first matching level decides: make it a plain UpToDate one */
  e = edit(w.tcb_info, "\"tcbLevels\":[",
           "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":11},{\"svn\":11},{\"svn\":2},{"
           "\"svn\":2},{\"svn\":255},{\"svn\":1},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{"
           "\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":13},"
           "\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  assert_int_equal(c.n_advisories, 0);
  free(e);
  /* a TCB info for TDX given for an SGX quote */
  e = edit(w.tcb_info, "\"id\":\"SGX\"", "\"id\":\"TDX\"");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_COLLATERAL);
  free(e);
  world_free(&w);

  /* collateral signed by a certificate that is not Intel's TCB signing one */
  world_init(&w, 0, "Intel SGX PCK Certificate", "Intel SGX PCK Certificate");
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_CHAIN);
  world_free(&w);
  /* a leaf that is not a PCK certificate */
  world_init(&w, 0, "Intel SGX TCB Signing", "Intel SGX TCB Signing");
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_CHAIN);
  world_free(&w);
}

#define TEE_TCB_SVN TKMS_TD_R_TEE_TCB_SVN

static void test_tdx_synthetic(void **state) {
  (void)state;
  world w;
  world_init(&w, 1, "Intel SGX PCK Certificate", "Intel SGX TCB Signing");
  tkms_attest_claims c;
  /* baseline: TEE_TCB_SVN 06 01 03: module TDX_01 at SVN 6, UpToDate */
  assert_int_equal(run(&w, NULL, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  /* (TEE_TCB_SVN[0], body offset 0, cannot be patched: module SVN changes are
   * made on the TCB info side below.) */
  /* module version 2: no TDX_02 identity */
  quote_mods v2 = {.body_off = {TEE_TCB_SVN + 1}, .body_val = {2}};
  assert_int_equal(run(&w, &v2, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  /* module version 3: TDX_03 (isvsvn 3 UpToDate), module SVN 6 >= 3 */
  quote_mods v3 = {.body_off = {TEE_TCB_SVN + 1}, .body_val = {3}};
  assert_int_equal(run(&w, &v3, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  /* module version 0: tcbInfo.tdxModule, and bytes 0-1 count in level matching
   * (level tdx comps 5,0,2 <= 6,0,3) */
  quote_mods v0 = {.body_off = {TEE_TCB_SVN + 1}, .body_val = {0}};
  assert_int_equal(run(&w, &v0, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.tcb_status, TKMS_TCB_UP_TO_DATE);
  /* TDX late microcode SVN (byte 2) 1 < 2 in every level */
  quote_mods mc = {.body_off = {TEE_TCB_SVN + 2}, .body_val = {1}};
  assert_int_equal(run(&w, &mc, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_UNMATCHED);
  assert_int_equal(c.tcb_status, TKMS_TCB_NO_MATCH);
  /* MRSIGNERSEAM or SEAMATTRIBUTES not the module identity's */
  quote_mods ms = {.body_off = {TKMS_TD_R_MRSIGNERSEAM + 5}, .body_val = {0x42}};
  assert_int_equal(run(&w, &ms, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  quote_mods sa = {.body_off = {TKMS_TD_R_SEAMATTRIBUTES}, .body_val = {0x01}};
  assert_int_equal(run(&w, &sa, NULL, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_MISMATCH);
  /* the TDX_01 module identity at SVN 6 made OutOfDate: folded into UpToDate -> OutOfDate */
  char *e = edit(w.tcb_info,
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
  e = edit(w.tcb_info,
           "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
           "\"UpToDate\"},{\"tcb\":{\"isvsvn\":2}",
           "{\"tcb\":{\"isvsvn\":9},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
           "\"UpToDate\"},{\"tcb\":{\"isvsvn\":8}");
  assert_int_equal(run(&w, NULL, e, NULL, -1, -1, &c), TKMS_ATTEST_E_TCB_UNMATCHED);
  free(e);
  /* a debug TD, correctly signed */
  quote_mods dbg = {.body_off = {TKMS_TD_R_TDATTRIBUTES}, .body_val = {0x01}};
  assert_int_equal(run(&w, &dbg, NULL, NULL, -1, -1, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 1);
  /* an SGX QE identity for a TDX quote */
  e = edit(w.qe_identity, "\"id\":\"TD_QE\"", "\"id\":\"QE\"");
  assert_int_equal(run(&w, NULL, NULL, e, -1, -1, &c), TKMS_ATTEST_E_COLLATERAL);
  free(e);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgx_synthetic),
      cmocka_unit_test(test_tdx_synthetic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
