/* src/host/store_sqlite.c — the embedded store backend (store.h) on SQLite.
 *
 * One database file in the data directory, WAL mode with synchronous=FULL so a
 * committed transaction survives power loss, a pool of connections (one per
 * worker thread in practice) each with its statements prepared once. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/store_sqlite_priv.h"

/* 1: the first schema. 2: key_versions.operator_id (bn254 keys), an index on
 * keys(owner, key_type, state). Older databases are migrated at open. */
#define SCHEMA_VERSION 2
#define BUSY_TIMEOUT_MS 5000

static const char schema_sql[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE records(type INTEGER NOT NULL, id BLOB NOT NULL, version INTEGER NOT NULL,"
    " blob BLOB NOT NULL, PRIMARY KEY(type, id)) WITHOUT ROWID;"
    "CREATE TABLE keys(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id BLOB NOT NULL UNIQUE CHECK(length(id) = 16), owner TEXT NOT NULL,"
    " key_type TEXT NOT NULL, state INTEGER NOT NULL, version INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, destroyed_at INTEGER);"
    "CREATE INDEX keys_owner ON keys(owner, seq);"
    "CREATE TABLE key_versions(key_id BLOB NOT NULL REFERENCES keys(id), version INTEGER NOT NULL,"
    " public_key BLOB NOT NULL, address BLOB, created_at INTEGER NOT NULL,"
    " operator_id BLOB, PRIMARY KEY(key_id, version)) WITHOUT ROWID;"
    "CREATE INDEX keys_owner_type ON keys(owner, key_type, state, seq);"
    "CREATE TABLE receipts(key_id BLOB PRIMARY KEY REFERENCES keys(id), owner TEXT NOT NULL,"
    " version INTEGER NOT NULL, destroyed_at INTEGER NOT NULL, request_id BLOB NOT NULL,"
    " signature BLOB NOT NULL, signer BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE sessions(id BLOB PRIMARY KEY, owner TEXT NOT NULL, session_key TEXT NOT NULL,"
    " expiry INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

/* Schema 1 -> 2, in the same transaction as the version bump. */
static const char migrate_1_2_sql[] =
    "ALTER TABLE key_versions ADD COLUMN operator_id BLOB;"
    "CREATE INDEX keys_owner_type ON keys(owner, key_type, state, seq);";

#define KEY_COLS                                                                             \
  "k.id, k.owner, k.key_type, k.state, k.version, k.created_at, k.updated_at,"               \
  " coalesce(k.destroyed_at, 0), k.seq, v.public_key, v.address, coalesce(v.created_at, 0)," \
  " v.operator_id FROM keys k LEFT JOIN key_versions v ON v.key_id = k.id AND v.version = "  \
  "k.version"

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [ST_META_PUT] =
        "INSERT INTO meta(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
    [ST_REC_PUT] =
        "INSERT INTO records(type, id, version, blob) VALUES(?1, ?2, ?3, ?4)"
        " ON CONFLICT(type, id) DO UPDATE SET version = excluded.version,"
        " blob = excluded.blob",
    [ST_REC_DEL] = "DELETE FROM records WHERE type = ?1 AND id = ?2",
    [ST_REC_GET] = "SELECT version, blob FROM records WHERE type = ?1 AND id = ?2",
    [ST_REC_ALL] = "SELECT type, id, version, blob FROM records ORDER BY type, id",
    [ST_REC_COUNT] = "SELECT count(*) FROM records",
    [ST_KEY_INSERT] =
        "INSERT INTO keys(id, owner, key_type, state, version, created_at,"
        " updated_at) VALUES(?1, ?2, ?3, 0, ?4, ?5, ?5)",
    [ST_KEY_ROTATE] =
        "UPDATE keys SET version = ?2, updated_at = ?3"
        " WHERE id = ?1 AND state = 0 AND version < ?2",
    [ST_KEY_DESTROY] =
        "UPDATE keys SET state = 1, destroyed_at = ?2, updated_at = ?2"
        " WHERE id = ?1 AND state = 0",
    [ST_KEY_OWNER] = "UPDATE keys SET owner = ?2, updated_at = ?3 WHERE id = ?1 AND state = 0",
    [ST_VER_INSERT] =
        "INSERT INTO key_versions(key_id, version, public_key, address, created_at,"
        " operator_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_RECEIPT_INSERT] =
        "INSERT INTO receipts(key_id, owner, version, destroyed_at, request_id,"
        " signature, signer) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_SESSION_INSERT] =
        "INSERT INTO sessions(id, owner, session_key, expiry) VALUES(?1, ?2, ?3, ?4)",
    [ST_SESSION_REVOKE] = "UPDATE sessions SET revoked = 1 WHERE id = ?1",
    [ST_KEY_GET] = "SELECT " KEY_COLS " WHERE k.id = ?1",
    [ST_KEY_LIST] = "SELECT " KEY_COLS " WHERE k.owner = ?1 AND k.seq > ?2 ORDER BY k.seq LIMIT ?3",
    [ST_KEY_BY_OWNER_TYPE] = "SELECT " KEY_COLS
                             " WHERE k.owner = ?1 AND k.key_type = ?2 AND k.state = 0"
                             " ORDER BY k.seq DESC LIMIT 1",
    [ST_VER_LIST] =
        "SELECT version, public_key, address, created_at, operator_id FROM key_versions"
        " WHERE key_id = ?1 ORDER BY version",
    [ST_RECEIPT_SIGN] = "UPDATE receipts SET signature = ?2 WHERE key_id = ?1",
    [ST_RECEIPT_GET] =
        "SELECT owner, version, destroyed_at, request_id, signature, signer"
        " FROM receipts WHERE key_id = ?1",
    [ST_SESSION_GET] = "SELECT owner, session_key, expiry, revoked FROM sessions WHERE id = ?1",
};

/* Each thread prefers one connection so worker threads do not contend. */
static _Thread_local unsigned tl_hint = UINT_MAX;

tkms_sq_conn *tkms_sq_acquire(tkms_store *s) {
  if (tl_hint == UINT_MAX) tl_hint = atomic_fetch_add(&s->next_hint, 1);
  unsigned h = tl_hint % s->n;
  for (unsigned i = 0; i < s->n; i++) {
    tkms_sq_conn *c = &s->conns[(h + i) % s->n];
    if (pthread_mutex_trylock(&c->mu) == 0) return c;
  }
  tkms_sq_conn *c = &s->conns[h];
  pthread_mutex_lock(&c->mu);
  return c;
}

void tkms_sq_release(tkms_sq_conn *c) {
  pthread_mutex_unlock(&c->mu);
}

/* Statements are reset after every use so they hold no read snapshot. */
sqlite3_stmt *tkms_sq_stmt(tkms_sq_conn *c, int which) {
  sqlite3_stmt *st = c->st[which];
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return st;
}

int tkms_sq_map_rc(int rc) {
  int base = rc & 0xff;
  if (base == SQLITE_BUSY || base == SQLITE_LOCKED) return TKMS_STORE_BUSY;
  if (base == SQLITE_CONSTRAINT) return TKMS_STORE_CONFLICT;
  return TKMS_STORE_ERR;
}

/* Runs a statement that returns no rows. */
int tkms_sq_step_done(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TKMS_STORE_OK : tkms_sq_map_rc(rc);
}

int tkms_sq_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n) {
  if (n > INT_MAX) return -1;
  /* zero-length blobs must still be non-NULL for NOT NULL columns */
  return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

int tkms_sq_bind_text(sqlite3_stmt *st, int i, const char *s) {
  return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

int tkms_sq_bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
  if (v > (uint64_t)INT64_MAX) return -1; /* SQLite integers are signed 64-bit */
  return sqlite3_bind_int64(st, i, (sqlite3_int64)v) == SQLITE_OK ? 0 : -1;
}

static int exec_sql(sqlite3 *db, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "tkms: store: %s\n", err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return tkms_sq_map_rc(rc);
  }
  return TKMS_STORE_OK;
}

