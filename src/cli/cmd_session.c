/* src/cli/cmd_session.c — `tkms session open --mac`: the account (the owner)
 * signs OpenSession for a fresh X25519 session key; the secret goes to a new
 * 0600 session file that `tkms key sign --session FILE` uses (mac_session.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/account.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/http_client.h"
#include "cli/mac_session.h"
#include "cli/output.h"
#include "cli/request.h"
#include "proto/hex.h"
#include "proto/requests.h"

#define MAX_SCOPE_KEYS 64u      /* the API's key_ids limit */
#define MAX_SESSION_TTL 604800u /* 7 days, the service's limit */
#define MAX_OPERATIONS 4u       /* create, sign, rotate, destroy */

static const char usage_text[] =
    "usage: tkms session open --mac --account FILE --session-out FILE\n"
    "                         --operations sign[,create,rotate,destroy]\n"
    "                         [--key-ids 0x…,0x…] [--ttl SECONDS]\n"
    "\n"
    "Opens a MAC session: makes an X25519 key pair, has the account (the owner)\n"
    "sign OpenSession for session key x25519:0x<public key>, and saves the secret,\n"
    "the session id and the deployment to --session-out (created with mode 0600,\n"
    "never overwritten). `tkms key sign ID --session FILE` then authenticates each\n"
    "request with HMAC-SHA256 under the key the session shares with the core\n"
    "(docs/api.md, MAC sessions). --ttl: 1..604800 seconds (default 3600).\n"
    "Without --key-ids the session covers all of the owner's keys.\n"
    "Only MAC sessions are opened here: their secret is the only one the CLI keeps.\n";

static int usage(FILE *f, int rc) {
  return tkms_cli_usage(f, usage_text, rc);
}

static int usage_error(const char *why) {
  return tkms_cli_usage_error(usage_text, "tkms", why);
}

/* Splits a comma-separated list into at most max items (in place). Returns the
 * count, or -1 if there are more or an item is empty. */
static int split(char *s, char **items, size_t max) {
  size_t n = 0;
  for (char *p = s;;) {
    char *comma = strchr(p, ',');
    if (comma != NULL) *comma = '\0';
    if (*p == '\0' || n == max) return -1;
    items[n++] = p;
    if (comma == NULL) break;
    p = comma + 1;
  }
  return (int)n;
}

/* The deployment's session X25519 key from GET /v1/health. */
static int core_session_key(const tkms_cli_common *c, uint8_t out[32]) {
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", "/v1/health", NULL, &r) != 0) return -1;
  int rc = -1;
  const char *k = json_string_value(json_object_get(r.json, "session_x25519"));
  if (r.status != 200) {
    tkms_cli_print_error(&r);
  } else if (k == NULL || tkms_hex_decode_exact(k, out, 32) != 0) {
    fprintf(stderr, "tkms: /v1/health has no session_x25519 (a service without MAC sessions?)\n");
  } else {
    rc = 0;
  }
  tkms_cli_response_free(&r);
  return rc;
}

