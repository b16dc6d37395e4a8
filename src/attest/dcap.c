/* src/attest/dcap.c — Intel DCAP quote verification (SGX v3, TDX v4/v5), the
 * order of checks Intel's Quote Verification Library uses:
 *   1. parse the quote (bounded, dcap_quote.c);
 *   2. PCK chain from the quote's certification data to the pinned root key,
 *      with the root CA CRL and the PCK CRL, at `at`;
 *   3. QE report signed by the PCK leaf; QE REPORTDATA binds the attestation key
 *      (SHA-256(key || QE auth data), then 32 zero bytes);
 *   4. quote signature over header and body by the attestation key;
 *   5. TCB info and QE identity: issuer chain, signature over their raw bytes,
 *      validity at `at`, FMSPC / PCE-ID / id match; the QE matches its identity;
 *   6. TCB level: the first level the PCK's SVNs (and for TDX the TD report's
 *      TEE_TCB_SVN) reach; the TDX module identity; the statuses combined.
 * Every failed check returns its own reason code (attest.h). */
#include "attest/dcap.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attest/dcap_collateral.h"
#include "attest/dcap_pck.h"
#include "attest/tcb_json.h"

static int is_zero(const uint8_t *p, size_t n) {
  uint8_t a = 0;
  for (size_t i = 0; i < n; i++) a |= p[i];
  return a == 0;
}

static int add_be16(tkms_attest_claims *out, const char *name, uint16_t v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  return tkms_attest_add_meas(out, name, b, 2);
}

