/* src/cli/files.h — reading and writing the CLI's local files (accounts, receipts,
 * payloads) with bounded sizes and without ever overwriting. */
#ifndef TKMS_CLI_FILES_H
#define TKMS_CLI_FILES_H
#include <stddef.h>
#include <stdint.h>

/* Reads a regular file of at most max bytes into a malloc'd buffer with a NUL
 * after the content (not counted in *len). Returns 0, or -1 after printing why. */
int tkms_cli_file_read(const char *path, size_t max, uint8_t **buf, size_t *len);

/* Creates path exclusively (O_EXCL, no symlink followed) with the given mode.
 * Returns a file descriptor, or -1 after printing why (e.g. it already exists). */
int tkms_cli_file_create(const char *path, unsigned mode);

/* Writes all of data to fd, fsyncs and closes it. On failure the file at path is
 * removed so that no half-written file is left. Returns 0, or -1 after printing why. */
int tkms_cli_file_finish(int fd, const char *path, const void *data, size_t len);
#endif
