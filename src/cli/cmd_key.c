/* src/cli/cmd_key.c — `tkms key …`: create, list, get, sign, rotate, destroy.
 *
 * Mutations and signing are authorised by an EIP-712 signature over the request
 * made with the --account file; the core checks it. The deployment salt comes
 * from GET /v1/eip712 unless --deployment pins it: pinning means a host cannot
 * have the CLI sign a request meant for a different deployment. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/account.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/http_client.h"
#include "cli/mac_session.h"
#include "cli/output.h"
#include "cli/request.h"
#include "host/policy_json.h"
#include "proto/hex.h"
#include "proto/requests.h"

#define KEY_ID_BYTES 16u
#define KEY_ID_HEX (2 * KEY_ID_BYTES + 3)
#define MAX_PAYLOAD 16384u /* the API's payload limit */
#define RECEIPT_FILE_MODE 0644u

static const char usage_text[] =
    "usage: tkms key create --account FILE --type secp256k1|ed25519 [--owner PRINCIPAL]\n"
    "                       [--policy FILE.json]\n"
    "       tkms key list (--owner PRINCIPAL | --account FILE) [--limit N] [--cursor C]\n"
    "       tkms key get ID\n"
    "       tkms key sign ID (--account FILE | --session FILE) --mode digest|personal|message\n"
    "                        (--data STRING | --hex 0x… | --file PATH) [--key-version N]\n"
    "       tkms key rotate ID --account FILE\n"
    "       tkms key destroy ID --account FILE [--receipt-out FILE]\n"
    "       tkms key policy ID\n"
    "       tkms key policy-update ID --account FILE [--new-owner PRINCIPAL]\n"
    "                              [--policy FILE.json]\n"
    "       tkms key policy-cancel ID --account FILE\n"
    "\n"
    "Options for every command:\n"
    "  --url URL            the service (default $TKMS_URL, else " TKMS_CLI_DEFAULT_URL
    ")\n"
    "  --deployment 0x…     sign for this deployment salt instead of asking the service\n"
    "                       (default $TKMS_DEPLOYMENT)\n"
    "Options for create, sign, rotate and destroy:\n"
    "  --dry-run            print the signed request and its EIP-712 typed data; send nothing\n"
    "\n"
    "--owner defaults to the account's principal (eoa:0x… or ed25519:0x…).\n"
    "sign --session FILE: authenticate with a MAC session (`tkms session open --mac`)\n"
    "instead of the account: HMAC-SHA256 of the request's EIP-712 digest, for the\n"
    "deployment the session was opened in.\n"
    "--policy: the key's policy as JSON (docs/policy.md); without it the key has\n"
    "the default policy. The CLI signs the policy's canonical bytes.\n"
    "Sign modes: digest (32-byte payload) and personal (EIP-191) for secp256k1 keys,\n"
    "message for ed25519 keys. A sign request is signed for one key version: the\n"
    "current one (asked from the service) unless --key-version names it; after a\n"
    "rotation the service refuses a request signed for another version.\n"
    "policy shows the policy in force and a pending change; policy-update changes\n"
    "the owner and/or the policy: a change that widens access waits out the\n"
    "policy's delay_s (202, pending; policy-cancel withdraws it before then), one\n"
    "that only narrows applies at once (200). See docs/policy.md.\n"
    "--receipt-out saves the deletion receipt together with\n"
    "its EIP-712 domain, so `tkms receipt verify` can check it offline.\n"
    "Answers are printed as JSON; errors go to stderr with a non-zero exit.\n";

static int usage(FILE *f, int rc) {
  return tkms_cli_usage(f, usage_text, rc);
}

static int usage_error(const char *why) {
  return tkms_cli_usage_error(usage_text, "tkms", why);
}

/* A key id is 16 bytes; it is normalised to lower case for the URL. */
static int parse_key_id(const char *s, uint8_t id[KEY_ID_BYTES], char hex[KEY_ID_HEX]) {
  if (tkms_hex_decode_exact(s, id, KEY_ID_BYTES) != 0) return -1;
  tkms_hex_encode(id, KEY_ID_BYTES, hex);
  return 0;
}

