/* src/cli/files.c — local files; see files.h. */
#include "cli/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tkms_cli_file_read(const char *path, size_t max, uint8_t **buf, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "tkms: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "tkms: %s is not a regular file\n", path);
    close(fd);
    return -1;
  }
  if ((unsigned long long)st.st_size > max) {
    fprintf(stderr, "tkms: %s is larger than %zu bytes\n", path, max);
    close(fd);
    return -1;
  }
  /* Read up to max + 1 so that a file that grew after fstat is still refused. */
  uint8_t *b = malloc(max + 2);
  if (b == NULL) {
    fprintf(stderr, "tkms: out of memory\n");
    close(fd);
    return -1;
  }
  size_t got = 0;
  while (got <= max) {
    ssize_t r = read(fd, b + got, max + 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      fprintf(stderr, "tkms: cannot read %s: %s\n", path, strerror(errno));
      free(b);
      close(fd);
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (got > max) {
    fprintf(stderr, "tkms: %s is larger than %zu bytes\n", path, max);
    free(b);
    return -1;
  }
  b[got] = '\0';
  *buf = b;
  *len = got;
  return 0;
}

int tkms_cli_file_create(const char *path, unsigned mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) {
    if (errno == EEXIST)
      fprintf(stderr, "tkms: %s already exists; refusing to overwrite it\n", path);
    else
      fprintf(stderr, "tkms: cannot create %s: %s\n", path, strerror(errno));
    return -1;
  }
  /* The umask can only remove bits; fchmod pins the exact mode we promised. */
  if (fchmod(fd, (mode_t)mode) != 0) {
    fprintf(stderr, "tkms: cannot set the mode of %s: %s\n", path, strerror(errno));
    close(fd);
    unlink(path);
    return -1;
  }
  return fd;
}

int tkms_cli_file_finish(int fd, const char *path, const void *data, size_t len) {
  const uint8_t *p = data;
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) goto fail;
    done += (size_t)w;
  }
  if (fsync(fd) != 0) goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  return 0;
fail:
  fprintf(stderr, "tkms: cannot write %s: %s\n", path, strerror(errno));
  if (fd >= 0) close(fd);
  unlink(path);
  return -1;
}