static int user_version(sqlite3 *db, int *v) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : -1;
}

/* Creates the schema once; a second process or connection sees it done. */
static int ensure_schema(sqlite3 *db) {
  if (exec_sql(db, "BEGIN IMMEDIATE") != TKMS_STORE_OK) return TKMS_STORE_ERR;
  int v = 0;
  int rc = TKMS_STORE_ERR;
  if (user_version(db, &v) != 0) goto out;
  if (v > SCHEMA_VERSION) {
    fprintf(stderr, "tkms: store: database schema %d is newer than this build (%d)\n", v,
            SCHEMA_VERSION);
    goto out;
  }
  if (v < SCHEMA_VERSION) {
    char sql[64];
    if (v == 0 && exec_sql(db, schema_sql) != TKMS_STORE_OK) goto out;
    if (v == 1 && exec_sql(db, migrate_1_2_sql) != TKMS_STORE_OK) goto out;
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    if (exec_sql(db, sql) != TKMS_STORE_OK) goto out;
    if (v != 0) fprintf(stderr, "tkms: store: schema migrated from %d to %d\n", v, SCHEMA_VERSION);
  }
  rc = exec_sql(db, "COMMIT");
out:
  if (rc != TKMS_STORE_OK) exec_sql(db, "ROLLBACK");
  return rc;
}

