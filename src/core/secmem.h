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

/* Long-lived 32-byte secrets (a MAC session's key, which lives as long as its
 * index entry and may be freed by another thread than the one that made it):
 * slots in locked, guarded pages shared by all threads (a mutex), never in a
 * thread's request arena. One sodium_malloc per TKMS_SECMEM_KEY_CHUNK slots,
 * so 65536 sessions do not make 65536 guarded mappings. */
#define TKMS_SECMEM_KEY_BYTES 32u
#define TKMS_SECMEM_KEY_CHUNK 128u
/* A 32-byte slot of locked memory (contents unspecified), or NULL. */
void *tkms_secmem_key_alloc(void);
/* Zeroises the slot and returns it to the pool. NULL is fine. */
void tkms_secmem_key_free(void *p);
#endif
