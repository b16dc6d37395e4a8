/* tests/unit/test_core_time.c — trusted time in the core (core/clock.c): the
 * Roughtime configuration sealed at INIT, TIME_REQUEST/TIME_RESPONSE with a
 * k-of-n quorum, liars, replays, a floor that never goes back (also across a
 * restart), and time_unavailable before the first quorum on a platform that
 * is not the simulation. The test plays the servers: it signs replies with
 * libsodium using its own small encoder. */
#include "test_core_harness.h"

#define T0 1900000000ull /* the servers' idea of now in these tests */

typedef struct {
  uint8_t pk[32], sk[64];
} srv;

static srv S[4];

/* ---- a tiny Roughtime server (draft-14 layout, single-leaf tree) ---------- */

static void w32(uint8_t *p, uint32_t x) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(x >> (8 * i));
}
static void w64(uint8_t *p, uint64_t x) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(x >> (8 * i));
}
#define TAG(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

typedef struct {
  uint32_t tag;
  const uint8_t *v;
  size_t n;
} tv;

static size_t enc(const tv *t, size_t n, uint8_t *out) {
  size_t off = 0, pos = 8 * n;
  w32(out, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    if (i > 0) w32(out + 4 * i, (uint32_t)off);
    w32(out + 4 * n + 4 * i, t[i].tag);
    memcpy(out + pos + off, t[i].v, t[i].n);
    off += t[i].n;
  }
  return pos + off;
}

static void sign_ctx(const char *ctx, const uint8_t *v, size_t n, const uint8_t *sk,
                     uint8_t sig[64]) {
  uint8_t buf[1024];
  size_t cl = strlen(ctx) + 1;
  memcpy(buf, ctx, cl);
  memcpy(buf + cl, v, n);
  crypto_sign_detached(sig, NULL, buf, cl + n, sk);
}

/* The reply of server s to request packet req (its nonce read from req). */
static size_t reply(const srv *s, const uint8_t *req, size_t req_len, uint64_t midp, int bad_sig,
                    uint8_t *out) {
  uint8_t on_pk[32], on_sk[64], full[64], root[32];
  crypto_sign_keypair(on_pk, on_sk);
  uint8_t leaf[1 + 1024];
  leaf[0] = 0;
  memcpy(leaf + 1, req, req_len);
  crypto_hash_sha512(full, leaf, 1 + req_len);
  memcpy(root, full, 32);
  const uint8_t *nonce = req + 12 + 32 + 4; /* VER(4) then NONC in our request layout */
  uint8_t ver[4], radi[4], mp[8], mint[8], maxt[8], type[4], indx[4];
  w32(ver, 0x8000000cu), w32(radi, 2), w64(mp, midp), w64(mint, 0), w64(maxt, UINT64_MAX);
  w32(type, 1), w32(indx, 0);
  uint8_t srep[256], dele[128], cert[256], sig[64], csig[64];
  tv sr[] = {{TAG('V', 'E', 'R', 0), ver, 4},
             {TAG('R', 'A', 'D', 'I'), radi, 4},
             {TAG('M', 'I', 'D', 'P'), mp, 8},
             {TAG('V', 'E', 'R', 'S'), ver, 4},
             {TAG('R', 'O', 'O', 'T'), root, 32}};
  size_t sl = enc(sr, 5, srep);
  tv d[] = {{TAG('P', 'U', 'B', 'K'), on_pk, 32},
            {TAG('M', 'I', 'N', 'T'), mint, 8},
            {TAG('M', 'A', 'X', 'T'), maxt, 8}};
  size_t dl = enc(d, 3, dele);
  sign_ctx("RoughTime v1 delegation signature", dele, dl, s->sk, csig);
  tv c[] = {{TAG('S', 'I', 'G', 0), csig, 64}, {TAG('D', 'E', 'L', 'E'), dele, dl}};
  size_t cl = enc(c, 2, cert);
  sign_ctx("RoughTime v1 response signature", srep, sl, on_sk, sig);
  if (bad_sig) sig[3] ^= 1;
  tv t[] = {{TAG('S', 'I', 'G', 0), sig, 64},    {TAG('N', 'O', 'N', 'C'), nonce, 32},
            {TAG('T', 'Y', 'P', 'E'), type, 4},  {TAG('P', 'A', 'T', 'H'), root, 0},
            {TAG('S', 'R', 'E', 'P'), srep, sl}, {TAG('C', 'E', 'R', 'T'), cert, cl},
            {TAG('I', 'N', 'D', 'X'), indx, 4}};
  size_t ml = enc(t, 7, out + 13);
  memcpy(out + 1, "ROUGHTIM", 8);
  w32(out + 9, (uint32_t)ml);
  return ml + 13; /* out[0] is the server index, set by the caller */
}

