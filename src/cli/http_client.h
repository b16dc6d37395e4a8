/* src/cli/http_client.h — the CLI's one way to talk to tkms: JSON over HTTP(S)
 * via libcurl, with bounded response size, timeouts and no redirects (a redirect
 * would carry a signed request body to a server the user did not name). */
#ifndef TKMS_CLI_HTTP_CLIENT_H
#define TKMS_CLI_HTTP_CLIENT_H
#include <jansson.h>

/* Larger answers are refused: a page of 100 keys is far below this. */
#define TKMS_CLI_MAX_RESPONSE (4u << 20)

typedef struct {
  long status;  /* HTTP status */
  json_t *json; /* the parsed body, or NULL if it was empty or not JSON */
} tkms_cli_response;

/* Call once before any request; returns 0 or -1. */
int tkms_cli_http_init(void);
void tkms_cli_http_cleanup(void);

/* Sends method base_url + path (path starts with "/", query already escaped)
 * with body as JSON (or no body if NULL). Answers 503 with "retryable": true
 * are retried a few times with backoff, which is safe because a refused
 * request changes nothing. Returns 0 when an HTTP answer arrived (any status;
 * free it with tkms_cli_response_free), or -1 after printing why. */
int tkms_cli_http(const char *base_url, const char *method, const char *path, const json_t *body,
                  tkms_cli_response *resp);

void tkms_cli_response_free(tkms_cli_response *resp);

/* Percent-encodes s for a URL query value or path segment (RFC 3986 unreserved
 * characters stay). Returns a malloc'd string or NULL. */
char *tkms_cli_url_escape(const char *s);
#endif
