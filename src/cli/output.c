/* src/cli/output.c — printing answers and errors; see output.h. */
#include "cli/output.h"

#include <stdio.h>

#include "cli/cli.h"

/* Longest server message we echo; more is noise, not information. */
#define MAX_MESSAGE 400

int tkms_cli_print_json(const json_t *j) {
  if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) != 0)
    return -1;
  if (fputc('\n', stdout) == EOF || fflush(stdout) != 0) return -1;
  return 0;
}

/* Printable ASCII only; everything else becomes \xNN. */
static void print_safe(const char *s) {
  for (size_t i = 0; s[i] != '\0' && i < MAX_MESSAGE; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f)
      fputc(c, stderr);
    else
      fprintf(stderr, "\\x%02x", c);
  }
}

void tkms_cli_print_error(const tkms_cli_response *resp) {
  json_t *err = json_object_get(resp->json, "error");
  const char *code = json_string_value(json_object_get(err, "code"));
  const char *msg = json_string_value(json_object_get(err, "message"));
  fputs("tkms: ", stderr);
  if (code != NULL) {
    print_safe(code);
    if (msg != NULL) {
      fputs(": ", stderr);
      print_safe(msg);
    }
  } else {
    fputs("the service answered with an error", stderr);
  }
  fprintf(stderr, " (HTTP %ld)\n", resp->status);
}

int tkms_cli_report(const tkms_cli_response *resp) {
  if (resp->status >= 200 && resp->status < 300) {
    if (resp->json == NULL) {
      fprintf(stderr, "tkms: the service answered HTTP %ld without a JSON body\n", resp->status);
      return TKMS_CLI_EXIT_FAIL;
    }
    if (tkms_cli_print_json(resp->json) != 0) {
      fprintf(stderr, "tkms: cannot write to stdout\n");
      return TKMS_CLI_EXIT_FAIL;
    }
    return TKMS_CLI_EXIT_OK;
  }
  tkms_cli_print_error(resp);
  return TKMS_CLI_EXIT_FAIL;
}