/* ---- helpers -------------------------------------------------------------- */

/* Config bytes: flags, k, n, then servers 0..n-1 of S. */
static size_t config(uint8_t flags, uint8_t k, uint8_t n, uint8_t *out) {
  size_t p = 0;
  out[p++] = flags, out[p++] = k, out[p++] = n;
  for (uint8_t i = 0; i < n; i++) {
    char name[8], addr[32];
    snprintf(name, sizeof name, "rt%u", i);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", 2000 + i);
    out[p++] = (uint8_t)strlen(name);
    memcpy(out + p, name, strlen(name));
    p += strlen(name);
    out[p++] = (uint8_t)strlen(addr);
    memcpy(out + p, addr, strlen(addr));
    p += strlen(addr);
    memcpy(out + p, S[i].pk, 32);
    p += 32;
  }
  return p;
}

/* A fresh data directory and a core initialised with cfg (NULL: none), on a
 * platform that is (simulated = 1) or is not the simulation. */
static h_env *setup_with(const uint8_t *cfg, size_t cfg_len, int simulated, int *init_status) {
  assert_int_equal(sodium_init() >= 0, 1);
  assert_int_equal(tkms_secp_init(), 0);
  h_env *e = calloc(1, sizeof *e);
  assert_non_null(e);
  strcpy(e->dir, "/tmp/tkms-test-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  char err[512];
  assert_int_equal(h_open_core(e, 1, err, sizeof err), 0);
  h_ops.simulated = simulated;
  tkms_fw w;
  h_begin(&w, TKMS_OP_INIT);
  if (cfg != NULL) tkms_fw_bytes(&w, TKMS_F_RT_CONFIG, cfg, cfg_len);
  *init_status = h_call(e, &w);
  if (*init_status != TKMS_OK) return e;
  h_commit(e);
  h_read_deployment(e);
  return e;
}

static h_env *setup_rt(int simulated) {
  uint8_t cfg[512];
  int st;
  h_env *e = setup_with(cfg, config(0, 2, 3, cfg), simulated, &st);
  assert_int_equal(st, TKMS_OK);
  return e;
}

typedef struct {
  uint8_t req[4][TKMS_RT_REQUEST_BYTES];
  unsigned n;
} round_t;

static void time_request(h_env *e, round_t *r) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_TIME_REQUEST);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  tkms_field_iter it;
  tkms_field_iter_init(&it, &e->rf);
  uint8_t tag;
  const uint8_t *v;
  size_t n;
  r->n = 0;
  while (tkms_field_next(&it, &tag, &v, &n) == 1) {
    if (tag != TKMS_F_RT_PACKET) continue;
    assert_int_equal(n, TKMS_RT_REQUEST_BYTES);
    memcpy(r->req[r->n++], v, n);
  }
}

/* midp[i] == 0: server i does not answer. bad[i]: a corrupted signature. */
static int time_response(h_env *e, const round_t *r, const uint64_t *midp, const int *bad) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_TIME_RESPONSE);
  for (unsigned i = 0; i < r->n; i++) {
    if (midp[i] == 0) continue;
    uint8_t out[1100];
    size_t n = reply(&S[i], r->req[i], TKMS_RT_REQUEST_BYTES, midp[i], bad ? bad[i] : 0, out);
    out[0] = (uint8_t)i;
    tkms_fw_bytes(&w, TKMS_F_RT_REPLY, out, n);
  }
  return h_call(e, &w);
}

static void source_is(h_env *e, const char *want, uint32_t trusted) {
  h_status(e);
  char src[32] = {0};
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_RT_SOURCE, src, sizeof src - 1), 0);
  assert_string_equal(src, want);
  assert_int_equal(h_u32(e, TKMS_F_RT_TRUSTED), trusted);
}

static int create_status(h_env *e) {
  h_signer owner;
  h_signer_eoa(&owner, 7);
  tkms_fw w;
  h_req_create(e, &w, owner.text, "secp256k1");
  h_sign(e, &w, &owner, NULL);
  return h_call(e, &w);
}

static int setup_keys(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  for (int i = 0; i < 4; i++) crypto_sign_keypair(S[i].pk, S[i].sk);
  return 0;
}

/* ---- tests ---------------------------------------------------------------- */

