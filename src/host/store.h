/* src/host/store.h — what the host keeps on disk: sealed blobs from the core and
 * the public metadata derived from the core's answers.
 *
 * The interface is deliberately narrow so that a second backend (PostgreSQL for
 * a cluster) can be added without touching callers: every state change the core
 * prepares is written by exactly one call, tkms_store_apply(), which must be
 * atomic and durable when it returns 0 ("acknowledged means durable").
 *
 * Thread safety: every function may be called from any thread; the backend
 * keeps its own pool of connections. Returned data is copied into caller
 * structures (or malloc'd buffers the caller frees) and never aliases backend
 * memory, except inside a tkms_store_load_records() callback.
 *
 * Return codes: TKMS_STORE_OK (0), or one of the positive/negative codes below.
 * Nothing in here ever logs a blob. */
#ifndef TKMS_HOST_STORE_H
#define TKMS_HOST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ops.h"

enum {
  TKMS_STORE_OK = 0,
  TKMS_STORE_NOTFOUND = 1, /* no such row */
  TKMS_STORE_CONFLICT = 2, /* apply: the metadata change does not fit the current
                              state (duplicate key id, rotating an unknown key ...);
                              nothing was written */
  TKMS_STORE_BUSY = 3,     /* database locked for too long; nothing was written */
  TKMS_STORE_ERR = -1,     /* I/O, corruption, bad arguments; nothing was written */
};

#define TKMS_STORE_ID_MAX 32u /* record ids are 1..32 bytes (ops.h record encoding) */
#define TKMS_KEY_TYPE_MAX 15u
#define TKMS_PUBKEY_MAX 192u /* bn254: G1 || G2 */

typedef struct tkms_store tkms_store;

/* A sealed record as the core encodes it (ops.h): (type, id) names it, a put
 * replaces the previous version. blob is opaque to the host. */
typedef struct {
  uint8_t type;
  uint8_t id_len;
  uint8_t id[TKMS_STORE_ID_MAX];
  uint32_t version;
  const uint8_t *blob;
  size_t blob_len;
} tkms_store_record;

typedef struct {
  uint8_t type;
  uint8_t id_len;
  uint8_t id[TKMS_STORE_ID_MAX];
} tkms_store_ref;

enum { TKMS_KEY_STATE_ACTIVE = 0, TKMS_KEY_STATE_DESTROYED = 1 };

/* Public data of one key version. */
typedef struct {
  uint32_t version;
  uint8_t public_key[TKMS_PUBKEY_MAX];
  size_t public_key_len;
  uint8_t address[20];
  int has_address;
  uint8_t operator_id[32]; /* bn254 keys: keccak256(G1 pk), computed by the core */
  int has_operator_id;
  uint64_t created_at;
} tkms_key_version;

/* Public metadata of a key; `current` is the public data of `version`. */
typedef struct {
  uint8_t id[TKMS_KEY_ID_BYTES];
  char owner[TKMS_MAX_PRINCIPAL + 1];
  char key_type[TKMS_KEY_TYPE_MAX + 1];
  int state; /* TKMS_KEY_STATE_* */
  uint32_t version;
  uint64_t created_at;
  uint64_t updated_at;
  uint64_t destroyed_at; /* 0 unless destroyed */
  uint64_t seq;          /* creation order; the list cursor */
  tkms_key_version current;
} tkms_key_meta;

/* The deletion receipt of a destroyed key (fields of the EIP-712
 * DeletionReceipt plus the identity signature). */
typedef struct {
  uint8_t key_id[TKMS_KEY_ID_BYTES];
  char owner[TKMS_MAX_PRINCIPAL + 1];
  uint32_t version;
  uint64_t destroyed_at;
  uint8_t request_id[TKMS_REQUEST_ID_BYTES];
  uint8_t signature[65];
  uint8_t signer[20]; /* deployment identity address */
} tkms_receipt;

typedef struct {
  uint8_t id[TKMS_SESSION_ID_BYTES];
  char owner[TKMS_MAX_PRINCIPAL + 1];
  char session_key[TKMS_MAX_PRINCIPAL + 1];
  uint64_t expiry;
  int revoked;
} tkms_session_meta;

/* The public metadata change that goes with a prepared transaction. */
typedef enum {
  TKMS_META_NONE = 0,
  TKMS_META_KEY_CREATE,     /* key (id owner key_type version created_at) + ver */
  TKMS_META_KEY_ROTATE,     /* key.id, key.updated_at + ver (the new version) */
  TKMS_META_KEY_DESTROY,    /* receipt (key_id version destroyed_at ...) */
  TKMS_META_SESSION_OPEN,   /* session */
  TKMS_META_SESSION_REVOKE, /* session.id */
  TKMS_META_KEY_OWNER,      /* key.id, key.owner, key.updated_at: a policy change's owner */
} tkms_meta_kind;

