/* fuzz/fuzz_sign_body.c — differential harness for the signing route's fast
 * body parser (src/host/flatjson.c, tkms_sign_body_fast): whatever it accepts,
 * the jansson path (tkms_sign_body_json, the oracle) must accept too, with the
 * same fields. A fast path that is more permissive than jansson, or reads a
 * field differently, aborts here.
 * FUZZ_ROOMS: proto host */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/routes_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pay_fast[TKMS_MAX_PAYLOAD], pay_json[TKMS_MAX_PAYLOAD];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > TKMS_MAX_BODY) return 0;
  /* As the HTTP layer hands it over: an exact-length buffer, no NUL. */
  char *body = malloc(size ? size : 1);
  if (body == NULL) return 0;
  memcpy(body, data, size);
  tkms_sign_body f, j;
  memset(&f, 0, sizeof f);
  memset(&j, 0, sizeof j);
  f.payload = pay_fast;
  j.payload = pay_json;
  if (tkms_sign_body_fast(body, size, &f) == 0) {
    tkms_req req;
    memset(&req, 0, sizeof req);
    req.body = body;
    req.body_len = size;
    tkms_resp resp = {0};
    if (tkms_sign_body_json(&req, &j, &resp) != 0) {
      fprintf(stderr, "fast path accepted what jansson refuses: %.*s\n", (int)resp.len,
              resp.body ? resp.body : "");
      abort();
    }
    tkms_resp_clear(&resp);
    if (strcmp(f.mode, j.mode) != 0 || f.plen != j.plen ||
        memcmp(f.payload, j.payload, f.plen) != 0 || f.version != j.version ||
        memcmp(&f.env.request_id, &j.env.request_id, sizeof f.env.request_id) != 0 ||
        f.env.deadline != j.env.deadline ||
        memcmp(f.env.deployment, j.env.deployment, sizeof f.env.deployment) != 0 ||
        f.env.sig_len != j.env.sig_len || memcmp(f.env.sig, j.env.sig, f.env.sig_len) != 0 ||
        f.env.has_session != j.env.has_session ||
        memcmp(f.env.session_id, j.env.session_id, sizeof f.env.session_id) != 0) {
      fprintf(stderr, "fast path and jansson read different fields\n");
      abort();
    }
  }
  free(body);
  return 0;
}