/* Not the sim platform: no time until a quorum; then Roughtime time. */
static void test_unavailable_then_quorum(void **state) {
  (void)state;
  h_env *e = setup_rt(0);
  source_is(e, "none", 0);
  assert_false(h_has(e, TKMS_F_TIME));
  /* A signed request needs time: refused, retryably, with nothing changed. */
  assert_int_equal(create_status(e), TKMS_E_TIME_UNAVAILABLE);
  round_t r;
  time_request(e, &r);
  assert_int_equal(r.n, 3);
  uint64_t mid[3] = {T0, T0 + 1, T0 - 1};
  assert_int_equal(time_response(e, &r, mid, NULL), TKMS_OK);
  uint8_t q[16];
  h_fixed(e, TKMS_F_RT_QUORUM, q, 16);
  assert_int_equal(tkms_be32_get(q + 8), 3);
  source_is(e, "roughtime", 1);
  uint64_t now = h_u64(e, TKMS_F_TIME);
  assert_true(now >= T0 - 2 && now <= T0 + 4);
  /* Now key use works, and the core stamps Roughtime time, not the host's
   * (the client's deadline is relative to the core's time). */
  uint64_t saved = h_now;
  h_now = now;
  assert_int_equal(create_status(e), TKMS_OK);
  uint64_t stamped = h_u64(e, TKMS_F_TIME);
  assert_true(stamped >= now && stamped <= now + 2);
  h_commit(e);
  h_now = saved;
  h_teardown(e);
}

/* One server lies by an hour: the two that agree win; the liar is ignored. */
static void test_liar_outvoted(void **state) {
  (void)state;
  h_env *e = setup_rt(0);
  round_t r;
  time_request(e, &r);
  uint64_t mid[3] = {T0, T0 - 3600, T0 + 1};
  assert_int_equal(time_response(e, &r, mid, NULL), TKMS_OK);
  uint8_t q[16];
  h_fixed(e, TKMS_F_RT_QUORUM, q, 16);
  assert_int_equal(tkms_be32_get(q + 8), 2);
  uint64_t t = tkms_be64_get(q);
  assert_true(t >= T0 - 2 && t <= T0 + 4);
  h_teardown(e);
}

/* Fewer than k valid and agreeing replies: no time, reason given. */
static void test_no_quorum(void **state) {
  (void)state;
  h_env *e = setup_rt(0);
  round_t r;
  time_request(e, &r);
  uint64_t mid[3] = {T0, T0, T0};
  int bad[3] = {0, 1, 1}; /* two forged signatures */
  assert_int_equal(time_response(e, &r, mid, bad), TKMS_E_TIME_NO_QUORUM);
  assert_non_null(strstr(e->err, "no quorum"));
  source_is(e, "none", 0);
  /* Two honest servers disagreeing by an hour, the third silent. */
  time_request(e, &r);
  uint64_t split[3] = {T0, T0 + 3600, 0};
  assert_int_equal(time_response(e, &r, split, NULL), TKMS_E_TIME_NO_QUORUM);
  source_is(e, "none", 0);
  assert_int_equal(create_status(e), TKMS_E_TIME_UNAVAILABLE);
  h_teardown(e);
}

/* Replies are accepted once, and only for the latest round's nonces. */
static void test_replay_refused(void **state) {
  (void)state;
  h_env *e = setup_rt(0);
  round_t old, cur;
  time_request(e, &old);
  time_request(e, &cur); /* replaces the round: old nonces are forgotten */
  uint64_t mid[3] = {T0, T0, T0};
  assert_int_equal(time_response(e, &old, mid, NULL), TKMS_E_TIME_NO_QUORUM);
  source_is(e, "none", 0);
  /* That answer closed the round: even the right replies now come too late. */
  assert_int_equal(time_response(e, &cur, mid, NULL), TKMS_E_TIME_NO_QUORUM);
  assert_non_null(strstr(e->err, "no Roughtime request is outstanding"));
  /* A good round, then the very same replies again. */
  time_request(e, &cur);
  assert_int_equal(time_response(e, &cur, mid, NULL), TKMS_OK);
  assert_int_equal(time_response(e, &cur, mid, NULL), TKMS_E_TIME_NO_QUORUM);
  h_teardown(e);
}

/* A quorum in the past cannot move time back, and the floor survives a
 * restart because every mutation seals it. */
