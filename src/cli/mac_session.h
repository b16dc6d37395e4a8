/* src/cli/mac_session.h — the client side of a MAC session (docs/api.md, "MAC
 * sessions"): an X25519 key pair whose public key is the session key
 * "x25519:0x<hex>", and the MAC key it shares with the deployment's core:
 *   shared  = X25519(client secret, core key)   (GET /v1/health session_x25519)
 *   mac_key = HKDF-SHA256(ikm = shared, salt = deployment salt,
 *                         info = "tkms-session-mac-v1" || core key || client key)
 * A request is authenticated by HMAC-SHA256(mac_key, EIP-712 digest), 32 bytes.
 *
 * The session file (mode 0600, never overwritten) keeps the client secret, the
 * session id, the core key and the deployment salt, so signing needs no trust
 * in what a host says later: the salt is pinned. A host that lied about the core
 * key at open learns nothing useful: the core derives its own key and refuses
 * every MAC the client makes; it cannot make one the core accepts. */
#ifndef TKMS_CLI_MAC_SESSION_H
#define TKMS_CLI_MAC_SESSION_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/request.h"

/* "x25519:0x" + 64 hex digits + NUL */
#define TKMS_CLI_MAC_PRINCIPAL_MAX 80u

typedef struct {
  uint8_t *secret; /* sodium_malloc: X25519 secret (32) || MAC key (32) */
  uint8_t pub[32];
  uint8_t core_pub[32];
  uint8_t salt[32];
  uint8_t session_id[16];
  uint64_t expiry;
  char principal[TKMS_CLI_MAC_PRINCIPAL_MAX];
} tkms_cli_mac_session;

/* A fresh key pair. Returns 0, or -1 after printing why. */
int tkms_cli_mac_session_generate(tkms_cli_mac_session *s);
/* Derives the MAC key for a deployment (core key and salt are kept in s).
 * Returns 0, or -1 after printing why (e.g. a low-order core key). */
int tkms_cli_mac_session_bind(tkms_cli_mac_session *s, const uint8_t core_pub[32],
                              const uint8_t salt[32]);
/* Writes everything to fd (from tkms_cli_file_create(path, 0600)). Returns 0, or
 * -1 after printing why (the file is removed). */
int tkms_cli_mac_session_save(const tkms_cli_mac_session *s, int fd, const char *path);
/* Loads a session file and derives its MAC key. Returns 0, or -1 after printing why. */
int tkms_cli_mac_session_load(const char *path, tkms_cli_mac_session *s);
/* Authenticates request type rt (vals as for tkms_cli_request_sign) and adds
 * request_id, deadline, deployment, session_id and signature (the 32-byte MAC)
 * to body. Returns 0, or -1 after printing why. */
int tkms_cli_mac_session_sign(const tkms_cli_mac_session *s, const tkms_cli_envelope *e, int rt,
                              const tkms_cli_value *vals, size_t n, json_t *body);
/* Wipes and frees the secret; safe on a zeroed or already-freed session. */
void tkms_cli_mac_session_free(tkms_cli_mac_session *s);
#endif