static void conn_close(tkms_sq_conn *c) {
  for (int i = 0; i < ST__COUNT; i++) sqlite3_finalize(c->st[i]);
  if (c->db) sqlite3_close(c->db);
  pthread_mutex_destroy(&c->mu);
  memset(c, 0, sizeof *c);
}

static int conn_open(tkms_sq_conn *c, const char *path, int first) {
  memset(c, 0, sizeof *c);
  if (pthread_mutex_init(&c->mu, NULL) != 0) return TKMS_STORE_ERR;
  /* NOMUTEX: each connection is used under our own mutex by one thread at a time. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
    fprintf(stderr, "tkms: store: cannot open %s: %s\n", path,
            c->db ? sqlite3_errmsg(c->db) : "out of memory");
    return TKMS_STORE_ERR;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
  if (exec_sql(c->db, "PRAGMA journal_mode = WAL") != TKMS_STORE_OK ||
      exec_sql(c->db, "PRAGMA synchronous = FULL") != TKMS_STORE_OK ||
      exec_sql(c->db, "PRAGMA foreign_keys = ON") != TKMS_STORE_OK ||
      exec_sql(c->db, "PRAGMA trusted_schema = OFF") != TKMS_STORE_OK)
    return TKMS_STORE_ERR;
  if (first && ensure_schema(c->db) != TKMS_STORE_OK) return TKMS_STORE_ERR;
  for (int i = 0; i < ST__COUNT; i++) {
    if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL) !=
        SQLITE_OK) {
      fprintf(stderr, "tkms: store: prepare: %s\n", sqlite3_errmsg(c->db));
      return TKMS_STORE_ERR;
    }
  }
  return TKMS_STORE_OK;
}

int tkms_store_open(const char *dir, unsigned nconn, tkms_store **out) {
  if (dir == NULL || out == NULL || nconn == 0 || nconn > 256) return TKMS_STORE_ERR;
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/tkms.db", dir);
  if (n < 0 || (size_t)n >= sizeof path) return TKMS_STORE_ERR;
  tkms_store *s = calloc(1, sizeof *s);
  if (s == NULL) return TKMS_STORE_ERR;
  s->conns = calloc(nconn, sizeof *s->conns);
  if (s->conns == NULL) {
    free(s);
    return TKMS_STORE_ERR;
  }
  for (unsigned i = 0; i < nconn; i++) {
    s->n = i + 1; /* so close() cleans up exactly the ones touched */
    if (conn_open(&s->conns[i], path, i == 0) != TKMS_STORE_OK) {
      tkms_store_close(s);
      return TKMS_STORE_ERR;
    }
  }
  s->cache = tkms_store_cache_new(); /* NULL: no cache, every read goes to SQLite */
  *out = s;
  return TKMS_STORE_OK;
}

