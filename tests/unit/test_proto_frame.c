/* tests/unit/test_proto_frame.c — the frame codec: round trips and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/hex.h"
#include "proto/ops.h"

static void build_sample(tkms_fw *w) {
  assert_int_equal(tkms_fw_init(w, TKMS_OP_KEY_SIGN, 0, 77), 0);
  tkms_fw_str(w, TKMS_F_SIGN_MODE, "personal");
  tkms_fw_u64(w, TKMS_F_DEADLINE, 0x0102030405060708ull);
  tkms_fw_u32(w, TKMS_F_VERSION, 9);
  tkms_fw_bytes(w, TKMS_F_SCOPE_KEY, "aaaaaaaaaaaaaaaa", 16);
  tkms_fw_bytes(w, TKMS_F_SCOPE_KEY, "bbbbbbbbbbbbbbbb", 16);
  tkms_fw_bytes(w, TKMS_F_PAYLOAD, "", 0);
  assert_int_equal(tkms_fw_finish(w), 0);
}

static void test_roundtrip(void **state) {
  (void)state;
  tkms_fw w;
  build_sample(&w);
  tkms_frame f;
  assert_int_equal(tkms_frame_parse(w.buf + 4, w.len - 4, &f), 0);
  assert_int_equal(f.op, TKMS_OP_KEY_SIGN);
  assert_int_equal(f.seq, 77);
  assert_int_equal(f.status, 0);
  char mode[16];
  assert_int_equal(tkms_frame_get_str(&f, TKMS_F_SIGN_MODE, mode, 15), 0);
  assert_string_equal(mode, "personal");
  uint64_t dl;
  assert_int_equal(tkms_frame_get_u64(&f, TKMS_F_DEADLINE, &dl), 0);
  assert_true(dl == 0x0102030405060708ull);
  uint32_t v;
  assert_int_equal(tkms_frame_get_u32(&f, TKMS_F_VERSION, &v), 0);
  assert_int_equal(v, 9);
  assert_int_equal(tkms_frame_count(&f, TKMS_F_SCOPE_KEY), 2);
  const uint8_t *p;
  size_t n;
  assert_int_equal(tkms_frame_get(&f, TKMS_F_PAYLOAD, &p, &n), 0);
  assert_int_equal(n, 0);
  /* absent field, wrong fixed size, string too long for the buffer */
  assert_int_equal(tkms_frame_get(&f, TKMS_F_BLOB, &p, &n), -1);
  assert_int_equal(tkms_frame_get_u32(&f, TKMS_F_DEADLINE, &v), -1);
  assert_int_equal(tkms_frame_get_str(&f, TKMS_F_SIGN_MODE, mode, 4), -1);
  /* an empty string field is refused */
  assert_int_equal(tkms_frame_get_str(&f, TKMS_F_PAYLOAD, mode, 15), -1);
  tkms_fw_free(&w);
}

