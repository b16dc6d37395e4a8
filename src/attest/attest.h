/* src/attest/attest.h — offline verification of TEE attestation evidence.
 *
 * One verifier per evidence format (dcap.c for SGX quote v3 and TDX quote v4/v5,
 * snp.c, nitro.c, tpm2.c, sim.c), each returning the same normalised claims so
 * that key policy (src/core) can be written once. Verifiers are pure functions:
 * no I/O, no clock, no global state. Everything they need arrives as arguments:
 *   - the evidence bytes,
 *   - collateral: named byte strings (certificates, CRLs, signed TCB JSON...),
 *     each verifier documents the names it reads (tkms_attest_collateral_get),
 *   - the unix time the verdict is made for (certificate and collateral
 *     validity are judged at that time, never at the wall clock).
 *
 * Every read is bounded by the lengths the caller passed and by the length
 * fields inside the evidence; malformed input is an error with a reason, never
 * a crash. Each parser has a libFuzzer harness in fuzz/. */
#ifndef TKMS_ATTEST_ATTEST_H
#define TKMS_ATTEST_ATTEST_H
#include <stddef.h>
#include <stdint.h>

/* Evidence formats. AUTO detects from the bytes. */
enum {
  TKMS_ATTEST_AUTO = 0,
  TKMS_ATTEST_SGX = 1,   /* Intel SGX DCAP quote v3 */
  TKMS_ATTEST_TDX = 2,   /* Intel TDX DCAP quote v4 or v5 */
  TKMS_ATTEST_SNP = 3,   /* AMD SEV-SNP attestation report */
  TKMS_ATTEST_NITRO = 4, /* AWS Nitro attestation document (COSE_Sign1) */
  TKMS_ATTEST_TPM2 = 5,  /* TPM 2.0 quote: TPMS_ATTEST + signature */
  TKMS_ATTEST_SIM = 6,   /* tkms sim platform evidence */
};

/* Why a verification failed: one specific reason per check, so callers and
 * tests can tell a bad signature from stale collateral. */
enum {
  TKMS_ATTEST_OK = 0,
  TKMS_ATTEST_E_MALFORMED = 1,      /* evidence does not parse */
  TKMS_ATTEST_E_UNSUPPORTED = 2,    /* a version / key type / format not handled */
  TKMS_ATTEST_E_COLLATERAL = 3,     /* required collateral missing or malformed */
  TKMS_ATTEST_E_ROOT = 4,           /* chain does not end at the pinned root key */
  TKMS_ATTEST_E_CHAIN = 5,          /* a certificate signature in the chain fails */
  TKMS_ATTEST_E_EXPIRED = 6,        /* a certificate, CRL or collateral is not valid at `at` */
  TKMS_ATTEST_E_REVOKED = 7,        /* a certificate in the chain is on a CRL */
  TKMS_ATTEST_E_COLLATERAL_SIG = 8, /* signed collateral (TCB info, QE identity) fails */
  TKMS_ATTEST_E_QE_REPORT = 9,      /* QE report signature or its binding of the attestation key */
  TKMS_ATTEST_E_QE_IDENTITY = 10,   /* the QE is not the one the QE identity names */
  TKMS_ATTEST_E_SIGNATURE = 11,     /* the evidence signature over its body fails */
  TKMS_ATTEST_E_TCB_UNMATCHED = 12, /* signatures valid, but no TCB level matches
                                       (claims are filled; tcb_status = NO_MATCH) */
  TKMS_ATTEST_E_TCB_MISMATCH = 13,  /* e.g. SNP VCEK TCB != REPORTED_TCB, TDX module identity */
  TKMS_ATTEST_E_INTERNAL = 14,      /* out of memory, library failure */
  TKMS_ATTEST_E__COUNT
};

/* TCB status as Intel names them; other formats report NOT_APPLICABLE. */
enum {
  TKMS_TCB_NOT_APPLICABLE = 0,
  TKMS_TCB_UP_TO_DATE,
  TKMS_TCB_SW_HARDENING_NEEDED,
  TKMS_TCB_CONFIGURATION_NEEDED,
  TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
  TKMS_TCB_OUT_OF_DATE,
  TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
  TKMS_TCB_REVOKED,
  TKMS_TCB_NO_MATCH,
  TKMS_TCB__COUNT
};

#define TKMS_ATTEST_MAX_MEAS 24u /* Nitro has up to 16+ PCRs; TDX MRTD + 4 RTMRs + ... */
#define TKMS_ATTEST_MEAS_NAME 24u
#define TKMS_ATTEST_MEAS_MAX 64u /* largest single measurement (Nitro PCR: 48) */
#define TKMS_ATTEST_MAX_ADVISORIES 32u
#define TKMS_ATTEST_ADVISORY_MAX 32u
#define TKMS_ATTEST_REASON_MAX 256u

/* One named measurement, e.g. {"mrenclave", 32 bytes}, {"isvsvn", 2 bytes BE},
 * {"rtmr0", 48 bytes}, {"pcr0", 48 bytes}, {"measurement", 48 bytes}. Integers
 * are stored big-endian in the minimal fixed width of their field. Names are
 * lower case and documented per format in docs/attestation.md. */
typedef struct {
  char name[TKMS_ATTEST_MEAS_NAME];
  uint8_t value[TKMS_ATTEST_MEAS_MAX];
  size_t len;
} tkms_attest_meas;

/* The normalised verdict. */
typedef struct {
  int format; /* TKMS_ATTEST_* (never AUTO) */
  tkms_attest_meas meas[TKMS_ATTEST_MAX_MEAS];
  size_t n_meas;
  uint8_t report_data[64]; /* SGX/TDX/SNP REPORTDATA; Nitro user_data (or nonce);
                              TPM extraData; zero-padded */
  size_t report_data_len;
  int debug;      /* 1: a debug enclave / TD / guest policy allows debug /
                     Nitro all-zero PCRs */
  int tcb_status; /* TKMS_TCB_* */
  char advisories[TKMS_ATTEST_MAX_ADVISORIES][TKMS_ATTEST_ADVISORY_MAX];
  size_t n_advisories;
  uint64_t verified_at; /* the `at` the verdict was made for */
} tkms_attest_claims;

/* Collateral: named byte strings. Names are per verifier (see its header). */
typedef struct {
  const char *name;
  const uint8_t *data;
  size_t len;
} tkms_attest_item;

typedef struct {
  const tkms_attest_item *items;
  size_t n;
} tkms_attest_collateral;

/* The item called name, or NULL. */
const tkms_attest_item *tkms_attest_collateral_get(const tkms_attest_collateral *c,
                                                   const char *name);

/* Verifies evidence of `format` (or detected, for AUTO) at unix time `at`.
 * On TKMS_ATTEST_OK out holds the claims. On failure returns a TKMS_ATTEST_E_*
 * code and writes a sentence naming the failed check into reason (never empty);
 * for E_TCB_UNMATCHED out is filled as well. */
int tkms_attest_verify(int format, const uint8_t *evidence, size_t len,
                       const tkms_attest_collateral *col, uint64_t at, tkms_attest_claims *out,
                       char reason[TKMS_ATTEST_REASON_MAX]);

/* Names for JSON and logs: "sgx", "tdx", ...; "UpToDate", "OutOfDate", ...;
 * "malformed", "signature", ... (NULL for an unknown value). */
const char *tkms_attest_format_name(int format);
const char *tkms_attest_tcb_name(int tcb_status);
const char *tkms_attest_error_name(int code);
#endif
