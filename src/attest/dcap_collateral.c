/* src/attest/dcap_collateral.c — certificates, CRLs and signed documents of
 * Intel DCAP collateral (see dcap_collateral.h). */
#include "attest/dcap_collateral.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "attest/verifier.h"

/* Intel SGX Root CA (CN=Intel SGX Root CA, valid 2018-05-21 .. 2049-12-31; DER
 * SHA-256 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3).
 * We pin its key rather than the certificate so that a re-issued root with
 * the same key still anchors. */
const uint8_t tkms_dcap_intel_root_key[65] = {
    0x04, 0x0b, 0xa9, 0xc4, 0xc0, 0xc0, 0xc8, 0x61, 0x93, 0xa3, 0xfe, 0x23, 0xd6,
    0xb0, 0x2c, 0xda, 0x10, 0xa8, 0xbb, 0xd4, 0xe8, 0x8e, 0x48, 0xb4, 0x45, 0x85,
    0x61, 0xa3, 0x6e, 0x70, 0x55, 0x25, 0xf5, 0x67, 0x91, 0x8e, 0x2e, 0xdc, 0x88,
    0xe4, 0x0d, 0x86, 0x0b, 0xd0, 0xcc, 0x4e, 0xe2, 0x6a, 0xac, 0xc9, 0x88, 0xe5,
    0x05, 0xa9, 0x53, 0x55, 0x8c, 0x45, 0x3f, 0x6b, 0x09, 0x04, 0xae, 0x73, 0x94};

/* SubjectPublicKeyInfo DER of a P-256 key, up to the 65-byte point. */
static const uint8_t p256_spki_prefix[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

static int is_pem(const uint8_t *d, size_t len) {
  size_t i = 0;
  while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n')) i++;
  return len - i >= 10 && memcmp(d + i, "-----BEGIN", 10) == 0;
}

/* PEM text stops at the first NUL (chains in quotes are NUL-padded). */
static size_t pem_len(const uint8_t *d, size_t len) {
  const uint8_t *z = memchr(d, 0, len);
  return z != NULL ? (size_t)(z - d) : len;
}

static size_t count_str(const uint8_t *d, size_t len, const char *s) {
  size_t n = 0, k = strlen(s);
  for (size_t i = 0; i + k <= len; i++)
    if (memcmp(d + i, s, k) == 0) n++;
  return n;
}

int tkms_dcap_certs_load(const uint8_t *data, size_t len, STACK_OF(X509) * *out) {
  *out = NULL;
  if (data == NULL || len == 0 || len > (1u << 20)) return -1;
  STACK_OF(X509) *s = sk_X509_new_null();
  if (s == NULL) return -1;
  int ok = 0;
  if (is_pem(data, len)) {
    size_t n = pem_len(data, len);
    /* Read exactly as many certificates as there are BEGIN lines, so that a
     * malformed one is an error and not a silent end of the chain. */
    size_t want = count_str(data, n, "-----BEGIN CERTIFICATE-----");
    BIO *b = BIO_new_mem_buf(data, (int)n);
    if (b != NULL && want > 0 && want <= TKMS_DCAP_MAX_CHAIN) {
      ok = 1;
      for (size_t i = 0; i < want && ok; i++) {
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (x == NULL || !sk_X509_push(s, x)) {
          X509_free(x);
          ok = 0;
        }
      }
    }
    BIO_free(b);
  } else {
    const unsigned char *p = data, *end = data + len;
    ok = 1;
    while (p < end && ok) {
      X509 *x = sk_X509_num(s) < (int)TKMS_DCAP_MAX_CHAIN ? d2i_X509(NULL, &p, end - p) : NULL;
      if (x == NULL || !sk_X509_push(s, x)) {
        X509_free(x);
        ok = 0;
      }
    }
  }
  ERR_clear_error();
  if (!ok || sk_X509_num(s) == 0) {
    sk_X509_pop_free(s, X509_free);
    return -1;
  }
  *out = s;
  return 0;
}

int tkms_dcap_crl_load(const uint8_t *data, size_t len, X509_CRL **out) {
  *out = NULL;
  if (data == NULL || len == 0 || len > (1u << 20)) return -1;
  if (is_pem(data, len)) {
    BIO *b = BIO_new_mem_buf(data, (int)pem_len(data, len));
    if (b != NULL) *out = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    BIO_free(b);
  } else {
    const unsigned char *p = data;
    *out = d2i_X509_CRL(NULL, &p, (long)len);
    if (*out != NULL && p != data + len) { /* trailing bytes */
      X509_CRL_free(*out);
      *out = NULL;
    }
  }
  ERR_clear_error();
  return *out != NULL ? 0 : -1;
}

EVP_PKEY *tkms_dcap_p256_key(const uint8_t xy[64]) {
  uint8_t spki[sizeof p256_spki_prefix + 65];
  memcpy(spki, p256_spki_prefix, sizeof p256_spki_prefix);
  spki[sizeof p256_spki_prefix] = 0x04;
  memcpy(spki + sizeof p256_spki_prefix + 1, xy, 64);
  const unsigned char *p = spki;
  EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)sizeof spki); /* checks the point is on the curve */
  ERR_clear_error();
  return k;
}