static void test_refusals(void **state) {
  (void)state;
  tkms_fw w;
  build_sample(&w);
  uint8_t *b = w.buf + 4;
  size_t n = w.len - 4;
  tkms_frame f;
  /* A cut is accepted exactly at field boundaries (a valid shorter frame) and
   * refused everywhere else: the fields must exactly fill the frame. */
  int boundary[512] = {0};
  assert_true(n < 512);
  assert_int_equal(tkms_frame_parse(b, n, &f), 0);
  boundary[TKMS_FRAME_HEADER] = 1;
  tkms_field_iter it;
  tkms_field_iter_init(&it, &f);
  uint8_t t;
  const uint8_t *val;
  size_t len;
  while (tkms_field_next(&it, &t, &val, &len) == 1) boundary[(val + len) - b] = 1;
  for (size_t cut = 0; cut < n; cut++) {
    assert_int_equal(tkms_frame_parse(b, cut, &f), boundary[cut] ? 0 : -1);
  }
  assert_int_equal(tkms_frame_parse(b, 8, &f), -1); /* shorter than the header */
  b[0] = 2;                                         /* unknown version */
  assert_int_equal(tkms_frame_parse(b, n, &f), -1);
  b[0] = TKMS_FRAME_VERSION;
  /* a field length pointing past the end */
  uint8_t saved[4];
  memcpy(saved, b + TKMS_FRAME_HEADER + 1, 4);
  tkms_be32_put(b + TKMS_FRAME_HEADER + 1, 0xffffffffu);
  assert_int_equal(tkms_frame_parse(b, n, &f), -1);
  memcpy(b + TKMS_FRAME_HEADER + 1, saved, 4);
  assert_int_equal(tkms_frame_parse(b, n, &f), 0);
  /* a non-printable byte in a string */
  b[TKMS_FRAME_HEADER + 5] = 0x00;
  char s[16];
  assert_int_equal(tkms_frame_parse(b, n, &f), 0);
  assert_int_equal(tkms_frame_get_str(&f, TKMS_F_SIGN_MODE, s, 15), -1);
  tkms_fw_free(&w);
}

static void test_writer_limits(void **state) {
  (void)state;
  tkms_fw w;
  assert_int_equal(tkms_fw_init(&w, 1, 0, 1), 0);
  uint8_t *big = calloc(1, TKMS_FRAME_MAX);
  assert_non_null(big);
  tkms_fw_bytes(&w, TKMS_F_BLOB, big, TKMS_FRAME_MAX); /* header makes it too large */
  assert_int_equal(tkms_fw_finish(&w), -1);
  tkms_fw_free(&w);
  free(big);
}

static void test_socket_io(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  tkms_fw w;
  build_sample(&w);
  assert_int_equal(tkms_frame_send(sv[0], &w), 0);
  uint8_t *buf;
  size_t len;
  assert_int_equal(tkms_frame_recv(sv[1], &buf, &len), 0);
  assert_int_equal(len, w.len - 4);
  assert_memory_equal(buf, w.buf + 4, len);
  tkms_frame_buf_free(buf, len);
  /* an oversize length prefix is refused before allocating */
  uint8_t pre[4];
  tkms_be32_put(pre, TKMS_FRAME_MAX + 1);
  assert_int_equal(write(sv[0], pre, 4), 4);
  assert_int_equal(tkms_frame_recv(sv[1], &buf, &len), -1);
  /* bytes beyond one frame are a protocol violation (strict alternation) */
  int sv3[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv3), 0);
  uint8_t *two = malloc(w.len + 1);
  assert_non_null(two);
  memcpy(two, w.buf, w.len);
  two[w.len] = 0x42;
  assert_int_equal(write(sv3[0], two, w.len + 1), (ssize_t)(w.len + 1));
  assert_int_equal(tkms_frame_recv(sv3[1], &buf, &len), -1);
  free(two);
  close(sv3[0]);
  close(sv3[1]);
  /* a frame larger than one read arrives whole */
  tkms_fw big;
  assert_int_equal(tkms_fw_init(&big, 1, 0, 5), 0);
  uint8_t *blob = calloc(1, 100000);
  assert_non_null(blob);
  tkms_fw_bytes(&big, TKMS_F_BLOB, blob, 100000);
  assert_int_equal(tkms_fw_finish(&big), 0);
  int sv4[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv4), 0);
  pid_t child = fork();
  if (child == 0) {
    _exit(tkms_frame_send(sv4[0], &big) == 0 ? 0 : 1);
  }
  assert_int_equal(tkms_frame_recv(sv4[1], &buf, &len), 0);
  assert_int_equal(len, big.len - 4);
  assert_memory_equal(buf, big.buf + 4, len);
  tkms_frame_buf_free(buf, len);
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(sv4[0]);
  close(sv4[1]);
  tkms_fw_free(&big);
  free(blob);
  /* a truncated frame then EOF is an error; EOF before a frame is 1 */
  int sv2[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
  assert_int_equal(write(sv2[0], w.buf, w.len - 3), (ssize_t)(w.len - 3));
  close(sv2[0]);
  assert_int_equal(tkms_frame_recv(sv2[1], &buf, &len), -1);
  close(sv2[1]);
  close(sv[0]);
  assert_int_equal(tkms_frame_recv(sv[1], &buf, &len), 1);
  close(sv[1]);
  tkms_fw_free(&w);
}

