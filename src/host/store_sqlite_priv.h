/* src/host/store_sqlite_priv.h — what the two SQLite backend files share:
 * the connection pool, the prepared statement ids and small column/bind
 * helpers. Not for other files. */
#ifndef TKMS_HOST_STORE_SQLITE_PRIV_H
#define TKMS_HOST_STORE_SQLITE_PRIV_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "host/store.h"
#include "host/store_cache.h"

/* Prepared statements, one set per connection (SQL in store_sqlite.c). */
enum {
  ST_BEGIN,
  ST_COMMIT,
  ST_ROLLBACK,
  ST_META_GET,
  ST_META_PUT,
  ST_REC_PUT,
  ST_REC_DEL,
  ST_REC_GET,
  ST_REC_ALL,
  ST_REC_COUNT,
  ST_KEY_INSERT,
  ST_KEY_ROTATE,
  ST_KEY_DESTROY,
  ST_VER_INSERT,
  ST_RECEIPT_INSERT,
  ST_SESSION_INSERT,
  ST_SESSION_REVOKE,
  ST_KEY_GET,
  ST_KEY_LIST,
  ST_KEY_BY_OWNER_TYPE,
  ST_VER_LIST,
  ST_RECEIPT_GET,
  ST_RECEIPT_SIGN,
  ST_SESSION_GET,
  ST_KEY_OWNER,
  ST__COUNT
};

/* A pooled connection; used by one thread at a time under mu. */
typedef struct {
  pthread_mutex_t mu;
  sqlite3 *db;
  sqlite3_stmt *st[ST__COUNT];
} tkms_sq_conn;

struct tkms_store {
  unsigned n;
  tkms_sq_conn *conns;
  atomic_uint next_hint;
  tkms_store_cache *cache; /* key metadata and records for signing; may be NULL */
};

/* Borrows a connection (the calling thread's preferred one if free). */
tkms_sq_conn *tkms_sq_acquire(tkms_store *s);
void tkms_sq_release(tkms_sq_conn *c);
/* A statement reset and with its bindings cleared. */
sqlite3_stmt *tkms_sq_stmt(tkms_sq_conn *c, int which);
/* SQLite result code -> TKMS_STORE_* */
int tkms_sq_map_rc(int rc);
/* Steps a statement that returns no rows. */
int tkms_sq_step_done(sqlite3_stmt *st);
int tkms_sq_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n);
int tkms_sq_bind_text(sqlite3_stmt *st, int i, const char *s);
int tkms_sq_bind_u64(sqlite3_stmt *st, int i, uint64_t v);
/* Copies a blob column into a fresh buffer (free with tkms_store_free). */
int tkms_sq_column_dup(sqlite3_stmt *st, int col, uint8_t **v, size_t *n);
/* A blob column of exactly max bytes (got == NULL) or at most max (*got). */
int tkms_sq_column_fixed(sqlite3_stmt *st, int col, uint8_t *out, size_t max, size_t *got);
int tkms_sq_column_text(sqlite3_stmt *st, int col, char *out, size_t cap);
uint64_t tkms_sq_column_u64(sqlite3_stmt *st, int col);

#endif
