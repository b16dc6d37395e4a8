/* src/platform/fileio.c — see fileio.h. */
#include "platform/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

/* close(2) that keeps the errno of the failure being reported. */
static int fail_close(int fd, int e) {
  close(fd);
  errno = e;
  return -1;
}

int tkms_platform_measure_file(const char *path, uint8_t out[32]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  uint8_t buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_close(fd, errno);
    if (r == 0) break;
    crypto_hash_sha256_update(&st, buf, (unsigned long long)r);
  }
  close(fd);
  crypto_hash_sha256_final(&st, out);
  return 0;
}

int tkms_platform_read_at(int dir, const char *name, uint8_t *buf, size_t cap, size_t *len) {
  int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  size_t n = 0;
  for (;;) {
    uint8_t extra;
    ssize_t r = n < cap ? read(fd, buf + n, cap - n) : read(fd, &extra, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_close(fd, errno);
    if (r == 0) break;
    if (n == cap) return fail_close(fd, EFBIG);
    n += (size_t)r;
  }
  close(fd);
  *len = n;
  return 0;
}

int tkms_platform_write_at(int dir, const char *name, const uint8_t *buf, size_t len) {
  int fd = openat(dir, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return fail_close(fd, errno);
    if (w == 0) return fail_close(fd, EIO);
    off += (size_t)w;
  }
  return close(fd);
}

int tkms_platform_host_now(void *ctx, uint64_t *unix_seconds) {
  (void)ctx;
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  if (ts.tv_sec < 0) {
    errno = ERANGE;
    return -1;
  }
  *unix_seconds = (uint64_t)ts.tv_sec;
  return 0;
}
