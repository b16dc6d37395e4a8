/* src/host/store_cache.h — a read cache in front of the store for the hot path
 * of signing: a key's metadata and its sealed record, by key id.
 *
 * Why it is safe: it holds only what the store holds (public metadata, sealed
 * blobs), and the core checks every blob against its own index, so a stale
 * entry can cost a retry (409 stale_record → re-read) but never a wrong
 * answer. Entries are stamped with the store's write generation, which every
 * committed write advances; an entry of an older generation is a miss. A reader
 * takes the generation *before* it reads the store, so a write that commits
 * during the read leaves its entry already stale. */
#ifndef TKMS_HOST_STORE_CACHE_H
#define TKMS_HOST_STORE_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "host/store.h"

typedef struct tkms_store_cache tkms_store_cache;

/* NULL when out of memory (the store then runs without a cache). */
tkms_store_cache *tkms_store_cache_new(void);
void tkms_store_cache_free(tkms_store_cache *c);

/* The current write generation / advance it after a committed write. */
uint64_t tkms_store_cache_gen(tkms_store_cache *c);
void tkms_store_cache_bump(tkms_store_cache *c);

/* 0 and *out filled on a hit of the current generation, -1 on a miss. */
int tkms_store_cache_key_get(tkms_store_cache *c, const uint8_t id[TKMS_KEY_ID_BYTES],
                             tkms_key_meta *out);
void tkms_store_cache_key_put(tkms_store_cache *c, uint64_t gen, const tkms_key_meta *m);

/* A key's sealed record. On a hit *blob is a fresh copy (free with
 * tkms_store_free). */
int tkms_store_cache_rec_get(tkms_store_cache *c, const uint8_t id[TKMS_KEY_ID_BYTES],
                             uint32_t *version, uint8_t **blob, size_t *blob_len);
void tkms_store_cache_rec_put(tkms_store_cache *c, uint64_t gen,
                              const uint8_t id[TKMS_KEY_ID_BYTES], uint32_t version,
                              const uint8_t *blob, size_t blob_len);
#endif
