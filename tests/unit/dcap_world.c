/* tests/unit/dcap_world.c — see dcap_world.h. Moved here from
 * test_attest_dcap_synth.c so that tests/tools/fake_quote can use it too. */
#include "dcap_world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/dcap_collateral.h"
#include "testca.h"
#include "vectors.h"

#define CRL_LAST 1735689600 /* 2025-01-01 */
#define CRL_NEXT 1767225600 /* 2026-01-01 */

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

void dcap_world_init(dcap_world *w, int tdx, const char *leaf_cn, const char *tcb_cn,
                     EVP_PKEY *const *keys) {
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
  for (int i = 0; i < DW_NKEYS; i++) {
    if (keys != NULL) {
      assert_int_equal(EVP_PKEY_up_ref(keys[i]), 1);
      w->keys[i] = keys[i];
    } else {
      w->keys[i] = tca_key();
    }
  }
  w->crl_last = CRL_LAST;
  w->crl_next = CRL_NEXT;
  w->root = tca_cert("Test SGX Root CA", w->keys[DW_ROOT], NULL, NULL, 1, 1);
  w->ca = tca_cert("Test SGX PCK CA", w->keys[DW_CA], w->root, w->keys[DW_ROOT], 2, 1);
  w->tcb = tca_cert(tcb_cn, w->keys[DW_TCB], w->root, w->keys[DW_ROOT], 3, 0);
  /* the leaf: built by hand to carry the real SGX extension before signing */
  X509 *leaf = X509_new();
  X509_set_version(leaf, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(leaf), 77);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf), "CN", MBSTRING_ASC,
                             (const unsigned char *)leaf_cn, -1, -1, 0);
  X509_set_issuer_name(leaf, X509_get_subject_name(w->ca));
  ASN1_TIME_set(X509_getm_notBefore(leaf), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(leaf), 1893456000);
  X509_set_pubkey(leaf, w->keys[DW_LEAF]);
  X509_EXTENSION *e = real_sgx_ext(&w->rq);
  assert_int_equal(X509_add_ext(leaf, e, -1), 1);
  X509_EXTENSION_free(e);
  assert_true(X509_sign(leaf, w->keys[DW_CA], EVP_sha256()) > 0);
  w->leaf = leaf;
  tca_point(w->keys[DW_ROOT], w->pin);
}

void dcap_world_free(dcap_world *w) {
  X509 *x[] = {w->root, w->ca, w->leaf, w->tcb};
  for (size_t i = 0; i < DW_NKEYS; i++) EVP_PKEY_free(w->keys[i]);
  for (size_t i = 0; i < 4; i++) X509_free(x[i]);
  free(w->real);
  free(w->tcb_info);
  free(w->qe_identity);
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A quote in the real one's layout (v3 or v4), signed by the world. */
uint8_t *dcap_world_quote(const dcap_world *w, const dcap_quote_mods *m, size_t *len) {
  const tkms_dcap_quote *r = &w->rq;
  X509 *chain[3] = {w->leaf, w->ca, w->root};
  size_t pem_len;
  char *pem = tca_pem(chain, 3, &pem_len);
  uint8_t att[65];
  tca_point(w->keys[DW_ATT], att);
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
  tca_sign(w->keys[DW_LEAF], qe, 384, qe_sig);
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
  size_t body = (size_t)(r->body - r->signed_data);
  if (m != NULL && m->report_data != NULL)
    memcpy(q + body + (w->tdx ? TKMS_TD_R_REPORTDATA : TKMS_SGX_R_REPORTDATA), m->report_data, 64);
  if (m != NULL && m->mrtd != NULL) {
    assert_true(w->tdx);
    memcpy(q + body + TKMS_TD_R_MRTD, m->mrtd, 48);
  }
  if (m != NULL && m->rtmr3 != NULL) {
    assert_true(w->tdx);
    memcpy(q + body + TKMS_TD_R_RTMR0 + 3 * 48, m->rtmr3, 48);
  }
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
  tca_sign(w->keys[DW_ATT], q, r->signed_len, sig);
  free(pem);
  *len = total;
  return q;
}

void dcap_world_collateral(const dcap_world *w, const char *tcb_info, const char *qe_identity,
                           long revoke_on_root_crl, long revoke_on_pck_crl,
                           tkms_cli_collateral *c) {
  tkms_cli_collateral_init(c);
  size_t n;
  uint8_t *b = tca_cert_der(w->root, &n);
  assert_int_equal(tkms_cli_collateral_add(c, "root_ca", b, n), 0);
  free(b);
  X509_CRL *rc = tca_crl(w->root, w->keys[DW_ROOT], revoke_on_root_crl, w->crl_last, w->crl_next);
  X509_CRL *pc = tca_crl(w->ca, w->keys[DW_CA], revoke_on_pck_crl, w->crl_last, w->crl_next);
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
  tca_sign(w->keys[DW_TCB], (const uint8_t *)ti, strlen(ti), sig);
  assert_int_equal(tkms_cli_collateral_add(c, "tcb_info", (const uint8_t *)ti, strlen(ti)), 0);
  assert_int_equal(tkms_cli_collateral_add(c, "tcb_info_signature", sig, 64), 0);
  tca_sign(w->keys[DW_TCB], (const uint8_t *)qi, strlen(qi), sig);
  assert_int_equal(tkms_cli_collateral_add(c, "qe_identity", (const uint8_t *)qi, strlen(qi)), 0);
  assert_int_equal(tkms_cli_collateral_add(c, "qe_identity_signature", sig, 64), 0);
}

char *dcap_edit(const char *s, const char *from, const char *to) {
  const char *at = strstr(s, from);
  if (at == NULL) fail_msg("'%s' not in the document", from);
  size_t a = (size_t)(at - s), fl = strlen(from), tl = strlen(to), sl = strlen(s);
  char *out = malloc(sl - fl + tl + 1);
  memcpy(out, s, a);
  memcpy(out + a, to, tl);
  memcpy(out + a + tl, at + fl, sl - a - fl + 1);
  return out;
}

static void iso_time(time_t t, char out[32]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The signed JSON text with issueDate / nextUpdate around at and, for a TCB
 * info, every tcbLevels[].tcbStatus set to status (if not NULL). */
static char *fresh_text(const char *text, time_t at, const char *status) {
  json_error_t err;
  json_t *j = json_loads(text, 0, &err);
  if (j == NULL) {
    fail_msg("collateral text is not JSON: %s", err.text);
  }
  char a[32], b[32];
  iso_time(at - 86400, a);
  iso_time(at + 30 * 86400, b);
  json_object_set_new(j, "issueDate", json_string(a));
  json_object_set_new(j, "nextUpdate", json_string(b));
  if (status != NULL) {
    json_t *levels = json_object_get(j, "tcbLevels"), *l;
    size_t i;
    json_array_foreach(levels, i, l) json_object_set_new(l, "tcbStatus", json_string(status));
  }
  char *out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(j);
  assert_non_null(out);
  return out;
}

void dcap_world_fresh_collateral(dcap_world *w, time_t at, const char *tcb_status,
                                 tkms_cli_collateral *c) {
  w->crl_last = at - 86400;
  w->crl_next = at + 30 * 86400;
  char *ti = fresh_text(w->tcb_info, at, tcb_status);
  char *qi = fresh_text(w->qe_identity, at, NULL);
  dcap_world_collateral(w, ti, qi, -1, -1, c);
  free(ti);
  free(qi);
}
