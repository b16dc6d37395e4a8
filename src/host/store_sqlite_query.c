/* src/host/store_sqlite_query.c — metadata reads of the SQLite backend
 * (key, versions, owner listing, receipts, sessions); see store.h. */
#include <string.h>

#include "host/store_sqlite_priv.h"

static int read_key_row(sqlite3_stmt *st, tkms_key_meta *k) {
  memset(k, 0, sizeof *k);
  sqlite3_int64 state = sqlite3_column_int64(st, 3), ver = sqlite3_column_int64(st, 4);
  if (tkms_sq_column_fixed(st, 0, k->id, TKMS_KEY_ID_BYTES, NULL) != 0 ||
      tkms_sq_column_text(st, 1, k->owner, sizeof k->owner) != 0 ||
      tkms_sq_column_text(st, 2, k->key_type, sizeof k->key_type) != 0 || state < 0 || state > 1 ||
      ver < 0 || ver > UINT32_MAX)
    return TKMS_STORE_ERR;
  k->state = (int)state;
  k->version = (uint32_t)ver;
  k->created_at = tkms_sq_column_u64(st, 5);
  k->updated_at = tkms_sq_column_u64(st, 6);
  k->destroyed_at = tkms_sq_column_u64(st, 7);
  k->seq = tkms_sq_column_u64(st, 8);
  k->current.version = k->version;
  if (tkms_sq_column_fixed(st, 9, k->current.public_key, TKMS_PUBKEY_MAX,
                           &k->current.public_key_len) != 0)
    return TKMS_STORE_ERR;
  if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
    if (tkms_sq_column_fixed(st, 10, k->current.address, 20, NULL) != 0) return TKMS_STORE_ERR;
    k->current.has_address = 1;
  }
  k->current.created_at = tkms_sq_column_u64(st, 11);
  if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
    if (tkms_sq_column_fixed(st, 12, k->current.operator_id, 32, NULL) != 0) return TKMS_STORE_ERR;
    k->current.has_operator_id = 1;
  }
  return TKMS_STORE_OK;
}

int tkms_store_key_get(tkms_store *s, const uint8_t id[TKMS_KEY_ID_BYTES], tkms_key_meta *out) {
  if (tkms_store_cache_key_get(s->cache, id, out) == 0) return TKMS_STORE_OK;
  uint64_t gen = tkms_store_cache_gen(s->cache); /* before the read: see store_cache.h */
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_KEY_GET);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_blob(st, 1, id, TKMS_KEY_ID_BYTES) == 0) {
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      rc = read_key_row(st, out);
      if (rc == TKMS_STORE_OK) tkms_store_cache_key_put(s->cache, gen, out);
    } else
      rc = r == SQLITE_DONE ? TKMS_STORE_NOTFOUND : tkms_sq_map_rc(r);
  }
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_key_versions(tkms_store *s, const uint8_t id[TKMS_KEY_ID_BYTES],
                            tkms_store_version_cb cb, void *ctx) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_VER_LIST);
  int rc = TKMS_STORE_ERR, r = SQLITE_DONE;
  if (tkms_sq_bind_blob(st, 1, id, TKMS_KEY_ID_BYTES) != 0) goto out;
  rc = TKMS_STORE_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    tkms_key_version v;
    memset(&v, 0, sizeof v);
    sqlite3_int64 ver = sqlite3_column_int64(st, 0);
    if (ver < 0 || ver > UINT32_MAX ||
        tkms_sq_column_fixed(st, 1, v.public_key, TKMS_PUBKEY_MAX, &v.public_key_len) != 0) {
      rc = TKMS_STORE_ERR;
      break;
    }
    v.version = (uint32_t)ver;
    if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
      if (tkms_sq_column_fixed(st, 2, v.address, 20, NULL) != 0) {
        rc = TKMS_STORE_ERR;
        break;
      }
      v.has_address = 1;
    }
    v.created_at = tkms_sq_column_u64(st, 3);
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
      if (tkms_sq_column_fixed(st, 4, v.operator_id, 32, NULL) != 0) {
        rc = TKMS_STORE_ERR;
        break;
      }
      v.has_operator_id = 1;
    }
    if ((rc = cb(ctx, &v)) != 0) break;
  }
  if (rc == TKMS_STORE_OK && r != SQLITE_DONE) rc = tkms_sq_map_rc(r);
