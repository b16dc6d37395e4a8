/* src/core/dispatch.c — the ECALL table: the whole attack surface of the core.
 *
 * Like OpenSSH's monitor table: every op the host may send, its flags and its
 * handler. There is no other way in. The flags decide the checks, so a handler
 * cannot forget one: TKMS_EC_AUTH ops are authorised before their handler runs,
 * TKMS_EC_MUTATES ops get a transaction with a replay nonce, and nothing but
 * COMMIT/ABORT passes on a socket that has a prepared transaction. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/authz.h"
#include "core/governance.h"
#include "core/op.h"
#include "core/sessions.h"
#include "core/txn.h"
#include "proto/requests.h"

enum {
  LC = TKMS_EC_LIFECYCLE,
  RDY = TKMS_EC_READY,
  AUTH = TKMS_EC_AUTH,
  MUT = TKMS_EC_MUTATES | TKMS_EC_EXCLUSIVE,
  EXCL = TKMS_EC_EXCLUSIVE,
  TIME = TKMS_EC_TIME,
};

/* The table. A session can be granted only the scopes create/sign/rotate/destroy;
 * SELF means "only on itself" (a session may revoke itself, nothing else). */
// clang-format off
static const tkms_ecall ecalls[] = {
  /* op                      flags                request type            session scope       parse                     handler */
  {TKMS_OP_STATUS,           LC,                  -1,                     0,                  NULL,                     tkms_lc_status},
  {TKMS_OP_INIT,             LC | MUT,            -1,                     0,                  NULL,                     tkms_lc_init},
  {TKMS_OP_LOAD_DMK,         LC | EXCL,           -1,                     0,                  NULL,                     tkms_lc_load_dmk},
  {TKMS_OP_LOAD_RECORDS,     LC | EXCL,           -1,                     0,                  NULL,                     tkms_lc_load_records},
  {TKMS_OP_LOAD_END,         LC | EXCL,           -1,                     0,                  NULL,                     tkms_lc_load_end},
  /* TKMS_OP_COMMIT and TKMS_OP_ABORT act on the socket's prepared transaction
     (finish_tx below); they start nothing, so they are not in the table. */
  {TKMS_OP_KEY_CREATE,       RDY | AUTH | MUT,    TKMS_RT_CREATE_KEY,     TKMS_SCOPE_CREATE,  tkms_key_create_parse,    tkms_key_create},
  {TKMS_OP_KEY_SIGN,         RDY | AUTH,          TKMS_RT_SIGN,           TKMS_SCOPE_SIGN,    tkms_key_sign_parse,      tkms_key_sign_op},
  {TKMS_OP_KEY_ROTATE,       RDY | AUTH | MUT,    TKMS_RT_ROTATE_KEY,     TKMS_SCOPE_ROTATE,  tkms_key_ref_parse,       tkms_key_rotate},
  {TKMS_OP_KEY_DESTROY,      RDY | AUTH | MUT,    TKMS_RT_DESTROY_KEY,    TKMS_SCOPE_DESTROY, tkms_key_ref_parse,       tkms_key_destroy},
  {TKMS_OP_SESSION_OPEN,     RDY | AUTH | MUT,    TKMS_RT_OPEN_SESSION,   0,                  tkms_session_open_parse,  tkms_session_open},
  {TKMS_OP_SESSION_REVOKE,   RDY | AUTH | MUT,    TKMS_RT_REVOKE_SESSION, TKMS_SCOPE_SELF,    tkms_session_revoke_parse, tkms_session_revoke},
  {TKMS_OP_ATTEST,           RDY,                 -1,                     0,                  NULL,                     tkms_attest},
  {TKMS_OP_BN254_VERIFY,     RDY,                 -1,                     0,                  NULL,                     tkms_bn254_verify},
  /* trusted time: host-only, like the lifecycle ops; clock.c decides everything */
  {TKMS_OP_TIME_REQUEST,     RDY,                 -1,                     0,                  NULL,                     tkms_time_request},
  {TKMS_OP_TIME_RESPONSE,    RDY,                 -1,                     0,                  NULL,                     tkms_time_response},
  /* Governance requests carry M-of-N governor signatures, checked (with replay)
     by their handlers in governance.c, not by the single-signer authz stage. */
  {TKMS_OP_GOV_ANNOUNCE,     RDY | MUT | TIME,    -1,                     0,                  NULL,                     tkms_gov_announce},
  {TKMS_OP_GOV_CANCEL,       RDY | MUT | TIME,    -1,                     0,                  NULL,                     tkms_gov_cancel},
  {TKMS_OP_GOV_STATUS,       RDY,                 -1,                     0,                  NULL,                     tkms_gov_status},
  {TKMS_OP_MIGRATE_NONCE,    LC | RDY | EXCL,     -1,                     0,                  NULL,                     tkms_migrate_nonce},
  {TKMS_OP_MIGRATE_OFFER,    LC | EXCL,           -1,                     0,                  NULL,                     tkms_migrate_offer},
  {TKMS_OP_MIGRATE_EXPORT,   LC|RDY|EXCL|TIME,    -1,                     0,                  NULL,                     tkms_migrate_export},
  {TKMS_OP_MIGRATE_IMPORT,   LC | EXCL,           -1,                     0,                  NULL,                     tkms_migrate_import},
  {TKMS_OP_MIGRATE_FINISH,   LC | RDY | MUT,      -1,                     0,                  NULL,                     tkms_migrate_finish},
  /* key policy: changed by the owner in force only (scope 0: no session may);
     read and materialised without a signature (policy_ops.c says why) */
  {TKMS_OP_POLICY_UPDATE,    RDY | AUTH | MUT,    TKMS_RT_UPDATE_POLICY,  0,                  tkms_policy_update_parse, tkms_policy_update},
  {TKMS_OP_POLICY_CANCEL,    RDY | AUTH | MUT,    TKMS_RT_CANCEL_POLICY_CHANGE, 0,            tkms_policy_key_parse,    tkms_policy_cancel},
  {TKMS_OP_POLICY_GET,       RDY | TIME,          -1,                     0,                  NULL,                     tkms_policy_get},
  {TKMS_OP_POLICY_MATERIALISE, RDY | MUT | TIME,  -1,                     0,                  tkms_policy_key_parse,    tkms_policy_materialise},
  {TKMS_OP_POLICY_DUE,       RDY | TIME,          -1,                     0,                  NULL,                     tkms_policy_due},
  /* attested sessions: the evidence authorises, not a signature (attested.h) */
  {TKMS_OP_ATTEST_CHALLENGE, RDY | TIME,          -1,                     0,                  NULL,                     tkms_attest_challenge},
  {TKMS_OP_SESSION_OPEN_ATTESTED, RDY | MUT | TIME, -1,                     0,                  tkms_session_open_attested_parse, tkms_session_open_attested},
};
// clang-format on

