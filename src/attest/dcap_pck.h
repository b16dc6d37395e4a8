/* src/attest/dcap_pck.h — the Intel SGX extension of a PCK certificate
 * (OID 1.2.840.113741.1.13.1): the platform's FMSPC, PCE-ID and TCB (sixteen
 * CPUSVN component SVNs and the PCESVN), which select the TCB level in the
 * TCB info. Parsed from the DER with OpenSSL's ASN.1 reader, bounded by the
 * DER lengths; unknown members are ignored, missing or duplicated ones refused. */
#ifndef TKMS_ATTEST_DCAP_PCK_H
#define TKMS_ATTEST_DCAP_PCK_H
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t fmspc[6];     /* .4 */
  uint8_t pce_id[2];    /* .3 */
  uint8_t comp_svn[16]; /* .2.1 - .2.16 */
  uint16_t pcesvn;      /* .2.17 */
  uint8_t cpusvn[16];   /* .2.18 (informational) */
} tkms_dcap_pck_tcb;

/* Reads the SGX extension of leaf. 0, or -1 if it is missing or malformed. */
int tkms_dcap_pck_tcb_read(X509 *leaf, tkms_dcap_pck_tcb *out);
/* The same from the extension's DER value (the OCTET STRING contents). */
int tkms_dcap_pck_tcb_parse(const uint8_t *der, size_t len, tkms_dcap_pck_tcb *out);
#endif
