/* src/host/http.c — libmicrohttpd front end; see http.h.
 *
 * Limits enforced here: connections (MHD_OPTION_CONNECTION_LIMIT), idle time
 * (10 s), total time to send a body (10 s), header memory per connection,
 * body size (64 KiB, 413), content type (415). Route errors (404, 405),
 * mistyped bodies and bodies declared larger than DRAIN_MAX are answered
 * before the body is read; a smaller oversized body is read and dropped
 * first, so its 413 is not lost in a connection reset.
 *
 * Threads. Each HTTP thread is an event loop with its own MHD daemon (all
 * accept on the one listening socket) that polls, besides its connections,
 * the pipelined core sockets it owns (core.h: socket k belongs to loop
 * k mod --http-threads). A signing request is checked and its frame queued
 * on a core socket; its connection waits suspended until the owner of that
 * socket reads the answer and resumes it. So signing needs no thread but
 * the loops, and a batch of answers costs one read(2). Requests that wait
 * for the core or the store synchronously run on the --workers pool. */
#include "host/http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_TIMEOUT_S 10u
/* Headers and I/O buffers per connection (bodies are copied out as they
 * arrive). MHD zeroes the whole pool for every request, so it is kept small:
 * 16 KiB costs about 0.5 us per request, 64 KiB about 2 us. */
#define CONN_MEMORY_LIMIT (16u * 1024u)
#define DRAIN_MAX (4u * 1024u * 1024u) /* a larger declared body gets its 413 at once */
#define MAX_LOOPS 16
#define LOOP_PIPES_MAX 8 /* core sockets one loop may own (serve allows 8 in all) */
#define TICK_MS 1000     /* how often a loop checks its core sockets for a wedged core */
#define DRAIN_ROUNDS 50  /* at most 50 x 10 ms to write the last answers when stopping */

/* epoll tags of a loop's fds; a core socket is TAG_PIPE + its index. */
enum { TAG_MHD = 0, TAG_WAKE = 1, TAG_PIPE = 2 };

/* One HTTP thread: an event loop over an MHD daemon and its core sockets. */
typedef struct http_loop {
  tkms_http *h;
  struct MHD_Daemon *d;
  int ep;      /* epoll: the daemon's epoll fd, wake, the owned core sockets */
  int wake_fd; /* eventfd: a core socket changed, or stop */
  pthread_t thread;
  int started;
  unsigned pipes[LOOP_PIPES_MAX]; /* the core sockets this loop owns */
  unsigned n_pipes;
  int reg_fd[LOOP_PIPES_MAX]; /* the fd registered in ep, or -1 */
  unsigned reg_gen[LOOP_PIPES_MAX];
  int quiesced;
} http_loop;

struct tkms_http {
  http_loop loops[MAX_LOOPS];
  unsigned n_loops;
  atomic_int quit; /* the loops exit */
  /* The loops wait for start_state: 1 all set up (serve), -1 start failed. */
  pthread_mutex_t start_mu;
  pthread_cond_t start_cv;
  int start_state;
  tkms_host *host;
  /* Deferred requests (routes.h): suspended connections waiting for the core.
   * MHD_stop_daemon must not meet one, so stop sets stopping and waits for
   * suspended to reach 0; a handler counts itself in before it looks at
   * stopping, so one of the two always sees the other. */
  atomic_int suspended;
  atomic_int stopping;
  /* The blocking pool: routes that wait for the core or the store run on these
   * threads (suspended connections queued FIFO), so the HTTP threads never
   * block and can be few. */
  unsigned n_pool;
  pthread_t *pool;
  pthread_mutex_t pool_mu;
  pthread_cond_t pool_cv;
  struct req_ctx *pool_head, *pool_tail;
  int pool_quit;
};

enum { DEF_NONE, DEF_WAITING, DEF_ANSWERED, DEF_RERUN };

/* Per-request state, allocated on the first callback. */
typedef struct req_ctx {
  tkms_route route;
  int responded;
  int too_large;
  int has_body; /* Content-Length > 0 or a Transfer-Encoding */
  char *body;
  size_t len, cap;
  struct timespec t0;
  unsigned status;
  tkms_resp early;  /* an error decided before the body was read */
  int deferred;     /* DEF_*: a deferred route's progress */
  tkms_resp answer; /* its answer (DEF_ANSWERED) */
  struct MHD_Connection *conn;
  tkms_http *http;
  struct http_loop *loop; /* the loop whose daemon has the connection */
  tkms_req req;           /* for a pool thread (its pointers live in this struct) */
  struct req_ctx *next;   /* in the pool's queue */
  char method[16];
  char path[256];
} req_ctx;

