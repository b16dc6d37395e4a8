/* src/crypto/ct.c — constant-time comparisons over libsodium. */
#include "crypto/ct.h"

#include <sodium.h>

int tkms_ct_equal(const void *a, const void *b, size_t n) {
  return sodium_memcmp(a, b, n) == 0;
}

int tkms_ct_is_zero(const void *a, size_t n) {
  return sodium_is_zero(a, n);
}