out:
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_keys_by_owner(tkms_store *s, const char *owner, uint64_t after, unsigned limit,
                             tkms_store_key_cb cb, void *ctx, uint64_t *next) {
  if (limit == 0 || limit > 1000) return TKMS_STORE_ERR;
  *next = 0;
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_KEY_LIST);
  int rc = TKMS_STORE_ERR, r = SQLITE_DONE;
  /* one row more than asked tells whether another page exists */
  if (tkms_sq_bind_text(st, 1, owner) != 0 || tkms_sq_bind_u64(st, 2, after) != 0 ||
      sqlite3_bind_int(st, 3, (int)limit + 1) != SQLITE_OK)
    goto out;
  rc = TKMS_STORE_OK;
  unsigned seen = 0;
  uint64_t last = 0;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (seen == limit) {
      *next = last;
      break;
    }
    tkms_key_meta k;
    if ((rc = read_key_row(st, &k)) != TKMS_STORE_OK) break;
    if ((rc = cb(ctx, &k)) != 0) break;
    last = k.seq;
    seen++;
  }
  if (rc == TKMS_STORE_OK && r != SQLITE_DONE && r != SQLITE_ROW) rc = tkms_sq_map_rc(r);
out:
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_key_by_owner_type(tkms_store *s, const char *owner, const char *key_type,
                                 tkms_key_meta *out) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_KEY_BY_OWNER_TYPE);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_text(st, 1, owner) == 0 && tkms_sq_bind_text(st, 2, key_type) == 0) {
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
      rc = read_key_row(st, out);
    else
      rc = r == SQLITE_DONE ? TKMS_STORE_NOTFOUND : tkms_sq_map_rc(r);
  }
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_receipt_get(tkms_store *s, const uint8_t key_id[TKMS_KEY_ID_BYTES],
                           tkms_receipt *out) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_RECEIPT_GET);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_blob(st, 1, key_id, TKMS_KEY_ID_BYTES) != 0) goto out;
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW) {
    rc = r == SQLITE_DONE ? TKMS_STORE_NOTFOUND : tkms_sq_map_rc(r);
    goto out;
  }
  memset(out, 0, sizeof *out);
  memcpy(out->key_id, key_id, TKMS_KEY_ID_BYTES);
  sqlite3_int64 ver = sqlite3_column_int64(st, 1);
  if (tkms_sq_column_text(st, 0, out->owner, sizeof out->owner) == 0 && ver >= 0 &&
      ver <= UINT32_MAX &&
      tkms_sq_column_fixed(st, 3, out->request_id, TKMS_REQUEST_ID_BYTES, NULL) == 0 &&
      tkms_sq_column_fixed(st, 4, out->signature, 65, NULL) == 0 &&
      tkms_sq_column_fixed(st, 5, out->signer, 20, NULL) == 0) {
    out->version = (uint32_t)ver;
    out->destroyed_at = tkms_sq_column_u64(st, 2);
    rc = TKMS_STORE_OK;
  }
out:
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_receipt_set_signature(tkms_store *s, const uint8_t key_id[TKMS_KEY_ID_BYTES],
                                     const uint8_t sig[65]) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_RECEIPT_SIGN);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_blob(st, 1, key_id, TKMS_KEY_ID_BYTES) == 0 &&
      tkms_sq_bind_blob(st, 2, sig, 65) == 0) {
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE)
      rc = sqlite3_changes(c->db) == 1 ? TKMS_STORE_OK : TKMS_STORE_NOTFOUND;
    else
      rc = tkms_sq_map_rc(r);
  }
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}

int tkms_store_session_get(tkms_store *s, const uint8_t id[TKMS_SESSION_ID_BYTES],
                           tkms_session_meta *out) {
  tkms_sq_conn *c = tkms_sq_acquire(s);
  sqlite3_stmt *st = tkms_sq_stmt(c, ST_SESSION_GET);
  int rc = TKMS_STORE_ERR;
  if (tkms_sq_bind_blob(st, 1, id, TKMS_SESSION_ID_BYTES) != 0) goto out;
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW) {
    rc = r == SQLITE_DONE ? TKMS_STORE_NOTFOUND : tkms_sq_map_rc(r);
    goto out;
  }
  memset(out, 0, sizeof *out);
  memcpy(out->id, id, TKMS_SESSION_ID_BYTES);
  if (tkms_sq_column_text(st, 0, out->owner, sizeof out->owner) == 0 &&
      tkms_sq_column_text(st, 1, out->session_key, sizeof out->session_key) == 0) {
    out->expiry = tkms_sq_column_u64(st, 2);
    out->revoked = sqlite3_column_int(st, 3) != 0;
    rc = TKMS_STORE_OK;
  }
out:
  sqlite3_reset(st);
  tkms_sq_release(c);
  return rc;
}
