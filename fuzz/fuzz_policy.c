/* fuzz/fuzz_policy.c — libFuzzer harness for key policies: the core's strict
 * canonical decoder and the host's JSON translation must agree.
 *   bytes the core accepts re-encode to exactly the same bytes (one encoding
 *   per policy), have a JSON form, and that JSON encodes back to them;
 *   JSON the host accepts encodes to bytes the core accepts.
 * FUZZ_ROOMS: proto crypto platform attest core host */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "host/policy_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_policy p;
  const char *why;
  uint8_t b[TKMS_POLICY_ENC_MAX], c[TKMS_POLICY_JSON_ENC_MAX];
  size_t m;
  tkms_json_err e;
  if (tkms_policy_decode(data, size, &p, &why) == 0) {
    size_t n = tkms_policy_encode(&p, b, sizeof b);
    if (n == 0 || (size > 0 && (n != size || memcmp(b, data, n) != 0))) abort();
    json_t *j = tkms_policy_json_decode(b, n);
    if (j == NULL) abort();
    if (tkms_policy_json_encode(j, "policy", c, sizeof c, &m, &e) != 0 || m != n ||
        memcmp(c, b, n) != 0)
      abort();
    json_decref(j);
  }
  json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  if (obj != NULL) {
    if (tkms_policy_json_encode(obj, "policy", c, sizeof c, &m, &e) == 0 &&
        tkms_policy_decode(c, m, &p, &why) != 0)
      abort();
    json_decref(obj);
  }
  return 0;
}
