/* tests/unit/test_attest_tpm2.c — the TPM 2.0 quote verifier. No public TPM vector is
 * in ../shared, so the quotes are built here byte by byte (TPMS_ATTEST and
 * TPMT_SIGNATURE as TPM 2.0 Part 2 lays them out) and signed with keys made here:
 * ECDSA P-256, RSASSA and RSAPSS. */
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
#include "attest/tpm2_quote.h"
#include "attest_pki.h"

#include <openssl/pem.h>

typedef struct {
  uint8_t b[4096];
  size_t n;
} buf;

static void put(buf *o, uint64_t v, size_t k) {
  for (size_t i = 0; i < k; i++) o->b[o->n++] = (uint8_t)(v >> (8 * (k - 1 - i)));
}
static void put_bytes(buf *o, const void *p, size_t k) {
  memcpy(o->b + o->n, p, k);
  o->n += k;
}
static void put_tpm2b(buf *o, const void *p, size_t k) {
  put(o, k, 2);
  put_bytes(o, p, k);
}

static uint8_t pcr_vals[2][32]; /* PCR0, PCR1 of the sha256 bank */
static uint8_t nonce[32];

/* What to vary in a quote. */
typedef struct {
  uint32_t magic;
  uint16_t type;
  size_t extra_len;
  uint16_t sig_alg, hash_alg;
  size_t trailing; /* bytes appended to TPMS_ATTEST (and signed) */
} quote_opts;

static const quote_opts ECDSA = {0xFF544347u, 0x8018, 32, 0x0018, 0x000B, 0};

static void make_attest(const quote_opts *o, buf *a) {
  a->n = 0;
  put(a, o->magic, 4);
  put(a, o->type, 2);
  uint8_t name[34] = {0x00, 0x0B};
  memset(name + 2, 0x5A, 32);
  put_tpm2b(a, name, sizeof name);
  uint8_t extra[80];
  memset(extra, 0, sizeof extra);
  memcpy(extra, nonce, sizeof nonce);
  put_tpm2b(a, extra, o->extra_len);
  put(a, 0x0000000123456789ull, 8); /* clock */
  put(a, 7, 4);                     /* resetCount */
  put(a, 2, 4);                     /* restartCount */
  put(a, 1, 1);                     /* safe */
  put(a, 0x2000000000010203ull, 8); /* firmwareVersion */
  put(a, 1, 4);                     /* one bank */
  put(a, 0x000B, 2);                /* sha256 */
  put(a, 3, 1);
  put(a, 0x03, 1); /* PCR0, PCR1 */
  put(a, 0x00, 1);
  put(a, 0x00, 1);
  uint8_t d[32];
  unsigned int dl;
  assert_int_equal(EVP_Digest(pcr_vals, sizeof pcr_vals, d, &dl, EVP_sha256(), NULL), 1);
  put_tpm2b(a, d, 32);
  for (size_t i = 0; i < o->trailing; i++) put(a, 0xEE, 1);
}

static const char *md_of(uint16_t h) {
  return h == 0x000C ? "SHA384" : h == 0x000D ? "SHA512" : "SHA256";
}

/* The container: "TKMSTPM1" || u16 n || attest || u16 m || TPMT_SIGNATURE. */
static void make_quote(const quote_opts *o, EVP_PKEY *key, buf *out) {
  buf a, s = {.n = 0};
  make_attest(o, &a);
  put(&s, o->sig_alg, 2);
  put(&s, o->hash_alg, 2);
  if (o->sig_alg == 0x0018) {
    uint8_t r[32], ss[32];
    assert_int_equal(tp_ecdsa_sign_rs(key, md_of(o->hash_alg), a.b, a.n, r, ss, 32), 0);
    put_tpm2b(&s, r, 32);
    put_tpm2b(&s, ss, 32);
  } else {
    size_t sl;
    uint8_t *sig = tp_sign(key, md_of(o->hash_alg), o->sig_alg == 0x0016, a.b, a.n, &sl);
    assert_non_null(sig);
    put_tpm2b(&s, sig, sl);
    free(sig);
  }
  out->n = 0;
  put_bytes(out, "TKMSTPM1", 8);
  put_tpm2b(out, a.b, a.n);
  put_tpm2b(out, s.b, s.n);
}

static EVP_PKEY *ec_key, *rsa_key;
static uint8_t *ec_spki, *rsa_spki;
static size_t ec_spki_len, rsa_spki_len;

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < 32; i++) {
    pcr_vals[0][i] = (uint8_t)i;
    pcr_vals[1][i] = (uint8_t)(0xF0 ^ i);
    nonce[i] = (uint8_t)(0xC0 + i);
  }
  ec_key = tp_key("P-256");
  rsa_key = tp_key("RSA-2048");
  if (ec_key == NULL || rsa_key == NULL) return -1;
  ec_spki = tp_spki(ec_key, &ec_spki_len);
  rsa_spki = tp_spki(rsa_key, &rsa_spki_len);
  return ec_spki != NULL && rsa_spki != NULL ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  EVP_PKEY_free(ec_key);
  EVP_PKEY_free(rsa_key);
  free(ec_spki);
  free(rsa_spki);
  return 0;
}

