/* src/attest/nitro.c — AWS Nitro Enclaves attestation documents (see nitro.h).
 *
 * Document: COSE_Sign1 with protected header {1: -35} (ES384); the signature is
 * r || s (48 bytes each) over Sig_structure ["Signature1", protected, h'', payload]
 * by the key of `certificate`. Payload (AWS, "Nitro Enclaves attestation
 * document"): a map with text keys
 *   module_id  text, non-empty         digest     "SHA384"
 *   timestamp  uint, ms since 1970     pcrs       map uint (0..31) -> 48-byte bstr
 *   certificate bstr, DER              cabundle   array of DER bstr, root first
 *   public_key, user_data, nonce: bstr of at most 1024 bytes, or null, or absent.
 * Each field is checked for type and size before it is used. */
#include "attest/nitro.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/cose.h"
#include "attest/x509chain.h"

/* openssl x509 -in root.pem -outform DER | sha256sum, root.pem from AWS's
 * AWS_NitroEnclaves_Root-G1.zip (zip SHA-256 8cf60e2b...faff7c, as AWS publishes). */
const uint8_t tkms_attest_nitro_root_sha256[32] = {
    0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46, 0x31, 0x95, 0xd6, 0x06, 0x31,
    0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17, 0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b};

#define PCR_BYTES 48u

static int nitro_detect(const uint8_t *ev, size_t len) {
  if (len < 2) return 0;
  if (ev[0] == 0xD2) return ev[1] == 0x84;        /* tag 18, array(4) */
  return ev[0] == 0x84 && (ev[1] & 0xE0) == 0x40; /* array(4), bstr */
}

typedef struct {
  const uint8_t *p;
  size_t n;
  int present; /* 0: absent or null */
} opt_bytes;

/* An optional byte string field: absent, null, or bstr of at most max bytes. */
static int get_opt_bytes(const cbor_item_t *map, const char *key, size_t max, opt_bytes *o) {
  int dup;
  memset(o, 0, sizeof *o);
  cbor_item_t *v = tkms_cbor_map_text(map, key, &dup);
  if (dup) return -1;
  if (v == NULL || cbor_is_null(v)) return 0;
  if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v)) return -1;
  o->n = cbor_bytestring_length(v);
  o->p = cbor_bytestring_handle(v);
  if (o->n > max || (o->p == NULL && o->n != 0)) return -1;
  o->present = 1;
  return 0;
}

static int all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) acc |= p[i];
  return acc == 0;
}

/* name (raw, if it fits a measurement) or name_sha512 (SHA-512 of it). */
static int add_bytes_claim(tkms_attest_claims *out, const char *name, const opt_bytes *o,
                           uint8_t digest_out[64]) {
  if (!o->present) return 0;
  if (o->n <= TKMS_ATTEST_MEAS_MAX) {
    if (digest_out != NULL) memcpy(digest_out, o->p, o->n);
    return tkms_attest_add_meas(out, name, o->p, o->n);
  }
  uint8_t h[64];
  unsigned int hl = 0;
  if (EVP_Digest(o->p, o->n, h, &hl, EVP_sha512(), NULL) != 1 || hl != 64) return -1;
  if (digest_out != NULL) memcpy(digest_out, h, 64);
  char nm[TKMS_ATTEST_MEAS_NAME];
  snprintf(nm, sizeof nm, "%s_sha512", name);
  return tkms_attest_add_meas(out, nm, h, 64);
}

typedef struct {
  const cbor_item_t *pcrs;
  const uint8_t *leaf;
  size_t leaf_len;
  const cbor_item_t *cabundle;
  uint64_t timestamp;
  const uint8_t *module_id;
  size_t module_id_len;
  opt_bytes public_key, user_data, nonce;
} payload_fields;

