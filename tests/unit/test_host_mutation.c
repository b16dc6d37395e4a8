/* tests/unit/test_host_mutation.c — the host's half of the two-phase mutation
 * protocol against a scripted fake core on a socketpair: COMMIT only after a
 * durable write, ABORT when the store refuses, nothing stored on a refusal or a
 * dead core; prepared-transaction parsing; route matching. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "host/core_priv.h"
#include "host/mutation.h"
#include "host/routes.h"
#include "proto/ops.h"

/* ---- a scripted fake core ------------------------------------------------------ */

typedef struct {
  int fd;
  uint16_t refuse;    /* answer the op with this status (0 = prepare) */
  int die_after_op;   /* close the socket instead of answering COMMIT/ABORT */
  uint8_t key_id[16]; /* id of the key the prepared tx creates */
  int commits, aborts;
  uint64_t finished_txid;
} fake_core;

static void *fake_main(void *arg) {
  fake_core *fc = arg;
  for (;;) {
    uint8_t *buf;
    size_t len;
    if (tkms_frame_recv(fc->fd, &buf, &len) != 0) break;
    tkms_frame f;
    if (tkms_frame_parse(buf, len, &f) != 0) break;
    tkms_fw w;
    if (f.op == TKMS_OP_COMMIT || f.op == TKMS_OP_ABORT) {
      if (fc->die_after_op) {
        tkms_frame_buf_free(buf, len);
        break;
      }
      tkms_frame_get_u64(&f, TKMS_F_TXID, &fc->finished_txid);
      if (f.op == TKMS_OP_COMMIT)
        fc->commits++;
      else
        fc->aborts++;
      tkms_fw_init(&w, f.op, TKMS_OK, f.seq);
    } else if (fc->refuse) {
      tkms_fw_init(&w, f.op, fc->refuse, f.seq);
      tkms_fw_str(&w, TKMS_F_ERR_MSG, "scripted refusal");
    } else {
      tkms_fw_init(&w, f.op, TKMS_OK, f.seq);
      tkms_fw_u64(&w, TKMS_F_TXID, 7);
      uint8_t rec[2 + 16 + 4 + 5] = {TKMS_REC_KEY, 16};
      memcpy(rec + 2, fc->key_id, 16);
      tkms_be32_put(rec + 18, 1);
      memcpy(rec + 22, "BLOB!", 5);
      tkms_fw_bytes(&w, TKMS_F_PUT, rec, sizeof rec);
      tkms_fw_bytes(&w, TKMS_F_MANIFEST, "MANIFEST", 8);
      tkms_fw_bytes(&w, TKMS_F_KEY_ID, fc->key_id, 16);
      tkms_fw_u32(&w, TKMS_F_VERSION, 1);
      uint8_t pk[33];
      memset(pk, 2, sizeof pk);
      tkms_fw_bytes(&w, TKMS_F_PUBKEY, pk, sizeof pk);
      tkms_fw_u64(&w, TKMS_F_TIME, 1234);
    }
    tkms_frame_buf_free(buf, len);
    int ok = tkms_fw_finish(&w) == 0 && tkms_frame_send(fc->fd, &w) == 0;
    tkms_fw_free(&w);
    if (!ok) break;
  }
  close(fc->fd);
  return NULL;
}

typedef struct {
  char dir[64];
  tkms_store *store;
  tkms_core core;
  tkms_chan chan;
  fake_core fc;
  pthread_t th;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  strcpy(f->dir, "/tmp/tkms-test-mut-XXXXXX");
  if (mkdtemp(f->dir) == NULL || tkms_store_open(f->dir, 1, &f->store) != 0) return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return -1;
  pthread_mutex_init(&f->core.state_mu, NULL);
  pthread_mutex_init(&f->chan.mu, NULL);
  f->core.n = 1;
  f->core.chans = &f->chan;
  f->core.store = f->store;
  atomic_store(&f->core.available, 1);
  f->chan.fd = sv[0];
  f->chan.core = &f->core;
  f->fc.fd = sv[1];
  memset(f->fc.key_id, 0x5a, 16);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f->chan.fd >= 0) close(f->chan.fd);
  pthread_join(f->th, NULL);
  tkms_store_close(f->store);
  char p[128];
  const char *files[] = {"tkms.db", "tkms.db-wal", "tkms.db-shm"};
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static void start_fake(fixture *f) {
  assert_int_equal(pthread_create(&f->th, NULL, fake_main, &f->fc), 0);
}

