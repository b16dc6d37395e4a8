/* src/platform/fileio.h — internal to src/platform: the file reads and writes,
 * the measurement of a binary and the host clock that several platforms share.
 * Every function returns 0, or -1 with errno saying why. */
#ifndef TKMS_PLATFORM_FILEIO_H
#define TKMS_PLATFORM_FILEIO_H
#include <stddef.h>
#include <stdint.h>

/* SHA-256 of the file at path, streamed (an ASan core binary is large). The core
 * measurement built from these hashes, tkms_platform_measure_self, is implemented
 * in fileio.c too but declared in platform.h: the core's --measure prints it. */
int tkms_platform_measure_file(const char *path, uint8_t out[32]);

/* Reads all of dir/name (no symlinks) into buf: *len gets its size; a file
 * holding more than cap bytes is refused with EFBIG. */
int tkms_platform_read_at(int dir, const char *name, uint8_t *buf, size_t cap, size_t *len);

/* Writes len bytes to the existing dir/name (no symlinks) and closes it: the
 * kernel interfaces (Gramine's /dev/attestation, configfs-tsm) act on close. */
int tkms_platform_write_at(int dir, const char *name, const uint8_t *buf, size_t len);

/* The host's CLOCK_REALTIME in unix seconds; usable as a platform's now(). The
 * host controls it: platforms say so in their time_source. */
int tkms_platform_host_now(void *ctx, uint64_t *unix_seconds);
#endif
