/* src/core/op.h — one request in flight, and the ECALL table's entry type.
 *
 * dispatch.c fills a tkms_op and runs the stages the op's flags demand:
 *   parse     (per op)  fields well-formed, subject resolved     BAD_REQUEST, NOT_FOUND ...
 *   authz     (authz.c) deployment, deadline, session, signature, scope, replay
 *   handler   (per op)  the work; mutations add records to op->tx
 * A stage that refuses calls tkms_op_fail and returns its status; the dispatcher
 * then throws the half-written response away and answers status + F_ERR_MSG only. */
#ifndef TKMS_CORE_OP_H
#define TKMS_CORE_OP_H
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/policy.h"
#include "core/principal.h"

#define TKMS_ERR_MSG_MAX 400u

typedef struct tkms_op {
  tkms_core *core;
  tkms_conn *conn;
  const tkms_frame *req;
  tkms_fw *resp;   /* TKMS_OK response being built */
  uint64_t now;    /* the core's time (clock.h), read once per request; 0 if none */
  int time_source; /* TKMS_TIME_*: where now came from (ROUGHTIME = trusted) */
  int status;
  char msg[TKMS_ERR_MSG_MAX];

  /* authorisation envelope (ops with TKMS_EC_AUTH) */
  uint8_t request_id[32];
  uint64_t deadline;
  int has_session;
  uint8_t session_id[16];
  const uint8_t *auth_sig;
  size_t auth_sig_len;

  /* subject, resolved by the op's parse step */
  tkms_principal owner;    /* who must authorise this request */
  const tkms_rec *key;     /* key operations: the key's index record */
  const tkms_rec *target;  /* SESSION_REVOKE: the session to revoke */
  const tkms_rec *session; /* the signer's session, when F_SESSION_ID is present */

  tkms_tx *tx; /* mutations: the transaction being prepared */

  /* op arguments, validated by parse */
  int key_type;
  int mode;
  const uint8_t *payload;
  size_t payload_len;
  const uint8_t *blob;
  size_t blob_len;
  uint8_t bn_point[64]; /* bn254 modes: the public point sk multiplies */
  tkms_principal session_key;
  uint8_t scope_ops;
  size_t n_scope_keys;
  uint64_t expiry;
  tkms_policy policy;       /* KEY_CREATE, POLICY_UPDATE: decoded F_POLICY */
  int policy_given;         /* POLICY_UPDATE: F_POLICY was not empty */
  tkms_principal new_owner; /* POLICY_UPDATE: F_NEW_OWNER, when given */
  int new_owner_given;
} tkms_op;

/* Records a refusal; returns status so callers can `return tkms_op_fail(...)`. */
__attribute__((format(printf, 3, 4))) int tkms_op_fail(tkms_op *op, int status, const char *fmt,
                                                       ...);

/* ECALL flags. */
enum {
  TKMS_EC_LIFECYCLE = 1u << 0, /* host-only: start-up, status, commit/abort */
  TKMS_EC_READY = 1u << 1,     /* needs the core to be READY */
  TKMS_EC_AUTH = 1u << 2,      /* carries a signed request: authz runs before the handler */
  TKMS_EC_MUTATES = 1u << 3,   /* two-phase: prepare here, COMMIT/ABORT later */
  TKMS_EC_EXCLUSIVE = 1u << 4, /* holds the mutation lock while it runs */
  TKMS_EC_TIME = 1u << 5,      /* decides by the core's time (time-locks) without being a
                                  TKMS_EC_AUTH op: refused, like those, without trusted time */
};

typedef struct {
  uint16_t op;
  unsigned flags;
  int rt;        /* TKMS_RT_* EIP-712 request type (TKMS_EC_AUTH) */
  uint8_t scope; /* TKMS_SCOPE_* a session needs for this op */
  int (*parse)(tkms_op *op);
  int (*handler)(tkms_op *op);
} tkms_ecall;

/* Handlers, one file per group. */
int tkms_key_create_parse(tkms_op *op);
int tkms_key_create(tkms_op *op);
int tkms_key_sign_parse(tkms_op *op);
int tkms_key_sign_op(tkms_op *op);
int tkms_key_ref_parse(tkms_op *op); /* ROTATE, DESTROY: F_KEY_ID */
/* F_POLICY (exactly once, possibly empty) into op->policy / op->policy_given. */
int tkms_policy_parse_field(tkms_op *op);
int tkms_key_rotate(tkms_op *op);
int tkms_key_destroy(tkms_op *op);
int tkms_session_open_parse(tkms_op *op);
int tkms_session_open(tkms_op *op);
int tkms_session_revoke_parse(tkms_op *op);
int tkms_session_revoke(tkms_op *op);
int tkms_policy_update_parse(tkms_op *op);
int tkms_policy_key_parse(tkms_op *op);
int tkms_policy_update(tkms_op *op);
int tkms_policy_cancel(tkms_op *op);
int tkms_policy_get(tkms_op *op);
int tkms_policy_materialise(tkms_op *op);
int tkms_policy_due(tkms_op *op);
int tkms_lc_status(tkms_op *op);
int tkms_lc_init(tkms_op *op);
int tkms_lc_load_dmk(tkms_op *op);
int tkms_lc_load_records(tkms_op *op);
int tkms_lc_load_end(tkms_op *op);
int tkms_attest(tkms_op *op);
int tkms_bn254_verify(tkms_op *op);
#endif
