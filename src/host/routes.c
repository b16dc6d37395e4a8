/* src/host/routes.c — route table, shared handler helpers and the
 * informational routes (health, eip712, attestation). Key and session routes
 * live in routes_keys.c and routes_sessions.c. */
#include <stdlib.h>
#include <string.h>

#include "host/routes_priv.h"
#include "proto/hex.h"
#include "proto/ops.h"
#include "proto/requests.h"

/* ---- matching ---------------------------------------------------------------- */

typedef struct {
  const char *p;
  size_t n;
} seg;

static int seg_is(const seg *s, const char *lit) {
  return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

/* Splits "a/b/c" into at most max non-empty segments. Returns the count, or -1
 * for empty segments (//, trailing /) or too many. */
static int split(const char *p, seg *out, int max) {
  int n = 0;
  while (*p) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 0 || n == max) return -1;
    out[n].p = p;
    out[n].n = len;
    n++;
    if (!e) break;
    p = e + 1;
    if (*p == '\0') return -1; /* trailing slash */
  }
  return n;
}

static int set_arg(tkms_route *r, const seg *s) {
  if (s->n >= sizeof r->arg) {
    r->arg_too_long = 1;
    return 0;
  }
  memcpy(r->arg, s->p, s->n);
  r->arg[s->n] = '\0';
  return 0;
}

