/* src/core/key_policy.h — the policy and owner in force for a key, at a time.
 *
 * A key's index record carries its stored owner and policy; a pending policy
 * change (TKMS_REC_POLICY_CHANGE, same id) carries what they become at
 * effective_at. A change whose effective_at <= now is in force from that
 * moment, whether or not the host has asked the core to materialise it (fold
 * it into the key record): so the host can delay materialising, but can never
 * make a change effective early nor keep a due change out of force. Every
 * decision about a key (authorisation of its owner, limits at sign, attested
 * use) must ask these functions, never read u.key.owner / u.key.policy.
 * The caller holds the core's lock (read or mutation), as for the index. */
#ifndef TKMS_CORE_KEY_POLICY_H
#define TKMS_CORE_KEY_POLICY_H
#include <stdint.h>

#include "core/core.h"
#include "core/index.h"
#include "core/policy.h"

/* The key's pending change (due or not), or NULL. */
const tkms_rec *tkms_key_pending(const tkms_core *c, const tkms_rec *key);
/* The policy in force at now; never NULL. */
const tkms_policy *tkms_key_policy_at(const tkms_core *c, const tkms_rec *key, uint64_t now);
/* The owner principal (text) in force at now; never NULL. */
const char *tkms_key_owner_at(const tkms_core *c, const tkms_rec *key, uint64_t now);
#endif
