/* src/host/time_relay.c — Roughtime relay thread and configuration file
 * reader (see time_relay.h). */
#include "host/time_relay.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/hex.h"
#include "proto/ops.h"

#define MAX_SERVERS 8u
#define NAME_MAX_LEN 32u
#define ADDR_MAX_LEN 64u

/* ---- configuration ----------------------------------------------------------- */

int tkms_rt_config_load(const char *path, int insecure, uint8_t *out, size_t cap, size_t *len) {
  size_t pos = 3;
  unsigned quorum = 0, n = 0;
  if (cap < 3) return -1;
  if (path != NULL) {
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
      fprintf(stderr, "tkms: --roughtime-config %s: %s (line %d)\n", path,
              root ? "not a JSON object" : je.text, je.line);
      json_decref(root);
      return -1;
    }
    json_t *q = json_object_get(root, "quorum"), *servers = json_object_get(root, "servers");
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
      if (strcmp(key, "quorum") != 0 && strcmp(key, "servers") != 0) {
        fprintf(stderr, "tkms: --roughtime-config: unknown field \"%s\"\n", key);
        json_decref(root);
        return -1;
      }
    }
    if (!json_is_integer(q) || !json_is_array(servers) || json_array_size(servers) < 1 ||
        json_array_size(servers) > MAX_SERVERS || json_integer_value(q) < 1 ||
        json_integer_value(q) > (json_int_t)json_array_size(servers)) {
      fprintf(stderr,
              "tkms: --roughtime-config: needs \"quorum\" k and \"servers\" (1..%u of them) with "
              "1 <= k <= number of servers\n",
              MAX_SERVERS);
      json_decref(root);
      return -1;
    }
    quorum = (unsigned)json_integer_value(q);
    n = (unsigned)json_array_size(servers);
    for (unsigned i = 0; i < n; i++) {
      json_t *s = json_array_get(servers, i);
      const char *name = json_string_value(json_object_get(s, "name"));
      const char *addr = json_string_value(json_object_get(s, "address"));
      const char *pk = json_string_value(json_object_get(s, "public_key"));
      uint8_t pkb[32];
      size_t a = name ? strlen(name) : 0, b = addr ? strlen(addr) : 0;
      if (!json_is_object(s) || json_object_size(s) != 3 || a < 1 || a > NAME_MAX_LEN || b < 1 ||
          b > ADDR_MAX_LEN || strchr(addr, ':') == NULL || pk == NULL ||
          tkms_hex_decode_exact(pk, pkb, sizeof pkb) != 0) {
        fprintf(stderr,
                "tkms: --roughtime-config: server %u needs exactly \"name\" (1..%u chars), "
                "\"address\" (\"host:port\", 1..%u chars) and \"public_key\" (0x + 64 hex: the "
                "server's long-term Ed25519 key)\n",
                i, NAME_MAX_LEN, ADDR_MAX_LEN);
        json_decref(root);
        return -1;
      }
      if (cap - pos < 2 + a + b + 32) {
        json_decref(root);
        return -1;
      }
      out[pos++] = (uint8_t)a;
      memcpy(out + pos, name, a);
      pos += a;
      out[pos++] = (uint8_t)b;
      memcpy(out + pos, addr, b);
      pos += b;
      memcpy(out + pos, pkb, 32);
      pos += 32;
    }
    json_decref(root);
  }
  out[0] = insecure ? 1u : 0u;
  out[1] = (uint8_t)quorum;
  out[2] = (uint8_t)n;
  *len = pos;
  return 0;
}

/* ---- the relay ---------------------------------------------------------------- */

struct tkms_time_relay {
  tkms_core *core;
  unsigned interval_s;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
};

/* Sleeps ms unless stopped. Returns 1 if stopping. */
static int nap(tkms_time_relay *r, unsigned ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&r->mu);
  while (!r->stop) {
    if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) break;
  }
  int s = r->stop;
  pthread_mutex_unlock(&r->mu);
  return s;
}

/* A UDP socket connected to "host:port" (the last colon separates the port;
 * [v6]:port accepted). Returns the fd or -1. */
