/* tests/unit/test_host_store.c — the SQLite store: schema, metadata, atomic
 * application of prepared transactions, key metadata and list pagination. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>
#include <sqlite3.h>

#include "host/store.h"

typedef struct {
  char dir[64];
  tkms_store *s;
} fixture;

static void rm_dir(const char *dir) {
  static const char *const files[] = {"tkms.db", "tkms.db-wal", "tkms.db-shm"};
  char p[128];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  strcpy(f->dir, "/tmp/tkms-test-store-XXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  if (tkms_store_open(f->dir, 4, &f->s) != TKMS_STORE_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  tkms_store_close(f->s);
  rm_dir(f->dir);
  free(f);
  return 0;
}

static void make_id(uint8_t id[16], unsigned n) {
  memset(id, 0, 16);
  id[0] = 0xee;
  id[15] = (uint8_t)n;
  id[14] = (uint8_t)(n >> 8);
}

static void make_record(tkms_store_record *r, uint8_t type, unsigned n, uint32_t version,
                        const char *blob) {
  memset(r, 0, sizeof *r);
  r->type = type;
  r->id_len = 16;
  make_id(r->id, n);
  r->version = version;
  r->blob = (const uint8_t *)blob;
  r->blob_len = strlen(blob);
}

/* A KEY_CREATE change for key n of owner. */
static void create_change(tkms_store_meta_change *m, unsigned n, const char *owner, uint64_t t) {
  memset(m, 0, sizeof *m);
  m->kind = TKMS_META_KEY_CREATE;
  make_id(m->key.id, n);
  snprintf(m->key.owner, sizeof m->key.owner, "%s", owner);
  snprintf(m->key.key_type, sizeof m->key.key_type, "secp256k1");
  m->key.created_at = t;
  m->ver.version = 1;
  m->ver.public_key_len = 33;
  memset(m->ver.public_key, 0x02, 33);
  m->ver.public_key[32] = (uint8_t)n;
  m->ver.has_address = 1;
  memset(m->ver.address, 0xaa, 20);
  m->ver.created_at = t;
}

/* Creates key n (record + metadata + manifest) in one transaction. */
static int create_key(tkms_store *s, unsigned n, const char *owner) {
  tkms_store_record r;
  make_record(&r, 1, n, 1, "sealed-key-v1");
  tkms_store_tx tx = {.puts = &r, .n_puts = 1};
  char man[32];
  snprintf(man, sizeof man, "manifest-%u", n);
  tx.manifest = (const uint8_t *)man;
  tx.manifest_len = strlen(man);
  create_change(&tx.meta, n, owner, 1000 + n);
  return tkms_store_apply(s, &tx);
}

static int meta_equals(tkms_store *s, const char *k, const char *want) {
  uint8_t *v = NULL;
  size_t n = 0;
  int rc = tkms_store_meta_get(s, k, &v, &n);
  if (rc != TKMS_STORE_OK) return rc == TKMS_STORE_NOTFOUND && want == NULL;
  int eq = want != NULL && n == strlen(want) && memcmp(v, want, n) == 0;
  tkms_store_free(v, n);
  return eq;
}

static void test_schema(void **state) {
  fixture *f = *state;
  char path[128];
  snprintf(path, sizeof path, "%s/tkms.db", f->dir);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), 2);
  sqlite3_finalize(st);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  const char *tables[] = {"meta", "records", "keys", "key_versions", "receipts", "sessions"};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_finalize(st);
  }
  /* Re-opening an existing store keeps its data. */
  assert_int_equal(tkms_store_meta_put(f->s, "x", (const uint8_t *)"1", 1), TKMS_STORE_OK);
  tkms_store_close(f->s);
  assert_int_equal(tkms_store_open(f->dir, 2, &f->s), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, "x", "1"));
  /* A schema from a newer build is refused rather than misread. */
  tkms_store_close(f->s);
  f->s = NULL;
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(tkms_store_open(f->dir, 1, &f->s), TKMS_STORE_ERR);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(tkms_store_open(f->dir, 1, &f->s), TKMS_STORE_OK);
  /* Bad arguments. */
  tkms_store *other;
  assert_int_equal(tkms_store_open(f->dir, 0, &other), TKMS_STORE_ERR);
  assert_int_equal(tkms_store_open(f->dir, 257, &other), TKMS_STORE_ERR);
}