int tkms_route_match(const char *method, const char *path, tkms_route *r, const char **allow) {
  memset(r, 0, sizeof *r);
  *allow = NULL;
  if (path == NULL || strncmp(path, "/v1/", 4) != 0) return TKMS_ROUTE_NOT_FOUND;
  seg s[4];
  int n = split(path + 4, s, 4);
  if (n <= 0) return TKMS_ROUTE_NOT_FOUND;
  /* HEAD is answered like GET (MHD sends no body for it). */
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  int post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
  if (n == 1 &&
      (seg_is(&s[0], "health") || seg_is(&s[0], "eip712") || seg_is(&s[0], "attestation"))) {
    r->id = seg_is(&s[0], "health")   ? TKMS_R_HEALTH
            : seg_is(&s[0], "eip712") ? TKMS_R_EIP712
                                      : TKMS_R_ATTESTATION;
    if (get) return TKMS_ROUTE_FOUND;
    *allow = "GET, HEAD";
    return TKMS_ROUTE_BAD_METHOD;
  }
  if (n == 2 && seg_is(&s[0], "attestation") && seg_is(&s[1], "challenge")) {
    r->id = TKMS_R_ATTEST_CHALLENGE;
    r->takes_body = 1;
    if (post) return TKMS_ROUTE_FOUND;
    *allow = "POST";
    return TKMS_ROUTE_BAD_METHOD;
  }
  if (n == 2 && seg_is(&s[0], "sessions") && seg_is(&s[1], "attested") && post) {
    r->id = TKMS_R_SESSION_OPEN_ATTESTED;
    r->takes_body = 1;
    return TKMS_ROUTE_FOUND;
  }
  if (seg_is(&s[0], "keys")) {
    if (n == 1) {
      if (get) r->id = TKMS_R_KEYS_LIST;
      if (post) r->id = TKMS_R_KEYS_CREATE, r->takes_body = 1;
      if (get || post) return TKMS_ROUTE_FOUND;
      *allow = "GET, HEAD, POST";
      return TKMS_ROUTE_BAD_METHOD;
    }
    set_arg(r, &s[1]);
    if (n == 2) {
      if (get) r->id = TKMS_R_KEY_GET;
      if (del) r->id = TKMS_R_KEY_DESTROY, r->takes_body = 1;
      if (get || del) return TKMS_ROUTE_FOUND;
      *allow = "GET, HEAD, DELETE";
      return TKMS_ROUTE_BAD_METHOD;
    }
    if (n == 3 && seg_is(&s[2], "policy")) {
      /* key policy (routes_policy.c) */
      if (get) r->id = TKMS_R_KEY_POLICY_GET;
      if (post) r->id = TKMS_R_KEY_POLICY_UPDATE, r->takes_body = 1;
      if (get || post) return TKMS_ROUTE_FOUND;
      *allow = "GET, HEAD, POST";
      return TKMS_ROUTE_BAD_METHOD;
    }
    if (n == 4 && seg_is(&s[2], "policy") && seg_is(&s[3], "pending")) {
      r->id = TKMS_R_KEY_POLICY_CANCEL;
      r->takes_body = 1;
      if (del) return TKMS_ROUTE_FOUND;
      *allow = "DELETE";
      return TKMS_ROUTE_BAD_METHOD;
    }
    if (n == 3 && (seg_is(&s[2], "sign") || seg_is(&s[2], "rotate"))) {
      r->id = seg_is(&s[2], "sign") ? TKMS_R_KEY_SIGN : TKMS_R_KEY_ROTATE;
      r->takes_body = 1;
      if (post) return TKMS_ROUTE_FOUND;
      *allow = "POST";
      return TKMS_ROUTE_BAD_METHOD;
    }
    return TKMS_ROUTE_NOT_FOUND;
  }
  if (seg_is(&s[0], "avs") && n >= 2) {
    /* EigenLayer operator keys (routes_avs.c): /v1/avs/keys[/{eoa}[/rotate]],
     * /v1/avs/{scalar_mul,sign,registration,verify} */
    r->takes_body = 1;
    if (seg_is(&s[1], "keys")) {
      if (n == 2) {
        r->id = TKMS_R_AVS_CREATE;
        if (post) return TKMS_ROUTE_FOUND;
        *allow = "POST";
        return TKMS_ROUTE_BAD_METHOD;
      }
      set_arg(r, &s[2]);
      if (n == 3) {
        r->id = TKMS_R_AVS_GET;
        r->takes_body = 0;
        if (get) return TKMS_ROUTE_FOUND;
        *allow = "GET, HEAD";
        return TKMS_ROUTE_BAD_METHOD;
      }
      if (n == 4 && seg_is(&s[3], "rotate")) {
        r->id = TKMS_R_AVS_ROTATE;
        if (post) return TKMS_ROUTE_FOUND;
        *allow = "POST";
        return TKMS_ROUTE_BAD_METHOD;
      }
      return TKMS_ROUTE_NOT_FOUND;
    }
    if (n != 2) return TKMS_ROUTE_NOT_FOUND;
    if (seg_is(&s[1], "scalar_mul"))
      r->id = TKMS_R_AVS_SCALAR_MUL;
    else if (seg_is(&s[1], "sign"))
      r->id = TKMS_R_AVS_SIGN;
    else if (seg_is(&s[1], "registration"))
      r->id = TKMS_R_AVS_REGISTRATION;
    else if (seg_is(&s[1], "verify"))
      r->id = TKMS_R_AVS_VERIFY;
    else
      return TKMS_ROUTE_NOT_FOUND;
    if (post) return TKMS_ROUTE_FOUND;
    *allow = "POST";
    return TKMS_ROUTE_BAD_METHOD;
  }
  if (seg_is(&s[0], "governance") && n <= 2) {
    /* /v1/governance, /v1/governance/{announce,cancel} (routes_gov.c) */
    if (n == 1) {
      r->id = TKMS_R_GOVERNANCE;
      if (get) return TKMS_ROUTE_FOUND;
      *allow = "GET, HEAD";
      return TKMS_ROUTE_BAD_METHOD;
    }
    if (seg_is(&s[1], "announce"))
      r->id = TKMS_R_GOV_ANNOUNCE;
    else if (seg_is(&s[1], "cancel"))
      r->id = TKMS_R_GOV_CANCEL;
    else
      return TKMS_ROUTE_NOT_FOUND;
    r->takes_body = 1;
    if (post) return TKMS_ROUTE_FOUND;
    *allow = "POST";
    return TKMS_ROUTE_BAD_METHOD;
  }
  if (seg_is(&s[0], "sessions") && n <= 2) {
    r->takes_body = 1;
    if (n == 1) {
      r->id = TKMS_R_SESSION_OPEN;
      if (post) return TKMS_ROUTE_FOUND;
      *allow = "POST";
      return TKMS_ROUTE_BAD_METHOD;
    }
    set_arg(r, &s[1]);
    r->id = TKMS_R_SESSION_REVOKE;
    if (del) return TKMS_ROUTE_FOUND;
    *allow = "DELETE";
    return TKMS_ROUTE_BAD_METHOD;
  }
  return TKMS_ROUTE_NOT_FOUND;
}

