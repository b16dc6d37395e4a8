/* src/attest/snp.c — AMD SEV-SNP attestation report (see snp.h).
 *
 * Report layout (AMD SEV-SNP ABI spec 56860, table "ATTESTATION_REPORT"; all
 * integers little-endian): version 0x00 u32, guest_svn 0x04 u32, policy 0x08 u64
 * (bit 19 DEBUG), family_id 0x10, image_id 0x20, vmpl 0x30 u32, signature_algo
 * 0x34 u32 (1 = ECDSA P-384 SHA-384), current_tcb 0x38, platform_info 0x40,
 * flags 0x48 u32 (bits 2-4 signing key: 0 VCEK, 1 VLEK), report_data 0x50 (64),
 * measurement 0x90 (48), host_data 0xC0 (32), id_key_digest 0xE0 (48),
 * author_key_digest 0x110 (48), report_id 0x140, report_id_ma 0x160,
 * reported_tcb 0x180 u64, chip_id 0x1A0 (64), signature 0x2A0: R 72 bytes and
 * S 72 bytes, little-endian, of which only the low 48 bytes may be non-zero.
 * The signature covers 0x000-0x29F.
 *
 * A TCB version (Milan, Genoa) is 8 bytes: [0] boot loader, [1] TEE, [2..5]
 * reserved, [6] SNP firmware, [7] microcode. Turin lays it out differently; no
 * Turin ARK is pinned, so a Turin report stops at the root check. */
#include "attest/snp.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "attest/x509chain.h"

/* SHA-256 of the DER SubjectPublicKeyInfo of AMD's ARK-Milan and ARK-Genoa
 * (RSA-4096), computed from go-sev-guest's verify/trust/ask_ark_{milan,genoa}.pem:
 *   openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum
 * The public key is the anchor: AMD may re-issue the ARK certificate. */
static const tkms_snp_ark_pin amd_arks[] = {
    {"Milan", {0x9f, 0x05, 0x6b, 0xee, 0x44, 0x37, 0x7e, 0x29, 0x30, 0x8c, 0xb5,
               0xff, 0xa8, 0x95, 0xbd, 0xfb, 0x62, 0xd1, 0x88, 0x81, 0xfa, 0x6b,
               0xed, 0x8d, 0x6f, 0x07, 0x5b, 0x02, 0x04, 0x08, 0x9c, 0xb9}},
    {"Genoa", {0x42, 0x9a, 0x69, 0xc9, 0x42, 0x2a, 0xa2, 0x58, 0xee, 0x4d, 0x8d,
               0xb5, 0xfc, 0xda, 0x9c, 0x64, 0x70, 0xef, 0x15, 0xf8, 0xcd, 0x5a,
               0x9c, 0xeb, 0xd6, 0xcb, 0xc7, 0xd9, 0x0b, 0x86, 0x38, 0x31}},
};

#define OFF_VERSION 0x00u
#define OFF_GUEST_SVN 0x04u
#define OFF_POLICY 0x08u
#define OFF_FAMILY_ID 0x10u
#define OFF_IMAGE_ID 0x20u
#define OFF_VMPL 0x30u
#define OFF_SIG_ALGO 0x34u
#define OFF_FLAGS 0x48u
#define OFF_REPORT_DATA 0x50u
#define OFF_MEASUREMENT 0x90u
#define OFF_HOST_DATA 0xC0u
#define OFF_ID_KEY_DIGEST 0xE0u
#define OFF_AUTHOR_KEY_DIGEST 0x110u
#define OFF_REPORTED_TCB 0x180u
#define OFF_CHIP_ID 0x1A0u
#define OFF_SIG_R 0x2A0u
#define OFF_SIG_S 0x2E8u
#define SIG_COMPONENT 72u
#define P384_BYTES 48u