static int udp_connect(const char *spec) {
  char host[ADDR_MAX_LEN + 1];
  size_t n = strlen(spec);
  if (n > ADDR_MAX_LEN) return -1;
  memcpy(host, spec, n + 1);
  char *colon = strrchr(host, ':');
  if (colon == NULL) return -1;
  *colon = '\0';
  const char *port = colon + 1, *h = host;
  if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
    colon[-1] = '\0';
    h = host + 1;
  }
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(h, port, &hints, &ai) != 0 || ai == NULL) return -1;
  int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  return fd;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where a round's two calls go: any free channel of a running core, or one
 * channel the caller already holds (a migration source core). */
typedef struct {
  tkms_core *core;
  tkms_chan *held;
} target;

/* One call to the core. Returns 0 with rep (any status), -1 if unavailable. */
static int call(const target *t, tkms_fw *w, tkms_reply *rep) {
  if (tkms_fw_finish(w) != 0) return -1;
  if (t->held != NULL) return tkms_core_call(t->held, w, rep);
  tkms_chan *ch;
  if (tkms_core_acquire(t->core, &ch) != 0) return -1;
  int r = tkms_core_call(ch, w, rep);
  tkms_core_release(ch);
  return r;
}

enum {
  ROUND_OK = TKMS_RT_ROUND_OK,
  ROUND_FAILED = TKMS_RT_ROUND_FAILED,
  ROUND_UNCONFIGURED = TKMS_RT_ROUND_UNCONFIGURED
};

static int round_on(const target *t) {
  tkms_fw w;
  tkms_reply rep;
  if (tkms_fw_init(&w, TKMS_OP_TIME_REQUEST, 0, 0) != 0) return ROUND_FAILED;
  int cr = call(t, &w, &rep);
  tkms_fw_free(&w);
  if (cr != 0) return ROUND_FAILED;
  if (rep.f.status != TKMS_OK) {
    int st = rep.f.status;
    tkms_reply_free(&rep);
    return st == TKMS_E_BAD_REQUEST ? ROUND_UNCONFIGURED : ROUND_FAILED;
  }
  /* Send each packet to its address, in order. */
  int fds[MAX_SERVERS];
  unsigned n = 0;
  char addr[ADDR_MAX_LEN + 1] = "";
  tkms_field_iter it;
  tkms_field_iter_init(&it, &rep.f);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  while (tkms_field_next(&it, &tag, &v, &len) == 1 && n < MAX_SERVERS) {
    if (tag == TKMS_F_RT_ADDRESS) {
      size_t l = len < ADDR_MAX_LEN ? len : ADDR_MAX_LEN;
      memcpy(addr, v, l);
      addr[l] = '\0';
    } else if (tag == TKMS_F_RT_PACKET) {
      fds[n] = udp_connect(addr);
      if (fds[n] >= 0 && send(fds[n], v, len, 0) != (ssize_t)len) {
        close(fds[n]);
        fds[n] = -1;
      }
      n++;
    }
  }
  tkms_reply_free(&rep);
  /* Collect at most one datagram per server within the wait. */
  uint8_t *got[MAX_SERVERS] = {0};
  size_t got_len[MAX_SERVERS] = {0};
  long long deadline = now_ms() + TKMS_RT_RELAY_WAIT_MS;
  for (;;) {
    struct pollfd p[MAX_SERVERS];
    unsigned map[MAX_SERVERS], np = 0;
    for (unsigned i = 0; i < n; i++) {
      if (fds[i] >= 0 && got[i] == NULL) {
        p[np].fd = fds[i];
        p[np].events = POLLIN;
        map[np++] = i;
      }
    }
    long long left = deadline - now_ms();
    if (np == 0 || left <= 0) break;
    int pr = poll(p, np, (int)left);
    if (pr < 0 && errno != EINTR) break;
    for (unsigned j = 0; pr > 0 && j < np; j++) {
      if (!(p[j].revents & (POLLIN | POLLERR))) continue;
      uint8_t buf[2048];
      ssize_t k = recv(p[j].fd, buf, sizeof buf, 0);
      unsigned i = map[j];
      if (k <= 0) {
        close(fds[i]); /* ICMP unreachable: nothing will come */
        fds[i] = -1;
        continue;
      }
      got[i] = malloc((size_t)k + 1);
      if (got[i] == NULL) continue;
      got[i][0] = (uint8_t)i;
      memcpy(got[i] + 1, buf, (size_t)k);
      got_len[i] = (size_t)k + 1;
    }
  }
  for (unsigned i = 0; i < n; i++) {
    if (fds[i] >= 0) close(fds[i]);
  }
  if (tkms_fw_init(&w, TKMS_OP_TIME_RESPONSE, 0, 0) != 0) return ROUND_FAILED;
  unsigned replies = 0;
  for (unsigned i = 0; i < n; i++) {
    if (got[i] == NULL) continue;
    tkms_fw_bytes(&w, TKMS_F_RT_REPLY, got[i], got_len[i]);
    free(got[i]);
    replies++;
  }
  cr = call(t, &w, &rep);
  tkms_fw_free(&w);
  if (cr != 0) return ROUND_FAILED;
  int ok = rep.f.status == TKMS_OK;
  if (ok) {
    uint8_t q[16];
    uint64_t when = 0;
    if (tkms_frame_get_fixed(&rep.f, TKMS_F_RT_QUORUM, q, sizeof q) == 0 &&
        tkms_frame_get_u64(&rep.f, TKMS_F_TIME, &when) == 0)
      fprintf(stderr, "tkms: roughtime: %u replies; the core accepted a quorum of %u (time %llu)\n",
              replies, tkms_be32_get(q + 8), (unsigned long long)when);
  } else {
    char msg[300];
    tkms_reply_errmsg(&rep, msg, sizeof msg);
    fprintf(stderr, "tkms: roughtime: %u replies; the core refused: %s\n", replies, msg);
  }
  tkms_reply_free(&rep);
  return ok ? ROUND_OK : ROUND_FAILED;
}