/* A data directory written by schema 1 (before bn254 keys) opens, is migrated to
 * schema 2 in place, keeps its keys, and takes operator ids from then on. */
static void test_schema_migration(void **state) {
  (void)state;
  char dir[64] = "/tmp/tkms-test-store-XXXXXX", path[128];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/tkms.db", dir);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  static const char v1[] =
      "PRAGMA journal_mode = WAL;"
      "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE records(type INTEGER NOT NULL, id BLOB NOT NULL, version INTEGER NOT NULL,"
      " blob BLOB NOT NULL, PRIMARY KEY(type, id)) WITHOUT ROWID;"
      "CREATE TABLE keys(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " id BLOB NOT NULL UNIQUE CHECK(length(id) = 16), owner TEXT NOT NULL,"
      " key_type TEXT NOT NULL, state INTEGER NOT NULL, version INTEGER NOT NULL,"
      " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, destroyed_at INTEGER);"
      "CREATE INDEX keys_owner ON keys(owner, seq);"
      "CREATE TABLE key_versions(key_id BLOB NOT NULL REFERENCES keys(id), version INTEGER NOT "
      "NULL,"
      " public_key BLOB NOT NULL, address BLOB, created_at INTEGER NOT NULL,"
      " PRIMARY KEY(key_id, version)) WITHOUT ROWID;"
      "CREATE TABLE receipts(key_id BLOB PRIMARY KEY REFERENCES keys(id), owner TEXT NOT NULL,"
      " version INTEGER NOT NULL, destroyed_at INTEGER NOT NULL, request_id BLOB NOT NULL,"
      " signature BLOB NOT NULL, signer BLOB NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE sessions(id BLOB PRIMARY KEY, owner TEXT NOT NULL, session_key TEXT NOT "
      "NULL,"
      " expiry INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
      "INSERT INTO keys(id, owner, key_type, state, version, created_at, updated_at)"
      " VALUES(x'ee000000000000000000000000000001', "
      "'eoa:0x1111111111111111111111111111111111111111',"
      " 'secp256k1', 0, 1, 100, 100);"
      "INSERT INTO key_versions(key_id, version, public_key, address, created_at)"
      " VALUES(x'ee000000000000000000000000000001', 1, x'02aa', x'"
      "2222222222222222222222222222222222222222', 100);"
      "PRAGMA user_version = 1;";
  assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);

  tkms_store *s;
  assert_int_equal(tkms_store_open(dir, 2, &s), TKMS_STORE_OK);
  uint8_t id[16];
  make_id(id, 1);
  tkms_key_meta k;
  assert_int_equal(tkms_store_key_get(s, id, &k), TKMS_STORE_OK);
  assert_string_equal(k.key_type, "secp256k1");
  assert_int_equal(k.current.public_key_len, 2);
  assert_true(k.current.has_address);
  assert_false(k.current.has_operator_id);
  /* a bn254 key with its operator id, found by owner and type */
  tkms_store_tx tx;
  memset(&tx, 0, sizeof tx);
  tx.meta.kind = TKMS_META_KEY_CREATE;
  make_id(tx.meta.key.id, 2);
  strcpy(tx.meta.key.owner, "eoa:0x1111111111111111111111111111111111111111");
  strcpy(tx.meta.key.key_type, "bn254");
  tx.meta.key.created_at = 200;
  tx.meta.ver.version = 1;
  tx.meta.ver.created_at = 200;
  tx.meta.ver.public_key_len = 192;
  memset(tx.meta.ver.public_key, 0x5a, 192);
  tx.meta.ver.has_operator_id = 1;
  memset(tx.meta.ver.operator_id, 0x77, 32);
  assert_int_equal(tkms_store_apply(s, &tx), TKMS_STORE_OK);
  assert_int_equal(tkms_store_key_by_owner_type(s, "eoa:0x1111111111111111111111111111111111111111",
                                                "bn254", &k),
                   TKMS_STORE_OK);
  assert_memory_equal(k.id, tx.meta.key.id, 16);
  assert_int_equal(k.current.public_key_len, 192);
  assert_true(k.current.has_operator_id);
  assert_memory_equal(k.current.operator_id, tx.meta.ver.operator_id, 32);
  assert_int_equal(tkms_store_key_by_owner_type(s, "eoa:0x1111111111111111111111111111111111111111",
                                                "ed25519", &k),
                   TKMS_STORE_NOTFOUND);
  tkms_store_close(s);
  /* migrated once: opening again is a no-op at schema 2 */
  assert_int_equal(tkms_store_open(dir, 1, &s), TKMS_STORE_OK);
  tkms_store_close(s);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), 2);
  sqlite3_finalize(st);
  sqlite3_close(db);
  rm_dir(dir);
}

