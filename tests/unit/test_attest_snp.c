/* tests/unit/test_attest_snp.c — the AMD SEV-SNP verifier on go-sev-guest's report
 * (../shared/vectors/attestation/go-sev-guest/, read at run time) at its pinned time,
 * each refusal with its specific code, and a report re-signed by a VCEK chain made
 * here to reach the TCB comparison behind a valid signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "attest/attest.h"
#include "attest/snp.h"
#include "attest/x509chain.h"
#include "attest_pki.h"
#include "vectors.h"

#define DIR "attestation/go-sev-guest/"
#define OFF_REPORTED_TCB 0x180
#define OFF_CHIP_ID 0x1A0

static uint8_t *report, *vcek, *ask_ark;
static size_t report_len, vcek_len, ask_ark_len;
static int64_t at_pinned;

static int setup(void **state) {
  (void)state;
  if (tv_read(DIR "attestation.bin", &report, &report_len) != 0 ||
      tv_read(DIR "vcek.testcer", &vcek, &vcek_len) != 0 ||
      tv_read(DIR "ask_ark_milan.pem", &ask_ark, &ask_ark_len) != 0)
    return -1;
  at_pinned = tp_time("2024-01-01T00:00:00Z");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(report);
  free(vcek);
  free(ask_ark);
  return 0;
}

static int verify(int format, const uint8_t *ev, size_t len, const uint8_t *v, size_t vl,
                  const uint8_t *c, size_t cl, int64_t at, tkms_attest_claims *out,
                  char reason[TKMS_ATTEST_REASON_MAX]) {
  tkms_attest_item items[2] = {{"vcek", v, vl}, {"ask_ark", c, cl}};
  tkms_attest_collateral col = {items, 2};
  return tkms_attest_verify(format, ev, len, &col, (uint64_t)at, out, reason);
}

static int verify_vec(const uint8_t *ev, size_t len, int64_t at, tkms_attest_claims *out,
                      char reason[TKMS_ATTEST_REASON_MAX]) {
  return verify(TKMS_ATTEST_SNP, ev, len, vcek, vcek_len, ask_ark, ask_ark_len, at, out, reason);
}

static const tkms_attest_meas *meas(const tkms_attest_claims *c, const char *name) {
  for (size_t i = 0; i < c->n_meas; i++) {
    if (strcmp(c->meas[i].name, name) == 0) return &c->meas[i];
  }
  return NULL;
}

static void assert_meas_hex(const tkms_attest_claims *c, const char *name, const char *hex) {
  const tkms_attest_meas *m = meas(c, name);
  assert_non_null(m);
  size_t n = strlen(hex) / 2;
  uint8_t want[64];
  assert_int_equal(tp_unhex(hex, want, n), 0);
  assert_int_equal(m->len, n);
  assert_memory_equal(m->value, want, n);
}

static void test_vector_valid(void **state) {
  (void)state;
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = verify_vec(report, report_len, at_pinned, &c, reason);
  if (rc != TKMS_ATTEST_OK) fprintf(stderr, "reason: %s\n", reason);
  assert_int_equal(rc, TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_SNP);
  assert_int_equal(c.verified_at, (uint64_t)at_pinned);
  assert_int_equal(c.debug, 1); /* policy 0xB0000: bit 19 allows debugging */
  assert_int_equal(c.tcb_status, TKMS_TCB_NOT_APPLICABLE);
  assert_meas_hex(&c, "measurement",
                  "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a6"
                  "08eb0cf2e4872b01");
  assert_meas_hex(&c, "host_data",
                  "0000000000000000000000000000000000000000000000000000000000000000");
  assert_meas_hex(&c, "policy", "00000000000b0000");
  assert_meas_hex(&c, "reported_tcb", "4405000000000002"); /* ucode 0x44, snp 5, bl 2 */
  assert_meas_hex(&c, "chip_id",
                  "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b7"
                  "6a1936776b564ea464cdce40c05f63c9b610c5068b006b5d");
  assert_meas_hex(&c, "guest_svn", "00000000");
  assert_meas_hex(&c, "vmpl", "00000000");
  assert_int_equal(c.report_data_len, 64);
  static const uint8_t rd[64] = {1, 2, 3, 4, 5};
  assert_memory_equal(c.report_data, rd, 64);
  /* AUTO finds the format from the bytes. */
  assert_int_equal(verify(TKMS_ATTEST_AUTO, report, report_len, vcek, vcek_len, ask_ark,
                          ask_ark_len, at_pinned, &c, reason),
                   TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_SNP);
  /* The VCEK as PEM is accepted too. */
  X509 *x = d2i_X509(NULL, &(const unsigned char *){vcek}, (long)vcek_len);
  assert_non_null(x);
  size_t pl;
  uint8_t *pem = tp_pem(&x, 1, &pl);
  assert_int_equal(verify(TKMS_ATTEST_SNP, report, report_len, pem, pl, ask_ark, ask_ark_len,
                          at_pinned, &c, reason),
                   TKMS_ATTEST_OK);
  free(pem);
  X509_free(x);
}

