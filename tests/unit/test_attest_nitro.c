/* tests/unit/test_attest_nitro.c — the AWS Nitro verifier on blocky/nitrite's documents
 * (../shared/vectors/attestation/nitro/, read at run time) at their own timestamps, the
 * pinned root against AWS's published zip, and refusals, many on documents built here
 * with a test-made chain so that each check is reached behind valid signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "attest/attest.h"
#include "attest/nitro.h"
#include "attest/x509chain.h"
#include "attest_pki.h"
#include "vectors.h"

#define DIR "attestation/nitro/"

static uint8_t *doc, *doc_dbg;
static size_t doc_len, doc_dbg_len;
static int64_t at_doc, at_dbg;

static uint8_t *b64_file(const char *rel, size_t *out_len) {
  uint8_t *txt;
  size_t n;
  if (tv_read(rel, &txt, &n) != 0) return NULL;
  uint8_t *out = malloc(n);
  EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
  int l1 = 0, l2 = 0;
  int ok = out != NULL && ctx != NULL;
  if (ok) {
    EVP_DecodeInit(ctx);
    ok = EVP_DecodeUpdate(ctx, out, &l1, txt, (int)n) >= 0 &&
         EVP_DecodeFinal(ctx, out + l1, &l2) == 1;
  }
  EVP_ENCODE_CTX_free(ctx);
  free(txt);
  if (!ok) {
    free(out);
    return NULL;
  }
  *out_len = (size_t)(l1 + l2);
  return out;
}

static int setup(void **state) {
  (void)state;
  doc = b64_file(DIR "blocky_nitro_attestation.b64", &doc_len);
  doc_dbg = b64_file(DIR "blocky_nitro_attestation_debug.b64", &doc_dbg_len);
  at_doc = tp_time("2024-09-07T14:37:39Z");
  at_dbg = tp_time("2024-09-07T14:38:06Z");
  return doc != NULL && doc_dbg != NULL ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(doc);
  free(doc_dbg);
  return 0;
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

static int verify(int format, const uint8_t *ev, size_t len, int64_t at, tkms_attest_claims *c) {
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = tkms_attest_verify(format, ev, len, NULL, (uint64_t)at, c, reason);
  if (rc != TKMS_ATTEST_OK) assert_true(reason[0] != '\0');
  return rc;
}

static void expect(const uint8_t *ev, size_t len, int64_t at, int code) {
  tkms_attest_claims c;
  char reason[TKMS_ATTEST_REASON_MAX];
  int rc = tkms_attest_verify(TKMS_ATTEST_NITRO, ev, len, NULL, (uint64_t)at, &c, reason);
  if (rc != code)
    fprintf(stderr, "got %s (%s), want %s\n", tkms_attest_error_name(rc), reason,
            tkms_attest_error_name(code));
  assert_int_equal(rc, code);
}

#define PCR4                                                                                     \
  "45706d7b621e4620a332e147a5ddb000b049f73d47d3e61f6b03d2069152d4df6a4a786ad1c10102b955799a9dc9" \
  "6b44"
#define ZERO48                                                                                     \
  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
  "00"

static void test_vector_valid(void **state) {
  (void)state;
  tkms_attest_claims c;
  assert_int_equal(verify(TKMS_ATTEST_NITRO, doc, doc_len, at_doc, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_NITRO);
  assert_int_equal(c.debug, 0);
  assert_meas_hex(&c, "pcr0",
                  "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3"
                  "949dd54e7c9fe86a");
  assert_meas_hex(&c, "pcr1",
                  "0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f"
                  "605946b3d8b0c6aa");
  assert_meas_hex(&c, "pcr2",
                  "d5dcbdea0aa39c802f9d55ced2ea6e4d74ecec5f08fe40c508882639c9090642669106a062a3e24e"
                  "e2805a3024b9b75c");
  assert_meas_hex(&c, "pcr3", ZERO48);
  assert_meas_hex(&c, "pcr4", PCR4);
  assert_meas_hex(&c, "pcr15", ZERO48);
  assert_null(meas(&c, "pcr16"));
  assert_meas_hex(&c, "timestamp_ms", "00000191cceb5159"); /* 1725719859545 */
  const tkms_attest_meas *mid = meas(&c, "module_id");
  assert_non_null(mid);
  assert_int_equal(mid->len, strlen("i-0a22e5c5f24d22174-enc0191cceb4289903f"));
  assert_memory_equal(mid->value, "i-0a22e5c5f24d22174-enc0191cceb4289903f", mid->len);
  /* user_data is 1024 bytes of 0x01: longer than report data, so its SHA-512. */
  uint8_t ud[1024], h[64];
  memset(ud, 1, sizeof ud);
  unsigned int hl;
  assert_int_equal(EVP_Digest(ud, sizeof ud, h, &hl, EVP_sha512(), NULL), 1);
  assert_int_equal(c.report_data_len, 64);
  assert_memory_equal(c.report_data, h, 64);
  const tkms_attest_meas *m = meas(&c, "user_data_sha512");
  assert_non_null(m);
  assert_memory_equal(m->value, h, 64);
  assert_non_null(meas(&c, "nonce_sha512"));
  assert_non_null(meas(&c, "public_key_sha512"));
  assert_null(meas(&c, "user_data"));
  /* AUTO */
  assert_int_equal(verify(TKMS_ATTEST_AUTO, doc, doc_len, at_doc, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_NITRO);
}

