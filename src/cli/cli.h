/* src/cli/cli.h — what the CLI's files share: exit codes, common options and the
 * command entry points. Each command gets argv starting at its own name
 * ("key", "receipt", …) and returns a process exit code. */
#ifndef TKMS_CLI_CLI_H
#define TKMS_CLI_CLI_H
#include <stdint.h>

#define TKMS_CLI_EXIT_OK 0
#define TKMS_CLI_EXIT_FAIL 1  /* the service refused, the network failed, a check failed */
#define TKMS_CLI_EXIT_USAGE 2 /* the command line itself is wrong */

#define TKMS_CLI_DEFAULT_URL "http://127.0.0.1:8420"

/* Options every command understands. */
typedef struct {
  const char *url;        /* --url, else $TKMS_URL, else TKMS_CLI_DEFAULT_URL */
  const char *deployment; /* --deployment, else $TKMS_DEPLOYMENT, else NULL (ask /v1/eip712) */
} tkms_cli_common;

int tkms_cli_cmd_dev_account(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_key(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_receipt(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_evidence(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_measure(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_governance(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_attest(tkms_cli_common *c, int argc, char **argv);
int tkms_cli_cmd_session(tkms_cli_common *c, int argc, char **argv);
/* `tkms session open --mac` (cmd_session.c); argv after "open". */
int tkms_cli_cmd_session_open(tkms_cli_common *c, int argc, char **argv);

/* The deployment salt requests are signed for: --deployment, else GET /v1/eip712
 * (cmd_key.c). Returns 0, or -1 after printing why. */
int tkms_cli_resolve_salt(const tkms_cli_common *c, uint8_t salt[32]);
#endif
