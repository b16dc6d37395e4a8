/* src/core/index.h — the in-memory index of live records (public data only).
 *
 * type+id -> version, SHA-256 of the sealed blob, and what authorisation needs
 * without opening the blob: a key's owner, type and public key; a session's
 * scope; a nonce's deadline. Key secrets are never here: a sign request brings
 * the sealed blob, and the core checks it against blob_hash before opening it.
 * The one secret an entry holds is a MAC session's key (u.session.mac_key, in
 * locked memory, secmem.h): derived when the record enters the index, under the
 * exclusive lock or before the record is shared, and zeroised with the entry.
 *
 * Ids are chosen by clients (request ids) or the host can influence which exist,
 * so buckets are chosen with a keyed hash (SipHash, random key): no one can aim
 * many ids at one chain. Not thread-safe: the caller holds the core's locks. */
#ifndef TKMS_CORE_INDEX_H
#define TKMS_CORE_INDEX_H
#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "core/policy.h"
#include "proto/ops.h"

#define TKMS_REC_ID_MAX 32u
/* The governance record keeps its decoded content (governance.h) in the
 * trailing space, in units of 16 bytes. */
#define TKMS_REC_GOV_SLOTS 40u

typedef struct tkms_rec {
  struct tkms_rec *next; /* bucket chain */
  uint8_t type;          /* TKMS_REC_* */
  uint8_t id_len;
  uint8_t id[TKMS_REC_ID_MAX];
  uint32_t version;
  uint8_t blob_hash[32];
  union {
    /* Keys: the policy lives beside the record, not in it: `policy` is NULL for
     * the default policy (most keys) or a heap copy owned by this record
     * (tkms_rec_free frees it, tkms_rec_dup copies it). The pointer sits where
     * padding was, so the union -- and with it every nonce and session record --
     * did not grow (test_core_policy checks the size). */
    struct {
      uint64_t created_at;
      tkms_policy *policy; /* NULL = default */
      uint8_t key_type;    /* TKMS_KEYTYPE_* */
      char owner[TKMS_MAX_PRINCIPAL + 1];
      uint8_t pub[TKMS_KEY_PUB_MAX];
      uint8_t pub_len;
    } key;
    /* A pending policy change (TKMS_REC_POLICY_CHANGE, id = the key id): what the
     * key's owner and policy become at effective_at. */
    struct {
      uint64_t accepted_at;
      tkms_policy *policy; /* the whole new policy; NULL = default; owned */
      uint64_t effective_at;
      char new_owner[TKMS_MAX_PRINCIPAL + 1]; /* the owner from effective_at */
    } pending;
    struct {
      char owner[TKMS_MAX_PRINCIPAL + 1];
      char session_key[TKMS_MAX_PRINCIPAL + 1];
      uint8_t ops; /* TKMS_SCOPE_* bits */
      uint64_t expiry;
      uint8_t n_keys; /* 0 = all the owner's keys */
      /* Attested sessions (owner = "measurement:<tee>:0x<hex>"): the claims
       * the evidence proved when the session was opened (attested.h). */
      uint8_t attested;
      uint8_t tee; /* TKMS_ATTEST_* */
      uint8_t mlen;
      uint8_t meas[48];
      uint16_t svn;
      uint8_t tcb_status; /* TKMS_TCB_* */
      uint64_t verified_at;
      /* MAC sessions (session_key "x25519:0x..."): the 32-byte HMAC key shared
       * with the client (sessions.h), a tkms_secmem_key_alloc slot owned by
       * this record; NULL for every other session. Never sealed: derived again
       * from the record's session_key when it is loaded. tkms_rec_dup does not
       * copy it (the copy has NULL). */
      uint8_t *mac_key;
    } session;
    struct {
      uint64_t deadline;
    } nonce;
    struct {
      uint64_t floor;   /* no time below this was handed out (core/clock.h) */
      uint16_t cfg_len; /* the config bytes follow the record (scope_keys) */
    } time;
  } u;
  uint8_t scope_keys[][16]; /* sessions: n_keys key ids; governance: its content */
} tkms_rec;

typedef struct {
  tkms_rec **buckets;
  size_t n_buckets;            /* power of two */
  size_t count[TKMS_REC__MAX]; /* live records per type (index = TKMS_REC_*) */
  uint8_t hash_key[16];
} tkms_index;

int tkms_index_init(tkms_index *ix);
/* Frees every record and the table. */
void tkms_index_free(tkms_index *ix);
/* Frees every record, keeps the table. */
void tkms_index_clear(tkms_index *ix);

/* A zeroed record with room for n_scope_keys session key ids; NULL if out of memory. */
tkms_rec *tkms_rec_new(size_t n_scope_keys);
/* A deep copy (sessions include their key ids, keys and pending changes their
 * policy); NULL if out of memory. */
tkms_rec *tkms_rec_dup(const tkms_rec *r);
/* Frees a record and what it owns (a key's or pending change's policy). NULL ok. */
void tkms_rec_free(tkms_rec *r);
/* The policy slot of a key or pending-change record; NULL for other types. */
tkms_policy **tkms_rec_policy_slot(tkms_rec *r);
/* The record's policy (the default policy if it has none of its own). */
const tkms_policy *tkms_rec_policy(const tkms_rec *r);
/* Sets r's policy to a copy of p (NULL or the default policy: none of its own).
 * Returns 0 or -1 (out of memory; r unchanged). */
int tkms_rec_set_policy(tkms_rec *r, const tkms_policy *p);

tkms_rec *tkms_index_find(const tkms_index *ix, uint8_t type, const uint8_t *id, size_t id_len);
/* Inserts r (the index owns it), replacing and freeing a record with the same
 * type and id. Cannot fail: growing the table is best effort. */
void tkms_index_put(tkms_index *ix, tkms_rec *r);
/* Removes and frees the record; 0, or -1 if absent. */
int tkms_index_del(tkms_index *ix, uint8_t type, const uint8_t *id, size_t id_len);
size_t tkms_index_count(const tkms_index *ix, uint8_t type);

/* Visits up to max_buckets buckets starting at *cursor (advanced, wrapping) and
 * collects up to max_out records for which pred returns 1. Returns how many.
 * Used to prune expired nonces and sessions a few at a time. */
size_t tkms_index_sweep(const tkms_index *ix, size_t *cursor, size_t max_buckets,
                        int (*pred)(const tkms_rec *r, void *arg), void *arg, const tkms_rec **out,
                        size_t max_out);
/* Calls fn for every record (LOAD_END sorting, tests). */
void tkms_index_each(const tkms_index *ix, void (*fn)(const tkms_rec *r, void *arg), void *arg);
#endif