int tkms_dcap_body_claims(const tkms_dcap_quote *q, tkms_attest_claims *out) {
  const uint8_t *b = q->body;
  int rc = 0;
  if (q->body_type == TKMS_DCAP_BODY_SGX) {
    rc |= tkms_attest_add_meas(out, "mrenclave", b + TKMS_SGX_R_MRENCLAVE, 32);
    rc |= tkms_attest_add_meas(out, "mrsigner", b + TKMS_SGX_R_MRSIGNER, 32);
    rc |= add_be16(out, "isvprodid", tkms_dcap_le16(b + TKMS_SGX_R_ISVPRODID));
    rc |= add_be16(out, "isvsvn", tkms_dcap_le16(b + TKMS_SGX_R_ISVSVN));
    rc |= tkms_attest_add_meas(out, "attributes", b + TKMS_SGX_R_ATTRIBUTES, 16);
    memcpy(out->report_data, b + TKMS_SGX_R_REPORTDATA, 64);
    out->debug = (b[TKMS_SGX_R_ATTRIBUTES] & 0x02) != 0;
  } else {
    static const char *const rtmr[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    rc |= tkms_attest_add_meas(out, "mrtd", b + TKMS_TD_R_MRTD, 48);
    for (size_t i = 0; i < 4; i++)
      rc |= tkms_attest_add_meas(out, rtmr[i], b + TKMS_TD_R_RTMR0 + 48 * i, 48);
    rc |= tkms_attest_add_meas(out, "mrconfigid", b + TKMS_TD_R_MRCONFIGID, 48);
    rc |= tkms_attest_add_meas(out, "mrowner", b + TKMS_TD_R_MROWNER, 48);
    rc |= tkms_attest_add_meas(out, "mrownerconfig", b + TKMS_TD_R_MROWNERCONFIG, 48);
    rc |= tkms_attest_add_meas(out, "tee_tcb_svn", b + TKMS_TD_R_TEE_TCB_SVN, 16);
    rc |= tkms_attest_add_meas(out, "mrseam", b + TKMS_TD_R_MRSEAM, 48);
    rc |= tkms_attest_add_meas(out, "mrsignerseam", b + TKMS_TD_R_MRSIGNERSEAM, 48);
    rc |= tkms_attest_add_meas(out, "seamattributes", b + TKMS_TD_R_SEAMATTRIBUTES, 8);
    rc |= tkms_attest_add_meas(out, "tdattributes", b + TKMS_TD_R_TDATTRIBUTES, 8);
    rc |= tkms_attest_add_meas(out, "xfam", b + TKMS_TD_R_XFAM, 8);
    if (q->body_type == TKMS_DCAP_BODY_TD15) {
      rc |= tkms_attest_add_meas(out, "tee_tcb_svn2", b + TKMS_TD_R_TEE_TCB_SVN2, 16);
      rc |= tkms_attest_add_meas(out, "mrservicetd", b + TKMS_TD_R_MRSERVICETD, 48);
    }
    memcpy(out->report_data, b + TKMS_TD_R_REPORTDATA, 64);
    out->debug = (b[TKMS_TD_R_TDATTRIBUTES] & 0x01) != 0;
  }
  out->report_data_len = 64;
  return rc != 0 ? -1 : 0;
}

/* Everything one verification owns, freed in one place. */
typedef struct {
  const uint8_t *pin; /* the trust anchor's key */
  tkms_dcap_quote q;
  STACK_OF(X509) * pck_chain;
  STACK_OF(X509) * root_src; /* certificates loaded from the root_ca item */
  X509 *root;                /* borrowed from pck_chain or root_src */
  X509_CRL *root_crl, *pck_crl;
  EVP_PKEY *att_key;
  tkms_dcap_doc tcb_doc, qe_doc;
  tkms_dcap_signer_cache signer;
  tkms_tcb_info tcb;
  tkms_qe_identity qe;
} vctx;

static void vctx_free(vctx *v) {
  sk_X509_pop_free(v->pck_chain, X509_free);
  sk_X509_pop_free(v->root_src, X509_free);
  X509_CRL_free(v->root_crl);
  X509_CRL_free(v->pck_crl);
  EVP_PKEY_free(v->att_key);
  tkms_dcap_doc_free(&v->tcb_doc);
  tkms_dcap_doc_free(&v->qe_doc);
  tkms_dcap_signer_cache_free(&v->signer);
}

#define FAIL(code, ...) tkms_attest_fail(reason, (code), __VA_ARGS__)

/* Step 2: the root, the CRLs and the PCK chain. */
static int check_pck_chain(vctx *v, const tkms_attest_collateral *col, uint64_t at,
                           char reason[TKMS_ATTEST_REASON_MAX]) {
  if (tkms_dcap_certs_load(v->q.pck_chain, v->q.pck_chain_len, &v->pck_chain) != 0 ||
      sk_X509_num(v->pck_chain) < 2)
    return FAIL(TKMS_ATTEST_E_MALFORMED, "quote: PCK certificate chain does not parse");
  const tkms_attest_item *it = tkms_attest_collateral_get(col, TKMS_DCAP_ITEM_ROOT_CA);
  if (it != NULL) {
    if (tkms_dcap_certs_load(it->data, it->len, &v->root_src) != 0 || sk_X509_num(v->root_src) != 1)
      return FAIL(TKMS_ATTEST_E_COLLATERAL, "collateral root_ca is not one certificate");
    v->root = sk_X509_value(v->root_src, 0);
  } else {
    v->root = sk_X509_value(v->pck_chain, sk_X509_num(v->pck_chain) - 1);
  }
  int rc = tkms_dcap_root_check(v->root, v->pin, reason);
  if (rc != TKMS_ATTEST_OK) return rc;
  it = tkms_attest_collateral_get(col, TKMS_DCAP_ITEM_ROOT_CA_CRL);
  if (it == NULL || tkms_dcap_crl_load(it->data, it->len, &v->root_crl) != 0)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "collateral root_ca_crl missing or malformed");
  it = tkms_attest_collateral_get(col, TKMS_DCAP_ITEM_PCK_CRL);
  if (it == NULL || tkms_dcap_crl_load(it->data, it->len, &v->pck_crl) != 0)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "collateral pck_crl missing or malformed");
  STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
  if (crls == NULL || !sk_X509_CRL_push(crls, v->root_crl) || !sk_X509_CRL_push(crls, v->pck_crl)) {
    sk_X509_CRL_free(crls);
    return FAIL(TKMS_ATTEST_E_INTERNAL, "out of memory");
  }
  rc = tkms_dcap_chain_verify(v->pck_chain, v->root, v->pin, crls, at, "PCK chain", reason);
  sk_X509_CRL_free(crls);
  /* The leaf must be a PCK certificate, not another certificate under the root. */
  if (rc == TKMS_ATTEST_OK &&
      !tkms_dcap_cn_is(sk_X509_value(v->pck_chain, 0), "Intel SGX PCK Certificate"))
    rc = FAIL(TKMS_ATTEST_E_CHAIN, "PCK chain: the leaf is not an Intel SGX PCK Certificate");
  return rc;
}

