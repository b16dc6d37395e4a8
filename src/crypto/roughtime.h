/* src/crypto/roughtime.h — the Roughtime wire format (draft-ietf-ntp-roughtime-14,
 * version 0x8000000c), pure functions: no I/O, no clock.
 *
 * A packet is "ROUGHTIM" | u32 length | message. A message is u32 N | (N-1) u32
 * offsets | N u32 tags | values, all little-endian; offsets are multiples of 4
 * and non-decreasing, tags strictly ascending. The parser refuses anything else
 * and every length is checked against the buffer.
 *
 * Verifying a response (tkms_rt_verify) checks, in order: the packet and every
 * nested message parse; TYPE = 1; NONC is our nonce; CERT.SIG is the server's
 * long-term Ed25519 key's signature over "RoughTime v1 delegation signature\0"
 * || DELE; SIG is the delegated key's (DELE.PUBK) signature over "RoughTime v1
 * response signature\0" || SREP; SREP.VER is our version; MINT <= MIDP <= MAXT;
 * and the Merkle path: H(0x00 || request packet) folded with PATH by the bits of
 * INDX (H = first 32 bytes of SHA-512, nodes H(0x01 || left || right)) is
 * SREP.ROOT, with INDX's unused bits zero. */
#ifndef TKMS_CRYPTO_ROUGHTIME_H
#define TKMS_CRYPTO_ROUGHTIME_H
#include <stddef.h>
#include <stdint.h>

#define TKMS_RT_VERSION 0x8000000cu /* drafts 12-14 */
#define TKMS_RT_REQUEST_BYTES 1024u /* whole packet; the draft asks >= 1024 */
#define TKMS_RT_MAX_RESPONSE 1024u  /* a server never answers larger than the request */
#define TKMS_RT_NONCE_BYTES 32u
#define TKMS_RT_MAX_TAGS 64u /* per message */
#define TKMS_RT_MAX_PATH 32u /* Merkle path entries (tree depth) */

#define TKMS_RT_TAG(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

/* Outcomes of tkms_rt_verify; each a distinct reason. */
enum {
  TKMS_RT_OK = 0,
  TKMS_RT_E_MALFORMED = -1,  /* packet or a nested message does not parse, a tag is missing */
  TKMS_RT_E_TYPE = -2,       /* not a response (TYPE != 1) */
  TKMS_RT_E_NONCE = -3,      /* NONC is not the nonce we sent */
  TKMS_RT_E_VERSION = -4,    /* SREP.VER is not the version we asked for */
  TKMS_RT_E_CERT_SIG = -5,   /* the delegation is not signed by the server's long-term key */
  TKMS_RT_E_RESP_SIG = -6,   /* SREP is not signed by the delegated key */
  TKMS_RT_E_DELEGATION = -7, /* MIDP outside [MINT, MAXT] */
  TKMS_RT_E_MERKLE = -8,     /* PATH/INDX do not lead from our request to ROOT */
  TKMS_RT_E_ARG = -9,        /* bad arguments (lengths) */
};

/* A parsed message: views into the caller's buffer. */
typedef struct {
  uint32_t n;
  const uint8_t *offsets; /* (n-1) u32 */
  const uint8_t *tags;    /* n u32 */
  const uint8_t *values;
  size_t values_len;
} tkms_rt_msg;

/* Parses a message of exactly len bytes. Returns 0 or -1. */
int tkms_rt_msg_parse(const uint8_t *p, size_t len, tkms_rt_msg *m);
/* Finds tag. Returns 0 with the value in v, vlen, or -1 if absent. */
int tkms_rt_msg_get(const tkms_rt_msg *m, uint32_t tag, const uint8_t **v, size_t *vlen);
/* Parses a packet ("ROUGHTIM", u32 len, message); the length must match
 * exactly. Returns 0 with the message view, or -1. */
int tkms_rt_packet_parse(const uint8_t *p, size_t len, const uint8_t **msg, size_t *msg_len);

/* Writes the request packet for nonce: VER [TKMS_RT_VERSION], NONC, TYPE 0 and
 * ZZZZ zero padding up to TKMS_RT_REQUEST_BYTES. Returns 0 or -1. */
int tkms_rt_build_request(const uint8_t nonce[TKMS_RT_NONCE_BYTES],
                          uint8_t out[TKMS_RT_REQUEST_BYTES]);

typedef struct {
  uint64_t midp;   /* unix seconds */
  uint32_t radius; /* seconds */
} tkms_rt_time;

/* Verifies resp against the request packet req (which carries nonce) and the
 * server's long-term public key. Returns TKMS_RT_OK with *out, or a
 * TKMS_RT_E_* reason. */
int tkms_rt_verify(const uint8_t *req, size_t req_len, const uint8_t nonce[TKMS_RT_NONCE_BYTES],
                   const uint8_t server_pk[32], const uint8_t *resp, size_t resp_len,
                   tkms_rt_time *out);
/* A short English reason for a TKMS_RT_* value. */
const char *tkms_rt_strerror(int rc);
#endif
