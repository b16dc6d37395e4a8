/* src/core/sessions.h — delegation to short-lived session keys.
 *
 * An owner signs OpenSession once (scope + expiry); the session key then signs
 * requests that carry F_SESSION_ID. The core checks the whole chain each time:
 * the session exists, has not expired, covers the op and the key, the key belongs
 * to the session's owner, and the request is signed by the session key.
 *
 * MAC sessions: the session key is a client X25519 public key "x25519:0x<hex>".
 * Core and client share
 *   shared  = X25519(deployment session secret, client_pk)   (never all zero)
 *   mac_key = HKDF-SHA256(ikm = shared, salt = deployment salt,
 *                         info = "tkms-session-mac-v1" || core_pk || client_pk)
 * and a request's authenticator is HMAC-SHA256(mac_key, EIP-712 digest), 32 bytes.
 * The host sees only the two public keys. mac_key is derived when the record
 * enters the index (open, load) and lives in locked memory with the entry. */
#ifndef TKMS_CORE_SESSIONS_H
#define TKMS_CORE_SESSIONS_H
#include <stddef.h>
#include <stdint.h>

#include "core/hierarchy.h"
#include "core/index.h"

enum {
  TKMS_SCOPE_CREATE = 1u << 0,
  TKMS_SCOPE_SIGN = 1u << 1,
  TKMS_SCOPE_ROTATE = 1u << 2,
  TKMS_SCOPE_DESTROY = 1u << 3,
  TKMS_SCOPE_ALL = 0x0fu,
  /* Not grantable: the op is allowed to a session only on itself (revoke). */
  TKMS_SCOPE_SELF = 1u << 7,
};

/* "create" | "sign" | "rotate" | "destroy" -> TKMS_SCOPE_* bit, or 0. */
uint8_t tkms_scope_op_parse(const char *s);
/* 1 if key_id (16 bytes) is listed in the session, or the session lists none. */
int tkms_session_covers_key(const tkms_rec *s, const uint8_t *key_id);

#define TKMS_MAC_SESSION_INFO "tkms-session-mac-v1"
#define TKMS_MAC_SESSION_BYTES 32u /* the key and the authenticator */
/* The MAC key a client key shares with this deployment. Returns 0; 1 if
 * client_pk is of low order (the shared secret is all zero: refuse it); -1 on
 * any other failure. out is zeroised unless 0 is returned. */
int tkms_session_mac_key(const tkms_secrets *sec, const tkms_deployment *dep,
                         const uint8_t client_pk[32], uint8_t out[TKMS_MAC_SESSION_BYTES]);
/* If r is a MAC session without its key, derives the key into a locked slot and
 * attaches it; any other record is left alone. Call it only while r is not
 * shared (before it enters the index, or under the exclusive lock). Returns 0,
 * 1 (low-order client key) or -1 (out of memory, bad record). */
int tkms_session_mac_attach(const tkms_secrets *sec, const tkms_deployment *dep, tkms_rec *r);
#endif