static void test_vector_debug(void **state) {
  (void)state;
  tkms_attest_claims c;
  assert_int_equal(verify(TKMS_ATTEST_AUTO, doc_dbg, doc_dbg_len, at_dbg, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.format, TKMS_ATTEST_NITRO);
  assert_int_equal(c.debug, 1);
  assert_meas_hex(&c, "pcr0", ZERO48);
  assert_meas_hex(&c, "pcr1", ZERO48);
  assert_meas_hex(&c, "pcr2", ZERO48);
  assert_meas_hex(&c, "pcr4", PCR4); /* not all PCRs are zero in debug mode */
}

static void test_vector_validity(void **state) {
  (void)state;
  /* The leaf is valid 14:37:36Z .. 17:37:39Z. */
  expect(doc, doc_len, tp_time("2024-09-07T17:37:40Z"), TKMS_ATTEST_E_EXPIRED);
  expect(doc, doc_len, tp_time("2024-09-07T14:37:35Z"), TKMS_ATTEST_E_EXPIRED);
  /* OpenSSL counts notAfter itself as expired (RFC 5280 would include it). */
  expect(doc, doc_len, tp_time("2024-09-07T17:37:38Z"), TKMS_ATTEST_OK);
  expect(doc, doc_len, tp_time("2024-09-07T14:37:36Z"), TKMS_ATTEST_OK);
}

/* Offset of the value of byte-string field `key` in the vector, and its length. */
static size_t find_bstr(const uint8_t *d, size_t n, const char *key, size_t *len) {
  size_t kl = strlen(key);
  for (size_t i = 0; i + kl + 4 < n; i++) {
    if (d[i] == 0x60 + kl && memcmp(d + i + 1, key, kl) == 0) {
      const uint8_t *h = d + i + 1 + kl;
      if (h[0] == 0x59) {
        *len = (size_t)h[1] << 8 | h[2];
        return i + 1 + kl + 3;
      }
    }
  }
  fail_msg("field %s not found", key);
  return 0;
}

static void test_flipped_bytes(void **state) {
  (void)state;
  uint8_t *d = malloc(doc_len);
  assert_non_null(d);
  /* A byte of PCR0 (in the signed payload). */
  static const uint8_t pcr0_head[] = {0xe7, 0x2a, 0x46, 0xca};
  uint8_t *p = memmem(doc, doc_len, pcr0_head, sizeof pcr0_head);
  assert_non_null(p);
  memcpy(d, doc, doc_len);
  d[p - doc] ^= 1;
  expect(d, doc_len, at_doc, TKMS_ATTEST_E_SIGNATURE);
  /* The signature (the document's last 96 bytes). */
  memcpy(d, doc, doc_len);
  d[doc_len - 1] ^= 1;
  expect(d, doc_len, at_doc, TKMS_ATTEST_E_SIGNATURE);
  memcpy(d, doc, doc_len);
  d[doc_len - 96] ^= 0x80;
  expect(d, doc_len, at_doc, TKMS_ATTEST_E_SIGNATURE);
  /* The protected header: alg -35 becomes -39. */
  assert_int_equal(doc[5], 0x22); /* 84 44 a1 01 38 22: [protected {1: -35} ... */
  memcpy(d, doc, doc_len);
  d[5] = 0x26;
  expect(d, doc_len, at_doc, TKMS_ATTEST_E_UNSUPPORTED);
  /* A byte of the leaf certificate's own signature: cabundle no longer vouches for it. */
  size_t cl = 0, co = find_bstr(doc, doc_len, "certificate", &cl);
  memcpy(d, doc, doc_len);
  d[co + cl - 5] ^= 1;
  expect(d, doc_len, at_doc, TKMS_ATTEST_E_CHAIN);
  /* A byte of the leaf's public key: parses, chains no more. */
  memcpy(d, doc, doc_len);
  d[co + cl / 2] ^= 1;
  tkms_attest_claims c;
  assert_int_not_equal(verify(TKMS_ATTEST_NITRO, d, doc_len, at_doc, &c), TKMS_ATTEST_OK);
  /* A byte of the root in cabundle[0]: not the pinned root any more. */
  static const char cab[] = "hcabundle";
  uint8_t *q = memmem(doc, doc_len, cab, strlen(cab));
  assert_non_null(q);
  size_t root_at = (size_t)(q - doc) + strlen(cab) + 1 + 3; /* array head, bstr head */
  memcpy(d, doc, doc_len);
  d[root_at + 530] ^= 1; /* in the root's signature: cabundle[0] is 533 bytes */
  expect(d, doc_len, at_doc, TKMS_ATTEST_E_ROOT);
  free(d);
}

static void test_truncated_and_long(void **state) {
  (void)state;
  for (size_t n = 1; n < doc_len; n++) expect(doc, n, at_doc, TKMS_ATTEST_E_MALFORMED);
  uint8_t *d = malloc(doc_len + 1);
  assert_non_null(d);
  memcpy(d, doc, doc_len);
  d[doc_len] = 0;
  expect(d, doc_len + 1, at_doc, TKMS_ATTEST_E_MALFORMED);
  free(d);
}

/* The pinned root is the root.pem inside the zip AWS publishes, whose SHA-256 is
 * published next to it. */
static void test_pin_is_aws_root(void **state) {
  (void)state;
  uint8_t *zip, *hex;
  size_t zl, hl;
  assert_int_equal(tv_read(DIR "blocky_AWS_NitroEnclaves_Root-G1.zip", &zip, &zl), 0);
  assert_int_equal(tv_read(DIR "blocky_AWS_NitroEnclaves_Root-G1.sha256.hex", &hex, &hl), 0);
  uint8_t want[32], got[32];
  unsigned int ol;
  assert_true(hl >= 64);
  hex[64] = 0;
  assert_int_equal(tp_unhex((const char *)hex, want, 32), 0);
  assert_int_equal(EVP_Digest(zip, zl, got, &ol, EVP_sha256(), NULL), 1);
  assert_memory_equal(got, want, 32);
  if (access("/usr/bin/unzip", X_OK) != 0) {
    fprintf(stderr, "skipped: unzip is not installed (scripts/install-deps.sh adds it)\n");
    free(zip);
    free(hex);
    skip();
  }
  char dir[] = "/tmp/tkms-nitro-root-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char *zp = tv_path(DIR "blocky_AWS_NitroEnclaves_Root-G1.zip");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "unzip -q -o '%s' root.pem -d '%s'", zp, dir);
  assert_int_equal(system(cmd), 0);
  char rp[256];
  snprintf(rp, sizeof rp, "%s/root.pem", dir);
  FILE *f = fopen(rp, "rb");
  assert_non_null(f);
  uint8_t pem[4096];
  size_t pl = fread(pem, 1, sizeof pem, f);
  fclose(f);
  unlink(rp);
  rmdir(dir);
  X509 *root = tkms_attest_x509_load_one(pem, pl);
  assert_non_null(root);
  uint8_t h[32];
  tp_cert_sha256(root, h);
  assert_memory_equal(h, tkms_attest_nitro_root_sha256, 32);
  X509_free(root);
  free(zp);
  free(zip);
  free(hex);
}

/* ---- documents built here ---- */

typedef struct {
  uint8_t *b;
  size_t n, cap;
} cb;

static void cb_raw(cb *c, const void *p, size_t n) {
  if (c->n + n > c->cap) {
    c->cap = (c->n + n) * 2 + 64;
    c->b = realloc(c->b, c->cap);
    assert_non_null(c->b);
  }
  if (n > 0) memcpy(c->b + c->n, p, n);
  c->n += n;
}

static void cb_head(cb *c, unsigned mt, uint64_t v) {
  uint8_t h[9];
  size_t n;
  uint8_t m = (uint8_t)(mt << 5);
  if (v < 24) {
    h[0] = m | (uint8_t)v;
    n = 1;
  } else if (v <= 0xff) {
    h[0] = m | 24, h[1] = (uint8_t)v, n = 2;
  } else if (v <= 0xffff) {
    h[0] = m | 25, h[1] = (uint8_t)(v >> 8), h[2] = (uint8_t)v, n = 3;
  } else {
    h[0] = m | 27;
    for (int i = 0; i < 8; i++) h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
    n = 9;
  }
  cb_raw(c, h, n);
}

static void cb_bstr(cb *c, const void *p, size_t n) {
  cb_head(c, 2, n);
  cb_raw(c, p, n);
}

static void cb_text(cb *c, const char *s) {
  cb_head(c, 3, strlen(s));
  cb_raw(c, s, strlen(s));
}

/* What to put in a test document. */
typedef struct {
  int64_t alg;          /* protected header alg */
  const char *digest;   /* payload digest */
  size_t pcr_len;       /* bytes per PCR */
  int zero_pcr0;        /* PCR0 all zero */
  int dup_digest;       /* "digest" twice */
  int empty_cabundle;   /* cabundle [] */
  int untagged;         /* no tag 18 */
  size_t user_data_len; /* bytes of user_data (0: null) */
} doc_opts;

typedef struct {
  EVP_PKEY *root_k, *mid_k, *leaf_k, *other_k;
  X509 *root, *mid, *leaf;
  uint8_t pin[32];
} nitro_chain;

static int64_t T0;

static void make_chain(nitro_chain *t, int64_t leaf_from, int64_t leaf_to, int leaf_by_other) {
  memset(t, 0, sizeof *t);
  t->root_k = tp_key("P-384");
  t->mid_k = tp_key("P-384");
  t->leaf_k = tp_key("P-384");
  t->other_k = tp_key("P-384");
  t->root = tp_cert(t->root_k, "aws.nitro-enclaves", NULL, NULL, 0, 4102444800, 1, 0, NULL, 0);
  t->mid = tp_cert(t->mid_k, "zonal", t->root, t->root_k, 0, 4102444800, 1, 0, NULL, 0);
  t->leaf = tp_cert(t->leaf_k, "i-test-enc", t->mid, leaf_by_other ? t->other_k : t->mid_k,
                    leaf_from, leaf_to, 0, 0, NULL, 0);
  assert_non_null(t->root);
  assert_non_null(t->mid);
  assert_non_null(t->leaf);
  tp_cert_sha256(t->root, t->pin);
}

static void free_chain(nitro_chain *t) {
  X509_free(t->root);
  X509_free(t->mid);
  X509_free(t->leaf);
  EVP_PKEY_free(t->root_k);
  EVP_PKEY_free(t->mid_k);
  EVP_PKEY_free(t->leaf_k);
  EVP_PKEY_free(t->other_k);
}

static uint8_t *make_doc(const nitro_chain *t, const doc_opts *o, size_t *out_len) {
  cb prot = {0}, pay = {0}, tbs = {0}, d = {0};
  cb_head(&prot, 5, 1);
  cb_head(&prot, 0, 1);
  if (o->alg < 0) {
    cb_head(&prot, 1, (uint64_t)(-1 - o->alg));
  } else {
    cb_head(&prot, 0, (uint64_t)o->alg);
  }
  size_t leaf_len, root_len, mid_len;
  uint8_t *leaf = tp_der(t->leaf, &leaf_len), *root = tp_der(t->root, &root_len),
          *mid = tp_der(t->mid, &mid_len);
  cb_head(&pay, 5, 8 + (o->dup_digest ? 1 : 0));
  cb_text(&pay, "module_id");
  cb_text(&pay, "i-test-enc0123");
  cb_text(&pay, "digest");
  cb_text(&pay, o->digest);
  if (o->dup_digest) {
    cb_text(&pay, "digest");
    cb_text(&pay, "SHA384");
  }
  cb_text(&pay, "timestamp");
  cb_head(&pay, 0, (uint64_t)T0 * 1000);
  cb_text(&pay, "pcrs");
  cb_head(&pay, 5, 3);
  for (unsigned i = 0; i < 3; i++) {
    uint8_t v[64];
    memset(v, o->zero_pcr0 && i == 0 ? 0 : (int)(0x10 + i), sizeof v);
    cb_head(&pay, 0, i);
    cb_bstr(&pay, v, o->pcr_len);
  }
  cb_text(&pay, "certificate");
  cb_bstr(&pay, leaf, leaf_len);
  cb_text(&pay, "cabundle");
  if (o->empty_cabundle) {
    cb_head(&pay, 4, 0);
  } else {
    cb_head(&pay, 4, 2);
    cb_bstr(&pay, root, root_len);
    cb_bstr(&pay, mid, mid_len);
  }
  cb_text(&pay, "user_data");
  if (o->user_data_len == 0) {
    cb_head(&pay, 7, 22); /* null */
  } else {
    uint8_t ud[64];
    for (size_t i = 0; i < sizeof ud; i++) ud[i] = (uint8_t)(0xA0 + i);
    cb_bstr(&pay, ud, o->user_data_len);
  }
  cb_text(&pay, "nonce");
  cb_head(&pay, 7, 22);
  /* Sig_structure */
  cb_head(&tbs, 4, 4);
  cb_text(&tbs, "Signature1");
  cb_bstr(&tbs, prot.b, prot.n);
  cb_bstr(&tbs, NULL, 0);
  cb_bstr(&tbs, pay.b, pay.n);
  uint8_t rs[96];
  assert_int_equal(tp_ecdsa_sign_rs(t->leaf_k, "SHA384", tbs.b, tbs.n, rs, rs + 48, 48), 0);
  if (!o->untagged) cb_head(&d, 6, 18);
  cb_head(&d, 4, 4);
  cb_bstr(&d, prot.b, prot.n);
  cb_head(&d, 5, 0);
  cb_bstr(&d, pay.b, pay.n);
  cb_bstr(&d, rs, sizeof rs);
  free(prot.b);
  free(pay.b);
  free(tbs.b);
  free(leaf);
  free(root);
  free(mid);
  *out_len = d.n;
  return d.b;
}

static const doc_opts GOOD = {.alg = -35, .digest = "SHA384", .pcr_len = 48, .user_data_len = 32};

static int verify_made(const nitro_chain *t, const doc_opts *o, int64_t at, tkms_attest_claims *c) {
  size_t n;
  uint8_t *d = make_doc(t, o, &n);
  char reason[TKMS_ATTEST_REASON_MAX];
  memset(c, 0, sizeof *c);
  int rc = tkms_attest_nitro_verify_pinned(d, n, (uint64_t)at, t->pin, c, reason);
  if (rc != TKMS_ATTEST_OK) {
    assert_true(reason[0] != '\0');
    fprintf(stderr, "  (made document: %s)\n", reason);
  }
  free(d);
  return rc;
}

static void test_made_documents(void **state) {
  (void)state;
  T0 = tp_time("2025-01-01T00:00:00Z");
  nitro_chain t;
  make_chain(&t, T0 - 3600, T0 + 3 * 3600, 0);
  tkms_attest_claims c;
  /* Accepted against the test root; user_data fits report data as it is. */
  assert_int_equal(verify_made(&t, &GOOD, T0, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 0);
  assert_int_equal(c.report_data_len, 32);
  assert_int_equal(c.report_data[0], 0xA0);
  assert_int_equal(c.report_data[31], 0xA0 + 31);
  assert_int_equal(c.report_data[32], 0);
  assert_non_null(meas(&c, "user_data"));
  assert_null(meas(&c, "nonce"));
  doc_opts o = GOOD;
  o.untagged = 1;
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_OK);
  o = GOOD;
  o.user_data_len = 0; /* null */
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.report_data_len, 0);
  o = GOOD;
  o.zero_pcr0 = 1;
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_OK);
  assert_int_equal(c.debug, 1); /* PCR0 zero, PCR1 and PCR2 not */
  /* Refusals. */
  o = GOOD;
  o.digest = "SHA256";
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_E_UNSUPPORTED);
  o = GOOD;
  o.alg = -7; /* ES256 */
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_E_UNSUPPORTED);
  o = GOOD;
  o.pcr_len = 32;
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_E_MALFORMED);
  o = GOOD;
  o.dup_digest = 1;
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_E_MALFORMED);
  o = GOOD;
  o.empty_cabundle = 1;
  assert_int_equal(verify_made(&t, &o, T0, &c), TKMS_ATTEST_E_MALFORMED);
  /* Validity of the leaf at `at`. */
  assert_int_equal(verify_made(&t, &GOOD, T0 + 4 * 3600, &c), TKMS_ATTEST_E_EXPIRED);
  assert_int_equal(verify_made(&t, &GOOD, T0 - 7200, &c), TKMS_ATTEST_E_EXPIRED);
  /* The right structure under a root that is not AWS's. */
  size_t n;
  uint8_t *d = make_doc(&t, &GOOD, &n);
  expect(d, n, T0, TKMS_ATTEST_E_ROOT);
  free(d);
  free_chain(&t);
  /* A leaf the intermediate did not sign. */
  make_chain(&t, T0 - 3600, T0 + 3600, 1);
  assert_int_equal(verify_made(&t, &GOOD, T0, &c), TKMS_ATTEST_E_CHAIN);
  free_chain(&t);
}

