/* src/cli/cmd_account.c — `tkms dev-account`: make and show local development
 * accounts (see account.h for the file format). */
#include <stdio.h>
#include <string.h>

#include "cli/account.h"
#include "cli/args.h"
#include "cli/cli.h"

static const char usage_text[] =
    "usage: tkms dev-account new --out FILE [--type secp256k1|ed25519]\n"
    "       tkms dev-account show FILE\n"
    "\n"
    "A development account is a principal held in a local file (mode 0600):\n"
    "  secp256k1  an Ethereum EOA, principal eoa:0x<address>; prints the address\n"
    "  ed25519    principal ed25519:0x<public key>; prints the public key\n"
    "`new` refuses to overwrite an existing file. Development keys are not for\n"
    "production: use a hardware wallet or a session key there.\n";

static int usage(FILE *f, int rc) {
  fputs(usage_text, f);
  return rc;
}

static int cmd_new(tkms_cli_common *c, int argc, char **argv) {
  const char *out = NULL, *type = "secp256k1";
  const tkms_cli_opt opts[] = {{"out", &out, NULL}, {"type", &type, NULL}};
  char *pos[1];
  size_t n_pos = 0;
  int help = 0;
  if (tkms_cli_args_parse(argc, argv, opts, 2, pos, 0, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  tkms_cli_account_type t;
  if (out == NULL || tkms_cli_account_type_parse(type, &t) != 0) {
    fprintf(stderr, out == NULL ? "tkms: --out FILE is required\n"
                                : "tkms: --type must be secp256k1 or ed25519\n");
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  }
  tkms_cli_account a;
  if (tkms_cli_account_generate(t, &a) != 0) return TKMS_CLI_EXIT_FAIL;
  int rc = tkms_cli_account_save(&a, out);
  if (rc == 0) {
    printf("%s\n", a.display);
    fprintf(stderr, "tkms: wrote a development %s account to %s (principal %s)\n", type, out,
            a.principal);
  }
  tkms_cli_account_free(&a);
  return rc == 0 ? TKMS_CLI_EXIT_OK : TKMS_CLI_EXIT_FAIL;
}

static int cmd_show(tkms_cli_common *c, int argc, char **argv) {
  const tkms_cli_opt *opts = NULL;
  char *pos[1];
  size_t n_pos = 0;
  int help = 0;
  if (tkms_cli_args_parse(argc, argv, opts, 0, pos, 1, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (n_pos != 1) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  tkms_cli_account a;
  if (tkms_cli_account_load(pos[0], &a) != 0) return TKMS_CLI_EXIT_FAIL;
  printf("%s\n", a.display);
  fprintf(stderr, "tkms: principal %s\n", a.principal);
  tkms_cli_account_free(&a);
  return TKMS_CLI_EXIT_OK;
}

int tkms_cli_cmd_dev_account(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  const char *sub = argv[1];
  if (strcmp(sub, "new") == 0) return cmd_new(c, argc - 2, argv + 2);
  if (strcmp(sub, "show") == 0) return cmd_show(c, argc - 2, argv + 2);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
    return usage(stdout, TKMS_CLI_EXIT_OK);
  fprintf(stderr, "tkms: unknown dev-account command '%s'\n", sub);
  return usage(stderr, TKMS_CLI_EXIT_USAGE);
}
