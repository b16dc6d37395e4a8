/* bench/attest_bench.c — Intel DCAP verification throughput: a whole SGX quote
 * verification with its collateral (PCK chain with two CRLs, QE report, quote
 * signature, TCB info and QE identity with their chains and signatures, TCB
 * matching) and the same for the TDX quote, beside the cost of one ECDSA
 * P-256 verification measured in the same run. A benchmark, not a test.
 *   attest_bench [VECTORS_DIR] [SECONDS_PER_CASE]   (default ../shared/vectors, 2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/attest.h"
#include "attest/dcap_collateral.h"
#include "attest/dcap_quote.h"
#include "cli/collateral.h"
#include "cli/files.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef int (*op_fn)(void *arg);

/* Runs op for about secs seconds; returns operations per second. */
static double rate(op_fn op, void *arg, double secs) {
  long n = 0;
  double t0 = now(), t;
  do {
    for (int i = 0; i < 10; i++, n++)
      if (op(arg) != 0) {
        fprintf(stderr, "attest_bench: operation failed\n");
        exit(1);
      }
    t = now();
  } while (t - t0 < secs);
  return (double)n / (t - t0);
}

typedef struct {
  uint8_t *quote;
  size_t len;
  tkms_cli_collateral col;
  uint64_t at;
  int format;
  tkms_dcap_quote parsed;
  EVP_PKEY *key;
} bench_set;

static int op_verify(void *arg) {
  bench_set *s = arg;
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = tkms_attest_verify(s->format, s->quote, s->len, &s->col.col, s->at, &c, reason);
  if (rc != TKMS_ATTEST_OK) fprintf(stderr, "attest_bench: %s\n", reason);
  return rc;
}

static int op_ecdsa(void *arg) {
  bench_set *s = arg;
  return tkms_dcap_ecdsa_verify(s->key, s->parsed.signed_data, s->parsed.signed_len,
                                s->parsed.sig) == 1
             ? 0
             : -1;
}

static int load(bench_set *s, const char *dir, const char *quote, const char *col, int format,
                const char *at) {
  char p[4096];
  memset(s, 0, sizeof *s);
  tkms_cli_collateral_init(&s->col);
  s->format = format;
  snprintf(p, sizeof p, "%s/attestation/dcap-qvl/%s", dir, quote);
  if (tkms_cli_file_read(p, 1u << 20, &s->quote, &s->len) != 0) return -1;
  snprintf(p, sizeof p, "%s/attestation/dcap-qvl/%s", dir, col);
  if (tkms_cli_collateral_load(&s->col, p) != 0) return -1;
  char reason[TKMS_ATTEST_REASON_MAX];
  if (tkms_dcap_parse_time(at, strlen(at), &s->at) != 0 ||
      tkms_dcap_quote_parse(s->quote, s->len, &s->parsed, reason) != TKMS_ATTEST_OK)
    return -1;
  s->key = tkms_dcap_p256_key(s->parsed.att_key);
  return s->key != NULL ? 0 : -1;
}

static void unload(bench_set *s) {
  free(s->quote);
  tkms_cli_collateral_free(&s->col);
  EVP_PKEY_free(s->key);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "../shared/vectors";
  double secs = argc > 2 ? atof(argv[2]) : 2.0;
  if (secs <= 0) secs = 2.0;
  bench_set sgx, tdx;
  if (load(&sgx, dir, "sgx_quote", "sgx_quote_collateral.json", TKMS_ATTEST_SGX,
           "2025-07-01T00:00:00Z") != 0 ||
      load(&tdx, dir, "tdx_quote", "tdx_quote_collateral.json", TKMS_ATTEST_TDX,
           "2025-07-01T00:00:00Z") != 0) {
    fprintf(stderr, "attest_bench: cannot load the dcap-qvl vectors under %s\n", dir);
    return 1;
  }
  double ecdsa = rate(op_ecdsa, &sgx, secs);
  double vs = rate(op_verify, &sgx, secs);
  double vt = rate(op_verify, &tdx, secs);
  printf("ECDSA P-256 verify (one signature)      %10.0f /s\n", ecdsa);
  printf("SGX quote v3 + collateral, full verify  %10.0f /s  (= %.1f ECDSA verifies)\n", vs,
         ecdsa / vs);
  printf("TDX quote v4 + collateral, full verify  %10.0f /s  (= %.1f ECDSA verifies)\n", vt,
         ecdsa / vt);
  unload(&sgx);
  unload(&tdx);
  return 0;
}
