/* src/core/policy.h — a key's policy: which attested software may use the key,
 * whether the owner's signature alone is enough, usage limits, and the
 * time-lock delay that widening changes must wait out. Sealed in the key record
 * (records.h, key format 2), held in memory beside the key's index record.
 *
 * Canonical encoding (F_POLICY, and the EIP-712 member `bytes policy` of
 * CreateKey and UpdatePolicy; docs/policy.md restates it for client authors).
 * All integers big-endian. The empty byte string is the default policy in
 * CreateKey and "unchanged" in UpdatePolicy (policy_ops.c; docs/policy.md).
 *   u8  format = 1
 *   u32 delay_s          time-lock for widening changes, <= TKMS_POLICY_MAX_DELAY
 *   u8  flags            bit 0 require_attestation; other bits 0
 *   u32 rate_per_minute  signatures per minute; 0 = unlimited
 *   u64 not_after        unix seconds after which the key signs nothing; 0 = none;
 *                        <= 2^63 - 1 (so that every policy has a JSON form)
 *   u8  n_software       <= TKMS_POLICY_MAX_SOFTWARE
 *   n_software x:
 *     u8  tee            TKMS_ATTEST_SGX | TDX | SNP | NITRO (attest.h); TPM2 is
 *                        refused (no root of trust the core can check)
 *     u8  mlen           32 (sgx mrenclave) or 48 (tdx identity: SHA-384 of
 *                        MRTD..MROWNERCONFIG, attested.h; snp measurement,
 *                        nitro pcr0)
 *     measurement[mlen]
 *     u16 min_svn        sgx isvsvn, snp guest_svn (low 16 bits); 0 for others
 *     u16 tcb_mask       bit i set = TKMS_TCB_i acceptable; formats without a
 *                        TCB status report TKMS_TCB_NOT_APPLICABLE (bit 0);
 *                        bits 0..7 (NotApplicable..Revoked) only: bit 8
 *                        (NoMatch) and above must be 0; never 0 (an entry
 *                        accepting no status lets nothing in)
 *   entries strictly sorted by (tee, mlen, measurement): no duplicates.
 * A decoder refuses anything else (unknown format, trailing bytes, unsorted or
 * duplicate entries, unknown flag bits, an unknown tee (sim included: sim evidence
 * is debug; tpm2 too), an entry whose mlen does not fit its tee, unknown or no
 * TCB status bits,
 * a delay above the maximum, more than 8 entries),
 * so one policy has exactly one encoding and what the owner signed is what the
 * core stores.
 *
 * Debug is never allowed: evidence whose claims say debug is refused whatever
 * the policy says. A sim deployment's sim evidence is always debug.
 *
 * Default policy: delay 0, owner signatures accepted, unlimited, no software. */
#ifndef TKMS_CORE_POLICY_H
#define TKMS_CORE_POLICY_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_POLICY_FORMAT 1u
#define TKMS_POLICY_MAX_SOFTWARE 8u
#define TKMS_POLICY_MAX_DELAY (365u * 24u * 3600u)
#define TKMS_POLICY_F_REQUIRE_ATTESTATION 0x01u
#define TKMS_POLICY_MEAS_MAX 48u
/* 1+4+1+4+8+1 + 8 * (1+1+48+2+2) */
#define TKMS_POLICY_ENC_MAX (19u + TKMS_POLICY_MAX_SOFTWARE * 54u)

typedef struct {
  uint8_t tee; /* TKMS_ATTEST_* */
  uint8_t mlen;
  uint8_t measurement[TKMS_POLICY_MEAS_MAX];
  uint16_t min_svn;
  uint16_t tcb_mask;
} tkms_policy_sw;

typedef struct {
  uint32_t delay_s;
  uint8_t flags;
  uint32_t rate_per_minute;
  uint64_t not_after;
  uint8_t n_software;
  tkms_policy_sw software[TKMS_POLICY_MAX_SOFTWARE];
} tkms_policy;

/* The default policy. */
void tkms_policy_default(tkms_policy *p);
/* 1 if p is the default policy. */
int tkms_policy_is_default(const tkms_policy *p);
/* Decodes the canonical encoding (n == 0: the default policy). Returns 0, or -1
 * with *why naming the first violated rule (a client error). */
int tkms_policy_decode(const uint8_t *b, size_t n, tkms_policy *p, const char **why);
/* Canonical encoding of p into out (cap >= TKMS_POLICY_ENC_MAX); returns the
 * length. The default policy encodes as its full form, not as empty bytes. */
size_t tkms_policy_encode(const tkms_policy *p, uint8_t *out, size_t cap);
/* 1 if going from `from` to `to` widens access in any way (a software entry not
 * covered by one of `from`'s, a lower min_svn or more TCB statuses for the same
 * software, require_attestation dropped, a higher or removed rate limit, a later
 * or removed not_after, a shorter delay); 0 if it only narrows or keeps. */
int tkms_policy_widens(const tkms_policy *from, const tkms_policy *to);
#endif
