/* src/attest/dcap_pck.c — the SGX extension of a PCK certificate (see dcap_pck.h).
 *
 * SgxExtensions ::= SEQUENCE OF SEQUENCE { OID, value }
 *   .1 PPID OCTET STRING(16), .2 TCB SEQUENCE OF SEQUENCE { OID .2.N, INTEGER }
 *   (.2.18 is the CPUSVN OCTET STRING(16)), .3 PCE-ID OCTET STRING(2),
 *   .4 FMSPC OCTET STRING(6), .5 SGX type ENUMERATED, .6 .. .7 optional. */
#include "attest/dcap_pck.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <string.h>

#define SGX_EXT_OID "1.2.840.113741.1.13.1"
#define MAX_MEMBERS 64 /* far more than Intel defines; bounds the walk */

/* The dotted OID of o into buf; 0, or -1 if it does not fit. */
static int oid_text(const ASN1_OBJECT *o, char *buf, size_t n) {
  int r = OBJ_obj2txt(buf, (int)n, o, 1);
  return r > 0 && (size_t)r < n ? 0 : -1;
}

/* Parses a DER SEQUENCE in full (no trailing bytes). */
static STACK_OF(ASN1_TYPE) * seq_parse(const uint8_t *der, size_t len) {
  if (len == 0 || len > 65536) return NULL;
  const unsigned char *p = der;
  STACK_OF(ASN1_TYPE) *s = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
  if (s == NULL) return NULL;
  if (p != der + len || sk_ASN1_TYPE_num(s) > MAX_MEMBERS) {
    sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
    return NULL;
  }
  return s;
}

/* A member SEQUENCE { OID, value }: the OID's dotted text and the value. */
static STACK_OF(ASN1_TYPE) *
    member(const ASN1_TYPE *t, char *oid, size_t oid_n, const ASN1_TYPE **val) {
  if (t->type != V_ASN1_SEQUENCE || t->value.sequence == NULL) return NULL;
  STACK_OF(ASN1_TYPE) *m = seq_parse(t->value.sequence->data, (size_t)t->value.sequence->length);
  if (m == NULL) return NULL;
  const ASN1_TYPE *o = sk_ASN1_TYPE_num(m) == 2 ? sk_ASN1_TYPE_value(m, 0) : NULL;
  if (o == NULL || o->type != V_ASN1_OBJECT || oid_text(o->value.object, oid, oid_n) != 0) {
    sk_ASN1_TYPE_pop_free(m, ASN1_TYPE_free);
    return NULL;
  }
  *val = sk_ASN1_TYPE_value(m, 1);
  return m;
}

static int octets(const ASN1_TYPE *v, uint8_t *out, size_t n) {
  if (v->type != V_ASN1_OCTET_STRING || v->value.octet_string == NULL ||
      (size_t)v->value.octet_string->length != n)
    return -1;
  memcpy(out, v->value.octet_string->data, n);
  return 0;
}

static int integer(const ASN1_TYPE *v, int64_t max, int64_t *out) {
  if (v->type != V_ASN1_INTEGER || v->value.integer == NULL) return -1;
  if (ASN1_INTEGER_get_int64(out, v->value.integer) != 1 || *out < 0 || *out > max) return -1;
  return 0;
}

/* The TCB member: .2.1-.2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN. */
static int parse_tcb(const ASN1_TYPE *v, tkms_dcap_pck_tcb *out) {
  if (v->type != V_ASN1_SEQUENCE || v->value.sequence == NULL) return -1;
  STACK_OF(ASN1_TYPE) *s = seq_parse(v->value.sequence->data, (size_t)v->value.sequence->length);
  if (s == NULL) return -1;
  uint32_t seen = 0;
  int rc = 0;
  for (int i = 0; i < sk_ASN1_TYPE_num(s) && rc == 0; i++) {
    char oid[80];
    const ASN1_TYPE *val;
    STACK_OF(ASN1_TYPE) *m = member(sk_ASN1_TYPE_value(s, i), oid, sizeof oid, &val);
    if (m == NULL) {
      rc = -1;
      break;
    }
    const char *pfx = SGX_EXT_OID ".2.";
    unsigned n = 0;
    int64_t x;
    char tail;
    if (strncmp(oid, pfx, strlen(pfx)) != 0 || sscanf(oid + strlen(pfx), "%u%c", &n, &tail) != 1 ||
        n < 1 || n > 18 || (seen & (1u << n)) != 0) {
      rc = -1;
    } else if (n <= 16) {
      if (integer(val, 255, &x) != 0)
        rc = -1;
      else
        out->comp_svn[n - 1] = (uint8_t)x;
    } else if (n == 17) {
      if (integer(val, 65535, &x) != 0)
        rc = -1;
      else
        out->pcesvn = (uint16_t)x;
    } else if (octets(val, out->cpusvn, 16) != 0) {
      rc = -1;
    }
    seen |= 1u << n;
    sk_ASN1_TYPE_pop_free(m, ASN1_TYPE_free);
  }
  sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
  /* every one of .2.1 .. .2.17 present */
  if (rc == 0 && (seen & 0x3FFFEu) != 0x3FFFEu) rc = -1;
  return rc;
}

int tkms_dcap_pck_tcb_parse(const uint8_t *der, size_t len, tkms_dcap_pck_tcb *out) {
  memset(out, 0, sizeof *out);
  STACK_OF(ASN1_TYPE) *s = seq_parse(der, len);
  if (s == NULL) return -1;
  unsigned seen = 0;
  int rc = 0;
  for (int i = 0; i < sk_ASN1_TYPE_num(s) && rc == 0; i++) {
    char oid[80];
    const ASN1_TYPE *val;
    STACK_OF(ASN1_TYPE) *m = member(sk_ASN1_TYPE_value(s, i), oid, sizeof oid, &val);
    if (m == NULL) {
      rc = -1;
      break;
    }
    unsigned bit = 0;
    if (strcmp(oid, SGX_EXT_OID ".2") == 0) {
      bit = 1;
      rc = parse_tcb(val, out);
    } else if (strcmp(oid, SGX_EXT_OID ".3") == 0) {
      bit = 2;
      rc = octets(val, out->pce_id, 2);
    } else if (strcmp(oid, SGX_EXT_OID ".4") == 0) {
      bit = 4;
      rc = octets(val, out->fmspc, 6);
    }
    if (bit != 0) {
      if (seen & bit) rc = -1;
      seen |= bit;
    }
    sk_ASN1_TYPE_pop_free(m, ASN1_TYPE_free);
  }
  sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
  if (rc == 0 && seen != 7) rc = -1;
  return rc;
}

int tkms_dcap_pck_tcb_read(X509 *leaf, tkms_dcap_pck_tcb *out) {
  ASN1_OBJECT *o = OBJ_txt2obj(SGX_EXT_OID, 1);
  if (o == NULL) return -1;
  int idx = X509_get_ext_by_OBJ(leaf, o, -1);
  /* exactly one SGX extension */
  int dup = idx >= 0 ? X509_get_ext_by_OBJ(leaf, o, idx) : -1;
  ASN1_OBJECT_free(o);
  if (idx < 0 || dup >= 0) return -1;
  X509_EXTENSION *ext = X509_get_ext(leaf, idx);
  const ASN1_OCTET_STRING *v = ext != NULL ? X509_EXTENSION_get_data(ext) : NULL;
  if (v == NULL) return -1;
  return tkms_dcap_pck_tcb_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out);
}