/* Steps 3 and 4: the QE report and the quote signature. */
static int check_signatures(vctx *v, char reason[TKMS_ATTEST_REASON_MAX]) {
  const tkms_dcap_quote *q = &v->q;
  EVP_PKEY *pck = X509_get0_pubkey(sk_X509_value(v->pck_chain, 0));
  if (!tkms_dcap_ecdsa_verify(pck, q->qe_report, TKMS_DCAP_REPORT_LEN, q->qe_report_sig))
    return FAIL(TKMS_ATTEST_E_QE_REPORT, "QE report signature does not verify with the PCK key");
  uint8_t h[32];
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned hl = 0;
  int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(md, q->att_key, 64) == 1 &&
           EVP_DigestUpdate(md, q->qe_auth, q->qe_auth_len) == 1 &&
           EVP_DigestFinal_ex(md, h, &hl) == 1 && hl == 32;
  EVP_MD_CTX_free(md);
  if (!ok) return FAIL(TKMS_ATTEST_E_INTERNAL, "SHA-256 failed");
  const uint8_t *rd = q->qe_report + TKMS_SGX_R_REPORTDATA;
  if (memcmp(rd, h, 32) != 0 || !is_zero(rd + 32, 32))
    return FAIL(TKMS_ATTEST_E_QE_REPORT, "QE report data does not bind the attestation key");
  v->att_key = tkms_dcap_p256_key(q->att_key);
  if (v->att_key == NULL)
    return FAIL(TKMS_ATTEST_E_SIGNATURE, "attestation key is not a P-256 point");
  if (!tkms_dcap_ecdsa_verify(v->att_key, q->signed_data, q->signed_len, q->sig))
    return FAIL(TKMS_ATTEST_E_SIGNATURE, "quote signature does not verify");
  return TKMS_ATTEST_OK;
}