/* ---- shared helpers ---------------------------------------------------------- */

json_t *tkms_json_hexstr(const uint8_t *p, size_t n) {
  char small[2 * 72 + 3];
  if (n <= 72) {
    tkms_hex_encode(p, n, small);
    return json_string(small);
  }
  if (n > (SIZE_MAX - 3) / 2) return NULL;
  char *buf = malloc(2 * n + 3);
  if (buf == NULL) return NULL;
  tkms_hex_encode(p, n, buf);
  json_t *s = json_stringn(buf, 2 * n + 2);
  free(buf);
  return s;
}

void tkms_resp_json_error(tkms_resp *resp, const tkms_json_err *e) {
  tkms_resp_error(resp, 400, e->code ? e->code : "bad_request", e->message);
}

void tkms_resp_store_error(tkms_resp *resp, int store_rc) {
  if (store_rc == TKMS_STORE_BUSY)
    tkms_resp_error(resp, 503, "core_busy", "storage is busy; retry");
  else
    tkms_resp_error(resp, 500, "internal", "storage read failed");
}

int tkms_body_parse(const tkms_req *req, const char *const *allowed, size_t n, json_t **out,
                    tkms_resp *resp) {
  tkms_json_err e = {0};
  if (tkms_json_parse_object(req->body ? req->body : "", req->body_len, out, &e) != 0 ||
      tkms_json_only_fields(*out, allowed, n, &e) != 0) {
    json_decref(*out);
    *out = NULL;
    tkms_resp_json_error(resp, &e);
    return -1;
  }
  return 0;
}

int tkms_envelope_read(const json_t *body, int allow_session, tkms_envelope *env,
                       tkms_json_err *e) {
  /* The signature is bounded here but judged by the core: a wrong length is a bad
   * signature (401), not a malformed request, and the core knows which length the
   * signer's principal needs. */
  size_t n;
  memset(env, 0, sizeof *env);
  if (tkms_json_hex(body, "request_id", 1, sizeof env->request_id, sizeof env->request_id,
                    env->request_id, &n, e) != 0 ||
      tkms_json_u64(body, "deadline", 1, &env->deadline, e) != 0 ||
      tkms_json_hex(body, "deployment", 1, sizeof env->deployment, sizeof env->deployment,
                    env->deployment, &n, e) != 0 ||
      tkms_json_hex(body, "signature", 1, 0, sizeof env->sig, env->sig, &env->sig_len, e) != 0)
    return -1;
  if (allow_session) {
    int r = tkms_json_hex(body, "session_id", 0, sizeof env->session_id, sizeof env->session_id,
                          env->session_id, &n, e);
    if (r < 0) return -1;
    env->has_session = r == 0;
  }
  return 0;
}

void tkms_envelope_put(tkms_fw *w, const tkms_envelope *env) {
  tkms_fw_bytes(w, TKMS_F_REQUEST_ID, env->request_id, sizeof env->request_id);
  tkms_fw_u64(w, TKMS_F_DEADLINE, env->deadline);
  tkms_fw_bytes(w, TKMS_F_DEPLOYMENT, env->deployment, sizeof env->deployment);
  tkms_fw_bytes(w, TKMS_F_AUTH_SIG, env->sig, env->sig_len);
  if (env->has_session)
    tkms_fw_bytes(w, TKMS_F_SESSION_ID, env->session_id, sizeof env->session_id);
}