void tkms_store_close(tkms_store *s) {
  if (s == NULL) return;
  tkms_store_cache_free(s->cache);
  for (unsigned i = 0; i < s->n; i++) conn_close(&s->conns[i]);
  free(s->conns);
  free(s);
}

void tkms_store_free(uint8_t *p, size_t n) {
  if (p == NULL) return;
  explicit_bzero(p, n);
  free(p);
}

/* Copies a blob column into a fresh buffer (1 byte minimum so NULL means error). */
int tkms_sq_column_dup(sqlite3_stmt *st, int col, uint8_t **v, size_t *n) {
  const void *p = sqlite3_column_blob(st, col);
  int len = sqlite3_column_bytes(st, col);
  uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
  if (b == NULL) return TKMS_STORE_ERR;
  if (len > 0) memcpy(b, p, (size_t)len);
  *v = b;
  *n = (size_t)len;
  return TKMS_STORE_OK;
}

/* Copies a blob column that must be exactly n bytes (or at most n with *got). */
int tkms_sq_column_fixed(sqlite3_stmt *st, int col, uint8_t *out, size_t max, size_t *got) {
  int len = sqlite3_column_bytes(st, col);
  const void *p = sqlite3_column_blob(st, col);
  if (len < 0 || (size_t)len > max || (got == NULL && (size_t)len != max)) return -1;
  if (len > 0) memcpy(out, p, (size_t)len);
  if (got) *got = (size_t)len;
  return 0;
}

int tkms_sq_column_text(sqlite3_stmt *st, int col, char *out, size_t cap) {
  const unsigned char *t = sqlite3_column_text(st, col);
  int len = sqlite3_column_bytes(st, col);
  if (t == NULL || len < 0 || (size_t)len >= cap) return -1;
  memcpy(out, t, (size_t)len);
  out[len] = '\0';
  return 0;
}

uint64_t tkms_sq_column_u64(sqlite3_stmt *st, int col) {
  sqlite3_int64 v = sqlite3_column_int64(st, col);
  return v < 0 ? 0 : (uint64_t)v;
}

int tkms_store_meta_get(tkms_store *s, const char *k, uint8_t **v, size_t *n) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_META_GET);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_text(st, 1, k) != 0) goto out;
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    rc = tkms_sq_column_dup(st, 0, v, n);
  else
    rc = r == SQLITE_DONE ? TKMS_STORE_NOTFOUND : tkms_sq_map_rc(r);