static int meta_create(void *ctx, const tkms_frame *res, tkms_store_meta_change *m) {
  m->kind = TKMS_META_KEY_CREATE;
  if (tkms_frame_get_fixed(res, TKMS_F_KEY_ID, m->key.id, 16) != 0 ||
      tkms_frame_get_u32(res, TKMS_F_VERSION, &m->ver.version) != 0)
    return -1;
  strcpy(m->key.owner, "eoa:0xowner");
  strcpy(m->key.key_type, "secp256k1");
  m->ver.public_key_len = 33;
  return 0;
}

static int run_create(fixture *f, tkms_reply *rep, tkms_resp *resp) {
  tkms_fw w;
  assert_int_equal(tkms_fw_init(&w, TKMS_OP_KEY_CREATE, 0, 0), 0);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_bytes(&w, TKMS_F_POLICY, (const uint8_t *)"", 0);
  assert_int_equal(tkms_fw_finish(&w), 0);
  int r = tkms_mutate(&f->chan, f->store, &w, meta_create, NULL, rep, resp);
  tkms_fw_free(&w);
  return r;
}

static void test_commit_after_durable_write(void **state) {
  fixture *f = *state;
  start_fake(f);
  tkms_reply rep;
  tkms_resp resp = {0};
  assert_int_equal(run_create(f, &rep, &resp), TKMS_MUT_OK);
  assert_int_equal(f->fc.commits, 1);
  assert_int_equal(f->fc.aborts, 0);
  assert_int_equal(f->fc.finished_txid, 7);
  uint32_t v;
  assert_int_equal(tkms_frame_get_u32(&rep.f, TKMS_F_VERSION, &v), 0);
  tkms_reply_free(&rep);
  uint8_t *blob;
  size_t n;
  assert_int_equal(tkms_store_record_get(f->store, TKMS_REC_KEY, f->fc.key_id, 16, &v, &blob, &n),
                   TKMS_STORE_OK);
  assert_memory_equal(blob, "BLOB!", 5);
  tkms_store_free(blob, n);
  tkms_key_meta k;
  assert_int_equal(tkms_store_key_get(f->store, f->fc.key_id, &k), TKMS_STORE_OK);
  assert_int_equal(tkms_store_meta_get(f->store, TKMS_STORE_META_MANIFEST, &blob, &n),
                   TKMS_STORE_OK);
  assert_memory_equal(blob, "MANIFEST", 8);
  tkms_store_free(blob, n);

  /* Second time the same key id: the store refuses, the host ABORTs and says 500. */
  assert_int_equal(run_create(f, &rep, &resp), TKMS_MUT_FAILED);
  assert_int_equal(resp.status, 500);
  assert_int_equal(f->fc.commits, 1);
  assert_int_equal(f->fc.aborts, 1);
  tkms_resp_clear(&resp);
}

static void test_refusal_stores_nothing(void **state) {
  fixture *f = *state;
  f->fc.refuse = TKMS_E_WRONG_SIGNER;
  start_fake(f);
  tkms_reply rep;
  tkms_resp resp = {0};
  assert_int_equal(run_create(f, &rep, &resp), TKMS_MUT_REFUSED);
  assert_int_equal(rep.f.status, TKMS_E_WRONG_SIGNER);
  assert_int_equal(resp.status, 403);
  assert_non_null(strstr(resp.body, "scripted refusal"));
  tkms_reply_free(&rep);
  tkms_resp_clear(&resp);
  assert_int_equal(f->fc.commits + f->fc.aborts, 0);
  uint64_t n;
  assert_int_equal(tkms_store_count_records(f->store, &n), TKMS_STORE_OK);
  assert_int_equal(n, 0);
}