/* Writes frames of assorted sizes (tiny to beyond the reader's buffer), seq i,
 * in chunks of pseudo-random length: every frame boundary lands somewhere in
 * the middle of a read sooner or later. */
#define PIPELINED 200
static size_t pipelined_size(unsigned i) {
  return i % 50 == 7 ? TKMS_FRAME_READER_BUF + 1000 + i : (i * 37u) % 600;
}

static void pipelined_writer(int fd) {
  uint32_t x = 12345;
  for (unsigned i = 0; i < PIPELINED; i++) {
    tkms_fw w;
    size_t n = pipelined_size(i);
    uint8_t *p = malloc(n + 1);
    if (p == NULL || tkms_fw_init(&w, TKMS_OP_KEY_SIGN, 0, i) != 0) _exit(2);
    for (size_t k = 0; k < n; k++) p[k] = (uint8_t)(i + k);
    tkms_fw_bytes(&w, TKMS_F_PAYLOAD, p, n);
    if (tkms_fw_finish(&w) != 0) _exit(2);
    for (size_t off = 0; off < w.len;) {
      x = x * 1103515245u + 12345u;
      size_t c = 1 + (x >> 16) % 3000;
      if (c > w.len - off) c = w.len - off;
      if (write(fd, w.buf + off, c) != (ssize_t)c) _exit(3);
      off += c;
    }
    tkms_fw_free(&w);
    free(p);
  }
  _exit(0);
}

