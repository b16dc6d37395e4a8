/* src/core/manifest.h — the sealed manifest: which records are live, and when.
 *
 * plaintext = u8 format (1) ‖ u64 counter ‖ u32 record count ‖ sethash digest (33)
 * sealed    = AEAD(manifest key, AD = "tkms-manifest-v1", plaintext)
 * The set hash covers one element per live record:
 *   u8 type ‖ u8 id_len ‖ id ‖ u32be version ‖ SHA-256(blob)
 * so a record added, dropped, swapped for an older version or altered changes it.
 * The counter is the value of the platform's prepared counter P burned for this
 * manifest alone (txn.c). LOAD_END accepts it only if K <= counter <= P, where K
 * is the committed counter: an old copy of the database, or an ABORTed manifest,
 * is older than K and refused. */
#ifndef TKMS_CORE_MANIFEST_H
#define TKMS_CORE_MANIFEST_H
#include <stddef.h>
#include <stdint.h>

#include "core/hierarchy.h"
#include "core/index.h"
#include "crypto/sethash.h"

#define TKMS_MANIFEST_PLAIN_BYTES (1u + 8u + 4u + TKMS_SETHASH_BYTES)
#define TKMS_MANIFEST_BYTES (TKMS_MANIFEST_PLAIN_BYTES + 40u)

typedef struct {
  uint64_t counter;
  uint32_t n_records;
  uint8_t digest[TKMS_SETHASH_BYTES];
} tkms_manifest;

/* Adds / removes a record's element. Returns 0 or -1. */
int tkms_set_add(tkms_sethash *h, const tkms_rec *r);
int tkms_set_remove(tkms_sethash *h, const tkms_rec *r);

int tkms_manifest_seal(const tkms_secrets *sec, const tkms_manifest *m,
                       uint8_t out[TKMS_MANIFEST_BYTES]);
/* Returns 0, or -1 if it does not open under this deployment's manifest key. */
int tkms_manifest_open(const tkms_secrets *sec, const uint8_t *blob, size_t len, tkms_manifest *m);
#endif
