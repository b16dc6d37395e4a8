/* src/cli/cmd_governance.c — `tkms governance status|announce|cancel`
 * (docs/upgrades.md). An announcement needs the signatures of M of the
 * deployment's governors over one AnnounceUpgrade (or CancelUpgrade) message:
 * this command signs it with every --account file given and adds --signature
 * values made elsewhere (a hardware wallet signing the typed data that
 * --dry-run prints, for the same --request-id and --deadline). The core counts
 * the governors; the CLI only collects signatures. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/account.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/http_client.h"
#include "cli/output.h"
#include "cli/request.h"
#include "proto/hex.h"
#include "proto/ops.h"
#include "proto/requests.h"

static const char usage_text[] =
    "usage: tkms governance status\n"
    "       tkms governance announce --measurement 0x… --account FILE [--account FILE …]\n"
    "                                [--signature 0x… …] [--request-id 0x… --deadline T]\n"
    "                                [--dry-run]\n"
    "       tkms governance cancel   (the same options as announce)\n"
    "\n"
    "  status         governors, threshold, upgrade delay and announcements\n"
    "  announce       announce a successor core measurement; it may take over the\n"
    "                 deployment once the upgrade delay has passed\n"
    "  cancel         withdraw an announcement before the successor takes over\n"
    "\n"
    "  --measurement 0x…  the successor core's measurement (64 hex digits)\n"
    "  --account FILE     a governor's account file (tkms dev-account); repeatable\n"
    "  --signature 0x…    a governor's 65-byte EIP-712 signature made elsewhere over\n"
    "                     the same message; needs --request-id and --deadline\n"
    "  --request-id 0x…   the request id to sign (default: random)\n"
    "  --deadline T       unix seconds (default: now + 300)\n"
    "  --dry-run          print the typed data and the body instead of sending\n"
    "  --deployment 0x…   sign for this deployment salt instead of asking the service\n";

#define MAX_ITEMS TKMS_GOV_MAX_SIGS

static int usage(FILE *f, int rc) {
  return tkms_cli_usage(f, usage_text, rc);
}

static int usage_error(const char *why) {
  return tkms_cli_usage_error(usage_text, "tkms governance", why);
}

static int resolve_salt(const tkms_cli_common *c, uint8_t salt[32]) {
  if (c->deployment != NULL) {
    if (tkms_hex_decode_exact(c->deployment, salt, 32) == 0) return 0;
    fprintf(stderr, "tkms: --deployment must be 0x + 64 hex digits\n");
    return -1;
  }
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", "/v1/eip712", NULL, &r) != 0) return -1;
  int rc = -1;
  const char *s = json_string_value(json_object_get(json_object_get(r.json, "domain"), "salt"));
  if (r.status != 200)
    tkms_cli_print_error(&r);
  else if (s == NULL || tkms_hex_decode_exact(s, salt, 32) != 0)
    fprintf(stderr, "tkms: /v1/eip712 has no valid domain salt\n");
  else
    rc = 0;
  tkms_cli_response_free(&r);
  return rc;
}

static int cmd_status(tkms_cli_common *c, int argc, char **argv) {
  int help = 0;
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc - 1, argv + 1, NULL, 0, NULL, 0, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", "/v1/governance", NULL, &r) != 0) return TKMS_CLI_EXIT_FAIL;
  int rc = tkms_cli_report(&r);
  tkms_cli_response_free(&r);
  return rc;
}

/* announce / cancel. Options may repeat (--account, --signature), so they are
 * parsed here rather than by tkms_cli_args_parse. */
