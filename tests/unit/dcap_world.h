/* tests/unit/dcap_world.h — a test DCAP "world": a test root, a PCK CA, a PCK
 * leaf carrying the real PCK certificate's SGX extension, a "TCB Signing"
 * certificate and CRLs, all made with testca.h; quotes in the layout of the real
 * SGX v3 / TDX v4 quote in ../shared/vectors/attestation (real header, body and
 * QE report, a test attestation key bound into the QE report, everything
 * re-signed), and collateral (the real TCB info / QE identity text, optionally
 * edited, re-signed). Used by test_attest_dcap_synth and tests/tools/fake_quote.
 * Every function asserts (cmocka) instead of returning errors. */
#ifndef TKMS_TESTS_DCAP_WORLD_H
#define TKMS_TESTS_DCAP_WORLD_H
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/dcap_quote.h"
#include "cli/collateral.h"

enum { DW_ROOT, DW_CA, DW_LEAF, DW_TCB, DW_ATT, DW_NKEYS };

typedef struct {
  int tdx;
  EVP_PKEY *keys[DW_NKEYS]; /* root, PCK CA, PCK leaf, TCB signing, attestation key */
  X509 *root, *ca, *leaf, *tcb;
  uint8_t pin[65]; /* the root's uncompressed public key */
  /* from the real set */
  uint8_t *real;
  size_t real_len;
  tkms_dcap_quote rq;
  char *tcb_info, *qe_identity; /* the signed JSON text */
  /* CRL validity */
  time_t crl_last, crl_next;
} dcap_world;

/* The world for the real TDX (tdx = 1) or SGX quote. keys: DW_NKEYS keys to use
 * (the world takes references), or NULL for fresh ones. leaf_cn / tcb_cn are the
 * subjects of the PCK leaf and the TCB signing certificate. */
void dcap_world_init(dcap_world *w, int tdx, const char *leaf_cn, const char *tcb_cn,
                     EVP_PKEY *const *keys);
void dcap_world_free(dcap_world *w);

/* What a quote may be changed in before it is signed. */
typedef struct {
  size_t body_off[4]; /* offsets into the body (0 = none, body offset 0 is never patched) */
  uint8_t body_val[4];
  const uint8_t *report_data; /* 64 bytes at the body's REPORTDATA, or NULL */
  const uint8_t *mrtd;        /* TDX: 48 bytes at MRTD, or NULL */
  const uint8_t *rtmr3;       /* TDX: 48 bytes at RTMR3, or NULL */
  int qe_rd_high_nonzero;     /* REPORTDATA[32] = 1 in the QE report */
  int zero_att_key;           /* an attestation key that is no curve point */
} dcap_quote_mods;

/* A quote in the real one's layout (v3 or v4), signed by the world; malloc'd. */
uint8_t *dcap_world_quote(const dcap_world *w, const dcap_quote_mods *m, size_t *len);
/* Collateral for the world: tcb_info / qe_identity text (NULL: the real one)
 * re-signed; the CA or the leaf revoked when asked (a serial, or -1). */
void dcap_world_collateral(const dcap_world *w, const char *tcb_info, const char *qe_identity,
                           long revoke_on_root_crl, long revoke_on_pck_crl, tkms_cli_collateral *c);
/* Collateral valid around at (CRLs and the TCB info / QE identity issued a day
 * before, next update 30 days after), every TCB level of the TCB info given
 * tcb_status when not NULL (so the level the quote matches has it). */
void dcap_world_fresh_collateral(dcap_world *w, time_t at, const char *tcb_status,
                                 tkms_cli_collateral *c);
/* s with the first occurrence of from replaced by to (malloc'd). */
char *dcap_edit(const char *s, const char *from, const char *to);
#endif
