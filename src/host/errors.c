/* src/host/errors.c — status mapping, error bodies and the access log; see errors.h. */
#include "host/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ops.h"

/* Keep in step with proto/ops.h and docs/api.md. The start-up statuses
 * (UNSEAL, ROLLBACK, TAMPERED) never reach a client in normal operation; if
 * they did, it would be a bug, hence 500. NOT_READY is reported with the
 * documented code core_unavailable: to a client the two mean the same thing
 * (the core is starting; retry). */
static const tkms_status_map table[TKMS_E__COUNT] = {
    [TKMS_OK] = {200, "ok"},
    [TKMS_E_BAD_REQUEST] = {400, "bad_request"},
    [TKMS_E_BAD_SIGNATURE] = {401, "bad_signature"},
    [TKMS_E_HIGH_S] = {401, "non_canonical_signature"},
    [TKMS_E_WRONG_SIGNER] = {403, "wrong_signer"},
    [TKMS_E_EXPIRED] = {401, "request_expired"},
    [TKMS_E_REPLAY] = {403, "replayed_request"},
    [TKMS_E_WRONG_DEPLOYMENT] = {403, "wrong_deployment"},
    [TKMS_E_NOT_FOUND] = {404, "key_not_found"},
    [TKMS_E_SCOPE] = {403, "outside_session_scope"},
    [TKMS_E_SESSION_EXPIRED] = {401, "session_expired"},
    [TKMS_E_SESSION_UNKNOWN] = {401, "session_unknown"},
    [TKMS_E_DEADLINE_TOO_FAR] = {400, "deadline_too_far"},
    [TKMS_E_UNSUPPORTED] = {400, "unsupported"},
    [TKMS_E_STALE_RECORD] = {409, "stale_record"},
    [TKMS_E_BUSY] = {503, "core_busy"},
    [TKMS_E_NOT_READY] = {503, "core_unavailable"},
    [TKMS_E_LIMIT] = {429, "limit_reached"},
    [TKMS_E_UNSEAL] = {500, "internal"},
    [TKMS_E_ROLLBACK] = {500, "internal"},
    [TKMS_E_TAMPERED] = {500, "internal"},
    [TKMS_E_INTERNAL] = {500, "internal"},
    [TKMS_E_WRONG_VERSION] = {409, "version_mismatch"},
    [TKMS_E_EXISTS] = {409, "key_exists"},
    [TKMS_E_TIME_UNAVAILABLE] = {503, "time_unavailable"},
    [TKMS_E_TIME_NO_QUORUM] = {503, "time_no_quorum"},
    [TKMS_E_GOV_QUORUM] = {403, "governance_quorum"},
    [TKMS_E_TIMELOCK] = {403, "timelock_pending"},
    [TKMS_E_NOT_ANNOUNCED] = {403, "upgrade_not_announced"},
    [TKMS_E_NOT_GOVERNED] = {409, "no_governance"},
    [TKMS_E_MIGRATION] = {403, "migration_refused"},
    [TKMS_E_ALREADY_ANNOUNCED] = {409, "already_announced"},
    /* key policy (34-39) */
    [TKMS_E_CHANGE_PENDING] = {409, "change_pending"},
    [TKMS_E_NO_PENDING_CHANGE] = {404, "no_pending_change"},
    [TKMS_E_CHANGE_EFFECTIVE] = {409, "change_effective"},
    [TKMS_E_KEY_EXPIRED] = {403, "key_expired"},
    [TKMS_E_KEY_RATE_LIMITED] = {429, "key_rate_limited"},
    [TKMS_E_CHANGE_NOT_DUE] = {409, "change_not_due"},
};

static const tkms_status_map internal = {500, "internal"};

const tkms_status_map *tkms_status_for_core(unsigned core_status) {
  if (core_status >= TKMS_E__COUNT || table[core_status].code == NULL) return &internal;
  return &table[core_status];
}

/* Used when even building an error fails: a static body, never freed. */
static const char oom_body[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory; nothing was changed\"}}";

void tkms_resp_clear(tkms_resp *resp) {
  if (resp->body != NULL && !resp->body_static) free(resp->body);
  resp->body = NULL;
  resp->len = 0;
  resp->body_static = 0;
}

void tkms_resp_json(tkms_resp *resp, unsigned status, json_t *obj) {
  tkms_resp_clear(resp);
  char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (s == NULL) {
    resp->status = 500;
    resp->body = (char *)oom_body;
    resp->len = sizeof oom_body - 1;
    resp->body_static = 1;
    return;
  }
  resp->status = status;
  resp->body = s;
  resp->len = strlen(s);
}

void tkms_resp_error(tkms_resp *resp, unsigned status, const char *code, const char *message) {
  json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message ? message : code);
  if (err != NULL && status == 503) json_object_set_new(err, "retryable", json_true());
  json_t *obj = err ? json_pack("{s:o}", "error", err) : NULL;
  tkms_resp_json(resp, status, obj);
}

static const char *default_message(unsigned core_status) {
  switch (core_status) {
    case TKMS_E_BAD_SIGNATURE:
      return "the request signature is malformed or does not verify";
    case TKMS_E_WRONG_SIGNER:
      return "the request is not signed by the key's owner or session key";
    case TKMS_E_REPLAY:
      return "this request_id was already used";
    case TKMS_E_NOT_FOUND:
      return "no such key";
    case TKMS_E_BUSY:
      return "the trusted core is busy; retry";
    case TKMS_E_NOT_READY:
      return "the trusted core is starting; retry";
    case TKMS_E_TIME_UNAVAILABLE:
      return "the trusted core has no trusted time yet; retry";
    default:
      return "the trusted core refused the request";
  }
}

void tkms_resp_core_error(tkms_resp *resp, unsigned core_status, const char *msg) {
  const tkms_status_map *m = tkms_status_for_core(core_status);
  if (m->http == 200) m = &internal; /* an error path must never answer 200 */
  tkms_resp_error(resp, m->http, m->code, (msg && *msg) ? msg : default_message(core_status));
}

void tkms_resp_unavailable(tkms_resp *resp, const char *msg) {
  tkms_resp_error(resp, 503, "core_unavailable",
                  msg ? msg : "the trusted core is restarting; retry");
}