static int cmd_change(tkms_cli_common *c, int argc, char **argv, int announce) {
  const char *meas_s = NULL, *rid_s = NULL, *deadline_s = NULL;
  const char *accounts[MAX_ITEMS], *ext[MAX_ITEMS];
  size_t n_acc = 0, n_ext = 0;
  int dry_run = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
#define IS(name) (nl == strlen(name) && strncmp(a, name, nl) == 0)
    if (IS("--help") || IS("-h")) return usage(stdout, TKMS_CLI_EXIT_OK);
    if (IS("--dry-run")) {
      dry_run = 1;
      continue;
    }
    if (!(IS("--measurement") || IS("--account") || IS("--signature") || IS("--request-id") ||
          IS("--deadline") || IS("--url") || IS("--deployment"))) {
      fprintf(stderr, "tkms governance: unknown option '%s'\n", a);
      return usage(stderr, TKMS_CLI_EXIT_USAGE);
    }
    if (val == NULL) {
      fprintf(stderr, "tkms governance: %.*s needs a value\n", (int)nl, a);
      return TKMS_CLI_EXIT_USAGE;
    }
    if (!eq) i++;
    if (IS("--account") || IS("--signature")) {
      size_t *n = IS("--account") ? &n_acc : &n_ext;
      if (*n == MAX_ITEMS) return usage_error("too many --account / --signature values");
      (IS("--account") ? accounts : ext)[(*n)++] = val;
      continue;
    }
    const char **slot = IS("--measurement")  ? &meas_s
                        : IS("--request-id") ? &rid_s
                        : IS("--deadline")   ? &deadline_s
                        : IS("--url")        ? &c->url
                                             : &c->deployment;
    if (slot != &c->url && slot != &c->deployment && *slot != NULL) {
      fprintf(stderr, "tkms governance: %.*s given twice\n", (int)nl, a);
      return TKMS_CLI_EXIT_USAGE;
    }
    *slot = val;
#undef IS
  }
  uint8_t meas[32], salt[32];
  if (meas_s == NULL || tkms_hex_decode_exact(meas_s, meas, 32) != 0)
    return usage_error("--measurement 0x + 64 hex digits is required");
  if (n_acc + n_ext == 0) return usage_error("give at least one --account or --signature");
  if (n_acc + n_ext > MAX_ITEMS) return usage_error("too many signatures");
  if (n_ext > 0 && (rid_s == NULL || deadline_s == NULL))
    return usage_error(
        "--signature needs --request-id and --deadline: every governor signs the same message");
  if (resolve_salt(c, salt) != 0) return TKMS_CLI_EXIT_FAIL;
  tkms_cli_envelope env;
  if (tkms_cli_envelope_init(&env, salt) != 0) return TKMS_CLI_EXIT_FAIL;
  if (rid_s != NULL && tkms_hex_decode_exact(rid_s, env.request_id, 32) != 0)
    return usage_error("--request-id must be 0x + 64 hex digits");
  if (deadline_s != NULL) {
    unsigned long long d;
    if (tkms_cli_parse_u64(deadline_s, 1, UINT64_MAX, &d) != 0)
      return usage_error("--deadline must be unix seconds");
    env.deadline = d;
  }
  int rt = announce ? TKMS_RT_ANNOUNCE_UPGRADE : TKMS_RT_CANCEL_UPGRADE;
  tkms_cli_value vals[3] = {tkms_cli_value_bytes(meas, 32),
                            tkms_cli_value_bytes(env.request_id, 32),
                            tkms_cli_value_uint(env.deadline)};
  uint8_t pre[TKMS_EIP712_PREIMAGE_BYTES], digest[32];
  if (tkms_cli_typed_digest(salt, rt, vals, 3, pre, digest) != 0) return TKMS_CLI_EXIT_FAIL;
  json_t *sigs = json_array();
  char hex[2 * 65 + 3];
  for (size_t i = 0; i < n_acc; i++) {
    tkms_cli_account acc;
    memset(&acc, 0, sizeof acc);
    if (tkms_cli_account_load(accounts[i], &acc) != 0) {
      json_decref(sigs);
      return TKMS_CLI_EXIT_FAIL;
    }
    uint8_t sig[TKMS_CLI_ACCOUNT_SIG_MAX];
    size_t sl = 0;
    int bad = acc.type != TKMS_CLI_ACCOUNT_SECP256K1;
    if (bad)
      fprintf(stderr, "tkms governance: %s is not a secp256k1 account; governors are EOAs\n",
              accounts[i]);
    else
      bad = tkms_cli_account_sign(&acc, pre, sig, &sl) != 0;
    if (!bad) fprintf(stderr, "tkms: signed as governor %s\n", acc.display);
    tkms_cli_account_free(&acc);
    if (bad) {
      json_decref(sigs);
      return TKMS_CLI_EXIT_FAIL;
    }
    tkms_hex_encode(sig, sl, hex);
    json_array_append_new(sigs, json_string(hex));
  }
  for (size_t i = 0; i < n_ext; i++) {
    uint8_t sig[65];
    if (tkms_hex_decode_exact(ext[i], sig, sizeof sig) != 0) {
      json_decref(sigs);
      return usage_error("--signature must be 0x + 130 hex digits (r, s, v)");
    }
    tkms_hex_encode(sig, sizeof sig, hex);
    json_array_append_new(sigs, json_string(hex));
  }
  char mhex[67], rhex[67], shex[67];
  tkms_hex_encode(meas, 32, mhex);
  tkms_hex_encode(env.request_id, 32, rhex);
  tkms_hex_encode(salt, 32, shex);
  json_t *body =
      json_pack("{s:s, s:s, s:I, s:s, s:o}", "measurement", mhex, "request_id", rhex, "deadline",
                (json_int_t)env.deadline, "deployment", shex, "signatures", sigs);
  const char *path = announce ? "/v1/governance/announce" : "/v1/governance/cancel";
  int rc;
  if (body == NULL) return TKMS_CLI_EXIT_FAIL;
  if (dry_run) {
    json_t *td = tkms_cli_typed_data_json(salt, rt, vals, 3);
    json_t *out = td == NULL ? NULL
                             : json_pack("{s:s, s:s, s:O, s:o}", "method", "POST", "path", path,
                                         "body", body, "typed_data", td);
    rc = out != NULL && tkms_cli_print_json(out) == 0 ? TKMS_CLI_EXIT_OK : TKMS_CLI_EXIT_FAIL;
    json_decref(out);
  } else {
    tkms_cli_response r;
    rc = TKMS_CLI_EXIT_FAIL;
    if (tkms_cli_http(c->url, "POST", path, body, &r) == 0) {
      rc = tkms_cli_report(&r);
      tkms_cli_response_free(&r);
    }
  }
  json_decref(body);
  return rc;
}

int tkms_cli_cmd_governance(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
    return usage(stdout, TKMS_CLI_EXIT_OK);
  if (strcmp(sub, "status") == 0) return cmd_status(c, argc - 1, argv + 1);
  if (strcmp(sub, "announce") == 0) return cmd_change(c, argc - 1, argv + 1, 1);
  if (strcmp(sub, "cancel") == 0) return cmd_change(c, argc - 1, argv + 1, 0);
  fprintf(stderr, "tkms governance: unknown subcommand '%s'\n", sub);
  return usage(stderr, TKMS_CLI_EXIT_USAGE);
}