int tkms_dcap_ecdsa_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[64]) {
  int ok = 0;
  unsigned char der[80], *dp = der;
  ECDSA_SIG *s = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL), *sv = BN_bin2bn(sig + 32, 32, NULL);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (s == NULL || r == NULL || sv == NULL || ctx == NULL || key == NULL) goto out;
  if (!ECDSA_SIG_set0(s, r, sv)) goto out;
  r = sv = NULL; /* owned by s */
  int n = i2d_ECDSA_SIG(s, NULL);
  if (n <= 0 || n > (int)sizeof der || i2d_ECDSA_SIG(s, &dp) != n) goto out;
  if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1) goto out;
  ok = EVP_DigestVerify(ctx, der, (size_t)n, msg, len) == 1;
out:
  BN_free(r);
  BN_free(sv);
  ECDSA_SIG_free(s);
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

/* 1 if root's public key is the uncompressed point pin. */
static int key_is_pin(X509 *root, const uint8_t pin[65]) {
  EVP_PKEY *k = X509_get0_pubkey(root);
  uint8_t pt[65];
  size_t n = 0;
  int ok = k != NULL && EVP_PKEY_is_a(k, "EC") &&
           EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt,
                                           &n) == 1 &&
           n == 65 && memcmp(pt, pin, 65) == 0;
  /* the point alone does not name the curve: it must be P-256 */
  char group[32];
  ok = ok &&
       EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) ==
           1 &&
       strcmp(group, "prime256v1") == 0;
  ERR_clear_error();
  return ok;
}

int tkms_dcap_root_check(X509 *root, const uint8_t pin[65], char reason[TKMS_ATTEST_REASON_MAX]) {
  if (!key_is_pin(root, pin))
    return tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT, "root CA key is not the pinned key");
  int self = X509_verify(root, X509_get0_pubkey(root)) == 1;
  ERR_clear_error();
  if (!self) return tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT, "root CA is not self-signed");
  return TKMS_ATTEST_OK;
}

/* One OpenSSL verification error to one reason code. */
static int map_verify_error(int e) {
  switch (e) {
    case X509_V_ERR_CERT_REVOKED:
      return TKMS_ATTEST_E_REVOKED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return TKMS_ATTEST_E_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return TKMS_ATTEST_E_ROOT;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
      return TKMS_ATTEST_E_COLLATERAL;
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
      return TKMS_ATTEST_E_COLLATERAL_SIG;
    default:
      return TKMS_ATTEST_E_CHAIN;
  }
}

