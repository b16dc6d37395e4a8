/* src/host/errors.h — HTTP responses: the one table from core status codes to
 * HTTP statuses and API error codes (docs/api.md "Errors"), the uniform error
 * body, and the access log.
 *
 * Error bodies are {"error":{"code":"…","message":"…"}} plus "retryable": true
 * on 503. Messages come from the core's F_ERR_MSG or from host validation;
 * neither ever contains a secret or a sealed blob. */
#ifndef TKMS_HOST_ERRORS_H
#define TKMS_HOST_ERRORS_H

#include <jansson.h>
#include <stddef.h>

/* A response under construction: status and a malloc'd JSON body. */
typedef struct {
  unsigned status;
  char *body; /* malloc'd, NUL-terminated JSON; NULL until set */
  size_t len;
  int body_static;   /* body is a static string: do not free */
  int close;         /* send "Connection: close" (the service is stopping) */
  const char *allow; /* "Allow" header for 405, static */
} tkms_resp;

typedef struct {
  unsigned http;
  const char *code;
} tkms_status_map;

/* HTTP status and code for a core status (TKMS_E_*). Unknown → 500 internal. */
const tkms_status_map *tkms_status_for_core(unsigned core_status);

/* Sets resp to the JSON serialisation of obj (steals the reference). On
 * allocation failure resp becomes a fixed 500. */
void tkms_resp_json(tkms_resp *resp, unsigned status, json_t *obj);
/* Sets resp to an error. retryable is added automatically for 503. */
void tkms_resp_error(tkms_resp *resp, unsigned status, const char *code, const char *message);
/* Error from a core status; msg may be NULL (a default sentence is used). */
void tkms_resp_core_error(tkms_resp *resp, unsigned core_status, const char *msg);
/* 503 core_unavailable with a message. */
void tkms_resp_unavailable(tkms_resp *resp, const char *msg);
/* Frees the body. */
void tkms_resp_clear(tkms_resp *resp);

/* One line per request to stderr: method, path, status, microseconds. No
 * bodies, no query strings (they may carry principals of other users). */
/* The access log (access_log.c): one line per request on stderr. Between
 * start() and stop() lines are batched per thread and written at least every
 * TKMS_ACCESS_LOG_FLUSH_MS; otherwise each line is written at once. */
#define TKMS_ACCESS_LOG_FLUSH_MS 100L
void tkms_access_log(const char *method, const char *path, unsigned status, long long micros);
int tkms_access_log_start(void);
void tkms_access_log_stop(void);

#endif
