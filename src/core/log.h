/* src/core/log.h — the core's log: stderr, one line per call, prefixed
 * "tkms-enclave: ". Never pass a secret. Uses only write(2), which the sandbox allows. */
#ifndef TKMS_CORE_LOG_H
#define TKMS_CORE_LOG_H
__attribute__((format(printf, 1, 2))) void tkms_log(const char *fmt, ...);
#endif