int tkms_envelope_parse(const json_t *body, tkms_fw *w, int allow_session,
                        uint8_t request_id[TKMS_REQUEST_ID_BYTES], tkms_json_err *e) {
  tkms_envelope env;
  if (tkms_envelope_read(body, allow_session, &env, e) != 0) return -1;
  tkms_envelope_put(w, &env);
  if (request_id) memcpy(request_id, env.request_id, sizeof env.request_id);
  return 0;
}

int tkms_path_id(const tkms_req *req, uint8_t *id, size_t n, const char *what, tkms_resp *resp) {
  if (req->route->arg_too_long || tkms_hex_decode_exact(req->route->arg, id, n) != 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "the %s in the path must be 0x followed by %zu hex digits", what,
             2 * n);
    tkms_resp_error(resp, 400, "bad_request", msg);
    return -1;
  }
  return 0;
}

/* Maps a core refusal in rep to resp and frees rep. */
static void refusal(tkms_reply *rep, tkms_resp *resp) {
  char msg[512];
  tkms_reply_errmsg(rep, msg, sizeof msg);
  tkms_resp_core_error(resp, rep->f.status, msg);
  tkms_reply_free(rep);
}

int tkms_core_answer(tkms_reply *rep, tkms_resp *resp) {
  if (rep == NULL) {
    tkms_resp_unavailable(resp, "the trusted core stopped before answering; retry");
    return -1;
  }
  if (rep->f.status != TKMS_OK) {
    int status = rep->f.status;
    refusal(rep, resp);
    return status;
  }
  return 0;
}

int tkms_core_request(tkms_host *h, tkms_fw *w, tkms_reply *rep, tkms_resp *resp) {
  memset(rep, 0, sizeof *rep);
  if (tkms_fw_finish(w) != 0) {
    tkms_resp_error(resp, 400, "bad_request", "the request is too large for the core");
    return -1;
  }
  tkms_chan *ch;
  if (tkms_core_acquire(h->core, &ch) != 0) {
    tkms_resp_unavailable(resp, NULL);
    return -1;
  }
  int r = tkms_core_call(ch, w, rep);
  tkms_core_release(ch);
  return tkms_core_answer(r == 0 ? rep : NULL, resp); /* a failed call freed rep */
}

int tkms_core_mutation(tkms_host *h, tkms_fw *w, tkms_meta_fn fn, void *ctx, tkms_reply *rep,
                       tkms_resp *resp) {
  memset(rep, 0, sizeof *rep);
  if (tkms_fw_finish(w) != 0) {
    tkms_resp_error(resp, 400, "bad_request", "the request is too large for the core");
    return -1;
  }
  tkms_chan *ch;
  if (tkms_core_acquire(h->core, &ch) != 0) {
    tkms_resp_unavailable(resp, NULL);
    return -1;
  }
  int r = tkms_mutate(ch, h->store, w, fn, ctx, rep, resp);
  tkms_core_release(ch);
  if (r != TKMS_MUT_OK) {
    tkms_reply_free(rep);
    return -1;
  }
  return 0;
}

/* ---- GET /v1/health ---------------------------------------------------------- */

/* What each platform protects against (DESIGN.md); unknown platforms claim nothing. */
static json_t *protection(const char *platform) {
  int root = 0, disk = 0, boot = 0;
  if (strcmp(platform, "tpm2") == 0) {
    disk = boot = 1;
  } else if (strcmp(platform, "sgx") == 0 || strcmp(platform, "tdx") == 0 ||
             strcmp(platform, "snp") == 0 || strcmp(platform, "nitro") == 0) {
    root = disk = boot = 1;
  }
  return json_pack("{s:b, s:b, s:b}", "root_on_host", root, "stolen_disk", disk, "tampered_boot",
                   boot);
}