static void test_never_backwards(void **state) {
  (void)state;
  h_env *e = setup_rt(0);
  round_t r;
  time_request(e, &r);
  uint64_t mid[3] = {T0, T0, T0};
  assert_int_equal(time_response(e, &r, mid, NULL), TKMS_OK);
  source_is(e, "roughtime", 1);
  uint64_t t1 = h_u64(e, TKMS_F_TIME);
  /* Two servers now agree on an hour ago (the third is silent). */
  time_request(e, &r);
  uint64_t past[3] = {T0 - 3600, T0 - 3600, 0};
  assert_int_equal(time_response(e, &r, past, NULL), TKMS_OK);
  assert_true(h_u64(e, TKMS_F_TIME) >= t1);
  source_is(e, "roughtime", 1);
  assert_true(h_u64(e, TKMS_F_TIME) >= t1);
  /* A mutation seals the floor; a restarted core (no quorum yet) keeps it. */
  uint64_t saved = h_now;
  h_now = t1;
  assert_int_equal(create_status(e), TKMS_OK);
  h_commit(e);
  /* A host whose clock runs far ahead while the core loads must not push the
   * floor (and so the core's time) forward either. */
  h_now = T0 + 100000;
  h_close_core(e);
  char err[512];
  assert_int_equal(h_open_core(e, 0, err, sizeof err), 0);
  h_ops.simulated = 0; /* before loading: no host time may raise the floor */
  assert_int_equal(h_load(e), TKMS_OK);
  source_is(e, "none", 0);
  time_request(e, &r);
  assert_int_equal(time_response(e, &r, past, NULL), TKMS_OK);
  source_is(e, "roughtime", 1);
  assert_true(h_u64(e, TKMS_F_TIME) >= t1);
  assert_true(h_u64(e, TKMS_F_TIME) < T0 + 1000);
  h_now = saved;
  h_teardown(e);
}

/* The configuration is validated by the core at INIT. */
static void test_config_validation(void **state) {
  (void)state;
  uint8_t cfg[512];
  int st;
  struct {
    uint8_t flags, k, n;
  } bad[] = {{0, 0, 3}, {0, 4, 3}, {0, 0, 0}, {2, 1, 1}, {1, 1, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = config(bad[i].flags, bad[i].k, bad[i].n, cfg);
    h_env *e = setup_with(cfg, n, 0, &st);
    assert_int_equal(st, TKMS_E_BAD_REQUEST);
    h_teardown(e);
  }
  /* duplicate keys */
  memcpy(&S[3], &S[0], sizeof S[0]);
  size_t n = config(0, 1, 4, cfg);
  h_env *e = setup_with(cfg, n, 0, &st);
  assert_int_equal(st, TKMS_E_BAD_REQUEST);
  h_teardown(e);
  crypto_sign_keypair(S[3].pk, S[3].sk);
  /* trailing bytes */
  n = config(0, 1, 1, cfg);
  cfg[n++] = 0;
  e = setup_with(cfg, n, 0, &st);
  assert_int_equal(st, TKMS_E_BAD_REQUEST);
  h_teardown(e);
}

/* --insecure-host-time: host time, reported as insecure, on any platform;
 * the sim platform without Roughtime uses host time reported as sim. */
static void test_host_time_sources(void **state) {
  (void)state;
  uint8_t cfg[8];
  int st;
  size_t n = config(TKMS_RT_FLAG_INSECURE_HOST, 0, 0, cfg);
  h_env *e = setup_with(cfg, n, 0, &st);
  assert_int_equal(st, TKMS_OK);
  source_is(e, "host-insecure", 0);
  assert_int_equal(h_u64(e, TKMS_F_TIME), h_now);
  uint64_t saved = h_now;
  assert_int_equal(create_status(e), TKMS_OK);
  h_commit(e);
  /* no servers: TIME_REQUEST is refused */
  tkms_fw w;
  h_begin(&w, TKMS_OP_TIME_REQUEST);
  assert_int_equal(h_call(e, &w), TKMS_E_BAD_REQUEST);
  h_teardown(e);
  e = setup_with(NULL, 0, 1, &st);
  assert_int_equal(st, TKMS_OK);
  source_is(e, "host-sim", 0);
  h_teardown(e);
  /* a real platform must choose: Roughtime or explicitly insecure host time */
  e = setup_with(NULL, 0, 0, &st);
  assert_int_equal(st, TKMS_E_BAD_REQUEST);
  assert_non_null(strstr(e->err, "--roughtime-config"));
  h_teardown(e);
  /* sim with Roughtime: host time until the first quorum, then Roughtime */
  e = setup_rt(1);
  source_is(e, "host-sim", 0);
  round_t r;
  time_request(e, &r);
  uint64_t mid[3] = {T0, T0, T0};
  assert_int_equal(time_response(e, &r, mid, NULL), TKMS_OK);
  source_is(e, "roughtime", 1);
  h_now = saved;
  h_teardown(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unavailable_then_quorum),
      cmocka_unit_test(test_liar_outvoted),
      cmocka_unit_test(test_no_quorum),
      cmocka_unit_test(test_replay_refused),
      cmocka_unit_test(test_never_backwards),
      cmocka_unit_test(test_config_validation),
      cmocka_unit_test(test_host_time_sources),
  };
  return cmocka_run_group_tests(tests, setup_keys, NULL);
}
