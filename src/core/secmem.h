/* src/core/secmem.h — locked memory for secrets on the request path.
 *
 * sodium_malloc gives each allocation guard pages: an mmap, two mprotects, an
 * mlock and, on free, an munmap. On the signing path that cost more than the
 * signature itself (TLB shootdowns on every CPU). So each thread takes one
 * locked, guarded arena from sodium_malloc once and carves request-sized
 * blocks from it; a block is zeroised when freed. Allocations that do not fit
 * fall back to sodium_malloc, so callers never see the difference. */
#ifndef TKMS_CORE_SECMEM_H
#define TKMS_CORE_SECMEM_H
#include <stddef.h>

#define TKMS_SECMEM_ARENA_BYTES (64u * 1024u)

/* n bytes of locked memory (contents unspecified), or NULL. */
void *tkms_secmem_alloc(size_t n);
/* Zeroises and releases a block from tkms_secmem_alloc. NULL is fine. */
void tkms_secmem_free(void *p);
#endif
