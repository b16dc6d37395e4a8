/* src/cli/cmd_receipt.c — `tkms receipt verify`: check a deletion receipt offline.
 *
 * The receipt is EIP-712 typed data DeletionReceipt(bytes16 keyId,string owner,
 * uint32 version,uint64 destroyedAt,bytes32 requestId) in the deployment's domain,
 * signed by the deployment identity key. Verifying it recomputes the digest from
 * the receipt's fields, recovers the signer and compares it with the identity the
 * user trusts. Nothing here touches the network: a receipt is evidence to show a
 * third party, who must not need the service to check it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/output.h"
#include "cli/request.h"
#include "crypto/secp256k1_eth.h"
#include "proto/hex.h"
#include "proto/requests.h"

/* A receipt file is well under a kilobyte; this bounds a hostile one. */
#define RECEIPT_FILE_MAX 65536u

static const char usage_text[] =
    "usage: tkms receipt verify FILE [--identity 0xADDRESS] [--salt 0x…]\n"
    "\n"
    "Checks, offline, that FILE (saved by `tkms key destroy --receipt-out`, or the\n"
    "JSON answer of DELETE /v1/keys/{id} with a \"domain\" added) holds a deletion\n"
    "receipt signed by the deployment identity.\n"
    "  --identity 0x…  the deployment's published identity address (from /v1/health\n"
    "                  or the operator). Without it the \"signer\" named in the file\n"
    "                  is used, which proves only that the file is self-consistent.\n"
    "  --salt 0x…      the deployment salt; default the file's \"domain\", then\n"
    "                  --deployment / $TKMS_DEPLOYMENT.\n"
    "Prints the result as JSON. Exit status: 0 valid, 1 invalid, 2 usage error.\n";

static int usage(FILE *f, int rc) {
  fputs(usage_text, f);
  return rc;
}

typedef struct {
  const char *reason; /* NULL while valid */
  uint8_t key_id[16];
  uint8_t request_id[32];
  const char *owner;
  json_int_t version;
  json_int_t destroyed_at;
  int have_fields;
  uint8_t recovered[20];
  int have_recovered;
  uint8_t expected[20];
  int have_expected;
} verdict;

static json_t *addr_json(const uint8_t a[20], int have) {
  char hex[2 * 20 + 3];
  if (!have) return json_null();
  tkms_hex_encode(a, 20, hex);
  return json_string(hex);
}

static int print_verdict(const verdict *v) {
  char key_hex[2 * 16 + 3];
  tkms_hex_encode(v->key_id, 16, key_hex);
  json_t *out = json_pack("{s:b, s:o, s:o}", "valid", v->reason == NULL, "signer",
                          addr_json(v->recovered, v->have_recovered), "expected_signer",
                          addr_json(v->expected, v->have_expected));
  if (out != NULL && v->have_fields) {
    json_object_set_new(out, "key_id", json_string(key_hex));
    json_object_set_new(out, "owner", json_string(v->owner));
    json_object_set_new(out, "version", json_integer(v->version));
    json_object_set_new(out, "destroyed_at", json_integer(v->destroyed_at));
  }
  if (out != NULL && v->reason != NULL) json_object_set_new(out, "reason", json_string(v->reason));
  int rc = out != NULL ? tkms_cli_print_json(out) : -1;
  json_decref(out);
  if (v->reason != NULL) fprintf(stderr, "tkms: receipt INVALID: %s\n", v->reason);
  return rc;
}

/* The salt the receipt is checked in: --salt, else the file's domain, else the
 * pinned deployment. Sets v->reason if the file's domain is not tkms's. */
static int pick_salt(const char *salt_opt, json_t *domain, const char *deployment, verdict *v,
                     uint8_t salt[32]) {
  if (domain != NULL) {
    const char *name = json_string_value(json_object_get(domain, "name"));
    const char *version = json_string_value(json_object_get(domain, "version"));
    /* A receipt claimed under another domain is not a tkms receipt, even if its
     * signature verifies there. */
    if (!json_is_object(domain) ||
        (json_object_get(domain, "name") != NULL &&
         (name == NULL || strcmp(name, TKMS_EIP712_NAME) != 0)) ||
        (json_object_get(domain, "version") != NULL &&
         (version == NULL || strcmp(version, TKMS_EIP712_VERSION) != 0))) {
      v->reason = "the file's EIP-712 domain is not tkms version 1";
      return 0;
    }
  }
  const char *src = salt_opt;
  if (src == NULL && domain != NULL) {
    src = json_string_value(json_object_get(domain, "salt"));
    if (src == NULL) {
      v->reason = "the file's domain has no salt";
      return 0;
    }
  }
  if (src == NULL) src = deployment;
  if (src == NULL) {
    fprintf(stderr, "tkms: the file has no \"domain\"; give the deployment salt with --salt\n");
    return -1;
  }
  if (tkms_hex_decode_exact(src, salt, 32) != 0) {
    if (src == salt_opt || src == deployment) {
      fprintf(stderr, "tkms: the salt must be 0x + 64 hex digits\n");
      return -1;
    }
    v->reason = "the file's domain salt is not 32 bytes of hex";
  }
  return 0;
}