static void test_cbor_limits(void **state) {
  (void)state;
  /* Indefinite-length array, a huge declared array, another tag, nesting too deep. */
  static const uint8_t indef[] = {0xD2, 0x9F, 0x40, 0xA0, 0x40, 0x40, 0xFF};
  static const uint8_t huge[] = {0xD2, 0x9B, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  static const uint8_t tag17[] = {0xD1, 0x84, 0x40, 0xA0, 0x40, 0x40};
  static const uint8_t deep[] = {0x84, 0x40, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x40, 0x40, 0x40};
  static const uint8_t hugemap[] = {0x84, 0x40, 0xBB, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x40, 0x40};
  static const uint8_t empty_sign1[] = {0x84, 0x40, 0xA0, 0x40, 0x40};
  expect(indef, sizeof indef, 1, TKMS_ATTEST_E_MALFORMED);
  expect(huge, sizeof huge, 1, TKMS_ATTEST_E_MALFORMED);
  expect(tag17, sizeof tag17, 1, TKMS_ATTEST_E_MALFORMED);
  expect(deep, sizeof deep, 1, TKMS_ATTEST_E_MALFORMED);
  expect(hugemap, sizeof hugemap, 1, TKMS_ATTEST_E_MALFORMED);
  expect(empty_sign1, sizeof empty_sign1, 1, TKMS_ATTEST_E_UNSUPPORTED); /* no alg */
  uint8_t *big = calloc(1, TKMS_NITRO_MAX_DOC + 1);
  assert_non_null(big);
  big[0] = 0x84;
  expect(big, TKMS_NITRO_MAX_DOC + 1, 1, TKMS_ATTEST_E_MALFORMED);
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_valid),       cmocka_unit_test(test_vector_debug),
      cmocka_unit_test(test_vector_validity),    cmocka_unit_test(test_flipped_bytes),
      cmocka_unit_test(test_truncated_and_long), cmocka_unit_test(test_pin_is_aws_root),
      cmocka_unit_test(test_made_documents),     cmocka_unit_test(test_cbor_limits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
