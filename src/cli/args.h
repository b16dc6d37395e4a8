/* src/cli/args.h — command-line option parsing shared by every command.
 *
 * Options are long only: "--name value" or "--name=value"; "--" ends options;
 * options and positional arguments may be mixed. A repeated option is an error
 * rather than "last one wins", so a script cannot silently sign something other
 * than it meant. --url, --deployment and --help/-h are understood everywhere. */
#ifndef TKMS_CLI_ARGS_H
#define TKMS_CLI_ARGS_H
#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"

typedef struct {
  const char *name;   /* without the dashes, e.g. "account" */
  const char **value; /* receives the argument; NULL for a flag */
  int *flag;          /* for a flag: set to 1 when present */
} tkms_cli_opt;

/* Parses argv[0..argc) (argv[0] is the first argument, not a program name).
 * Positionals go to pos[0..max_pos); *n_pos gets their number. *help is set
 * when --help or -h appears. Returns 0, or -1 after printing why to stderr. */
int tkms_cli_args_parse(int argc, char **argv, const tkms_cli_opt *opts, size_t n_opts, char **pos,
                        size_t max_pos, size_t *n_pos, tkms_cli_common *common, int *help);

/* A command's usage text: printed to f, returning rc. */
int tkms_cli_usage(FILE *f, const char *text, int rc);
/* A wrong command line: "WHO: WHY" and the usage text to stderr; returns
 * TKMS_CLI_EXIT_USAGE. */
int tkms_cli_usage_error(const char *text, const char *who, const char *why);

/* Parses a decimal integer in [min, max]. Returns 0 or -1. */
int tkms_cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                       unsigned long long *out);
#endif