int tkms_op_fail(tkms_op *op, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(op->msg, sizeof op->msg, fmt, ap);
  va_end(ap);
  /* F_ERR_MSG is a frame string: printable ASCII only, never empty. */
  for (char *p = op->msg; *p != '\0'; p++) {
    if (*p < 0x20 || *p > 0x7e) *p = '?';
  }
  if (op->msg[0] == '\0') snprintf(op->msg, sizeof op->msg, "refused");
  op->status = status;
  return status;
}

static const tkms_ecall *find_ecall(uint16_t op) {
  for (size_t i = 0; i < sizeof ecalls / sizeof ecalls[0]; i++) {
    if (ecalls[i].op == op) return &ecalls[i];
  }
  return NULL;
}

/* Waits a bounded time for the mutation lock: a host that never commits must
 * not wedge the other sockets forever. */
static int lock_mutation(tkms_core *c) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += c->busy_ms / 1000;
  ts.tv_nsec += (long)(c->busy_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  int r;
  while ((r = pthread_mutex_timedlock(&c->mutation, &ts)) == EINTR) {
  }
  return r == 0 ? 0 : -1;
}

static void abort_pending(tkms_conn *conn) {
  if (conn->pending == NULL) return;
  tkms_tx_free(conn->pending);
  conn->pending = NULL;
  pthread_mutex_unlock(&conn->core->mutation);
}

void tkms_conn_init(tkms_conn *conn, tkms_core *core) {
  conn->core = core;
  conn->pending = NULL;
}

