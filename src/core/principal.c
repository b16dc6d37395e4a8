/* src/core/principal.c — parsing principals (see principal.h). */
#include "core/principal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "proto/hex.h"

/* Lowercase hex only: "0x" then 2n digits in [0-9a-f]. */
static int lower_hex(const char *s, size_t n_bytes) {
  if (strlen(s) != 2 + 2 * n_bytes || s[0] != '0' || s[1] != 'x') return -1;
  for (size_t i = 2; s[i] != '\0'; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
  }
  return 0;
}

/* n_kinds limits which kinds are accepted: the first two, or also x25519. */
static int parse(const char *s, tkms_principal *out, size_t n_kinds) {
  static const struct {
    const char *prefix;
    tkms_principal_kind kind;
    size_t len;
  } kinds[] = {{"eoa:", TKMS_PRINCIPAL_EOA, 20},
               {"ed25519:", TKMS_PRINCIPAL_ED25519, 32},
               {"x25519:", TKMS_PRINCIPAL_X25519, 32}};
  if (s == NULL || strlen(s) > TKMS_MAX_PRINCIPAL) return -1;
  for (size_t k = 0; k < n_kinds && k < sizeof kinds / sizeof kinds[0]; k++) {
    size_t pl = strlen(kinds[k].prefix);
    if (strncmp(s, kinds[k].prefix, pl) != 0) continue;
    const char *hex = s + pl;
    memset(out, 0, sizeof *out);
    if (lower_hex(hex, kinds[k].len) != 0 || tkms_hex_decode_exact(hex, out->id, kinds[k].len) != 0)
      return -1;
    /* An Ed25519 key that is not a point of the main subgroup can never sign. */
    if (kinds[k].kind == TKMS_PRINCIPAL_ED25519 && crypto_core_ed25519_is_valid_point(out->id) != 1)
      return -1;
    out->kind = kinds[k].kind;
    out->id_len = kinds[k].len;
    memcpy(out->text, s, strlen(s) + 1);
    return 0;
  }
  return -1;
}

int tkms_principal_parse(const char *s, tkms_principal *out) {
  return parse(s, out, 2);
}

int tkms_principal_parse_session_key(const char *s, tkms_principal *out) {
  return parse(s, out, 3);
}

void tkms_principal_eoa(const uint8_t addr[20], tkms_principal *out) {
  memset(out, 0, sizeof *out);
  out->kind = TKMS_PRINCIPAL_EOA;
  out->id_len = 20;
  memcpy(out->id, addr, 20);
  memcpy(out->text, "eoa:", 4);
  tkms_hex_encode(addr, 20, out->text + 4);
}
