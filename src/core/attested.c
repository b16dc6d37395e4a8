/* src/core/attested.c — attested sessions and attestation-gated key use
 * (see attested.h; handlers for ATTEST_CHALLENGE and SESSION_OPEN_ATTESTED). */
#include "core/attested.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/dcap.h"
#include "core/op.h"
#include "core/sessions.h"
#include "core/txn.h"
#include "proto/hex.h"

/* ---- pure helpers ---------------------------------------------------------- */

int tkms_measurement_principal(uint8_t tee, const uint8_t *m, size_t mlen,
                               char out[TKMS_MAX_PRINCIPAL + 1]) {
  const char *name = tkms_attest_format_name(tee);
  if (name == NULL || tee == TKMS_ATTEST_AUTO || (mlen != 32 && mlen != 48)) return -1;
  int n = snprintf(out, TKMS_MAX_PRINCIPAL + 1, "measurement:%s:0x", name);
  if (n < 0 || (size_t)n + 2 * mlen > TKMS_MAX_PRINCIPAL) return -1;
  for (size_t i = 0; i < mlen; i++) snprintf(out + n + 2 * i, 3, "%02x", m[i]);
  return 0;
}

void tkms_attested_report_data(const uint8_t salt[32], const uint8_t nonce[32],
                               const char *session_key, uint8_t out[64]) {
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, (const uint8_t *)TKMS_ATTESTED_LABEL,
                            sizeof TKMS_ATTESTED_LABEL - 1);
  crypto_hash_sha512_update(&st, salt, 32);
  crypto_hash_sha512_update(&st, nonce, 32);
  crypto_hash_sha512_update(&st, (const uint8_t *)session_key, strlen(session_key));
  crypto_hash_sha512_final(&st, out);
}

static const tkms_attest_meas *meas_get(const tkms_attest_claims *c, const char *name) {
  for (size_t i = 0; i < c->n_meas; i++) {
    if (strcmp(c->meas[i].name, name) == 0) return &c->meas[i];
  }
  return NULL;
}

const char *tkms_attested_format_refusal(int format) {
  switch (format) {
    case TKMS_ATTEST_TPM2:
      return "tpm2 evidence cannot open an attested session: the core has no root of trust "
             "for a TPM's attestation key (no EK certificate chain is checked), so anyone "
             "could make such evidence";
    case TKMS_ATTEST_SIM:
      return "sim evidence cannot open an attested session: it is always debug and has no "
             "root of trust";
    default:
      return NULL;
  }
}

/* The TDX identity: SHA-384(MRTD || RTMR0..3 || MRCONFIGID || MROWNER ||
 * MROWNERCONFIG), each 48 bytes as in the TD report. */
static int tdx_identity(const tkms_attest_claims *c, uint8_t out[48]) {
  static const char *const order[] = {"mrtd",  "rtmr0",      "rtmr1",   "rtmr2",
                                      "rtmr3", "mrconfigid", "mrowner", "mrownerconfig"};
  uint8_t buf[8 * 48];
  for (size_t i = 0; i < 8; i++) {
    const tkms_attest_meas *m = meas_get(c, order[i]);
    if (m == NULL || m->len != 48) return -1;
    memcpy(buf + 48 * i, m->value, 48);
  }
  unsigned int n = 0;
  int ok = EVP_Digest(buf, sizeof buf, out, &n, EVP_sha384(), NULL);
  return ok == 1 && n == 48 ? 0 : -1;
}

int tkms_attested_claims_from(const tkms_attest_claims *c, tkms_att_claims *out, const char **why) {
  static const struct {
    int format;
    const char *meas, *svn;
    size_t mlen;
  } names[] = {
      {TKMS_ATTEST_SGX, "mrenclave", "isvsvn", 32},
      {TKMS_ATTEST_TDX, NULL, NULL, 48}, /* tdx_identity */
      {TKMS_ATTEST_SNP, "measurement", "guest_svn", 48},
      {TKMS_ATTEST_NITRO, "pcr0", NULL, 48},
  };
  memset(out, 0, sizeof *out);
  const char *refusal = tkms_attested_format_refusal(c->format);
  if (refusal != NULL) {
    *why = refusal;
    return -1;
  }
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (names[i].format != c->format) continue;
    if (names[i].meas == NULL) {
      if (tdx_identity(c, out->meas) != 0) {
        *why =
            "the evidence lacks a TD measurement register (mrtd, rtmr0-3, mrconfigid, "
            "mrowner, mrownerconfig)";
        return -1;
      }
      out->mlen = 48;
    } else {
      const tkms_attest_meas *m = meas_get(c, names[i].meas);
      if (m == NULL || m->len != names[i].mlen) {
        *why = "the evidence lacks the measurement a key policy names";
        return -1;
      }
      out->mlen = (uint8_t)m->len;
      memcpy(out->meas, m->value, m->len);
    }
    out->tee = (uint8_t)c->format;
    if (names[i].svn != NULL) {
      const tkms_attest_meas *s = meas_get(c, names[i].svn);
      if (s == NULL || s->len < 2 || s->len > 8) {
        *why = "the evidence lacks its security version number";
        return -1;
      }
      /* big-endian; the low 16 bits */
      out->svn = (uint16_t)(s->value[s->len - 2] << 8 | s->value[s->len - 1]);
    }
    out->tcb_status = (uint8_t)c->tcb_status;
    out->debug = c->debug != 0;
    out->verified_at = c->verified_at;
    return 0;
  }
  *why = "this evidence format cannot open an attested session";
  return -1;
}