static void test_frame_reader(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  pid_t child = fork();
  if (child == 0) {
    close(sv[1]);
    pipelined_writer(sv[0]);
  }
  close(sv[0]);
  tkms_frame_reader rd;
  assert_int_equal(tkms_frame_reader_init(&rd, sv[1]), 0);
  for (unsigned i = 0; i < PIPELINED; i++) {
    uint8_t *buf;
    size_t len;
    assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), 0);
    tkms_frame f;
    assert_int_equal(tkms_frame_parse(buf, len, &f), 0);
    assert_int_equal(f.seq, i);
    const uint8_t *v;
    size_t n;
    assert_int_equal(tkms_frame_get(&f, TKMS_F_PAYLOAD, &v, &n), 0);
    assert_int_equal(n, pipelined_size(i));
    for (size_t k = 0; k < n; k++) assert_int_equal(v[k], (uint8_t)(i + k));
    tkms_frame_buf_free(buf, len);
  }
  /* the writer is done: clean EOF between frames */
  uint8_t *buf;
  size_t len;
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), 1);
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tkms_frame_reader_free(&rd);
  close(sv[1]);

  /* Two whole frames in one write: both come out, the second without a read. */
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  tkms_fw w;
  build_sample(&w);
  uint8_t *two = malloc(2 * w.len);
  assert_non_null(two);
  memcpy(two, w.buf, w.len);
  memcpy(two + w.len, w.buf, w.len);
  assert_int_equal(write(sv[0], two, 2 * w.len), (ssize_t)(2 * w.len));
  assert_int_equal(tkms_frame_reader_init(&rd, sv[1]), 0);
  assert_int_equal(tkms_frame_reader_ready(&rd), 0);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), 0);
  assert_int_equal(len, w.len - 4);
  assert_memory_equal(buf, w.buf + 4, len);
  tkms_frame_buf_free(buf, len);
  assert_int_equal(tkms_frame_reader_ready(&rd), 1);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), 0);
  assert_memory_equal(buf, w.buf + 4, len);
  tkms_frame_buf_free(buf, len);
  /* a receive timeout before a frame loses nothing: -2, then the frame */
  struct timeval tv = {.tv_sec = 0, .tv_usec = 50000};
  assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), -2);
  assert_int_equal(write(sv[0], w.buf, w.len), (ssize_t)w.len);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), 0);
  assert_memory_equal(buf, w.buf + 4, len);
  tkms_frame_buf_free(buf, len);
  /* a frame followed by a length below the header: the frame comes out, the
   * bad length is not "ready" (so an answering loop flushes first), then -1 */
  uint8_t zero[8] = {0};
  assert_int_equal(write(sv[0], w.buf, w.len), (ssize_t)w.len);
  assert_int_equal(write(sv[0], zero, sizeof zero), (ssize_t)sizeof zero);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), 0);
  assert_memory_equal(buf, w.buf + 4, len);
  tkms_frame_buf_free(buf, len);
  assert_int_equal(tkms_frame_reader_ready(&rd), 0);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), -1);
  tkms_frame_reader_free(&rd);
  close(sv[0]);
  close(sv[1]);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(tkms_frame_reader_init(&rd, sv[1]), 0);
  assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  /* a timeout inside a length prefix desynchronises the stream: -1 */
  assert_int_equal(write(sv[0], w.buf, 2), 2);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), -1);
  tkms_frame_reader_free(&rd);
  close(sv[0]);
  close(sv[1]);

  /* oversize and undersize length prefixes are refused before allocating;
   * a truncated frame then EOF is an error */
  const uint32_t bad[] = {TKMS_FRAME_MAX + 1, TKMS_FRAME_HEADER - 1, 0};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    uint8_t pre[4];
    tkms_be32_put(pre, bad[i]);
    assert_int_equal(write(sv[0], pre, 4), 4);
    assert_int_equal(tkms_frame_reader_init(&rd, sv[1]), 0);
    assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), -1);
    tkms_frame_reader_free(&rd);
    close(sv[0]);
    close(sv[1]);
  }
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(write(sv[0], w.buf, w.len - 3), (ssize_t)(w.len - 3));
  close(sv[0]);
  assert_int_equal(tkms_frame_reader_init(&rd, sv[1]), 0);
  assert_int_equal(tkms_frame_reader_next(&rd, &buf, &len), -1);
  tkms_frame_reader_free(&rd);
  close(sv[1]);
  free(two);
  tkms_fw_free(&w);
}

static void test_hex(void **state) {
  (void)state;
  uint8_t b[4] = {0x00, 0xab, 0x10, 0xff};
  char s[11];
  tkms_hex_encode(b, 4, s);
  assert_string_equal(s, "0x00ab10ff");
  uint8_t out[4];
  assert_int_equal(tkms_hex_decode_exact("0x00AB10ff", out, 4), 0);
  assert_memory_equal(out, b, 4);
  assert_int_equal(tkms_hex_decode_exact("00ab10ff", out, 4), -1);     /* no prefix */
  assert_int_equal(tkms_hex_decode_exact("0x00ab10f", out, 4), -1);    /* odd */
  assert_int_equal(tkms_hex_decode_exact("0x00ab10", out, 4), -1);     /* short */
  assert_int_equal(tkms_hex_decode_exact("0x00ab10ff00", out, 4), -1); /* long */
  assert_int_equal(tkms_hex_decode_exact("0x00ag10ff", out, 4), -1);   /* not hex */
  size_t n;
  assert_int_equal(tkms_hex_decode("0x", out, 4, &n), 0);
  assert_int_equal(n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_writer_limits), cmocka_unit_test(test_socket_io),
      cmocka_unit_test(test_frame_reader),  cmocka_unit_test(test_hex),
  };
  return cmocka_run_group_tests_name("proto_frame", tests, NULL, NULL);
}
