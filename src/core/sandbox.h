/* src/core/sandbox.h — hardening the core process.
 *
 * tkms_harden_early: before any secret exists — die with the parent, no core
 * dumps, not ptrace-able or readable via /proc by other same-uid processes
 * (PR_SET_DUMPABLE 0), SIGPIPE ignored (a host that closes a socket must not kill
 * the core mid-write), and mlockall when the memory-lock limit allows it
 * (otherwise secrets still live in sodium_malloc'd locked pages).
 *
 * tkms_sandbox_preload: what libraries would otherwise do lazily on first use,
 * which the sandbox would kill: OpenSSL reads its configuration file and loads
 * its default provider and digests.
 *
 * tkms_sandbox_install: after every file is open — a seccomp allowlist applied
 * to all threads (TSYNC); anything else kills the process. needs are the
 * platform's TKMS_SANDBOX_* bits (platform/platform.h): the few extra syscalls
 * its functions make after open(), and nothing for the sim platform. */
#ifndef TKMS_CORE_SANDBOX_H
#define TKMS_CORE_SANDBOX_H
#include <stddef.h>

int tkms_harden_early(char *err, size_t err_len);
int tkms_sandbox_preload(char *err, size_t err_len);
int tkms_sandbox_install(unsigned needs, char *err, size_t err_len);
#endif
