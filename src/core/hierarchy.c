/* src/core/hierarchy.c — the DMK and the keys derived from it (see hierarchy.h). */
#include "core/hierarchy.h"

#include <sodium.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/eip712.h"
#include "crypto/kdf.h"
#include "crypto/secp256k1_eth.h"
#include "proto/requests.h"

#define HKDF_SALT "tkms-v1"
#define DMK_AD "tkms-dmk-v1"

static int derive(const uint8_t dmk[32], const char *label, const uint8_t *suffix,
                  size_t suffix_len, uint8_t out[32]) {
  uint8_t info[64];
  size_t n = strlen(label);
  if (n + suffix_len > sizeof info) return -1;
  memcpy(info, label, n);
  if (suffix_len > 0) memcpy(info + n, suffix, suffix_len);
  return tkms_hkdf_sha256((const uint8_t *)HKDF_SALT, strlen(HKDF_SALT), dmk, 32, info,
                          n + suffix_len, out, 32);
}

void tkms_domain_separator(const uint8_t salt[32], uint8_t out[32]) {
  uint8_t th[32], w[3][32];
  tkms_eip712_type_hash(TKMS_EIP712_DOMAIN_TYPE, th);
  tkms_eip712_word_dynamic(TKMS_EIP712_NAME, strlen(TKMS_EIP712_NAME), w[0]);
  tkms_eip712_word_dynamic(TKMS_EIP712_VERSION, strlen(TKMS_EIP712_VERSION), w[1]);
  memcpy(w[2], salt, 32);
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])w, 3, out);
}

/* Fills everything in sec and dep from sec->dmk, then makes sec read-only. */
static int derive_all(tkms_secrets *sec, tkms_deployment *dep) {
  if (derive(sec->dmk, "record-seal", NULL, 0, sec->record_key) != 0 ||
      derive(sec->dmk, "manifest-seal", NULL, 0, sec->manifest_key) != 0 ||
      derive(sec->dmk, "deployment-salt", NULL, 0, dep->salt) != 0 ||
      derive(sec->dmk, "tkms-session-x25519-v1", NULL, 0, sec->session_x25519_sk) != 0 ||
      crypto_scalarmult_base(dep->session_x25519, sec->session_x25519_sk) != 0)
    return -1;
  int ok = 0;
  for (unsigned i = 0; i < 256 && !ok; i++) {
    uint8_t ctr = (uint8_t)i;
    if (derive(sec->dmk, "identity-secp256k1", &ctr, i == 0 ? 0 : 1, sec->identity_sk) != 0)
      return -1;
    ok = tkms_secp_sk_check(sec->identity_sk) == 0;
  }
  if (!ok) return -1;
  uint8_t pub65[65];
  if (tkms_secp_pubkey(sec->identity_sk, NULL, pub65) != 0) return -1;
  tkms_eth_address(pub65, dep->identity);
  tkms_domain_separator(dep->salt, dep->domain_sep);
  /* Nothing writes the secrets after this: a stray write faults instead of
   * corrupting them. */
  return sodium_mprotect_readonly(sec);
}

static int from_dmk(const uint8_t *dmk, tkms_secrets **out, tkms_deployment *dep) {
  tkms_secrets *sec = sodium_malloc(sizeof *sec);
  if (sec == NULL) return -1;
  sodium_memzero(sec, sizeof *sec);
  if (dmk != NULL) {
    memcpy(sec->dmk, dmk, TKMS_DMK_BYTES);
  } else {
    randombytes_buf(sec->dmk, TKMS_DMK_BYTES);
  }
  if (derive_all(sec, dep) != 0) {
    tkms_secrets_free(sec);
    return -1;
  }
  *out = sec;
  return 0;
}

int tkms_hierarchy_create(tkms_secrets **sec, tkms_deployment *dep) {
  return from_dmk(NULL, sec, dep);
}

int tkms_hierarchy_from_dmk(const uint8_t dmk[TKMS_DMK_BYTES], tkms_secrets **sec,
                            tkms_deployment *dep) {
  return from_dmk(dmk, sec, dep);
}

void tkms_secrets_free(tkms_secrets *sec) {
  if (sec == NULL) return;
  /* sodium_free zeroises, but only writable memory can be zeroised. */
  sodium_mprotect_readwrite(sec);
  sodium_free(sec);
}

int tkms_dmk_seal(const uint8_t seal_key[32], const tkms_secrets *sec,
                  uint8_t out[TKMS_SEALED_DMK_BYTES]) {
  return tkms_aead_seal(seal_key, (const uint8_t *)DMK_AD, strlen(DMK_AD), sec->dmk, TKMS_DMK_BYTES,
                        out);
}

int tkms_dmk_open(const uint8_t seal_key[32], const uint8_t *sealed, size_t len,
                  uint8_t dmk[TKMS_DMK_BYTES]) {
  if (len != TKMS_SEALED_DMK_BYTES) return -1;
  return tkms_aead_open(seal_key, (const uint8_t *)DMK_AD, strlen(DMK_AD), sealed, len, dmk);
}
