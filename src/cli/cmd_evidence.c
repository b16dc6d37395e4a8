/* src/cli/cmd_evidence.c — `tkms evidence verify`: check TEE attestation
 * evidence offline with the same verifiers the trusted core runs (src/attest)
 * and print the normalised claims as JSON. Nothing touches the network: the
 * collateral comes from files, the verification time from the command line. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/attest.h"
#include "attest/dcap.h"
#include "attest/dcap_collateral.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/collateral.h"
#include "cli/files.h"
#include "cli/output.h"

#define EVIDENCE_FILE_MAX (1u << 20)

static const char usage_text[] =
    "usage: tkms evidence verify [--format F] [--at TIME] [--collateral DIR|FILE]\n"
    "                            [--test-root HEX] FILE\n"
    "\n"
    "Verifies the attestation evidence in FILE (binary, or hex text) offline and\n"
    "prints its claims as JSON.\n"
    "  --format F        auto (default), sgx, tdx, snp, nitro, tpm2 or sim\n"
    "  --at TIME         the time the verdict is made for: RFC 3339 UTC\n"
    "                    (2025-07-01T00:00:00Z) or unix seconds; default now\n"
    "  --collateral X    a directory with one file per collateral item (named like\n"
    "                    the item, optionally with .pem/.der/.json/.bin, or .hex for\n"
    "                    hex text), or a collateral JSON file (dcap-qvl layout)\n"
    "  --test-root HEX   sgx/tdx only: trust this uncompressed P-256 root key\n"
    "                    (0x04...) instead of the pinned Intel root; for test\n"
    "                    evidence (tests/tools/fake_quote), never for real checks\n"
    "Item names and checks: docs/attestation.md.\n"
    "Exit status: 0 valid, 1 refused (the reason is printed), 2 usage error.\n";

static int usage(FILE *f, int rc) {
  fputs(usage_text, f);
  return rc;
}

static int parse_at(const char *s, uint64_t *at) {
  unsigned long long u;
  if (tkms_cli_parse_u64(s, 0, 253402300799ULL, &u) == 0) {
    *at = u;
    return 0;
  }
  return tkms_dcap_parse_time(s, strlen(s), at);
}

static int parse_format(const char *s, int *fmt) {
  for (int f = TKMS_ATTEST_AUTO; tkms_attest_format_name(f) != NULL; f++) {
    if (strcmp(s, tkms_attest_format_name(f)) == 0) {
      *fmt = f;
      return 0;
    }
  }
  return -1;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Evidence given as hex text (optionally 0x-prefixed, whitespace around) is
 * decoded in place; binary evidence is left alone. */
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

static json_t *hex_json(const uint8_t *b, size_t n) {
  char *s = malloc(2 * n + 1);
  if (s == NULL) return json_null();
  for (size_t i = 0; i < n; i++) snprintf(s + 2 * i, 3, "%02x", b[i]);
  s[2 * n] = '\0';
  json_t *j = json_string(s);
  free(s);
  return j;
}

static json_t *claims_json(int rc, const tkms_attest_claims *c, const char *reason, uint64_t at) {
  char when[32] = "";
  time_t t = (time_t)at;
  struct tm tm;
  if (gmtime_r(&t, &tm) != NULL) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *out = json_object();
  if (out == NULL) return NULL;
  json_object_set_new(out, "valid", json_boolean(rc == TKMS_ATTEST_OK));
  if (rc != TKMS_ATTEST_OK) {
    json_object_set_new(out, "error", json_string(tkms_attest_error_name(rc)));
    json_object_set_new(out, "reason", json_string(reason));
  }
  json_object_set_new(out, "verified_at", json_string(when));
  json_object_set_new(out, "verified_at_unix", json_integer((json_int_t)at));
  /* Claims exist on success, and for E_TCB_UNMATCHED (signatures valid). */
  if (rc != TKMS_ATTEST_OK && rc != TKMS_ATTEST_E_TCB_UNMATCHED) return out;
  const char *fmt = tkms_attest_format_name(c->format);
  json_object_set_new(out, "format", json_string(fmt != NULL ? fmt : "unknown"));
  const char *tcb = tkms_attest_tcb_name(c->tcb_status);
  json_object_set_new(out, "tcb_status", json_string(tcb != NULL ? tcb : "unknown"));
  json_t *adv = json_array();
  for (size_t i = 0; i < c->n_advisories; i++)
    json_array_append_new(adv, json_string(c->advisories[i]));
  json_object_set_new(out, "advisories", adv);
  json_object_set_new(out, "debug", json_boolean(c->debug));
  json_object_set_new(out, "report_data", hex_json(c->report_data, c->report_data_len));
  json_t *m = json_object();
  for (size_t i = 0; i < c->n_meas; i++)
    json_object_set_new(m, c->meas[i].name, hex_json(c->meas[i].value, c->meas[i].len));
  json_object_set_new(out, "measurements", m);
  return out;
}

