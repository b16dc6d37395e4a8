/* fuzz/fuzz_roughtime.c — libFuzzer harness for the Roughtime reply parser and
 * verifier (crypto/roughtime.c): the bytes come from any UDP sender via the
 * untrusted host. The first 32 bytes of the input are the nonce and the
 * server key, the rest the reply.
 * FUZZ_ROOMS: crypto */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/roughtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks a message and every nested message it can parse, checking bounds. */
static void walk(const uint8_t *p, size_t n, int depth) {
  tkms_rt_msg m;
  if (depth > 3 || tkms_rt_msg_parse(p, n, &m) != 0) return;
  for (uint32_t i = 0; i < m.n; i++) {
    uint32_t tag = (uint32_t)m.tags[4 * i] | (uint32_t)m.tags[4 * i + 1] << 8 |
                   (uint32_t)m.tags[4 * i + 2] << 16 | (uint32_t)m.tags[4 * i + 3] << 24;
    const uint8_t *v;
    size_t vl;
    if (tkms_rt_msg_get(&m, tag, &v, &vl) != 0) __builtin_trap();
    if (v < p || v + vl > p + n) __builtin_trap();
    walk(v, vl, depth + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 32) return 0;
  uint8_t nonce[32], req[TKMS_RT_REQUEST_BYTES];
  memcpy(nonce, data, 32);
  if (tkms_rt_build_request(nonce, req) != 0) __builtin_trap();
  const uint8_t *resp = data + 32;
  size_t rl = size - 32;
  const uint8_t *msg;
  size_t ml;
  if (tkms_rt_packet_parse(resp, rl, &msg, &ml) == 0) walk(msg, ml, 0);
  tkms_rt_time t;
  int rc = tkms_rt_verify(req, sizeof req, nonce, nonce, resp, rl, &t);
  if (rc > 0 || rc < TKMS_RT_E_ARG) __builtin_trap();
  return 0;
}
