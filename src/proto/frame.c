/* src/proto/frame.c — the frame codec; the wire format is documented in frame.h.
 * This is the trusted core's whole parsing surface for host input, so every
 * read is bounded by an explicit length and checked before use. */
#include "proto/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tkms_frame_parse(const uint8_t *buf, size_t len, tkms_frame *out) {
  if (buf == NULL || out == NULL || len < TKMS_FRAME_HEADER || len > TKMS_FRAME_MAX) return -1;
  if (buf[0] != TKMS_FRAME_VERSION) return -1;
  tkms_frame f = {.version = buf[0],
                  .op = (uint16_t)((buf[1] << 8) | buf[2]),
                  .status = (uint16_t)((buf[3] << 8) | buf[4]),
                  .seq = tkms_be32_get(buf + 5),
                  .body = buf + TKMS_FRAME_HEADER,
                  .body_len = len - TKMS_FRAME_HEADER};
  /* Walk every field once so later lookups never meet a malformed one. */
  tkms_field_iter it;
  tkms_field_iter_init(&it, &f);
  uint8_t tag;
  const uint8_t *val;
  size_t vlen;
  int r;
  while ((r = tkms_field_next(&it, &tag, &val, &vlen)) == 1) {
  }
  if (r != 0) return -1;
  *out = f;
  return 0;
}

void tkms_field_iter_init(tkms_field_iter *it, const tkms_frame *f) {
  it->p = f->body;
  it->left = f->body_len;
}

int tkms_field_next(tkms_field_iter *it, uint8_t *tag, const uint8_t **val, size_t *len) {
  if (it->left == 0) return 0;
  if (it->left < TKMS_FIELD_HEADER) return -1;
  uint32_t n = tkms_be32_get(it->p + 1);
  if (n > it->left - TKMS_FIELD_HEADER) return -1; /* no overflow: left >= header */
  *tag = it->p[0];
  *val = it->p + TKMS_FIELD_HEADER;
  *len = n;
  it->p += TKMS_FIELD_HEADER + n;
  it->left -= TKMS_FIELD_HEADER + n;
  return 1;
}

int tkms_frame_get(const tkms_frame *f, uint8_t tag, const uint8_t **val, size_t *len) {
  tkms_field_iter it;
  tkms_field_iter_init(&it, f);
  uint8_t t;
  while (tkms_field_next(&it, &t, val, len) == 1) {
    if (t == tag) return 0;
  }
  return -1;
}

int tkms_frame_get_fixed(const tkms_frame *f, uint8_t tag, uint8_t *out, size_t n) {
  const uint8_t *v;
  size_t len;
  if (tkms_frame_get(f, tag, &v, &len) != 0 || len != n) return -1;
  memcpy(out, v, n);
  return 0;
}

int tkms_frame_get_u32(const tkms_frame *f, uint8_t tag, uint32_t *out) {
  uint8_t b[4];
  if (tkms_frame_get_fixed(f, tag, b, sizeof b) != 0) return -1;
  *out = tkms_be32_get(b);
  return 0;
}

int tkms_frame_get_u64(const tkms_frame *f, uint8_t tag, uint64_t *out) {
  uint8_t b[8];
  if (tkms_frame_get_fixed(f, tag, b, sizeof b) != 0) return -1;
  *out = tkms_be64_get(b);
  return 0;
}

int tkms_frame_get_str(const tkms_frame *f, uint8_t tag, char *out, size_t max) {
  const uint8_t *v;
  size_t len;
  if (tkms_frame_get(f, tag, &v, &len) != 0 || len == 0 || len > max) return -1;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < 0x20 || v[i] > 0x7e) return -1; /* printable ASCII only: no NUL, no controls */
  }
  memcpy(out, v, len);
  out[len] = '\0';
  return 0;
}

size_t tkms_frame_count(const tkms_frame *f, uint8_t tag) {
  tkms_field_iter it;
  tkms_field_iter_init(&it, f);
  uint8_t t;
  const uint8_t *v;
  size_t len, n = 0;
  while (tkms_field_next(&it, &t, &v, &len) == 1) n += (t == tag);
  return n;
}

