/* src/core/index.c — chained hash table of live records (see index.h). */
#include "core/index.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/secmem.h"

#define INITIAL_BUCKETS 1024u

static size_t bucket_of(const tkms_index *ix, uint8_t type, const uint8_t *id, size_t id_len) {
  uint8_t in[2 + TKMS_REC_ID_MAX], h[crypto_shorthash_BYTES];
  in[0] = type;
  in[1] = (uint8_t)id_len;
  memcpy(in + 2, id, id_len);
  crypto_shorthash(h, in, 2 + id_len, ix->hash_key);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = (v << 8) | h[i];
  return (size_t)(v & (ix->n_buckets - 1));
}

int tkms_index_init(tkms_index *ix) {
  memset(ix, 0, sizeof *ix);
  ix->buckets = calloc(INITIAL_BUCKETS, sizeof *ix->buckets);
  if (ix->buckets == NULL) return -1;
  ix->n_buckets = INITIAL_BUCKETS;
  randombytes_buf(ix->hash_key, sizeof ix->hash_key);
  return 0;
}

void tkms_index_clear(tkms_index *ix) {
  for (size_t b = 0; b < ix->n_buckets; b++) {
    tkms_rec *r = ix->buckets[b];
    while (r != NULL) {
      tkms_rec *next = r->next;
      tkms_rec_free(r);
      r = next;
    }
    ix->buckets[b] = NULL;
  }
  memset(ix->count, 0, sizeof ix->count);
}

void tkms_index_free(tkms_index *ix) {
  if (ix->buckets != NULL) tkms_index_clear(ix);
  free(ix->buckets);
  memset(ix, 0, sizeof *ix);
}

tkms_rec *tkms_rec_new(size_t n_scope_keys) {
  if (n_scope_keys > TKMS_MAX_SCOPE_KEYS) return NULL;
  return calloc(1, sizeof(tkms_rec) + n_scope_keys * 16);
}

tkms_policy **tkms_rec_policy_slot(tkms_rec *r) {
  if (r->type == TKMS_REC_KEY) return &r->u.key.policy;
  if (r->type == TKMS_REC_POLICY_CHANGE) return &r->u.pending.policy;
  return NULL;
}

static const tkms_policy *own_policy(const tkms_rec *r) {
  if (r->type == TKMS_REC_KEY) return r->u.key.policy;
  if (r->type == TKMS_REC_POLICY_CHANGE) return r->u.pending.policy;
  return NULL;
}

const tkms_policy *tkms_rec_policy(const tkms_rec *r) {
  static const tkms_policy dflt; /* all zero = tkms_policy_default */
  const tkms_policy *p = own_policy(r);
  return p != NULL ? p : &dflt;
}

int tkms_rec_set_policy(tkms_rec *r, const tkms_policy *p) {
  tkms_policy **slot = tkms_rec_policy_slot(r);
  if (slot == NULL) return p == NULL ? 0 : -1;
  tkms_policy *copy = NULL;
  if (p != NULL && !tkms_policy_is_default(p)) {
    if ((copy = malloc(sizeof *copy)) == NULL) return -1;
    *copy = *p;
  }
  free(*slot);
  *slot = copy;
  return 0;
}

void tkms_rec_free(tkms_rec *r) {
  if (r == NULL) return;
  tkms_policy **slot = tkms_rec_policy_slot(r);
  if (slot != NULL) free(*slot);
  if (r->type == TKMS_REC_SESSION) tkms_secmem_key_free(r->u.session.mac_key);
  free(r);
}

tkms_rec *tkms_rec_dup(const tkms_rec *r) {
  size_t n = r->type == TKMS_REC_SESSION ? r->u.session.n_keys
             : r->type == TKMS_REC_GOV   ? TKMS_REC_GOV_SLOTS
                                         : 0;
  tkms_rec *c = tkms_rec_new(n);
  if (c == NULL) return NULL;
  memcpy(c, r, sizeof(tkms_rec) + n * 16);
  c->next = NULL;
  /* One owner per MAC key: a copy (a delete's reference) has none. */
  if (c->type == TKMS_REC_SESSION) c->u.session.mac_key = NULL;
  tkms_policy **slot = tkms_rec_policy_slot(c);
  if (slot != NULL && *slot != NULL) {
    tkms_policy *p = malloc(sizeof *p);
    if (p == NULL) {
      *slot = NULL;
      free(c);
      return NULL;
    }
    *p = **slot;
    *slot = p;
  }
  return c;
}

