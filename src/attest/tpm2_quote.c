/* src/attest/tpm2_quote.c — TPM 2.0 quotes (see tpm2_quote.h).
 *
 * TPMS_ATTEST (big-endian): magic u32 = TPM_GENERATED_VALUE, type u16 =
 * TPM_ST_ATTEST_QUOTE, qualifiedSigner TPM2B_NAME, extraData TPM2B_DATA (the
 * caller's nonce / report data), clockInfo (clock u64, resetCount u32,
 * restartCount u32, safe u8), firmwareVersion u64, then TPMS_QUOTE_INFO:
 * TPML_PCR_SELECTION (count u32, each hash u16, sizeofSelect u8, bitmap) and
 * pcrDigest TPM2B_DIGEST. TPMT_SIGNATURE: sigAlg u16, hashAlg u16, then for
 * ECDSA TPM2B r and TPM2B s, for RSASSA/RSAPSS one TPM2B signature. The
 * signature covers hashAlg(TPMS_ATTEST). */
#include "attest/tpm2_quote.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

#include "attest/x509chain.h"

typedef struct {
  const uint8_t *p;
  size_t n, off;
  int bad;
} rd;

static uint64_t rd_be(rd *r, size_t k) {
  if (r->bad || r->n - r->off < k) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < k; i++) v = v << 8 | r->p[r->off++];
  return v;
}

static const uint8_t *rd_bytes(rd *r, size_t k) {
  if (r->bad || r->n - r->off < k) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *q = r->p + r->off;
  r->off += k;
  return q;
}

/* A TPM2B of at most max bytes. */
static const uint8_t *rd_tpm2b(rd *r, size_t max, size_t *len) {
  size_t k = (size_t)rd_be(r, 2);
  if (k > max) r->bad = 1;
  *len = r->bad ? 0 : k;
  return rd_bytes(r, *len);
}

typedef struct {
  const uint8_t *signer, *extra, *select, *pcr_digest;
  size_t signer_len, extra_len, select_len, pcr_digest_len;
  uint64_t clock, firmware;
  uint32_t reset_count, restart_count;
  uint8_t safe;
  uint16_t bank_alg[TKMS_TPM2_MAX_BANKS];
  uint8_t bank_select[TKMS_TPM2_MAX_BANKS][4];
  uint8_t bank_select_len[TKMS_TPM2_MAX_BANKS];
  uint32_t n_banks;
} quote;

static int parse_attest(const uint8_t *p, size_t n, quote *q, char reason[TKMS_ATTEST_REASON_MAX]) {
  rd r = {p, n, 0, 0};
  memset(q, 0, sizeof *q);
  uint32_t magic = (uint32_t)rd_be(&r, 4);
  uint16_t type = (uint16_t)rd_be(&r, 2);
  if (!r.bad && magic != TKMS_TPM2_GENERATED_VALUE)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "TPMS_ATTEST magic 0x%08x is not TPM_GENERATED_VALUE", magic);
  if (!r.bad && type != TKMS_TPM2_ST_ATTEST_QUOTE)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED,
                            "TPMS_ATTEST type 0x%04x is not a quote (0x8018)", type);
  q->signer = rd_tpm2b(&r, 2 + 64, &q->signer_len);
  q->extra = rd_tpm2b(&r, 64, &q->extra_len);
  q->clock = rd_be(&r, 8);
  q->reset_count = (uint32_t)rd_be(&r, 4);
  q->restart_count = (uint32_t)rd_be(&r, 4);
  q->safe = (uint8_t)rd_be(&r, 1);
  q->firmware = rd_be(&r, 8);
  size_t sel_start = r.off;
  q->n_banks = (uint32_t)rd_be(&r, 4);
  if (q->n_banks > TKMS_TPM2_MAX_BANKS) r.bad = 1;
  for (uint32_t i = 0; !r.bad && i < q->n_banks; i++) {
    q->bank_alg[i] = (uint16_t)rd_be(&r, 2);
    size_t k = (size_t)rd_be(&r, 1);
    if (k > 4) r.bad = 1;
    const uint8_t *bm = rd_bytes(&r, r.bad ? 0 : k);
    if (bm != NULL && k > 0) memcpy(q->bank_select[i], bm, k);
    q->bank_select_len[i] = (uint8_t)k;
  }
  q->select = p + sel_start;
  q->select_len = r.off - sel_start;
  q->pcr_digest = rd_tpm2b(&r, 64, &q->pcr_digest_len);
  if (r.bad || r.off != n)
    return tkms_attest_fail(
        reason, TKMS_ATTEST_E_MALFORMED,
        r.bad ? "TPMS_ATTEST is truncated or a length is out of range" : "bytes after TPMS_ATTEST");
  return TKMS_ATTEST_OK;
}