static void test_meta(void **state) {
  fixture *f = *state;
  assert_true(meta_equals(f->s, "k", NULL));
  assert_int_equal(tkms_store_meta_put(f->s, "k", (const uint8_t *)"one", 3), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, "k", "one"));
  assert_int_equal(tkms_store_meta_put(f->s, "k", (const uint8_t *)"two!", 4), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, "k", "two!"));
  assert_int_equal(tkms_store_meta_put(f->s, "empty", (const uint8_t *)"", 0), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, "empty", ""));
}

static int count_cb(void *ctx, const tkms_store_record *r) {
  unsigned *n = ctx;
  assert_true(r->id_len == 16);
  (*n)++;
  return 0;
}

static void test_apply_records(void **state) {
  fixture *f = *state;
  tkms_store_record puts[3];
  make_record(&puts[0], 1, 1, 1, "key-one");
  make_record(&puts[1], 2, 2, 1, "session-two");
  make_record(&puts[2], 3, 3, 1, "nonce-three");
  tkms_store_tx tx = {.puts = puts, .n_puts = 3};
  tx.manifest = (const uint8_t *)"m1";
  tx.manifest_len = 2;
  tx.dmk = (const uint8_t *)"sealed-dmk";
  tx.dmk_len = 10;
  assert_int_equal(tkms_store_apply(f->s, &tx), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, TKMS_STORE_META_DMK, "sealed-dmk"));
  assert_true(meta_equals(f->s, TKMS_STORE_META_MANIFEST, "m1"));
  uint64_t n;
  assert_int_equal(tkms_store_count_records(f->s, &n), TKMS_STORE_OK);
  assert_int_equal(n, 3);

  /* A put replaces (type, id); a delete removes; the DMK stays when absent. */
  tkms_store_record again;
  make_record(&again, 1, 1, 2, "key-one-v2");
  tkms_store_ref del = {.type = 3, .id_len = 16};
  make_id(del.id, 3);
  tkms_store_tx tx2 = {.puts = &again, .n_puts = 1, .dels = &del, .n_dels = 1};
  tx2.manifest = (const uint8_t *)"m2";
  tx2.manifest_len = 2;
  assert_int_equal(tkms_store_apply(f->s, &tx2), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, TKMS_STORE_META_DMK, "sealed-dmk"));
  assert_true(meta_equals(f->s, TKMS_STORE_META_MANIFEST, "m2"));
  uint32_t ver;
  uint8_t *blob;
  size_t blen;
  uint8_t id[16];
  make_id(id, 1);
  assert_int_equal(tkms_store_record_get(f->s, 1, id, 16, &ver, &blob, &blen), TKMS_STORE_OK);
  assert_int_equal(ver, 2);
  assert_int_equal(blen, 10);
  assert_memory_equal(blob, "key-one-v2", 10);
  tkms_store_free(blob, blen);
  make_id(id, 3);
  assert_int_equal(tkms_store_record_get(f->s, 3, id, 16, &ver, &blob, &blen), TKMS_STORE_NOTFOUND);
  unsigned seen = 0;
  assert_int_equal(tkms_store_load_records(f->s, count_cb, &seen), TKMS_STORE_OK);
  assert_int_equal(seen, 2);

  /* Malformed transactions are refused before anything is written. */
  tkms_store_record bad;
  make_record(&bad, 1, 9, 1, "x");
  bad.id_len = 0;
  tkms_store_tx tx3 = {.puts = &bad, .n_puts = 1};
  assert_int_equal(tkms_store_apply(f->s, &tx3), TKMS_STORE_ERR);
  bad.id_len = 33;
  assert_int_equal(tkms_store_apply(f->s, &tx3), TKMS_STORE_ERR);
  tkms_store_tx tx4 = {.puts = NULL, .n_puts = 2};
  assert_int_equal(tkms_store_apply(f->s, &tx4), TKMS_STORE_ERR);
}