int tkms_attested_policy_check(const tkms_policy *p, const tkms_att_claims *c, char *why,
                               size_t cap) {
  if (c->debug) {
    snprintf(why, cap, "debug software may never use a key");
    return TKMS_E_DEBUG_NOT_ALLOWED;
  }
  const tkms_policy_sw *e = NULL;
  for (size_t i = 0; i < p->n_software && i < TKMS_POLICY_MAX_SOFTWARE; i++) {
    const tkms_policy_sw *s = &p->software[i];
    if (s->tee == c->tee && s->mlen == c->mlen && memcmp(s->measurement, c->meas, c->mlen) == 0) {
      e = s;
      break;
    }
  }
  if (e == NULL) {
    snprintf(why, cap, "the key's policy does not list this %s measurement",
             tkms_attest_format_name(c->tee) ? tkms_attest_format_name(c->tee) : "?");
    return TKMS_E_MEASUREMENT_NOT_ALLOWED;
  }
  if (c->svn < e->min_svn) {
    snprintf(why, cap, "svn %u is below the policy's minimum %u", c->svn, e->min_svn);
    return TKMS_E_SVN_TOO_LOW;
  }
  if (c->tcb_status >= 16 || (e->tcb_mask & (1u << c->tcb_status)) == 0) {
    const char *t = tkms_attest_tcb_name(c->tcb_status);
    snprintf(why, cap, "TCB status %s is not acceptable to the key's policy", t ? t : "?");
    return TKMS_E_TCB_STATUS_NOT_ALLOWED;
  }
  return TKMS_OK;
}

/* ---- challenges ------------------------------------------------------------ */

typedef struct {
  uint8_t nonce[32];
  uint64_t expires_at; /* 0 = free slot */
} challenge;

struct tkms_challenges {
  pthread_mutex_t mu;
  challenge slot[TKMS_MAX_CHALLENGES];
};

tkms_challenges *tkms_challenges_new(void) {
  tkms_challenges *ch = calloc(1, sizeof *ch);
  if (ch == NULL) return NULL;
  if (pthread_mutex_init(&ch->mu, NULL) != 0) {
    free(ch);
    return NULL;
  }
  return ch;
}

void tkms_challenges_free(tkms_challenges *ch) {
  if (ch == NULL) return;
  pthread_mutex_destroy(&ch->mu);
  free(ch);
}

int tkms_challenge_issue(tkms_challenges *ch, uint64_t now, uint8_t nonce[32],
                         uint64_t *expires_at) {
  int rc = -1;
  pthread_mutex_lock(&ch->mu);
  for (size_t i = 0; i < TKMS_MAX_CHALLENGES; i++) {
    challenge *s = &ch->slot[i];
    if (s->expires_at != 0 && s->expires_at >= now) continue;
    randombytes_buf(s->nonce, 32);
    s->expires_at = now + TKMS_CHALLENGE_TTL;
    memcpy(nonce, s->nonce, 32);
    *expires_at = s->expires_at;
    rc = 0;
    break;
  }
  pthread_mutex_unlock(&ch->mu);
  return rc;
}

int tkms_challenge_consume(tkms_challenges *ch, const uint8_t nonce[32], uint64_t now) {
  int rc = -1;
  pthread_mutex_lock(&ch->mu);
  for (size_t i = 0; i < TKMS_MAX_CHALLENGES; i++) {
    challenge *s = &ch->slot[i];
    if (s->expires_at == 0 || sodium_memcmp(s->nonce, nonce, 32) != 0) continue;
    rc = s->expires_at >= now ? 0 : -1;
    sodium_memzero(s, sizeof *s);
    break;
  }
  pthread_mutex_unlock(&ch->mu);
  return rc;
}