const char *tkms_req_query(const tkms_req *req, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND,
                                     name);
}

static long long elapsed_us(const req_ctx *rc) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)(now.tv_sec - rc->t0.tv_sec) * 1000000LL +
         (now.tv_nsec - rc->t0.tv_nsec) / 1000;
}

static enum MHD_Result queue(struct MHD_Connection *conn, req_ctx *rc, tkms_resp *r) {
  if (r->body == NULL) tkms_resp_error(r, 500, "internal", "no response was produced");
  struct MHD_Response *mr = MHD_create_response_from_buffer(
      r->len, r->body, r->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
  if (mr == NULL) {
    tkms_resp_clear(r);
    return MHD_NO;
  }
  r->body = NULL; /* MHD owns it now */
  r->len = 0;
  MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
  if (r->allow) MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, r->allow);
  if (r->close) MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ok = MHD_queue_response(conn, r->status, mr);
  MHD_destroy_response(mr);
  if (ok == MHD_YES) {
    rc->responded = 1;
    rc->status = r->status;
  }
  return ok;
}

/* Answers now if MHD allows it (it does before the body is read, and then
 * closes the connection instead of reading the body); otherwise keeps the
 * error for the end of the request. */
static enum MHD_Result early_error(struct MHD_Connection *conn, req_ctx *rc, unsigned status,
                                   const char *code, const char *msg, const char *allow) {
  /* Without a body there is nothing to skip: answer at the normal point so the
   * connection stays alive. */
  if (!rc->has_body) {
    tkms_resp_error(&rc->early, status, code, msg);
    rc->early.allow = allow;
    return MHD_YES;
  }
  tkms_resp r = {0};
  tkms_resp_error(&r, status, code, msg);
  r.allow = allow;
  if (queue(conn, rc, &r) == MHD_YES) return MHD_YES;
  /* MHD declined to answer before the body: answer when it has been read. */
  tkms_resp_error(&rc->early, status, code, msg);
  rc->early.allow = allow;
  return MHD_YES;
}

static int is_json_type(const char *ct) {
  static const char want[] = "application/json";
  if (ct == NULL || strncasecmp(ct, want, sizeof want - 1) != 0) return 0;
  char next = ct[sizeof want - 1];
  return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

static enum MHD_Result first_call(struct MHD_Connection *conn, req_ctx *rc, const char *url,
                                  const char *method) {
  const char *cl =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  const char *te =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  unsigned long long clen = 0;
  if (cl != NULL) {
    char *end;
    errno = 0;
    clen = strtoull(cl, &end, 10);
    if (errno != 0 || *end != '\0') clen = ~0ull;
  }
  rc->has_body = clen > 0 || te != NULL;
  const char *allow = NULL;
  int m = tkms_route_match(method, url, &rc->route, &allow);
  if (m == TKMS_ROUTE_NOT_FOUND)
    return early_error(conn, rc, 404, "not_found", "no such route", NULL);
  if (m == TKMS_ROUTE_BAD_METHOD) {
    char msg[96];
    snprintf(msg, sizeof msg, "this route accepts %s", allow);
    return early_error(conn, rc, 405, "method_not_allowed", msg, allow);
  }
  if (clen > TKMS_MAX_BODY) {
    /* Up to DRAIN_MAX the body is read and dropped and 413 sent after it:
     * answering first and closing with unread bytes makes the kernel reset
     * the connection, and the client may never see the 413. Larger bodies
     * are refused at once (the request timeout bounds a drain either way). */
    if (clen <= DRAIN_MAX && rc->route.takes_body) {
      rc->too_large = 1;
      return MHD_YES;
    }
    char msg[64];
    snprintf(msg, sizeof msg, "the body is larger than %u bytes", TKMS_MAX_BODY);
    return early_error(conn, rc, 413, "body_too_large", msg, NULL);
  }
  if (rc->route.takes_body && rc->has_body) {
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_type(ct))
      return early_error(conn, rc, 415, "unsupported_media_type",
                         "the body must be sent with Content-Type: application/json", NULL);
  }
  if (clen > 0) {
    rc->body = malloc(clen);
    if (rc->body == NULL) return MHD_NO;
    rc->cap = clen;
  }
  return MHD_YES;
}

