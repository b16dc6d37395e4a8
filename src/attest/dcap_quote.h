/* src/attest/dcap_quote.h — the Intel DCAP quote layout (SGX v3, TDX v4 and v5):
 * a bounded parser that only locates fields. It checks lengths, versions and
 * types; it verifies nothing (dcap.c does). All multi-byte integers are
 * little-endian. Layout: ../shared/PROTOCOLS.md and docs/attestation.md. */
#ifndef TKMS_ATTEST_DCAP_QUOTE_H
#define TKMS_ATTEST_DCAP_QUOTE_H
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"

#define TKMS_DCAP_HEADER_LEN 48u
#define TKMS_DCAP_REPORT_LEN 384u /* SGX enclave report (also the QE report) */
#define TKMS_DCAP_TD10_LEN 584u   /* TD report, TDX 1.0 */
#define TKMS_DCAP_TD15_LEN 648u   /* TD report, TDX 1.5: + TEE_TCB_SVN2, MRSERVICETD */
#define TKMS_DCAP_TEE_SGX 0x00000000u
#define TKMS_DCAP_TEE_TDX 0x00000081u
#define TKMS_DCAP_KEY_ECDSA_P256 2u
#define TKMS_DCAP_CERT_PCK_CHAIN 5u    /* PEM: PCK leaf, PCK CA, root */
#define TKMS_DCAP_CERT_QE_REPORT 6u    /* QE report certification data wrapping type 5 */
#define TKMS_DCAP_MAX_AUTH_DATA 4096u  /* QE auth data: 32 bytes in practice */
#define TKMS_DCAP_MAX_CERT_DATA 65536u /* PEM chain: ~3.5 KiB in practice */

/* Offsets inside an SGX report body (enclave report or QE report). */
#define TKMS_SGX_R_CPUSVN 0u
#define TKMS_SGX_R_MISCSELECT 16u
#define TKMS_SGX_R_ATTRIBUTES 48u
#define TKMS_SGX_R_MRENCLAVE 64u
#define TKMS_SGX_R_MRSIGNER 128u
#define TKMS_SGX_R_ISVPRODID 256u
#define TKMS_SGX_R_ISVSVN 258u
#define TKMS_SGX_R_REPORTDATA 320u

/* Offsets inside a TD report body. */
#define TKMS_TD_R_TEE_TCB_SVN 0u
#define TKMS_TD_R_MRSEAM 16u
#define TKMS_TD_R_MRSIGNERSEAM 64u
#define TKMS_TD_R_SEAMATTRIBUTES 112u
#define TKMS_TD_R_TDATTRIBUTES 120u
#define TKMS_TD_R_XFAM 128u
#define TKMS_TD_R_MRTD 136u
#define TKMS_TD_R_MRCONFIGID 184u
#define TKMS_TD_R_MROWNER 232u
#define TKMS_TD_R_MROWNERCONFIG 280u
#define TKMS_TD_R_RTMR0 328u /* four RTMRs of 48 bytes */
#define TKMS_TD_R_REPORTDATA 520u
#define TKMS_TD_R_TEE_TCB_SVN2 584u /* TD 1.5 only */
#define TKMS_TD_R_MRSERVICETD 600u  /* TD 1.5 only */

/* Body types of a v5 quote. */
enum { TKMS_DCAP_BODY_SGX = 1, TKMS_DCAP_BODY_TD10 = 2, TKMS_DCAP_BODY_TD15 = 3 };

/* Pointers into the caller's quote buffer. */
typedef struct {
  uint16_t version;      /* 3, 4 or 5 */
  uint32_t tee_type;     /* TKMS_DCAP_TEE_* */
  uint16_t body_type;    /* TKMS_DCAP_BODY_* (also set for v3/v4) */
  const uint8_t *header; /* 48 bytes */
  const uint8_t *body;
  size_t body_len;
  const uint8_t *signed_data; /* header through body: what the quote signature covers */
  size_t signed_len;
  const uint8_t *sig;           /* 64: r || s, big-endian */
  const uint8_t *att_key;       /* 64: x || y of the P-256 attestation key */
  const uint8_t *qe_report;     /* 384 */
  const uint8_t *qe_report_sig; /* 64: r || s */
  const uint8_t *qe_auth;
  size_t qe_auth_len;
  const uint8_t *pck_chain; /* PEM, as sized by its length field (may end in NULs) */
  size_t pck_chain_len;
  size_t quote_len; /* bytes used; anything after (zero padding) is ignored */
} tkms_dcap_quote;

/* Locates the fields of a quote in q[0..len). Returns TKMS_ATTEST_OK,
 * TKMS_ATTEST_E_MALFORMED (a length field points outside the buffer, a
 * size is wrong) or TKMS_ATTEST_E_UNSUPPORTED (version, key type, TEE type,
 * QE vendor, body type or certification data type not handled); reason says
 * which. */
int tkms_dcap_quote_parse(const uint8_t *q, size_t len, tkms_dcap_quote *out,
                          char reason[TKMS_ATTEST_REASON_MAX]);

/* Cheap detection for AUTO: the version / key type / TEE type triple. */
int tkms_dcap_quote_is_sgx(const uint8_t *q, size_t len);
int tkms_dcap_quote_is_tdx(const uint8_t *q, size_t len);

uint16_t tkms_dcap_le16(const uint8_t *p);
uint32_t tkms_dcap_le32(const uint8_t *p);
#endif
