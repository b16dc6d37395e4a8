/* src/cli/cmd_attest.c — `tkms attest challenge` and `tkms session
 * open-attested`: the client side of attested sessions
 * (docs/attested-sessions.md). The CLI only carries bytes: the core makes the
 * nonce, verifies the evidence and decides. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/collateral.h"
#include "cli/files.h"
#include "cli/http_client.h"
#include "cli/output.h"

#define EVIDENCE_MAX (64u * 1024u)

static const char attest_usage[] =
    "usage: tkms attest challenge\n"
    "\n"
    "Asks the core for a fresh nonce for an attested session: prints\n"
    "{\"nonce\": \"0x…\", \"expires_at\": …}. The nonce is usable once, for 300 s.\n"
    "The attesting software then puts into its TEE report\n"
    "  SHA-512(\"tkms-attested-session-v1\" || deployment salt || nonce || session key)\n"
    "(docs/attested-sessions.md).\n";

static const char session_usage[] =
    "usage: tkms session open --mac --account FILE --session-out FILE --operations …\n"
    "                         (a MAC session: tkms session open --help)\n"
    "       tkms session open-attested --evidence FILE --collateral DIR|FILE\n"
    "                                  --nonce 0x… --session-key PRINCIPAL --key-ids 0x…,0x…\n"
    "                                  [--format tdx] [--ttl SECONDS]\n"
    "\n"
    "Opens an attested session with TEE evidence whose report data binds the\n"
    "session key and the nonce (from `tkms attest challenge`).\n"
    "  --evidence FILE     the quote / report (binary, or hex text)\n"
    "  --collateral X      a directory with one file per item, or a collateral JSON\n"
    "                      file (as for `tkms evidence verify`)\n"
    "  --format F          sgx, tdx (default), snp or nitro (tpm2 evidence is refused)\n"
    "  --ttl SECONDS       session lifetime, 1..86400 (default 3600)\n"
    "  --key-ids LIST      comma-separated key ids (at least one) the session may use\n"
    "                      (each key's policy must allow the evidence now)\n"
    "Prints the session (session_id, owner measurement:…, claims).\n";

static int usage(FILE *f, const char *text, int rc) {
  fputs(text, f);
  return rc;
}

static int post_and_print(const tkms_cli_common *c, const char *path, const json_t *body) {
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "POST", path, body, &r) != 0) return TKMS_CLI_EXIT_FAIL;
  int rc = tkms_cli_report(&r);
  tkms_cli_response_free(&r);
  return rc;
}

int tkms_cli_cmd_attest(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, attest_usage, TKMS_CLI_EXIT_USAGE);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return usage(stdout, attest_usage, TKMS_CLI_EXIT_OK);
  if (strcmp(argv[1], "challenge") != 0) {
    fprintf(stderr, "tkms: unknown attest command '%s'\n", argv[1]);
    return usage(stderr, attest_usage, TKMS_CLI_EXIT_USAGE);
  }
  int help = 0;
  char *pos[1];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc - 2, argv + 2, NULL, 0, pos, 1, &n_pos, c, &help) != 0 || n_pos)
    return usage(stderr, attest_usage, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, attest_usage, TKMS_CLI_EXIT_OK);
  json_t *body = json_object();
  int rc = post_and_print(c, "/v1/attestation/challenge", body);
  json_decref(body);
  return rc;
}

static json_t *hex_json(const uint8_t *b, size_t n) {
  char *s = malloc(2 * n + 3);
  if (s == NULL) return NULL;
  s[0] = '0';
  s[1] = 'x';
  for (size_t i = 0; i < n; i++) snprintf(s + 2 + 2 * i, 3, "%02x", b[i]);
  json_t *j = json_string(s);
  free(s);
  return j;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Hex text (0x optional, whitespace around) is decoded in place; binary is kept. */
static void maybe_unhex(uint8_t *b, size_t *len) {
  size_t s = 0, e = *len;
  while (s < e && strchr(" \t\r\n", b[s]) != NULL) s++;
  while (e > s && strchr(" \t\r\n", b[e - 1]) != NULL) e--;
  if (e - s >= 2 && b[s] == '0' && (b[s + 1] == 'x' || b[s + 1] == 'X')) s += 2;
  if (e == s || (e - s) % 2 != 0) return;
  for (size_t i = s; i < e; i++)
    if (hexval(b[i]) < 0) return;
  size_t n = (e - s) / 2;
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)(hexval(b[s + 2 * i]) << 4 | hexval(b[s + 2 * i + 1]));
  *len = n;
}