static int append(req_ctx *rc, const char *data, size_t n) {
  if (n > TKMS_MAX_BODY - rc->len) {
    rc->too_large = 1;
    free(rc->body);
    rc->body = NULL;
    rc->len = rc->cap = 0;
    return 0;
  }
  if (rc->len + n > rc->cap) {
    size_t cap = rc->cap ? rc->cap : 1024;
    while (cap < rc->len + n) cap *= 2;
    if (cap > TKMS_MAX_BODY) cap = TKMS_MAX_BODY;
    char *b = realloc(rc->body, cap);
    if (b == NULL) return -1;
    rc->body = b;
    rc->cap = cap;
  }
  memcpy(rc->body + rc->len, data, n);
  rc->len += n;
  return 0;
}

static void loop_wake(void *arg);
static _Thread_local struct http_loop *this_loop; /* set on a loop's own thread */

/* A deferred request's outcome (DEF_ANSWERED with rc->answer set, or
 * DEF_RERUN), from the thread that produced it: the connection runs again. */
static void finish_deferred(req_ctx *rc, int state) {
  tkms_http *h = rc->http;
  struct http_loop *l = rc->loop;
  struct MHD_Connection *conn = rc->conn;
  rc->deferred = state;
  /* rc may be gone as soon as the connection runs again. */
  MHD_resume_connection(conn);
  /* From another thread, wake the connection's loop ourselves: MHD 0.9.75
   * looks for resumed connections before the epoll_wait that clears its
   * wake-up signal, and MHD_get_timeout ignores them, so a resume that lands
   * while its loop is inside MHD_run can wait for the loop's next timeout.
   * Its own loop runs MHD next anyway. */
  if (l != this_loop) loop_wake(l);
  atomic_fetch_sub(&h->suspended, 1);
}

/* Queues a suspended, counted connection for a pool thread. */
static void pool_push(tkms_http *h, req_ctx *rc, const tkms_req *req) {
  rc->req = *req;
  rc->next = NULL;
  pthread_mutex_lock(&h->pool_mu);
  if (h->pool_tail != NULL)
    h->pool_tail->next = rc;
  else
    h->pool_head = rc;
  h->pool_tail = rc;
  pthread_cond_signal(&h->pool_cv);
  pthread_mutex_unlock(&h->pool_mu);
}

