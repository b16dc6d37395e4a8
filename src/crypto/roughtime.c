/* src/crypto/roughtime.c — Roughtime request building and response checking
 * (see roughtime.h). Written from draft-ietf-ntp-roughtime-14. */
#include "crypto/roughtime.h"

#include <sodium.h>
#include <string.h>

#define T_SIG TKMS_RT_TAG('S', 'I', 'G', 0)
#define T_VER TKMS_RT_TAG('V', 'E', 'R', 0)
#define T_NONC TKMS_RT_TAG('N', 'O', 'N', 'C')
#define T_TYPE TKMS_RT_TAG('T', 'Y', 'P', 'E')
#define T_PATH TKMS_RT_TAG('P', 'A', 'T', 'H')
#define T_SREP TKMS_RT_TAG('S', 'R', 'E', 'P')
#define T_CERT TKMS_RT_TAG('C', 'E', 'R', 'T')
#define T_INDX TKMS_RT_TAG('I', 'N', 'D', 'X')
#define T_DELE TKMS_RT_TAG('D', 'E', 'L', 'E')
#define T_PUBK TKMS_RT_TAG('P', 'U', 'B', 'K')
#define T_MINT TKMS_RT_TAG('M', 'I', 'N', 'T')
#define T_MAXT TKMS_RT_TAG('M', 'A', 'X', 'T')
#define T_RADI TKMS_RT_TAG('R', 'A', 'D', 'I')
#define T_MIDP TKMS_RT_TAG('M', 'I', 'D', 'P')
#define T_ROOT TKMS_RT_TAG('R', 'O', 'O', 'T')
#define T_ZZZZ TKMS_RT_TAG('Z', 'Z', 'Z', 'Z')

static const uint8_t MAGIC[8] = {'R', 'O', 'U', 'G', 'H', 'T', 'I', 'M'};
static const char CTX_DELE[] = "RoughTime v1 delegation signature"; /* + its NUL */
static const char CTX_RESP[] = "RoughTime v1 response signature";

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) {
  return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int tkms_rt_msg_parse(const uint8_t *p, size_t len, tkms_rt_msg *m) {
  if (p == NULL || len < 4 || len % 4 != 0) return -1;
  uint32_t n = le32(p);
  if (n == 0 || n > TKMS_RT_MAX_TAGS || len < 8u * n) return -1;
  m->n = n;
  m->offsets = p + 4;
  m->tags = p + 4 + 4u * (n - 1);
  m->values = p + 8u * n;
  m->values_len = len - 8u * n;
  uint32_t prev_off = 0;
  for (uint32_t i = 0; i + 1 < n; i++) {
    uint32_t off = le32(m->offsets + 4u * i);
    if (off % 4 != 0 || off < prev_off || off > m->values_len) return -1;
    prev_off = off;
  }
  for (uint32_t i = 1; i < n; i++) {
    if (le32(m->tags + 4u * i) <= le32(m->tags + 4u * (i - 1))) return -1;
  }
  return 0;
}

int tkms_rt_msg_get(const tkms_rt_msg *m, uint32_t tag, const uint8_t **v, size_t *vlen) {
  for (uint32_t i = 0; i < m->n; i++) {
    if (le32(m->tags + 4u * i) != tag) continue;
    size_t start = i == 0 ? 0 : le32(m->offsets + 4u * (i - 1));
    size_t end = i + 1 == m->n ? m->values_len : le32(m->offsets + 4u * i);
    *v = m->values + start;
    *vlen = end - start; /* parse checked start <= end <= values_len */
    return 0;
  }
  return -1;
}

int tkms_rt_packet_parse(const uint8_t *p, size_t len, const uint8_t **msg, size_t *msg_len) {
  if (p == NULL || len < 12 || memcmp(p, MAGIC, 8) != 0) return -1;
  uint32_t n = le32(p + 8);
  if (n != len - 12) return -1;
  *msg = p + 12;
  *msg_len = n;
  return 0;
}

int tkms_rt_build_request(const uint8_t nonce[TKMS_RT_NONCE_BYTES],
                          uint8_t out[TKMS_RT_REQUEST_BYTES]) {
  if (nonce == NULL || out == NULL) return -1;
  memset(out, 0, TKMS_RT_REQUEST_BYTES);
  memcpy(out, MAGIC, 8);
  put32(out + 8, TKMS_RT_REQUEST_BYTES - 12);
  uint8_t *m = out + 12;
  /* 4 tags in ascending order: VER, NONC, TYPE, ZZZZ; header 4 + 3*4 + 4*4. */
  put32(m, 4);
  put32(m + 4, 4);       /* NONC at 4 */
  put32(m + 8, 4 + 32);  /* TYPE at 36 */
  put32(m + 12, 4 + 36); /* ZZZZ at 40, to the end */
  put32(m + 16, T_VER);
  put32(m + 20, T_NONC);
  put32(m + 24, T_TYPE);
  put32(m + 28, T_ZZZZ);
  uint8_t *v = m + 32;
  put32(v, TKMS_RT_VERSION);
  memcpy(v + 4, nonce, TKMS_RT_NONCE_BYTES);
  put32(v + 36, 0); /* TYPE 0 = request; ZZZZ stays zero */
  return 0;
}

static void h32(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
                size_t cn, uint8_t out[32]) {
  crypto_hash_sha512_state st;
  uint8_t full[64];
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, a, an);
  if (bn) crypto_hash_sha512_update(&st, b, bn);
  if (cn) crypto_hash_sha512_update(&st, c, cn);
  crypto_hash_sha512_final(&st, full);
  memcpy(out, full, 32);
}

