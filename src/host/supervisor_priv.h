/* src/host/supervisor_priv.h — what supervisor.c (the core's lifecycle) and
 * migration.c (keeping core binaries, handing a deployment from the kept
 * previous core to a new one) share. Not for other files. */
#ifndef TKMS_HOST_SUPERVISOR_PRIV_H
#define TKMS_HOST_SUPERVISOR_PRIV_H

#include "host/core_priv.h"

#define META_CORE_MEASUREMENT "core.measurement"
#define CORES_DIR "cores"

/* Results of the start-up steps. */
enum { START_OK = TKMS_CORE_START_OK, START_RETRY = 1, START_REFUSED = 2 };

/* supervisor.c */
/* A core record for enclave with n synchronous and n_pipes pipelined sockets,
 * not started. NULL when out of memory. */
tkms_core *tkms_sup_alloc(const char *enclave, const char *data_dir, const char *platform,
                          unsigned n, unsigned n_pipes, tkms_store *store);
void tkms_sup_free(tkms_core *c);
/* Spawns the core with fresh socketpairs (mode_flag: "--init", "--migrate-source"
 * or NULL). Returns 0 or -1 (message printed). */
int tkms_sup_spawn(tkms_core *c, const char *mode_flag);
/* Kills the child, closes the sockets and reaps it. */
void tkms_sup_kill_and_reap(tkms_core *c);
/* One exchange during start-up: START_OK with rep filled and status OK;
 * START_REFUSED when the core refused (message printed); START_RETRY on
 * transport failure. */
int tkms_sup_call(tkms_chan *ch, tkms_fw *w, tkms_reply *rep, const char *what);
/* Loads the deployment from the store into the core on ch (LOAD_DMK, records,
 * LOAD_END), migrating it first when the core cannot unseal it. */
int tkms_sup_load(tkms_core *c, tkms_chan *ch);

/* migration.c */
/* The core on ch cannot unseal: hand it the deployment from the kept previous
 * core. START_OK with it in LOADING (its sealed DMK stored), or START_REFUSED /
 * START_RETRY with the reason printed. */
int tkms_sup_migrate(tkms_core *c, tkms_chan *ch);
/* After a successful start: keep a copy of this core binary under
 * DATA/cores/<measurement>/ and note its measurement in the store. */
void tkms_sup_keep_core(tkms_core *c);

#endif