static void health_unavailable(tkms_resp *resp, const char *status, const char *msg) {
  json_t *o = json_pack("{s:s, s:b, s:{s:s, s:s, s:b}}", "status", status, "retryable", 1, "error",
                        "code", "core_unavailable", "message", msg, "retryable", 1);
  tkms_resp_json(resp, 503, o);
}

/* The core's clock, as STATUS reports it: where its time comes from, whether
 * it is trusted (a Roughtime quorum), the last quorum and the current time. */
static json_t *health_time(const tkms_frame *f) {
  char source[32], note[300];
  uint32_t trusted = 0;
  uint64_t now = 0;
  uint8_t q[16];
  if (tkms_frame_get_str(f, TKMS_F_RT_SOURCE, source, sizeof source - 1) != 0) return NULL;
  if (tkms_frame_get_u32(f, TKMS_F_RT_TRUSTED, &trusted) != 0) trusted = 0;
  json_t *o = json_pack("{s:s, s:b}", "source", source, "trusted", trusted != 0);
  if (o == NULL) return NULL;
  if (tkms_frame_get_u64(f, TKMS_F_TIME, &now) == 0)
    json_object_set_new(o, "now", json_integer((json_int_t)now));
  else
    json_object_set_new(o, "now", json_null());
  if (tkms_frame_get_fixed(f, TKMS_F_RT_QUORUM, q, sizeof q) == 0)
    json_object_set_new(
        o, "last_quorum",
        json_pack("{s:I, s:i, s:i}", "at", (json_int_t)tkms_be64_get(q), "servers_agreeing",
                  (int)tkms_be32_get(q + 8), "radius", (int)tkms_be32_get(q + 12)));
  else
    json_object_set_new(o, "last_quorum", json_null());
  if (tkms_frame_get_str(f, TKMS_F_RT_NOTE, note, sizeof note - 1) == 0 &&
      tkms_json_printable(note, sizeof note) == 0)
    json_object_set_new(o, "note", json_string(note));
  return o;
}