static void expect(const uint8_t *ev, size_t len, int64_t at, int code) {
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = verify_vec(ev, len, at, &c, reason);
  if (rc != code)
    fprintf(stderr, "got %s (%s), want %s\n", tkms_attest_error_name(rc), reason,
            tkms_attest_error_name(code));
  assert_int_equal(rc, code);
  if (code != TKMS_ATTEST_OK) assert_true(reason[0] != '\0');
}

static void test_flipped_bytes(void **state) {
  (void)state;
  uint8_t r[TKMS_SNP_REPORT_BYTES];
  assert_int_equal(report_len, sizeof r);
  /* A byte of the signed body: measurement, report data, policy, the last signed byte. */
  const size_t body[] = {0x08, 0x50, 0x90, 0xC0, 0x180, 0x1A0, 0x29F};
  for (size_t i = 0; i < sizeof body / sizeof body[0]; i++) {
    memcpy(r, report, sizeof r);
    r[body[i]] ^= 0x01;
    expect(r, sizeof r, at_pinned, TKMS_ATTEST_E_SIGNATURE);
  }
  /* A byte of R and of S (low, significant halves). */
  const size_t sig[] = {0x2A0, 0x2A0 + 47, 0x2E8, 0x2E8 + 20};
  for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
    memcpy(r, report, sizeof r);
    r[sig[i]] ^= 0x80;
    expect(r, sizeof r, at_pinned, TKMS_ATTEST_E_SIGNATURE);
  }
  /* Bytes past the 48 a P-384 scalar has: refused before any arithmetic. */
  memcpy(r, report, sizeof r);
  r[0x2A0 + 60] = 1;
  expect(r, sizeof r, at_pinned, TKMS_ATTEST_E_MALFORMED);
}

static void test_truncated_and_long(void **state) {
  (void)state;
  for (size_t n = 1; n < report_len; n++) expect(report, n, at_pinned, TKMS_ATTEST_E_MALFORMED);
  uint8_t *longer = calloc(1, report_len + 1);
  assert_non_null(longer);
  memcpy(longer, report, report_len);
  expect(longer, report_len + 1, at_pinned, TKMS_ATTEST_E_MALFORMED);
  free(longer);
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  /* AUTO does not take a truncated report for SNP. */
  assert_int_equal(verify(TKMS_ATTEST_AUTO, report, report_len - 1, vcek, vcek_len, ask_ark,
                          ask_ark_len, at_pinned, &c, reason),
                   TKMS_ATTEST_E_UNSUPPORTED);
}

static void test_unsupported(void **state) {
  (void)state;
  uint8_t r[TKMS_SNP_REPORT_BYTES];
  memcpy(r, report, sizeof r);
  r[0] = 1; /* version 1 */
  expect(r, sizeof r, at_pinned, TKMS_ATTEST_E_UNSUPPORTED);
  memcpy(r, report, sizeof r);
  r[0x34] = 2; /* signature algorithm */
  expect(r, sizeof r, at_pinned, TKMS_ATTEST_E_UNSUPPORTED);
  memcpy(r, report, sizeof r);
  r[0x48] |= 1u << 2; /* signed by a VLEK */
  expect(r, sizeof r, at_pinned, TKMS_ATTEST_E_UNSUPPORTED);
}

static void test_validity_window(void **state) {
  (void)state;
  /* VCEK valid 2022-09-24T00:55:28Z .. 2029-09-24T00:55:28Z. */
  expect(report, report_len, tp_time("2029-09-24T00:55:29Z"), TKMS_ATTEST_E_EXPIRED);
  expect(report, report_len, tp_time("2022-09-24T00:55:27Z"), TKMS_ATTEST_E_EXPIRED);
  expect(report, report_len, tp_time("2022-09-24T00:55:29Z"), TKMS_ATTEST_OK);
}