/* Step 5: TCB info and QE identity. */
static int check_collateral(vctx *v, const tkms_attest_collateral *col, uint64_t at, int tdx,
                            const tkms_dcap_pck_tcb *pck, char reason[TKMS_ATTEST_REASON_MAX]) {
  const char *why = NULL;
  int rc = tkms_dcap_doc_verify(col, TKMS_DCAP_ITEM_TCB_INFO, "tcbInfo",
                                TKMS_DCAP_ITEM_TCB_INFO_SIG, TKMS_DCAP_ITEM_TCB_INFO_CHAIN, v->root,
                                v->pin, v->root_crl, at, &v->signer, &v->tcb_doc, reason);
  if (rc != TKMS_ATTEST_OK) return rc;
  if (tkms_tcb_info_read(&v->tcb_doc.json, v->tcb_doc.body, &v->tcb, &why) != 0)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "%s", why);
  if (v->tcb.is_tdx != tdx)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "tcb_info is for %s, the quote is %s",
                v->tcb.is_tdx ? "TDX" : "SGX", tdx ? "TDX" : "SGX");
  if (at < v->tcb.issue_date || at > v->tcb.next_update)
    return FAIL(TKMS_ATTEST_E_EXPIRED, "tcb_info is not valid at the verification time");
  if (memcmp(v->tcb.fmspc, pck->fmspc, 6) != 0)
    return FAIL(TKMS_ATTEST_E_TCB_MISMATCH, "tcb_info FMSPC differs from the PCK certificate's");
  if (memcmp(v->tcb.pce_id, pck->pce_id, 2) != 0)
    return FAIL(TKMS_ATTEST_E_TCB_MISMATCH, "tcb_info PCE-ID differs from the PCK certificate's");

  rc = tkms_dcap_doc_verify(col, TKMS_DCAP_ITEM_QE_IDENTITY, "enclaveIdentity",
                            TKMS_DCAP_ITEM_QE_IDENTITY_SIG, TKMS_DCAP_ITEM_QE_IDENTITY_CHAIN,
                            v->root, v->pin, v->root_crl, at, &v->signer, &v->qe_doc, reason);
  if (rc != TKMS_ATTEST_OK) return rc;
  if (tkms_qe_identity_read(&v->qe_doc.json, v->qe_doc.body, &v->qe, &why) != 0)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "%s", why);
  if (v->qe.is_td_qe != tdx)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "qe_identity is for %s, the quote needs %s",
                v->qe.is_td_qe ? "TD_QE" : "QE", tdx ? "TD_QE" : "QE");
  if (at < v->qe.issue_date || at > v->qe.next_update)
    return FAIL(TKMS_ATTEST_E_EXPIRED, "qe_identity is not valid at the verification time");

  /* The QE is the one the identity names. */
  const uint8_t *r = v->q.qe_report;
  if ((tkms_dcap_le32(r + TKMS_SGX_R_MISCSELECT) & v->qe.miscselect_mask) != v->qe.miscselect)
    return FAIL(TKMS_ATTEST_E_QE_IDENTITY, "QE MISCSELECT does not match the QE identity");
  for (size_t i = 0; i < 16; i++)
    if ((r[TKMS_SGX_R_ATTRIBUTES + i] & v->qe.attributes_mask[i]) != v->qe.attributes[i])
      return FAIL(TKMS_ATTEST_E_QE_IDENTITY, "QE ATTRIBUTES do not match the QE identity");
  if (memcmp(r + TKMS_SGX_R_MRSIGNER, v->qe.mrsigner, 32) != 0)
    return FAIL(TKMS_ATTEST_E_QE_IDENTITY, "QE MRSIGNER does not match the QE identity");
  if (tkms_dcap_le16(r + TKMS_SGX_R_ISVPRODID) != v->qe.isvprodid)
    return FAIL(TKMS_ATTEST_E_QE_IDENTITY, "QE ISVPRODID does not match the QE identity");
  return TKMS_ATTEST_OK;
}

/* Adds the advisory ids of array token adv (or nothing for -1), without duplicates. */
static int add_advisories(const tkms_sjson *j, int adv, tkms_attest_claims *out) {
  if (adv < 0) return 0;
  for (size_t i = 0; i < j->tok[adv].size; i++) {
    const char *s;
    size_t n;
    if (tkms_sjson_str(j, tkms_sjson_at(j, adv, i), &s, &n) != 0 || n == 0 ||
        n >= TKMS_ATTEST_ADVISORY_MAX)
      return -1;
    int dup = 0;
    for (size_t k = 0; k < out->n_advisories && !dup; k++)
      dup = strlen(out->advisories[k]) == n && memcmp(out->advisories[k], s, n) == 0;
    if (dup) continue;
    if (out->n_advisories >= TKMS_ATTEST_MAX_ADVISORIES) return -1;
    memcpy(out->advisories[out->n_advisories], s, n);
    out->advisories[out->n_advisories][n] = '\0';
    out->n_advisories++;
  }
  return 0;
}

/* Intel's rule for folding a QE or TDX module status (UpToDate, OutOfDate or
 * Revoked) into the platform status. */