/* A failure in the middle of a transaction (after the record puts, the
 * manifest and the DMK were written) leaves nothing behind. */
static void test_apply_atomic(void **state) {
  fixture *f = *state;
  assert_int_equal(create_key(f->s, 1, "eoa:0xowner"), TKMS_STORE_OK);
  assert_true(meta_equals(f->s, TKMS_STORE_META_MANIFEST, "manifest-1"));
  uint64_t before;
  assert_int_equal(tkms_store_count_records(f->s, &before), TKMS_STORE_OK);

  /* Duplicate key id: the metadata insert fails last. */
  tkms_store_record puts[2];
  make_record(&puts[0], 1, 50, 1, "new-record");
  make_record(&puts[1], 1, 1, 7, "overwrite-attempt");
  tkms_store_tx tx = {.puts = puts, .n_puts = 2};
  tx.manifest = (const uint8_t *)"manifest-bad";
  tx.manifest_len = 12;
  tx.dmk = (const uint8_t *)"dmk-bad";
  tx.dmk_len = 7;
  create_change(&tx.meta, 1, "eoa:0xother", 5);
  assert_int_equal(tkms_store_apply(f->s, &tx), TKMS_STORE_CONFLICT);

  uint64_t after;
  assert_int_equal(tkms_store_count_records(f->s, &after), TKMS_STORE_OK);
  assert_int_equal(after, before);
  assert_true(meta_equals(f->s, TKMS_STORE_META_MANIFEST, "manifest-1"));
  assert_true(meta_equals(f->s, TKMS_STORE_META_DMK, NULL));
  uint8_t id[16];
  uint32_t ver;
  uint8_t *blob;
  size_t blen;
  make_id(id, 1);
  assert_int_equal(tkms_store_record_get(f->s, 1, id, 16, &ver, &blob, &blen), TKMS_STORE_OK);
  assert_int_equal(ver, 1);
  assert_memory_equal(blob, "sealed-key-v1", blen);
  tkms_store_free(blob, blen);
  tkms_key_meta k;
  assert_int_equal(tkms_store_key_get(f->s, id, &k), TKMS_STORE_OK);
  assert_string_equal(k.owner, "eoa:0xowner");

  /* Rotating an unknown key, or destroying one twice, fails as a whole too. */
  tkms_store_tx rot = {.puts = puts, .n_puts = 1};
  rot.meta.kind = TKMS_META_KEY_ROTATE;
  make_id(rot.meta.key.id, 77);
  rot.meta.ver.version = 2;
  rot.meta.ver.public_key_len = 33;
  assert_int_equal(tkms_store_apply(f->s, &rot), TKMS_STORE_CONFLICT);
  assert_int_equal(tkms_store_count_records(f->s, &after), TKMS_STORE_OK);
  assert_int_equal(after, before);

  tkms_store_tx des = {0};
  des.meta.kind = TKMS_META_KEY_DESTROY;
  make_id(des.meta.receipt.key_id, 1);
  snprintf(des.meta.receipt.owner, sizeof des.meta.receipt.owner, "eoa:0xowner");
  des.meta.receipt.version = 1;
  des.meta.receipt.destroyed_at = 2000;
  assert_int_equal(tkms_store_apply(f->s, &des), TKMS_STORE_OK);
  tkms_store_record late;
  make_record(&late, 2, 60, 1, "session-record");
  des.puts = &late;
  des.n_puts = 1;
  assert_int_equal(tkms_store_apply(f->s, &des), TKMS_STORE_CONFLICT);
  make_id(id, 60);
  assert_int_equal(tkms_store_record_get(f->s, 2, id, 16, &ver, &blob, &blen), TKMS_STORE_NOTFOUND);
}