static void route_health(tkms_req *req, tkms_resp *resp) {
  tkms_host *h = req->host;
  tkms_fw w;
  tkms_reply rep;
  if (!tkms_core_available(h->core)) {
    health_unavailable(resp, "core_unavailable", "the trusted core is restarting; retry");
    return;
  }
  if (tkms_fw_init(&w, TKMS_OP_STATUS, 0, 0) != 0) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int r = tkms_core_request(h, &w, &rep, resp);
  tkms_fw_free(&w);
  if (r != 0) {
    if (resp->status == 503) {
      tkms_resp_clear(resp);
      health_unavailable(resp, "core_unavailable", "the trusted core is restarting; retry");
    }
    return;
  }
  char platform[32], version[64];
  uint32_t sim = 0, state = 0;
  uint64_t counter = 0;
  uint8_t meas[32], salt[32], ident[20];
  if (tkms_frame_get_str(&rep.f, TKMS_F_PLATFORM, platform, sizeof platform - 1) != 0 ||
      tkms_frame_get_u32(&rep.f, TKMS_F_SIMULATED, &sim) != 0 ||
      tkms_frame_get_u32(&rep.f, TKMS_F_STATE, &state) != 0 ||
      tkms_frame_get_fixed(&rep.f, TKMS_F_MEASUREMENT, meas, sizeof meas) != 0) {
    tkms_reply_free(&rep);
    tkms_resp_error(resp, 500, "internal", "the core's status answer is incomplete");
    return;
  }
  if (tkms_frame_get_u64(&rep.f, TKMS_F_COUNTER, &counter) != 0) counter = 0;
  if (tkms_frame_get_str(&rep.f, TKMS_F_CORE_VERSION, version, sizeof version - 1) != 0)
    strcpy(version, "unknown");
  uint32_t test_root = 0;
  if (tkms_frame_get_u32(&rep.f, TKMS_F_ATT_TEST_ROOT, &test_root) != 0) test_root = 0;
  int has_dep = tkms_frame_get_fixed(&rep.f, TKMS_F_DEPLOY_SALT, salt, sizeof salt) == 0 &&
                tkms_frame_get_fixed(&rep.f, TKMS_F_IDENTITY, ident, sizeof ident) == 0;
  uint8_t sx[32]; /* MAC sessions: the deployment's X25519 key (public) */
  int has_sx = tkms_frame_get_fixed(&rep.f, TKMS_F_SESSION_X25519, sx, sizeof sx) == 0;
  json_t *time_obj = health_time(&rep.f);
  tkms_reply_free(&rep);
  if (state != TKMS_STATE_READY) {
    health_unavailable(resp, "starting", "the trusted core is loading its state; retry");
    return;
  }
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:I}", "status", "ok", "version",
                        TKMS_HOST_VERSION, "core_version", version, "platform", platform,
                        "simulated", sim != 0, "protection", protection(platform), "measurement",
                        tkms_json_hexstr(meas, sizeof meas), "counter", (json_int_t)counter);
  if (o != NULL && sim)
    json_object_set_new(o, "warning",
                        json_string("SIMULATION: keys are protected only by file permissions on "
                                    "this machine; root on the host can read them. Not for "
                                    "production."));
  if (o != NULL && time_obj != NULL) {
    json_object_set_new(o, "time", time_obj);
    time_obj = NULL;
  }
  json_decref(time_obj);
  tkms_core_info info;
  tkms_core_info_get(h->core, &info);
  if (o != NULL) {
    int prod = info.gov_mode == TKMS_GOV_MODE_PRODUCTION;
    json_object_set_new(o, "deployment_mode", json_string(prod ? "production" : "development"));
    json_object_set_new(
        o, "governance",
        json_pack("{s:s, s:I, s:I, s:I}", "mode", prod ? "production" : "development", "governors",
                  (json_int_t)info.n_governors, "threshold", (json_int_t)info.threshold,
                  "upgrade_delay", (json_int_t)info.upgrade_delay));
    if (!prod)
      json_object_set_new(o, "deployment_warning",
                          json_string("DEVELOPMENT DEPLOYMENT: no governors and no upgrade "
                                      "delay; any rebuilt core takes over these keys at the next "
                                      "start without announcement. Not for production."));
  }
  if (o != NULL) json_object_set_new(o, "attestation_test_root", json_boolean(test_root != 0));
  if (o != NULL && test_root != 0)
    json_object_set_new(o, "attestation_warning",
                        json_string("TEST ROOT TRUSTED: this sim core accepts DCAP evidence "
                                    "signed by a test CA (--attestation-test-root); attested "
                                    "sessions here prove nothing about real hardware."));
  if (o != NULL && has_dep)
    json_object_set_new(o, "deployment",
                        json_pack("{s:o, s:o}", "salt", tkms_json_hexstr(salt, sizeof salt),
                                  "identity_address", tkms_json_hexstr(ident, sizeof ident)));
  if (o != NULL && has_sx)
    json_object_set_new(o, "session_x25519", tkms_json_hexstr(sx, sizeof sx));
  tkms_resp_json(resp, 200, o);
}

/* ---- GET /v1/eip712 ---------------------------------------------------------- */

static json_t *type_fields(const tkms_eip712_field *f, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, json_pack("{s:s, s:s}", "name", f[i].name, "type", f[i].type));
  return a;
}