static int round_once(tkms_time_relay *r) {
  target t = {r->core, NULL};
  return round_on(&t);
}

int tkms_time_round_held(tkms_chan *ch) {
  target t = {NULL, ch};
  return round_on(&t);
}

/* 1 if the core says its time comes from a Roughtime quorum. */
static int core_trusted(tkms_time_relay *r) {
  tkms_fw w;
  tkms_reply rep;
  uint32_t t = 0;
  target tg = {r->core, NULL};
  if (tkms_fw_init(&w, TKMS_OP_STATUS, 0, 0) != 0) return 0;
  int cr = call(&tg, &w, &rep);
  tkms_fw_free(&w);
  if (cr != 0) return 0;
  if (rep.f.status != TKMS_OK || tkms_frame_get_u32(&rep.f, TKMS_F_RT_TRUSTED, &t) != 0) t = 0;
  tkms_reply_free(&rep);
  return t != 0;
}

static void *relay_main(void *arg) {
  tkms_time_relay *r = arg;
  if (nap(r, 200)) return NULL;
  for (;;) {
    int rc = round_once(r);
    if (rc == ROUND_UNCONFIGURED) return NULL; /* this deployment has no Roughtime */
    /* Every interval; sooner while the core has no quorum (start-up, a failed
     * round, or a restarted core that lost its time). */
    for (unsigned waited = 0; waited < r->interval_s * 1000u; waited += 2000u) {
      if (nap(r, 2000u)) return NULL;
      if (!core_trusted(r)) break;
    }
  }
}

int tkms_time_relay_start(tkms_core *core, unsigned interval_s, tkms_time_relay **out) {
  tkms_time_relay *r = calloc(1, sizeof *r);
  if (r == NULL) return -1;
  r->core = core;
  r->interval_s = interval_s ? interval_s : TKMS_RT_RELAY_DEFAULT_S;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return -1;
  }
  *out = r;
  return 0;
}

void tkms_time_relay_stop(tkms_time_relay *r) {
  if (r == NULL) return;
  pthread_mutex_lock(&r->mu);
  r->stop = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
}