static const char *md_name(uint16_t alg) {
  switch (alg) {
    case TKMS_TPM2_ALG_SHA256:
      return "SHA256";
    case TKMS_TPM2_ALG_SHA384:
      return "SHA384";
    case TKMS_TPM2_ALG_SHA512:
      return "SHA512";
    default:
      return NULL;
  }
}

static size_t bank_digest_len(uint16_t alg) {
  switch (alg) {
    case TKMS_TPM2_ALG_SHA1:
      return 20;
    case TKMS_TPM2_ALG_SHA256:
      return 32;
    case TKMS_TPM2_ALG_SHA384:
      return 48;
    case TKMS_TPM2_ALG_SHA512:
      return 64;
    default:
      return 0;
  }
}

static EVP_PKEY *load_pubkey(const uint8_t *d, size_t n) {
  if (d == NULL || n == 0 || n > 8192) return NULL;
  EVP_PKEY *k = NULL;
  if (d[0] == 0x30) {
    const unsigned char *p = d;
    k = d2i_PUBKEY(NULL, &p, (long)n);
    if (k != NULL && p != d + n) {
      EVP_PKEY_free(k);
      k = NULL;
    }
  } else {
    BIO *b = BIO_new_mem_buf(d, (int)n);
    if (b != NULL) k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
  }
  ERR_clear_error();
  return k;
}

static int verify_sig(const uint8_t *attest, size_t attest_len, const uint8_t *sig, size_t sig_len,
                      EVP_PKEY *ak, const char **md_out, char reason[TKMS_ATTEST_REASON_MAX]) {
  rd r = {sig, sig_len, 0, 0};
  uint16_t sig_alg = (uint16_t)rd_be(&r, 2);
  uint16_t hash_alg = (uint16_t)rd_be(&r, 2);
  const uint8_t *a, *b = NULL;
  size_t al, bl = 0;
  if (!r.bad && sig_alg == TKMS_TPM2_ALG_ECDSA) {
    a = rd_tpm2b(&r, 66, &al);
    b = rd_tpm2b(&r, 66, &bl);
  } else if (!r.bad && (sig_alg == TKMS_TPM2_ALG_RSASSA || sig_alg == TKMS_TPM2_ALG_RSAPSS)) {
    a = rd_tpm2b(&r, 512, &al);
  } else {
    return r.bad ? tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "TPMT_SIGNATURE truncated")
                 : tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "signature algorithm 0x%04x",
                                    sig_alg);
  }
  if (r.bad || r.off != sig_len)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "TPMT_SIGNATURE truncated or followed by bytes");
  const char *md = md_name(hash_alg);
  if (md == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED,
                            "signature hash 0x%04x (SHA-256, -384, -512 are verified)", hash_alg);
  *md_out = md;
  int key_type = EVP_PKEY_get_base_id(ak);
  int want = sig_alg == TKMS_TPM2_ALG_ECDSA ? EVP_PKEY_EC : EVP_PKEY_RSA;
  if (key_type != want)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_SIGNATURE,
                            "the quote's signature algorithm does not fit the ak_pub key type");
  int v;
  if (sig_alg == TKMS_TPM2_ALG_ECDSA) {
    v = tkms_attest_ecdsa_verify_rs(ak, md, attest, attest_len, a, al, b, bl);
  } else {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    v = -1;
    if (m != NULL && EVP_DigestVerifyInit_ex(m, &pctx, md, NULL, NULL, ak, NULL) == 1 &&
        (sig_alg == TKMS_TPM2_ALG_RSASSA ||
         (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1)))
      v = EVP_DigestVerify(m, a, al, attest, attest_len) == 1 ? 1 : 0;
    EVP_MD_CTX_free(m);
    ERR_clear_error();
  }
  if (v < 0) return tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "signature check failed");
  if (v == 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_SIGNATURE,
                            "the quote signature does not verify with ak_pub");
  return TKMS_ATTEST_OK;
}

