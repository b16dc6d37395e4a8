/* src/crypto/ct.h — comparisons whose time does not depend on the data, for
 * MACs, digests and secrets (memcmp returns early at the first difference). */
#ifndef TKMS_CRYPTO_CT_H
#define TKMS_CRYPTO_CT_H
#include <stddef.h>

/* 1 if the n bytes at a and b are equal, 0 otherwise. Time depends only on n. */
int tkms_ct_equal(const void *a, const void *b, size_t n);
/* 1 if all n bytes are zero, 0 otherwise. Time depends only on n. */
int tkms_ct_is_zero(const void *a, size_t n);
#endif