/* GET a path and print the answer. */
static int get_and_print(const tkms_cli_common *c, const char *path) {
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", path, NULL, &r) != 0) return TKMS_CLI_EXIT_FAIL;
  int rc = tkms_cli_report(&r);
  tkms_cli_response_free(&r);
  return rc;
}

/* The deployment salt the request is signed for. */
int tkms_cli_resolve_salt(const tkms_cli_common *c, uint8_t salt[32]) {
  if (c->deployment != NULL) {
    if (tkms_hex_decode_exact(c->deployment, salt, 32) == 0) return 0;
    fprintf(stderr, "tkms: --deployment must be 0x + 64 hex digits\n");
    return -1;
  }
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", "/v1/eip712", NULL, &r) != 0) return -1;
  int rc = -1;
  if (r.status != 200) {
    tkms_cli_print_error(&r);
    goto out;
  }
  json_t *domain = json_object_get(r.json, "domain");
  const char *name = json_string_value(json_object_get(domain, "name"));
  const char *version = json_string_value(json_object_get(domain, "version"));
  const char *s = json_string_value(json_object_get(domain, "salt"));
  /* This CLI hashes with its own copy of the types; a service that announces a
   * different domain would reject every signature, so say why up front. */
  if (name == NULL || version == NULL || strcmp(name, TKMS_EIP712_NAME) != 0 ||
      strcmp(version, TKMS_EIP712_VERSION) != 0) {
    fprintf(stderr, "tkms: the service's EIP-712 domain is not %s version %s\n", TKMS_EIP712_NAME,
            TKMS_EIP712_VERSION);
    goto out;
  }
  if (s == NULL || tkms_hex_decode_exact(s, salt, 32) != 0) {
    fprintf(stderr, "tkms: /v1/eip712 has no valid domain salt\n");
    goto out;
  }
  rc = 0;
out:
  tkms_cli_response_free(&r);
  return rc;
}

/* Everything a signed request needs, loaded once. */
typedef struct {
  tkms_cli_account account;
  tkms_cli_envelope env;
} signer;

static int signer_init(const tkms_cli_common *c, const char *account_path, signer *s) {
  memset(s, 0, sizeof *s);
  uint8_t salt[32];
  if (tkms_cli_account_load(account_path, &s->account) != 0) return -1;
  if (tkms_cli_resolve_salt(c, salt) != 0 || tkms_cli_envelope_init(&s->env, salt) != 0) {
    tkms_cli_account_free(&s->account);
    return -1;
  }
  return 0;
}

/* Gives up a receipt file claimed before the request, leaving nothing behind. */
static void drop_receipt(int fd, const char *path) {
  if (fd < 0) return;
  close(fd);
  unlink(path);
}

/* Signs vals as request type rt into body and either prints it (--dry-run) or
 * sends it and reports the answer. If receipt_fd >= 0 the answer is also saved
 * there (destroy). Returns an exit code. */
/* Reads a policy JSON file (docs/policy.md) and its canonical bytes. */
static int load_policy(const char *path, json_t **policy, uint8_t *out, size_t cap, size_t *n) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (tkms_cli_file_read(path, 65536, &buf, &len) != 0) return -1;
  json_error_t je;
  *policy = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
  free(buf);
  if (*policy == NULL) {
    fprintf(stderr, "tkms: %s: not JSON (line %d: %s)\n", path, je.line, je.text);
    return -1;
  }
  tkms_json_err e = {0};
  if (tkms_policy_json_encode(*policy, "policy", out, cap, n, &e) != 0) {
    fprintf(stderr, "tkms: %s: %s\n", path, e.message);
    json_decref(*policy);
    *policy = NULL;
    return -1;
  }
  return 0;
}

