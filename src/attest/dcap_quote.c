/* src/attest/dcap_quote.c — bounded parser of Intel DCAP quotes (see dcap_quote.h). */
#include "attest/dcap_quote.h"

#include <string.h>

#include "attest/attest.h"
#include "attest/verifier.h"

/* Intel's QE vendor id: 939A7233-F79C-4CA9-940A-0DB3957F0607. */
static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

uint16_t tkms_dcap_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t tkms_dcap_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int tkms_dcap_quote_is_sgx(const uint8_t *q, size_t len) {
  return len >= TKMS_DCAP_HEADER_LEN && tkms_dcap_le16(q) == 3 &&
         tkms_dcap_le16(q + 2) == TKMS_DCAP_KEY_ECDSA_P256 &&
         tkms_dcap_le32(q + 4) == TKMS_DCAP_TEE_SGX;
}

int tkms_dcap_quote_is_tdx(const uint8_t *q, size_t len) {
  return len >= TKMS_DCAP_HEADER_LEN && (tkms_dcap_le16(q) == 4 || tkms_dcap_le16(q) == 5) &&
         tkms_dcap_le16(q + 2) == TKMS_DCAP_KEY_ECDSA_P256 &&
         tkms_dcap_le32(q + 4) == TKMS_DCAP_TEE_TDX;
}

/* A cursor over [p, end): every take is checked against what is left. */
typedef struct {
  const uint8_t *p, *end;
} cur;

static const uint8_t *take(cur *c, size_t n) {
  if ((size_t)(c->end - c->p) < n) return NULL;
  const uint8_t *r = c->p;
  c->p += n;
  return r;
}

#define MALFORMED(...) tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, __VA_ARGS__)
#define UNSUPPORTED(...) tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, __VA_ARGS__)

/* QE report, its signature, the QE auth data, then certification data that
 * must be type 5 (the PCK chain). Used directly by v3 and inside type 6. */
static int parse_qe_part(cur *c, tkms_dcap_quote *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  const uint8_t *p;
  if ((out->qe_report = take(c, TKMS_DCAP_REPORT_LEN)) == NULL ||
      (out->qe_report_sig = take(c, 64)) == NULL)
    return MALFORMED("quote: QE report truncated");
  if ((p = take(c, 2)) == NULL) return MALFORMED("quote: QE auth data size truncated");
  out->qe_auth_len = tkms_dcap_le16(p);
  if (out->qe_auth_len > TKMS_DCAP_MAX_AUTH_DATA ||
      (out->qe_auth = take(c, out->qe_auth_len)) == NULL)
    return MALFORMED("quote: QE auth data truncated");
  if ((p = take(c, 6)) == NULL) return MALFORMED("quote: certification data header truncated");
  uint16_t type = tkms_dcap_le16(p);
  uint32_t size = tkms_dcap_le32(p + 2);
  if (type != TKMS_DCAP_CERT_PCK_CHAIN)
    return UNSUPPORTED("quote: certification data type %u (only 5, the PCK chain)", type);
  if (size == 0 || size > TKMS_DCAP_MAX_CERT_DATA || (out->pck_chain = take(c, size)) == NULL)
    return MALFORMED("quote: PCK chain size %u out of bounds", (unsigned)size);
  out->pck_chain_len = size;
  return TKMS_ATTEST_OK;
}