static void *pool_main(void *arg) {
  tkms_http *h = arg;
  for (;;) {
    pthread_mutex_lock(&h->pool_mu);
    while (h->pool_head == NULL && !h->pool_quit) pthread_cond_wait(&h->pool_cv, &h->pool_mu);
    req_ctx *rc = h->pool_head;
    if (rc != NULL) {
      h->pool_head = rc->next;
      if (h->pool_head == NULL) h->pool_tail = NULL;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (rc == NULL) break; /* quit, and nothing is queued */
    tkms_route_run(&rc->req, &rc->answer);
    finish_deferred(rc, DEF_ANSWERED);
  }
  return NULL;
}

/* Runs the route on a pool thread; the connection waits suspended. */
static enum MHD_Result to_pool(tkms_http *h, struct MHD_Connection *conn, req_ctx *rc,
                               tkms_req *req) {
  atomic_fetch_add(&h->suspended, 1);
  if (atomic_load(&h->stopping)) {
    /* Stopping: nothing new may be suspended; answer here. */
    atomic_fetch_sub(&h->suspended, 1);
    tkms_resp resp = {0};
    tkms_route_run(req, &resp);
    enum MHD_Result ok = queue(conn, rc, &resp);
    tkms_resp_clear(&resp);
    return ok;
  }
  rc->deferred = DEF_WAITING;
  rc->conn = conn;
  rc->http = h;
  rc->loop = this_loop;
  MHD_suspend_connection(conn);
  pool_push(h, rc, req);
  return MHD_YES;
}

/* A deferred route's answer, on the thread that owns its core socket. */
static void on_deferred(void *ctx, tkms_resp *resp) {
  req_ctx *rc = ctx;
  if (resp != NULL) {
    rc->answer = *resp; /* takes the body */
    memset(resp, 0, sizeof *resp);
  }
  finish_deferred(rc, resp != NULL ? DEF_ANSWERED : DEF_RERUN);
}

/* Checks the request and builds its frame here, then suspends the connection
 * until the core's answer comes back (on_deferred), so this thread serves
 * other connections meanwhile. Suspend comes first: the answer may arrive
 * before submit returns. */
static enum MHD_Result defer(tkms_http *h, struct MHD_Connection *conn, req_ctx *rc,
                             tkms_req *req) {
  tkms_resp resp = {0};
  atomic_fetch_add(&h->suspended, 1);
  if (atomic_load(&h->stopping)) {
    atomic_fetch_sub(&h->suspended, 1);
    tkms_route_run(req, &resp);
  } else {
    tkms_route_job *j = tkms_route_prepare(req, &resp);
    if (j != NULL) {
      rc->deferred = DEF_WAITING;
      rc->conn = conn;
      rc->http = h;
      rc->loop = this_loop;
      MHD_suspend_connection(conn);
      if (tkms_route_job_submit(h->host, j, on_deferred, rc) == 0) return MHD_YES;
      /* Not queued (pipes full, core restarting): the usual way, on the pool
       * (still suspended and counted). */
      pool_push(h, rc, req);
      return MHD_YES;
    }
    atomic_fetch_sub(&h->suspended, 1);
  }
  enum MHD_Result ok = queue(conn, rc, &resp);
  tkms_resp_clear(&resp);
  return ok;
}

static void copy_printable(char *dst, size_t cap, const char *src) {
  size_t j = 0;
  for (size_t i = 0; src && src[i] && j + 1 < cap; i++) dst[j++] = src[i];
  dst[j] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
  tkms_http *h = cls;
  req_ctx *rc = *con_cls;
  if (rc == NULL) {
    rc = calloc(1, sizeof *rc);
    if (rc == NULL) return MHD_NO;
    *con_cls = rc;
    clock_gettime(CLOCK_MONOTONIC, &rc->t0);
    copy_printable(rc->method, sizeof rc->method, method);
    copy_printable(rc->path, sizeof rc->path, url);
    return first_call(conn, rc, url, method);
  }
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    /* A client that trickles its body is dropped (the idle timeout alone
     * would let it hold a connection indefinitely). */
    if (elapsed_us(rc) > (long long)REQUEST_TIMEOUT_S * 1000000LL) return MHD_NO;
    if (rc->responded || rc->early.body || rc->too_large) return MHD_YES; /* discard */
    return append(rc, upload_data, n) == 0 ? MHD_YES : MHD_NO;
  }
  if (rc->responded) return MHD_YES;
  if (rc->early.body) return queue(conn, rc, &rc->early);
  if (rc->too_large) {
    tkms_resp r = {0};
    char msg[64];
    snprintf(msg, sizeof msg, "the body is larger than %u bytes", TKMS_MAX_BODY);
    tkms_resp_error(&r, 413, "body_too_large", msg);
    return queue(conn, rc, &r);
  }
  tkms_req req = {
      .host = h->host, .route = &rc->route, .body = rc->body, .body_len = rc->len, .conn = conn};
  if (rc->deferred == DEF_ANSWERED) return queue(conn, rc, &rc->answer);
  if (rc->deferred == DEF_NONE && atomic_load(&h->stopping)) {
    /* Stopping: a new request is not started (it would run on this loop and
     * hold up the answers of those that were); the client retries elsewhere
     * or after the restart. */
    tkms_resp r = {0};
    tkms_resp_error(&r, 503, "stopping", "the service is stopping; retry");
    r.close = 1;
    return queue(conn, rc, &r);
  }
  if (rc->deferred == DEF_NONE && tkms_route_defers(&rc->route) &&
      tkms_core_pipelined(h->host->core))
    return defer(h, conn, rc, &req);
  if (h->n_pool > 0 && !tkms_route_inline(&rc->route))
    return to_pool(h, conn, rc, &req); /* also DEF_RERUN */
  tkms_resp resp = {0};
  tkms_route_run(&req, &resp);
  enum MHD_Result ok = queue(conn, rc, &resp);
  tkms_resp_clear(&resp);
  return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  req_ctx *rc = *con_cls;
  if (rc == NULL) return;
  tkms_access_log(rc->method, rc->path, rc->status, elapsed_us(rc));
  tkms_resp_clear(&rc->early);
  tkms_resp_clear(&rc->answer);
  if (rc->body) {
    explicit_bzero(rc->body, rc->cap);
    free(rc->body);
  }
  free(rc);
  *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  char buf[256];
  vsnprintf(buf, sizeof buf, fmt, ap);
  size_t n = strlen(buf);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  fprintf(stderr, "tkms: http: %s\n", buf);
}

