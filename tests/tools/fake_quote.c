/* tests/tools/fake_quote.c — TDX evidence for tests, never part of the product.
 *
 *   fake_quote init DIR
 *       makes a test CA (root, PCK CA, PCK leaf, TCB signing and attestation
 *       keys) and keeps its private keys in DIR (mode 0600).
 *   fake_quote quote DIR --report-data HEX64 [--mrtd HEX48] [--rtmr3 HEX48]
 *                        [--debug] [--tcb-status STATUS] [--at UNIX]
 *       prints {"format":"tdx","evidence":"0x…","collateral":{name:"0x…",…},
 *       "root_key":"0x04…"}: the real TDX v4 quote of ../shared/vectors
 *       ($TKMS_VECTORS) with the chosen REPORTDATA, MRTD, RTMR3 and debug bit
 *       (TD attributes bit 0), re-signed by DIR's CA; and its collateral: PCK and
 *       root CRLs and the real TCB info / TD QE identity re-signed, valid
 *       around --at (default now), every TCB level of the TCB info given
 *       STATUS (so the level the quote matches has it; default: unchanged,
 *       UpToDate). root_key is the test root's public key, the trust anchor
 *       for `tkms serve --attestation-test-root` and
 *       `tkms evidence verify --test-root`.
 * Exit status 0, or 2 on a usage error (other failures abort through the
 * cmocka assertions of the shared test library). */
#include <errno.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dcap_world.h"
#include "vectors.h"

static const char *const key_files[DW_NKEYS] = {"root.pem", "ca.pem", "leaf.pem", "tcb.pem",
                                                "att.pem"};

static int usage(void) {
  fputs(
      "usage: fake_quote init DIR\n"
      "       fake_quote quote DIR --report-data HEX64 [--mrtd HEX48] [--rtmr3 HEX48]\n"
      "                            [--debug] [--tcb-status STATUS] [--at UNIX]\n",
      stderr);
  return 2;
}

static char *path_in(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p == NULL) abort();
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static int cmd_init(const char *dir) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  for (int i = 0; i < DW_NKEYS; i++) {
    EVP_PKEY *k = EVP_EC_gen("P-256");
    char *p = path_in(dir, key_files[i]);
    FILE *f = k != NULL ? fopen(p, "wx") : NULL;
    if (f == NULL) {
      fprintf(stderr, "fake_quote: cannot create %s (already initialised?)\n", p);
      free(p);
      EVP_PKEY_free(k);
      return 1;
    }
    chmod(p, 0600);
    int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok) {
      fprintf(stderr, "fake_quote: writing %s failed\n", p);
      free(p);
      EVP_PKEY_free(k);
      return 1;
    }
    free(p);
    EVP_PKEY_free(k);
  }
  return 0;
}

static int load_keys(const char *dir, EVP_PKEY *keys[DW_NKEYS]) {
  for (int i = 0; i < DW_NKEYS; i++) {
    char *p = path_in(dir, key_files[i]);
    FILE *f = fopen(p, "r");
    keys[i] = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) fclose(f);
    if (keys[i] == NULL) {
      fprintf(stderr, "fake_quote: cannot read %s (run fake_quote init %s first)\n", p, dir);
      free(p);
      return -1;
    }
    free(p);
  }
  return 0;
}

static char *hex0x(const uint8_t *b, size_t n) {
  char *s = malloc(2 * n + 3);
  if (s == NULL) abort();
  s[0] = '0';
  s[1] = 'x';
  for (size_t i = 0; i < n; i++) snprintf(s + 2 + 2 * i, 3, "%02x", b[i]);
  return s;
}

static const char *const statuses[] = {"UpToDate",
                                       "SWHardeningNeeded",
                                       "ConfigurationNeeded",
                                       "ConfigurationAndSWHardeningNeeded",
                                       "OutOfDate",
                                       "OutOfDateConfigurationNeeded",
                                       "Revoked",
                                       NULL};

static int cmd_quote(int argc, char **argv) {
  const char *dir = argv[0];
  uint8_t rd[64], mrtd[48], rtmr3[48];
  int have_rd = 0, have_mrtd = 0, have_rtmr3 = 0, debug = 0;
  const char *status = NULL;
  time_t at = time(NULL);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--debug") == 0) {
      debug = 1;
    } else if (i + 1 < argc && strcmp(a, "--report-data") == 0) {
      if (tv_hex(argv[++i], rd, sizeof rd) != 0) return usage();
      have_rd = 1;
    } else if (i + 1 < argc && strcmp(a, "--mrtd") == 0) {
      if (tv_hex(argv[++i], mrtd, sizeof mrtd) != 0) return usage();
      have_mrtd = 1;
    } else if (i + 1 < argc && strcmp(a, "--rtmr3") == 0) {
      if (tv_hex(argv[++i], rtmr3, sizeof rtmr3) != 0) return usage();
      have_rtmr3 = 1;
    } else if (i + 1 < argc && strcmp(a, "--tcb-status") == 0) {
      status = argv[++i];
      int ok = 0;
      for (size_t k = 0; statuses[k] != NULL; k++) ok |= strcmp(status, statuses[k]) == 0;
      if (!ok) return usage();
    } else if (i + 1 < argc && strcmp(a, "--at") == 0) {
      char *end;
      long long v = strtoll(argv[++i], &end, 10);
      if (*end != '\0' || v < 1577836800LL + 86400 || v > 1893456000LL) return usage();
      at = (time_t)v;
    } else {
      return usage();
    }
  }
  if (!have_rd) return usage();
  EVP_PKEY *keys[DW_NKEYS] = {0};
  if (load_keys(dir, keys) != 0) return 1;
  dcap_world w;
  dcap_world_init(&w, 1, "Intel SGX PCK Certificate", "Intel SGX TCB Signing", keys);
  for (int i = 0; i < DW_NKEYS; i++) EVP_PKEY_free(keys[i]);
  dcap_quote_mods m = {
      .report_data = rd, .mrtd = have_mrtd ? mrtd : NULL, .rtmr3 = have_rtmr3 ? rtmr3 : NULL};
  if (debug) {
    m.body_off[0] = TKMS_TD_R_TDATTRIBUTES;
    m.body_val[0] = (uint8_t)(w.rq.body[TKMS_TD_R_TDATTRIBUTES] | 0x01);
  }
  size_t qlen;
  uint8_t *q = dcap_world_quote(&w, &m, &qlen);
  tkms_cli_collateral c;
  dcap_world_fresh_collateral(&w, at, status, &c);

  json_t *col = json_object();
  for (size_t i = 0; i < c.col.n; i++) {
    char *h = hex0x(c.col.items[i].data, c.col.items[i].len);
    json_object_set_new(col, c.col.items[i].name, json_string(h));
    free(h);
  }
  char *ev = hex0x(q, qlen), *root = hex0x(w.pin, sizeof w.pin);
  json_t *out = json_pack("{s:s, s:s, s:o, s:s}", "format", "tdx", "evidence", ev, "collateral",
                          col, "root_key", root);
  char *s = out != NULL ? json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  int rc = s != NULL && puts(s) >= 0 && fflush(stdout) == 0 ? 0 : 1;
  free(s);
  json_decref(out);
  free(ev);
  free(root);
  free(q);
  tkms_cli_collateral_free(&c);
  dcap_world_free(&w);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "init") == 0) return cmd_init(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "quote") == 0) return cmd_quote(argc - 2, argv + 2);
  return usage();
}