void tkms_conn_close(tkms_conn *conn) {
  abort_pending(conn);
}

/* The stages, under the lock the flags ask for (see op.h). */
static int run_locked(tkms_op *op, const tkms_ecall *ec) {
  tkms_core *c = op->core;
  int st;
  if (c->failed)
    return tkms_op_fail(op, TKMS_E_INTERNAL,
                        "the core stopped after a counter failure; restart it");
  if ((ec->flags & TKMS_EC_READY) && c->state != TKMS_STATE_READY)
    return tkms_op_fail(op, TKMS_E_NOT_READY, "the core has not loaded its state yet");
  /* Client ops: everything but the host's lifecycle and time relay. */
  int client = !(ec->flags & TKMS_EC_LIFECYCLE) && ec->op != TKMS_OP_TIME_REQUEST &&
               ec->op != TKMS_OP_TIME_RESPONSE;
  if (client && c->migrate_source)
    return tkms_op_fail(op, TKMS_E_NOT_READY,
                        "this core was started with --migrate-source: it only hands the "
                        "deployment to a successor and serves no requests");
  if (client && c->must_finish)
    return tkms_op_fail(op, TKMS_E_NOT_READY,
                        "this core has just taken the deployment over and records itself as "
                        "its holder first (MIGRATE_FINISH); retry");
  int mut = (ec->flags & TKMS_EC_MUTATES) != 0, nonce = mut && (ec->flags & TKMS_EC_AUTH);
  if ((ec->flags & TKMS_EC_AUTH) && (st = tkms_authz_envelope(op)) != TKMS_OK) return st;
  /* Replay before the subject lookup: a replayed destroy of a key that is gone
   * now is REPLAY, not NOT_FOUND (authz.h). */
  if (nonce && (st = tkms_authz_replay(op)) != TKMS_OK) return st;
  if (ec->parse != NULL && (st = ec->parse(op)) != TKMS_OK) return st;
  if ((ec->flags & TKMS_EC_AUTH) && (st = tkms_authz_verify(op, ec)) != TKMS_OK) return st;
  if (mut && (st = tkms_tx_begin(op)) != TKMS_OK) return st;
  /* A mutation's request id becomes a record in the same transaction, so it is
   * durable exactly when the change is: replay is refused across restarts. */
  if (nonce && (st = tkms_tx_put_nonce(op)) != TKMS_OK) return st;
  if ((st = ec->handler(op)) != TKMS_OK) return st;
  if (nonce && (st = tkms_tx_prune(op)) != TKMS_OK) return st;
  /* The time floor rides along with every change, so a restart resumes from it. */
  if (mut && (st = tkms_clock_tx_floor(op)) != TKMS_OK) return st;
  if (mut && (st = tkms_tx_finish(op)) != TKMS_OK) return st;
  return TKMS_OK;
}

static int run(tkms_op *op, const tkms_ecall *ec) {
  tkms_core *c = op->core;
  if (ec->flags & TKMS_EC_EXCLUSIVE) {
    if (lock_mutation(c) != 0)
      return tkms_op_fail(op, TKMS_E_BUSY, "another change is being committed; retry");
  } else {
    pthread_rwlock_rdlock(&c->lock);
  }
  /* Ops that carry a signed request check deadlines and stamp times, and TIME ops
   * judge time-locks: without trusted time (clock.h) they are refused, retryably. */
  int tr = tkms_clock_now(c, &op->now, &op->time_source), st;
  if (tr < 0)
    st = tkms_op_fail(op, TKMS_E_INTERNAL, "the platform clock failed");
  else if (tr > 0 && (ec->flags & (TKMS_EC_AUTH | TKMS_EC_TIME)) && c->state == TKMS_STATE_READY)
    st = tkms_op_fail(op, TKMS_E_TIME_UNAVAILABLE,
                      "the core has no trusted time yet: no quorum of its Roughtime servers "
                      "has answered (the host relays their UDP replies); retry");
  else
    st = run_locked(op, ec);
  if (ec->flags & TKMS_EC_EXCLUSIVE) {
    if (st == TKMS_OK && op->tx != NULL) {
      op->conn->pending = op->tx; /* keeps the mutation lock until COMMIT/ABORT */
    } else {
      tkms_tx_free(op->tx);
      pthread_mutex_unlock(&c->mutation);
    }
    op->tx = NULL;
  } else {
    pthread_rwlock_unlock(&c->lock);
  }
  return st;
}