int tkms_dcap_quote_parse(const uint8_t *q, size_t len, tkms_dcap_quote *out,
                          char reason[TKMS_ATTEST_REASON_MAX]) {
  memset(out, 0, sizeof *out);
  cur c = {q, q + len};
  const uint8_t *h = take(&c, TKMS_DCAP_HEADER_LEN);
  if (h == NULL) return MALFORMED("quote: shorter than its 48-byte header");
  out->header = h;
  out->version = tkms_dcap_le16(h);
  out->tee_type = tkms_dcap_le32(h + 4);
  if (tkms_dcap_le16(h + 2) != TKMS_DCAP_KEY_ECDSA_P256)
    return UNSUPPORTED("quote: attestation key type %u (only 2, ECDSA P-256)",
                       tkms_dcap_le16(h + 2));
  if (memcmp(h + 12, intel_qe_vendor, 16) != 0) return UNSUPPORTED("quote: QE vendor is not Intel");
  if (out->version == 3) {
    if (out->tee_type != TKMS_DCAP_TEE_SGX) return UNSUPPORTED("quote v3: TEE type is not SGX");
    out->body_type = TKMS_DCAP_BODY_SGX;
    out->body_len = TKMS_DCAP_REPORT_LEN;
  } else if (out->version == 4) {
    if (out->tee_type != TKMS_DCAP_TEE_TDX) return UNSUPPORTED("quote v4: TEE type is not TDX");
    out->body_type = TKMS_DCAP_BODY_TD10;
    out->body_len = TKMS_DCAP_TD10_LEN;
  } else if (out->version == 5) {
    if (out->tee_type != TKMS_DCAP_TEE_TDX) return UNSUPPORTED("quote v5: TEE type is not TDX");
    const uint8_t *d = take(&c, 6);
    if (d == NULL) return MALFORMED("quote v5: body descriptor truncated");
    out->body_type = tkms_dcap_le16(d);
    uint32_t size = tkms_dcap_le32(d + 2);
    size_t want = out->body_type == TKMS_DCAP_BODY_TD10   ? TKMS_DCAP_TD10_LEN
                  : out->body_type == TKMS_DCAP_BODY_TD15 ? TKMS_DCAP_TD15_LEN
                                                          : 0;
    if (want == 0)
      return UNSUPPORTED("quote v5: body type %u (only TD reports 2 and 3)", out->body_type);
    if (size != want)
      return MALFORMED("quote v5: body size %u for body type %u", size, out->body_type);
    out->body_len = want;
  } else {
    return UNSUPPORTED("quote: version %u (only 3, 4 and 5)", out->version);
  }
  if ((out->body = take(&c, out->body_len)) == NULL) return MALFORMED("quote: body truncated");
  out->signed_data = q;
  out->signed_len = (size_t)(c.p - q);

  const uint8_t *p = take(&c, 4);
  if (p == NULL) return MALFORMED("quote: signature data length truncated");
  uint32_t sig_len = tkms_dcap_le32(p);
  if (sig_len > (size_t)(c.end - c.p)) return MALFORMED("quote: signature data length too large");
  cur s = {c.p, c.p + sig_len}; /* everything below stays inside the signature data */
  out->quote_len = (size_t)(s.end - q);
  if ((out->sig = take(&s, 64)) == NULL || (out->att_key = take(&s, 64)) == NULL)
    return MALFORMED("quote: signature or attestation key truncated");
  int rc;
  if (out->version == 3) {
    rc = parse_qe_part(&s, out, reason);
  } else {
    if ((p = take(&s, 6)) == NULL) return MALFORMED("quote: certification data header truncated");
    uint16_t type = tkms_dcap_le16(p);
    uint32_t size = tkms_dcap_le32(p + 2);
    if (type != TKMS_DCAP_CERT_QE_REPORT)
      return UNSUPPORTED("quote: outer certification data type %u (only 6)", type);
    const uint8_t *inner = take(&s, size);
    if (inner == NULL) return MALFORMED("quote: QE report certification data truncated");
    cur in = {inner, inner + size};
    rc = parse_qe_part(&in, out, reason);
    if (rc == TKMS_ATTEST_OK && in.p != in.end)
      return MALFORMED("quote: trailing bytes in the QE report certification data");
  }
  if (rc != TKMS_ATTEST_OK) return rc;
  if (s.p != s.end) return MALFORMED("quote: trailing bytes in the signature data");
  return TKMS_ATTEST_OK;
}