static void test_collateral(void **state) {
  (void)state;
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  tkms_attest_collateral none = {NULL, 0};
  assert_int_equal(tkms_attest_verify(TKMS_ATTEST_SNP, report, report_len, &none, 1, &c, reason),
                   TKMS_ATTEST_E_COLLATERAL);
  static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
  assert_int_equal(verify(TKMS_ATTEST_SNP, report, report_len, junk, sizeof junk, ask_ark,
                          ask_ark_len, at_pinned, &c, reason),
                   TKMS_ATTEST_E_COLLATERAL);
  assert_int_equal(verify(TKMS_ATTEST_SNP, report, report_len, vcek, vcek_len, junk, sizeof junk,
                          at_pinned, &c, reason),
                   TKMS_ATTEST_E_COLLATERAL);
  /* VCEK with a byte of its signature flipped: the ASK no longer vouches for it. */
  uint8_t *bad = malloc(vcek_len);
  assert_non_null(bad);
  memcpy(bad, vcek, vcek_len);
  bad[vcek_len - 10] ^= 0x01;
  assert_int_equal(verify(TKMS_ATTEST_SNP, report, report_len, bad, vcek_len, ask_ark, ask_ark_len,
                          at_pinned, &c, reason),
                   TKMS_ATTEST_E_CHAIN);
  free(bad);
}

static void test_wrong_root(void **state) {
  (void)state;
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  /* A self-signed RSA-PSS "ARK" made here. */
  EVP_PKEY *k = tp_key("RSA-2048");
  assert_non_null(k);
  X509 *root = tp_cert(k, "ARK-Milan", NULL, NULL, 0, 4102444800, 1, 1, NULL, 0);
  assert_non_null(root);
  size_t pl;
  uint8_t *pem = tp_pem(&root, 1, &pl);
  assert_int_equal(
      verify(TKMS_ATTEST_SNP, report, report_len, vcek, vcek_len, pem, pl, at_pinned, &c, reason),
      TKMS_ATTEST_E_ROOT);
  free(pem);
  /* Only the ASK: no pinned key at all. */
  uint8_t *ask_only = malloc(ask_ark_len);
  assert_non_null(ask_only);
  const char *second = strstr((const char *)ask_ark + 1, "-----BEGIN CERTIFICATE");
  assert_non_null(second);
  size_t al = (size_t)((const uint8_t *)second - ask_ark);
  memcpy(ask_only, ask_ark, al);
  assert_int_equal(verify(TKMS_ATTEST_SNP, report, report_len, vcek, vcek_len, ask_only, al,
                          at_pinned, &c, reason),
                   TKMS_ATTEST_E_ROOT);
  free(ask_only);
  /* The Genoa chain is pinned, but this Milan VCEK does not chain to it. */
  uint8_t *genoa;
  size_t gl;
  assert_int_equal(tv_read(DIR "ask_ark_genoa.pem", &genoa, &gl), 0);
  assert_int_equal(
      verify(TKMS_ATTEST_SNP, report, report_len, vcek, vcek_len, genoa, gl, at_pinned, &c, reason),
      TKMS_ATTEST_E_CHAIN);
  free(genoa);
  X509_free(root);
  EVP_PKEY_free(k);
}

/* The pins in snp.c are the keys of the ARK certificates AMD publishes. */
static void test_pins(void **state) {
  (void)state;
  const char *files[] = {"ask_ark_milan.pem", "ask_ark_genoa.pem", "ask_ark_turin_vcek.pem"};
  const char *want[] = {"Milan", "Genoa", NULL};
  for (size_t i = 0; i < 3; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, DIR "%s", files[i]);
    uint8_t *pem;
    size_t n;
    assert_int_equal(tv_read(rel, &pem, &n), 0);
    const char *second = strstr((const char *)pem + 1, "-----BEGIN CERTIFICATE");
    assert_non_null(second);
    X509 *ark = tkms_attest_x509_load_one((const uint8_t *)second,
                                          n - (size_t)((const uint8_t *)second - pem));
    assert_non_null(ark);
    uint8_t h[32];
    tp_spki_sha256(ark, h);
    const char *p = tkms_attest_snp_pinned_product(h);
    if (want[i] == NULL) {
      assert_null(p);
    } else {
      assert_non_null(p);
      assert_string_equal(p, want[i]);
    }
    X509_free(ark);
    free(pem);
  }
}