static int sign_and_send(const tkms_cli_common *c, signer *s, int rt, const tkms_cli_value *vals,
                         size_t n, json_t *body, const char *method, const char *path, int dry_run,
                         int receipt_fd, const char *receipt_path) {
  if (tkms_cli_request_sign(&s->account, &s->env, rt, vals, n, body) != 0) {
    drop_receipt(receipt_fd, receipt_path);
    return TKMS_CLI_EXIT_FAIL;
  }
  if (dry_run) {
    json_t *td = tkms_cli_typed_data_json(s->env.salt, rt, vals, n);
    json_t *out = td == NULL ? NULL
                             : json_pack("{s:s, s:s, s:O, s:o}", "method", method, "path", path,
                                         "body", body, "typed_data", td);
    int rc = out != NULL && tkms_cli_print_json(out) == 0 ? TKMS_CLI_EXIT_OK : TKMS_CLI_EXIT_FAIL;
    json_decref(out);
    return rc;
  }
  tkms_cli_response r;
  if (tkms_cli_http(c->url, method, path, body, &r) != 0) {
    drop_receipt(receipt_fd, receipt_path);
    return TKMS_CLI_EXIT_FAIL;
  }
  int rc = tkms_cli_report(&r);
  if (rc == TKMS_CLI_EXIT_OK && receipt_fd >= 0) {
    /* Save the answer with the domain it was signed in, so verifying needs no network. */
    char salt_hex[2 * 32 + 3];
    tkms_hex_encode(s->env.salt, 32, salt_hex);
    json_t *saved = json_deep_copy(r.json);
    json_t *domain = json_pack("{s:s, s:s, s:s}", "name", TKMS_EIP712_NAME, "version",
                               TKMS_EIP712_VERSION, "salt", salt_hex);
    size_t len = 0;
    char *text = NULL;
    if (saved != NULL && domain != NULL && json_object_set(saved, "domain", domain) == 0) {
      len = json_dumpb(saved, NULL, 0, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
      text = len > 0 ? malloc(len + 1) : NULL;
      if (text != NULL) len = json_dumpb(saved, text, len, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
      if (text != NULL) text[len++] = '\n';
    }
    if (text == NULL || json_object_get(r.json, "receipt") == NULL) {
      fprintf(stderr, "tkms: the answer has no receipt to save\n");
      drop_receipt(receipt_fd, receipt_path);
      rc = TKMS_CLI_EXIT_FAIL;
    } else if (tkms_cli_file_finish(receipt_fd, receipt_path, text, len) != 0) {
      rc = TKMS_CLI_EXIT_FAIL; /* the receipt is still on stdout */
    } else {
      fprintf(stderr, "tkms: saved the deletion receipt to %s\n", receipt_path);
    }
    free(text);
    json_decref(domain);
    json_decref(saved);
  } else {
    drop_receipt(receipt_fd, receipt_path);
  }
  tkms_cli_response_free(&r);
  return rc;
}

static int cmd_create(tkms_cli_common *c, int argc, char **argv) {
  const char *account = NULL, *type = NULL, *owner = NULL, *policy_file = NULL;
  int dry_run = 0, help = 0;
  const tkms_cli_opt opts[] = {{"account", &account, NULL},
                               {"type", &type, NULL},
                               {"owner", &owner, NULL},
                               {"policy", &policy_file, NULL},
                               {"dry-run", NULL, &dry_run}};
  char *pos[1];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc, argv, opts, 5, pos, 0, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (account == NULL) return usage_error("key create needs --account FILE");
  tkms_cli_account_type t;
  if (type == NULL || tkms_cli_account_type_parse(type, &t) != 0)
    return usage_error("key create needs --type secp256k1 or --type ed25519");

  json_t *policy = NULL;
  uint8_t pol[TKMS_POLICY_JSON_ENC_MAX];
  size_t pol_len = 0;
  if (policy_file != NULL && load_policy(policy_file, &policy, pol, sizeof pol, &pol_len) != 0)
    return TKMS_CLI_EXIT_FAIL;

  signer s;
  if (signer_init(c, account, &s) != 0) {
    json_decref(policy);
    return TKMS_CLI_EXIT_FAIL;
  }
  if (owner == NULL) owner = s.account.principal;
  tkms_cli_value vals[] = {
      tkms_cli_value_str(type), tkms_cli_value_str(owner), tkms_cli_value_bytes(pol, pol_len),
      tkms_cli_value_bytes(s.env.request_id, 32), tkms_cli_value_uint(s.env.deadline)};
  json_t *body = json_pack("{s:s, s:s}", "key_type", type, "owner", owner);
  int rc = TKMS_CLI_EXIT_FAIL;
  if (body == NULL)
    fprintf(stderr, "tkms: --owner must be UTF-8 text\n");
  else if (policy != NULL && json_object_set(body, "policy", policy) != 0)
    fprintf(stderr, "tkms: out of memory\n");
  else
    rc = sign_and_send(c, &s, TKMS_RT_CREATE_KEY, vals, 5, body, "POST", "/v1/keys", dry_run, -1,
                       NULL);
  json_decref(body);
  json_decref(policy);
  tkms_cli_account_free(&s.account);
  return rc;
}

static int cmd_list(tkms_cli_common *c, int argc, char **argv) {
  const char *owner = NULL, *account = NULL, *limit = NULL, *cursor = NULL;
  int help = 0;
  const tkms_cli_opt opts[] = {{"owner", &owner, NULL},
                               {"account", &account, NULL},
                               {"limit", &limit, NULL},
                               {"cursor", &cursor, NULL}};
  char *pos[1];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc, argv, opts, 4, pos, 0, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if ((owner == NULL) == (account == NULL))
    return usage_error("key list needs exactly one of --owner PRINCIPAL or --account FILE");
  unsigned long long lim = 0;
  if (limit != NULL && tkms_cli_parse_u64(limit, 1, 100, &lim) != 0)
    return usage_error("--limit must be a number from 1 to 100");

  tkms_cli_account a;
  memset(&a, 0, sizeof a);
  if (account != NULL) {
    if (tkms_cli_account_load(account, &a) != 0) return TKMS_CLI_EXIT_FAIL;
    owner = a.principal;
  }
  char *e_owner = tkms_cli_url_escape(owner);
  char *e_cursor = cursor != NULL ? tkms_cli_url_escape(cursor) : NULL;
  size_t len = strlen("/v1/keys?owner=&limit=100&cursor=") + (e_owner ? strlen(e_owner) : 0) +
               (e_cursor ? strlen(e_cursor) : 0) + 1;
  char *path = malloc(len);
  int rc = TKMS_CLI_EXIT_FAIL;
  if (e_owner != NULL && (cursor == NULL || e_cursor != NULL) && path != NULL) {
    int n = snprintf(path, len, "/v1/keys?owner=%s", e_owner);
    if (limit != NULL) n += snprintf(path + n, len - (size_t)n, "&limit=%llu", lim);
    if (cursor != NULL) snprintf(path + n, len - (size_t)n, "&cursor=%s", e_cursor);
    rc = get_and_print(c, path);
  }
  free(path);
  free(e_cursor);
  free(e_owner);
  tkms_cli_account_free(&a);
  return rc;
}

/* Parses the single ID positional of get/sign/rotate/destroy. */
static int one_key_id(char **pos, size_t n_pos, uint8_t id[KEY_ID_BYTES], char hex[KEY_ID_HEX]) {
  if (n_pos != 1) {
    fprintf(stderr, "tkms: expected one key id (0x + 32 hex digits)\n");
    return -1;
  }
  if (parse_key_id(pos[0], id, hex) != 0) {
    fprintf(stderr, "tkms: '%s' is not a key id (0x + 32 hex digits)\n", pos[0]);
    return -1;
  }
  return 0;
}

/* get: GET /v1/keys/{id}; policy: GET /v1/keys/{id}/policy (suffix "/policy"). */
static int cmd_get(tkms_cli_common *c, int argc, char **argv, const char *suffix) {
  int help = 0;
  char *pos[2];
  size_t n_pos = 0;
  uint8_t id[KEY_ID_BYTES];
  char id_hex[KEY_ID_HEX], path[80];
  if (tkms_cli_args_parse(argc, argv, NULL, 0, pos, 2, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (one_key_id(pos, n_pos, id, id_hex) != 0) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  snprintf(path, sizeof path, "/v1/keys/%s%s", id_hex, suffix);
  return get_and_print(c, path);
}

/* The payload of `key sign`, from exactly one of --data, --hex, --file. */
static int read_payload(const char *data, const char *hex, const char *file, uint8_t **out,
                        size_t *len) {
  if ((data != NULL) + (hex != NULL) + (file != NULL) != 1) {
    fprintf(stderr, "tkms: give exactly one of --data, --hex, --file\n");
    return -1;
  }
  if (file != NULL) return tkms_cli_file_read(file, MAX_PAYLOAD, out, len);
  if (data != NULL) {
    size_t n = strlen(data);
    if (n > MAX_PAYLOAD) {
      fprintf(stderr, "tkms: --data is longer than %u bytes\n", MAX_PAYLOAD);
      return -1;
    }
    if ((*out = malloc(n + 1)) == NULL) return -1;
    memcpy(*out, data, n + 1);
    *len = n;
    return 0;
  }
  if ((*out = malloc(MAX_PAYLOAD)) == NULL) return -1;
  if (tkms_hex_decode(hex, *out, MAX_PAYLOAD, len) != 0) {
    fprintf(stderr, "tkms: --hex must be 0x + an even number of hex digits, at most %u bytes\n",
            MAX_PAYLOAD);
    free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

/* The current version of key id_hex, as the service reports it. */
static int current_version(const tkms_cli_common *c, const char *id_hex, uint64_t *version) {
  char path[64];
  snprintf(path, sizeof path, "/v1/keys/%s", id_hex);
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", path, NULL, &r) != 0) return -1;
  int rc = -1;
  json_t *v = json_object_get(r.json, "version");
  if (r.status != 200) {
    tkms_cli_print_error(&r);
  } else if (!json_is_integer(v) || json_integer_value(v) < 1 ||
             json_integer_value(v) > (json_int_t)UINT32_MAX) {
    fprintf(stderr, "tkms: the service's answer for key %s has no valid version\n", id_hex);
  } else {
    *version = (uint64_t)json_integer_value(v);
    rc = 0;
  }
  tkms_cli_response_free(&r);
  return rc;
}

/* key sign through a MAC session: the request is for the session's deployment. */
static int sign_with_session(const tkms_cli_common *c, const char *session_path,
                             const uint8_t id[KEY_ID_BYTES], const char *id_hex, const char *mode,
                             const uint8_t *payload, size_t payload_len, uint64_t version,
                             int dry_run) {
  tkms_cli_mac_session s;
  tkms_cli_envelope env;
  uint8_t pinned[32];
  if (tkms_cli_mac_session_load(session_path, &s) != 0) return TKMS_CLI_EXIT_FAIL;
  int rc = TKMS_CLI_EXIT_FAIL;
  char *payload_hex = malloc(2 * payload_len + 3), path[64];
  json_t *body = NULL;
  if (c->deployment != NULL &&
      (tkms_hex_decode_exact(c->deployment, pinned, 32) != 0 || memcmp(pinned, s.salt, 32) != 0)) {
    fprintf(stderr, "tkms: --deployment is not the deployment %s was opened in\n", session_path);
    goto out;
  }
  if (payload_hex == NULL || tkms_cli_envelope_init(&env, s.salt) != 0) goto out;
  tkms_hex_encode(payload, payload_len, payload_hex);
  tkms_cli_value vals[] = {
      tkms_cli_value_bytes(id, KEY_ID_BYTES),     tkms_cli_value_str(mode),
      tkms_cli_value_bytes(payload, payload_len), tkms_cli_value_uint(version),
      tkms_cli_value_bytes(env.request_id, 32),   tkms_cli_value_uint(env.deadline)};
  body = json_pack("{s:s, s:s, s:I}", "mode", mode, "payload", payload_hex, "version",
                   (json_int_t)version);
  if (body == NULL || tkms_cli_mac_session_sign(&s, &env, TKMS_RT_SIGN, vals, 6, body) != 0)
    goto out;
  snprintf(path, sizeof path, "/v1/keys/%s/sign", id_hex);
  if (dry_run) {
    json_t *td = tkms_cli_typed_data_json(env.salt, TKMS_RT_SIGN, vals, 6);
    json_t *o = td == NULL ? NULL
                           : json_pack("{s:s, s:s, s:O, s:o}", "method", "POST", "path", path,
                                       "body", body, "typed_data", td);
    rc = o != NULL && tkms_cli_print_json(o) == 0 ? TKMS_CLI_EXIT_OK : TKMS_CLI_EXIT_FAIL;
    json_decref(o);
    goto out;
  }
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "POST", path, body, &r) != 0) goto out;
  rc = tkms_cli_report(&r);
  tkms_cli_response_free(&r);
out:
  json_decref(body);
  free(payload_hex);
  tkms_cli_mac_session_free(&s);
  return rc;
}

static int cmd_sign(tkms_cli_common *c, int argc, char **argv) {
  const char *account = NULL, *mode = NULL, *data = NULL, *hex = NULL, *file = NULL,
             *key_version = NULL, *session = NULL;
  int dry_run = 0, help = 0;
  const tkms_cli_opt opts[] = {{"account", &account, NULL}, {"session", &session, NULL},
                               {"mode", &mode, NULL},       {"data", &data, NULL},
                               {"hex", &hex, NULL},         {"file", &file, NULL},
                               {"dry-run", NULL, &dry_run}, {"key-version", &key_version, NULL}};
  char *pos[2];
  size_t n_pos = 0;
  uint8_t id[KEY_ID_BYTES];
  char id_hex[KEY_ID_HEX], path[64];
  if (tkms_cli_args_parse(argc, argv, opts, 8, pos, 2, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (one_key_id(pos, n_pos, id, id_hex) != 0) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if ((account == NULL) == (session == NULL))
    return usage_error("key sign needs --account FILE or --session FILE (one of them)");
  if (mode == NULL || (strcmp(mode, "digest") != 0 && strcmp(mode, "personal") != 0 &&
                       strcmp(mode, "message") != 0))
    return usage_error("key sign needs --mode digest, personal or message");
  unsigned long long vv = 0;
  if (key_version != NULL && tkms_cli_parse_u64(key_version, 1, UINT32_MAX, &vv) != 0)
    return usage_error("--key-version must be a key version (1 .. 4294967295)");
  uint64_t version = vv;

  uint8_t *payload = NULL;
  size_t payload_len = 0;
  if (read_payload(data, hex, file, &payload, &payload_len) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  /* Caught here with a clear message rather than as the core's bad_request. */
  if (strcmp(mode, "digest") == 0 && payload_len != 32) {
    free(payload);
    return usage_error("--mode digest signs exactly 32 bytes (give them with --hex)");
  }
  if (key_version == NULL && current_version(c, id_hex, &version) != 0) {
    free(payload);
    return TKMS_CLI_EXIT_FAIL;
  }

  if (session != NULL) {
    int src =
        sign_with_session(c, session, id, id_hex, mode, payload, payload_len, version, dry_run);
    free(payload);
    return src;
  }
  int rc = TKMS_CLI_EXIT_FAIL;
  signer s;
  char *payload_hex = malloc(2 * payload_len + 3);
  if (payload_hex != NULL && signer_init(c, account, &s) == 0) {
    tkms_hex_encode(payload, payload_len, payload_hex);
    tkms_cli_value vals[] = {
        tkms_cli_value_bytes(id, KEY_ID_BYTES),     tkms_cli_value_str(mode),
        tkms_cli_value_bytes(payload, payload_len), tkms_cli_value_uint(version),
        tkms_cli_value_bytes(s.env.request_id, 32), tkms_cli_value_uint(s.env.deadline)};
    json_t *body = json_pack("{s:s, s:s, s:I}", "mode", mode, "payload", payload_hex, "version",
                             (json_int_t)version);
    snprintf(path, sizeof path, "/v1/keys/%s/sign", id_hex);
    if (body != NULL)
      rc = sign_and_send(c, &s, TKMS_RT_SIGN, vals, 6, body, "POST", path, dry_run, -1, NULL);
    json_decref(body);
    tkms_cli_account_free(&s.account);
  }
  free(payload_hex);
  free(payload);
  return rc;
}

/* rotate and destroy: the envelope is the whole request. */
static int cmd_lifecycle(tkms_cli_common *c, int argc, char **argv, int destroy) {
  const char *account = NULL, *receipt_out = NULL;
  int dry_run = 0, help = 0;
  const tkms_cli_opt opts[] = {{"account", &account, NULL},
                               {"dry-run", NULL, &dry_run},
                               {"receipt-out", &receipt_out, NULL}};
  char *pos[2];
  size_t n_pos = 0;
  uint8_t id[KEY_ID_BYTES];
  char id_hex[KEY_ID_HEX], path[64];
  if (tkms_cli_args_parse(argc, argv, opts, destroy ? 3 : 2, pos, 2, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (one_key_id(pos, n_pos, id, id_hex) != 0) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (account == NULL) return usage_error("this command needs --account FILE");

  signer s;
  if (signer_init(c, account, &s) != 0) return TKMS_CLI_EXIT_FAIL;
  /* Claim the receipt file before destroying anything: a receipt that cannot
   * be saved because the path was wrong would be lost with the key. */
  int receipt_fd = -1;
  if (receipt_out != NULL && !dry_run) {
    receipt_fd = tkms_cli_file_create(receipt_out, RECEIPT_FILE_MODE);
    if (receipt_fd < 0) {
      tkms_cli_account_free(&s.account);
      return TKMS_CLI_EXIT_FAIL;
    }
  }
  tkms_cli_value vals[] = {tkms_cli_value_bytes(id, KEY_ID_BYTES),
                           tkms_cli_value_bytes(s.env.request_id, 32),
                           tkms_cli_value_uint(s.env.deadline)};
  json_t *body = json_object();
  int rc = TKMS_CLI_EXIT_FAIL;
  if (destroy) {
    snprintf(path, sizeof path, "/v1/keys/%s", id_hex);
    if (body != NULL)
      rc = sign_and_send(c, &s, TKMS_RT_DESTROY_KEY, vals, 3, body, "DELETE", path, dry_run,
                         receipt_fd, receipt_out);
    else
      drop_receipt(receipt_fd, receipt_out);
  } else {
    snprintf(path, sizeof path, "/v1/keys/%s/rotate", id_hex);
    if (body != NULL)
      rc = sign_and_send(c, &s, TKMS_RT_ROTATE_KEY, vals, 3, body, "POST", path, dry_run, -1, NULL);
  }
  json_decref(body);
  tkms_cli_account_free(&s.account);
  return rc;
}

/* policy-update (UpdatePolicy) and policy-cancel (CancelPolicyChange). */
static int cmd_policy_change(tkms_cli_common *c, int argc, char **argv, int cancel) {
  const char *account = NULL, *new_owner = NULL, *policy_file = NULL;
  int dry_run = 0, help = 0;
  const tkms_cli_opt opts[] = {{"account", &account, NULL},
                               {"dry-run", NULL, &dry_run},
                               {"new-owner", &new_owner, NULL},
                               {"policy", &policy_file, NULL}};
  char *pos[2];
  size_t n_pos = 0;
  uint8_t id[KEY_ID_BYTES];
  char id_hex[KEY_ID_HEX], path[80];
  if (tkms_cli_args_parse(argc, argv, opts, cancel ? 2 : 4, pos, 2, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (one_key_id(pos, n_pos, id, id_hex) != 0) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (account == NULL) return usage_error("this command needs --account FILE");
  if (!cancel && new_owner == NULL && policy_file == NULL)
    return usage_error("policy-update needs --new-owner PRINCIPAL, --policy FILE.json or both");
  json_t *policy = NULL;
  uint8_t pol[TKMS_POLICY_JSON_ENC_MAX];
  size_t pol_len = 0;
  if (policy_file != NULL && load_policy(policy_file, &policy, pol, sizeof pol, &pol_len) != 0)
    return TKMS_CLI_EXIT_FAIL;
  signer s;
  if (signer_init(c, account, &s) != 0) {
    json_decref(policy);
    return TKMS_CLI_EXIT_FAIL;
  }
  json_t *body = json_object();
  int rc = TKMS_CLI_EXIT_FAIL;
  if (cancel) {
    tkms_cli_value vals[] = {tkms_cli_value_bytes(id, KEY_ID_BYTES),
                             tkms_cli_value_bytes(s.env.request_id, 32),
                             tkms_cli_value_uint(s.env.deadline)};
    snprintf(path, sizeof path, "/v1/keys/%s/policy/pending", id_hex);
    if (body != NULL)
      rc = sign_and_send(c, &s, TKMS_RT_CANCEL_POLICY_CHANGE, vals, 3, body, "DELETE", path,
                         dry_run, -1, NULL);
  } else {
    const char *owner = new_owner != NULL ? new_owner : "";
    tkms_cli_value vals[] = {tkms_cli_value_bytes(id, KEY_ID_BYTES), tkms_cli_value_str(owner),
                             tkms_cli_value_bytes(pol, pol_len),
                             tkms_cli_value_bytes(s.env.request_id, 32),
                             tkms_cli_value_uint(s.env.deadline)};
    snprintf(path, sizeof path, "/v1/keys/%s/policy", id_hex);
    int bad = body == NULL ||
              (new_owner != NULL && json_object_set_new(body, "new_owner", json_string(owner))) ||
              (policy != NULL && json_object_set(body, "policy", policy) != 0);
    if (bad)
      fprintf(stderr, "tkms: --new-owner must be UTF-8 text\n");
    else
      rc = sign_and_send(c, &s, TKMS_RT_UPDATE_POLICY, vals, 5, body, "POST", path, dry_run, -1,
                         NULL);
  }
  json_decref(body);
  json_decref(policy);
  tkms_cli_account_free(&s.account);
  return rc;
}

int tkms_cli_cmd_key(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  const char *sub = argv[1];
  argc -= 2;
  argv += 2;
  if (strcmp(sub, "create") == 0) return cmd_create(c, argc, argv);
  if (strcmp(sub, "list") == 0) return cmd_list(c, argc, argv);
  if (strcmp(sub, "get") == 0) return cmd_get(c, argc, argv, "");
  if (strcmp(sub, "sign") == 0) return cmd_sign(c, argc, argv);
  if (strcmp(sub, "rotate") == 0) return cmd_lifecycle(c, argc, argv, 0);
  if (strcmp(sub, "destroy") == 0) return cmd_lifecycle(c, argc, argv, 1);
  if (strcmp(sub, "policy") == 0) return cmd_get(c, argc, argv, "/policy");
  if (strcmp(sub, "policy-update") == 0) return cmd_policy_change(c, argc, argv, 0);
  if (strcmp(sub, "policy-cancel") == 0) return cmd_policy_change(c, argc, argv, 1);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
    return usage(stdout, TKMS_CLI_EXIT_OK);
  fprintf(stderr, "tkms: unknown key command '%s'\n", sub);
  return usage(stderr, TKMS_CLI_EXIT_USAGE);
}