static void route_eip712(tkms_req *req, tkms_resp *resp) {
  tkms_core_info info;
  tkms_core_info_get(req->host->core, &info);
  if (!info.has_deployment) {
    tkms_resp_unavailable(resp, "the deployment salt is not known yet; retry");
    return;
  }
  static const tkms_eip712_field domain[] = {
      {"name", "string"}, {"version", "string"}, {"salt", "bytes32"}};
  json_t *types = json_object(), *routes = json_object();
  if (types) json_object_set_new(types, "EIP712Domain", type_fields(domain, 3));
  for (size_t i = 0; types && routes && i < TKMS_RT__COUNT; i++) {
    const tkms_eip712_request_type *t = &tkms_eip712_request_types[i];
    json_object_set_new(types, t->primary, type_fields(t->fields, t->n_fields));
    if (i != TKMS_RT_DELETION_RECEIPT)
      json_object_set_new(routes, t->route, json_string(t->primary));
  }
  /* The EigenLayer routes sign the same types (docs/api.md). */
  static const struct {
    const char *route;
    int rt;
  } avs[] = {{"POST /v1/avs/keys", TKMS_RT_CREATE_KEY},
             {"POST /v1/avs/scalar_mul", TKMS_RT_SIGN},
             {"POST /v1/avs/sign", TKMS_RT_SIGN},
             {"POST /v1/avs/registration", TKMS_RT_SIGN},
             {"POST /v1/avs/keys/{eoa}/rotate", TKMS_RT_ROTATE_KEY}};
  for (size_t i = 0; routes && i < sizeof avs / sizeof avs[0]; i++)
    json_object_set_new(routes, avs[i].route,
                        json_string(tkms_eip712_request_types[avs[i].rt].primary));
  json_t *o = json_pack("{s:{s:s, s:s, s:o}, s:o, s:o}", "domain", "name", TKMS_EIP712_NAME,
                        "version", TKMS_EIP712_VERSION, "salt", tkms_json_hexstr(info.salt, 32),
                        "types", types, "routes", routes);
  tkms_resp_json(resp, 200, o);
}

/* ---- GET /v1/attestation?nonce= ---------------------------------------------- */

static void route_attestation(tkms_req *req, tkms_resp *resp) {
  uint8_t nonce[32], rd[64], meas[32];
  const char *q = tkms_req_query(req, "nonce");
  if (q == NULL || tkms_hex_decode_exact(q, nonce, sizeof nonce) != 0) {
    tkms_resp_error(resp, 400, "bad_request", "query parameter nonce must be 0x + 64 hex digits");
    return;
  }
  tkms_core_info info;
  tkms_core_info_get(req->host->core, &info);
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_ATTEST, 0, 0) != 0) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, sizeof nonce);
  int r = tkms_core_request(req->host, &w, &rep, resp);
  tkms_fw_free(&w);
  if (r != 0) return;
  const uint8_t *ev;
  size_t evlen;
  char platform[32];
  uint32_t sim = 0;
  if (tkms_frame_get(&rep.f, TKMS_F_EVIDENCE, &ev, &evlen) != 0 ||
      tkms_frame_get_fixed(&rep.f, TKMS_F_REPORT_DATA, rd, sizeof rd) != 0 ||
      tkms_frame_get_fixed(&rep.f, TKMS_F_MEASUREMENT, meas, sizeof meas) != 0 ||
      tkms_frame_get_str(&rep.f, TKMS_F_PLATFORM, platform, sizeof platform - 1) != 0 ||
      tkms_frame_get_u32(&rep.f, TKMS_F_SIMULATED, &sim) != 0) {
    tkms_reply_free(&rep);
    tkms_resp_error(resp, 500, "internal", "the core's attestation answer is incomplete");
    return;
  }
  json_t *o = json_pack(
      "{s:s, s:b, s:o, s:o, s:o, s:o}", "platform", platform, "simulated", sim != 0, "evidence",
      tkms_json_hexstr(ev, evlen), "report_data", tkms_json_hexstr(rd, sizeof rd), "measurement",
      tkms_json_hexstr(meas, sizeof meas), "nonce", tkms_json_hexstr(nonce, sizeof nonce));
  tkms_reply_free(&rep);
  if (o != NULL && info.has_deployment) {
    json_object_set_new(o, "identity_address", tkms_json_hexstr(info.identity, 20));
    json_object_set_new(o, "deployment_salt", tkms_json_hexstr(info.salt, 32));
  }
  tkms_resp_json(resp, 200, o);
}