/* ---- writer ---------------------------------------------------------------- */

static int fw_reserve(tkms_fw *w, size_t extra) {
  if (w->err) return -1;
  if (extra > 4 + TKMS_FRAME_MAX || w->len + extra > 4 + TKMS_FRAME_MAX) {
    w->err = 1;
    return -1;
  }
  if (w->len + extra <= w->cap) return 0;
  size_t cap = w->cap ? w->cap : 256;
  while (cap < w->len + extra) cap *= 2;
  if (cap > 4 + TKMS_FRAME_MAX) cap = 4 + TKMS_FRAME_MAX;
  /* Grow by copy so the old buffer can be wiped: frames carry sealed records. */
  uint8_t *nb = malloc(cap);
  if (nb == NULL) {
    w->err = 1;
    return -1;
  }
  if (w->buf != NULL) {
    memcpy(nb, w->buf, w->len);
    explicit_bzero(w->buf, w->cap);
    free(w->buf);
  }
  w->buf = nb;
  w->cap = cap;
  return 0;
}

int tkms_fw_init(tkms_fw *w, uint16_t op, uint16_t status, uint32_t seq) {
  memset(w, 0, sizeof *w);
  if (fw_reserve(w, 4 + TKMS_FRAME_HEADER) != 0) return -1;
  uint8_t *p = w->buf;
  memset(p, 0, 4); /* length, written by finish */
  p[4] = TKMS_FRAME_VERSION;
  p[5] = (uint8_t)(op >> 8);
  p[6] = (uint8_t)op;
  p[7] = (uint8_t)(status >> 8);
  p[8] = (uint8_t)status;
  tkms_be32_put(p + 9, seq);
  w->len = 4 + TKMS_FRAME_HEADER;
  return 0;
}

void tkms_fw_bytes(tkms_fw *w, uint8_t tag, const void *p, size_t n) {
  if (n > TKMS_FRAME_MAX) {
    w->err = 1;
    return;
  }
  if (fw_reserve(w, TKMS_FIELD_HEADER + n) != 0) return;
  w->buf[w->len] = tag;
  tkms_be32_put(w->buf + w->len + 1, (uint32_t)n);
  if (n > 0) memcpy(w->buf + w->len + TKMS_FIELD_HEADER, p, n);
  w->len += TKMS_FIELD_HEADER + n;
}

void tkms_fw_u32(tkms_fw *w, uint8_t tag, uint32_t v) {
  uint8_t b[4];
  tkms_be32_put(b, v);
  tkms_fw_bytes(w, tag, b, sizeof b);
}

void tkms_fw_u64(tkms_fw *w, uint8_t tag, uint64_t v) {
  uint8_t b[8];
  tkms_be64_put(b, v);
  tkms_fw_bytes(w, tag, b, sizeof b);
}

void tkms_fw_str(tkms_fw *w, uint8_t tag, const char *s) {
  tkms_fw_bytes(w, tag, s, strlen(s));
}

int tkms_fw_finish(tkms_fw *w) {
  if (w->err || w->buf == NULL || w->len < 4 + TKMS_FRAME_HEADER) return -1;
  tkms_be32_put(w->buf, (uint32_t)(w->len - 4));
  return 0;
}

void tkms_fw_free(tkms_fw *w) {
  if (w->buf != NULL) {
    explicit_bzero(w->buf, w->cap);
    free(w->buf);
  }
  memset(w, 0, sizeof *w);
}

/* ---- blocking I/O ------------------------------------------------------------ */

int tkms_write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Returns 0 when n bytes were read, 1 on EOF before the first byte, -1 otherwise. */
static int read_all(int fd, uint8_t *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) return got == 0 ? 1 : -1;
    got += (size_t)r;
  }
  return 0;
}

int tkms_frame_send(int fd, const tkms_fw *w) {
  if (w->err || w->buf == NULL || tkms_be32_get(w->buf) != w->len - 4) return -1;
  return tkms_write_all(fd, w->buf, w->len);
}