int tkms_dcap_chain_verify(STACK_OF(X509) * chain, X509 *root, const uint8_t pin[65],
                           STACK_OF(X509_CRL) * crls, uint64_t at, const char *what,
                           char reason[TKMS_ATTEST_REASON_MAX]) {
  /* The anchor's key is compared here; its self-signature is checked once per
   * verification by tkms_dcap_root_check (OpenSSL does not check a trust
   * anchor's own signature). */
  if (!key_is_pin(root, pin))
    return tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT, "root CA key is not the pinned key");
  int rc;
  if (chain == NULL || sk_X509_num(chain) < 1)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "%s: empty chain", what);
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  rc = TKMS_ATTEST_E_INTERNAL;
  if (store == NULL || ctx == NULL || untrusted == NULL || !X509_STORE_add_cert(store, root))
    goto out;
  /* Intermediates only: a self-signed certificate in the supplied chain is
   * never a candidate anchor, the pinned root is the only one. */
  for (int i = 1; i < sk_X509_num(chain); i++) {
    X509 *c = sk_X509_value(chain, i);
    if (X509_self_signed(c, 0) == 1) continue;
    if (!sk_X509_push(untrusted, c)) goto out;
  }
  if (!X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted)) goto out;
  X509_STORE_CTX_set0_crls(ctx, crls);
  X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(vp, (time_t)at);
  X509_VERIFY_PARAM_set_flags(
      vp, X509_V_FLAG_USE_CHECK_TIME | X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  if (X509_verify_cert(ctx) == 1) {
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
    int n = built != NULL ? sk_X509_num(built) : 0;
    if (n < 1 || X509_cmp(sk_X509_value(built, n - 1), root) != 0) {
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT, "%s: chain does not end at the root", what);
    } else {
      rc = TKMS_ATTEST_OK;
    }
  } else {
    int e = X509_STORE_CTX_get_error(ctx);
    rc = tkms_attest_fail(reason, map_verify_error(e), "%s: %s (certificate %d)", what,
                          X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx));
  }
