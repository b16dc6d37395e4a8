/* src/cli/output.h — what the CLI prints: answers as pretty JSON on stdout,
 * errors on stderr. Text that came from the server is escaped before it reaches
 * a terminal, so a hostile server cannot send terminal control sequences. */
#ifndef TKMS_CLI_OUTPUT_H
#define TKMS_CLI_OUTPUT_H
#include <jansson.h>

#include "cli/http_client.h"

/* Pretty JSON (2-space indent, ASCII only) and a newline on stdout. Returns 0 or -1. */
int tkms_cli_print_json(const json_t *j);

/* If resp->status is 2xx: prints the body and returns TKMS_CLI_EXIT_OK.
 * Otherwise prints "tkms: <code>: <message> (HTTP <status>)" on stderr and
 * returns TKMS_CLI_EXIT_FAIL. */
int tkms_cli_report(const tkms_cli_response *resp);

/* Prints the server's error for a non-2xx answer on stderr (as above). */
void tkms_cli_print_error(const tkms_cli_response *resp);
#endif
