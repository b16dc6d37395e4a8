/* src/host/routes.h — the HTTP API of docs/api.md: route matching and the
 * handlers. Handlers parse and check input, marshal it into frames exactly as
 * proto/ops.h says, and map the core's answer to HTTP. They decide nothing
 * about key use: that is the core's job. */
#ifndef TKMS_HOST_ROUTES_H
#define TKMS_HOST_ROUTES_H

#include <stddef.h>

#include "host/core.h"
#include "host/errors.h"
#include "host/store.h"

#define TKMS_HOST_VERSION "0.1.0"
#define TKMS_MAX_BODY (64u * 1024u) /* docs/api.md Limits */

/* Everything a handler may use. */
typedef struct {
  tkms_store *store;
  tkms_core *core;
} tkms_host;

typedef enum {
  TKMS_R_HEALTH,
  TKMS_R_EIP712,
  TKMS_R_ATTESTATION,
  TKMS_R_KEYS_LIST,
  TKMS_R_KEYS_CREATE,
  TKMS_R_KEY_GET,
  TKMS_R_KEY_DESTROY,
  TKMS_R_KEY_SIGN,
  TKMS_R_KEY_ROTATE,
  TKMS_R_SESSION_OPEN,
  TKMS_R_SESSION_REVOKE,
  TKMS_R_ATTEST_CHALLENGE,
  TKMS_R_SESSION_OPEN_ATTESTED,
  TKMS_R_AVS_CREATE,
  TKMS_R_AVS_GET,
  TKMS_R_AVS_ROTATE,
  TKMS_R_AVS_SCALAR_MUL,
  TKMS_R_AVS_SIGN,
  TKMS_R_AVS_REGISTRATION,
  TKMS_R_AVS_VERIFY,
  TKMS_R_GOVERNANCE,
  TKMS_R_GOV_ANNOUNCE,
  TKMS_R_GOV_CANCEL,
  TKMS_R_KEY_POLICY_GET,
  TKMS_R_KEY_POLICY_UPDATE,
  TKMS_R_KEY_POLICY_CANCEL,
} tkms_route_id;

#define TKMS_ROUTE_ARG_MAX 80u

typedef struct {
  tkms_route_id id;
  int takes_body;               /* the route requires a JSON body */
  char arg[TKMS_ROUTE_ARG_MAX]; /* the {id} path segment, NUL-terminated */
  int arg_too_long;             /* the segment did not fit (handlers answer 400) */
} tkms_route;

enum { TKMS_ROUTE_FOUND = 0, TKMS_ROUTE_NOT_FOUND = 1, TKMS_ROUTE_BAD_METHOD = 2 };

/* Matches method + path (without query). On BAD_METHOD *allow lists the
 * methods the path accepts (static string). */
int tkms_route_match(const char *method, const char *path, tkms_route *r, const char **allow);

/* A request as the handlers see it. */
typedef struct {
  tkms_host *host;
  const tkms_route *route;
  const char *body; /* may be NULL when body_len is 0 */
  size_t body_len;
  void *conn; /* the HTTP connection, for tkms_req_query */
} tkms_req;

/* A query argument (decoded) or NULL. Implemented by http.c. */
const char *tkms_req_query(const tkms_req *req, const char *name);

/* Runs the matched route; always fills resp. */
void tkms_route_run(tkms_req *req, tkms_resp *resp);

/* Deferred routes (signing): the request is checked and its frame built on the
 * HTTP thread, then queued on a pipelined core socket (core.h) while the HTTP
 * thread serves other connections.
 *   tkms_route_defers: the route can be deferred.
 *   tkms_route_prepare: NULL with resp filled (an answer now, e.g. 400), or a
 *     job to submit.
 *   tkms_route_job_submit: 0 when done(ctx, resp) will be called exactly once,
 *     on another thread, with the answer (the callee takes resp's contents), or
 *     with resp NULL meaning "run the route again with tkms_route_run" (a
 *     rotation raced the request); -1 when the job could not be queued (the
 *     pipelines are full or the core is restarting): the job is freed and the
 *     caller runs the route with tkms_route_run. */
typedef struct tkms_route_job tkms_route_job;
typedef void (*tkms_route_done_fn)(void *ctx, tkms_resp *resp);
int tkms_route_defers(const tkms_route *r);
/* The route never waits for the core or the store (it answers from memory):
 * it may run on an HTTP thread. Every other route runs on a worker thread. */
int tkms_route_inline(const tkms_route *r);
tkms_route_job *tkms_route_prepare(tkms_req *req, tkms_resp *resp);
int tkms_route_job_submit(tkms_host *h, tkms_route_job *j, tkms_route_done_fn done, void *ctx);

#endif
