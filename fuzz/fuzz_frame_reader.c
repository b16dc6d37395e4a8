/* fuzz/fuzz_frame_reader.c — libFuzzer harness for the buffered frame reader
 * (proto/frame.h tkms_frame_reader), which splits a pipelined socket's bytes
 * into frames in the core and in the host.
 * FUZZ_ROOMS: proto */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is the byte stream; it must fit the socket buffer (one write). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
  int big = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (size > 0 && write(sv[0], data, size) != (ssize_t)size) {
    close(sv[0]);
    close(sv[1]);
    return 0;
  }
  close(sv[0]);
  tkms_frame_reader rd;
  if (tkms_frame_reader_init(&rd, sv[1]) != 0) __builtin_trap();
  /* Oracle: the frames handed out, each behind its length prefix, are exactly
   * the input's first bytes; at a clean EOF they are all of it. */
  size_t off = 0;
  for (;;) {
    uint8_t *buf;
    size_t len;
    int r = tkms_frame_reader_next(&rd, &buf, &len);
    if (r == 1) {
      if (off != size) __builtin_trap();
      break;
    }
    if (r != 0) break;
    if (len < TKMS_FRAME_HEADER || len > TKMS_FRAME_MAX || off + 4 + len > size ||
        tkms_be32_get(data + off) != len || memcmp(data + off + 4, buf, len) != 0)
      __builtin_trap();
    off += 4 + len;
    tkms_frame_buf_free(buf, len);
  }
  tkms_frame_reader_free(&rd);
  close(sv[1]);
  return 0;
}