#define SNP_MIN_VERSION 2u
#define SNP_MAX_VERSION 5u
#define SNP_SIG_ECDSA_P384_SHA384 1u

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
  return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void be_bytes(uint64_t v, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

const char *tkms_attest_snp_pinned_product(const uint8_t spki_sha256[32]) {
  for (size_t i = 0; i < sizeof amd_arks / sizeof amd_arks[0]; i++) {
    if (memcmp(amd_arks[i].spki_sha256, spki_sha256, 32) == 0) return amd_arks[i].product;
  }
  return NULL;
}

static int snp_detect(const uint8_t *ev, size_t len) {
  if (len != TKMS_SNP_REPORT_BYTES) return 0;
  uint32_t v = le32(ev + OFF_VERSION);
  return v >= SNP_MIN_VERSION && v <= SNP_MAX_VERSION &&
         le32(ev + OFF_SIG_ALGO) == SNP_SIG_ECDSA_P384_SHA384;
}

/* The extension's content (the OCTET STRING value), if it occurs exactly once. */
static const ASN1_OCTET_STRING *ext_data(X509 *x, const char *oid, int *dup) {
  *dup = 0;
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  if (obj == NULL) return NULL;
  int i = X509_get_ext_by_OBJ(x, obj, -1);
  if (i >= 0 && X509_get_ext_by_OBJ(x, obj, i) >= 0) *dup = 1;
  ASN1_OBJECT_free(obj);
  if (i < 0 || *dup) return NULL;
  X509_EXTENSION *e = X509_get_ext(x, i);
  return e != NULL ? X509_EXTENSION_get_data(e) : NULL;
}

/* A VCEK TCB extension: a DER INTEGER 0..255. 0 or -1. */
static int ext_tcb_byte(X509 *x, const char *oid, uint8_t *out) {
  int dup;
  const ASN1_OCTET_STRING *d = ext_data(x, oid, &dup);
  if (d == NULL) return -1;
  const unsigned char *p = ASN1_STRING_get0_data(d);
  int n = ASN1_STRING_length(d);
  const unsigned char *end = p + n;
  ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, n);
  int64_t v = -1;
  int ok = ai != NULL && p == end && ASN1_INTEGER_get_int64(&v, ai) == 1 && v >= 0 && v <= 255;
  ASN1_INTEGER_free(ai);
  ERR_clear_error();
  if (!ok) return -1;
  *out = (uint8_t)v;
  return 0;
}

static const struct {
  const char *oid;
  const char *name;
  unsigned tcb_byte; /* position in the 8-byte TCB version */
} tcb_exts[] = {
    {"1.3.6.1.4.1.3704.1.3.1", "bootloader", 0},
    {"1.3.6.1.4.1.3704.1.3.2", "tee", 1},
    {"1.3.6.1.4.1.3704.1.3.3", "snp", 6},
    {"1.3.6.1.4.1.3704.1.3.8", "microcode", 7},
};
#define OID_HWID "1.3.6.1.4.1.3704.1.4"
#define OID_PRODUCT "1.3.6.1.4.1.3704.1.2"

static int check_tcb(X509 *vcek, const uint8_t *report, char reason[TKMS_ATTEST_REASON_MAX]) {
  const uint8_t *tcb = report + OFF_REPORTED_TCB;
  for (size_t i = 0; i < sizeof tcb_exts / sizeof tcb_exts[0]; i++) {
    uint8_t v;
    if (ext_tcb_byte(vcek, tcb_exts[i].oid, &v) != 0)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                              "VCEK: %s TCB extension %s missing or malformed", tcb_exts[i].name,
                              tcb_exts[i].oid);
    if (v != tcb[tcb_exts[i].tcb_byte])
      return tkms_attest_fail(reason, TKMS_ATTEST_E_TCB_MISMATCH,
                              "VCEK %s SVN %u differs from the report's REPORTED_TCB %u: the "
                              "VCEK was issued for another TCB",
                              tcb_exts[i].name, v, tcb[tcb_exts[i].tcb_byte]);
  }
  int dup;
  const ASN1_OCTET_STRING *hw = ext_data(vcek, OID_HWID, &dup);
  if (hw == NULL || ASN1_STRING_length(hw) != 64)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                            "VCEK: hwid extension missing or not 64 bytes");
  if (memcmp(ASN1_STRING_get0_data(hw), report + OFF_CHIP_ID, 64) != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_TCB_MISMATCH,
                            "VCEK hwid differs from the report's CHIP_ID: the VCEK belongs to "
                            "another chip");
  return TKMS_ATTEST_OK;
}

int tkms_attest_snp_check_vcek_tcb(const uint8_t *vcek, size_t vcek_len, const uint8_t *report,
                                   char reason[TKMS_ATTEST_REASON_MAX]) {
  X509 *x = tkms_attest_x509_load_one(vcek, vcek_len);
  if (x == NULL) return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "vcek does not parse");
  int rc = check_tcb(x, report, reason);
  X509_free(x);
  return rc;
}