out:
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_meta_put(tkms_store *s, const char *k, const uint8_t *v, size_t n) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_META_PUT);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_text(st, 1, k) == 0 && tkms_sq_bind_blob(st, 2, v, n) == 0)
    rc = tkms_sq_step_done(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_count_records(tkms_store *s, uint64_t *n) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_REC_COUNT);
  int r = sqlite3_step(st);
  int rc = r == SQLITE_ROW ? TKMS_STORE_OK : tkms_sq_map_rc(r);
  if (r == SQLITE_ROW) *n = tkms_sq_column_u64(st, 0);
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_load_records(tkms_store *s, tkms_store_record_cb cb, void *ctx) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_REC_ALL);
  int rc = TKMS_STORE_OK, r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    tkms_store_record rec;
    memset(&rec, 0, sizeof rec);
    sqlite3_int64 type = sqlite3_column_int64(st, 0), ver = sqlite3_column_int64(st, 2);
    size_t id_len = 0;
    if (type < 0 || type > 255 || ver < 0 || ver > UINT32_MAX ||
        tkms_sq_column_fixed(st, 1, rec.id, sizeof rec.id, &id_len) != 0 || id_len == 0) {
      fprintf(stderr, "tkms: store: malformed record row\n");
      rc = TKMS_STORE_ERR;
      break;
    }
    rec.type = (uint8_t)type;
    rec.id_len = (uint8_t)id_len;
    rec.version = (uint32_t)ver;
    rec.blob = sqlite3_column_blob(st, 3);
    rec.blob_len = (size_t)sqlite3_column_bytes(st, 3);
    if ((rc = cb(ctx, &rec)) != 0) break;
  }
  if (rc == TKMS_STORE_OK && r != SQLITE_DONE) rc = tkms_sq_map_rc(r);
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_record_get(tkms_store *s, uint8_t type, const uint8_t *id, size_t id_len,
                          uint32_t *version, uint8_t **blob, size_t *blob_len) {
  if (id_len == 0 || id_len > TKMS_STORE_ID_MAX) return TKMS_STORE_ERR;
  int key = type == TKMS_REC_KEY && id_len == TKMS_KEY_ID_BYTES;
  if (key && tkms_store_cache_rec_get(s->cache, id, version, blob, blob_len) == 0)
    return TKMS_STORE_OK;
  uint64_t gen = tkms_store_cache_gen(s->cache); /* before the read: see store_cache.h */
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_REC_GET);
  int rc = TKMS_STORE_ERR;
  if (sqlite3_bind_int(st, 1, type) != SQLITE_OK || tkms_sq_bind_blob(st, 2, id, id_len) != 0)
    goto out;
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    *version = (uint32_t)sqlite3_column_int64(st, 0);
    rc = tkms_sq_column_dup(st, 1, blob, blob_len);
    if (rc == TKMS_STORE_OK && key)
      tkms_store_cache_rec_put(s->cache, gen, id, *version, *blob, *blob_len);
  } else {
    rc = r == SQLITE_DONE ? TKMS_STORE_NOTFOUND : tkms_sq_map_rc(r);
  }
out:
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

/* ---- apply ----------------------------------------------------------------- */

static int put_meta_blob(tkms_sq_conn *c, const char *k, const uint8_t *v, size_t n) {
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_META_PUT);
  if (tkms_sq_bind_text(st, 1, k) != 0 || tkms_sq_bind_blob(st, 2, v, n) != 0)
    return TKMS_STORE_ERR;
  return tkms_sq_step_done(st);
}

static int insert_version(tkms_sq_conn *c, const uint8_t *key_id, const tkms_key_version *v) {
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_VER_INSERT);
  if (tkms_sq_bind_blob(st, 1, key_id, TKMS_KEY_ID_BYTES) != 0 ||
      sqlite3_bind_int64(st, 2, v->version) != SQLITE_OK ||
      tkms_sq_bind_blob(st, 3, v->public_key, v->public_key_len) != 0 ||
      (v->has_address ? tkms_sq_bind_blob(st, 4, v->address, 20) : sqlite3_bind_null(st, 4)) != 0 ||
      tkms_sq_bind_u64(st, 5, v->created_at) != 0 ||
      (v->has_operator_id ? tkms_sq_bind_blob(st, 6, v->operator_id, 32)
                          : sqlite3_bind_null(st, 6)) != 0)
    return TKMS_STORE_ERR;
  return tkms_sq_step_done(st);
}

/* An UPDATE that must touch exactly one row, else the change does not fit. */
static int step_one_row(tkms_sq_conn *c, sqlite3_stmt *st) {
  int rc = tkms_sq_step_done(st);
  if (rc == TKMS_STORE_OK && sqlite3_changes(c->db) != 1) rc = TKMS_STORE_CONFLICT;
  return rc;
}

