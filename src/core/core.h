/* src/core/core.h — the trusted core's state and its one entry point.
 *
 * Everything the host can ask arrives through tkms_core_dispatch (dispatch.c),
 * which looks the op up in the ECALL table and runs the checks its flags demand.
 *
 * Locking (why it is safe without finer locks):
 *  - `mutation` is held by a prepared transaction from its prepare until its
 *    COMMIT/ABORT, and by LOAD_* for their duration. Only its holder changes the
 *    index, the set hash, the secrets or the state, and it takes `lock` for writing
 *    while it does. So a holder may read everything without `lock`.
 *  - Every other op (SIGN, STATUS, ATTEST) holds `lock` for reading for its whole
 *    duration, so a sign never overlaps the commit of a rotate/destroy of its key:
 *    once a destroy is acknowledged no signature with that key can still appear. */
#ifndef TKMS_CORE_CORE_H
#define TKMS_CORE_CORE_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/hierarchy.h"
#include "core/index.h"
#include "core/ratelimit.h"
#include "crypto/sethash.h"
#include "platform/platform.h"
#include "proto/frame.h"

#define TKMS_CORE_VERSION "0.1.0"
#define TKMS_CORE_BUSY_MS 5000u /* a mutation waits this long for another's commit */

typedef struct tkms_tx tkms_tx;

typedef struct tkms_core {
  tkms_platform plat;
  int init_allowed;      /* started with --init: INIT may create a deployment */
  int migrate_source;    /* started with --migrate-source: loads the state read-only
                            (counters are not advanced) to hand it to a successor */
  const char *build_tag; /* "" or the TKMS_BUILD_TAG this binary was built with */
  unsigned busy_ms;
  uint32_t max_nonces; /* live request ids kept for replay protection (TKMS_MAX_NONCES) */

  pthread_rwlock_t lock;
  pthread_mutex_t mutation;

  int state;  /* TKMS_STATE_* */
  int failed; /* fail-stop: the counter could not advance; only a restart helps */
  uint8_t measurement[TKMS_MEASUREMENT_BYTES];

  tkms_secrets *sec;   /* NULL until INIT commits or LOAD_DMK succeeds */
  tkms_deployment dep; /* public values derived from the DMK */

  tkms_index index;   /* live records: keys, sessions, nonces */
  tkms_sethash set;   /* multiset hash over the live records (manifest.c) */
  uint32_t n_records; /* live records */
  uint64_t next_txid;
  size_t prune_cursor;  /* where the next sweep for expired records starts */
  tkms_clock clock;     /* trusted time (clock.h); its own mutex */
  tkms_rate_table rate; /* key policies' rate_per_minute (in memory only) */

  /* migration (governance.c), under the mutation lock */
  uint8_t mig_nonce[32]; /* current core: the nonce the successor's evidence binds */
  int has_mig_nonce;
  int imported;    /* successor: MIGRATE_IMPORT committed in this process */
  int must_finish; /* successor: loaded, but not yet recorded as the holder
                      (MIGRATE_FINISH); client ops are refused until then */
  uint8_t *mig_sk; /* successor: ephemeral X25519 secret (sodium_malloc) or NULL */
  uint8_t mig_pk[32];

  /* Attested sessions (attested.h). */
  int has_test_root;     /* sim only: a DCAP test root is trusted besides Intel's */
  uint8_t test_root[65]; /* its uncompressed P-256 key */
  struct tkms_challenges *challenges;
} tkms_core;

/* One per socket (worker thread). */
typedef struct {
  tkms_core *core;
  tkms_tx *pending; /* prepared transaction awaiting COMMIT/ABORT on this socket */
} tkms_conn;

/* Creates a core over an opened platform (the core takes it over and closes it).
 * Returns 0 or -1. */
int tkms_core_new(const tkms_platform *plat, int init_allowed, tkms_core **out);
void tkms_core_free(tkms_core *core);

void tkms_conn_init(tkms_conn *conn, tkms_core *core);
/* The socket is gone: aborts a pending transaction and releases its lock. */
void tkms_conn_close(tkms_conn *conn);

/* Handles one request frame (without its length prefix) and writes the response
 * into resp (initialised here, finished, ready to send; caller frees). Never
 * aborts on input. Returns 0, or -1 if no response could be built (out of memory). */
int tkms_core_dispatch(tkms_conn *conn, const uint8_t *req, size_t req_len, tkms_fw *resp);
#endif