static int verify_with(int format, const buf *q, const uint8_t *ak, size_t ak_len,
                       const uint8_t *pv, size_t pv_len, tkms_attest_claims *c) {
  tkms_attest_item items[2] = {{"ak_pub", ak, ak_len}, {"pcr_values", pv, pv_len}};
  tkms_attest_collateral col = {items, pv != NULL ? 2 : (ak != NULL ? 1 : 0)};
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = tkms_attest_verify(format, q->b, q->n, &col, 1, c, reason);
  if (rc != TKMS_ATTEST_OK) assert_true(reason[0] != '\0');
  if (getenv("TKMS_TEST_VERBOSE") != NULL)
    fprintf(stderr, "  %s: %s\n", tkms_attest_error_name(rc), reason);
  return rc;
}

static int verify_ec(const buf *q, tkms_attest_claims *c) {
  return verify_with(TKMS_ATTEST_TPM2, q, ec_spki, ec_spki_len, NULL, 0, c);
}

static const tkms_attest_meas *meas(const tkms_attest_claims *c, const char *name) {
  for (size_t i = 0; i < c->n_meas; i++) {
    if (strcmp(c->meas[i].name, name) == 0) return &c->meas[i];
  }
  return NULL;
}

static void test_ecdsa_quote(void **state) {
  (void)state;
  buf q;
  make_quote(&ECDSA, ec_key, &q);
  tkms_attest_claims c;
  assert_int_equal(verify_with(TKMS_ATTEST_AUTO, &q, ec_spki, ec_spki_len, NULL, 0, &c),
                   TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_TPM2);
  assert_int_equal(c.debug, 0);
  assert_int_equal(c.report_data_len, 32);
  assert_memory_equal(c.report_data, nonce, 32);
  uint8_t d[32];
  unsigned int dl;
  EVP_Digest(pcr_vals, sizeof pcr_vals, d, &dl, EVP_sha256(), NULL);
  const tkms_attest_meas *m = meas(&c, "pcr_digest");
  assert_non_null(m);
  assert_int_equal(m->len, 32);
  assert_memory_equal(m->value, d, 32);
  static const uint8_t sel[] = {0, 0, 0, 1, 0x00, 0x0B, 3, 0x03, 0, 0};
  m = meas(&c, "pcr_select");
  assert_non_null(m);
  assert_int_equal(m->len, sizeof sel);
  assert_memory_equal(m->value, sel, sizeof sel);
  static const uint8_t fw[] = {0x20, 0, 0, 0, 0, 0x01, 0x02, 0x03};
  m = meas(&c, "firmware_version");
  assert_non_null(m);
  assert_memory_equal(m->value, fw, 8);
  assert_non_null(meas(&c, "qualified_signer"));
  /* PEM key works too. */
  BIO *b = BIO_new(BIO_s_mem());
  assert_int_equal(PEM_write_bio_PUBKEY(b, ec_key), 1);
  char *pem;
  long pl = BIO_get_mem_data(b, &pem);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, (const uint8_t *)pem, (size_t)pl, NULL, 0, &c),
                   TKMS_ATTEST_OK);
  BIO_free(b);
}

static void test_rsa_quotes(void **state) {
  (void)state;
  tkms_attest_claims c;
  buf q;
  quote_opts o = ECDSA;
  o.sig_alg = 0x0014; /* RSASSA */
  make_quote(&o, rsa_key, &q);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, rsa_spki, rsa_spki_len, NULL, 0, &c),
                   TKMS_ATTEST_OK);
  o.sig_alg = 0x0016; /* RSAPSS */
  o.hash_alg = 0x000C;
  make_quote(&o, rsa_key, &q);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, rsa_spki, rsa_spki_len, NULL, 0, &c),
                   TKMS_ATTEST_OK);
  /* RSA signature, EC key: refused as a signature that cannot be this key's. */
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_E_SIGNATURE);
}

