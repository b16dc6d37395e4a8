/* src/core/seal.c — record sealing (see seal.h). */
#include "core/seal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "core/secmem.h"
#include "crypto/aead.h"
#include "crypto/kdf.h"

#define REC_AD "tkms-rec-v1"
#define REC_AD_MAX (sizeof(REC_AD) - 1 + 2 + TKMS_REC_ID_MAX + 4)
#define PLAIN_MAX TKMS_REC_PLAIN_MAX /* the largest plaintext */

static size_t rec_ad(uint8_t type, const uint8_t *id, size_t id_len, uint32_t version,
                     uint8_t ad[REC_AD_MAX]) {
  size_t n = sizeof(REC_AD) - 1;
  memcpy(ad, REC_AD, n);
  ad[n++] = type;
  ad[n++] = (uint8_t)id_len;
  memcpy(ad + n, id, id_len);
  n += id_len;
  tkms_be32_put(ad + n, version);
  return n + 4;
}

int tkms_record_seal(const tkms_secrets *sec, tkms_rec *r, const uint8_t *secret, uint8_t **blob,
                     size_t *blob_len) {
  if (r->id_len == 0 || r->id_len > TKMS_REC_ID_MAX) return -1;
  /* Key plaintexts hold the secret: build them in locked memory. */
  uint8_t *pt = tkms_secmem_alloc(PLAIN_MAX);
  if (pt == NULL) return -1;
  size_t n = tkms_rec_plain_encode(r, secret, pt, PLAIN_MAX);
  uint8_t *out = n > 0 ? malloc(n + TKMS_AEAD_OVERHEAD) : NULL;
  uint8_t ad[REC_AD_MAX];
  size_t ad_len = rec_ad(r->type, r->id, r->id_len, r->version, ad);
  int rc = -1;
  if (out != NULL && tkms_aead_seal(sec->record_key, ad, ad_len, pt, n, out) == 0) {
    tkms_sha256(out, n + TKMS_AEAD_OVERHEAD, r->blob_hash);
    *blob = out;
    *blob_len = n + TKMS_AEAD_OVERHEAD;
    out = NULL;
    rc = 0;
  }
  free(out);
  tkms_secmem_free(pt);
  return rc;
}

int tkms_record_open(const tkms_secrets *sec, uint8_t type, const uint8_t *id, size_t id_len,
                     uint32_t version, const uint8_t *blob, size_t blob_len, tkms_rec **out,
                     uint8_t **secret) {
  if (id_len == 0 || id_len > TKMS_REC_ID_MAX || blob_len <= TKMS_AEAD_OVERHEAD ||
      blob_len - TKMS_AEAD_OVERHEAD > PLAIN_MAX)
    return -1;
  size_t n = blob_len - TKMS_AEAD_OVERHEAD;
  uint8_t *pt = tkms_secmem_alloc(PLAIN_MAX);
  uint8_t *sk = secret != NULL ? tkms_secmem_alloc(32) : NULL;
  if (pt == NULL || (secret != NULL && sk == NULL)) {
    tkms_secmem_free(pt);
    tkms_secmem_free(sk);
    return -1;
  }
  uint8_t ad[REC_AD_MAX];
  size_t ad_len = rec_ad(type, id, id_len, version, ad);
  tkms_rec *r = NULL;
  const uint8_t *s = NULL;
  int rc = -1;
  if (tkms_aead_open(sec->record_key, ad, ad_len, blob, blob_len, pt) == 0 &&
      tkms_rec_plain_decode(type, id, id_len, version, pt, n, &r, &s) == 0) {
    tkms_sha256(blob, blob_len, r->blob_hash);
    if (sk != NULL && s != NULL) memcpy(sk, s, 32);
    rc = 0;
  }
  tkms_secmem_free(pt); /* zeroises */
  if (rc != 0 || sk == NULL || type != TKMS_REC_KEY) {
    tkms_secmem_free(sk);
    sk = NULL;
  }
  if (rc == 0) {
    *out = r;
    if (secret != NULL) *secret = sk;
  }
  return rc;
}