/* The core dies between prepare and COMMIT: the write is durable, the client
 * gets a retryable 503 and the core is marked unavailable. */
static void test_core_dies_before_commit(void **state) {
  fixture *f = *state;
  f->fc.die_after_op = 1;
  start_fake(f);
  tkms_reply rep;
  tkms_resp resp = {0};
  assert_int_equal(run_create(f, &rep, &resp), TKMS_MUT_FAILED);
  assert_int_equal(resp.status, 503);
  assert_non_null(strstr(resp.body, "\"retryable\":true"));
  assert_int_equal(tkms_core_available(&f->core), 0);
  tkms_resp_clear(&resp);
  uint64_t n;
  assert_int_equal(tkms_store_count_records(f->store, &n), TKMS_STORE_OK);
  assert_int_equal(n, 1);
}

static void test_prepared_parse(void **state) {
  (void)state;
  tkms_fw w;
  tkms_frame f;
  tkms_prepared p;
  assert_int_equal(tkms_fw_init(&w, TKMS_OP_KEY_ROTATE, 0, 1), 0);
  tkms_fw_u64(&w, TKMS_F_TXID, 99);
  const uint8_t put[] = {1, 2, 'a', 'b', 0, 0, 0, 3, 'x'};
  const uint8_t del[] = {3, 1, 'z'};
  tkms_fw_bytes(&w, TKMS_F_PUT, put, sizeof put);
  tkms_fw_bytes(&w, TKMS_F_DEL, del, sizeof del);
  assert_int_equal(tkms_fw_finish(&w), 0);
  assert_int_equal(tkms_frame_parse(w.buf + 4, w.len - 4, &f), 0);
  assert_int_equal(tkms_prepared_parse(&f, &p), 0);
  assert_int_equal(p.txid, 99);
  assert_int_equal(p.tx.n_puts, 1);
  assert_int_equal(p.tx.puts[0].version, 3);
  assert_int_equal(p.tx.puts[0].blob_len, 1);
  assert_int_equal(p.tx.n_dels, 1);
  assert_int_equal(p.tx.dels[0].id[0], 'z');
  assert_null(p.tx.manifest);
  tkms_prepared_free(&p);
  tkms_fw_free(&w);

  /* malformed encodings are refused */
  static const struct {
    uint8_t tag;
    uint8_t v[8];
    size_t n;
  } bad[] = {
      {TKMS_F_PUT, {1, 0, 0, 0, 0, 1}, 6},  /* id_len 0 */
      {TKMS_F_PUT, {1, 33}, 2},             /* id_len > 32 */
      {TKMS_F_PUT, {1, 2, 'a', 'b', 0}, 5}, /* no room for the version */
      {TKMS_F_DEL, {1, 2, 'a'}, 3},         /* truncated id */
      {TKMS_F_DEL, {1, 1, 'a', 'b'}, 4},    /* trailing byte */
      {TKMS_F_DMK, {0}, 0},                 /* empty DMK */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(tkms_fw_init(&w, TKMS_OP_KEY_ROTATE, 0, 1), 0);
    tkms_fw_u64(&w, TKMS_F_TXID, 1);
    tkms_fw_bytes(&w, bad[i].tag, bad[i].v, bad[i].n);
    assert_int_equal(tkms_fw_finish(&w), 0);
    assert_int_equal(tkms_frame_parse(w.buf + 4, w.len - 4, &f), 0);
    assert_int_equal(tkms_prepared_parse(&f, &p), -1);
    tkms_fw_free(&w);
  }
  /* no txid */
  assert_int_equal(tkms_fw_init(&w, TKMS_OP_KEY_ROTATE, 0, 1), 0);
  assert_int_equal(tkms_fw_finish(&w), 0);
  assert_int_equal(tkms_frame_parse(w.buf + 4, w.len - 4, &f), 0);
  assert_int_equal(tkms_prepared_parse(&f, &p), -1);
  tkms_fw_free(&w);
}

