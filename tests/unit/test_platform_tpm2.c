/* tests/unit/test_platform_tpm2.c — the TPM 2.0 platform against swtpm.
 *
 * The test starts its own swtpm on 127.0.0.1 (free ports, its own state
 * directory), points TKMS_TPM2_TCTI at it and kills it at exit (atexit, and
 * PR_SET_PDEATHSIG should the test die). No swtpm installed is a failure that
 * names `make deps`, never a silent skip. What it shows: the seal key survives
 * close/reopen, extending a policy PCR or measuring another binary makes the
 * unseal (and so open) fail, the NV counters start at 0 and only go forward, the
 * quote verifies with OpenSSL under the AK and binds the report data, and no
 * transient handle is left in the TPM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include <unistd.h>
/* cmocka after the standard headers */
#include <cmocka.h>

#include "attest/attest.h"
#include "platform/platform.h"

static pid_t swtpm_pid = -1;
static char swtpm_dir[64];
static char tcti[96];

static void swtpm_stop(void) {
  if (swtpm_pid > 0) {
    kill(swtpm_pid, SIGTERM);
    waitpid(swtpm_pid, NULL, 0);
    swtpm_pid = -1;
  }
  if (swtpm_dir[0] != '\0') {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", swtpm_dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", swtpm_dir);
    swtpm_dir[0] = '\0';
  }
}

static int port_free(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
  if (s >= 0) close(s);
  return ok;
}

static int can_connect(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
  if (s >= 0) close(s);
  return ok;
}

static int have_swtpm(void) {
  const char *path = getenv("PATH");
  char buf[PATH_MAX];
  if (path == NULL) path = "/usr/bin:/bin";
  while (*path != '\0') {
    size_t n = strcspn(path, ":");
    snprintf(buf, sizeof buf, "%.*s/swtpm", (int)n, path);
    if (access(buf, X_OK) == 0) return 1;
    path += n + (path[n] == ':');
  }
  return 0;
}

/* Starts swtpm on two free consecutive loopback ports; 0 or -1. */
static int swtpm_start(void) {
  strcpy(swtpm_dir, "/tmp/tkms-swtpm-XXXXXX");
  if (mkdtemp(swtpm_dir) == NULL) return -1;
  atexit(swtpm_stop);
  srand((unsigned)(getpid() ^ time(NULL)));
  for (int attempt = 0; attempt < 20; attempt++) {
    int port = 20000 + 2 * (rand() % 20000);
    if (!port_free(port) || !port_free(port + 1)) continue;
    char server[96], ctrl[96], state[96];
    snprintf(server, sizeof server, "type=tcp,port=%d,bindaddr=127.0.0.1", port);
    snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
    snprintf(state, sizeof state, "dir=%s", swtpm_dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, STDOUT_FILENO);
      execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl, "--tpmstate",
             state, "--flags", "not-need-init,startup-clear", (char *)NULL);
      _exit(127);
    }
    swtpm_pid = pid;
    for (int i = 0; i < 100; i++) {
      if (can_connect(port)) {
        snprintf(tcti, sizeof tcti, "swtpm:host=127.0.0.1,port=%d", port);
        return 0;
      }
      if (waitpid(pid, NULL, WNOHANG) == pid) break; /* lost a port race: try again */
      usleep(50000);
    }
    if (swtpm_pid > 0) {
      kill(swtpm_pid, SIGKILL);
      waitpid(swtpm_pid, NULL, 0);
    }
    swtpm_pid = -1;
  }
  return -1;
}

/* ---- a direct ESYS connection, playing the machine's other TPM users ------- */

static ESYS_CONTEXT *esys_connect(TSS2_TCTI_CONTEXT **t) {
  ESYS_CONTEXT *e = NULL;
  assert_int_equal(Tss2_TctiLdr_Initialize(tcti, t), TSS2_RC_SUCCESS);
  assert_int_equal(Esys_Initialize(&e, *t, NULL), TSS2_RC_SUCCESS);
  return e;
}

static void esys_done(ESYS_CONTEXT *e, TSS2_TCTI_CONTEXT *t) {
  Esys_Finalize(&e);
  Tss2_TctiLdr_Finalize(&t);
}

static void extend_pcr7(void) {
  TSS2_TCTI_CONTEXT *t;
  ESYS_CONTEXT *e = esys_connect(&t);
  TPML_DIGEST_VALUES d;
  memset(&d, 0, sizeof d);
  d.count = 1;
  d.digests[0].hashAlg = TPM2_ALG_SHA256;
  memset(d.digests[0].digest.sha256, 0x42, 32);
  assert_int_equal(
      Esys_PCR_Extend(e, ESYS_TR_PCR7, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d),
      TSS2_RC_SUCCESS);
  esys_done(e, t);
}

