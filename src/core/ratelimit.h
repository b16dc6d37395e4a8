/* src/core/ratelimit.h — a key policy's rate_per_minute, counted in the core.
 *
 * Fixed windows of one minute of the core's clock (now / 60): at most `limit`
 * signatures per key per window. The counts live only in the core's memory,
 * keyed by key id, so a restarted core starts every window afresh (docs say so):
 * a host that restarts the core can get up to one extra window's worth. Signs
 * run concurrently under the core's read lock, so the table has its own mutex.
 * Entries exist only for keys with a limit that have signed (one per key id,
 * its count reset when a new window starts), so the table is bounded by the
 * number of keys and never grows from requests refused before authorisation. */
#ifndef TKMS_CORE_RATELIMIT_H
#define TKMS_CORE_RATELIMIT_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t id[16];
  uint64_t window; /* now / 60 of the count */
  uint32_t count;
  uint8_t used;
} tkms_rate_slot;

typedef struct {
  pthread_mutex_t mu;
  tkms_rate_slot *slots;
  size_t cap, n; /* cap: power of two (or 0) */
} tkms_rate_table;

int tkms_rate_init(tkms_rate_table *t);
void tkms_rate_free(tkms_rate_table *t);
/* Takes one signature of key id at now from a budget of limit per minute
 * (limit 0: unlimited, always 0). Returns 0 if allowed (and counted), 1 if the
 * budget of this minute is spent, -1 if out of memory (refuse: fail closed). */
int tkms_rate_take(tkms_rate_table *t, const uint8_t id[16], uint32_t limit, uint64_t now);
#endif
