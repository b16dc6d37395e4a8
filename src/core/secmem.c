/* src/core/secmem.c — per-thread locked arena for secrets (see secmem.h). */
#include "core/secmem.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>

/* Every block is preceded by this header (16 bytes keeps blocks aligned). */
typedef struct {
  size_t size;   /* bytes the caller asked for */
  size_t stride; /* header + rounded size: what the block takes in the arena; 0 = heap */
} block_hdr;
_Static_assert(sizeof(block_hdr) == 16, "block header keeps 16-byte alignment");

static _Thread_local uint8_t *arena;
static _Thread_local size_t top;
static _Thread_local unsigned live;

void *tkms_secmem_alloc(size_t n) {
  if (n > SIZE_MAX / 2) return NULL; /* keeps the stride arithmetic from overflowing */
  size_t stride = sizeof(block_hdr) + ((n + 15u) & ~(size_t)15u);
  if (arena == NULL) arena = sodium_malloc(TKMS_SECMEM_ARENA_BYTES);
  block_hdr *h;
  if (arena != NULL && stride <= TKMS_SECMEM_ARENA_BYTES - top) {
    h = (block_hdr *)(arena + top);
    h->stride = stride;
    top += stride;
    live++;
  } else {
    /* sodium_malloc puts a block's end at a page boundary: a multiple of 16
     * keeps the header, and so the caller's block, 16-byte aligned. */
    h = sodium_malloc(stride);
    if (h == NULL) return NULL;
    h->stride = 0;
  }
  h->size = n;
  return h + 1;
}

void tkms_secmem_free(void *p) {
  if (p == NULL) return;
  block_hdr *h = (block_hdr *)p - 1;
  sodium_memzero(p, h->size);
  if (h->stride == 0) {
    sodium_free(h);
    return;
  }
  /* Blocks are freed mostly in reverse order; when the last one goes the whole
   * arena is free again, so out-of-order frees only delay reuse. */
  if ((uint8_t *)h + h->stride == arena + top) top -= h->stride;
  if (--live == 0) top = 0;
}

/* ---- long-lived 32-byte keys ---------------------------------------------- */
/* A free slot holds the pointer to the next free slot; a slot in use holds a key.
 * Chunks are never returned: the pool is bounded by the most sessions ever live
 * at once (TKMS_MAX_SESSIONS * 32 bytes = 2 MiB). */
typedef union key_slot {
  union key_slot *next;
  uint8_t key[TKMS_SECMEM_KEY_BYTES];
} key_slot;

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static key_slot *key_free_list;

void *tkms_secmem_key_alloc(void) {
  pthread_mutex_lock(&key_lock);
  if (key_free_list == NULL) {
    key_slot *chunk = sodium_malloc(TKMS_SECMEM_KEY_CHUNK * sizeof(key_slot));
    if (chunk != NULL) {
      for (size_t i = 0; i < TKMS_SECMEM_KEY_CHUNK; i++) {
        chunk[i].next = key_free_list;
        key_free_list = &chunk[i];
      }
    }
  }
  key_slot *s = key_free_list;
  if (s != NULL) key_free_list = s->next;
  pthread_mutex_unlock(&key_lock);
  return s;
}

void tkms_secmem_key_free(void *p) {
  if (p == NULL) return;
  key_slot *s = p;
  sodium_memzero(s, sizeof *s);
  pthread_mutex_lock(&key_lock);
  s->next = key_free_list;
  key_free_list = s;
  pthread_mutex_unlock(&key_lock);
}
