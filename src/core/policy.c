/* src/core/policy.c — a key's policy: canonical encoding and widening (policy.h). */
#include "core/policy.h"

#include <string.h>

#include "attest/attest.h"

/* The TCB statuses a policy may accept: NotApplicable .. Revoked. NoMatch (no
 * TCB level matched the evidence) is never acceptable, so its bit is refused. */
#define TCB_MASK_ALL ((uint16_t)((1u << (TKMS_TCB_REVOKED + 1)) - 1u))

void tkms_policy_default(tkms_policy *p) {
  memset(p, 0, sizeof *p);
}

/* The measurement length a tee reports; 0 for a tee a policy cannot name. */
static unsigned mlen_for(uint8_t tee) {
  switch (tee) {
    case TKMS_ATTEST_SGX:
      return 32;
    case TKMS_ATTEST_TDX:
    case TKMS_ATTEST_SNP:
    case TKMS_ATTEST_NITRO:
      return 48;
    default:
      return 0;
  }
}

/* Order of entries: (tee, mlen, measurement). */
static int sw_cmp(const tkms_policy_sw *a, const tkms_policy_sw *b) {
  if (a->tee != b->tee) return a->tee < b->tee ? -1 : 1;
  if (a->mlen != b->mlen) return a->mlen < b->mlen ? -1 : 1;
  return memcmp(a->measurement, b->measurement, a->mlen);
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int tkms_policy_decode(const uint8_t *b, size_t n, tkms_policy *p, const char **why) {
  const char *dummy;
  if (why == NULL) why = &dummy;
  tkms_policy_default(p);
  if (n == 0) return 0;
  tkms_policy q;
  tkms_policy_default(&q);
  size_t off = 0;
#define NEED(k, msg)     \
  do {                   \
    if (n - off < (k)) { \
      *why = (msg);      \
      return -1;         \
    }                    \
  } while (0)
  NEED(19, "policy is shorter than its fixed part (19 bytes)");
  if (b[0] != TKMS_POLICY_FORMAT) {
    *why = "unknown policy format (only format 1 exists)";
    return -1;
  }
  q.delay_s = be32(b + 1);
  q.flags = b[5];
  q.rate_per_minute = be32(b + 6);
  q.not_after = be64(b + 10);
  q.n_software = b[18];
  off = 19;
  if (q.delay_s > TKMS_POLICY_MAX_DELAY) {
    *why = "delay_s is above the maximum (one year)";
    return -1;
  }
  if (q.not_after > (uint64_t)INT64_MAX) {
    *why = "not_after is above 2^63 - 1 (JSON integers are signed 64-bit)";
    return -1;
  }
  if ((q.flags & ~TKMS_POLICY_F_REQUIRE_ATTESTATION) != 0) {
    *why = "unknown policy flag bits";
    return -1;
  }
  if (q.n_software > TKMS_POLICY_MAX_SOFTWARE) {
    *why = "too many software entries (at most 8)";
    return -1;
  }
  for (unsigned i = 0; i < q.n_software; i++) {
    tkms_policy_sw *s = &q.software[i];
    NEED(2, "software entry is truncated");
    s->tee = b[off];
    s->mlen = b[off + 1];
    off += 2;
    unsigned want = mlen_for(s->tee);
    if (s->tee == TKMS_ATTEST_TPM2) {
      *why =
          "software entry names tee tpm2, which no policy may list: the core has no root of "
          "trust for a TPM's attestation key (no EK certificate chain is checked)";
      return -1;
    }
    if (want == 0) {
      *why = "software entry names an unknown tee (sgx, tdx, snp, nitro)";
      return -1;
    }
    if (s->mlen != want) {
      *why = "software entry's measurement length does not fit its tee";
      return -1;
    }
    NEED((size_t)s->mlen + 4, "software entry is truncated");
    memcpy(s->measurement, b + off, s->mlen);
    off += s->mlen;
    s->min_svn = (uint16_t)(b[off] << 8 | b[off + 1]);
    s->tcb_mask = (uint16_t)(b[off + 2] << 8 | b[off + 3]);
    off += 4;
    if ((s->tcb_mask & ~TCB_MASK_ALL) != 0) {
      *why = "software entry has unknown TCB status bits";
      return -1;
    }
    if (s->tcb_mask == 0) {
      *why = "software entry accepts no TCB status (tcb_mask 0 lets nothing in)";
      return -1;
    }
    if (i > 0 && sw_cmp(&q.software[i - 1], s) >= 0) {
      *why = "software entries are not strictly sorted (or repeat one)";
      return -1;
    }
  }
#undef NEED
  if (off != n) {
    *why = "trailing bytes after the policy";
    return -1;
  }
  *p = q;
  return 0;
}

size_t tkms_policy_encode(const tkms_policy *p, uint8_t *out, size_t cap) {
  if (cap < TKMS_POLICY_ENC_MAX || p->n_software > TKMS_POLICY_MAX_SOFTWARE) return 0;
  size_t off = 0;
  out[off++] = TKMS_POLICY_FORMAT;
  for (int i = 3; i >= 0; i--) out[off++] = (uint8_t)(p->delay_s >> (8 * i));
  out[off++] = p->flags;
  for (int i = 3; i >= 0; i--) out[off++] = (uint8_t)(p->rate_per_minute >> (8 * i));
  for (int i = 7; i >= 0; i--) out[off++] = (uint8_t)(p->not_after >> (8 * i));
  out[off++] = p->n_software;
  for (unsigned k = 0; k < p->n_software; k++) {
    const tkms_policy_sw *s = &p->software[k];
    if (s->mlen > TKMS_POLICY_MEAS_MAX) return 0;
    out[off++] = s->tee;
    out[off++] = s->mlen;
    memcpy(out + off, s->measurement, s->mlen);
    off += s->mlen;
    out[off++] = (uint8_t)(s->min_svn >> 8);
    out[off++] = (uint8_t)s->min_svn;
    out[off++] = (uint8_t)(s->tcb_mask >> 8);
    out[off++] = (uint8_t)s->tcb_mask;
  }
  return off;
}

int tkms_policy_is_default(const tkms_policy *p) {
  tkms_policy d;
  tkms_policy_default(&d);
  uint8_t a[TKMS_POLICY_ENC_MAX], b[TKMS_POLICY_ENC_MAX];
  size_t na = tkms_policy_encode(p, a, sizeof a), nb = tkms_policy_encode(&d, b, sizeof b);
  return na == nb && memcmp(a, b, na) == 0;
}

/* 1 if `to`'s entry t lets in evidence that no entry of `from` lets in. */
static int sw_widens(const tkms_policy *from, const tkms_policy_sw *t) {
  for (unsigned i = 0; i < from->n_software; i++) {
    const tkms_policy_sw *f = &from->software[i];
    if (f->tee != t->tee || f->mlen != t->mlen || memcmp(f->measurement, t->measurement, f->mlen))
      continue;
    /* Same software: wider if it accepts a lower SVN or a status `from` did not. */
    return t->min_svn < f->min_svn || (t->tcb_mask & ~f->tcb_mask) != 0;
  }
  return 1;
}

int tkms_policy_widens(const tkms_policy *from, const tkms_policy *to) {
  if (to->delay_s < from->delay_s) return 1;
  if ((from->flags & TKMS_POLICY_F_REQUIRE_ATTESTATION) &&
      !(to->flags & TKMS_POLICY_F_REQUIRE_ATTESTATION))
    return 1;
  /* 0 = unlimited: removing a limit widens, adding one narrows. */
  if (from->rate_per_minute != 0 &&
      (to->rate_per_minute == 0 || to->rate_per_minute > from->rate_per_minute))
    return 1;
  if (from->not_after != 0 && (to->not_after == 0 || to->not_after > from->not_after)) return 1;
  for (unsigned i = 0; i < to->n_software; i++) {
    if (sw_widens(from, &to->software[i])) return 1;
  }
  return 0;
}