static uint32_t transient_handles(void) {
  TSS2_TCTI_CONTEXT *t;
  ESYS_CONTEXT *e = esys_connect(&t);
  TPMS_CAPABILITY_DATA *cap = NULL;
  TPMI_YES_NO more;
  assert_int_equal(Esys_GetCapability(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                      TKMS_TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, &more, &cap),
                   TSS2_RC_SUCCESS);
  uint32_t n = cap->data.handles.count;
  Esys_Free(cap);
  esys_done(e, t);
  return n;
}

/* SHA-256 of the three policy PCRs (0, 7, 23) as the TPM reads them now. */
/* PCRs 0, 7, 23 (SHA-256 bank): PCR 23, their digest, and (all != NULL) all three. */
static void pcr_values3(uint8_t pcr23[32], uint8_t digest[32], uint8_t *all) {
  TSS2_TCTI_CONTEXT *t;
  ESYS_CONTEXT *e = esys_connect(&t);
  TPML_PCR_SELECTION sel;
  memset(&sel, 0, sizeof sel);
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0x81;
  sel.pcrSelections[0].pcrSelect[2] = 0x80;
  UINT32 upd;
  TPML_PCR_SELECTION *out_sel = NULL;
  TPML_DIGEST *vals = NULL;
  assert_int_equal(
      Esys_PCR_Read(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &upd, &out_sel, &vals),
      TSS2_RC_SUCCESS);
  assert_int_equal(vals->count, 3);
  crypto_hash_sha256_state h;
  crypto_hash_sha256_init(&h);
  for (unsigned i = 0; i < 3; i++) {
    assert_int_equal(vals->digests[i].size, 32);
    crypto_hash_sha256_update(&h, vals->digests[i].buffer, 32);
    if (all != NULL) memcpy(all + 32 * i, vals->digests[i].buffer, 32);
  }
  crypto_hash_sha256_final(&h, digest);
  memcpy(pcr23, vals->digests[2].buffer, 32);
  Esys_Free(out_sel);
  Esys_Free(vals);
  esys_done(e, t);
}

static void pcr_values(uint8_t pcr23[32], uint8_t digest[32]) {
  pcr_values3(pcr23, digest, NULL);
}

/* ---- fixtures --------------------------------------------------------------- */

typedef struct {
  char dir[64];
} env;

static int group_setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  if (!have_swtpm()) {
    fprintf(stderr,
            "test_platform_tpm2: swtpm is not installed; run `make deps` (it installs swtpm, "
            "swtpm-tools and libtss2-dev)\n");
    return -1;
  }
  if (swtpm_start() != 0) {
    fprintf(stderr, "test_platform_tpm2: cannot start swtpm on 127.0.0.1\n");
    return -1;
  }
  setenv("TKMS_TPM2_TCTI", tcti, 1);
  setenv("TSS2_LOG", "all+NONE", 0); /* the NV look-ups of absent indices are expected */
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  swtpm_stop();
  return 0;
}

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  strcpy(e->dir, "/tmp/tkms-tpm2-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  char p[128];
  snprintf(p, sizeof p, "%s/tpm2-seal.pub", e->dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/tpm2-seal.priv", e->dir);
  unlink(p);
  rmdir(e->dir);
  free(e);
  return 0;
}

static int open_tpm2(env *e, int init, const char *exe, tkms_platform *p, char *err) {
  tkms_platform_cfg cfg = {.data_dir = e->dir, .init = init, .exe_path = exe};
  return tkms_platform_open(&tkms_platform_tpm2, &cfg, p, err, TKMS_PLATFORM_ERR_MAX);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_registry(void **state) {
  (void)state;
  assert_ptr_equal(tkms_platform_find("tpm2"), &tkms_platform_tpm2);
  assert_int_equal(tkms_platform_tpm2.simulated, 0);
  assert_true(tkms_platform_tpm2.sandbox_needs & TKMS_SANDBOX_TPM_IO);
}

static void test_missing_state_without_init(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "tpm2-seal.pub is missing and --init was not given"));
  char path[128];
  snprintf(path, sizeof path, "%s/tpm2-seal.pub", e->dir);
  assert_int_equal(access(path, F_OK), -1); /* nothing created */
}