static int verify(tkms_cli_common *c, int argc, char **argv) {
  const char *fmt_opt = NULL, *at_opt = NULL, *col_opt = NULL, *root_opt = NULL;
  int help = 0;
  const tkms_cli_opt opts[] = {{"format", &fmt_opt, NULL},
                               {"at", &at_opt, NULL},
                               {"collateral", &col_opt, NULL},
                               {"test-root", &root_opt, NULL}};
  char *pos[2];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc, argv, opts, 4, pos, 2, &n_pos, c, &help) != 0)
    return usage(stderr, TKMS_CLI_EXIT_USAGE);
  if (help) return usage(stdout, TKMS_CLI_EXIT_OK);
  if (n_pos != 1) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  int format = TKMS_ATTEST_AUTO;
  if (fmt_opt != NULL && parse_format(fmt_opt, &format) != 0) {
    fprintf(stderr, "tkms: unknown --format '%s'\n", fmt_opt);
    return TKMS_CLI_EXIT_USAGE;
  }
  uint64_t at = (uint64_t)time(NULL);
  if (at_opt != NULL && parse_at(at_opt, &at) != 0) {
    fprintf(stderr, "tkms: --at takes 2025-07-01T00:00:00Z or unix seconds\n");
    return TKMS_CLI_EXIT_USAGE;
  }
  uint8_t root[65];
  if (root_opt != NULL) {
    size_t rl = strlen(root_opt);
    uint8_t tmp[130];
    if (rl >= 2 && root_opt[0] == '0' && root_opt[1] == 'x') {
      root_opt += 2;
      rl -= 2;
    }
    size_t n = rl;
    if (rl != 130 || (memcpy(tmp, root_opt, rl), maybe_unhex(tmp, &n), n != 65) || tmp[0] != 4) {
      fprintf(stderr, "tkms: --test-root takes an uncompressed P-256 key, 0x04 + 128 hex\n");
      return TKMS_CLI_EXIT_USAGE;
    }
    memcpy(root, tmp, 65);
    if (format != TKMS_ATTEST_SGX && format != TKMS_ATTEST_TDX) {
      fprintf(stderr, "tkms: --test-root needs --format sgx or tdx\n");
      return TKMS_CLI_EXIT_USAGE;
    }
  }
  tkms_cli_collateral col;
  tkms_cli_collateral_init(&col);
  if (col_opt != NULL && tkms_cli_collateral_load(&col, col_opt) != 0) {
    tkms_cli_collateral_free(&col);
    return TKMS_CLI_EXIT_USAGE;
  }
  uint8_t *ev = NULL;
  size_t len = 0;
  if (tkms_cli_file_read(pos[0], EVIDENCE_FILE_MAX, &ev, &len) != 0) {
    tkms_cli_collateral_free(&col);
    return TKMS_CLI_EXIT_USAGE;
  }
  maybe_unhex(ev, &len);
  tkms_attest_claims claims;
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc;
  if (root_opt != NULL) {
    memset(&claims, 0, sizeof claims);
    rc = tkms_dcap_verify(format == TKMS_ATTEST_TDX, root, ev, len, &col.col, at, &claims, reason);
    claims.format = format;
    claims.verified_at = at;
    fprintf(stderr,
            "tkms: WARNING: verified against the TEST root given by --test-root, "
            "not the Intel root\n");
  } else {
    rc = tkms_attest_verify(format, ev, len, &col.col, at, &claims, reason);
  }
  free(ev);
  tkms_cli_collateral_free(&col);
  json_t *out = claims_json(rc, &claims, reason, at);
  if (out == NULL || tkms_cli_print_json(out) != 0)
    fprintf(stderr, "tkms: cannot write to stdout\n");
  json_decref(out);
  if (rc != TKMS_ATTEST_OK) {
    fprintf(stderr, "tkms: evidence REFUSED (%s): %s\n", tkms_attest_error_name(rc), reason);
    return TKMS_CLI_EXIT_FAIL;
  }
  return TKMS_CLI_EXIT_OK;
}

int tkms_cli_cmd_evidence(tkms_cli_common *c, int argc, char **argv) {
  if (argc < 2) return usage(stderr, TKMS_CLI_EXIT_USAGE);
  const char *sub = argv[1];
  if (strcmp(sub, "verify") == 0) return verify(c, argc - 2, argv + 2);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
    return usage(stdout, TKMS_CLI_EXIT_OK);
  fprintf(stderr, "tkms: unknown evidence command '%s'\n", sub);
  return usage(stderr, TKMS_CLI_EXIT_USAGE);
}
