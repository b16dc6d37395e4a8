/* src/core/receipts.c — deletion receipts (see receipts.h). */
#include "core/receipts.h"

#include <string.h>

#include "crypto/eip712.h"
#include "crypto/secp256k1_eth.h"
#include "proto/requests.h"

void tkms_receipt_digest(const uint8_t domain_sep[32], const tkms_receipt *r, uint8_t out[32]) {
  uint8_t th[32], w[5][32], sh[32];
  tkms_eip712_type_hash(tkms_eip712_request_types[TKMS_RT_DELETION_RECEIPT].encode_type, th);
  tkms_eip712_word_bytes_n(r->key_id, 16, w[0]);
  tkms_eip712_word_dynamic(r->owner, strlen(r->owner), w[1]);
  tkms_eip712_word_uint64(r->version, w[2]);
  tkms_eip712_word_uint64(r->destroyed_at, w[3]);
  tkms_eip712_word_bytes_n(r->request_id, 32, w[4]);
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])w, 5, sh);
  tkms_eip712_digest(domain_sep, sh, out);
}

int tkms_receipt_sign(const tkms_secrets *sec, const tkms_deployment *dep, const tkms_receipt *r,
                      uint8_t sig[65]) {
  uint8_t d[32];
  tkms_receipt_digest(dep->domain_sep, r, d);
  return tkms_secp_sign(sec->identity_sk, d, sig);
}