static int apply_meta(tkms_sq_conn *c, const tkms_store_meta_change *m) {
  sqlite3_stmt *st;
  int rc;
  switch (m->kind) {
    case TKMS_META_NONE:
      return TKMS_STORE_OK;
    case TKMS_META_KEY_CREATE:
      st = tkms_sq_stmt(c, ST_KEY_INSERT);
      if (tkms_sq_bind_blob(st, 1, m->key.id, TKMS_KEY_ID_BYTES) != 0 ||
          tkms_sq_bind_text(st, 2, m->key.owner) != 0 ||
          tkms_sq_bind_text(st, 3, m->key.key_type) != 0 ||
          sqlite3_bind_int64(st, 4, m->ver.version) != SQLITE_OK ||
          tkms_sq_bind_u64(st, 5, m->key.created_at) != 0)
        return TKMS_STORE_ERR;
      if ((rc = tkms_sq_step_done(st)) != TKMS_STORE_OK) return rc;
      return insert_version(c, m->key.id, &m->ver);
    case TKMS_META_KEY_ROTATE:
      st = tkms_sq_stmt(c, ST_KEY_ROTATE);
      if (tkms_sq_bind_blob(st, 1, m->key.id, TKMS_KEY_ID_BYTES) != 0 ||
          sqlite3_bind_int64(st, 2, m->ver.version) != SQLITE_OK ||
          tkms_sq_bind_u64(st, 3, m->ver.created_at) != 0)
        return TKMS_STORE_ERR;
      if ((rc = step_one_row(c, st)) != TKMS_STORE_OK) return rc;
      return insert_version(c, m->key.id, &m->ver);
    case TKMS_META_KEY_OWNER:
      /* A policy change applied or materialised: the owner in force changed. */
      st = tkms_sq_stmt(c, ST_KEY_OWNER);
      if (tkms_sq_bind_blob(st, 1, m->key.id, TKMS_KEY_ID_BYTES) != 0 ||
          tkms_sq_bind_text(st, 2, m->key.owner) != 0 ||
          tkms_sq_bind_u64(st, 3, m->key.updated_at) != 0)
        return TKMS_STORE_ERR;
      return step_one_row(c, st);
    case TKMS_META_KEY_DESTROY:
      st = tkms_sq_stmt(c, ST_KEY_DESTROY);
      if (tkms_sq_bind_blob(st, 1, m->receipt.key_id, TKMS_KEY_ID_BYTES) != 0 ||
          tkms_sq_bind_u64(st, 2, m->receipt.destroyed_at) != 0)
        return TKMS_STORE_ERR;
      if ((rc = step_one_row(c, st)) != TKMS_STORE_OK) return rc;
      st = tkms_sq_stmt(c, ST_RECEIPT_INSERT);
      if (tkms_sq_bind_blob(st, 1, m->receipt.key_id, TKMS_KEY_ID_BYTES) != 0 ||
          tkms_sq_bind_text(st, 2, m->receipt.owner) != 0 ||
          sqlite3_bind_int64(st, 3, m->receipt.version) != SQLITE_OK ||
          tkms_sq_bind_u64(st, 4, m->receipt.destroyed_at) != 0 ||
          tkms_sq_bind_blob(st, 5, m->receipt.request_id, TKMS_REQUEST_ID_BYTES) != 0 ||
          tkms_sq_bind_blob(st, 6, m->receipt.signature, 65) != 0 ||
          tkms_sq_bind_blob(st, 7, m->receipt.signer, 20) != 0)
        return TKMS_STORE_ERR;
      return tkms_sq_step_done(st);
    case TKMS_META_SESSION_OPEN:
      st = tkms_sq_stmt(c, ST_SESSION_INSERT);
      if (tkms_sq_bind_blob(st, 1, m->session.id, TKMS_SESSION_ID_BYTES) != 0 ||
          tkms_sq_bind_text(st, 2, m->session.owner) != 0 ||
          tkms_sq_bind_text(st, 3, m->session.session_key) != 0 ||
          tkms_sq_bind_u64(st, 4, m->session.expiry) != 0)
        return TKMS_STORE_ERR;
      return tkms_sq_step_done(st);
    case TKMS_META_SESSION_REVOKE:
      /* The core's session index is authoritative; metadata may lack the row. */
      st = tkms_sq_stmt(c, ST_SESSION_REVOKE);
      if (tkms_sq_bind_blob(st, 1, m->session.id, TKMS_SESSION_ID_BYTES) != 0)
        return TKMS_STORE_ERR;
      return tkms_sq_step_done(st);
  }
  return TKMS_STORE_ERR;
}