/* Ed25519 over context (with its NUL) || value. */
static int sig_ok(const uint8_t *sig, size_t sig_len, const char *ctx, const uint8_t *val,
                  size_t val_len, const uint8_t pk[32]) {
  uint8_t buf[64 + TKMS_RT_MAX_RESPONSE];
  size_t cl = strlen(ctx) + 1;
  if (sig_len != 64 || val_len > sizeof buf - cl) return 0;
  memcpy(buf, ctx, cl);
  memcpy(buf + cl, val, val_len);
  return crypto_sign_verify_detached(sig, buf, cl + val_len, pk) == 0;
}

/* A nested message under tag in parent. */
static int sub(const tkms_rt_msg *parent, uint32_t tag, tkms_rt_msg *out, const uint8_t **raw,
               size_t *raw_len) {
  const uint8_t *v;
  size_t n;
  if (tkms_rt_msg_get(parent, tag, &v, &n) != 0 || tkms_rt_msg_parse(v, n, out) != 0) return -1;
  if (raw != NULL) {
    *raw = v;
    *raw_len = n;
  }
  return 0;
}

static int get_fixed(const tkms_rt_msg *m, uint32_t tag, size_t want, const uint8_t **v) {
  size_t n;
  return tkms_rt_msg_get(m, tag, v, &n) == 0 && n == want ? 0 : -1;
}