static int open_attested(tkms_cli_common *c, int argc, char **argv) {
  const char *ev_opt = NULL, *col_opt = NULL, *nonce = NULL, *key = NULL, *fmt = "tdx",
             *ttl_opt = NULL, *keys_opt = NULL;
  const tkms_cli_opt opts[] = {{"evidence", &ev_opt, NULL}, {"collateral", &col_opt, NULL},
                               {"nonce", &nonce, NULL},     {"session-key", &key, NULL},
                               {"format", &fmt, NULL},      {"ttl", &ttl_opt, NULL},
                               {"key-ids", &keys_opt, NULL}};
  int help = 0;
  char *pos[1];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &n_pos, c,
                          &help) != 0)
    return usage(stderr, session_usage, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, session_usage, TKMS_CLI_EXIT_OK);
  if (n_pos != 0 || ev_opt == NULL || col_opt == NULL || nonce == NULL || key == NULL ||
      keys_opt == NULL)
    return usage(stderr, session_usage, TKMS_CLI_EXIT_USAGE);
  unsigned long long ttl = 3600;
  if (ttl_opt != NULL && tkms_cli_parse_u64(ttl_opt, 1, 86400, &ttl) != 0) {
    fprintf(stderr, "tkms: --ttl must be 1..86400 seconds\n");
    return TKMS_CLI_EXIT_USAGE;
  }
  uint8_t *ev = NULL;
  size_t ev_len = 0;
  if (tkms_cli_file_read(ev_opt, 2 * EVIDENCE_MAX + 16, &ev, &ev_len) != 0)
    return TKMS_CLI_EXIT_USAGE;
  maybe_unhex(ev, &ev_len);
  tkms_cli_collateral col;
  tkms_cli_collateral_init(&col);
  if (tkms_cli_collateral_load(&col, col_opt) != 0) {
    free(ev);
    tkms_cli_collateral_free(&col);
    return TKMS_CLI_EXIT_USAGE;
  }
  json_t *items = json_object();
  for (size_t i = 0; items != NULL && i < col.col.n; i++)
    json_object_set_new(items, col.col.items[i].name,
                        hex_json(col.col.items[i].data, col.col.items[i].len));
  tkms_cli_collateral_free(&col);
  json_t *body = json_pack("{s:s, s:o, s:o, s:s, s:s, s:I}", "format", fmt, "evidence",
                           hex_json(ev, ev_len), "collateral", items, "nonce", nonce, "session_key",
                           key, "expiry", (json_int_t)(time(NULL) + (time_t)ttl));
  free(ev);
  if (body == NULL) {
    fprintf(stderr, "tkms: out of memory\n");
    return TKMS_CLI_EXIT_FAIL;
  }
  if (keys_opt != NULL) {
    json_t *ids = json_array();
    char *copy = strdup(keys_opt), *save = NULL;
    for (char *t = copy != NULL ? strtok_r(copy, ",", &save) : NULL; t != NULL;
         t = strtok_r(NULL, ",", &save))
      json_array_append_new(ids, json_string(t));
    free(copy);
    json_object_set_new(body, "key_ids", ids);
  }
  int rc = post_and_print(c, "/v1/sessions/attested", body);
  json_decref(body);
  return rc;
}

int tkms_cli_cmd_session(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, session_usage, TKMS_CLI_EXIT_USAGE);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return usage(stdout, session_usage, TKMS_CLI_EXIT_OK);
  if (strcmp(argv[1], "open-attested") == 0) return open_attested(c, argc - 2, argv + 2);
  if (strcmp(argv[1], "open") == 0) return tkms_cli_cmd_session_open(c, argc - 2, argv + 2);
  fprintf(stderr, "tkms: unknown session command '%s'\n", argv[1]);
  return usage(stderr, session_usage, TKMS_CLI_EXIT_USAGE);
}
