/* src/host/routes_priv.h — helpers shared by the route files (routes.c,
 * routes_keys.c, routes_sessions.c). Not for other files. */
#ifndef TKMS_HOST_ROUTES_PRIV_H
#define TKMS_HOST_ROUTES_PRIV_H

#include <jansson.h>

#include "host/json.h"
#include "host/mutation.h"
#include "host/routes.h"

/* The authorisation envelope's JSON names (docs/api.md). */
#define TKMS_ENVELOPE_FIELDS "request_id", "deadline", "deployment", "signature"

/* Parses the body as a JSON object with only the allowed fields. Returns 0,
 * or -1 with resp set (400 invalid_json / bad_request). */
int tkms_body_parse(const tkms_req *req, const char *const *allowed, size_t n, json_t **out,
                    tkms_resp *resp);

/* The authorisation envelope of a request body. */
typedef struct {
  uint8_t request_id[TKMS_REQUEST_ID_BYTES];
  uint64_t deadline;
  uint8_t deployment[TKMS_SALT_BYTES];
  uint8_t sig[128]; /* bounded here, judged by the core */
  size_t sig_len;
  uint8_t session_id[TKMS_SESSION_ID_BYTES];
  int has_session;
} tkms_envelope;

/* Reads the envelope (request_id, deadline, deployment, signature and, if
 * allow_session, an optional session_id). Returns 0 or -1 with e set. */
int tkms_envelope_read(const json_t *body, int allow_session, tkms_envelope *env, tkms_json_err *e);
/* Appends it to w. */
void tkms_envelope_put(tkms_fw *w, const tkms_envelope *env);
/* Both: appends the body's envelope to w. request_id is also copied out (may
 * be NULL). Returns 0 or -1 with e set. */
int tkms_envelope_parse(const json_t *body, tkms_fw *w, int allow_session,
                        uint8_t request_id[TKMS_REQUEST_ID_BYTES], tkms_json_err *e);

/* Decodes the {id} path segment as n bytes of hex. Returns 0 or -1 with resp
 * set to 400 naming `what`. */
int tkms_path_id(const tkms_req *req, uint8_t *id, size_t n, const char *what, tkms_resp *resp);

/* 400 from a JSON validation error. */
void tkms_resp_json_error(tkms_resp *resp, const tkms_json_err *e);
/* 500 / 503 for a failed store read. */
void tkms_resp_store_error(tkms_resp *resp, int store_rc);

/* One non-mutating exchange with the core on a borrowed channel. Finishes w.
 * Returns 0 with rep holding an OK answer; otherwise resp is set and the return
 * is the core's refusal (a TKMS_E_* status > 0, mapped through errors.c) or -1
 * (503 when the core is unavailable, or the request could not be built). */
int tkms_core_request(tkms_host *h, tkms_fw *w, tkms_reply *rep, tkms_resp *resp);
/* Maps an answer of tkms_core_submit as tkms_core_request does: rep NULL (the
 * core failed) is 503; a refusal sets resp and frees rep, returning its
 * status; 0 leaves an OK rep to the caller. */
int tkms_core_answer(tkms_reply *rep, tkms_resp *resp);
/* The same for a two-phase mutation (mutation.h). Returns 0 (committed,
 * rep holds the result) or -1 with resp set. */
int tkms_core_mutation(tkms_host *h, tkms_fw *w, tkms_meta_fn fn, void *ctx, tkms_reply *rep,
                       tkms_resp *resp);

/* JSON string "0x…" of n bytes (NULL on allocation failure; jansson's
 * set_new/append_new functions accept NULL and fail). */
json_t *tkms_json_hexstr(const uint8_t *p, size_t n);

/* Public data of a key version from a KEY_CREATE / KEY_ROTATE answer (and the
 * key id it names). Returns 0 or -1 if a field is missing. */
int tkms_key_result_version(const tkms_frame *f, tkms_key_version *v, uint8_t key_id[16]);

/* Handlers. */
void tkms_route_attest_challenge(tkms_req *req, tkms_resp *resp);
void tkms_route_session_open_attested(tkms_req *req, tkms_resp *resp);
void tkms_route_keys_create(tkms_req *req, tkms_resp *resp);
void tkms_route_keys_list(tkms_req *req, tkms_resp *resp);
void tkms_route_key_get(tkms_req *req, tkms_resp *resp);
void tkms_route_key_sign(tkms_req *req, tkms_resp *resp);
tkms_route_job *tkms_route_key_sign_prepare(tkms_req *req, tkms_resp *resp);
/* A finished KEY_SIGN frame for key id: its current sealed record from the
 * store, mode, payload, version (0: the stored record's version) and the
 * envelope. Returns 0, or -1 with resp set. (routes_keys.c; also the
 * /v1/avs signing routes.) */
int tkms_sign_frame(tkms_host *h, const uint8_t id[16], const char *mode, const uint8_t *payload,
                    size_t plen, uint32_t version, const tkms_envelope *env, tkms_fw *w,
                    tkms_resp *resp);

/* The body of POST /v1/keys/{id}/sign. payload points to the caller's
 * TKMS_MAX_PAYLOAD bytes. */
typedef struct {
  char mode[17];
  uint8_t *payload;
  size_t plen;
  uint64_t version; /* 1 .. 2^32 - 1 */
  tkms_envelope env;
} tkms_sign_body;
/* The fast path (flatjson.h): 0 when the body is in the flat subset and every
 * field is valid; -1 otherwise, and then tkms_sign_body_json decides and
 * words the error. Where both accept, they agree (fuzz/fuzz_sign_body.c). */
int tkms_sign_body_fast(const char *buf, size_t len, tkms_sign_body *b);
/* The jansson path. Returns 0, or -1 with resp set. */
int tkms_sign_body_json(const tkms_req *req, tkms_sign_body *b, tkms_resp *resp);
void tkms_route_key_rotate(tkms_req *req, tkms_resp *resp);
void tkms_route_key_destroy(tkms_req *req, tkms_resp *resp);
void tkms_route_key_policy_get(tkms_req *req, tkms_resp *resp);
/* Folds key id's due policy change into its record (best effort; policy_sweep.h). */
void tkms_policy_materialise_key(tkms_host *h, const uint8_t id[16]);
void tkms_route_key_policy_update(tkms_req *req, tkms_resp *resp);
void tkms_route_key_policy_cancel(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_create(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_get(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_rotate(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_scalar_mul(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_sign(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_registration(tkms_req *req, tkms_resp *resp);
void tkms_route_avs_verify(tkms_req *req, tkms_resp *resp);
void tkms_route_session_open(tkms_req *req, tkms_resp *resp);
void tkms_route_session_revoke(tkms_req *req, tkms_resp *resp);
void tkms_route_governance(tkms_req *req, tkms_resp *resp);
void tkms_route_governance_announce(tkms_req *req, tkms_resp *resp);
void tkms_route_governance_cancel(tkms_req *req, tkms_resp *resp);

#endif