int tkms_rt_verify(const uint8_t *req, size_t req_len, const uint8_t nonce[TKMS_RT_NONCE_BYTES],
                   const uint8_t server_pk[32], const uint8_t *resp, size_t resp_len,
                   tkms_rt_time *out) {
  if (req == NULL || nonce == NULL || server_pk == NULL || out == NULL || resp == NULL ||
      req_len == 0 || req_len > TKMS_RT_REQUEST_BYTES)
    return TKMS_RT_E_ARG;
  if (resp_len > TKMS_RT_MAX_RESPONSE) return TKMS_RT_E_MALFORMED;
  if (sodium_init() < 0) return TKMS_RT_E_ARG;
  const uint8_t *mp, *srep_raw, *dele_raw, *sig, *csig, *pubk, *root, *path, *indx_v;
  size_t ml, srep_len, dele_len, path_len;
  tkms_rt_msg top, srep, cert, dele;
  /* Structure first: every tag the checks below need, with its exact size. */
  if (tkms_rt_packet_parse(resp, resp_len, &mp, &ml) != 0 || tkms_rt_msg_parse(mp, ml, &top) != 0 ||
      sub(&top, T_SREP, &srep, &srep_raw, &srep_len) != 0 ||
      sub(&top, T_CERT, &cert, NULL, NULL) != 0 ||
      sub(&cert, T_DELE, &dele, &dele_raw, &dele_len) != 0 ||
      get_fixed(&top, T_SIG, 64, &sig) != 0 || get_fixed(&cert, T_SIG, 64, &csig) != 0 ||
      get_fixed(&dele, T_PUBK, 32, &pubk) != 0 || get_fixed(&srep, T_ROOT, 32, &root) != 0 ||
      get_fixed(&top, T_INDX, 4, &indx_v) != 0 ||
      tkms_rt_msg_get(&top, T_PATH, &path, &path_len) != 0 || path_len % 32 != 0 ||
      path_len / 32 > TKMS_RT_MAX_PATH)
    return TKMS_RT_E_MALFORMED;
  const uint8_t *ty, *nc, *ver, *midp_v, *radi_v, *mint_v, *maxt_v;
  if (get_fixed(&top, T_TYPE, 4, &ty) != 0 || get_fixed(&top, T_NONC, 32, &nc) != 0 ||
      get_fixed(&srep, T_VER, 4, &ver) != 0 || get_fixed(&srep, T_MIDP, 8, &midp_v) != 0 ||
      get_fixed(&srep, T_RADI, 4, &radi_v) != 0 || get_fixed(&dele, T_MINT, 8, &mint_v) != 0 ||
      get_fixed(&dele, T_MAXT, 8, &maxt_v) != 0)
    return TKMS_RT_E_MALFORMED;
  if (le32(ty) != 1) return TKMS_RT_E_TYPE;
  if (sodium_memcmp(nc, nonce, TKMS_RT_NONCE_BYTES) != 0) return TKMS_RT_E_NONCE;
  if (!sig_ok(csig, 64, CTX_DELE, dele_raw, dele_len, server_pk)) return TKMS_RT_E_CERT_SIG;
  if (!sig_ok(sig, 64, CTX_RESP, srep_raw, srep_len, pubk)) return TKMS_RT_E_RESP_SIG;
  if (le32(ver) != TKMS_RT_VERSION) return TKMS_RT_E_VERSION;
  uint64_t midp = le64(midp_v), mint = le64(mint_v), maxt = le64(maxt_v);
  if (midp < mint || midp > maxt) return TKMS_RT_E_DELEGATION;
  /* Merkle: the leaf is our whole request packet. */
  static const uint8_t leaf_tag = 0x00, node_tag = 0x01;
  uint8_t hash[32];
  uint32_t indx = le32(indx_v);
  h32(&leaf_tag, 1, req, req_len, NULL, 0, hash);
  for (size_t i = 0; i < path_len / 32; i++) {
    uint8_t both[64];
    const uint8_t *node = path + 32 * i;
    if (indx & 1u) {
      memcpy(both, node, 32);
      memcpy(both + 32, hash, 32);
    } else {
      memcpy(both, hash, 32);
      memcpy(both + 32, node, 32);
    }
    h32(&node_tag, 1, both, 64, NULL, 0, hash);
    indx >>= 1;
  }
  if (indx != 0 || sodium_memcmp(hash, root, 32) != 0) return TKMS_RT_E_MERKLE;
  out->midp = midp;
  out->radius = le32(radi_v);
  return TKMS_RT_OK;
}

const char *tkms_rt_strerror(int rc) {
  switch (rc) {
    case TKMS_RT_OK:
      return "ok";
    case TKMS_RT_E_MALFORMED:
      return "malformed reply";
    case TKMS_RT_E_TYPE:
      return "not a response";
    case TKMS_RT_E_NONCE:
      return "reply to another nonce (stale or replayed)";
    case TKMS_RT_E_VERSION:
      return "unexpected protocol version";
    case TKMS_RT_E_CERT_SIG:
      return "delegation not signed by the server's configured key";
    case TKMS_RT_E_RESP_SIG:
      return "response not signed by the delegated key";
    case TKMS_RT_E_DELEGATION:
      return "midpoint outside the delegation's validity";
    case TKMS_RT_E_MERKLE:
      return "our request is not in the signed Merkle tree";
    default:
      return "bad arguments";
  }
}