/* Reads and checks the receipt fields. Sets v->reason on anything malformed. */
static void read_receipt(json_t *root, verdict *v) {
  json_t *receipt = json_object_get(root, "receipt");
  const char *key_hex = NULL, *req_hex = NULL;
  /* Strict ("!"): a field the signature does not cover must not sit inside the
   * signed object, where a reader would take it as attested. */
  if (json_unpack(receipt, "{s:s, s:s, s:I, s:I, s:s !}", "keyId", &key_hex, "owner", &v->owner,
                  "version", &v->version, "destroyedAt", &v->destroyed_at, "requestId",
                  &req_hex) != 0) {
    v->reason =
        "the file has no well-formed \"receipt\" object "
        "(keyId, owner, version, destroyedAt, requestId)";
    return;
  }
  if (tkms_hex_decode_exact(key_hex, v->key_id, 16) != 0 ||
      tkms_hex_decode_exact(req_hex, v->request_id, 32) != 0) {
    v->reason = "keyId must be 16 bytes and requestId 32 bytes of hex";
    return;
  }
  if (v->version < 0 || v->version > 0xffffffffLL || v->destroyed_at < 0) {
    v->reason = "version or destroyedAt is out of range";
    return;
  }
  v->have_fields = 1;
  /* The fields around the receipt are not signed; if they name a different key
   * the file misleads whoever reads it, so it is not a valid receipt file. */
  const char *outer_id = json_string_value(json_object_get(root, "key_id"));
  uint8_t outer[16];
  if (json_object_get(root, "key_id") != NULL &&
      (outer_id == NULL || tkms_hex_decode_exact(outer_id, outer, 16) != 0 ||
       memcmp(outer, v->key_id, 16) != 0)) {
    v->reason = "the file's key_id differs from the signed receipt's keyId";
    return;
  }
  const char *state = json_string_value(json_object_get(root, "state"));
  if (json_object_get(root, "state") != NULL && (state == NULL || strcmp(state, "destroyed") != 0))
    v->reason = "the file's state is not \"destroyed\"";
}

static int verify(tkms_cli_common *c, int argc, char **argv) {
  const char *identity = NULL, *salt_opt = NULL;
  int help = 0;
  const tkms_cli_opt opts[] = {{"identity", &identity, NULL}, {"salt", &salt_opt, NULL}};
  char *pos[2];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc, argv, opts, 2, pos, 2, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (n_pos != 1) return usage(stderr, TKMS_CLI_EXIT_USAGE);

  verdict v;
  memset(&v, 0, sizeof v);
  if (identity != NULL) {
    if (tkms_hex_decode_exact(identity, v.expected, 20) != 0) {
      fprintf(stderr, "tkms: --identity must be an address, 0x + 40 hex digits\n");
      return TKMS_CLI_EXIT_USAGE;
    }
    v.have_expected = 1;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  if (tkms_cli_file_read(pos[0], RECEIPT_FILE_MAX, &buf, &len) != 0) return TKMS_CLI_EXIT_USAGE;
  json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
  free(buf);

  int rc = TKMS_CLI_EXIT_FAIL;
  uint8_t salt[32];
  const char *sig_hex = json_string_value(json_object_get(root, "receipt_signature"));
  uint8_t sig[TKMS_SECP_SIG_BYTES];
  if (!json_is_object(root)) {
    v.reason = "the file is not a JSON object";
  } else if (pick_salt(salt_opt, json_object_get(root, "domain"), c->deployment, &v, salt) != 0) {
    rc = TKMS_CLI_EXIT_USAGE;
    goto out;
  }
  if (v.reason == NULL) read_receipt(root, &v);
  if (v.reason == NULL && (sig_hex == NULL || tkms_hex_decode_exact(sig_hex, sig, sizeof sig) != 0))
    v.reason = "receipt_signature must be 65 bytes of hex";

  if (v.reason == NULL) {
    tkms_cli_value vals[] = {tkms_cli_value_bytes(v.key_id, 16), tkms_cli_value_str(v.owner),
                             tkms_cli_value_uint((uint64_t)v.version),
                             tkms_cli_value_uint((uint64_t)v.destroyed_at),
                             tkms_cli_value_bytes(v.request_id, 32)};
    uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES], digest[32];
    if (tkms_cli_typed_digest(salt, TKMS_RT_DELETION_RECEIPT, vals, 5, preimage, digest) != 0)
      v.reason = "the receipt's fields cannot be encoded";
    else if (tkms_secp_recover(digest, sig, v.recovered) != TKMS_SECP_OK)
      v.reason = "the signature is malformed or non-canonical";
    else
      v.have_recovered = 1;
  }
  if (v.reason == NULL && !v.have_expected) {
    const char *signer = json_string_value(json_object_get(root, "signer"));
    if (signer == NULL || tkms_hex_decode_exact(signer, v.expected, 20) != 0) {
      fprintf(stderr, "tkms: the file names no \"signer\"; give the identity with --identity\n");
      rc = TKMS_CLI_EXIT_USAGE;
      goto out;
    }
    v.have_expected = 1;
    fprintf(stderr,
            "tkms: warning: compared with the \"signer\" named in the file itself; check that "
            "address against the deployment's published identity (or pass --identity)\n");
  }
  if (v.reason == NULL && memcmp(v.recovered, v.expected, 20) != 0)
    v.reason = "the receipt is not signed by the expected identity";

  if (print_verdict(&v) != 0) fprintf(stderr, "tkms: cannot write to stdout\n");
  rc = v.reason == NULL ? TKMS_CLI_EXIT_OK : TKMS_CLI_EXIT_FAIL;
out:
  json_decref(root);
  return rc;
}

int tkms_cli_cmd_receipt(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  const char *sub = argv[1];
  if (strcmp(sub, "verify") == 0) return verify(c, argc - 2, argv + 2);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
    return usage(stdout, TKMS_CLI_EXIT_OK);
  fprintf(stderr, "tkms: unknown receipt command '%s'\n", sub);
  return usage(stderr, TKMS_CLI_EXIT_USAGE);
}
