/* src/core/core.c — creating and freeing the core. */
#include "core/core.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/txn.h"
#include "crypto/sethash.h"

int tkms_core_new(const tkms_platform *plat, int init_allowed, tkms_core **out) {
  tkms_core *c = calloc(1, sizeof *c);
  if (c == NULL) return -1;
  c->plat = *plat;
  c->init_allowed = init_allowed;
  c->busy_ms = TKMS_CORE_BUSY_MS;
  c->max_nonces = TKMS_MAX_NONCES;
  c->state = TKMS_STATE_UNINITIALISED;
  c->build_tag = "";
  plat->ops->measurement(plat->ctx, c->measurement);
  /* Writers first: a steady stream of signs must not starve a COMMIT. */
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  int bad = pthread_rwlock_init(&c->lock, &ra) != 0;
  pthread_rwlockattr_destroy(&ra);
  /* Error-checking: unlocking from the wrong thread is a bug, not silence. */
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
  bad |= pthread_mutex_init(&c->mutation, &ma) != 0;
  pthread_mutexattr_destroy(&ma);
  if (bad || tkms_index_init(&c->index) != 0 || tkms_sethash_init(&c->set) != 0 ||
      tkms_clock_init(&c->clock) != 0 || tkms_rate_init(&c->rate) != 0) {
    tkms_index_free(&c->index);
    free(c);
    return -1;
  }
  randombytes_buf(&c->next_txid, sizeof c->next_txid);
  *out = c;
  return 0;
}

void tkms_core_free(tkms_core *c) {
  if (c == NULL) return;
  tkms_index_free(&c->index);
  tkms_rate_free(&c->rate);
  tkms_secrets_free(c->sec);
  tkms_clock_destroy(&c->clock);
  if (c->mig_sk != NULL) sodium_free(c->mig_sk);
  pthread_rwlock_destroy(&c->lock);
  pthread_mutex_destroy(&c->mutation);
  tkms_platform_close(&c->plat);
  free(c);
}