/* The VCEK's productName ("Milan-B0") must name the product of the ARK it chains to. */
static int check_product(X509 *vcek, const char *product, char reason[TKMS_ATTEST_REASON_MAX]) {
  int dup;
  const ASN1_OCTET_STRING *d = ext_data(vcek, OID_PRODUCT, &dup);
  if (d == NULL && !dup) return TKMS_ATTEST_OK; /* older VCEKs may lack it */
  if (d == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "VCEK: productName repeated");
  const unsigned char *p = ASN1_STRING_get0_data(d);
  int n = ASN1_STRING_length(d);
  ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &p, n);
  size_t pl = strlen(product);
  int ok = s != NULL && (size_t)ASN1_STRING_length(s) >= pl &&
           memcmp(ASN1_STRING_get0_data(s), product, pl) == 0 &&
           ((size_t)ASN1_STRING_length(s) == pl || ASN1_STRING_get0_data(s)[pl] == '-');
  ASN1_IA5STRING_free(s);
  ERR_clear_error();
  if (!ok)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_CHAIN,
                            "VCEK productName does not name the ARK's product %s", product);
  return TKMS_ATTEST_OK;
}

static int verify_report_sig(X509 *vcek, const uint8_t *ev, char reason[TKMS_ATTEST_REASON_MAX]) {
  EVP_PKEY *pub = X509_get0_pubkey(vcek);
  if (pub == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC || EVP_PKEY_get_bits(pub) != 384)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "VCEK key is not ECDSA P-384");
  uint8_t r[P384_BYTES], s[P384_BYTES];
  for (size_t i = 0; i < P384_BYTES; i++) { /* little-endian to big-endian */
    r[i] = ev[OFF_SIG_R + P384_BYTES - 1 - i];
    s[i] = ev[OFF_SIG_S + P384_BYTES - 1 - i];
  }
  int v = tkms_attest_ecdsa_verify_rs(pub, "SHA384", ev, TKMS_SNP_SIGNED_BYTES, r, sizeof r, s,
                                      sizeof s);
  if (v < 0) return tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "ECDSA verification failed");
  if (v == 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_SIGNATURE,
                            "report signature does not verify with the VCEK");
  return TKMS_ATTEST_OK;
}

static int add_claims(const uint8_t *ev, tkms_attest_claims *out) {
  uint8_t b[8];
  int bad = 0;
  bad |= tkms_attest_add_meas(out, "measurement", ev + OFF_MEASUREMENT, 48);
  bad |= tkms_attest_add_meas(out, "host_data", ev + OFF_HOST_DATA, 32);
  be_bytes(le64(ev + OFF_POLICY), b, 8);
  bad |= tkms_attest_add_meas(out, "policy", b, 8);
  be_bytes(le32(ev + OFF_GUEST_SVN), b, 4);
  bad |= tkms_attest_add_meas(out, "guest_svn", b, 4);
  be_bytes(le32(ev + OFF_VMPL), b, 4);
  bad |= tkms_attest_add_meas(out, "vmpl", b, 4);
  be_bytes(le64(ev + OFF_REPORTED_TCB), b, 8);
  bad |= tkms_attest_add_meas(out, "reported_tcb", b, 8);
  bad |= tkms_attest_add_meas(out, "chip_id", ev + OFF_CHIP_ID, 64);
  bad |= tkms_attest_add_meas(out, "family_id", ev + OFF_FAMILY_ID, 16);
  bad |= tkms_attest_add_meas(out, "image_id", ev + OFF_IMAGE_ID, 16);
  bad |= tkms_attest_add_meas(out, "id_key_digest", ev + OFF_ID_KEY_DIGEST, 48);
  bad |= tkms_attest_add_meas(out, "author_key_digest", ev + OFF_AUTHOR_KEY_DIGEST, 48);
  memcpy(out->report_data, ev + OFF_REPORT_DATA, 64);
  out->report_data_len = 64;
  out->debug = (le64(ev + OFF_POLICY) & TKMS_SNP_POLICY_DEBUG) != 0;
  out->tcb_status = TKMS_TCB_NOT_APPLICABLE;
  return bad ? -1 : 0;
}