static void test_flipped_bytes(void **state) {
  (void)state;
  buf q, m;
  make_quote(&ECDSA, ec_key, &q);
  tkms_attest_claims c;
  size_t attest_len = (size_t)q.b[8] << 8 | q.b[9];
  /* Every byte of the attest body after magic and type (those have their own reasons). */
  for (size_t i = 10 + 6; i < 10 + attest_len; i++) {
    m = q;
    m.b[i] ^= 0x01;
    int rc = verify_ec(&m, &c);
    /* a flipped length byte makes the structure inconsistent instead */
    assert_true(rc == TKMS_ATTEST_E_SIGNATURE || rc == TKMS_ATTEST_E_MALFORMED);
    if (i >= 10 + 6 + 2 + 34 + 2 && i < 10 + 6 + 2 + 34 + 2 + 32) /* extraData */
      assert_int_equal(rc, TKMS_ATTEST_E_SIGNATURE);
  }
  /* r and s. */
  size_t sig_at = 10 + attest_len + 2;
  m = q;
  m.b[sig_at + 4 + 2 + 5] ^= 1;
  assert_int_equal(verify_ec(&m, &c), TKMS_ATTEST_E_SIGNATURE);
  m = q;
  m.b[q.n - 1] ^= 1;
  assert_int_equal(verify_ec(&m, &c), TKMS_ATTEST_E_SIGNATURE);
  /* Magic and type. */
  m = q;
  m.b[10] ^= 1;
  assert_int_equal(verify_ec(&m, &c), TKMS_ATTEST_E_MALFORMED);
  quote_opts o = ECDSA;
  o.type = 0x8017; /* TPM_ST_ATTEST_CERTIFY */
  make_quote(&o, ec_key, &m);
  assert_int_equal(verify_ec(&m, &c), TKMS_ATTEST_E_UNSUPPORTED);
}

static void test_wrong_key_and_collateral(void **state) {
  (void)state;
  buf q;
  make_quote(&ECDSA, ec_key, &q);
  tkms_attest_claims c;
  EVP_PKEY *other = tp_key("P-256");
  size_t ol;
  uint8_t *os = tp_spki(other, &ol);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, os, ol, NULL, 0, &c), TKMS_ATTEST_E_SIGNATURE);
  free(os);
  EVP_PKEY_free(other);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, NULL, 0, NULL, 0, &c),
                   TKMS_ATTEST_E_COLLATERAL);
  static const uint8_t junk[] = {0x30, 0x02, 0x05, 0x00};
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, junk, sizeof junk, NULL, 0, &c),
                   TKMS_ATTEST_E_COLLATERAL);
}

static void test_pcr_values(void **state) {
  (void)state;
  buf q;
  make_quote(&ECDSA, ec_key, &q);
  tkms_attest_claims c;
  uint8_t pv[64];
  memcpy(pv, pcr_vals, sizeof pv);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, ec_spki, ec_spki_len, pv, sizeof pv, &c),
                   TKMS_ATTEST_OK);
  pv[40] ^= 1; /* PCR1 differs from what was quoted */
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, ec_spki, ec_spki_len, pv, sizeof pv, &c),
                   TKMS_ATTEST_E_TCB_MISMATCH);
  assert_int_equal(verify_with(TKMS_ATTEST_TPM2, &q, ec_spki, ec_spki_len, pv, 32, &c),
                   TKMS_ATTEST_E_COLLATERAL);
}

static void test_unsupported_and_limits(void **state) {
  (void)state;
  buf q;
  tkms_attest_claims c;
  quote_opts o = ECDSA;
  o.hash_alg = 0x0004; /* SHA-1 */
  make_quote(&o, ec_key, &q);
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_E_UNSUPPORTED);
  make_quote(&ECDSA, ec_key, &q);
  size_t attest_len = (size_t)q.b[8] << 8 | q.b[9];
  q.b[10 + attest_len + 2 + 1] = 0x1A; /* sigAlg ECDAA */
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_E_UNSUPPORTED);
  o = ECDSA;
  o.extra_len = 65; /* more than report data holds */
  make_quote(&o, ec_key, &q);
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_E_MALFORMED);
  o = ECDSA;
  o.trailing = 1; /* signed, but TPMS_ATTEST does not end where its fields do */
  make_quote(&o, ec_key, &q);
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_E_MALFORMED);
  o = ECDSA;
  o.extra_len = 0;
  make_quote(&o, ec_key, &q);
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.report_data_len, 0);
}

static void test_truncated_and_long(void **state) {
  (void)state;
  buf q;
  make_quote(&ECDSA, ec_key, &q);
  tkms_attest_claims c;
  for (size_t n = 1; n < q.n; n++) {
    buf t = q;
    t.n = n;
    assert_int_equal(verify_ec(&t, &c), TKMS_ATTEST_E_MALFORMED);
  }
  q.b[q.n++] = 0;
  assert_int_equal(verify_ec(&q, &c), TKMS_ATTEST_E_MALFORMED);
  /* AUTO needs the magic. */
  q.b[0] = 'X';
  assert_int_equal(verify_with(TKMS_ATTEST_AUTO, &q, ec_spki, ec_spki_len, NULL, 0, &c),
                   TKMS_ATTEST_E_UNSUPPORTED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ecdsa_quote),        cmocka_unit_test(test_rsa_quotes),
      cmocka_unit_test(test_flipped_bytes),      cmocka_unit_test(test_wrong_key_and_collateral),
      cmocka_unit_test(test_pcr_values),         cmocka_unit_test(test_unsupported_and_limits),
      cmocka_unit_test(test_truncated_and_long),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
