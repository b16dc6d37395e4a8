/* src/core/key_policy.c — the policy and owner in force (key_policy.h). */
#include "core/key_policy.h"

const tkms_rec *tkms_key_pending(const tkms_core *c, const tkms_rec *key) {
  if (key == NULL || key->type != TKMS_REC_KEY) return NULL;
  return tkms_index_find(&c->index, TKMS_REC_POLICY_CHANGE, key->id, key->id_len);
}

/* The pending change if it is in force at now. */
static const tkms_rec *due(const tkms_core *c, const tkms_rec *key, uint64_t now) {
  const tkms_rec *p = tkms_key_pending(c, key);
  return p != NULL && p->u.pending.effective_at <= now ? p : NULL;
}

const tkms_policy *tkms_key_policy_at(const tkms_core *c, const tkms_rec *key, uint64_t now) {
  const tkms_rec *p = due(c, key, now);
  return tkms_rec_policy(p != NULL ? p : key);
}

const char *tkms_key_owner_at(const tkms_core *c, const tkms_rec *key, uint64_t now) {
  const tkms_rec *p = due(c, key, now);
  return p != NULL ? p->u.pending.new_owner : key->u.key.owner;
}
