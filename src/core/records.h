/* src/core/records.h — the byte layouts of records.
 *
 * Record encoding on the wire (F_PUT / F_REC, see ops.h):
 *   u8 type | u8 id_len (1..32) | id | u32 version | blob
 * Record reference (F_DEL): u8 type | u8 id_len | id
 *
 * Plaintexts inside the sealed blob (all integers big-endian; the leading u8 is a
 * format number so a later core can read older records):
 *   key      1 | u8 key_type | u32 version | u64 created_at | u8 n | owner[n]
 *              | u8 m | pub[m] | secret[32]            (secret last, in locked memory)
 *              m = 33 (secp256k1), 32 (ed25519) or 192 (bn254: G1 || G2). bn254 keys
 *              added no new layout, so format 1 records written before them still
 *              decode unchanged.
 *   session  1 | u8 n | owner[n] | u8 m | session_key[m] | u8 ops | u64 expiry
 *              | u8 k | key_id[16] * k
 *            attested sessions (format 2; format 1 sessions still decode):
 *            2 | u8 n | owner[n] | u8 m | session_key[m] | u8 ops | u64 expiry
 *              | u8 k | key_id[16] * k | u8 tee | u8 mlen | measurement[mlen]
 *              | u16 svn | u8 tcb_status | u64 verified_at
 *              owner is "measurement:<tee>:0x<hex of measurement>", checked
 *              against tee and measurement; ops is sign only.
 *   nonce    1 | u64 deadline
 * Decoders check every length against the buffer and every value against its
 * domain, and never trust the host: these bytes come from opened (authenticated)
 * blobs, but a bug elsewhere must not become memory corruption here. */
#ifndef TKMS_CORE_RECORDS_H
#define TKMS_CORE_RECORDS_H
#include <stddef.h>
#include <stdint.h>

#include "core/index.h"
#include "proto/frame.h"

#define TKMS_REC_FORMAT 1u
#define TKMS_KEYREC_MAX (1u + 1u + 4u + 8u + 1u + TKMS_MAX_PRINCIPAL + 1u + TKMS_KEY_PUB_MAX + 32u)
#define TKMS_SESSREC_FORMAT_ATTESTED 2u
#define TKMS_SESSREC_MAX                                                                      \
  (1u + 2u * (1u + TKMS_MAX_PRINCIPAL) + 1u + 8u + 1u + 16u * TKMS_MAX_SCOPE_KEYS + 1u + 1u + \
   48u + 2u + 1u + 8u)
#define TKMS_NONCEREC_BYTES 9u

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