/* DER INTEGER v as the content of a VCEK TCB extension. */
static void der_int(uint8_t v, uint8_t out[4], size_t *len) {
  out[0] = 0x02;
  if (v & 0x80) {
    out[1] = 2, out[2] = 0, out[3] = v, *len = 4;
  } else {
    out[1] = 1, out[2] = v, *len = 3;
  }
}

/* A test ARK <- ASK <- VCEK chain whose VCEK claims TCB `tcb` (8 bytes as in the
 * report) and hwid `chip`, and the report re-signed by that VCEK. */
typedef struct {
  EVP_PKEY *ark_k, *ask_k, *vcek_k;
  X509 *ark, *ask, *vcek;
  uint8_t *vcek_der, *chain_pem;
  size_t vcek_len, chain_len;
  tkms_snp_ark_pin pin;
} test_chain;

static void make_chain(test_chain *t, const uint8_t tcb[8], const uint8_t chip[64]) {
  memset(t, 0, sizeof *t);
  t->ark_k = tp_key("RSA-2048");
  t->ask_k = tp_key("RSA-2048");
  t->vcek_k = tp_key("P-384");
  assert_non_null(t->ark_k);
  assert_non_null(t->ask_k);
  assert_non_null(t->vcek_k);
  t->ark = tp_cert(t->ark_k, "ARK-Test", NULL, NULL, 0, 4102444800, 1, 1, NULL, 0);
  t->ask = tp_cert(t->ask_k, "SEV-Test", t->ark, t->ark_k, 0, 4102444800, 1, 1, NULL, 0);
  uint8_t ints[4][4];
  size_t il[4];
  der_int(tcb[0], ints[0], &il[0]);
  der_int(tcb[1], ints[1], &il[1]);
  der_int(tcb[6], ints[2], &il[2]);
  der_int(tcb[7], ints[3], &il[3]);
  static const uint8_t product[] = {0x16, 0x07, 'T', 'e', 's', 't', '-', 'B', '0'};
  tp_ext exts[] = {
      {"1.3.6.1.4.1.3704.1.2", product, sizeof product}, {"1.3.6.1.4.1.3704.1.3.1", ints[0], il[0]},
      {"1.3.6.1.4.1.3704.1.3.2", ints[1], il[1]},        {"1.3.6.1.4.1.3704.1.3.3", ints[2], il[2]},
      {"1.3.6.1.4.1.3704.1.3.8", ints[3], il[3]},        {"1.3.6.1.4.1.3704.1.4", chip, 64},
  };
  t->vcek = tp_cert(t->vcek_k, "SEV-VCEK", t->ask, t->ask_k, 0, 4102444800, 0, 1, exts, 6);
  assert_non_null(t->ark);
  assert_non_null(t->ask);
  assert_non_null(t->vcek);
  t->vcek_der = tp_der(t->vcek, &t->vcek_len);
  X509 *both[2] = {t->ask, t->ark};
  t->chain_pem = tp_pem(both, 2, &t->chain_len);
  assert_non_null(t->vcek_der);
  assert_non_null(t->chain_pem);
  t->pin.product = "Test";
  tp_spki_sha256(t->ark, t->pin.spki_sha256);
}

static void free_chain(test_chain *t) {
  free(t->vcek_der);
  free(t->chain_pem);
  X509_free(t->ark);
  X509_free(t->ask);
  X509_free(t->vcek);
  EVP_PKEY_free(t->ark_k);
  EVP_PKEY_free(t->ask_k);
  EVP_PKEY_free(t->vcek_k);
}

/* Signs r[0..0x29F] with key into r's signature field (little-endian R, S). */
static void resign(uint8_t *r, EVP_PKEY *key) {
  uint8_t rr[48], ss[48];
  assert_int_equal(tp_ecdsa_sign_rs(key, "SHA384", r, 0x2A0, rr, ss, 48), 0);
  memset(r + 0x2A0, 0, 144);
  for (size_t i = 0; i < 48; i++) {
    r[0x2A0 + i] = rr[47 - i];
    r[0x2E8 + i] = ss[47 - i];
  }
}