int tkms_attest_snp_verify_pinned(const uint8_t *ev, size_t len, const tkms_attest_collateral *col,
                                  uint64_t at, const tkms_snp_ark_pin *pins, size_t n_pins,
                                  tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  if (ev == NULL || len != TKMS_SNP_REPORT_BYTES)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                            "an SEV-SNP report is %u bytes, not %zu", TKMS_SNP_REPORT_BYTES, len);
  uint32_t version = le32(ev + OFF_VERSION);
  if (version < SNP_MIN_VERSION || version > SNP_MAX_VERSION)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "report version %u", version);
  if (le32(ev + OFF_SIG_ALGO) != SNP_SIG_ECDSA_P384_SHA384)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED, "signature algorithm %u",
                            le32(ev + OFF_SIG_ALGO));
  unsigned signing_key = (le32(ev + OFF_FLAGS) >> 2) & 7u;
  if (signing_key != 0)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_UNSUPPORTED,
                            "report signed by key %u; only VCEK-signed (0) reports are verified",
                            signing_key);
  for (size_t i = P384_BYTES; i < SIG_COMPONENT; i++) {
    if (ev[OFF_SIG_R + i] != 0 || ev[OFF_SIG_S + i] != 0)
      return tkms_attest_fail(reason, TKMS_ATTEST_E_MALFORMED,
                              "signature R or S has bytes beyond P-384 size");
  }

  const tkms_attest_item *iv = tkms_attest_collateral_get(col, "vcek");
  const tkms_attest_item *ic = tkms_attest_collateral_get(col, "ask_ark");
  if (iv == NULL || ic == NULL)
    return tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                            "collateral \"vcek\" and \"ask_ark\" are required");
  X509 *vcek = tkms_attest_x509_load_one(iv->data, iv->len);
  STACK_OF(X509) *chain = NULL;
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  X509 *ark = NULL;
  const char *product = NULL;
  int rc;
  if (untrusted == NULL) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
    goto done;
  }
  if (vcek == NULL) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "collateral vcek does not parse");
    goto done;
  }
  if (tkms_attest_x509_load_pem_chain(ic->data, ic->len, &chain) != 0) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL,
                          "collateral ask_ark holds no PEM certificate");
    goto done;
  }
  /* The ARK is the certificate whose key is pinned; the others are intermediates. */
  for (int i = 0; i < sk_X509_num(chain); i++) {
    X509 *x = sk_X509_value(chain, i);
    uint8_t h[32];
    if (tkms_attest_x509_spki_sha256(x, h) != 0) {
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_COLLATERAL, "ask_ark: unreadable key");
      goto done;
    }
    const char *prod = NULL;
    for (size_t k = 0; k < n_pins && prod == NULL; k++) {
      if (memcmp(pins[k].spki_sha256, h, 32) == 0) prod = pins[k].product;
    }
    if (prod != NULL && ark == NULL) {
      ark = x;
      product = prod;
    } else if (sk_X509_push(untrusted, x) <= 0) {
      rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "out of memory");
      goto done;
    }
  }
  if (ark == NULL) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_ROOT,
                          "no certificate in ask_ark carries a pinned AMD root key (ARK)");
    goto done;
  }
  if ((rc = check_product(vcek, product, reason)) != TKMS_ATTEST_OK) goto done;
  rc = tkms_attest_x509_verify_chain(vcek, untrusted, ark, at, "VCEK <- ASK <- ARK", reason);
  if (rc != TKMS_ATTEST_OK) goto done;
  if ((rc = verify_report_sig(vcek, ev, reason)) != TKMS_ATTEST_OK) goto done;
  if ((rc = check_tcb(vcek, ev, reason)) != TKMS_ATTEST_OK) goto done;
  if (add_claims(ev, out) != 0) {
    rc = tkms_attest_fail(reason, TKMS_ATTEST_E_INTERNAL, "claims do not fit");
    goto done;
  }
  rc = TKMS_ATTEST_OK;
done:
  sk_X509_free(untrusted); /* borrowed pointers */
  sk_X509_pop_free(chain, X509_free);
  X509_free(vcek);
  return rc;
}

static int snp_verify(const uint8_t *ev, size_t len, const tkms_attest_collateral *col, uint64_t at,
                      tkms_attest_claims *out, char reason[TKMS_ATTEST_REASON_MAX]) {
  return tkms_attest_snp_verify_pinned(ev, len, col, at, amd_arks,
                                       sizeof amd_arks / sizeof amd_arks[0], out, reason);
}

const tkms_attest_verifier tkms_attest_snp_verifier = {
    .format = TKMS_ATTEST_SNP,
    .name = "snp",
    .detect = snp_detect,
    .verify = snp_verify,
};