out:
  if (rc == TKMS_ATTEST_E_INTERNAL) tkms_attest_fail(reason, rc, "%s: OpenSSL failure", what);
  sk_X509_free(untrusted);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return rc;
}

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A signature item: 64 raw bytes or 128 hex characters. */
static int sig_item(const tkms_attest_item *it, uint8_t sig[64]) {
  if (it == NULL) return -1;
  if (it->len == 64) {
    memcpy(sig, it->data, 64);
    return 0;
  }
  if (it->len != 128) return -1;
  for (size_t i = 0; i < 64; i++) {
    int hi = hexval(it->data[2 * i]), lo = hexval(it->data[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    sig[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

int tkms_dcap_cn_is(X509 *x, const char *cn) {
  char buf[128];
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  ERR_clear_error();
  return n > 0 && (size_t)n == strlen(cn) && strcmp(buf, cn) == 0;
}

/* Verifies the issuer chain in item ch to root and returns its leaf's key
 * (a new reference) in *key. */
static int signer_verify(const tkms_attest_item *ch, const char *chain_name, X509 *root,
                         const uint8_t pin[65], X509_CRL *root_crl, uint64_t at, EVP_PKEY **key,
                         char reason[TKMS_ATTEST_REASON_MAX]) {
  STACK_OF(X509) *chain = NULL;
  if (tkms_dcap_certs_load(ch->data, ch->len, &chain) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "%s: no certificates", chain_name);
  STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
  int rc;
  if (crls == NULL || !sk_X509_CRL_push(crls, root_crl)) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
  } else {
    rc = tkms_dcap_chain_verify(chain, root, pin, crls, at, chain_name, reason);
  }
  sk_X509_CRL_free(crls);
  /* Only Intel's TCB signing certificate signs collateral; other certificates
   * under the same root (a platform's PCK certificate) must not. */
  if (rc == TKMS_ATTEST_OK && !tkms_dcap_cn_is(sk_X509_value(chain, 0), "Intel SGX TCB Signing"))
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_CHAIN, "%s: signer is not Intel SGX TCB Signing",
                          chain_name);
  if (rc == TKMS_ATTEST_OK) {
    *key = X509_get_pubkey(sk_X509_value(chain, 0)); /* new reference */
    if (*key == NULL)
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "%s: no key", chain_name);
  }
  sk_X509_pop_free(chain, X509_free);
  return rc;
}

void tkms_dcap_doc_free(tkms_dcap_doc *d) {
  tkms_sjson_free(&d->json);
  d->body = -1;
}

int tkms_dcap_doc_verify(const tkms_attest_collateral *col, const char *doc_name,
                         const char *wrap_key, const char *sig_name, const char *chain_name,
                         X509 *root, const uint8_t pin[65], X509_CRL *root_crl, uint64_t at,
                         tkms_dcap_signer_cache *cache, tkms_dcap_doc *out,
                         char reason[TKMS_ATTEST_REASON_MAX]) {
  memset(out, 0, sizeof *out);
  out->body = -1;
  const tkms_attest_item *doc = tkms_attest_collateral_get(col, doc_name);
  const tkms_attest_item *ch = tkms_attest_collateral_get(col, chain_name);
  if (doc == NULL || ch == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "collateral %s missing",
                            doc == NULL ? doc_name : chain_name);
  if (tkms_sjson_parse(&out->json, (const char *)doc->data, doc->len) != 0 ||
      out->json.tok[0].type != TKMS_SJSON_OBJECT)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "%s: not strict JSON", doc_name);
  uint8_t sig[64];
  int body = tkms_sjson_get(&out->json, 0, wrap_key);
  int rc;
  if (body >= 0) { /* PCS response: {"<wrap_key>": {...}, "signature": "hex"} */
    if (out->json.tok[0].size != 2 ||
        tkms_sjson_hex(&out->json, tkms_sjson_get(&out->json, 0, "signature"), sig, 64) != 0) {
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "%s: bad signature field", doc_name);
      goto fail;
    }
  } else {
    body = 0;
    if (sig_item(tkms_attest_collateral_get(col, sig_name), sig) != 0) {
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "collateral %s missing or malformed",
                            sig_name);
      goto fail;
    }
  }
  if (out->json.tok[body].type != TKMS_SJSON_OBJECT) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "%s: signed value is no object",
                          doc_name);
    goto fail;
  }
  EVP_PKEY *signer = NULL;
  if (cache != NULL && cache->key != NULL && cache->len == ch->len &&
      memcmp(cache->data, ch->data, ch->len) == 0) {
    /* the same chain bytes, already verified in this verification */
    signer = cache->key;
    rc = TKMS_ATTEST_OK;
  } else {
    rc = signer_verify(ch, chain_name, root, pin, root_crl, at, &signer, reason);
    if (rc == TKMS_ATTEST_OK && cache != NULL) {
      EVP_PKEY_free(cache->key);
      cache->key = signer;
      cache->data = ch->data;
      cache->len = ch->len;
    }
  }
  if (rc == TKMS_ATTEST_OK) {
    /* The signature covers the exact bytes of the signed value as received. */
    const tkms_sjson_tok *t = &out->json.tok[body];
    if (!tkms_dcap_ecdsa_verify(signer, (const uint8_t *)out->json.s + t->start, t->end - t->start,
                                sig))
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL_SIG, "%s: signature does not verify",
                            doc_name);
  }
  if (cache == NULL) EVP_PKEY_free(signer);
  if (rc != TKMS_ATTEST_OK) goto fail;
  out->body = body;
  return TKMS_ATTEST_OK;
fail:
  tkms_dcap_doc_free(out);
  return rc;
}

static int num(const char *s, size_t n, unsigned *v) {
  unsigned x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    x = x * 10 + (unsigned)(s[i] - '0');
  }
  *v = x;
  return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int tkms_dcap_parse_time(const char *s, size_t len, uint64_t *out) {
  static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned Y, M, D, h, m, sec;
  if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s[len - 1] != 'Z')
    return -1;
  if (len > 20) { /* fraction: ".d+" */
    if (s[19] != '.' || len < 22 || len > 40) return -1;
    for (size_t i = 20; i < len - 1; i++)
      if (s[i] < '0' || s[i] > '9') return -1;
  }
  if (num(s, 4, &Y) || num(s + 5, 2, &M) || num(s + 8, 2, &D) || num(s + 11, 2, &h) ||
      num(s + 14, 2, &m) || num(s + 17, 2, &sec))
    return -1;
  if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 59)
    return -1;
  int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (M == 2 && D == 29 && !leap) return -1;
  *out = (uint64_t)days_from_civil(Y, M, D) * 86400u + h * 3600u + m * 60u + sec;
  return 0;
}

void tkms_dcap_signer_cache_free(tkms_dcap_signer_cache *c) {
  EVP_PKEY_free(c->key);
  memset(c, 0, sizeof *c);
}