int tkms_frame_recv(int fd, uint8_t **buf, size_t *len) {
  /* One read usually brings the whole frame (a syscall is the dominant cost of
   * a small request). Requests and responses strictly alternate on a socket, so
   * bytes beyond this frame would be a protocol violation, not a next frame. */
  uint8_t first[4096];
  size_t got = 0;
  while (got < 4) {
    ssize_t r = read(fd, first + got, sizeof first - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) return got == 0 ? 1 : -1;
    got += (size_t)r;
  }
  uint32_t n = tkms_be32_get(first);
  int rc = -1;
  uint8_t *b = NULL;
  /* length checked before allocating; no second frame may follow */
  if (n >= TKMS_FRAME_HEADER && n <= TKMS_FRAME_MAX && got - 4 <= n) b = malloc(n);
  if (b != NULL) {
    memcpy(b, first + 4, got - 4);
    if (read_all(fd, b + (got - 4), n - (got - 4)) == 0) {
      *buf = b;
      *len = n;
      b = NULL;
      rc = 0;
    }
  }
  tkms_frame_buf_free(b, n);
  explicit_bzero(first, got);
  return rc;
}

void tkms_frame_buf_free(uint8_t *buf, size_t len) {
  if (buf == NULL) return;
  explicit_bzero(buf, len);
  free(buf);
}

/* ---- buffered reader ---------------------------------------------------------- */

int tkms_frame_reader_init(tkms_frame_reader *r, int fd) {
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->buf = malloc(TKMS_FRAME_READER_BUF);
  return r->buf == NULL ? -1 : 0;
}

void tkms_frame_reader_free(tkms_frame_reader *r) {
  if (r->buf != NULL) {
    explicit_bzero(r->buf, TKMS_FRAME_READER_BUF);
    free(r->buf);
  }
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

int tkms_frame_reader_ready(const tkms_frame_reader *r) {
  size_t have = r->end - r->start;
  if (have < 4) return 0;
  uint32_t n = tkms_be32_get(r->buf + r->start);
  /* A bad length is not "ready": the caller flushes before next() fails. */
  return n >= TKMS_FRAME_HEADER && n <= have - 4;
}

/* Moves the unread bytes to the front and reads once more. Returns bytes read,
 * 0 on EOF, -1 on error, -2 on timeout. */
static ssize_t reader_fill(tkms_frame_reader *r) {
  if (r->start > 0) {
    size_t have = r->end - r->start;
    memmove(r->buf, r->buf + r->start, have);
    explicit_bzero(r->buf + have, r->start);
    r->start = 0;
    r->end = have;
  }
  for (;;) {
    ssize_t got = read(r->fd, r->buf + r->end, TKMS_FRAME_READER_BUF - r->end);
    if (got > 0) {
      r->end += (size_t)got;
      return got;
    }
    if (got == 0) return 0;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
  }
}

int tkms_frame_reader_next(tkms_frame_reader *r, uint8_t **buf, size_t *len) {
  while (r->end - r->start < 4) {
    ssize_t got = reader_fill(r);
    if (got == 0) return r->end == r->start ? 1 : -1;
    /* A timeout in the middle of a length prefix desynchronises the stream. */
    if (got == -2) return r->end == r->start ? -2 : -1;
    if (got < 0) return -1;
  }
  uint32_t n = tkms_be32_get(r->buf + r->start);
  if (n < TKMS_FRAME_HEADER || n > TKMS_FRAME_MAX) return -1;
  uint8_t *b = malloc(n);
  if (b == NULL) return -1;
  size_t have = r->end - r->start - 4;
  if (have > n) have = n;
  memcpy(b, r->buf + r->start + 4, have);
  explicit_bzero(r->buf + r->start, 4 + have);
  r->start += 4 + have;
  if (r->start == r->end) r->start = r->end = 0;
  /* The rest of a frame that did not fit: straight into its allocation. */
  if (have < n && read_all(r->fd, b + have, n - have) != 0) {
    tkms_frame_buf_free(b, n);
    return -1;
  }
  *buf = b;
  *len = n;
  return 0;
}
