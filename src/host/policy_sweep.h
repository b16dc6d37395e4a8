/* src/host/policy_sweep.h — folds due policy changes into their keys.
 *
 * A pending policy change is in force in the core from its effective_at whether
 * or not anyone materialises it (docs/policy.md); materialising re-seals the key
 * record and lets the host's metadata (the owner keys are listed under) follow.
 * GET /v1/keys/{id}/policy does it for one key; this thread does it for all:
 * every interval it asks the core which changes are due (POLICY_DUE, the core's
 * clock decides) and materialises each. It holds no authority: the core refuses
 * a change that is not due. */
#ifndef TKMS_HOST_POLICY_SWEEP_H
#define TKMS_HOST_POLICY_SWEEP_H
#include "host/routes.h"

#define TKMS_POLICY_SWEEP_MS 2000u

typedef struct tkms_policy_sweep tkms_policy_sweep;

/* Starts the thread. Returns 0 or -1 (then there is no sweep; GET still works). */
int tkms_policy_sweep_start(tkms_host *h, unsigned interval_ms, tkms_policy_sweep **out);
/* Stops and joins it (NULL ok). */
void tkms_policy_sweep_stop(tkms_policy_sweep *s);
#endif
