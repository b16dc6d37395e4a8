/* src/host/routes_gov.c — GET /v1/governance, POST /v1/governance/announce and
 * POST /v1/governance/cancel (docs/api.md, docs/upgrades.md). The core counts
 * the governors among the signers, checks replay and the time-lock; the host
 * only marshals the fields. */
#include <string.h>

#include "host/routes_priv.h"
#include "proto/ops.h"

static const char *mode_name(uint32_t mode) {
  switch (mode) {
    case TKMS_GOV_MODE_PRODUCTION:
      return "production";
    case TKMS_GOV_MODE_DEVELOPMENT:
      return "development";
    default:
      return "development (legacy: made before governance existed)";
  }
}

static json_t *ann_json(const uint8_t b[48], uint64_t now) {
  uint64_t acc = tkms_be64_get(b + 32), eff = tkms_be64_get(b + 40);
  return json_pack("{s:o, s:I, s:I, s:b}", "measurement", tkms_json_hexstr(b, 32), "accepted_at",
                   (json_int_t)acc, "effective_at", (json_int_t)eff, "effective", eff <= now);
}

void tkms_route_governance(tkms_req *req, tkms_resp *resp) {
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_GOV_STATUS, 0, 0) != 0) {
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int r = tkms_core_request(req->host, &w, &rep, resp);
  tkms_fw_free(&w);
  if (r != 0) return;
  uint32_t mode = 0, m = 0;
  uint64_t delay = 0, now = 0;
  if (tkms_frame_get_u32(&rep.f, TKMS_F_GOV_MODE, &mode) != 0 ||
      tkms_frame_get_u32(&rep.f, TKMS_F_GOV_THRESHOLD, &m) != 0 ||
      tkms_frame_get_u64(&rep.f, TKMS_F_GOV_DELAY, &delay) != 0 ||
      tkms_frame_get_u64(&rep.f, TKMS_F_TIME, &now) != 0) {
    tkms_reply_free(&rep);
    tkms_resp_error(resp, 500, "internal", "the core's governance answer is incomplete");
    return;
  }
  json_t *govs = json_array(), *anns = json_array();
  tkms_field_iter it;
  tkms_field_iter_init(&it, &rep.f);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  json_t *holder = json_null();
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag == TKMS_F_MEASUREMENT && len == 32) {
      json_decref(holder);
      holder = tkms_json_hexstr(v, 32);
    }
    if (tag == TKMS_F_GOVERNOR && len == 20) json_array_append_new(govs, tkms_json_hexstr(v, 20));
    if (tag == TKMS_F_GOV_ANNOUNCEMENT && len == 48) json_array_append_new(anns, ann_json(v, now));
  }
  tkms_core_info info;
  tkms_core_info_get(req->host->core, &info);
  tkms_reply_free(&rep);
  json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:o, s:I, s:o, s:o}", "mode", mode_name(mode),
                        "governors", govs, "threshold", (json_int_t)m, "upgrade_delay",
                        (json_int_t)delay, "announcements", anns, "now", (json_int_t)now,
                        "measurement", tkms_json_hexstr(info.measurement, 32), "holder", holder);
  tkms_resp_json(resp, 200, o);
}

/* announce and cancel: the same body, M-of-N signatures. */
static void gov_change(tkms_req *req, tkms_resp *resp, uint16_t opcode) {
  static const char *const fields[] = {"measurement", "request_id", "deadline", "deployment",
                                       "signatures"};
  json_t *body, *sigs, *v;
  if (tkms_body_parse(req, fields, sizeof fields / sizeof *fields, &body, resp) != 0) return;
  tkms_json_err e = {0};
  uint8_t meas[32], rid[32], dep[32];
  uint64_t deadline;
  size_t n, i;
  tkms_fw w;
  if (tkms_fw_init(&w, opcode, 0, 0) != 0) {
    json_decref(body);
    tkms_resp_error(resp, 500, "internal", "out of memory");
    return;
  }
  int bad = tkms_json_hex(body, "measurement", 1, 32, 32, meas, &n, &e) != 0 ||
            tkms_json_hex(body, "request_id", 1, 32, 32, rid, &n, &e) != 0 ||
            tkms_json_u64(body, "deadline", 1, &deadline, &e) != 0 ||
            tkms_json_hex(body, "deployment", 1, 32, 32, dep, &n, &e) != 0 ||
            tkms_json_array(body, "signatures", 1, TKMS_GOV_MAX_SIGS, &sigs, &e) != 0;
  if (!bad) {
    tkms_fw_bytes(&w, TKMS_F_MEASUREMENT, meas, 32);
    tkms_fw_bytes(&w, TKMS_F_REQUEST_ID, rid, 32);
    tkms_fw_u64(&w, TKMS_F_DEADLINE, deadline);
    tkms_fw_bytes(&w, TKMS_F_DEPLOYMENT, dep, 32);
    json_array_foreach(sigs, i, v) {
      uint8_t sig[65];
      if (tkms_json_elem_hex_exact(v, "signatures", i, sig, sizeof sig, &e) != 0) {
        bad = 1;
        break;
      }
      tkms_fw_bytes(&w, TKMS_F_GOV_SIG, sig, sizeof sig);
    }
  }
  json_decref(body);
  if (bad) {
    tkms_resp_json_error(resp, &e);
    tkms_fw_free(&w);
    return;
  }
  tkms_reply rep;
  if (tkms_core_mutation(req->host, &w, NULL, NULL, &rep, resp) == 0) {
    uint64_t t = 0;
    const uint8_t *a;
    size_t alen;
    json_t *o;
    tkms_frame_get_u64(&rep.f, TKMS_F_TIME, &t);
    if (opcode == TKMS_OP_GOV_ANNOUNCE &&
        tkms_frame_get(&rep.f, TKMS_F_GOV_ANNOUNCEMENT, &a, &alen) == 0 && alen == 48) {
      o = ann_json(a, t);
      if (o != NULL)
        json_object_set_new(o, "status",
                            json_string(tkms_be64_get(a + 40) <= t ? "effective" : "pending"));
    } else {
      o = json_pack("{s:o, s:s, s:I}", "measurement", tkms_json_hexstr(meas, 32), "status",
                    "cancelled", "cancelled_at", (json_int_t)t);
    }
    tkms_reply_free(&rep);
    tkms_resp_json(resp, opcode == TKMS_OP_GOV_ANNOUNCE ? 201 : 200, o);
  }
  tkms_fw_free(&w);
}

void tkms_route_governance_announce(tkms_req *req, tkms_resp *resp) {
  gov_change(req, resp, TKMS_OP_GOV_ANNOUNCE);
}

void tkms_route_governance_cancel(tkms_req *req, tkms_resp *resp) {
  gov_change(req, resp, TKMS_OP_GOV_CANCEL);
}