/* Parses HOST:PORT or [V6]:PORT, binds exactly that address and listens. */
static int open_listener(const char *spec, int *fd_out, unsigned *port_out, int *v6) {
  char buf[300], *host, *port;
  if (strlen(spec) >= sizeof buf) return -1;
  strcpy(buf, spec);
  if (buf[0] == '[') {
    char *close = strchr(buf, ']');
    if (close == NULL || close[1] != ':') return -1;
    *close = '\0';
    host = buf + 1;
    port = close + 2;
  } else {
    char *colon = strrchr(buf, ':');
    if (colon == NULL) return -1;
    *colon = '\0';
    host = buf;
    port = colon + 1;
    if (strchr(host, ':') != NULL) return -1; /* IPv6 must be bracketed */
  }
  if (*host == '\0' || *port == '\0' || strspn(port, "0123456789") != strlen(port) ||
      strlen(port) > 5 || atoi(port) > 65535)
    return -1;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    fprintf(stderr, "tkms: cannot resolve %s: %s\n", host, gai_strerror(gai));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0) {
      *v6 = ai->ai_family == AF_INET6;
      break;
    }
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    fprintf(stderr, "tkms: cannot listen on %s: %s\n", spec, strerror(err));
    return -2;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
    close(fd);
    return -2;
  }
  *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  *fd_out = fd;
  return 0;
}

/* Joins the pool threads once nothing is queued (callers make sure nothing
 * more can be). */
static void stop_pool(tkms_http *h) {
  pthread_mutex_lock(&h->pool_mu);
  h->pool_quit = 1;
  pthread_cond_broadcast(&h->pool_cv);
  pthread_mutex_unlock(&h->pool_mu);
  for (unsigned i = 0; i < h->n_pool; i++) pthread_join(h->pool[i], NULL);
  free(h->pool);
  h->pool = NULL;
  h->n_pool = 0;
  pthread_cond_destroy(&h->pool_cv);
  pthread_mutex_destroy(&h->pool_mu);
}

static void loop_wake(void *arg) {
  http_loop *l = arg;
  uint64_t one = 1;
  ssize_t w = write(l->wake_fd, &one, sizeof one);
  (void)w; /* a full counter already wakes the loop */
}

/* Registers the current fd of each owned core socket (it changes when the
 * core restarts; the generation tells a new socket that got an old number). */
static void loop_sync_pipes(http_loop *l) {
  tkms_core *c = l->h->host->core;
  for (unsigned k = 0; k < l->n_pipes; k++) {
    unsigned gen;
    int fd = tkms_core_pipe_fd(c, l->pipes[k], &gen);
    if (fd == l->reg_fd[k] && gen == l->reg_gen[k]) continue;
    /* The old socket is closed (a socket changes only after its owner, this
     * thread, closed it), so it has left the epoll set by itself. Never DEL
     * by the remembered number: it may belong to another socket by now. */
    l->reg_fd[k] = -1;
    l->reg_gen[k] = gen;
    if (fd < 0) continue;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_PIPE + k};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == 0 ||
        (errno == EEXIST && epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0)) {
      l->reg_fd[k] = fd;
    } else {
      fprintf(stderr, "tkms: http: cannot poll a core socket: %s\n", strerror(errno));
    }
  }
}

static int loop_timeout_ms(http_loop *l) {
  MHD_UNSIGNED_LONG_LONG t;
  if (MHD_get_timeout(l->d, &t) == MHD_YES && t < TICK_MS) return (int)t;
  return TICK_MS;
}

/* Stops accepting: MHD hands back this daemon's copy of the listening socket,
 * closed here, so once every loop has done it new connections are refused at
 * once. Only on the loop's thread (or when it no longer runs): MHD_run must
 * not run meanwhile. */
static void loop_quiesce(http_loop *l) {
  if (l->quiesced || l->d == NULL) return;
  MHD_socket fd = MHD_quiesce_daemon(l->d);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  l->quiesced = 1;
}