static int parse_payload(const cbor_item_t *m, payload_fields *f,
                         char reason[TKMS_ATTEST_REASON_MAX]) {
  int dup;
  memset(f, 0, sizeof *f);
  if (!cbor_isa_map(m))
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: not a map");
  cbor_item_t *v = tkms_cbor_map_text(m, "module_id", &dup);
  if (v == NULL || !cbor_isa_string(v) || !cbor_string_is_definite(v) ||
      cbor_string_length(v) == 0 || cbor_string_length(v) > TKMS_ATTEST_MEAS_MAX)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: module_id");
  f->module_id = cbor_string_handle(v);
  f->module_id_len = cbor_string_length(v);
  v = tkms_cbor_map_text(m, "digest", &dup);
  if (v == NULL || !cbor_isa_string(v) || !cbor_string_is_definite(v))
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: digest");
  if (cbor_string_length(v) != 6 || memcmp(cbor_string_handle(v), "SHA384", 6) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "payload: digest is not SHA384");
  v = tkms_cbor_map_text(m, "timestamp", &dup);
  if (v == NULL || !cbor_isa_uint(v) || cbor_get_int(v) == 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: timestamp");
  f->timestamp = cbor_get_int(v);
  v = tkms_cbor_map_text(m, "pcrs", &dup);
  if (v == NULL || !cbor_isa_map(v) || cbor_map_size(v) == 0 ||
      cbor_map_size(v) > TKMS_NITRO_MAX_PCRS)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: pcrs");
  f->pcrs = v;
  v = tkms_cbor_map_text(m, "certificate", &dup);
  if (v == NULL || !cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v) ||
      cbor_bytestring_length(v) == 0 || cbor_bytestring_length(v) > TKMS_NITRO_MAX_FIELD)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: certificate");
  f->leaf = cbor_bytestring_handle(v);
  f->leaf_len = cbor_bytestring_length(v);
  v = tkms_cbor_map_text(m, "cabundle", &dup);
  if (v == NULL || !cbor_isa_array(v) || cbor_array_size(v) == 0 ||
      cbor_array_size(v) > TKMS_NITRO_MAX_CABUNDLE)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: cabundle");
  f->cabundle = v;
  if (get_opt_bytes(m, "public_key", TKMS_NITRO_MAX_FIELD, &f->public_key) != 0 ||
      get_opt_bytes(m, "user_data", TKMS_NITRO_MAX_FIELD, &f->user_data) != 0 ||
      get_opt_bytes(m, "nonce", TKMS_NITRO_MAX_FIELD, &f->nonce) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "payload: public_key, user_data or nonce");
  /* A key given twice is ambiguous: one reader would take the first, another the last. */
  static const char *const keys[] = {"module_id", "digest",      "timestamp",
                                     "pcrs",      "certificate", "cabundle"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    (void)tkms_cbor_map_text(m, keys[i], &dup);
    if (dup)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload: %s repeated", keys[i]);
  }
  return TKMS_ATTEST_OK;
}

/* Checks the PCR map (indices < 32, each once, 48 bytes) into val[] by index. */
static int pcr_parse(const cbor_item_t *pcrs, const uint8_t *val[TKMS_NITRO_MAX_PCRS],
                     char reason[TKMS_ATTEST_REASON_MAX]) {
  struct cbor_pair *p = cbor_map_handle(pcrs);
  for (size_t i = 0; i < TKMS_NITRO_MAX_PCRS; i++) val[i] = NULL;
  for (size_t i = 0; i < cbor_map_size(pcrs); i++) {
    if (!cbor_isa_uint(p[i].key) || cbor_get_int(p[i].key) >= TKMS_NITRO_MAX_PCRS)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "pcrs: index");
    uint64_t idx = cbor_get_int(p[i].key);
    const cbor_item_t *v = p[i].value;
    if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v) ||
        cbor_bytestring_length(v) != PCR_BYTES)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "pcr%u is not %u bytes",
                              (unsigned)idx, PCR_BYTES);
    if (val[idx] != NULL)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "pcr%u repeated", (unsigned)idx);
    val[idx] = cbor_bytestring_handle(v);
  }
  return TKMS_ATTEST_OK;
}