static void test_routes(void **state) {
  (void)state;
  static const struct {
    const char *method, *path;
    int result;
    int id;
    const char *arg;
  } cases[] = {
      {"GET", "/v1/health", TKMS_ROUTE_FOUND, TKMS_R_HEALTH, ""},
      {"HEAD", "/v1/health", TKMS_ROUTE_FOUND, TKMS_R_HEALTH, ""},
      {"POST", "/v1/health", TKMS_ROUTE_BAD_METHOD, 0, NULL},
      {"GET", "/v1/eip712", TKMS_ROUTE_FOUND, TKMS_R_EIP712, ""},
      {"GET", "/v1/attestation", TKMS_ROUTE_FOUND, TKMS_R_ATTESTATION, ""},
      {"GET", "/v1/keys", TKMS_ROUTE_FOUND, TKMS_R_KEYS_LIST, ""},
      {"POST", "/v1/keys", TKMS_ROUTE_FOUND, TKMS_R_KEYS_CREATE, ""},
      {"DELETE", "/v1/keys", TKMS_ROUTE_BAD_METHOD, 0, NULL},
      {"GET", "/v1/keys/0xab", TKMS_ROUTE_FOUND, TKMS_R_KEY_GET, "0xab"},
      {"DELETE", "/v1/keys/0xab", TKMS_ROUTE_FOUND, TKMS_R_KEY_DESTROY, "0xab"},
      {"POST", "/v1/keys/0xab", TKMS_ROUTE_BAD_METHOD, 0, NULL},
      {"POST", "/v1/keys/0xab/sign", TKMS_ROUTE_FOUND, TKMS_R_KEY_SIGN, "0xab"},
      {"POST", "/v1/keys/0xab/rotate", TKMS_ROUTE_FOUND, TKMS_R_KEY_ROTATE, "0xab"},
      {"GET", "/v1/keys/0xab/sign", TKMS_ROUTE_BAD_METHOD, 0, NULL},
      {"POST", "/v1/keys/0xab/other", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"POST", "/v1/sessions", TKMS_ROUTE_FOUND, TKMS_R_SESSION_OPEN, ""},
      {"DELETE", "/v1/sessions/0x01", TKMS_ROUTE_FOUND, TKMS_R_SESSION_REVOKE, "0x01"},
      {"GET", "/v1/sessions/0x01", TKMS_ROUTE_BAD_METHOD, 0, NULL},
      {"GET", "/v1/sessions/0x01/x", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/v1/keys/", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/v1//keys", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/v1/health/", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/v2/health", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/v1/", TKMS_ROUTE_NOT_FOUND, 0, NULL},
      {"GET", "/v1/a/b/c/d/e", TKMS_ROUTE_NOT_FOUND, 0, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tkms_route r;
    const char *allow;
    int m = tkms_route_match(cases[i].method, cases[i].path, &r, &allow);
    if (m != cases[i].result) fail_msg("%s %s: %d", cases[i].method, cases[i].path, m);
    if (m == TKMS_ROUTE_FOUND) {
      assert_int_equal(r.id, cases[i].id);
      assert_string_equal(r.arg, cases[i].arg);
    }
    if (m == TKMS_ROUTE_BAD_METHOD) assert_non_null(allow);
  }
  /* an overlong id segment is flagged, not truncated into a valid one */
  char path[300] = "/v1/keys/0x";
  memset(path + strlen(path), 'a', 200);
  tkms_route r;
  const char *allow;
  assert_int_equal(tkms_route_match("GET", path, &r, &allow), TKMS_ROUTE_FOUND);
  assert_true(r.arg_too_long);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_commit_after_durable_write, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusal_stores_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_core_dies_before_commit, setup, teardown),
      cmocka_unit_test(test_prepared_parse),
      cmocka_unit_test(test_routes),
  };
  return cmocka_run_group_tests_name("host_mutation", tests, NULL, NULL);
}
