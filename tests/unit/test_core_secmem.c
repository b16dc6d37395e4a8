/* tests/unit/test_core_secmem.c — the per-thread locked arena for secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>

#include "core/secmem.h"

static int all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) acc |= p[i];
  return acc == 0;
}

static void test_lifo_reuse_and_wipe(void **state) {
  (void)state;
  uint8_t *a = tkms_secmem_alloc(32);
  uint8_t *b = tkms_secmem_alloc(100);
  assert_non_null(a);
  assert_non_null(b);
  assert_true(((uintptr_t)a % 16) == 0 && ((uintptr_t)b % 16) == 0);
  memset(a, 0xa5, 32);
  memset(b, 0x5a, 100);
  tkms_secmem_free(b);
  /* the arena memory stays mapped: a freed block must read back as zeros */
  assert_true(all_zero(b, 100));
  uint8_t *c = tkms_secmem_alloc(100); /* LIFO: the same place again */
  assert_ptr_equal(c, b);
  tkms_secmem_free(c);
  tkms_secmem_free(a);
  assert_true(all_zero(a, 32));
  assert_ptr_equal(tkms_secmem_alloc(8), a); /* everything freed: arena empty */
  tkms_secmem_free(a);
}

static void test_out_of_order_frees(void **state) {
  (void)state;
  uint8_t *p[8];
  for (int i = 0; i < 8; i++) {
    p[i] = tkms_secmem_alloc(48);
    assert_non_null(p[i]);
    memset(p[i], i + 1, 48);
  }
  for (int i = 0; i < 8; i += 2) tkms_secmem_free(p[i]);
  for (int i = 1; i < 8; i += 2) {
    assert_true(p[i][0] == i + 1 && p[i][47] == i + 1); /* neighbours untouched */
  }
  for (int i = 1; i < 8; i += 2) tkms_secmem_free(p[i]);
  uint8_t *q = tkms_secmem_alloc(16);
  assert_ptr_equal(q, p[0]); /* all freed: reuse from the start */
  tkms_secmem_free(q);
}

static void test_fallback_beyond_arena(void **state) {
  (void)state;
  /* larger than the arena, and a fill that exhausts it: both still work */
  uint8_t *big = tkms_secmem_alloc(TKMS_SECMEM_ARENA_BYTES + 1);
  assert_non_null(big);
  assert_true(((uintptr_t)big % 16) == 0);
  memset(big, 1, TKMS_SECMEM_ARENA_BYTES + 1);
  uint8_t *fill = tkms_secmem_alloc(TKMS_SECMEM_ARENA_BYTES - 64);
  uint8_t *more = tkms_secmem_alloc(1000); /* does not fit: from sodium_malloc */
  assert_non_null(fill);
  assert_non_null(more);
  assert_true(((uintptr_t)more % 16) == 0);
  memset(more, 2, 1000);
  tkms_secmem_free(more);
  tkms_secmem_free(fill);
  tkms_secmem_free(big);
  assert_null(tkms_secmem_alloc(SIZE_MAX - 4));
  tkms_secmem_free(NULL);
}

/* Long-lived key slots: distinct across chunks, wiped on free (all but the
 * free-list link), reusable after a free from another thread. */
#define N_KEYS (2 * TKMS_SECMEM_KEY_CHUNK + 3)
static void *free_key(void *p) {
  tkms_secmem_key_free(p);
  return NULL;
}

static void test_key_slots(void **state) {
  (void)state;
  static uint8_t *k[N_KEYS];
  for (size_t i = 0; i < N_KEYS; i++) {
    k[i] = tkms_secmem_key_alloc();
    assert_non_null(k[i]);
    memset(k[i], (int)(i % 255) + 1, TKMS_SECMEM_KEY_BYTES);
  }
  for (size_t i = 0; i < N_KEYS; i++)
    for (size_t j = 0; j < TKMS_SECMEM_KEY_BYTES; j++) assert_int_equal(k[i][j], (i % 255) + 1);
  uint8_t *victim = k[7];
  tkms_secmem_key_free(victim);
  assert_true(all_zero(victim + sizeof(void *), TKMS_SECMEM_KEY_BYTES - sizeof(void *)));
  assert_ptr_equal(tkms_secmem_key_alloc(), victim); /* the free slot is reused */
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, free_key, k[100]), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_ptr_equal(tkms_secmem_key_alloc(), k[100]);
  for (size_t i = 0; i < N_KEYS; i++) tkms_secmem_key_free(k[i]);
  tkms_secmem_key_free(NULL);
}

int main(void) {
  if (sodium_init() < 0) return 1; /* sodium_malloc needs it, as the core does at start */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifo_reuse_and_wipe),
      cmocka_unit_test(test_out_of_order_frees),
      cmocka_unit_test(test_fallback_beyond_arena),
      cmocka_unit_test(test_key_slots),
  };
  return cmocka_run_group_tests_name("core_secmem", tests, NULL, NULL);
}