static int tx_valid(const tkms_store_tx *tx) {
  if ((tx->n_puts && tx->puts == NULL) || (tx->n_dels && tx->dels == NULL)) return 0;
  for (size_t i = 0; i < tx->n_puts; i++) {
    if (tx->puts[i].id_len == 0 || tx->puts[i].id_len > TKMS_STORE_ID_MAX) return 0;
    if (tx->puts[i].blob_len && tx->puts[i].blob == NULL) return 0;
  }
  for (size_t i = 0; i < tx->n_dels; i++) {
    if (tx->dels[i].id_len == 0 || tx->dels[i].id_len > TKMS_STORE_ID_MAX) return 0;
  }
  if ((tx->manifest_len && !tx->manifest) || (tx->dmk_len && !tx->dmk)) return 0;
  return 1;
}

int tkms_store_apply(tkms_store *s, const tkms_store_tx *tx) {
  if (s == NULL || tx == NULL || !tx_valid(tx)) return TKMS_STORE_ERR;
  tkms_sq_conn *c = tkms_sq_acquire(s);
  int rc = tkms_sq_step_done(tkms_sq_stmt(c, ST_BEGIN));
  if (rc != TKMS_STORE_OK) {
    tkms_sq_release(c);
    return rc;
  }
  /* Deletes first: a transaction may delete and re-put the same record. */
  for (size_t i = 0; rc == TKMS_STORE_OK && i < tx->n_dels; i++) {
    sqlite3_stmt *st = tkms_sq_stmt(c, ST_REC_DEL);
    rc = (sqlite3_bind_int(st, 1, tx->dels[i].type) != SQLITE_OK ||
          tkms_sq_bind_blob(st, 2, tx->dels[i].id, tx->dels[i].id_len) != 0)
             ? TKMS_STORE_ERR
             : tkms_sq_step_done(st);
  }
  for (size_t i = 0; rc == TKMS_STORE_OK && i < tx->n_puts; i++) {
    const tkms_store_record *r = &tx->puts[i];
    sqlite3_stmt *st = tkms_sq_stmt(c, ST_REC_PUT);
    rc = (sqlite3_bind_int(st, 1, r->type) != SQLITE_OK ||
          tkms_sq_bind_blob(st, 2, r->id, r->id_len) ||
          sqlite3_bind_int64(st, 3, r->version) != SQLITE_OK ||
          tkms_sq_bind_blob(st, 4, r->blob, r->blob_len))
             ? TKMS_STORE_ERR
             : tkms_sq_step_done(st);
  }
  if (rc == TKMS_STORE_OK && tx->manifest)
    rc = put_meta_blob(c, TKMS_STORE_META_MANIFEST, tx->manifest, tx->manifest_len);
  if (rc == TKMS_STORE_OK && tx->dmk)
    rc = put_meta_blob(c, TKMS_STORE_META_DMK, tx->dmk, tx->dmk_len);
  if (rc == TKMS_STORE_OK) rc = apply_meta(c, &tx->meta);
  if (rc == TKMS_STORE_OK) rc = tkms_sq_step_done(tkms_sq_stmt(c, ST_COMMIT));
  /* Also after a failed COMMIT: whatever the store holds now, cached copies of
   * what it held before must not be served. */
  tkms_store_cache_bump(s->cache);
  if (rc != TKMS_STORE_OK) {
    /* ROLLBACK is a no-op error if COMMIT already failed and rolled back itself */
    tkms_sq_step_done(tkms_sq_stmt(c, ST_ROLLBACK));
  }
  tkms_sq_release(c);
  return rc;
}