typedef struct {
  unsigned ids[16];
  size_t n;
} list_ctx;

static int list_cb(void *ctx, const tkms_key_meta *k) {
  list_ctx *l = ctx;
  assert_true(l->n < 16);
  l->ids[l->n++] = ((unsigned)k->id[14] << 8) | k->id[15];
  return 0;
}

static void test_list_pagination(void **state) {
  fixture *f = *state;
  /* 7 keys of A interleaved with 3 of B, in creation order. */
  unsigned a = 0;
  for (unsigned i = 1; i <= 10; i++) {
    const char *owner = (i % 3 == 0) ? "eoa:0xbbbb" : "eoa:0xaaaa";
    a += owner[6] == 'a';
    assert_int_equal(create_key(f->s, i, owner), TKMS_STORE_OK);
  }
  assert_int_equal(a, 7);
  const unsigned want[] = {1, 2, 4, 5, 7, 8, 10};
  uint64_t cursor = 0, next = 0;
  size_t got = 0;
  for (int page = 0; page < 3; page++) {
    list_ctx l = {0};
    assert_int_equal(tkms_store_keys_by_owner(f->s, "eoa:0xaaaa", cursor, 3, list_cb, &l, &next),
                     TKMS_STORE_OK);
    assert_int_equal(l.n, page < 2 ? 3 : 1);
    for (size_t i = 0; i < l.n; i++) assert_int_equal(l.ids[i], want[got + i]);
    got += l.n;
    if (page < 2)
      assert_true(next != 0);
    else
      assert_int_equal(next, 0);
    cursor = next;
  }
  assert_int_equal(got, 7);
  /* A page that ends exactly at the last key says so (no empty extra page). */
  list_ctx l = {0};
  assert_int_equal(tkms_store_keys_by_owner(f->s, "eoa:0xbbbb", 0, 3, list_cb, &l, &next),
                   TKMS_STORE_OK);
  assert_int_equal(l.n, 3);
  assert_int_equal(next, 0);
  /* Unknown owner: empty; bad limits refused. */
  list_ctx e = {0};
  assert_int_equal(tkms_store_keys_by_owner(f->s, "eoa:0xcccc", 0, 50, list_cb, &e, &next),
                   TKMS_STORE_OK);
  assert_int_equal(e.n, 0);
  assert_int_equal(tkms_store_keys_by_owner(f->s, "eoa:0xaaaa", 0, 0, list_cb, &e, &next),
                   TKMS_STORE_ERR);
  assert_int_equal(tkms_store_keys_by_owner(f->s, "eoa:0xaaaa", 0, 1001, list_cb, &e, &next),
                   TKMS_STORE_ERR);
}

static int ver_cb(void *ctx, const tkms_key_version *v) {
  unsigned *n = ctx;
  assert_int_equal(v->version, *n + 1);
  (*n)++;
  return 0;
}