static void *loop_main(void *arg) {
  http_loop *l = arg;
  tkms_http *h = l->h;
  tkms_core *c = h->host->core;
  this_loop = l;
  /* No loop serves before every loop is set up: a failed start stops them
   * with nothing suspended. */
  pthread_mutex_lock(&h->start_mu);
  while (h->start_state == 0) pthread_cond_wait(&h->start_cv, &h->start_mu);
  int go = h->start_state > 0;
  pthread_mutex_unlock(&h->start_mu);
  if (!go) return NULL;
  struct timespec last_tick;
  clock_gettime(CLOCK_MONOTONIC, &last_tick);
  for (;;) {
    if (atomic_load(&h->stopping)) loop_quiesce(l);
    int quit = atomic_load(&h->quit);
    loop_sync_pipes(l);
    struct epoll_event evs[16];
    int n = epoll_wait(l->ep, evs, 16, quit ? 0 : loop_timeout_ms(l));
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      if (tag == TAG_WAKE) {
        uint64_t v;
        ssize_t r = read(l->wake_fd, &v, sizeof v);
        (void)r;
      } else if (tag >= TAG_PIPE && tag - TAG_PIPE < l->n_pipes) {
        tkms_core_pipe_read(c, l->pipes[tag - TAG_PIPE]);
      }
    }
    /* Every connection that is ready, resumed ones among them: their requests
     * run (signing ones are queued on a core socket), their answers go out. */
    MHD_run(l->d);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - last_tick.tv_sec) * 1000 + (now.tv_nsec - last_tick.tv_nsec) / 1000000 >=
        TICK_MS) {
      for (unsigned k = 0; k < l->n_pipes; k++) tkms_core_pipe_tick(c, l->pipes[k]);
      last_tick = now;
    }
    if (quit) break;
  }
  /* On quit nothing is suspended any more, but the MHD_run that resumed the
   * last connections only queued their answers; the next rounds write them.
   * MHD's timeout is 0 while a connection is ready for work. Bounded. */
  for (int round = 0; round < DRAIN_ROUNDS; round++) {
    MHD_UNSIGNED_LONG_LONG t;
    if (MHD_get_timeout(l->d, &t) != MHD_YES || t > 0) break;
    struct epoll_event evs[16];
    epoll_wait(l->ep, evs, 16, 10);
    MHD_run(l->d);
  }
  return NULL;
}

/* Stops and frees what loop_start made (the thread must not be running). */
static void loop_free(tkms_http *h, http_loop *l) {
  if (l->d != NULL) {
    loop_quiesce(l);
    MHD_stop_daemon(l->d);
  }
  l->d = NULL;
  for (unsigned k = 0; k < l->n_pipes; k++) tkms_core_pipe_disown(h->host->core, l->pipes[k]);
  l->n_pipes = 0;
  if (l->ep >= 0) close(l->ep);
  if (l->wake_fd >= 0) close(l->wake_fd);
  l->ep = l->wake_fd = -1;
}

/* Loop i of n: its daemon (a share of the connections), the core sockets
 * k = i mod n, its epoll set. Not yet its thread. */
static int loop_setup(tkms_http *h, unsigned i, unsigned n, const tkms_http_config *cfg,
                      int listen_fd, int v6) {
  http_loop *l = &h->loops[i];
  l->h = h;
  l->ep = epoll_create1(EPOLL_CLOEXEC);
  l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->ep < 0 || l->wake_fd < 0) return -1;
  /* Each daemon gets its own copy of the listening socket, which it closes
   * when it quiesces (loop_quiesce). If MHD_start_daemon fails, the copy is
   * left alone (MHD may have closed it already): one descriptor at worst,
   * on a start that fails anyway. */
  int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return -1;
  unsigned conns = cfg->max_connections / n + (i < cfg->max_connections % n ? 1 : 0);
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_TURBO |
                   MHD_ALLOW_SUSPEND_RESUME | (v6 ? MHD_USE_IPv6 : 0);
  l->d = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)conns,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)REQUEST_TIMEOUT_S,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, h, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_SIGPIPE_HANDLED_BY_APP,
      (int)1, MHD_OPTION_END);
  if (l->d == NULL) return -1;
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_MHD};
  if (di == NULL || epoll_ctl(l->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev) != 0) return -1;
  ev.data.u64 = TAG_WAKE;
  if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0) return -1;
  tkms_core *c = h->host->core;
  for (unsigned k = i; k < tkms_core_pipes(c); k += n) {
    if (l->n_pipes == LOOP_PIPES_MAX || tkms_core_pipe_own(c, k, loop_wake, l) != 0) return -1;
    l->reg_fd[l->n_pipes] = -1;
    l->pipes[l->n_pipes++] = k;
  }
  return 0;
}

