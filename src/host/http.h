/* src/host/http.h — the HTTP front end (libmicrohttpd): listening, limits,
 * body accumulation, content-type checks, dispatch to routes.c, access log. */
#ifndef TKMS_HOST_HTTP_H
#define TKMS_HOST_HTTP_H

#include "host/routes.h"

typedef struct tkms_http tkms_http;

typedef struct {
  const char *listen;    /* HOST:PORT or [V6]:PORT; port 0 = any free port */
  unsigned http_threads; /* MHD threads: parse requests, never block */
  unsigned workers;      /* threads that run the routes waiting on the core or the
                            store (one synchronous core socket each) */
  unsigned max_connections;
  tkms_host *host;
} tkms_http_config;

/* Binds exactly the given address and starts serving. *port gets the bound
 * port. Returns 0, or -1 with a message printed to stderr. */
int tkms_http_start(const tkms_http_config *cfg, tkms_http **out, unsigned *port);
/* Stops accepting, finishes in-flight requests and frees everything. */
void tkms_http_stop(tkms_http *h);

#endif