static void test_key_lifecycle_metadata(void **state) {
  fixture *f = *state;
  uint8_t id[16];
  make_id(id, 5);
  tkms_key_meta k;
  assert_int_equal(tkms_store_key_get(f->s, id, &k), TKMS_STORE_NOTFOUND);
  assert_int_equal(create_key(f->s, 5, "ed25519:0x1234"), TKMS_STORE_OK);
  assert_int_equal(tkms_store_key_get(f->s, id, &k), TKMS_STORE_OK);
  assert_string_equal(k.key_type, "secp256k1");
  assert_int_equal(k.state, TKMS_KEY_STATE_ACTIVE);
  assert_int_equal(k.version, 1);
  assert_int_equal(k.created_at, 1005);
  assert_int_equal(k.current.public_key_len, 33);
  assert_true(k.current.has_address);
  /* read twice: the second read may come from the store's cache (store_cache.h),
   * which every later write must invalidate (checked below after rotate/destroy) */
  for (int i = 0; i < 2; i++) {
    uint32_t v1;
    uint8_t *b1;
    size_t l1;
    assert_int_equal(tkms_store_record_get(f->s, 1, id, 16, &v1, &b1, &l1), TKMS_STORE_OK);
    assert_int_equal(v1, 1);
    assert_memory_equal(b1, "sealed-key-v1", l1);
    tkms_store_free(b1, l1);
    assert_int_equal(tkms_store_key_get(f->s, id, &k), TKMS_STORE_OK);
  }

  /* rotate to v2 (an ed25519-like version without address) */
  tkms_store_record r;
  make_record(&r, 1, 5, 2, "sealed-key-v2");
  tkms_store_tx rot = {.puts = &r, .n_puts = 1};
  rot.meta.kind = TKMS_META_KEY_ROTATE;
  memcpy(rot.meta.key.id, id, 16);
  rot.meta.ver.version = 2;
  rot.meta.ver.public_key_len = 32;
  memset(rot.meta.ver.public_key, 0x55, 32);
  rot.meta.ver.created_at = 3000;
  assert_int_equal(tkms_store_apply(f->s, &rot), TKMS_STORE_OK);
  /* the same version again is refused (metadata versions only grow) */
  assert_int_equal(tkms_store_apply(f->s, &rot), TKMS_STORE_CONFLICT);
  assert_int_equal(tkms_store_key_get(f->s, id, &k), TKMS_STORE_OK);
  assert_int_equal(k.version, 2);
  assert_int_equal(k.updated_at, 3000);
  assert_int_equal(k.current.public_key_len, 32);
  assert_false(k.current.has_address);
  for (int i = 0; i < 2; i++) {
    uint32_t v2;
    uint8_t *b2;
    size_t l2;
    assert_int_equal(tkms_store_record_get(f->s, 1, id, 16, &v2, &b2, &l2), TKMS_STORE_OK);
    assert_int_equal(v2, 2);
    assert_int_equal(l2, strlen("sealed-key-v2"));
    assert_memory_equal(b2, "sealed-key-v2", l2);
    tkms_store_free(b2, l2);
  }
  unsigned nv = 0;
  assert_int_equal(tkms_store_key_versions(f->s, id, ver_cb, &nv), TKMS_STORE_OK);
  assert_int_equal(nv, 2);

  /* destroy: state, time and receipt */
  tkms_store_ref del = {.type = 1, .id_len = 16};
  memcpy(del.id, id, 16);
  tkms_store_tx des = {.dels = &del, .n_dels = 1};
  des.meta.kind = TKMS_META_KEY_DESTROY;
  tkms_receipt *rc = &des.meta.receipt;
  memcpy(rc->key_id, id, 16);
  snprintf(rc->owner, sizeof rc->owner, "ed25519:0x1234");
  rc->version = 2;
  rc->destroyed_at = 4000;
  memset(rc->request_id, 0x11, 32);
  memset(rc->signature, 0x22, 65);
  memset(rc->signer, 0x33, 20);
  tkms_receipt got;
  assert_int_equal(tkms_store_receipt_get(f->s, id, &got), TKMS_STORE_NOTFOUND);
  assert_int_equal(tkms_store_apply(f->s, &des), TKMS_STORE_OK);
  assert_int_equal(tkms_store_key_get(f->s, id, &k), TKMS_STORE_OK);
  assert_int_equal(k.state, TKMS_KEY_STATE_DESTROYED);
  assert_int_equal(k.destroyed_at, 4000);
  assert_int_equal(tkms_store_receipt_get(f->s, id, &got), TKMS_STORE_OK);
  assert_memory_equal(got.key_id, rc->key_id, 16);
  assert_string_equal(got.owner, rc->owner);
  assert_int_equal(got.version, 2);
  assert_int_equal(got.destroyed_at, 4000);
  assert_memory_equal(got.request_id, rc->request_id, 32);
  assert_memory_equal(got.signature, rc->signature, 65);
  assert_memory_equal(got.signer, rc->signer, 20);
  uint32_t ver;
  uint8_t *blob;
  size_t blen;
  assert_int_equal(tkms_store_record_get(f->s, 1, id, 16, &ver, &blob, &blen), TKMS_STORE_NOTFOUND);
  /* rotating a destroyed key is a conflict */
  rot.meta.ver.version = 3;
  assert_int_equal(tkms_store_apply(f->s, &rot), TKMS_STORE_CONFLICT);
}

