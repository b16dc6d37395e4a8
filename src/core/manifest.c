/* src/core/manifest.c — manifest sealing and the set-hash elements (see manifest.h). */
#include "core/manifest.h"

#include <string.h>

#include "crypto/aead.h"
#include "proto/frame.h"

#define MANIFEST_AD "tkms-manifest-v1"
#define MANIFEST_FORMAT 1u

static size_t element(const tkms_rec *r, uint8_t out[2 + TKMS_REC_ID_MAX + 4 + 32]) {
  out[0] = r->type;
  out[1] = r->id_len;
  memcpy(out + 2, r->id, r->id_len);
  tkms_be32_put(out + 2 + r->id_len, r->version);
  memcpy(out + 6 + r->id_len, r->blob_hash, 32);
  return 6u + r->id_len + 32u;
}

int tkms_set_add(tkms_sethash *h, const tkms_rec *r) {
  uint8_t e[2 + TKMS_REC_ID_MAX + 4 + 32];
  return tkms_sethash_add(h, e, element(r, e));
}

int tkms_set_remove(tkms_sethash *h, const tkms_rec *r) {
  uint8_t e[2 + TKMS_REC_ID_MAX + 4 + 32];
  return tkms_sethash_remove(h, e, element(r, e));
}

int tkms_manifest_seal(const tkms_secrets *sec, const tkms_manifest *m,
                       uint8_t out[TKMS_MANIFEST_BYTES]) {
  uint8_t pt[TKMS_MANIFEST_PLAIN_BYTES];
  pt[0] = MANIFEST_FORMAT;
  tkms_be64_put(pt + 1, m->counter);
  tkms_be32_put(pt + 9, m->n_records);
  memcpy(pt + 13, m->digest, TKMS_SETHASH_BYTES);
  return tkms_aead_seal(sec->manifest_key, (const uint8_t *)MANIFEST_AD, strlen(MANIFEST_AD), pt,
                        sizeof pt, out);
}

int tkms_manifest_open(const tkms_secrets *sec, const uint8_t *blob, size_t len, tkms_manifest *m) {
  uint8_t pt[TKMS_MANIFEST_PLAIN_BYTES];
  if (len != TKMS_MANIFEST_BYTES ||
      tkms_aead_open(sec->manifest_key, (const uint8_t *)MANIFEST_AD, strlen(MANIFEST_AD), blob,
                     len, pt) != 0 ||
      pt[0] != MANIFEST_FORMAT)
    return -1;
  m->counter = tkms_be64_get(pt + 1);
  m->n_records = tkms_be32_get(pt + 9);
  memcpy(m->digest, pt + 13, TKMS_SETHASH_BYTES);
  return 0;
}