/* PCRs in index order as claims pcr<i>. debug if PCR0, PCR1 or PCR2 is zero or
 * absent: AWS zeroes the image, kernel and application measurements of an enclave
 * started in debug mode, while PCR3/4/8 (role, instance, signing certificate) may
 * stay set, so "every PCR zero" would miss a debug enclave. */
static int pcr_claims(const uint8_t *const val[TKMS_NITRO_MAX_PCRS], tkms_attest_claims *out,
                      char reason[TKMS_ATTEST_REASON_MAX]) {
  int debug = 0;
  for (unsigned i = 0; i < TKMS_NITRO_MAX_PCRS; i++) {
    if (val[i] == NULL) {
      if (i <= 2) debug = 1;
      continue;
    }
    if (i <= 2 && all_zero(val[i], PCR_BYTES)) debug = 1;
    char nm[TKMS_ATTEST_MEAS_NAME];
    snprintf(nm, sizeof nm, "pcr%u", i);
    if (tkms_attest_add_meas(out, nm, val[i], PCR_BYTES) != 0)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "more PCRs than claims hold");
  }
  out->debug = debug;
  return TKMS_ATTEST_OK;
}

static int check_chain(const payload_fields *f, uint64_t at, const uint8_t root_sha256[32],
                       EVP_PKEY **leaf_key, char reason[TKMS_ATTEST_REASON_MAX]) {
  X509 *leaf = tkms_attest_x509_load_one(f->leaf, f->leaf_len);
  X509 *root = NULL;
  STACK_OF(X509) *mid = sk_X509_new_null();
  int rc;
  if (mid == NULL) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
    goto done;
  }
  if (leaf == NULL || f->leaf[0] != 0x30) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "certificate is not DER");
    goto done;
  }
  cbor_item_t **ca = cbor_array_handle(f->cabundle);
  for (size_t i = 0; i < cbor_array_size(f->cabundle); i++) {
    const cbor_item_t *c = ca[i];
    X509 *x = NULL;
    if (cbor_isa_bytestring(c) && cbor_bytestring_is_definite(c) && cbor_bytestring_length(c) > 0 &&
        cbor_bytestring_length(c) <= TKMS_NITRO_MAX_FIELD && cbor_bytestring_handle(c)[0] == 0x30)
      x = tkms_attest_x509_load_one(cbor_bytestring_handle(c), cbor_bytestring_length(c));
    if (x == NULL) {
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "cabundle[%zu] is not DER", i);
      goto done;
    }
    if (i == 0) {
      root = x;
    } else if (sk_X509_push(mid, x) <= 0) {
      X509_free(x);
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
      goto done;
    }
  }
  uint8_t h[32];
  if (tkms_attest_x509_cert_sha256(root, h) != 0) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "cannot hash cabundle[0]");
    goto done;
  }
  if (memcmp(h, root_sha256, 32) != 0) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT,
                          "cabundle[0] is not the pinned AWS Nitro Enclaves root");
    goto done;
  }
  rc = tkms_attest_x509_verify_chain(leaf, mid, root, at, "Nitro certificate <- cabundle", reason);
  if (rc != TKMS_ATTEST_OK) goto done;
  EVP_PKEY *k = X509_get0_pubkey(leaf);
  if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC || EVP_PKEY_get_bits(k) != 384) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "certificate key is not P-384");
    goto done;
  }
  if (EVP_PKEY_up_ref(k) != 1) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
    goto done;
  }
  *leaf_key = k;
  rc = TKMS_ATTEST_OK;
done:
  sk_X509_pop_free(mid, X509_free);
  X509_free(root);
  X509_free(leaf);
  return rc;
}