static void test_seal_key_stable(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  uint8_t *k1 = sodium_malloc(32), *k2 = sodium_malloc(32), zero[32] = {0};
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, k1), 0);
  assert_memory_not_equal(k1, zero, 32);
  uint8_t m[32];
  p.ops->measurement(p.ctx, m);
  tkms_platform_close(&p);

  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, k2), 0);
  assert_memory_equal(k1, k2, 32);
  /* PCR 23 holds SHA-256(0^32 ‖ measurement) while the core runs */
  uint8_t pcr23[32], dig[32], want[32], buf[64] = {0};
  memcpy(buf + 32, m, 32);
  crypto_hash_sha256(want, buf, 64);
  pcr_values(pcr23, dig);
  assert_memory_equal(pcr23, want, 32);
  tkms_platform_close(&p);

  /* --init over existing blobs reuses them */
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), 0);
  assert_int_equal(p.ops->seal_key(p.ctx, k2), 0);
  assert_memory_equal(k1, k2, 32);
  tkms_platform_close(&p);
  sodium_free(k1);
  sodium_free(k2);
  assert_int_equal(transient_handles(), 0); /* every handle was flushed */
}

static void test_other_measurement_refused(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), 0);
  tkms_platform_close(&p);
  /* another core build: PCR 23 gets another value, the policy fails */
  assert_int_equal(open_tpm2(e, 0, "/bin/sh", &p, err), -1);
  assert_non_null(strstr(err, "refused to unseal"));
  assert_non_null(strstr(err, "PCR 23 holds the core measurement"));
  /* the right build still opens */
  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), 0);
  tkms_platform_close(&p);
  assert_int_equal(transient_handles(), 0);
}

static void test_counters(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  uint64_t v = 99;
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), 0);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_PREPARED, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_COMMITTED, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 1), 0);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 4), 0);  /* jump */
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 4), -1); /* same */
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 2), -1); /* back */
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_COMMITTED, 3), 0);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_COMMITTED, 5), -1); /* past P */
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, 5 + TKMS_TPM2_MAX_STEP),
                   -1); /* P only moves one value per transaction: a long jump is a bug */
  /* K may follow P across more aborted transactions than one step cap: after
   * 1100 prepares without a commit, K catches up in one advance */
  for (uint64_t i = 5; i <= 1104; i++)
    assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_PREPARED, i), 0);
  assert_int_equal(p.ops->counter_advance(p.ctx, TKMS_COUNTER_COMMITTED, 1104), 0);
  assert_int_equal(p.ops->counter_advance(p.ctx, 2, 10), -1);
  assert_int_equal(p.ops->counter_read(p.ctx, 2, &v), -1);
  tkms_platform_close(&p);

  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), 0);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_PREPARED, &v), 0);
  assert_int_equal(v, 1104);
  assert_int_equal(p.ops->counter_read(p.ctx, TKMS_COUNTER_COMMITTED, &v), 0);
  assert_int_equal(v, 1104);
  tkms_platform_close(&p);
  assert_int_equal(transient_handles(), 0);
}

static uint16_t be16(const uint8_t *b) {
  return (uint16_t)(b[0] << 8 | b[1]);
}

