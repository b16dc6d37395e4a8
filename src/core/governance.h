/* src/core/governance.h — governance fixed at initialisation, announced upgrades
 * and migration of the deployment to a successor core.
 *
 * The governance record (type TKMS_REC_GOV, id "g", sealed like every record):
 *   1 | u8 n | governor[20] * n | u8 threshold | u64 delay | u8 k
 *     | (measurement[32] | u64 accepted_at | u64 effective_at) * k | [holder[32]]
 * written by INIT (n = 0: a development deployment; holder = the initialising
 * core) and changed only by GOV_ANNOUNCE / GOV_CANCEL, each authorised by
 * signatures of at least `threshold` distinct governors, and by MIGRATE_FINISH
 * (the successor records itself as the holder). A deployment without the record
 * was made before governance existed and counts as a development deployment;
 * a record without `holder` (written before it existed) means "no holder
 * recorded".
 *
 * The holder: the measurement of the core that holds the deployment. LOAD_END
 * refuses a core that is not the holder (status NOT_ANNOUNCED) unless it was
 * started with --migrate-source (it only exports, and serves nothing) or it
 * imported the DMK in this process (MIGRATE_IMPORT); such a successor refuses
 * every client op until MIGRATE_FINISH has committed, which moves the counters.
 * So an older core that still has its old sealed DMK can load neither the
 * newest manifest (another holder) nor an older one (rollback): going back to
 * it is a migration like any other (announced, in production).
 *
 * Migration: the current core A hands the DMK to a successor core B only if
 * the deployment is a development one, or an announcement for exactly B's
 * measurement exists with effective_at <= now (the core's time). B proves its
 * measurement with platform evidence whose report data binds its ephemeral
 * X25519 key and a nonce from A:
 *   report_data(B) = SHA-512("tkms-migrate-v1" || nonce_A || pk_B)
 *   shared = X25519(esk, pk_B); key = HKDF-SHA256(salt "tkms-migrate-v1", shared,
 *            info = epk || pk_B || measurement_B || deployment salt)
 *   ct     = epk || AEAD(key, AD = "tkms-migrate-v1" || measurement_B || salt, DMK)
 *   report_data(A) = SHA-512("tkms-migrate-export-v1" || pk_B || ct || salt)
 * B accepts the DMK only from evidence of a core on this machine (sim: signed by
 * the same machine attestation key as its own) and only if the salt derived from
 * it is the one A stated. Evidence verification is implemented for the sim
 * platform; other platforms refuse migration as unsupported. */
#ifndef TKMS_CORE_GOVERNANCE_H
#define TKMS_CORE_GOVERNANCE_H
#include <stddef.h>
#include <stdint.h>

#include "core/op.h"
#include "proto/ops.h"

#define TKMS_GOV_REC_ID "g"
#define TKMS_GOV_REC_ID_LEN 1u
#define TKMS_GOVREC_MAX \
  (1u + 1u + 20u * TKMS_GOV_MAX_GOVERNORS + 1u + 8u + 1u + 48u * TKMS_GOV_MAX_ANNOUNCEMENTS + 32u)

typedef struct {
  uint8_t measurement[32];
  uint64_t accepted_at;
  uint64_t effective_at;
} tkms_gov_announcement;

typedef struct {
  uint8_t n_governors;
  uint8_t threshold;
  uint8_t n_ann;
  uint64_t delay;
  uint8_t governors[TKMS_GOV_MAX_GOVERNORS][20];
  tkms_gov_announcement ann[TKMS_GOV_MAX_ANNOUNCEMENTS];
  uint8_t has_holder; /* 0: a record written before the holder existed */
  uint8_t holder[32]; /* the measurement of the core that holds the deployment */
} tkms_gov;

/* The governance record kept in the index record's trailing space (index.h). */
void tkms_gov_to_rec(const tkms_gov *g, tkms_rec *r);
void tkms_gov_from_rec(const tkms_rec *r, tkms_gov *g);
/* Checks the invariants (N <= 8, governors distinct and non-zero, 1 <= M <= N or
 * M = N = 0, delay <= 1 year and 0 without governors, announcements bounded).
 * Returns 0 or -1. */
int tkms_gov_valid(const tkms_gov *g);

/* The deployment's governance; returns its TKMS_GOV_MODE_*. g is zeroed for
 * a deployment without the record (legacy). Caller holds the core's lock. */
int tkms_gov_get(const tkms_core *c, tkms_gov *g);

/* Migration gate: may the deployment be handed to a core with measurement m at
 * time now? Returns TKMS_OK (ann set to the announcement used, or NULL for a
 * development deployment), or TKMS_E_NOT_ANNOUNCED / TKMS_E_TIMELOCK with msg. */
int tkms_gov_migration_allowed(const tkms_gov *g, const uint8_t m[32], uint64_t now,
                               const tkms_gov_announcement **ann, char *msg, size_t msg_len);

/* Counts the distinct governors among the signers of an AnnounceUpgrade / CancelUpgrade
 * (rt) in the domain domain_sep. Signatures by others are ignored and a governor
 * who signed twice counts once; a malformed, invalid or high-s signature refuses
 * the whole request (returns TKMS_E_BAD_SIGNATURE / TKMS_E_HIGH_S, *bad_index
 * set). Returns TKMS_OK with *count set. */
int tkms_gov_count_signers(const tkms_gov *g, const uint8_t domain_sep[32], int rt,
                           const uint8_t measurement[32], const uint8_t request_id[32],
                           uint64_t deadline, const uint8_t *const *sigs, size_t n_sigs,
                           unsigned *count, size_t *bad_index);

/* INIT: validates F_GOVERNOR* F_GOV_THRESHOLD F_GOV_DELAY and puts the governance
 * record into op->tx (sealed under the new deployment's keys). */
int tkms_gov_init(tkms_op *op);

/* Handlers (dispatch.c). */
int tkms_gov_announce(tkms_op *op);
int tkms_gov_cancel(tkms_op *op);
int tkms_gov_status(tkms_op *op);
int tkms_migrate_nonce(tkms_op *op);
int tkms_migrate_offer(tkms_op *op);
int tkms_migrate_export(tkms_op *op);
int tkms_migrate_import(tkms_op *op);
int tkms_migrate_finish(tkms_op *op);

/* LOAD_END (lifecycle.c): may this core serve the loaded deployment? Returns
 * TKMS_OK (and sets c->must_finish when it has to record itself as the holder
 * first) or TKMS_E_NOT_ANNOUNCED with the reason. */
int tkms_gov_check_holder(tkms_op *op);
#endif
