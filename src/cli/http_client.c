/* src/cli/http_client.c — libcurl wrapper; see http_client.h. */
#include "cli/http_client.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S 60L
#define MAX_ATTEMPTS 4

typedef struct {
  char *buf;
  size_t len;
  int too_big;
} sink;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
  sink *s = ud;
  size_t n = size * nmemb; /* curl documents size as always 1 */
  if (n > TKMS_CLI_MAX_RESPONSE - s->len) {
    s->too_big = 1;
    return 0; /* makes curl abort the transfer */
  }
  char *nb = realloc(s->buf, s->len + n + 1);
  if (nb == NULL) return 0;
  memcpy(nb + s->len, p, n);
  s->buf = nb;
  s->len += n;
  s->buf[s->len] = '\0';
  return n;
}

int tkms_cli_http_init(void) {
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void tkms_cli_http_cleanup(void) {
  curl_global_cleanup();
}

void tkms_cli_response_free(tkms_cli_response *resp) {
  json_decref(resp->json);
  resp->json = NULL;
}

char *tkms_cli_url_escape(const char *s) {
  static const char digits[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  if (n > (SIZE_MAX - 1) / 3) return NULL;
  char *out = malloc(3 * n + 1), *o = out;
  if (out == NULL) return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = digits[*p >> 4];
      *o++ = digits[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

/* The core is restarting or busy: the API marks such answers retryable. */
static int is_retryable(const tkms_cli_response *r) {
  if (r->status != 503 || r->json == NULL) return 0;
  json_t *err = json_object_get(r->json, "error");
  return json_is_true(json_object_get(r->json, "retryable")) ||
         json_is_true(json_object_get(err, "retryable"));
}

static int attempt(CURL *h, const char *url, const char *method, const char *body, size_t body_len,
                   tkms_cli_response *resp) {
  sink s = {NULL, 0, 0};
  struct curl_slist *hdrs = NULL;
  struct curl_slist *h1 = curl_slist_append(hdrs, "Accept: application/json");
  if (h1 == NULL) return -1;
  hdrs = h1;
  if (body != NULL) {
    /* "Expect:" stops curl from waiting for 100-continue on bodies over 1 KiB. */
    h1 = curl_slist_append(hdrs, "Content-Type: application/json");
    if (h1 != NULL) h1 = curl_slist_append(h1, "Expect:");
    if (h1 == NULL) {
      curl_slist_free_all(hdrs);
      return -1;
    }
    hdrs = h1;
  }
  curl_easy_reset(h);
  int setup = curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_USERAGENT, "tkms-cli") != CURLE_OK;
  if (!setup && body != NULL)
    setup = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) != CURLE_OK;
  if (setup) {
    fprintf(stderr, "tkms: cannot set up the HTTP request\n");
    curl_slist_free_all(hdrs);
    return -1;
  }
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hdrs);
  if (rc != CURLE_OK) {
    if (s.too_big)
      fprintf(stderr, "tkms: the answer from %s is larger than %u bytes\n", url,
              TKMS_CLI_MAX_RESPONSE);
    else
      fprintf(stderr, "tkms: %s %s: %s\n", method, url, curl_easy_strerror(rc));
    free(s.buf);
    return -1;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
  resp->json = NULL;
  if (s.len > 0) resp->json = json_loadb(s.buf, s.len, JSON_REJECT_DUPLICATES, NULL);
  free(s.buf);
  return 0;
}

int tkms_cli_http(const char *base_url, const char *method, const char *path, const json_t *body,
                  tkms_cli_response *resp) {
  resp->status = 0;
  resp->json = NULL;
  /* "http://host:port/" and "http://host:port" name the same service. */
  size_t base_len = strlen(base_url);
  while (base_len > 0 && base_url[base_len - 1] == '/') base_len--;
  size_t url_len = base_len + strlen(path) + 1;
  char *url = malloc(url_len);
  if (url == NULL) return -1;
  snprintf(url, url_len, "%.*s%s", (int)base_len, base_url, path);

  char *text = NULL;
  size_t text_len = 0;
  if (body != NULL) {
    text_len = json_dumpb(body, NULL, 0, JSON_COMPACT);
    text = text_len > 0 ? malloc(text_len + 1) : NULL;
    if (text == NULL || json_dumpb(body, text, text_len, JSON_COMPACT) != text_len) {
      fprintf(stderr, "tkms: cannot encode the request body\n");
      free(text);
      free(url);
      return -1;
    }
    text[text_len] = '\0';
  }

  CURL *h = curl_easy_init();
  int rc = -1;
  if (h == NULL) {
    fprintf(stderr, "tkms: cannot start libcurl\n");
  } else {
    struct timespec backoff = {0, 250 * 1000 * 1000};
    for (int i = 0; i < MAX_ATTEMPTS; i++) {
      rc = attempt(h, url, method, text, text_len, resp);
      if (rc != 0 || i + 1 == MAX_ATTEMPTS || !is_retryable(resp)) break;
      tkms_cli_response_free(resp);
      nanosleep(&backoff, NULL);
      backoff.tv_nsec *= 2; /* 0.25 s, 0.5 s, 1 s: a core restart takes about that long */
      if (backoff.tv_nsec >= 1000 * 1000 * 1000) backoff = (struct timespec){1, 0};
    }
    curl_easy_cleanup(h);
  }
  free(text);
  free(url);
  return rc;
}
