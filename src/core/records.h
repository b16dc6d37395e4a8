/* src/core/records.h — the byte layouts of records.
 *
 * Record encoding on the wire (F_PUT / F_REC, see ops.h):
 *   u8 type | u8 id_len (1..32) | id | u32 version | blob
 * Record reference (F_DEL): u8 type | u8 id_len | id
 *
 * Plaintexts inside the sealed blob (all integers big-endian; the leading u8 is a
 * format number so a later core can read older records):
 *   key      2 | u8 key_type | u32 version | u64 created_at | u8 n | owner[n]
 *              | u8 m | pub[m] | u16 p | policy[p] | secret[32]
 *              (secret last, in locked memory). m = 33 (secp256k1), 32 (ed25519)
 *              or 192 (bn254: G1 || G2). policy = the canonical policy encoding
 *              (policy.h); p = 0 for the default policy. Written as format 2.
 *            format 1 (read only, written before key policies existed): the same
 *              without `u16 p | policy[p]`; it decodes as the default policy.
 *              bn254 keys added no new layout to format 1.
 *   pending policy change (TKMS_REC_POLICY_CHANGE, id = key id, version 1)
 *            1 | u64 accepted_at | u64 effective_at | u8 n | new_owner[n]
 *              | u16 p | policy[p]
 *              new_owner = the owner in force from effective_at (the current one
 *              if unchanged); policy = the whole policy from effective_at.
 *   session  1 | u8 n | owner[n] | u8 m | session_key[m] | u8 ops | u64 expiry
 *              | u8 k | key_id[16] * k
 *            attested sessions (format 2; format 1 sessions still decode):
 *            2 | u8 n | owner[n] | u8 m | session_key[m] | u8 ops | u64 expiry
 *              | u8 k | key_id[16] * k | u8 tee | u8 mlen | measurement[mlen]
 *              | u16 svn | u8 tcb_status | u64 verified_at
 *              owner is "measurement:<tee>:0x<hex of measurement>", checked
 *              against tee and measurement; ops is sign only.
 *   nonce    1 | u64 deadline
 *   time     1 | Roughtime config | u64 floor      (core/clock.h)
 *   gov      1 | u8 n | governor[20] * n | u8 threshold | u64 delay | u8 k
 *              | (measurement[32] | u64 accepted_at | u64 effective_at) * k
 *              | [holder[32]]
 *              holder = the measurement of the core holding the deployment.
 *              A record without it (written before it existed, same format 1)
 *              decodes as "no holder recorded" and is accepted; cores built
 *              before it existed refuse a record with it (trailing bytes).
 *              (core/governance.h)
 * Decoders check every length against the buffer and every value against its
 * domain, and never trust the host: these bytes come from opened (authenticated)
 * blobs, but a bug elsewhere must not become memory corruption here. */
#ifndef TKMS_CORE_RECORDS_H
#define TKMS_CORE_RECORDS_H
#include <stddef.h>
#include <stdint.h>

#include "core/index.h"
#include "core/policy.h"
#include "proto/frame.h"

#define TKMS_REC_FORMAT 1u              /* sessions, nonces, pending changes */
#define TKMS_KEYREC_FORMAT 2u           /* keys (format 1 still read) */
#define TKMS_SESSREC_FORMAT_ATTESTED 2u /* attested sessions (format 1 sessions still read) */
#define TKMS_KEYREC_MAX                                                       \
  (1u + 1u + 4u + 8u + 1u + TKMS_MAX_PRINCIPAL + 1u + TKMS_KEY_PUB_MAX + 2u + \
   TKMS_POLICY_ENC_MAX + 32u)
#define TKMS_PENDREC_MAX (1u + 8u + 8u + 1u + TKMS_MAX_PRINCIPAL + 2u + TKMS_POLICY_ENC_MAX)
#define TKMS_SESSREC_MAX                                                                      \
  (1u + 2u * (1u + TKMS_MAX_PRINCIPAL) + 1u + 8u + 1u + 16u * TKMS_MAX_SCOPE_KEYS + 1u + 1u + \
   48u + 2u + 1u + 8u)
#define TKMS_NONCEREC_BYTES 9u
/* The largest plaintext of any record type. */
#define TKMS_REC_PLAIN_MAX TKMS_SESSREC_MAX
_Static_assert(TKMS_KEYREC_MAX <= TKMS_REC_PLAIN_MAX, "key records fit the plaintext bound");
_Static_assert(TKMS_PENDREC_MAX <= TKMS_REC_PLAIN_MAX, "pending records fit the plaintext bound");

/* A record encoding as parsed; pointers into the frame. */
typedef struct {
  uint8_t type;
  uint8_t id_len;
  const uint8_t *id;
  uint32_t version;
  const uint8_t *blob;
  size_t blob_len;
} tkms_rec_enc;

/* Parses a record encoding: known type, id length 1..32 (and the exact length
 * for the type), non-empty blob. Returns 0 or -1. */
int tkms_rec_enc_parse(const uint8_t *p, size_t n, tkms_rec_enc *out);
/* Appends an F_PUT/F_REC field / an F_DEL field to w (errors are sticky in w). */
void tkms_fw_rec_put(tkms_fw *w, uint8_t tag, const tkms_rec *r, const uint8_t *blob,
                     size_t blob_len);
void tkms_fw_rec_del(tkms_fw *w, const tkms_rec *r);

/* Serialises r (and the secret, for keys) into out (cap bytes, locked memory for
 * keys). Returns the length, or 0 if it does not fit or r is invalid. */
size_t tkms_rec_plain_encode(const tkms_rec *r, const uint8_t *secret, uint8_t *out, size_t cap);
/* Parses a plaintext of a record whose type, id and version come from the
 * authenticated data into a new index record (*out, caller frees). For keys,
 * *secret (if not NULL) points at the 32 secret bytes inside pt.
 * Returns 0 or -1. */
int tkms_rec_plain_decode(uint8_t type, const uint8_t *id, size_t id_len, uint32_t version,
                          const uint8_t *pt, size_t n, tkms_rec **out, const uint8_t **secret);
#endif
