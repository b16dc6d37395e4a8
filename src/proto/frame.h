/* src/proto/frame.h — the frame codec shared by host and core (the only shared code).
 *
 * Wire format (all integers big-endian):
 *
 *   frame  := u32 length            length of everything after this field,
 *                                   1 <= length <= TKMS_FRAME_MAX
 *             u8  version           TKMS_FRAME_VERSION
 *             u16 op                TKMS_OP_* (src/proto/ops.h); responses echo it
 *             u16 status            0 in requests; TKMS_OK or TKMS_E_* in responses
 *             u32 seq               chosen by the sender of a request, echoed
 *             field*
 *   field  := u8 tag, u32 len, len bytes     (tags may repeat: lists keep order)
 *
 * Every read is bounded by the explicit lengths; a frame whose fields do not
 * exactly fill it is rejected as a whole. Nothing here allocates except
 * tkms_frame_recv and the writer. */
#ifndef TKMS_PROTO_FRAME_H
#define TKMS_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define TKMS_FRAME_VERSION 1
#define TKMS_FRAME_MAX (4u * 1024u * 1024u) /* bytes after the length prefix */
#define TKMS_FRAME_HEADER 9u                /* version + op + status + seq */
#define TKMS_FIELD_HEADER 5u                /* tag + len */

/* A parsed frame. body points into the caller's buffer. */
typedef struct {
  uint8_t version;
  uint16_t op;
  uint16_t status;
  uint32_t seq;
  const uint8_t *body;
  size_t body_len;
} tkms_frame;

/* Parse a frame without its length prefix (buf/len = the `length` bytes).
 * Validates the version and that the fields exactly fill the body.
 * Returns 0 or -1. */
int tkms_frame_parse(const uint8_t *buf, size_t len, tkms_frame *out);

/* Iterate over fields in order. */
typedef struct {
  const uint8_t *p;
  size_t left;
} tkms_field_iter;

void tkms_field_iter_init(tkms_field_iter *it, const tkms_frame *f);
/* Returns 1 and sets tag/val/len for the next field, 0 at the end, -1 on a
 * malformed field (cannot happen after tkms_frame_parse succeeded). */
int tkms_field_next(tkms_field_iter *it, uint8_t *tag, const uint8_t **val, size_t *len);

/* First field with this tag. Returns 0, or -1 when absent. */
int tkms_frame_get(const tkms_frame *f, uint8_t tag, const uint8_t **val, size_t *len);
/* First field with this tag, which must be exactly n bytes. Returns 0 or -1. */
int tkms_frame_get_fixed(const tkms_frame *f, uint8_t tag, uint8_t *out, size_t n);
/* u32 / u64 fields are 4 / 8 bytes big-endian. Returns 0 or -1. */
int tkms_frame_get_u32(const tkms_frame *f, uint8_t tag, uint32_t *out);
int tkms_frame_get_u64(const tkms_frame *f, uint8_t tag, uint64_t *out);
/* A string field: 1..max bytes, printable ASCII (0x20..0x7e) only. Copies it
 * NUL-terminated into out (size >= max + 1). Returns 0 or -1. */
int tkms_frame_get_str(const tkms_frame *f, uint8_t tag, char *out, size_t max);
/* Number of fields with this tag. */
size_t tkms_frame_count(const tkms_frame *f, uint8_t tag);

/* Frame writer. Errors are sticky: check w->err (or the result of finish). */
typedef struct {
  uint8_t *buf; /* starts with the 4-byte length prefix */
  size_t len;
  size_t cap;
  int err;
} tkms_fw;

int tkms_fw_init(tkms_fw *w, uint16_t op, uint16_t status, uint32_t seq);
void tkms_fw_bytes(tkms_fw *w, uint8_t tag, const void *p, size_t n);
void tkms_fw_u32(tkms_fw *w, uint8_t tag, uint32_t v);
void tkms_fw_u64(tkms_fw *w, uint8_t tag, uint64_t v);
void tkms_fw_str(tkms_fw *w, uint8_t tag, const char *s);
/* Writes the length prefix. Returns 0, or -1 if any earlier call failed or the
 * frame exceeds TKMS_FRAME_MAX. Afterwards buf/len is the complete frame. */
int tkms_fw_finish(tkms_fw *w);
/* Zeroises and frees the buffer (frames may carry sealed blobs and signatures). */
void tkms_fw_free(tkms_fw *w);

/* Blocking I/O on a stream socket, retrying on EINTR and short transfers. */
int tkms_frame_send(int fd, const tkms_fw *w); /* after finish; 0 or -1 */
/* Writes all n bytes (several frames, say), retrying on EINTR. 0 or -1. */
int tkms_write_all(int fd, const uint8_t *p, size_t n);
/* Reads one frame (prefix checked against TKMS_FRAME_MAX before allocating).
 * On success *buf (malloc'd, caller frees with tkms_frame_buf_free) holds
 * *len bytes without the prefix. Returns 0, 1 on clean EOF before a frame,
 * or -1 on error / truncated frame / oversize. */
int tkms_frame_recv(int fd, uint8_t **buf, size_t *len);
void tkms_frame_buf_free(uint8_t *buf, size_t len);

/* A buffered reader for a socket that may carry several frames back to back
 * (a pipelined channel: the host sends requests without waiting for each
 * answer, the core answers them in order). One read(2) brings as many frames
 * as have arrived; tkms_frame_reader_ready() says whether the next call can
 * return without blocking, so a loop can batch its answers. */
typedef struct {
  int fd;
  uint8_t *buf; /* TKMS_FRAME_READER_BUF bytes; frames larger than it are read
                   straight into their own allocation */
  size_t start, end;
} tkms_frame_reader;

#define TKMS_FRAME_READER_BUF (64u * 1024u)

int tkms_frame_reader_init(tkms_frame_reader *r, int fd); /* 0 or -1 (out of memory) */
/* Zeroises (the buffer held frames) and frees. */
void tkms_frame_reader_free(tkms_frame_reader *r);
/* The next frame, as tkms_frame_recv: *buf malloc'd (tkms_frame_buf_free),
 * prefix checked against TKMS_FRAME_MAX before allocating. Returns 0, 1 on
 * clean EOF between frames, -1 on error, truncation, oversize or a length
 * below the header; -2 when the socket's receive timeout expired with no byte
 * of a new frame read (nothing is lost: call again). */
int tkms_frame_reader_next(tkms_frame_reader *r, uint8_t **buf, size_t *len);
/* 1 if a complete frame is already buffered, else 0. */
int tkms_frame_reader_ready(const tkms_frame_reader *r);

/* Big-endian helpers. */
static inline void tkms_be32_put(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static inline uint32_t tkms_be32_get(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void tkms_be64_put(uint8_t *p, uint64_t v) {
  tkms_be32_put(p, (uint32_t)(v >> 32));
  tkms_be32_put(p + 4, (uint32_t)v);
}
static inline uint64_t tkms_be64_get(const uint8_t *p) {
  return ((uint64_t)tkms_be32_get(p) << 32) | tkms_be32_get(p + 4);
}

#endif