int tkms_attest_nitro_verify_pinned(const uint8_t *ev, size_t len, uint64_t at,
                                    const uint8_t root_sha256[32], tkms_attest_claims *out,
                                    char reason[TKMS_ATTEST_REASON_MAX]) {
  if (ev == NULL || len == 0 || len > TKMS_NITRO_MAX_DOC)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "a Nitro document is 1 to %u bytes, not %zu", TKMS_NITRO_MAX_DOC, len);
  tkms_cose_sign1 m;
  if (tkms_cose_sign1_parse(ev, len, &m) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "not a COSE_Sign1 within limits");
  cbor_item_t *payload = NULL;
  EVP_PKEY *key = NULL;
  uint8_t *tbs = NULL;
  size_t tbs_len = 0;
  payload_fields f;
  int rc;
  if (m.alg != TKMS_COSE_ALG_ES384) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "COSE alg %lld, not ES384 (-35)",
                          (long long)m.alg);
    goto done;
  }
  if (m.signature_len != 2 * PCR_BYTES) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "ES384 signature is not 96 bytes");
    goto done;
  }
  payload = tkms_cbor_load(m.payload, m.payload_len);
  if (payload == NULL) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED, "payload is not CBOR within limits");
    goto done;
  }
  if ((rc = parse_payload(payload, &f, reason)) != TKMS_ATTEST_OK) goto done;
  const uint8_t *pcr[TKMS_NITRO_MAX_PCRS];
  if ((rc = pcr_parse(f.pcrs, pcr, reason)) != TKMS_ATTEST_OK) goto done;
  if ((rc = check_chain(&f, at, root_sha256, &key, reason)) != TKMS_ATTEST_OK) goto done;
  if (tkms_cose_sig_structure(&m, &tbs, &tbs_len) != 0) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
    goto done;
  }
  int v = tkms_attest_ecdsa_verify_rs(key, "SHA384", tbs, tbs_len, m.signature, PCR_BYTES,
                                      m.signature + PCR_BYTES, PCR_BYTES);
  if (v != 1) {
    rc = tkms_attest_fail(reason, v < 0 ? TKMS_ATTEST_E_INTERNAL : TKMS_ATTEST_E_SIGNATURE,
                          "COSE_Sign1 signature does not verify with the certificate's key");
    goto done;
  }
  if ((rc = pcr_claims(pcr, out, reason)) != TKMS_ATTEST_OK) goto done;
  uint8_t ts[8];
  for (int i = 0; i < 8; i++) ts[i] = (uint8_t)(f.timestamp >> (56 - 8 * i));
  uint8_t rd[64] = {0};
  int bad = tkms_attest_add_meas(out, "timestamp_ms", ts, 8) != 0 ||
            tkms_attest_add_meas(out, "module_id", f.module_id, f.module_id_len) != 0 ||
            add_bytes_claim(out, "user_data", &f.user_data, rd) != 0 ||
            add_bytes_claim(out, "nonce", &f.nonce, NULL) != 0 ||
            add_bytes_claim(out, "public_key", &f.public_key, NULL) != 0;
  if (bad) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "claims do not fit");
    goto done;
  }
  memcpy(out->report_data, rd, 64);
  out->report_data_len = !f.user_data.present         ? 0
                         : f.user_data.n <= sizeof rd ? f.user_data.n
                                                      : sizeof rd;
  out->tcb_status = TKMS_TCB_NOT_APPLICABLE;
  rc = TKMS_ATTEST_OK;
done:
  free(tbs);
  EVP_PKEY_free(key);
  if (payload != NULL) cbor_decref(&payload);
  tkms_cose_sign1_free(&m);
  return rc;
}

static int nitro_verify(const uint8_t *ev, size_t len, const tkms_attest_collateral *col,
                        uint64_t at, tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  (void)col;
  return tkms_attest_nitro_verify_pinned(ev, len, at, tkms_attest_nitro_root_sha256, out, reason);
}

const tkms_attest_verifier tkms_attest_nitro_verifier = {
    .format = TKMS_ATTEST_NITRO,
    .name = "nitro",
    .detect = nitro_detect,
    .verify = nitro_verify,
};
