/* src/cli/main.c — the `tkms` program: `tkms serve` runs the daemon (src/host);
 * every other command is a client of the HTTP API (docs/api.md). */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http_client.h"
#include "crypto/secp256k1_eth.h"
#include "host/serve.h"

static const char usage_text[] =
    "usage: tkms [--url URL] COMMAND …\n"
    "\n"
    "  serve …                            run the service (tkms serve --help)\n"
    "  dev-account new --out FILE         make a local development account\n"
    "  dev-account show FILE              print an account's address\n"
    "  key create|list|get|sign|rotate|destroy …   manage keys (tkms key --help)\n"
    "  receipt verify FILE                check a deletion receipt offline\n"
    "  evidence verify [--at T] FILE      check TEE attestation evidence offline\n"
    "  measure [--enclave PATH] [--compare]  the core's measurement and manifest\n"
    "  governance status|announce|cancel  announced core upgrades (tkms governance --help)\n"
    "  attest challenge                   a nonce for an attested session\n"
    "  session open --mac …               open a MAC session (HMAC-authenticated requests)\n"
    "  session open-attested …            open a session with TEE evidence\n"
    "\n"
    "--url URL selects the service (default $TKMS_URL, else " TKMS_CLI_DEFAULT_URL
    ").\n"
    "Every command takes --help.\n";

static int usage(FILE *f, int rc) {
  fputs(usage_text, f);
  return rc;
}

/* jansson allocator that wipes memory on free, so that account private keys
 * parsed from JSON do not linger in freed heap memory. The size is kept in a
 * 16-byte header, which also keeps malloc's alignment. */
#define ZHDR 16u

static void *zalloc(size_t n) {
  if (n > SIZE_MAX - ZHDR) return NULL;
  unsigned char *p = malloc(n + ZHDR);
  if (p == NULL) return NULL;
  memcpy(p, &n, sizeof n);
  return p + ZHDR;
}

static void zfree(void *q) {
  if (q == NULL) return;
  unsigned char *p = (unsigned char *)q - ZHDR;
  size_t n;
  memcpy(&n, p, sizeof n);
  sodium_memzero(p, n + ZHDR);
  free(p);
}

/* Global options before the command name: only --url and --help. */
static int parse_globals(int argc, char **argv, tkms_cli_common *c, int *i) {
  for (*i = 1; *i < argc && argv[*i][0] == '-'; (*i)++) {
    const char *a = argv[*i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
    if (strncmp(a, "--url=", 6) == 0) {
      c->url = a + 6;
    } else if (strcmp(a, "--url") == 0) {
      if (*i + 1 >= argc) {
        fprintf(stderr, "tkms: --url needs a value\n");
        return -1;
      }
      c->url = argv[++(*i)];
    } else {
      fprintf(stderr, "tkms: unknown option '%s'\n", a);
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  /* The daemon sets itself up; nothing of the client's set-up applies to it. */
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return tkms_serve_main(argc - 1, argv + 1);

  json_set_alloc_funcs(zalloc, zfree);
  if (sodium_init() < 0 || tkms_secp_init() != 0) {
    fprintf(stderr, "tkms: cannot initialise the crypto libraries\n");
    return TKMS_CLI_EXIT_FAIL;
  }
  tkms_cli_common c = {getenv("TKMS_URL"), getenv("TKMS_DEPLOYMENT")};
  if (c.url == NULL || c.url[0] == '\0') c.url = TKMS_CLI_DEFAULT_URL;
  if (c.deployment != NULL && c.deployment[0] == '\0') c.deployment = NULL;

  int i = 0;
  int g = parse_globals(argc, argv, &c, &i);
  if (g > 0) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (g < 0 || i >= argc) return usage(stderr, TKMS_CLI_EXIT_USAGE);

  const char *cmd = argv[i];
  int rc;
  if (strcmp(cmd, "help") == 0) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (strcmp(cmd, "serve") == 0) {
    fprintf(stderr, "tkms: serve takes no client options; run `tkms serve --help`\n");
    return TKMS_CLI_EXIT_USAGE;
  }
  if (tkms_cli_http_init() != 0) {
    fprintf(stderr, "tkms: cannot initialise libcurl\n");
    return TKMS_CLI_EXIT_FAIL;
  }
  if (strcmp(cmd, "dev-account") == 0) {
    rc = tkms_cli_cmd_dev_account(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "key") == 0) {
    rc = tkms_cli_cmd_key(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "receipt") == 0) {
    rc = tkms_cli_cmd_receipt(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "evidence") == 0) {
    rc = tkms_cli_cmd_evidence(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "measure") == 0) {
    rc = tkms_cli_cmd_measure(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "governance") == 0) {
    rc = tkms_cli_cmd_governance(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "attest") == 0) {
    rc = tkms_cli_cmd_attest(&c, argc - i, argv + i);
  } else if (strcmp(cmd, "session") == 0) {
    rc = tkms_cli_cmd_session(&c, argc - i, argv + i);
  } else {
    fprintf(stderr, "tkms: unknown command '%s'\n", cmd);
    rc = usage(stderr, TKMS_CLI_EXIT_USAGE);
  }
  tkms_cli_http_cleanup();
  return rc;
}