/* ---- ATTEST_CHALLENGE -------------------------------------------------------- */

int tkms_attest_challenge(tkms_op *op) {
  uint8_t nonce[32];
  uint64_t exp;
  if (op->core->challenges == NULL)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the challenge store is missing");
  if (tkms_challenge_issue(op->core->challenges, op->now, nonce, &exp) != 0)
    return tkms_op_fail(op, TKMS_E_LIMIT, "%u attestation challenges are live; retry later",
                        TKMS_MAX_CHALLENGES);
  tkms_fw_bytes(op->resp, TKMS_F_NONCE, nonce, sizeof nonce);
  tkms_fw_u64(op->resp, TKMS_F_EXPIRY, exp);
  return TKMS_OK;
}

/* ---- SESSION_OPEN_ATTESTED ----------------------------------------------------- */

static int parse_format(const char *s) {
  for (int f = TKMS_ATTEST_SGX; tkms_attest_format_name(f) != NULL; f++) {
    if (strcmp(s, tkms_attest_format_name(f)) == 0) return f;
  }
  return -1;
}

/* Collects F_COLLATERAL items (u8 name_len | name | data) into items/names. */
static int parse_collateral(tkms_op *op, tkms_attest_item *items,
                            char names[][TKMS_ATTEST_MEAS_NAME + 9], size_t *n_items) {
  tkms_field_iter it;
  tkms_field_iter_init(&it, op->req);
  uint8_t tag;
  const uint8_t *v;
  size_t len, n = 0;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_COLLATERAL) continue;
    if (n == TKMS_MAX_COLLATERAL_ITEMS)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "collateral has more than %u items",
                          TKMS_MAX_COLLATERAL_ITEMS);
    size_t nl = len > 0 ? v[0] : 0;
    if (nl == 0 || nl > 32 || len < 1 + nl || len - 1 - nl > TKMS_MAX_COLLATERAL_ITEM)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                          "a collateral item must have a name of 1..32 characters and at most "
                          "%u bytes",
                          TKMS_MAX_COLLATERAL_ITEM);
    for (size_t i = 0; i < nl; i++) {
      char ch = (char)v[1 + i];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                            "collateral item names are lower case letters, digits and _");
    }
    memcpy(names[n], v + 1, nl);
    names[n][nl] = '\0';
    for (size_t i = 0; i < n; i++) {
      if (strcmp(names[i], names[n]) == 0)
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "collateral item %s is given twice", names[n]);
    }
    items[n].name = names[n];
    items[n].data = v + 1 + nl;
    items[n].len = len - 1 - nl;
    n++;
  }
  *n_items = n;
  return TKMS_OK;
}

/* Fields are checked here; the checks that need the evidence come in the handler. */
int tkms_session_open_attested_parse(tkms_op *op) {
  const tkms_frame *f = op->req;
  char s[TKMS_MAX_PRINCIPAL + 1];
  if (tkms_frame_count(f, TKMS_F_ATT_FORMAT) != 1 ||
      tkms_frame_get_str(f, TKMS_F_ATT_FORMAT, s, 16) != 0 || parse_format(s) < 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "format must be sgx, tdx, snp or nitro");
  const char *refusal = tkms_attested_format_refusal(parse_format(s));
  if (refusal != NULL) return tkms_op_fail(op, TKMS_E_UNSUPPORTED, "%s", refusal);
  const uint8_t *v;
  size_t n;
  if (tkms_frame_count(f, TKMS_F_EVIDENCE) != 1 ||
      tkms_frame_get(f, TKMS_F_EVIDENCE, &v, &n) != 0 || n == 0 || n > TKMS_MAX_EVIDENCE)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "evidence (1..%u bytes) is required",
                        TKMS_MAX_EVIDENCE);
  if (tkms_frame_count(f, TKMS_F_NONCE) != 1 || tkms_frame_get(f, TKMS_F_NONCE, &v, &n) != 0 ||
      n != 32)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "nonce (32 bytes, from a challenge) is required");
  if (tkms_frame_count(f, TKMS_F_SESSION_KEY) != 1 ||
      tkms_frame_get_str(f, TKMS_F_SESSION_KEY, s, TKMS_MAX_PRINCIPAL) != 0 ||
      tkms_principal_parse(s, &op->session_key) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "session_key must be a principal: eoa:0x<40 lowercase hex> or "
                        "ed25519:0x<64 lowercase hex>");
  if (tkms_frame_count(f, TKMS_F_EXPIRY) != 1 ||
      tkms_frame_get_u64(f, TKMS_F_EXPIRY, &op->expiry) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "expiry (unix seconds) is required");
  if (op->expiry <= op->now)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "expiry is not in the future");
  if (op->expiry - op->now > TKMS_MAX_ATTESTED_TTL)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "expiry is more than %u s ahead (the longest attested session)",
                        TKMS_MAX_ATTESTED_TTL);
  size_t k = tkms_frame_count(f, TKMS_F_SCOPE_KEY);
  if (k == 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "key_ids must list at least one key whose policy allows the software");
  if (k > TKMS_MAX_SCOPE_KEYS)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "key_ids lists more than %u keys",
                        TKMS_MAX_SCOPE_KEYS);
  op->n_scope_keys = k;
  return TKMS_OK;
}

