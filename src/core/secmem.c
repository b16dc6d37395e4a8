/* src/core/secmem.c — per-thread locked arena for secrets (see secmem.h). */
#include "core/secmem.h"

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
