/* src/attest/tcb_json.h — Intel's TCB info (v3) and enclave identity (v2)
 * documents, read from an already signature-checked JSON value into fixed
 * structures. Every field the verifier relies on is required and checked for
 * type and size; unknown fields are ignored (Intel adds fields over time). */
#ifndef TKMS_ATTEST_TCB_JSON_H
#define TKMS_ATTEST_TCB_JSON_H
#include <stddef.h>
#include <stdint.h>

#include "attest/json.h"

#define TKMS_TCB_MAX_LEVELS 64u
#define TKMS_TCB_MAX_MODULES 8u

/* A TCB level; advisories is the token of its advisoryIDs array or -1. */
typedef struct {
  uint8_t sgx[16];
  uint16_t pcesvn;
  uint8_t tdx[16]; /* TDX TCB info only */
  int status;      /* TKMS_TCB_* */
  int advisories;
} tkms_tcb_level;

/* An enclave-identity-style level (QE identity, TDX module identity). */
typedef struct {
  uint16_t isvsvn;
  int status;
  int advisories;
} tkms_isv_level;

typedef struct {
  char id[16]; /* "TDX_00" for the tdxModule object */
  uint8_t mrsigner[48];
  uint8_t attributes[8], attributes_mask[8];
  tkms_isv_level levels[TKMS_TCB_MAX_LEVELS];
  size_t n_levels;
} tkms_tdx_module;

typedef struct {
  int is_tdx; /* id "TDX" (else "SGX") */
  uint64_t issue_date, next_update;
  uint8_t fmspc[6];
  uint8_t pce_id[2];
  tkms_tcb_level levels[TKMS_TCB_MAX_LEVELS];
  size_t n_levels;
  int has_module;                                /* TDX: the tdxModule object */
  tkms_tdx_module module;                        /* its identity (no levels) */
  tkms_tdx_module modules[TKMS_TCB_MAX_MODULES]; /* tdxModuleIdentities */
  size_t n_modules;
} tkms_tcb_info;

typedef struct {
  int is_td_qe; /* id "TD_QE" (else "QE") */
  uint64_t issue_date, next_update;
  uint32_t miscselect, miscselect_mask;
  uint8_t attributes[16], attributes_mask[16];
  uint8_t mrsigner[32];
  uint16_t isvprodid;
  tkms_isv_level levels[TKMS_TCB_MAX_LEVELS];
  size_t n_levels;
} tkms_qe_identity;

/* From the value token body of j. 0, or -1 with a sentence in why. */
int tkms_tcb_info_read(const tkms_sjson *j, int body, tkms_tcb_info *out, const char **why);
int tkms_qe_identity_read(const tkms_sjson *j, int body, tkms_qe_identity *out, const char **why);

/* TKMS_TCB_* of an Intel status string, or -1. */
int tkms_tcb_status_parse(const char *s, size_t len);
#endif
