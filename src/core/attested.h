/* src/core/attested.h — attested sessions and attestation-gated key use
 * (docs/attested-sessions.md).
 *
 * 1. ATTEST_CHALLENGE: the core makes a fresh 32-byte nonce, keeps it in memory
 *    (at most TKMS_MAX_CHALLENGES live, each TKMS_CHALLENGE_TTL seconds) and
 *    hands it out. A nonce is consumed by the first SESSION_OPEN_ATTESTED that
 *    names it, whatever that request's outcome.
 * 2. SESSION_OPEN_ATTESTED: evidence whose report data is
 *      SHA-512("tkms-attested-session-v1" || deployment salt (32)
 *              || nonce (32) || session key principal text)
 *    proves that software with the evidence's measurement holds the session
 *    key (for tdx the measurement is the TD identity digest of
 *    tkms_attested_claims_from). tpm2 and sim evidence are refused at once
 *    (TKMS_E_UNSUPPORTED), and key_ids must list 1..TKMS_MAX_SCOPE_KEYS keys;
 *    at most TKMS_MAX_ATTESTED_SESSIONS attested sessions are live
 *    (TKMS_E_LIMIT). The core checks, in order: nonce live (TKMS_E_STALE_NONCE); evidence
 *    verifies at the core's time with the collateral given
 *    (TKMS_E_EVIDENCE_INVALID); report data as above
 *    (TKMS_E_SESSION_KEY_NOT_BOUND); not debug (TKMS_E_DEBUG_NOT_ALLOWED); each
 *    listed key's policy allows the claims (the codes of 3). It then seals a
 *    session whose owner is the principal "measurement:<tee>:0x<hex>", scope
 *    sign only, with the claims the policy check needs.
 * 3. At every use (authz.c): a request signed by an attested session's key may
 *    sign with a key only if the key's policy in force lists software matching
 *    the session's claims: same tee and measurement (else
 *    TKMS_E_MEASUREMENT_NOT_ALLOWED), svn >= min_svn (TKMS_E_SVN_TOO_LOW),
 *    tcb status in tcb_mask (TKMS_E_TCB_STATUS_NOT_ALLOWED). A key whose policy
 *    has require_attestation refuses the owner and the owner's sessions
 *    (TKMS_E_ATTESTATION_REQUIRED). */
#ifndef TKMS_CORE_ATTESTED_H
#define TKMS_CORE_ATTESTED_H
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "core/policy.h"
#include "proto/ops.h"

#define TKMS_ATTESTED_LABEL "tkms-attested-session-v1"

/* What a policy is matched against. */
typedef struct {
  uint8_t tee; /* TKMS_ATTEST_* */
  uint8_t mlen;
  uint8_t meas[TKMS_POLICY_MEAS_MAX];
  uint16_t svn;
  uint8_t tcb_status; /* TKMS_TCB_* */
  int debug;
  uint64_t verified_at;
} tkms_att_claims;

/* "measurement:<tee>:0x<lowercase hex>". 0, or -1 for an unknown tee or length. */
int tkms_measurement_principal(uint8_t tee, const uint8_t *m, size_t mlen,
                               char out[TKMS_MAX_PRINCIPAL + 1]);
/* The report data an attested session's evidence must carry. */
void tkms_attested_report_data(const uint8_t salt[32], const uint8_t nonce[32],
                               const char *session_key, uint8_t out[64]);
/* Why evidence of this format can never open an attested session (tpm2: the
 * core cannot check the attestation key's root of trust; sim: always debug),
 * or NULL. */
const char *tkms_attested_format_refusal(int format);
/* The policy-relevant claims of verified evidence: sgx mrenclave/isvsvn, tdx
 * SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2 || RTMR3 || MRCONFIGID || MROWNER ||
 * MROWNERCONFIG), snp measurement/guest_svn (low 16 bits), nitro pcr0.
 * 0, or -1 if the format has no such measurement or is refused (tpm2, sim;
 * why says which). */
int tkms_attested_claims_from(const tkms_attest_claims *c, tkms_att_claims *out, const char **why);
/* Does policy p let software with claims c use the key? TKMS_OK or
 * TKMS_E_DEBUG_NOT_ALLOWED / MEASUREMENT_NOT_ALLOWED / SVN_TOO_LOW /
 * TCB_STATUS_NOT_ALLOWED, with a sentence in why. */
int tkms_attested_policy_check(const tkms_policy *p, const tkms_att_claims *c, char *why,
                               size_t cap);

/* The key's policy in force allows claims c (else the refusal, recorded in op). */
struct tkms_op;
struct tkms_rec;
int tkms_attested_key_allows(struct tkms_op *op, const struct tkms_rec *key,
                             const tkms_att_claims *c);

/* The challenge store (thread-safe). */
typedef struct tkms_challenges tkms_challenges;
tkms_challenges *tkms_challenges_new(void);
void tkms_challenges_free(tkms_challenges *ch);
/* A fresh nonce valid until *expires_at. 0, or -1 if TKMS_MAX_CHALLENGES are live. */
int tkms_challenge_issue(tkms_challenges *ch, uint64_t now, uint8_t nonce[32],
                         uint64_t *expires_at);
/* Consumes nonce: 0 if it was issued, not yet used and not expired at now; -1
 * otherwise. Either way it can never be used again. */
int tkms_challenge_consume(tkms_challenges *ch, const uint8_t nonce[32], uint64_t now);
#endif