typedef struct {
  tkms_meta_kind kind;
  tkms_key_meta key;
  tkms_key_version ver;
  tkms_receipt receipt;
  tkms_session_meta session;
} tkms_store_meta_change;

/* One prepared transaction: everything the core asked to write plus the
 * metadata derived from its answer. Applied all or nothing. */
typedef struct {
  const tkms_store_record *puts;
  size_t n_puts;
  const tkms_store_ref *dels;
  size_t n_dels;
  const uint8_t *manifest; /* NULL: unchanged */
  size_t manifest_len;
  const uint8_t *dmk; /* NULL: unchanged (set only by INIT) */
  size_t dmk_len;
  tkms_store_meta_change meta;
} tkms_store_tx;

/* Opens (creating if needed) the store in directory dir with a pool of
 * nconn connections (1..256). Refuses a schema newer than this build. */
int tkms_store_open(const char *dir, unsigned nconn, tkms_store **out);
void tkms_store_close(tkms_store *s);

/* Small named values (the sealed DMK, the sealed manifest, ...).
 * meta_get returns a malloc'd copy (free with tkms_store_free) or NOTFOUND. */
int tkms_store_meta_get(tkms_store *s, const char *k, uint8_t **v, size_t *n);
int tkms_store_meta_put(tkms_store *s, const char *k, const uint8_t *v, size_t n);
/* Zeroises and frees a buffer returned by this interface. */
void tkms_store_free(uint8_t *p, size_t n);

/* Reserved meta keys. */
#define TKMS_STORE_META_DMK "dmk"
#define TKMS_STORE_META_MANIFEST "manifest"

/* Number of sealed records. */
int tkms_store_count_records(tkms_store *s, uint64_t *n);
/* Calls cb for every record (ordered by type, id). r->blob is valid only
 * during the call. A non-zero return from cb stops the walk and is returned. */
typedef int (*tkms_store_record_cb)(void *ctx, const tkms_store_record *r);
int tkms_store_load_records(tkms_store *s, tkms_store_record_cb cb, void *ctx);
/* One record's version and blob (malloc'd; free with tkms_store_free). */
int tkms_store_record_get(tkms_store *s, uint8_t type, const uint8_t *id, size_t id_len,
                          uint32_t *version, uint8_t **blob, size_t *blob_len);

/* Applies tx atomically and durably. On any error nothing is written. */
int tkms_store_apply(tkms_store *s, const tkms_store_tx *tx);

/* Key metadata. */
int tkms_store_key_get(tkms_store *s, const uint8_t id[TKMS_KEY_ID_BYTES], tkms_key_meta *out);
/* All versions of a key in ascending order; cb returns non-zero to stop. */
typedef int (*tkms_store_version_cb)(void *ctx, const tkms_key_version *v);
int tkms_store_key_versions(tkms_store *s, const uint8_t id[TKMS_KEY_ID_BYTES],
                            tkms_store_version_cb cb, void *ctx);
/* Keys of owner created after cursor `after` (0 = from the start), at most
 * limit (1..1000), in creation order. *next is the cursor of the next page or 0
 * when this page is the last. */
typedef int (*tkms_store_key_cb)(void *ctx, const tkms_key_meta *k);
int tkms_store_keys_by_owner(tkms_store *s, const char *owner, uint64_t after, unsigned limit,
                             tkms_store_key_cb cb, void *ctx, uint64_t *next);

/* The most recently created active key of owner with this key type (the AVS
 * routes: one bn254 key per operator). NOTFOUND if there is none. */
int tkms_store_key_by_owner_type(tkms_store *s, const char *owner, const char *key_type,
                                 tkms_key_meta *out);

int tkms_store_receipt_get(tkms_store *s, const uint8_t key_id[TKMS_KEY_ID_BYTES],
                           tkms_receipt *out);
/* The core signs a deletion receipt only at COMMIT, so a destroy's receipt is
 * stored with an all-zero signature in the destroy's transaction and signed
 * here afterwards. A receipt still unsigned (the host died in between) is
 * never shown. */
int tkms_store_receipt_set_signature(tkms_store *s, const uint8_t key_id[TKMS_KEY_ID_BYTES],
                                     const uint8_t sig[65]);
int tkms_store_session_get(tkms_store *s, const uint8_t id[TKMS_SESSION_ID_BYTES],
                           tkms_session_meta *out);

#endif