static int open_mac(tkms_cli_common *c, const char *account_path, const char *out_path,
                    char *ops_opt, char *keys_opt, unsigned long long ttl) {
  char *ops[MAX_OPERATIONS], *keys[MAX_SCOPE_KEYS];
  int n_ops = split(ops_opt, ops, MAX_OPERATIONS);
  if (n_ops < 1) return usage_error("--operations: a comma-separated list of 1..4 operations");
  int n_keys = 0;
  uint8_t key_ids[MAX_SCOPE_KEYS][16];
  if (keys_opt != NULL) {
    n_keys = split(keys_opt, keys, MAX_SCOPE_KEYS);
    if (n_keys < 1) return usage_error("--key-ids: a comma-separated list of 1..64 key ids");
    for (int i = 0; i < n_keys; i++)
      if (tkms_hex_decode_exact(keys[i], key_ids[i], 16) != 0)
        return usage_error("--key-ids: each key id is 0x + 32 hex digits");
  }

  int rc = TKMS_CLI_EXIT_FAIL;
  tkms_cli_account acct;
  tkms_cli_mac_session s;
  tkms_cli_envelope env;
  uint8_t salt[32], core_pub[32];
  memset(&s, 0, sizeof s);
  if (tkms_cli_account_load(account_path, &acct) != 0) return TKMS_CLI_EXIT_FAIL;
  json_t *body = NULL, *jops = json_array(), *jkeys = json_array();
  int fd = -1;
  if (tkms_cli_resolve_salt(c, salt) != 0 || core_session_key(c, core_pub) != 0 ||
      tkms_cli_mac_session_generate(&s) != 0 ||
      tkms_cli_mac_session_bind(&s, core_pub, salt) != 0 || tkms_cli_envelope_init(&env, salt) != 0)
    goto out;
  s.expiry = (uint64_t)time(NULL) + ttl;
  /* Claim the file before the session exists, so its secret has a place to go. */
  if ((fd = tkms_cli_file_create(out_path, 0600)) < 0) goto out;

  tkms_cli_value vops[MAX_OPERATIONS], vkeys[MAX_SCOPE_KEYS];
  char hex[2 * 16 + 3];
  for (int i = 0; i < n_ops; i++) {
    vops[i] = tkms_cli_value_str(ops[i]);
    json_array_append_new(jops, json_string(ops[i]));
  }
  for (int i = 0; i < n_keys; i++) {
    vkeys[i] = tkms_cli_value_bytes(key_ids[i], 16);
    tkms_hex_encode(key_ids[i], 16, hex);
    json_array_append_new(jkeys, json_string(hex));
  }
  tkms_cli_value vals[] = {
      tkms_cli_value_str(s.principal),          {NULL, 0, 0, vops, (size_t)n_ops},
      {NULL, 0, 0, vkeys, (size_t)n_keys},      tkms_cli_value_uint(s.expiry),
      tkms_cli_value_bytes(env.request_id, 32), tkms_cli_value_uint(env.deadline)};
  body = json_pack("{s:s, s:O, s:O, s:I, s:s}", "session_key", s.principal, "operations", jops,
                   "key_ids", jkeys, "expiry", (json_int_t)s.expiry, "owner", acct.principal);
  if (body == NULL || tkms_cli_request_sign(&acct, &env, TKMS_RT_OPEN_SESSION, vals, 6, body) != 0)
    goto out;
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "POST", "/v1/sessions", body, &r) != 0) goto out;
  const char *sid = json_string_value(json_object_get(r.json, "session_id"));
  if (r.status != 201 || sid == NULL || tkms_hex_decode_exact(sid, s.session_id, 16) != 0) {
    tkms_cli_report(&r);
    tkms_cli_response_free(&r);
    goto out;
  }
  int saved = tkms_cli_mac_session_save(&s, fd, out_path);
  fd = -1; /* closed (and removed on failure) by save */
  if (saved == 0) {
    fprintf(stderr, "tkms: saved the MAC session to %s\n", out_path);
    rc = tkms_cli_report(&r);
  } else {
    fprintf(stderr, "tkms: the session %s is open but its secret could not be saved: revoke it\n",
            sid);
  }
  tkms_cli_response_free(&r);
out:
  if (fd >= 0) {
    close(fd);
    unlink(out_path);
  }
  json_decref(body);
  json_decref(jops);
  json_decref(jkeys);
  tkms_cli_mac_session_free(&s);
  tkms_cli_account_free(&acct);
  return rc;
}

int tkms_cli_cmd_session_open(tkms_cli_common *c, int argc, char **argv) {
  const char *account = NULL, *out = NULL, *ops = NULL, *keys = NULL, *ttl_opt = NULL;
  int mac = 0, help = 0;
  const tkms_cli_opt opts[] = {{"account", &account, NULL}, {"session-out", &out, NULL},
                               {"operations", &ops, NULL},  {"key-ids", &keys, NULL},
                               {"ttl", &ttl_opt, NULL},     {"mac", NULL, &mac}};
  char *pos[1];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &n_pos, c,
                          &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (n_pos != 0) return usage_error("session open takes no positional arguments");
  if (!mac) return usage_error("session open needs --mac (the only kind the CLI opens)");
  if (account == NULL || out == NULL || ops == NULL)
    return usage_error("session open needs --account, --session-out and --operations");
  unsigned long long ttl = 3600;
  if (ttl_opt != NULL && tkms_cli_parse_u64(ttl_opt, 1, MAX_SESSION_TTL, &ttl) != 0)
    return usage_error("--ttl must be 1..604800 seconds");
  char *ops_copy = strdup(ops), *keys_copy = keys != NULL ? strdup(keys) : NULL;
  int rc = TKMS_CLI_EXIT_FAIL;
  if (ops_copy != NULL && (keys == NULL || keys_copy != NULL))
    rc = open_mac(c, account, out, ops_copy, keys_copy, ttl);
  free(ops_copy);
  free(keys_copy);
  return rc;
}