static int verify_test_chain(const test_chain *t, const uint8_t *r, tkms_attest_claims *c,
                             char reason[TKMS_ATTEST_REASON_MAX]) {
  tkms_attest_item items[2] = {{"vcek", t->vcek_der, t->vcek_len},
                               {"ask_ark", t->chain_pem, t->chain_len}};
  tkms_attest_collateral col = {items, 2};
  memset(c, 0, sizeof *c);
  return tkms_attest_snp_verify_pinned(r, TKMS_SNP_REPORT_BYTES, &col, (uint64_t)at_pinned, &t->pin,
                                       1, c, reason);
}

static void test_tcb_mismatch_resigned(void **state) {
  (void)state;
  uint8_t r[TKMS_SNP_REPORT_BYTES];
  memcpy(r, report, sizeof r);
  r[0x0A] = 0x03; /* policy 0x30000: debug not allowed */
  test_chain t;
  make_chain(&t, r + OFF_REPORTED_TCB, r + OFF_CHIP_ID);
  resign(r, t.vcek_k);
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  /* Consistent: accepted against the test pin, with debug = 0 from the policy. */
  int rc = verify_test_chain(&t, r, &c, reason);
  if (rc != TKMS_ATTEST_OK) fprintf(stderr, "reason: %s\n", reason);
  assert_int_equal(rc, TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 0);
  /* The same chain is not an AMD one. */
  tkms_attest_item items[2] = {{"vcek", t.vcek_der, t.vcek_len},
                               {"ask_ark", t.chain_pem, t.chain_len}};
  tkms_attest_collateral col = {items, 2};
  assert_int_equal(
      tkms_attest_verify(TKMS_ATTEST_SNP, r, sizeof r, &col, (uint64_t)at_pinned, &c, reason),
      TKMS_ATTEST_E_ROOT);
  /* Each TCB component the VCEK certifies, raised in the report and re-signed. */
  const size_t pos[] = {0, 1, 6, 7};
  for (size_t i = 0; i < 4; i++) {
    uint8_t m[TKMS_SNP_REPORT_BYTES];
    memcpy(m, r, sizeof m);
    m[OFF_REPORTED_TCB + pos[i]]++;
    resign(m, t.vcek_k);
    assert_int_equal(verify_test_chain(&t, m, &c, reason), TKMS_ATTEST_E_TCB_MISMATCH);
  }
  /* Another chip. */
  memcpy(r + OFF_CHIP_ID, "another chip", 12);
  resign(r, t.vcek_k);
  assert_int_equal(verify_test_chain(&t, r, &c, reason), TKMS_ATTEST_E_TCB_MISMATCH);
  free_chain(&t);
}

static void test_tcb_compare_on_vector(void **state) {
  (void)state;
  char reason[TKMS_ATTEST_REASON_MAX];
  uint8_t r[TKMS_SNP_REPORT_BYTES];
  memcpy(r, report, sizeof r);
  assert_int_equal(tkms_attest_snp_check_vcek_tcb(vcek, vcek_len, r, reason), TKMS_ATTEST_OK);
  r[OFF_REPORTED_TCB + 6] = 4; /* snp 5 -> 4 */
  assert_int_equal(tkms_attest_snp_check_vcek_tcb(vcek, vcek_len, r, reason),
                   TKMS_ATTEST_E_TCB_MISMATCH);
  memcpy(r, report, sizeof r);
  r[OFF_CHIP_ID + 63] ^= 1;
  assert_int_equal(tkms_attest_snp_check_vcek_tcb(vcek, vcek_len, r, reason),
                   TKMS_ATTEST_E_TCB_MISMATCH);
  /* A VCEK without TCB extensions is unusable collateral. */
  EVP_PKEY *k = tp_key("P-384");
  X509 *x = tp_cert(k, "no-ext", NULL, NULL, 0, 4102444800, 0, 0, NULL, 0);
  size_t dl;
  uint8_t *der = tp_der(x, &dl);
  assert_int_equal(tkms_attest_snp_check_vcek_tcb(der, dl, report, reason),
                   TKMS_ATTEST_E_COLLATERAL);
  free(der);
  X509_free(x);
  EVP_PKEY_free(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_valid),
      cmocka_unit_test(test_flipped_bytes),
      cmocka_unit_test(test_truncated_and_long),
      cmocka_unit_test(test_unsupported),
      cmocka_unit_test(test_validity_window),
      cmocka_unit_test(test_collateral),
      cmocka_unit_test(test_wrong_root),
      cmocka_unit_test(test_pins),
      cmocka_unit_test(test_tcb_mismatch_resigned),
      cmocka_unit_test(test_tcb_compare_on_vector),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