/* COMMIT / ABORT of this socket's prepared transaction. */
static int finish_tx(tkms_op *op) {
  tkms_conn *conn = op->conn;
  uint64_t txid;
  if (conn->pending == NULL)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "no prepared transaction on this socket");
  if (tkms_frame_get_u64(op->req, TKMS_F_TXID, &txid) != 0 || txid != conn->pending->txid) {
    abort_pending(conn);
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "F_TXID does not name the prepared transaction; it was aborted");
  }
  if (op->req->op == TKMS_OP_ABORT) {
    abort_pending(conn);
    return TKMS_OK;
  }
  tkms_tx *tx = conn->pending;
  conn->pending = NULL;
  int has_receipt = tx->has_receipt;
  tkms_receipt rc = tx->receipt;
  char owner[TKMS_MAX_PRINCIPAL + 1];
  memcpy(owner, tx->receipt_owner, sizeof owner);
  rc.owner = owner;
  int st = tkms_tx_commit(conn->core, tx, op->msg, sizeof op->msg);
  if (st == TKMS_OK && has_receipt) {
    /* Only now, with the destroy committed, may a receipt exist. */
    uint8_t sig[65];
    if (tkms_receipt_sign(conn->core->sec, &conn->core->dep, &rc, sig) == 0) {
      tkms_fw_bytes(op->resp, TKMS_F_RECEIPT_SIG, sig, sizeof sig);
    } else {
      st = tkms_op_fail(op, TKMS_E_INTERNAL,
                        "the destroy is committed but signing its receipt failed");
    }
  }
  pthread_mutex_unlock(&conn->core->mutation);
  if (st != TKMS_OK) op->status = st;
  return st;
}

/* Replaces whatever was written with status + F_ERR_MSG. */
static int answer_error(tkms_fw *resp, uint16_t opcode, uint32_t seq, int status, const char *msg) {
  tkms_fw_free(resp);
  if (tkms_fw_init(resp, opcode, (uint16_t)status, seq) != 0) return -1;
  tkms_fw_str(resp, TKMS_F_ERR_MSG, msg);
  return tkms_fw_finish(resp);
}

int tkms_core_dispatch(tkms_conn *conn, const uint8_t *req, size_t req_len, tkms_fw *resp) {
  tkms_frame f;
  memset(resp, 0, sizeof *resp);
  if (tkms_frame_parse(req, req_len, &f) != 0) {
    abort_pending(conn);
    return answer_error(resp, 0, 0, TKMS_E_BAD_REQUEST, "malformed frame");
  }
  tkms_op op;
  memset(&op, 0, sizeof op);
  op.core = conn->core;
  op.conn = conn;
  op.req = &f;
  op.resp = resp;
  if (tkms_fw_init(resp, f.op, TKMS_OK, f.seq) != 0) return -1;
  int st;
  const tkms_ecall *ec = find_ecall(f.op);
  if (f.status != 0) {
    abort_pending(conn);
    st = tkms_op_fail(&op, TKMS_E_BAD_REQUEST, "requests must carry status 0");
  } else if (f.op == TKMS_OP_COMMIT || f.op == TKMS_OP_ABORT) {
    st = finish_tx(&op);
  } else if (conn->pending != NULL) {
    /* The host must finish what it prepared before anything else on this socket. */
    abort_pending(conn);
    st = tkms_op_fail(&op, TKMS_E_BAD_REQUEST,
                      "a prepared transaction was pending on this socket; it was aborted");
  } else if (ec == NULL) {
    st = tkms_op_fail(&op, TKMS_E_BAD_REQUEST, "unknown op 0x%04x", f.op);
  } else {
    st = run(&op, ec);
  }
  if (st == TKMS_OK) {
    if (tkms_fw_finish(resp) == 0) return 0;
    /* Too large or out of memory: nothing may stay prepared that the host did
     * not see. */
    abort_pending(conn);
    return answer_error(resp, f.op, f.seq, TKMS_E_INTERNAL, "response too large");
  }
  return answer_error(resp, f.op, f.seq, st, op.msg);
}
