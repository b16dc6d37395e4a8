/* src/host/serve.h — `tkms serve`: the untrusted host daemon.
 *
 * Spawns and supervises the trusted core, keeps the store, and serves the
 * HTTP API of docs/api.md. The host carries bytes and applies limits; every
 * decision about key use is made inside the core. */
#ifndef TKMS_HOST_SERVE_H
#define TKMS_HOST_SERVE_H

/* argv[0] is "serve". Options:
 *   --data-dir DIR         store and core state (default ./var)
 *   --listen HOST:PORT     default 127.0.0.1:8420; port 0 picks a free port
 *   --workers N            HTTP threads = core sockets (default 4)
 *   --enclave PATH         the core binary (default: tkms-enclave next to this program)
 *   --max-connections N    default 1024
 *   --platform NAME        the core's platform (default sim; tpm2 reads $TKMS_TPM2_TCTI)
 * Prints "tkms: listening on http://HOST:PORT (platform P[, SIMULATED])" on
 * stdout once serving. Stops cleanly on SIGTERM / SIGINT.
 * Returns the process exit status: 0 after a clean stop, 1 on a start-up
 * failure, 2 when the core refuses the sealed state (unseal, rollback,
 * tampered) - the host never re-initialises over existing data. */
int tkms_serve_main(int argc, char **argv);

#endif