static int same(const tkms_rec *r, uint8_t type, const uint8_t *id, size_t id_len) {
  return r->type == type && r->id_len == id_len && memcmp(r->id, id, id_len) == 0;
}

tkms_rec *tkms_index_find(const tkms_index *ix, uint8_t type, const uint8_t *id, size_t id_len) {
  if (id_len == 0 || id_len > TKMS_REC_ID_MAX) return NULL;
  for (tkms_rec *r = ix->buckets[bucket_of(ix, type, id, id_len)]; r != NULL; r = r->next) {
    if (same(r, type, id, id_len)) return r;
  }
  return NULL;
}

/* Doubles the table when chains average more than one record. Best effort. */
static void maybe_grow(tkms_index *ix) {
  size_t total = 0;
  for (size_t t = 0; t < TKMS_REC__MAX; t++) total += ix->count[t];
  if (total <= ix->n_buckets || ix->n_buckets > (SIZE_MAX / sizeof(tkms_rec *)) / 2) return;
  size_t nb = ix->n_buckets * 2;
  tkms_rec **b = calloc(nb, sizeof *b);
  if (b == NULL) return;
  tkms_rec **old = ix->buckets;
  size_t old_n = ix->n_buckets;
  ix->buckets = b;
  ix->n_buckets = nb;
  for (size_t i = 0; i < old_n; i++) {
    tkms_rec *r = old[i];
    while (r != NULL) {
      tkms_rec *next = r->next;
      size_t k = bucket_of(ix, r->type, r->id, r->id_len);
      r->next = b[k];
      b[k] = r;
      r = next;
    }
  }
  free(old);
}

void tkms_index_put(tkms_index *ix, tkms_rec *r) {
  tkms_index_del(ix, r->type, r->id, r->id_len);
  size_t k = bucket_of(ix, r->type, r->id, r->id_len);
  r->next = ix->buckets[k];
  ix->buckets[k] = r;
  if (r->type < TKMS_REC__MAX) ix->count[r->type]++;
  maybe_grow(ix);
}

int tkms_index_del(tkms_index *ix, uint8_t type, const uint8_t *id, size_t id_len) {
  if (id_len == 0 || id_len > TKMS_REC_ID_MAX) return -1;
  tkms_rec **pp = &ix->buckets[bucket_of(ix, type, id, id_len)];
  for (; *pp != NULL; pp = &(*pp)->next) {
    if (same(*pp, type, id, id_len)) {
      tkms_rec *r = *pp;
      *pp = r->next;
      if (type < TKMS_REC__MAX) ix->count[type]--;
      tkms_rec_free(r);
      return 0;
    }
  }
  return -1;
}

size_t tkms_index_count(const tkms_index *ix, uint8_t type) {
  return type < TKMS_REC__MAX ? ix->count[type] : 0;
}

size_t tkms_index_sweep(const tkms_index *ix, size_t *cursor, size_t max_buckets,
                        int (*pred)(const tkms_rec *r, void *arg), void *arg, const tkms_rec **out,
                        size_t max_out) {
  size_t n = 0;
  if (max_buckets > ix->n_buckets) max_buckets = ix->n_buckets;
  for (size_t i = 0; i < max_buckets && n < max_out; i++) {
    size_t b = (*cursor + i) & (ix->n_buckets - 1);
    for (const tkms_rec *r = ix->buckets[b]; r != NULL && n < max_out; r = r->next) {
      if (pred(r, arg)) out[n++] = r;
    }
    /* Resume at this bucket next time if it may hold more matches. */
    if (n == max_out) {
      *cursor = b;
      return n;
    }
  }
  *cursor = (*cursor + max_buckets) & (ix->n_buckets - 1);
  return n;
}

void tkms_index_each(const tkms_index *ix, void (*fn)(const tkms_rec *r, void *arg), void *arg) {
  for (size_t b = 0; b < ix->n_buckets; b++) {
    for (const tkms_rec *r = ix->buckets[b]; r != NULL; r = r->next) fn(r, arg);
  }
}