static int converge(int platform, int other) {
  if (other == TKMS_TCB_REVOKED) return TKMS_TCB_REVOKED;
  if (other == TKMS_TCB_OUT_OF_DATE) {
    if (platform == TKMS_TCB_UP_TO_DATE || platform == TKMS_TCB_SW_HARDENING_NEEDED)
      return TKMS_TCB_OUT_OF_DATE;
    if (platform == TKMS_TCB_CONFIGURATION_NEEDED ||
        platform == TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
      return TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
  }
  return platform;
}

/* First level whose isvsvn the given svn reaches, or NULL. */
static const tkms_isv_level *isv_level(const tkms_isv_level *lv, size_t n, uint16_t svn) {
  for (size_t i = 0; i < n; i++)
    if (svn >= lv[i].isvsvn) return &lv[i];
  return NULL;
}

/* TDX module identity: TEE_TCB_SVN[1] is the module's major version, [0] its
 * SVN. Version 0 is described by tcbInfo.tdxModule (no levels); others by
 * tdxModuleIdentities "TDX_<version in hex>". MRSIGNERSEAM must equal the
 * identity's mrsigner, SEAMATTRIBUTES must be zero and equal its attributes. */
static int check_tdx_module(vctx *v, int *module_status, const tkms_tdx_module **mod,
                            char reason[TKMS_ATTEST_REASON_MAX]) {
  const uint8_t *b = v->q.body;
  uint8_t version = b[TKMS_TD_R_TEE_TCB_SVN + 1], svn = b[TKMS_TD_R_TEE_TCB_SVN];
  *module_status = TKMS_TCB_UP_TO_DATE;
  *mod = NULL;
  const tkms_tdx_module *m = NULL;
  if (version == 0) {
    if (!v->tcb.has_module) return FAIL(TKMS_ATTEST_E_COLLATERAL, "tcb_info has no tdxModule");
    m = &v->tcb.module;
  } else {
    char id[16];
    snprintf(id, sizeof id, "TDX_%02X", version);
    for (size_t i = 0; i < v->tcb.n_modules && m == NULL; i++)
      if (strcasecmp(v->tcb.modules[i].id, id) == 0) m = &v->tcb.modules[i];
    if (m == NULL)
      return FAIL(TKMS_ATTEST_E_TCB_MISMATCH, "tcb_info has no TDX module identity %s", id);
  }
  if (memcmp(b + TKMS_TD_R_MRSIGNERSEAM, m->mrsigner, 48) != 0)
    return FAIL(TKMS_ATTEST_E_TCB_MISMATCH, "MRSIGNERSEAM is not the TDX module identity's");
  for (size_t i = 0; i < 8; i++)
    if (b[TKMS_TD_R_SEAMATTRIBUTES + i] != 0 || m->attributes[i] != 0)
      return FAIL(TKMS_ATTEST_E_TCB_MISMATCH, "SEAMATTRIBUTES are not zero");
  if (version != 0) {
    const tkms_isv_level *l = isv_level(m->levels, m->n_levels, svn);
    if (l == NULL) return FAIL(TKMS_ATTEST_E_TCB_UNMATCHED, "TDX module SVN matches no level");
    *module_status = l->status;
    *mod = m;
  }
  return TKMS_ATTEST_OK;
}

/* Step 6. */
static int evaluate_tcb(vctx *v, int tdx, const tkms_dcap_pck_tcb *pck, tkms_attest_claims *out,
                        char reason[TKMS_ATTEST_REASON_MAX]) {
  const tkms_tcb_level *sgx_level = NULL, *level = NULL;
  const uint8_t *tee = v->q.body + TKMS_TD_R_TEE_TCB_SVN;
  for (size_t i = 0; i < v->tcb.n_levels && level == NULL; i++) {
    const tkms_tcb_level *l = &v->tcb.levels[i];
    int ok = pck->pcesvn >= l->pcesvn;
    for (size_t c = 0; c < 16 && ok; c++) ok = pck->comp_svn[c] >= l->sgx[c];
    if (!ok) continue;
    if (!tdx) {
      level = l;
      break;
    }
    if (sgx_level == NULL) sgx_level = l;
    /* With a module version (TEE_TCB_SVN[1] > 0) the first two bytes are the
     * module's SVN and version, judged by the module identity instead. */
    for (size_t c = tee[1] > 0 ? 2 : 0; c < 16 && ok; c++) ok = tee[c] >= l->tdx[c];
    if (ok) level = l;
  }
  /* QE TCB: the first level the QE's ISVSVN reaches. */
  uint16_t qe_svn = tkms_dcap_le16(v->q.qe_report + TKMS_SGX_R_ISVSVN);
  const tkms_isv_level *qe_level = isv_level(v->qe.levels, v->qe.n_levels, qe_svn);
  if (level == NULL || qe_level == NULL) {
    out->tcb_status = TKMS_TCB_NO_MATCH;
    if (level == NULL)
      return FAIL(TKMS_ATTEST_E_TCB_UNMATCHED, "%s",
                  tdx && sgx_level != NULL ? "no TCB level matches the TD report's TEE_TCB_SVN"
                                           : "no TCB level matches the PCK certificate's SVNs");
    return FAIL(TKMS_ATTEST_E_TCB_UNMATCHED, "QE ISVSVN matches no QE identity level");
  }
  int status = level->status;
  const tkms_tdx_module *mod = NULL;
  if (tdx) {
    int module_status;
    int rc = check_tdx_module(v, &module_status, &mod, reason);
    if (rc != TKMS_ATTEST_OK) {
      if (rc == TKMS_ATTEST_E_TCB_UNMATCHED) out->tcb_status = TKMS_TCB_NO_MATCH;
      return rc;
    }
    status = converge(status, module_status);
  }
  status = converge(status, qe_level->status);
  const tkms_sjson *tj = &v->tcb_doc.json;
  if (add_advisories(tj, level->advisories, out) != 0 ||
      add_advisories(&v->qe_doc.json, qe_level->advisories, out) != 0)
    return FAIL(TKMS_ATTEST_E_COLLATERAL, "advisory ids too many or too long");
  if (mod != NULL) {
    const tkms_isv_level *ml =
        isv_level(mod->levels, mod->n_levels, v->q.body[TKMS_TD_R_TEE_TCB_SVN]);
    if (ml != NULL && add_advisories(tj, ml->advisories, out) != 0)
      return FAIL(TKMS_ATTEST_E_COLLATERAL, "advisory ids too many or too long");
  }
  out->tcb_status = status;
  return TKMS_ATTEST_OK;
}

int tkms_dcap_verify(int tdx, const uint8_t pin[65], const uint8_t *ev, size_t len,
                     const tkms_attest_collateral *col, uint64_t at, tkms_attest_claims *out,
                     char reason[TKMS_ATTEST_REASON_MAX]) {
  vctx v;
  memset(&v, 0, sizeof v);
  v.pin = pin;
  v.tcb_doc.body = v.qe_doc.body = -1;
  int rc = tkms_dcap_quote_parse(ev, len, &v.q, reason);
  if (rc == TKMS_ATTEST_OK && (v.q.tee_type == TKMS_DCAP_TEE_TDX) != tdx)
    rc = FAIL(TKMS_ATTEST_E_UNSUPPORTED, "quote is %s, not %s", tdx ? "SGX" : "TDX",
              tdx ? "TDX" : "SGX");
  if (rc == TKMS_ATTEST_OK) rc = check_pck_chain(&v, col, at, reason);
  if (rc == TKMS_ATTEST_OK) rc = check_signatures(&v, reason);
  tkms_dcap_pck_tcb pck;
  if (rc == TKMS_ATTEST_OK && tkms_dcap_pck_tcb_read(sk_X509_value(v.pck_chain, 0), &pck) != 0)
    rc = FAIL(TKMS_ATTEST_E_MALFORMED, "PCK certificate SGX extension missing or malformed");
  if (rc == TKMS_ATTEST_OK) rc = check_collateral(&v, col, at, tdx, &pck, reason);
  if (rc == TKMS_ATTEST_OK && tkms_dcap_body_claims(&v.q, out) != 0)
    rc = FAIL(TKMS_ATTEST_E_INTERNAL, "too many measurements");
  if (rc == TKMS_ATTEST_OK) rc = evaluate_tcb(&v, tdx, &pck, out, reason);
  vctx_free(&v);
  return rc;
}

static int verify_sgx(const uint8_t *ev, size_t len, const tkms_attest_collateral *col, uint64_t at,
                      tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  return tkms_dcap_verify(0, tkms_dcap_intel_root_key, ev, len, col, at, out, reason);
}

static int verify_tdx(const uint8_t *ev, size_t len, const tkms_attest_collateral *col, uint64_t at,
                      tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  return tkms_dcap_verify(1, tkms_dcap_intel_root_key, ev, len, col, at, out, reason);
}

const tkms_attest_verifier tkms_attest_dcap_sgx = {TKMS_ATTEST_SGX, "sgx", tkms_dcap_quote_is_sgx,
                                                   verify_sgx};
const tkms_attest_verifier tkms_attest_dcap_tdx = {TKMS_ATTEST_TDX, "tdx", tkms_dcap_quote_is_tdx,
                                                   verify_tdx};