/* ---- dispatch ---------------------------------------------------------------- */

int tkms_route_defers(const tkms_route *r) {
  return r->id == TKMS_R_KEY_SIGN;
}

int tkms_route_inline(const tkms_route *r) {
  return r->id == TKMS_R_EIP712; /* from tkms_core_info, kept by the supervisor */
}

tkms_route_job *tkms_route_prepare(tkms_req *req, tkms_resp *resp) {
  if (req->route->id != TKMS_R_KEY_SIGN) {
    tkms_resp_error(resp, 500, "internal", "this route cannot be deferred");
    return NULL;
  }
  return tkms_route_key_sign_prepare(req, resp);
}

void tkms_route_run(tkms_req *req, tkms_resp *resp) {
  switch (req->route->id) {
    case TKMS_R_HEALTH:
      route_health(req, resp);
      return;
    case TKMS_R_EIP712:
      route_eip712(req, resp);
      return;
    case TKMS_R_ATTESTATION:
      route_attestation(req, resp);
      return;
    case TKMS_R_KEYS_LIST:
      tkms_route_keys_list(req, resp);
      return;
    case TKMS_R_KEYS_CREATE:
      tkms_route_keys_create(req, resp);
      return;
    case TKMS_R_KEY_GET:
      tkms_route_key_get(req, resp);
      return;
    case TKMS_R_KEY_DESTROY:
      tkms_route_key_destroy(req, resp);
      return;
    case TKMS_R_KEY_SIGN:
      tkms_route_key_sign(req, resp);
      return;
    case TKMS_R_KEY_ROTATE:
      tkms_route_key_rotate(req, resp);
      return;
    case TKMS_R_KEY_POLICY_GET:
      tkms_route_key_policy_get(req, resp);
      return;
    case TKMS_R_KEY_POLICY_UPDATE:
      tkms_route_key_policy_update(req, resp);
      return;
    case TKMS_R_KEY_POLICY_CANCEL:
      tkms_route_key_policy_cancel(req, resp);
      return;
    case TKMS_R_SESSION_OPEN:
      tkms_route_session_open(req, resp);
      return;
    case TKMS_R_SESSION_REVOKE:
      tkms_route_session_revoke(req, resp);
      return;
    case TKMS_R_ATTEST_CHALLENGE:
      tkms_route_attest_challenge(req, resp);
      return;
    case TKMS_R_SESSION_OPEN_ATTESTED:
      tkms_route_session_open_attested(req, resp);
      return;
    case TKMS_R_AVS_CREATE:
      tkms_route_avs_create(req, resp);
      return;
    case TKMS_R_AVS_GET:
      tkms_route_avs_get(req, resp);
      return;
    case TKMS_R_AVS_ROTATE:
      tkms_route_avs_rotate(req, resp);
      return;
    case TKMS_R_AVS_SCALAR_MUL:
      tkms_route_avs_scalar_mul(req, resp);
      return;
    case TKMS_R_AVS_SIGN:
      tkms_route_avs_sign(req, resp);
      return;
    case TKMS_R_AVS_REGISTRATION:
      tkms_route_avs_registration(req, resp);
      return;
    case TKMS_R_AVS_VERIFY:
      tkms_route_avs_verify(req, resp);
      return;
    case TKMS_R_GOVERNANCE:
      tkms_route_governance(req, resp);
      return;
    case TKMS_R_GOV_ANNOUNCE:
      tkms_route_governance_announce(req, resp);
      return;
    case TKMS_R_GOV_CANCEL:
      tkms_route_governance_cancel(req, resp);
      return;
  }
  tkms_resp_error(resp, 404, "not_found", "no such route");
}