/* pcr_values must be exactly the selected PCRs and hash to pcrDigest. */
static int check_pcr_values(const quote *q, const tkms_attest_item *pv, const char *md,
                            char reason[TKMS_ATTEST_REASON_MAX]) {
  size_t want = 0;
  for (uint32_t i = 0; i < q->n_banks; i++) {
    size_t dl = bank_digest_len(q->bank_alg[i]);
    if (dl == 0)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "PCR bank 0x%04x", q->bank_alg[i]);
    for (unsigned j = 0; j < q->bank_select_len[i]; j++)
      want += dl * (size_t)__builtin_popcount(q->bank_select[i][j]);
  }
  if (pv->len != want)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                            "pcr_values holds %zu bytes; the selection needs %zu", pv->len, want);
  uint8_t h[64];
  unsigned int hl = 0;
  if (EVP_Digest(pv->data, pv->len, h, &hl, EVP_get_digestbyname(md), NULL) != 1)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "digest failed");
  if (hl != q->pcr_digest_len || memcmp(h, q->pcr_digest, hl) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_TCB_MISMATCH,
                            "pcr_values do not hash to the quoted pcrDigest");
  return TKMS_ATTEST_OK;
}

static void be(uint64_t v, uint8_t *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

static int add_claims(const quote *q, tkms_attest_claims *out) {
  uint8_t b[8];
  int bad = tkms_attest_add_meas(out, "pcr_digest", q->pcr_digest, q->pcr_digest_len);
  bad |= tkms_attest_add_meas(out, "pcr_select", q->select, q->select_len);
  be(q->firmware, b, 8);
  bad |= tkms_attest_add_meas(out, "firmware_version", b, 8);
  be(q->clock, b, 8);
  bad |= tkms_attest_add_meas(out, "clock", b, 8);
  be(q->reset_count, b, 4);
  bad |= tkms_attest_add_meas(out, "reset_count", b, 4);
  be(q->restart_count, b, 4);
  bad |= tkms_attest_add_meas(out, "restart_count", b, 4);
  bad |= tkms_attest_add_meas(out, "safe", &q->safe, 1);
  if (q->signer_len <= TKMS_ATTEST_MEAS_MAX)
    bad |= tkms_attest_add_meas(out, "qualified_signer", q->signer, q->signer_len);
  if (q->extra_len > 0) memcpy(out->report_data, q->extra, q->extra_len);
  out->report_data_len = q->extra_len;
  out->debug = 0; /* a TPM has no debug mode; what runs is in the PCRs */
  out->tcb_status = TKMS_TCB_NOT_APPLICABLE;
  return bad ? -1 : 0;
}

static int tpm2_detect(const uint8_t *ev, size_t len) {
  return len >= TKMS_TPM2_MAGIC_BYTES && memcmp(ev, TKMS_TPM2_MAGIC, TKMS_TPM2_MAGIC_BYTES) == 0;
}

static int tpm2_verify(const uint8_t *ev, size_t len, const tkms_attest_collateral *col,
                       uint64_t at, tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  (void)at; /* a quote carries no validity period; clock is the TPM's, not wall time */
  rd r = {ev, len, 0, 0};
  const uint8_t *magic = rd_bytes(&r, TKMS_TPM2_MAGIC_BYTES);
  if (magic == NULL || memcmp(magic, TKMS_TPM2_MAGIC, TKMS_TPM2_MAGIC_BYTES) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "not a TKMSTPM1 container");
  size_t attest_len, sig_len;
  const uint8_t *attest = rd_tpm2b(&r, TKMS_TPM2_MAX_ATTEST, &attest_len);
  const uint8_t *sig = rd_tpm2b(&r, TKMS_TPM2_MAX_SIG, &sig_len);
  if (r.bad || attest_len == 0 || sig_len == 0 || r.off != len)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "container lengths do not match its size");
  quote q;
  int rc = parse_attest(attest, attest_len, &q, reason);
  if (rc != TKMS_ATTEST_OK) return rc;
  const tkms_attest_item *ak_item = tkms_attest_collateral_get(col, "ak_pub");
  if (ak_item == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "collateral \"ak_pub\" is required");
  EVP_PKEY *ak = load_pubkey(ak_item->data, ak_item->len);
  if (ak == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                            "ak_pub is not a SubjectPublicKeyInfo (PEM or DER)");
  const char *md = NULL;
  rc = verify_sig(attest, attest_len, sig, sig_len, ak, &md, reason);
  EVP_PKEY_free(ak);
  if (rc != TKMS_ATTEST_OK) return rc;
  const tkms_attest_item *pv = tkms_attest_collateral_get(col, "pcr_values");
  if (pv != NULL && (rc = check_pcr_values(&q, pv, md, reason)) != TKMS_ATTEST_OK) return rc;
  if (add_claims(&q, out) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "claims do not fit");
  return TKMS_ATTEST_OK;
}

const tkms_attest_verifier tkms_attest_tpm2_verifier = {
    .format = TKMS_ATTEST_TPM2,
    .name = "tpm2",
    .detect = tpm2_detect,
    .verify = tpm2_verify,
};
