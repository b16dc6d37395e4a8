/* src/core/seal.h — sealing records under the record key.
 *
 * blob = AEAD(record key, AD = "tkms-rec-v1" ‖ u8 type ‖ u8 id_len ‖ id ‖ u32be version,
 *             plaintext = records.h layout)
 * The AD binds a blob to its type, id and version: a blob moved to another key id,
 * record type or version does not open. */
#ifndef TKMS_CORE_SEAL_H
#define TKMS_CORE_SEAL_H
#include <stddef.h>
#include <stdint.h>

#include "core/hierarchy.h"
#include "core/index.h"

/* Seals r (plus the secret for keys) into a new blob (*blob malloc'd, caller
 * frees) and sets r->blob_hash = SHA-256(blob). Returns 0 or -1. */
int tkms_record_seal(const tkms_secrets *sec, tkms_rec *r, const uint8_t *secret, uint8_t **blob,
                     size_t *blob_len);
/* Opens a blob stored under type/id/version into a new index record (*out, caller
 * frees; blob_hash set). For keys, if secret != NULL, *secret receives the 32-byte
 * secret in locked memory (free with tkms_secmem_free). Returns 0, or -1 if
 * the blob does not authenticate under this AD or its content is malformed. */
int tkms_record_open(const tkms_secrets *sec, uint8_t type, const uint8_t *id, size_t id_len,
                     uint32_t version, const uint8_t *blob, size_t blob_len, tkms_rec **out,
                     uint8_t **secret);
#endif
