/* src/core/sessions.h — delegation to short-lived session keys.
 *
 * An owner signs OpenSession once (scope + expiry); the session key then signs
 * requests that carry F_SESSION_ID. The core checks the whole chain each time:
 * the session exists, has not expired, covers the op and the key, the key belongs
 * to the session's owner, and the request is signed by the session key. */
#ifndef TKMS_CORE_SESSIONS_H
#define TKMS_CORE_SESSIONS_H
#include <stddef.h>
#include <stdint.h>

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
#endif
