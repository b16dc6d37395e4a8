/* src/core/log.c — see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void tkms_log(const char *fmt, ...) {
  char buf[1024];
  static const char prefix[] = "tkms-enclave: ";
  size_t n = sizeof prefix - 1;
  memcpy(buf, prefix, n);
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
  va_end(ap);
  if (r < 0) return;
  n += (size_t)r < sizeof buf - n - 1 ? (size_t)r : sizeof buf - n - 2;
  buf[n++] = '\n';
  /* One write per line so lines from several threads do not interleave. */
  ssize_t w = write(STDERR_FILENO, buf, n);
  (void)w;
}