static void test_evidence_verifies(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), 0);
  uint8_t rd[64], ev[TKMS_EVIDENCE_MAX], der[128];
  randombytes_buf(rd, sizeof rd);
  size_t len = 0, dlen = 0;
  assert_int_equal(p.ops->evidence(p.ctx, rd, ev, sizeof ev, &len), 0);
  assert_int_equal(p.ops->evidence(p.ctx, rd, ev, 20, &len), -1); /* cap too small */
  assert_int_equal(p.ops->evidence(p.ctx, rd, ev, sizeof ev, &len), 0);
  assert_int_equal(tkms_tpm2_ak_public_der(p.ctx, der, sizeof der, &dlen), 0);

  /* the container: "TKMSTPM1" ‖ u16 ‖ TPMS_ATTEST ‖ u16 ‖ TPMT_SIGNATURE */
  assert_true(len > 12);
  assert_memory_equal(ev, "TKMSTPM1", 8);
  size_t alen = be16(ev + 8);
  assert_true(10 + alen + 2 <= len);
  const uint8_t *att = ev + 10;
  size_t slen = be16(att + alen);
  assert_int_equal(10 + alen + 2 + slen, len);
  const uint8_t *sigb = att + alen + 2;

  /* TPMS_ATTEST: magic, quote type, extraData = SHA-256(report_data) */
  assert_int_equal((uint32_t)att[0] << 24 | att[1] << 16 | att[2] << 8 | att[3], 0xFF544347u);
  assert_int_equal(be16(att + 4), 0x8018);
  TPMS_ATTEST a;
  size_t off = 0;
  assert_int_equal(Tss2_MU_TPMS_ATTEST_Unmarshal(att, alen, &off, &a), TSS2_RC_SUCCESS);
  assert_int_equal(off, alen);
  uint8_t want[32];
  crypto_hash_sha256(want, rd, sizeof rd);
  assert_int_equal(a.extraData.size, 32);
  assert_memory_equal(a.extraData.buffer, want, 32);
  /* the quoted PCR digest is that of PCRs 0, 7, 23 now */
  uint8_t pcr23[32], dig[32];
  pcr_values(pcr23, dig);
  assert_int_equal(a.attested.quote.pcrDigest.size, 32);
  assert_memory_equal(a.attested.quote.pcrDigest.buffer, dig, 32);

  /* the signature: ECDSA P-256 over SHA-256(TPMS_ATTEST) under the AK */
  TPMT_SIGNATURE s;
  off = 0;
  assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Unmarshal(sigb, slen, &off, &s), TSS2_RC_SUCCESS);
  assert_int_equal(s.sigAlg, TPM2_ALG_ECDSA);
  assert_int_equal(s.signature.ecdsa.hash, TPM2_ALG_SHA256);
  const uint8_t *dp = der;
  EVP_PKEY *pk = d2i_PUBKEY(NULL, &dp, (long)dlen);
  assert_non_null(pk);
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r =
      BN_bin2bn(s.signature.ecdsa.signatureR.buffer, s.signature.ecdsa.signatureR.size, NULL);
  BIGNUM *sv =
      BN_bin2bn(s.signature.ecdsa.signatureS.buffer, s.signature.ecdsa.signatureS.size, NULL);
  assert_int_equal(ECDSA_SIG_set0(es, r, sv), 1);
  unsigned char *sder = NULL;
  int sdlen = i2d_ECDSA_SIG(es, &sder);
  assert_true(sdlen > 0);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
  assert_int_equal(EVP_DigestVerify(md, sder, (size_t)sdlen, att, alen), 1);
  /* a flipped byte in the attest structure fails */
  uint8_t bad[1024];
  assert_true(alen <= sizeof bad);
  memcpy(bad, att, alen);
  bad[alen - 1] ^= 1;
  EVP_MD_CTX_reset(md);
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
  assert_int_not_equal(EVP_DigestVerify(md, sder, (size_t)sdlen, bad, alen), 1);
  EVP_MD_CTX_free(md);
  OPENSSL_free(sder);
  ECDSA_SIG_free(es);
  EVP_PKEY_free(pk);

  /* src/attest's TPM verifier (written separately) accepts what the platform made,
   * with the quoted PCR values, and reports SHA-256(report_data) as report data;
   * a flipped signature byte is a signature failure there too. */
  uint8_t pcrs[3 * 32], p23[32], d2[32];
  pcr_values3(p23, d2, pcrs);
  tkms_attest_item items[] = {{"ak_pub", der, dlen}, {"pcr_values", pcrs, sizeof pcrs}};
  tkms_attest_collateral col = {items, 2};
  tkms_attest_claims claims;
  char reason[TKMS_ATTEST_REASON_MAX];
  int vr = tkms_attest_verify(TKMS_ATTEST_AUTO, ev, len, &col, 1767222000u, &claims, reason);
  if (vr != TKMS_ATTEST_OK) fail_msg("tpm2 verifier: %s", reason);
  assert_int_equal(claims.format, TKMS_ATTEST_TPM2);
  assert_int_equal(claims.report_data_len, 32);
  assert_memory_equal(claims.report_data, want, 32);
  ev[len - 1] ^= 1;
  assert_int_equal(
      tkms_attest_verify(TKMS_ATTEST_TPM2, ev, len, &col, 1767222000u, &claims, reason),
      TKMS_ATTEST_E_SIGNATURE);
  ev[len - 1] ^= 1;

  /* the AK is the same on every open (deterministic primary) */
  uint8_t der2[128];
  size_t dlen2;
  tkms_platform_close(&p);
  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), 0);
  assert_int_equal(tkms_tpm2_ak_public_der(p.ctx, der2, sizeof der2, &dlen2), 0);
  assert_memory_equal(der, der2, dlen);
  tkms_platform_close(&p);
  assert_int_equal(transient_handles(), 0);
}

/* Last: it changes PCR 7 for the rest of this swtpm's life. */
static void test_pcr_change_refuses_unseal(void **state) {
  env *e = *state;
  tkms_platform p;
  char err[TKMS_PLATFORM_ERR_MAX];
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), 0);
  tkms_platform_close(&p);
  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), 0);
  tkms_platform_close(&p);

  extend_pcr7(); /* what a changed boot chain looks like to the TPM */
  assert_int_equal(open_tpm2(e, 0, NULL, &p, err), -1);
  assert_non_null(strstr(err, "the TPM refused to unseal the sealing key"));
  assert_non_null(strstr(err, "sha256:0,7,23"));
  /* --init does not paper over it: the blobs exist, so it unseals them */
  assert_int_equal(open_tpm2(e, 1, NULL, &p, err), -1);
  assert_non_null(strstr(err, "refused to unseal"));
  assert_int_equal(transient_handles(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test_setup_teardown(test_missing_state_without_init, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seal_key_stable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_measurement_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evidence_verifies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pcr_change_refuses_unseal, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