/* Ends the loops (they finish the round they are in and write what is left
 * to write), then frees them. */
static void loops_quit(tkms_http *h) {
  atomic_store(&h->quit, 1);
  for (unsigned i = 0; i < h->n_loops; i++) {
    http_loop *l = &h->loops[i];
    if (l->started) {
      loop_wake(l);
      pthread_join(l->thread, NULL);
      l->started = 0;
    }
  }
  for (unsigned i = 0; i < h->n_loops; i++) loop_free(h, &h->loops[i]);
}

static void set_start_state(tkms_http *h, int state) {
  pthread_mutex_lock(&h->start_mu);
  h->start_state = state;
  pthread_cond_broadcast(&h->start_cv);
  pthread_mutex_unlock(&h->start_mu);
}

int tkms_http_start(const tkms_http_config *cfg, tkms_http **out, unsigned *port) {
  int fd, v6 = 0;
  if (cfg->http_threads == 0 || cfg->http_threads > MAX_LOOPS ||
      cfg->max_connections < cfg->http_threads) {
    fprintf(stderr, "tkms: 1..%u HTTP threads, and at least one connection each\n", MAX_LOOPS);
    return -1;
  }
  if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
    fprintf(stderr, "tkms: this libmicrohttpd has no epoll support\n");
    return -1;
  }
  int r = open_listener(cfg->listen, &fd, port, &v6);
  if (r == -1) fprintf(stderr, "tkms: --listen must be HOST:PORT or [IPV6]:PORT\n");
  if (r != 0) return -1;
  tkms_http *h = calloc(1, sizeof *h);
  if (h == NULL) {
    close(fd);
    return -1;
  }
  h->host = cfg->host;
  pthread_mutex_init(&h->start_mu, NULL);
  pthread_cond_init(&h->start_cv, NULL);
  pthread_mutex_init(&h->pool_mu, NULL);
  pthread_cond_init(&h->pool_cv, NULL);
  h->pool = calloc(cfg->workers, sizeof *h->pool);
  for (unsigned i = 0; h->pool != NULL && i < cfg->workers; i++) {
    if (pthread_create(&h->pool[i], NULL, pool_main, h) != 0) break;
    h->n_pool++;
  }
  int ok = h->n_pool == cfg->workers;
  if (!ok) fprintf(stderr, "tkms: cannot start the worker threads\n");
  for (unsigned i = 0; i < cfg->http_threads; i++) h->loops[i].ep = h->loops[i].wake_fd = -1;
  h->n_loops = cfg->http_threads;
  for (unsigned i = 0; ok && i < h->n_loops; i++) {
    if (loop_setup(h, i, h->n_loops, cfg, fd, v6) != 0) {
      fprintf(stderr, "tkms: cannot start the HTTP server\n");
      ok = 0;
    }
  }
  close(fd); /* the daemons have their copies */
  for (unsigned i = 0; ok && i < h->n_loops; i++) {
    if (pthread_create(&h->loops[i].thread, NULL, loop_main, &h->loops[i]) != 0) {
      fprintf(stderr, "tkms: cannot start the HTTP threads\n");
      ok = 0;
    } else {
      h->loops[i].started = 1;
    }
  }
  /* The loops serve only from here on, and only if all of them can. */
  set_start_state(h, ok ? 1 : -1);
  if (!ok) {
    loops_quit(h);
    stop_pool(h);
    pthread_cond_destroy(&h->start_cv);
    pthread_mutex_destroy(&h->start_mu);
    free(h);
    return -1;
  }
  *out = h;
  return 0;
}

void tkms_http_stop(tkms_http *h) {
  if (h == NULL) return;
  /* The loops stop accepting (each quiesces its own daemon and closes its
   * copy of the listening socket) and answer new requests 503. No
   * connection may stay suspended when MHD_stop_daemon runs: deferred
   * requests finish first (the core is still running; a core that dies
   * fails them, so this ends), while the loops keep running and send their
   * answers. */
  atomic_store(&h->stopping, 1);
  for (unsigned i = 0; i < h->n_loops; i++) loop_wake(&h->loops[i]);
  while (atomic_load(&h->suspended) > 0) {
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
  loops_quit(h);
  stop_pool(h);
  pthread_cond_destroy(&h->start_cv);
  pthread_mutex_destroy(&h->start_mu);
  free(h);
}
