/* src/platform/fileio.c — see fileio.h. */
#include "platform/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"

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

/* ---- the process measurement ----------------------------------------------- */

#define MANIFEST_HEADER "tkms-core-manifest v1\n"
#define MAX_OBJECTS 256u
#define MAX_NAME 255u

typedef struct {
  char *path; /* as /proc/self/maps names it */
  int is_core;
} mapped_obj;

static int set_merr(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_merr(char *err, size_t n, const char *fmt, ...) {
  if (err != NULL && n > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* One line of /proc/self/maps: "start-end perms offset major:minor inode   path".
 * Returns 1 with *path pointing into line (NUL-terminated) for a file-backed
 * mapping with execute permission, 0 for any other mapping, -1 if malformed. */
static int parse_maps_line(char *line, char **path, unsigned *maj, unsigned *min,
                           unsigned long *ino) {
  char perms[8];
  unsigned long lo, hi, off;
  int n = -1;
  if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &lo, &hi, perms, &off, maj, min, ino, &n) < 7 ||
      n < 0)
    return -1;
  char *p = line + n;
  size_t len = strlen(p);
  while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == ' ')) p[--len] = '\0';
  if (*ino == 0 || p[0] != '/') return 0;             /* anonymous, [heap], [stack], [vdso], ... */
  if (strlen(perms) < 3 || perms[2] != 'x') return 0; /* data files (locale, caches) */
  *path = p;
  return 1;
}

static int cmp_lines(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int tkms_platform_measure_self(const char *exe_path, uint8_t out[32], char *manifest, size_t cap,
                               size_t *manifest_len, char *err, size_t err_len) {
  if (out == NULL) return set_merr(err, err_len, "no output for the measurement");
  struct stat self;
  if (stat("/proc/self/exe", &self) != 0)
    return set_merr(err, err_len, "cannot stat /proc/self/exe: %s", strerror(errno));
  FILE *maps = fopen("/proc/self/maps", "re");
  if (maps == NULL)
    return set_merr(err, err_len, "cannot read /proc/self/maps: %s", strerror(errno));

  mapped_obj objs[MAX_OBJECTS];
  size_t n_objs = 0;
  char *lines[MAX_OBJECTS];
  size_t n_lines = 0;
  int rc = -1;
  char *line = NULL;
  size_t line_cap = 0;
  int have_core = 0;
  while (getline(&line, &line_cap, maps) > 0) {
    char *path;
    unsigned maj, min;
    unsigned long ino;
    int r = parse_maps_line(line, &path, &maj, &min, &ino);
    if (r < 0) {
      set_merr(err, err_len, "unexpected line in /proc/self/maps");
      goto done;
    }
    if (r == 0) continue;
    int is_core = self.st_ino == ino && major(self.st_dev) == maj && minor(self.st_dev) == min;
    size_t pl = strlen(path);
    static const char deleted[] = " (deleted)";
    if (!is_core && pl >= sizeof deleted - 1 &&
        strcmp(path + pl - (sizeof deleted - 1), deleted) == 0) {
      set_merr(err, err_len,
               "%s was replaced or removed on disk after this process loaded it (a package "
               "upgrade?); restart the core so that what runs is what is measured",
               path);
      goto done;
    }
    if (is_core) have_core = 1;
    if (is_core && exe_path != NULL) continue; /* the override stands for this binary */
    int seen = 0;
    for (size_t i = 0; i < n_objs && !seen; i++) seen = strcmp(objs[i].path, path) == 0;
    if (seen) continue;
    if (n_objs == MAX_OBJECTS) {
      set_merr(err, err_len, "more than %u mapped objects", MAX_OBJECTS);
      goto done;
    }
    objs[n_objs].path = strdup(path);
    if (objs[n_objs].path == NULL) {
      set_merr(err, err_len, "out of memory");
      goto done;
    }
    objs[n_objs++].is_core = is_core;
  }
  if (ferror(maps)) {
    set_merr(err, err_len, "cannot read /proc/self/maps: %s", strerror(errno));
    goto done;
  }
  if (exe_path == NULL && !have_core) {
    set_merr(err, err_len, "the core binary is not among the mappings in /proc/self/maps");
    goto done;
  }
  if (exe_path != NULL) {
    if (n_objs == MAX_OBJECTS) {
      set_merr(err, err_len, "more than %u mapped objects", MAX_OBJECTS);
      goto done;
    }
    objs[n_objs].path = strdup(exe_path);
    if (objs[n_objs].path == NULL) {
      set_merr(err, err_len, "out of memory");
      goto done;
    }
    objs[n_objs++].is_core = 1;
  }

  for (size_t i = 0; i < n_objs; i++) {
    uint8_t h[32];
    /* The executable is read through /proc/self/exe: the file this process runs,
     * even if its path has been replaced since. */
    const char *src = objs[i].is_core && exe_path == NULL ? "/proc/self/exe" : objs[i].path;
    if (tkms_platform_measure_file(src, h) != 0) {
      set_merr(err, err_len, "cannot read %s to measure it: %s", objs[i].path, strerror(errno));
      goto done;
    }
    const char *base = strrchr(objs[i].path, '/');
    base = base != NULL ? base + 1 : objs[i].path;
    size_t bl = strlen(base);
    if (bl == 0 || bl > MAX_NAME || strpbrk(base, "\t\n") != NULL) {
      set_merr(err, err_len, "cannot measure %s: its name is empty, too long or has a tab",
               objs[i].path);
      goto done;
    }
    char hex[65];
    static const char digits[] = "0123456789abcdef";
    for (size_t k = 0; k < 32; k++) {
      hex[2 * k] = digits[h[k] >> 4];
      hex[2 * k + 1] = digits[h[k] & 15];
    }
    hex[64] = '\0';
    char buf[MAX_NAME + 80];
    /* The core's own file name says nothing about what it is (a kept copy, a
     * renamed test build): its line always names it tkms-enclave. */
    snprintf(buf, sizeof buf, "%s\t%s\t%s\n", objs[i].is_core ? "core" : "lib",
             objs[i].is_core ? "tkms-enclave" : base, hex);
    lines[n_lines] = strdup(buf);
    if (lines[n_lines] == NULL) {
      set_merr(err, err_len, "out of memory");
      goto done;
    }
    n_lines++;
  }
  qsort(lines, n_lines, sizeof lines[0], cmp_lines);

  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  size_t used = 0;
  int fits = manifest != NULL && cap > 0;
  for (size_t i = 0; i <= n_lines; i++) {
    const char *l = i == 0 ? MANIFEST_HEADER : lines[i - 1];
    size_t ll = strlen(l);
    crypto_hash_sha256_update(&st, (const uint8_t *)l, ll);
    if (fits && used + ll < cap) {
      memcpy(manifest + used, l, ll);
      used += ll;
    } else {
      fits = 0;
    }
  }
  crypto_hash_sha256_final(&st, out);
  if (manifest != NULL) {
    if (!fits) {
      set_merr(err, err_len, "the manifest does not fit in %zu bytes", cap);
      goto done;
    }
    manifest[used] = '\0';
    if (manifest_len != NULL) *manifest_len = used;
  }
  rc = 0;
done:
  free(line);
  fclose(maps);
  for (size_t i = 0; i < n_objs; i++) free(objs[i].path);
  for (size_t i = 0; i < n_lines; i++) free(lines[i]);
  return rc;
}