static void test_sessions(void **state) {
  fixture *f = *state;
  tkms_store_tx tx = {0};
  tx.meta.kind = TKMS_META_SESSION_OPEN;
  tkms_session_meta *m = &tx.meta.session;
  memset(m->id, 0x42, 16);
  snprintf(m->owner, sizeof m->owner, "eoa:0xowner");
  snprintf(m->session_key, sizeof m->session_key, "ed25519:0xsession");
  m->expiry = 123456;
  assert_int_equal(tkms_store_apply(f->s, &tx), TKMS_STORE_OK);
  tkms_session_meta got;
  assert_int_equal(tkms_store_session_get(f->s, m->id, &got), TKMS_STORE_OK);
  assert_string_equal(got.session_key, "ed25519:0xsession");
  assert_int_equal(got.expiry, 123456);
  assert_false(got.revoked);
  /* opening the same id twice is a conflict */
  assert_int_equal(tkms_store_apply(f->s, &tx), TKMS_STORE_CONFLICT);
  tkms_store_tx rv = {0};
  rv.meta.kind = TKMS_META_SESSION_REVOKE;
  memcpy(rv.meta.session.id, m->id, 16);
  assert_int_equal(tkms_store_apply(f->s, &rv), TKMS_STORE_OK);
  assert_int_equal(tkms_store_session_get(f->s, m->id, &got), TKMS_STORE_OK);
  assert_true(got.revoked);
  /* revoking a session the metadata never saw is not an error (the core decides) */
  memset(rv.meta.session.id, 0x43, 16);
  assert_int_equal(tkms_store_apply(f->s, &rv), TKMS_STORE_OK);
  assert_int_equal(tkms_store_session_get(f->s, rv.meta.session.id, &got), TKMS_STORE_NOTFOUND);
}

typedef struct {
  tkms_store *s;
  unsigned base;
  int failures;
} worker_arg;

static void *worker(void *p) {
  worker_arg *w = p;
  for (unsigned i = 0; i < 25; i++) {
    if (create_key(w->s, w->base + i, "eoa:0xpool") != TKMS_STORE_OK) w->failures++;
    tkms_key_meta k;
    uint8_t id[16];
    make_id(id, w->base + i);
    if (tkms_store_key_get(w->s, id, &k) != TKMS_STORE_OK) w->failures++;
  }
  return NULL;
}

/* Several threads share the connection pool. */
static void test_threads(void **state) {
  fixture *f = *state;
  pthread_t th[4];
  worker_arg w[4];
  for (unsigned i = 0; i < 4; i++) {
    w[i] = (worker_arg){f->s, 100 + 100 * i, 0};
    assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
  }
  for (unsigned i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].failures, 0);
  }
  uint64_t n;
  assert_int_equal(tkms_store_count_records(f->s, &n), TKMS_STORE_OK);
  assert_int_equal(n, 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
      cmocka_unit_test(test_schema_migration),
      cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
      cmocka_unit_test_setup_teardown(test_apply_records, setup, teardown),
      cmocka_unit_test_setup_teardown(test_apply_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_pagination, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_lifecycle_metadata, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
  };
  return cmocka_run_group_tests_name("host_store", tests, NULL, NULL);
}
