/* src/host/store_cache.c — see store_cache.h. A direct-mapped table: key ids are
 * random, so their first bytes spread entries; a collision only evicts. */
#include "host/store_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096u    /* power of two */
#define LOCKS 64u      /* stripes */
#define BLOB_MAX 4096u /* larger records are not cached */

typedef struct {
  uint8_t id[TKMS_KEY_ID_BYTES];
  uint64_t meta_gen; /* 0: empty */
  tkms_key_meta meta;
  uint64_t rec_gen; /* 0: empty */
  uint32_t rec_version;
  size_t blob_len;
  uint8_t *blob;
} slot;

struct tkms_store_cache {
  atomic_uint_fast64_t gen; /* starts at 1; 0 marks empty slots */
  pthread_mutex_t locks[LOCKS];
  slot slots[SLOTS];
};

static unsigned slot_of(const uint8_t id[TKMS_KEY_ID_BYTES]) {
  return ((unsigned)id[0] | (unsigned)id[1] << 8 | (unsigned)id[2] << 16) & (SLOTS - 1);
}

static pthread_mutex_t *lock_of(tkms_store_cache *c, unsigned s) {
  return &c->locks[s % LOCKS];
}

tkms_store_cache *tkms_store_cache_new(void) {
  tkms_store_cache *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  atomic_init(&c->gen, 1);
  for (unsigned i = 0; i < LOCKS; i++) pthread_mutex_init(&c->locks[i], NULL);
  return c;
}

void tkms_store_cache_free(tkms_store_cache *c) {
  if (c == NULL) return;
  for (unsigned i = 0; i < SLOTS; i++) tkms_store_free(c->slots[i].blob, c->slots[i].blob_len);
  for (unsigned i = 0; i < LOCKS; i++) pthread_mutex_destroy(&c->locks[i]);
  free(c);
}

uint64_t tkms_store_cache_gen(tkms_store_cache *c) {
  return c ? atomic_load(&c->gen) : 0;
}

void tkms_store_cache_bump(tkms_store_cache *c) {
  if (c) atomic_fetch_add(&c->gen, 1);
}

/* Under the slot's lock: s holds id (evicting another id's entries). */
static void claim(slot *s, const uint8_t id[TKMS_KEY_ID_BYTES]) {
  if (memcmp(s->id, id, TKMS_KEY_ID_BYTES) == 0) return;
  tkms_store_free(s->blob, s->blob_len);
  memset(s, 0, sizeof *s);
  memcpy(s->id, id, TKMS_KEY_ID_BYTES);
}

int tkms_store_cache_key_get(tkms_store_cache *c, const uint8_t id[TKMS_KEY_ID_BYTES],
                             tkms_key_meta *out) {
  if (c == NULL) return -1;
  unsigned i = slot_of(id);
  uint64_t g = atomic_load(&c->gen);
  int hit = -1;
  pthread_mutex_lock(lock_of(c, i));
  slot *s = &c->slots[i];
  if (s->meta_gen == g && memcmp(s->id, id, TKMS_KEY_ID_BYTES) == 0) {
    *out = s->meta;
    hit = 0;
  }
  pthread_mutex_unlock(lock_of(c, i));
  return hit;
}

void tkms_store_cache_key_put(tkms_store_cache *c, uint64_t gen, const tkms_key_meta *m) {
  if (c == NULL || gen == 0) return;
  unsigned i = slot_of(m->id);
  pthread_mutex_lock(lock_of(c, i));
  slot *s = &c->slots[i];
  claim(s, m->id);
  s->meta = *m;
  s->meta_gen = gen;
  pthread_mutex_unlock(lock_of(c, i));
}

int tkms_store_cache_rec_get(tkms_store_cache *c, const uint8_t id[TKMS_KEY_ID_BYTES],
                             uint32_t *version, uint8_t **blob, size_t *blob_len) {
  if (c == NULL) return -1;
  unsigned i = slot_of(id);
  uint64_t g = atomic_load(&c->gen);
  int hit = -1;
  pthread_mutex_lock(lock_of(c, i));
  slot *s = &c->slots[i];
  if (s->rec_gen == g && s->blob != NULL && memcmp(s->id, id, TKMS_KEY_ID_BYTES) == 0) {
    uint8_t *copy = malloc(s->blob_len);
    if (copy != NULL) {
      memcpy(copy, s->blob, s->blob_len);
      *blob = copy;
      *blob_len = s->blob_len;
      *version = s->rec_version;
      hit = 0;
    }
  }
  pthread_mutex_unlock(lock_of(c, i));
  return hit;
}

void tkms_store_cache_rec_put(tkms_store_cache *c, uint64_t gen,
                              const uint8_t id[TKMS_KEY_ID_BYTES], uint32_t version,
                              const uint8_t *blob, size_t blob_len) {
  if (c == NULL || gen == 0 || blob_len == 0 || blob_len > BLOB_MAX) return;
  uint8_t *copy = malloc(blob_len);
  if (copy == NULL) return;
  memcpy(copy, blob, blob_len);
  unsigned i = slot_of(id);
  pthread_mutex_lock(lock_of(c, i));
  slot *s = &c->slots[i];
  claim(s, id);
  tkms_store_free(s->blob, s->blob_len);
  s->blob = copy;
  s->blob_len = blob_len;
  s->rec_version = version;
  s->rec_gen = gen;
  pthread_mutex_unlock(lock_of(c, i));
}