/* Verifies the evidence at op->now: the pinned roots first and, on a sim core
 * started with a test root, DCAP evidence against that root too. */
static int verify_evidence(tkms_op *op, int format, tkms_att_claims *out) {
  const uint8_t *ev;
  size_t ev_len, n_items = 0;
  tkms_frame_get(op->req, TKMS_F_EVIDENCE, &ev, &ev_len);
  tkms_attest_item items[TKMS_MAX_COLLATERAL_ITEMS];
  char names[TKMS_MAX_COLLATERAL_ITEMS][TKMS_ATTEST_MEAS_NAME + 9];
  int st = parse_collateral(op, items, names, &n_items);
  if (st != TKMS_OK) return st;
  tkms_attest_collateral col = {items, n_items};
  tkms_attest_claims *c = calloc(1, sizeof *c);
  if (c == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  char reason[TKMS_ATTEST_REASON_MAX] = "";
  int rc = tkms_attest_verify(format, ev, ev_len, &col, op->now, c, reason);
  if (rc == TKMS_ATTEST_E_ROOT && op->core->has_test_root &&
      (format == TKMS_ATTEST_SGX || format == TKMS_ATTEST_TDX)) {
    memset(c, 0, sizeof *c);
    rc = tkms_dcap_verify(format == TKMS_ATTEST_TDX, op->core->test_root, ev, ev_len, &col, op->now,
                          c, reason);
    c->format = format;
    c->verified_at = op->now;
  }
  if (rc != TKMS_ATTEST_OK) {
    const char *name = tkms_attest_error_name(rc);
    free(c);
    return tkms_op_fail(op, TKMS_E_EVIDENCE_INVALID, "evidence refused (%s): %s", name ? name : "?",
                        reason);
  }
  const char *why = "?";
  /* The report data is checked before the claims are used for anything. */
  uint8_t salt_nonce_rd[64];
  const uint8_t *nonce;
  size_t nl;
  tkms_frame_get(op->req, TKMS_F_NONCE, &nonce, &nl);
  tkms_attested_report_data(op->core->dep.salt, nonce, op->session_key.text, salt_nonce_rd);
  if (c->report_data_len != 64 || sodium_memcmp(c->report_data, salt_nonce_rd, 64) != 0) {
    free(c);
    return tkms_op_fail(op, TKMS_E_SESSION_KEY_NOT_BOUND,
                        "the evidence's report data does not bind this session key and nonce "
                        "(SHA-512 of \"%s\" || salt || nonce || session_key)",
                        TKMS_ATTESTED_LABEL);
  }
  int dbg = c->debug;
  rc = tkms_attested_claims_from(c, out, &why);
  free(c);
  if (dbg) return tkms_op_fail(op, TKMS_E_DEBUG_NOT_ALLOWED, "the evidence is from debug software");
  if (rc != 0) return tkms_op_fail(op, TKMS_E_UNSUPPORTED, "%s", why);
  return TKMS_OK;
}

typedef struct {
  uint64_t now;
  size_t n;
} attested_count;

/* Live (unexpired) attested sessions; expired ones are swept later. */
static void count_attested(const tkms_rec *r, void *arg) {
  attested_count *a = arg;
  if (r->type == TKMS_REC_SESSION && r->u.session.attested && r->u.session.expiry > a->now) a->n++;
}

int tkms_session_open_attested(tkms_op *op) {
  tkms_core *c = op->core;
  const uint8_t *nonce;
  size_t nl;
  char s[16];
  tkms_frame_get(op->req, TKMS_F_NONCE, &nonce, &nl);
  if (c->challenges == NULL || tkms_challenge_consume(c->challenges, nonce, op->now) != 0)
    return tkms_op_fail(op, TKMS_E_STALE_NONCE,
                        "the nonce is unknown, already used or expired: get a new challenge");
  tkms_frame_get_str(op->req, TKMS_F_ATT_FORMAT, s, sizeof s - 1);
  int format = parse_format(s);
  tkms_att_claims cl;
  int st = verify_evidence(op, format, &cl);
  if (st != TKMS_OK) return st;
  if (tkms_index_count(&c->index, TKMS_REC_SESSION) >= TKMS_MAX_SESSIONS)
    return tkms_op_fail(op, TKMS_E_LIMIT, "this deployment has %u live sessions, the maximum",
                        TKMS_MAX_SESSIONS);
  attested_count live = {op->now, 0};
  tkms_index_each(&c->index, count_attested, &live);
  if (live.n >= TKMS_MAX_ATTESTED_SESSIONS)
    return tkms_op_fail(op, TKMS_E_LIMIT,
                        "this deployment has %u attested sessions, the maximum (they expire "
                        "within %u s)",
                        TKMS_MAX_ATTESTED_SESSIONS, TKMS_MAX_ATTESTED_TTL);
  tkms_rec *r = tkms_rec_new(op->n_scope_keys);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  /* The listed keys: each must exist and allow these claims now. */
  tkms_field_iter it;
  tkms_field_iter_init(&it, op->req);
  uint8_t tag;
  const uint8_t *v;
  size_t len, n = 0;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_SCOPE_KEY) continue;
    if (len != TKMS_KEY_ID_BYTES) {
      tkms_rec_free(r);
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "each of key_ids must be 16 bytes");
    }
    for (size_t i = 0; i < n; i++) {
      if (memcmp(r->scope_keys[i], v, 16) == 0) {
        tkms_rec_free(r);
        return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "key_ids lists a key twice");
      }
    }
    const tkms_rec *key = tkms_index_find(&c->index, TKMS_REC_KEY, v, len);
    if (key == NULL) {
      tkms_rec_free(r);
      return tkms_op_fail(op, TKMS_E_NOT_FOUND, "key_ids names a key that does not exist");
    }
    if ((st = tkms_attested_key_allows(op, key, &cl)) != TKMS_OK) {
      tkms_rec_free(r);
      return st;
    }
    memcpy(r->scope_keys[n++], v, 16);
  }
  r->u.session.n_keys = (uint8_t)n;
  r->type = TKMS_REC_SESSION;
  r->id_len = TKMS_SESSION_ID_BYTES;
  do {
    randombytes_buf(r->id, TKMS_SESSION_ID_BYTES);
  } while (tkms_index_find(&c->index, TKMS_REC_SESSION, r->id, r->id_len) != NULL);
  r->version = 1;
  if (tkms_measurement_principal(cl.tee, cl.meas, cl.mlen, r->u.session.owner) != 0) {
    tkms_rec_free(r);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "cannot name the measurement");
  }
  memcpy(r->u.session.session_key, op->session_key.text, sizeof r->u.session.session_key);
  r->u.session.ops = TKMS_SCOPE_SIGN;
  r->u.session.expiry = op->expiry;
  r->u.session.attested = 1;
  r->u.session.tee = cl.tee;
  r->u.session.mlen = cl.mlen;
  memcpy(r->u.session.meas, cl.meas, cl.mlen);
  r->u.session.svn = cl.svn;
  r->u.session.tcb_status = cl.tcb_status;
  r->u.session.verified_at = cl.verified_at;
  char owner[TKMS_MAX_PRINCIPAL + 1];
  memcpy(owner, r->u.session.owner, sizeof owner);
  uint8_t id[TKMS_SESSION_ID_BYTES];
  memcpy(id, r->id, sizeof id);
  if ((st = tkms_tx_seal_put(op, r, NULL)) != TKMS_OK) {
    tkms_rec_free(r);
    return st;
  }
  const char *tcb = tkms_attest_tcb_name(cl.tcb_status);
  tkms_fw_bytes(op->resp, TKMS_F_SESSION_ID, id, sizeof id);
  tkms_fw_str(op->resp, TKMS_F_OWNER, owner);
  tkms_fw_str(op->resp, TKMS_F_ATT_FORMAT, tkms_attest_format_name(cl.tee));
  tkms_fw_bytes(op->resp, TKMS_F_ATT_MEASUREMENT, cl.meas, cl.mlen);
  tkms_fw_u32(op->resp, TKMS_F_ATT_SVN, cl.svn);
  tkms_fw_str(op->resp, TKMS_F_ATT_TCB_STATUS, tcb != NULL ? tcb : "NotApplicable");
  tkms_fw_u64(op->resp, TKMS_F_TIME, cl.verified_at);
  tkms_fw_u64(op->resp, TKMS_F_EXPIRY, op->expiry);
  return TKMS_OK;
}
