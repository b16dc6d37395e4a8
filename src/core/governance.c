/* src/core/governance.c — governance record, announce / cancel, migration
 * (see governance.h). */
#include "core/governance.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/authz.h"
#include "core/log.h"
#include "core/records.h"
#include "core/seal.h"
#include "core/txn.h"
#include "crypto/aead.h"
#include "crypto/eip712.h"
#include "crypto/kdf.h"
#include "crypto/secp256k1_eth.h"
#include "platform/platform.h"
#include "proto/hex.h"
#include "proto/requests.h"

_Static_assert(1u + TKMS_GOVREC_MAX <= TKMS_SESSREC_MAX,
               "the governance plaintext fits the largest record plaintext (seal.c)");
_Static_assert(sizeof(tkms_gov) <= 16u * TKMS_REC_GOV_SLOTS,
               "the governance record fits the index record's trailing space");

#define MIG_LABEL "tkms-migrate-v1"
#define MIG_EXPORT_LABEL "tkms-migrate-export-v1"

/* ---- the record ------------------------------------------------------------- */

void tkms_gov_to_rec(const tkms_gov *g, tkms_rec *r) {
  memcpy(r->scope_keys, g, sizeof *g);
}

void tkms_gov_from_rec(const tkms_rec *r, tkms_gov *g) {
  memcpy(g, r->scope_keys, sizeof *g);
}

int tkms_gov_valid(const tkms_gov *g) {
  static const uint8_t zero[20];
  if (g->n_governors > TKMS_GOV_MAX_GOVERNORS || g->n_ann > TKMS_GOV_MAX_ANNOUNCEMENTS ||
      g->delay > TKMS_GOV_MAX_DELAY || g->has_holder > 1)
    return -1;
  if (g->n_governors == 0) return (g->threshold == 0 && g->delay == 0 && g->n_ann == 0) ? 0 : -1;
  if (g->threshold < 1 || g->threshold > g->n_governors) return -1;
  for (unsigned i = 0; i < g->n_governors; i++) {
    if (memcmp(g->governors[i], zero, 20) == 0) return -1;
    for (unsigned j = 0; j < i; j++)
      if (memcmp(g->governors[i], g->governors[j], 20) == 0) return -1;
  }
  for (unsigned i = 0; i < g->n_ann; i++) {
    if (g->ann[i].effective_at < g->ann[i].accepted_at) return -1;
    for (unsigned j = 0; j < i; j++)
      if (memcmp(g->ann[i].measurement, g->ann[j].measurement, 32) == 0) return -1;
  }
  return 0;
}

static const tkms_rec *gov_rec(const tkms_core *c) {
  return tkms_index_find(&c->index, TKMS_REC_GOV, (const uint8_t *)TKMS_GOV_REC_ID,
                         TKMS_GOV_REC_ID_LEN);
}

int tkms_gov_get(const tkms_core *c, tkms_gov *g) {
  memset(g, 0, sizeof *g);
  const tkms_rec *r = gov_rec(c);
  if (r == NULL) return TKMS_GOV_MODE_LEGACY;
  tkms_gov_from_rec(r, g);
  return g->n_governors > 0 ? TKMS_GOV_MODE_PRODUCTION : TKMS_GOV_MODE_DEVELOPMENT;
}

static const tkms_gov_announcement *find_ann(const tkms_gov *g, const uint8_t m[32]) {
  for (unsigned i = 0; i < g->n_ann; i++)
    if (memcmp(g->ann[i].measurement, m, 32) == 0) return &g->ann[i];
  return NULL;
}

int tkms_gov_migration_allowed(const tkms_gov *g, const uint8_t m[32], uint64_t now,
                               const tkms_gov_announcement **ann, char *msg, size_t msg_len) {
  char hex[67];
  *ann = NULL;
  if (g->n_governors == 0) return TKMS_OK; /* development deployment */
  tkms_hex_encode(m, 32, hex);
  const tkms_gov_announcement *a = find_ann(g, m);
  if (a == NULL) {
    snprintf(msg, msg_len,
             "the successor core %s is not announced: this production deployment (%u-of-%u "
             "governors) hands its keys only to an announced core. While the current core runs, "
             "run `tkms governance announce --measurement %s --account FILE ...` with %u "
             "governors, then wait %llu s",
             hex, g->threshold, g->n_governors, hex, g->threshold, (unsigned long long)g->delay);
    return TKMS_E_NOT_ANNOUNCED;
  }
  if (now < a->effective_at) {
    snprintf(msg, msg_len,
             "the upgrade to %s was announced at %llu and becomes effective at %llu (in %llu "
             "s): the time-lock has not passed yet (now %llu). Start the current core until "
             "then; governors may still cancel it with `tkms governance cancel --measurement "
             "%s`",
             hex, (unsigned long long)a->accepted_at, (unsigned long long)a->effective_at,
             (unsigned long long)(a->effective_at - now), (unsigned long long)now, hex);
    return TKMS_E_TIMELOCK;
  }
  *ann = a;
  return TKMS_OK;
}

static void put_ann(tkms_fw *w, const tkms_gov_announcement *a) {
  uint8_t b[48];
  memcpy(b, a->measurement, 32);
  tkms_be64_put(b + 32, a->accepted_at);
  tkms_be64_put(b + 40, a->effective_at);
  tkms_fw_bytes(w, TKMS_F_GOV_ANNOUNCEMENT, b, sizeof b);
}

/* Seals g as the next version of the governance record into op->tx. */
static int put_gov(tkms_op *op, const tkms_gov *g, uint32_t version) {
  if (tkms_gov_valid(g) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the governance record would be invalid");
  tkms_rec *r = tkms_rec_new(TKMS_REC_GOV_SLOTS);
  if (r == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  r->type = TKMS_REC_GOV;
  r->id_len = TKMS_GOV_REC_ID_LEN;
  memcpy(r->id, TKMS_GOV_REC_ID, TKMS_GOV_REC_ID_LEN);
  r->version = version;
  tkms_gov_to_rec(g, r);
  int st = tkms_tx_seal_put(op, r, NULL);
  if (st != TKMS_OK) free(r);
  return st;
}

/* ---- INIT ------------------------------------------------------------------- */

int tkms_gov_init(tkms_op *op) {
  const tkms_frame *f = op->req;
  tkms_gov g;
  memset(&g, 0, sizeof g);
  size_t n = tkms_frame_count(f, TKMS_F_GOVERNOR);
  if (n > TKMS_GOV_MAX_GOVERNORS)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "at most %u governors", TKMS_GOV_MAX_GOVERNORS);
  tkms_field_iter it;
  tkms_field_iter_init(&it, f);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_GOVERNOR) continue;
    if (len != 20) return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "a governor is a 20-byte address");
    memcpy(g.governors[g.n_governors++], v, 20);
  }
  uint32_t m = 0;
  uint64_t delay = 0;
  size_t nm = tkms_frame_count(f, TKMS_F_GOV_THRESHOLD), nd = tkms_frame_count(f, TKMS_F_GOV_DELAY);
  if (nm > 1 || nd > 1 || (nm == 1 && tkms_frame_get_u32(f, TKMS_F_GOV_THRESHOLD, &m) != 0) ||
      (nd == 1 && tkms_frame_get_u64(f, TKMS_F_GOV_DELAY, &delay) != 0))
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "threshold (u32) and delay (u64) at most once");
  if (g.n_governors == 0 && (m != 0 || delay != 0))
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "a threshold or an upgrade delay needs governors (--governor)");
  if (g.n_governors > 0 && nm == 0) m = 1u;
  if (g.n_governors > 0 && (m < 1 || m > g.n_governors))
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "the threshold must be 1..%u (the governors)",
                        g.n_governors);
  if (delay > TKMS_GOV_MAX_DELAY)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "the upgrade delay is at most %u s (1 year)",
                        TKMS_GOV_MAX_DELAY);
  g.threshold = (uint8_t)m;
  g.delay = delay;
  /* The initialising core holds the deployment. */
  g.has_holder = 1;
  memcpy(g.holder, op->core->measurement, 32);
  if (tkms_gov_valid(&g) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "governors must be distinct non-zero addresses");
  return put_gov(op, &g, 1);
}

/* ---- ANNOUNCE / CANCEL ----------------------------------------------------------- */

static int get_one(const tkms_frame *f, uint8_t tag, const uint8_t **v, size_t *n) {
  if (tkms_frame_count(f, tag) != 1) return -1;
  return tkms_frame_get(f, tag, v, n);
}

/* The envelope of a governance request: like authz.c's, but signed by many. */
static int gov_envelope(tkms_op *op, uint8_t measurement[32]) {
  const tkms_frame *f = op->req;
  const uint8_t *v;
  size_t n;
  if (get_one(f, TKMS_F_MEASUREMENT, &v, &n) != 0 || n != 32)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "measurement (32 bytes) is required");
  memcpy(measurement, v, 32);
  if (get_one(f, TKMS_F_REQUEST_ID, &v, &n) != 0 || n != TKMS_REQUEST_ID_BYTES)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "request_id (32 bytes) is required");
  memcpy(op->request_id, v, n);
  if (get_one(f, TKMS_F_DEADLINE, &v, &n) != 0 || n != 8)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "deadline (unix seconds) is required");
  op->deadline = tkms_be64_get(v);
  if (get_one(f, TKMS_F_DEPLOYMENT, &v, &n) != 0 || n != TKMS_SALT_BYTES)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "deployment (the 32-byte deployment salt) is required");
  return tkms_authz_deployment_deadline(op, v);
}

int tkms_gov_count_signers(const tkms_gov *g, const uint8_t domain_sep[32], int rt,
                           const uint8_t measurement[32], const uint8_t request_id[32],
                           uint64_t deadline, const uint8_t *const *sigs, size_t n_sigs,
                           unsigned *count, size_t *bad_index) {
  uint8_t th[32], w[3][32], sh[32], digest[32];
  tkms_eip712_type_hash(tkms_eip712_request_types[rt].encode_type, th);
  tkms_eip712_word_bytes_n(measurement, 32, w[0]);
  tkms_eip712_word_bytes_n(request_id, 32, w[1]);
  tkms_eip712_word_uint64(deadline, w[2]);
  tkms_eip712_hash_struct(th, (const uint8_t(*)[32])w, 3, sh);
  tkms_eip712_digest(domain_sep, sh, digest);
  unsigned seen = 0; /* bit i: governor i signed */
  for (size_t i = 0; i < n_sigs; i++) {
    uint8_t addr[20];
    int r = tkms_secp_recover(digest, sigs[i], addr);
    if (r != TKMS_SECP_OK) {
      *bad_index = i;
      return r == TKMS_SECP_HIGH_S ? TKMS_E_HIGH_S : TKMS_E_BAD_SIGNATURE;
    }
    for (unsigned j = 0; j < g->n_governors; j++)
      if (memcmp(addr, g->governors[j], 20) == 0) seen |= 1u << j;
  }
  unsigned c = 0;
  for (unsigned j = 0; j < g->n_governors; j++) c += (seen >> j) & 1u;
  *count = c;
  return TKMS_OK;
}

/* Envelope, replay, quorum. Fills measurement and g. */
static int gov_authorise(tkms_op *op, int rt, uint8_t measurement[32], tkms_gov *g) {
  int st;
  if (tkms_gov_get(op->core, g) != TKMS_GOV_MODE_PRODUCTION)
    return tkms_op_fail(op, TKMS_E_NOT_GOVERNED,
                        "this is a development deployment: it has no governors, and a rebuilt "
                        "core takes over without an announcement. Governance is fixed when a "
                        "deployment is initialised (tkms serve --governor ... --threshold M "
                        "--upgrade-delay S)");
  if ((st = gov_envelope(op, measurement)) != TKMS_OK) return st;
  if ((st = tkms_authz_replay(op)) != TKMS_OK) return st;
  const uint8_t *sigs[TKMS_GOV_MAX_SIGS];
  size_t n = 0;
  tkms_field_iter it;
  tkms_field_iter_init(&it, op->req);
  uint8_t tag;
  const uint8_t *v;
  size_t len;
  while (tkms_field_next(&it, &tag, &v, &len) == 1) {
    if (tag != TKMS_F_GOV_SIG) continue;
    if (n == TKMS_GOV_MAX_SIGS)
      return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "at most %u signatures", TKMS_GOV_MAX_SIGS);
    if (len != TKMS_SECP_SIG_BYTES)
      return tkms_op_fail(op, TKMS_E_BAD_SIGNATURE,
                          "signature %zu: a governor signature is 65 bytes r|s|v", n);
    sigs[n++] = v;
  }
  if (n == 0) return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "signatures (at least one) are required");
  unsigned count = 0;
  size_t bad = 0;
  st = tkms_gov_count_signers(g, op->core->dep.domain_sep, rt, measurement, op->request_id,
                              op->deadline, sigs, n, &count, &bad);
  if (st == TKMS_E_HIGH_S)
    return tkms_op_fail(op, st, "signature %zu is non-canonical: s must be <= n/2 and v 27 or 28",
                        bad);
  if (st != TKMS_OK) return tkms_op_fail(op, st, "signature %zu does not verify", bad);
  if (count < g->threshold)
    return tkms_op_fail(op, TKMS_E_GOV_QUORUM,
                        "%u distinct governor(s) signed; this deployment needs %u of its %u "
                        "governors",
                        count, g->threshold, g->n_governors);
  return TKMS_OK;
}

/* The replay nonce, the record and a prune, as every authorised mutation does. */
static int gov_commit(tkms_op *op, const tkms_gov *g) {
  const tkms_rec *old = gov_rec(op->core);
  int st = tkms_tx_put_nonce(op);
  if (st == TKMS_OK) st = put_gov(op, g, old->version + 1);
  if (st == TKMS_OK) st = tkms_tx_prune(op);
  return st;
}

int tkms_gov_announce(tkms_op *op) {
  uint8_t m[32];
  tkms_gov g;
  int st = gov_authorise(op, TKMS_RT_ANNOUNCE_UPGRADE, m, &g);
  if (st != TKMS_OK) return st;
  char hex[67];
  tkms_hex_encode(m, 32, hex);
  const tkms_gov_announcement *a = find_ann(&g, m);
  if (a != NULL)
    return tkms_op_fail(op, TKMS_E_ALREADY_ANNOUNCED,
                        "%s is already announced (accepted at %llu, effective at %llu); cancel "
                        "it first to announce it again",
                        hex, (unsigned long long)a->accepted_at,
                        (unsigned long long)a->effective_at);
  /* An announcement of the running core was used by the migration to it:
   * it has done its job and makes room. */
  for (unsigned i = 0; i < g.n_ann;) {
    if (memcmp(g.ann[i].measurement, op->core->measurement, 32) == 0) {
      g.ann[i] = g.ann[--g.n_ann];
    } else {
      i++;
    }
  }
  if (g.n_ann == TKMS_GOV_MAX_ANNOUNCEMENTS)
    return tkms_op_fail(op, TKMS_E_LIMIT, "%u announcements are pending; cancel one first",
                        TKMS_GOV_MAX_ANNOUNCEMENTS);
  tkms_gov_announcement *n = &g.ann[g.n_ann++];
  memcpy(n->measurement, m, 32);
  n->accepted_at = op->now;
  n->effective_at = op->now + g.delay;
  if ((st = gov_commit(op, &g)) != TKMS_OK) return st;
  put_ann(op->resp, n);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  tkms_log("governance: upgrade to %s announced at %llu, effective at %llu", hex,
           (unsigned long long)n->accepted_at, (unsigned long long)n->effective_at);
  return TKMS_OK;
}

int tkms_gov_cancel(tkms_op *op) {
  uint8_t m[32];
  tkms_gov g;
  int st = gov_authorise(op, TKMS_RT_CANCEL_UPGRADE, m, &g);
  if (st != TKMS_OK) return st;
  char hex[67];
  tkms_hex_encode(m, 32, hex);
  unsigned i;
  for (i = 0; i < g.n_ann && memcmp(g.ann[i].measurement, m, 32) != 0; i++) {
  }
  if (i == g.n_ann)
    return tkms_op_fail(op, TKMS_E_NOT_ANNOUNCED, "no announcement for %s to cancel", hex);
  g.ann[i] = g.ann[--g.n_ann];
  if ((st = gov_commit(op, &g)) != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, m, 32);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  tkms_log("governance: upgrade to %s cancelled at %llu", hex, (unsigned long long)op->now);
  return TKMS_OK;
}

int tkms_gov_status(tkms_op *op) {
  tkms_gov g;
  int mode = tkms_gov_get(op->core, &g);
  tkms_fw_u32(op->resp, TKMS_F_GOV_MODE, (uint32_t)mode);
  for (unsigned i = 0; i < g.n_governors; i++)
    tkms_fw_bytes(op->resp, TKMS_F_GOVERNOR, g.governors[i], 20);
  tkms_fw_u32(op->resp, TKMS_F_GOV_THRESHOLD, g.threshold);
  tkms_fw_u64(op->resp, TKMS_F_GOV_DELAY, g.delay);
  for (unsigned i = 0; i < g.n_ann; i++) put_ann(op->resp, &g.ann[i]);
  if (g.has_holder) tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, g.holder, 32);
  tkms_fw_u64(op->resp, TKMS_F_TIME, op->now);
  return TKMS_OK;
}

/* ---- migration ------------------------------------------------------------------ */

static int sim_only(tkms_op *op) {
  if (strcmp(op->core->plat.ops->name, "sim") != 0)
    return tkms_op_fail(op, TKMS_E_UNSUPPORTED,
                        "migration to a successor core is implemented for the sim platform only "
                        "(this core runs on %s): verifying another core's %s evidence is not "
                        "supported yet",
                        op->core->plat.ops->name, op->core->plat.ops->name);
  return TKMS_OK;
}

/* This machine's sim attestation public key, from our own evidence. */
static int own_attest_pub(tkms_core *c, uint8_t pub[32]) {
  uint8_t rd[64] = {0}, ev[TKMS_SIM_EVIDENCE_BYTES];
  size_t n = 0;
  if (c->plat.ops->evidence(c->plat.ctx, rd, ev, sizeof ev, &n) != 0) return -1;
  return tkms_sim_evidence_parse(ev, n, NULL, NULL, pub);
}

/* Verifies sim evidence of a core on this machine and returns its measurement
 * and report data. */
static int verify_peer(tkms_op *op, const uint8_t *ev, size_t n, const char *who, uint8_t m[32],
                       uint8_t rd[64]) {
  uint8_t pub[32], mine[32];
  if (own_attest_pub(op->core, mine) != 0)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the platform could not produce evidence");
  if (tkms_sim_evidence_parse(ev, n, m, rd, pub) != 0)
    return tkms_op_fail(op, TKMS_E_MIGRATION, "the %s's evidence is not valid sim evidence", who);
  if (sodium_memcmp(pub, mine, 32) != 0)
    return tkms_op_fail(op, TKMS_E_MIGRATION,
                        "the %s's evidence is signed by another machine's attestation key", who);
  return TKMS_OK;
}

static void offer_rd(const uint8_t nonce[32], const uint8_t pk[32], uint8_t rd[64]) {
  crypto_hash_sha512_state s;
  crypto_hash_sha512_init(&s);
  crypto_hash_sha512_update(&s, (const uint8_t *)MIG_LABEL, strlen(MIG_LABEL));
  crypto_hash_sha512_update(&s, nonce, 32);
  crypto_hash_sha512_update(&s, pk, 32);
  crypto_hash_sha512_final(&s, rd);
}

static void export_rd(const uint8_t pk[32], const uint8_t *ct, const uint8_t salt[32],
                      uint8_t rd[64]) {
  crypto_hash_sha512_state s;
  crypto_hash_sha512_init(&s);
  crypto_hash_sha512_update(&s, (const uint8_t *)MIG_EXPORT_LABEL, strlen(MIG_EXPORT_LABEL));
  crypto_hash_sha512_update(&s, pk, 32);
  crypto_hash_sha512_update(&s, ct, TKMS_MIGRATE_CT_BYTES);
  crypto_hash_sha512_update(&s, salt, 32);
  crypto_hash_sha512_final(&s, rd);
}

/* The transport key and AD: both sides compute them the same way. */
static int mig_key(const uint8_t shared[32], const uint8_t epk[32], const uint8_t pk[32],
                   const uint8_t m[32], const uint8_t salt[32], uint8_t key[32],
                   uint8_t ad[sizeof(MIG_LABEL) - 1 + 64]) {
  uint8_t info[128];
  memcpy(info, epk, 32);
  memcpy(info + 32, pk, 32);
  memcpy(info + 64, m, 32);
  memcpy(info + 96, salt, 32);
  size_t l = strlen(MIG_LABEL);
  memcpy(ad, MIG_LABEL, l);
  memcpy(ad + l, m, 32);
  memcpy(ad + l + 32, salt, 32);
  return tkms_hkdf_sha256((const uint8_t *)MIG_LABEL, l, shared, 32, info, sizeof info, key, 32);
}

/* A normally serving core never hands its deployment over: only one started
 * with --migrate-source (which serves nothing) does. */
static int source_only(tkms_op *op) {
  if (!op->core->migrate_source)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "this core serves the deployment: only a core started with "
                        "--migrate-source hands it to a successor");
  return TKMS_OK;
}

int tkms_migrate_nonce(tkms_op *op) {
  tkms_core *c = op->core;
  int st = source_only(op);
  if (st != TKMS_OK) return st;
  randombytes_buf(c->mig_nonce, sizeof c->mig_nonce);
  c->has_mig_nonce = 1;
  tkms_fw_bytes(op->resp, TKMS_F_NONCE, c->mig_nonce, sizeof c->mig_nonce);
  return TKMS_OK;
}

int tkms_migrate_offer(tkms_op *op) {
  tkms_core *c = op->core;
  uint8_t nonce[32], rd[64];
  int st;
  if (c->state != TKMS_STATE_UNINITIALISED || c->sec != NULL)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "MIGRATE_OFFER only on a core that holds no deployment");
  if ((st = sim_only(op)) != TKMS_OK) return st;
  if (tkms_frame_get_fixed(op->req, TKMS_F_NONCE, nonce, sizeof nonce) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "nonce (32 bytes, from the current core) is required");
  if (c->mig_sk == NULL && (c->mig_sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL)
    return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  crypto_box_keypair(c->mig_pk, c->mig_sk);
  offer_rd(nonce, c->mig_pk, rd);
  uint8_t *ev = malloc(TKMS_EVIDENCE_MAX);
  size_t ev_len = 0;
  if (ev == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  if (c->plat.ops->evidence(c->plat.ctx, rd, ev, TKMS_EVIDENCE_MAX, &ev_len) != 0) {
    free(ev);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the platform could not produce evidence");
  }
  tkms_fw_bytes(op->resp, TKMS_F_MIGRATE_PK, c->mig_pk, sizeof c->mig_pk);
  tkms_fw_bytes(op->resp, TKMS_F_EVIDENCE, ev, ev_len);
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, c->measurement, 32);
  free(ev);
  return TKMS_OK;
}

int tkms_migrate_export(tkms_op *op) {
  tkms_core *c = op->core;
  uint8_t pk[32], mb[32], rd[64], want[64];
  const uint8_t *ev;
  size_t ev_len;
  int st;
  if ((st = source_only(op)) != TKMS_OK) return st;
  if ((st = sim_only(op)) != TKMS_OK) return st;
  if (!c->has_mig_nonce)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "MIGRATE_NONCE first: no nonce outstanding");
  /* One attempt per nonce. */
  uint8_t nonce[32];
  memcpy(nonce, c->mig_nonce, 32);
  c->has_mig_nonce = 0;
  sodium_memzero(c->mig_nonce, sizeof c->mig_nonce);
  if (tkms_frame_get_fixed(op->req, TKMS_F_MIGRATE_PK, pk, sizeof pk) != 0 ||
      tkms_frame_get(op->req, TKMS_F_EVIDENCE, &ev, &ev_len) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "the successor's key (32 bytes) and evidence are required");
  if ((st = verify_peer(op, ev, ev_len, "successor core", mb, rd)) != TKMS_OK) return st;
  offer_rd(nonce, pk, want);
  if (sodium_memcmp(rd, want, 64) != 0)
    return tkms_op_fail(op, TKMS_E_MIGRATION,
                        "the successor's evidence does not bind this key and this core's nonce");
  char hb[67], ha[67];
  tkms_hex_encode(mb, 32, hb);
  tkms_hex_encode(c->measurement, 32, ha);
  if (memcmp(mb, c->measurement, 32) == 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "the successor has this core's own measurement %s: nothing to migrate", ha);
  tkms_gov g;
  int mode = tkms_gov_get(c, &g);
  const tkms_gov_announcement *ann = NULL;
  char why[TKMS_ERR_MSG_MAX];
  st = tkms_gov_migration_allowed(&g, mb, op->now, &ann, why, sizeof why);
  if (st != TKMS_OK) {
    tkms_log("migration to %s refused: %s", hb, why);
    return tkms_op_fail(op, st, "%s", why);
  }
  /* Encrypt the DMK to the successor's key, bound to its measurement and to
   * this deployment. */
  uint8_t ct[TKMS_MIGRATE_CT_BYTES], esk[32], ad[sizeof(MIG_LABEL) - 1 + 64];
  uint8_t *k = sodium_malloc(64); /* shared || key */
  if (k == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  crypto_box_keypair(ct, esk);
  int bad = crypto_scalarmult(k, esk, pk) != 0 ||
            mig_key(k, ct, pk, mb, c->dep.salt, k + 32, ad) != 0 ||
            tkms_aead_seal(k + 32, ad, sizeof ad, c->sec->dmk, TKMS_DMK_BYTES, ct + 32) != 0;
  sodium_memzero(esk, sizeof esk);
  sodium_free(k);
  if (bad)
    return tkms_op_fail(op, TKMS_E_MIGRATION,
                        "cannot encrypt to the successor's key (a low-order point?)");
  uint8_t *aev = malloc(TKMS_EVIDENCE_MAX);
  size_t aev_len = 0;
  if (aev == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  export_rd(pk, ct, c->dep.salt, rd);
  if (c->plat.ops->evidence(c->plat.ctx, rd, aev, TKMS_EVIDENCE_MAX, &aev_len) != 0) {
    free(aev);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "the platform could not produce evidence");
  }
  tkms_fw_bytes(op->resp, TKMS_F_MIGRATE_CT, ct, sizeof ct);
  tkms_fw_bytes(op->resp, TKMS_F_EVIDENCE, aev, aev_len);
  free(aev);
  tkms_fw_bytes(op->resp, TKMS_F_DEPLOY_SALT, c->dep.salt, 32);
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, mb, 32);
  tkms_fw_u32(op->resp, TKMS_F_GOV_MODE, (uint32_t)mode);
  if (ann != NULL) {
    put_ann(op->resp, ann);
    tkms_log(
        "migration: handing the deployment from %s to %s (announced at %llu, effective at "
        "%llu)",
        ha, hb, (unsigned long long)ann->accepted_at, (unsigned long long)ann->effective_at);
  } else {
    tkms_log(
        "migration: handing the deployment from %s to %s (development deployment: no "
        "announcement needed)",
        ha, hb);
  }
  return TKMS_OK;
}

int tkms_migrate_import(tkms_op *op) {
  tkms_core *c = op->core;
  uint8_t ct[TKMS_MIGRATE_CT_BYTES], salt[32], ma[32], rd[64], want[64];
  const uint8_t *ev;
  size_t ev_len;
  int st;
  if (c->state != TKMS_STATE_UNINITIALISED || c->sec != NULL)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "MIGRATE_IMPORT only on a core that holds no deployment");
  if ((st = sim_only(op)) != TKMS_OK) return st;
  if (c->mig_sk == NULL)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST, "MIGRATE_OFFER first: no key outstanding");
  if (tkms_frame_get_fixed(op->req, TKMS_F_MIGRATE_CT, ct, sizeof ct) != 0 ||
      tkms_frame_get_fixed(op->req, TKMS_F_DEPLOY_SALT, salt, sizeof salt) != 0 ||
      tkms_frame_get(op->req, TKMS_F_EVIDENCE, &ev, &ev_len) != 0)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "the ciphertext (%u bytes), the deployment salt and the current core's "
                        "evidence are required",
                        TKMS_MIGRATE_CT_BYTES);
  if ((st = verify_peer(op, ev, ev_len, "current core", ma, rd)) != TKMS_OK) return st;
  export_rd(c->mig_pk, ct, salt, want);
  if (sodium_memcmp(rd, want, 64) != 0)
    return tkms_op_fail(op, TKMS_E_MIGRATION,
                        "the current core's evidence does not bind this ciphertext to this "
                        "core's key");
  uint8_t ad[sizeof(MIG_LABEL) - 1 + 64];
  uint8_t *k = sodium_malloc(64 + TKMS_DMK_BYTES); /* shared || key || dmk */
  if (k == NULL) return tkms_op_fail(op, TKMS_E_INTERNAL, "out of memory");
  int bad = crypto_scalarmult(k, c->mig_sk, ct) != 0 ||
            mig_key(k, ct, c->mig_pk, c->measurement, salt, k + 32, ad) != 0 ||
            tkms_aead_open(k + 32, ad, sizeof ad, ct + 32, sizeof ct - 32, k + 64) != 0;
  tkms_secrets *sec = NULL;
  tkms_deployment dep;
  if (!bad && tkms_hierarchy_from_dmk(k + 64, &sec, &dep) != 0) {
    sodium_free(k);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "deriving the deployment keys failed");
  }
  sodium_free(k);
  if (bad)
    return tkms_op_fail(op, TKMS_E_MIGRATION,
                        "the ciphertext does not open with this core's key for its measurement "
                        "and the stated deployment");
  if (sodium_memcmp(dep.salt, salt, 32) != 0) {
    tkms_secrets_free(sec);
    return tkms_op_fail(op, TKMS_E_MIGRATION,
                        "the key received belongs to another deployment than the one stated");
  }
  uint8_t *sk = sodium_malloc(TKMS_SEAL_KEY_BYTES);
  uint8_t sealed[TKMS_SEALED_DMK_BYTES];
  bad = sk == NULL || c->plat.ops->seal_key(c->plat.ctx, sk) != 0 ||
        tkms_dmk_seal(sk, sec, sealed) != 0;
  if (sk != NULL) sodium_free(sk);
  if (bad) {
    tkms_secrets_free(sec);
    return tkms_op_fail(op, TKMS_E_INTERNAL, "sealing the deployment master key failed");
  }
  if ((st = tkms_tx_begin(op)) != TKMS_OK) {
    tkms_secrets_free(sec);
    return st;
  }
  /* The key pair has done its job. */
  sodium_free(c->mig_sk);
  c->mig_sk = NULL;
  sodium_memzero(c->mig_pk, sizeof c->mig_pk);
  tkms_tx *tx = op->tx;
  tx->init_sec = sec;
  tx->init_dep = dep;
  tx->migrated = 1;
  tx->txid = c->next_txid++;
  tkms_fw_u64(op->resp, TKMS_F_TXID, tx->txid);
  tkms_fw_bytes(op->resp, TKMS_F_DMK, sealed, sizeof sealed);
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, ma, 32);
  tkms_fw_bytes(op->resp, TKMS_F_IDENTITY, dep.identity, sizeof dep.identity);
  char hb[67], ha[67];
  tkms_hex_encode(ma, 32, ha);
  tkms_hex_encode(c->measurement, 32, hb);
  tkms_log("migration: received the deployment master key from core %s; this core is %s", ha, hb);
  return TKMS_OK;
}

/* ---- the holder ------------------------------------------------------------------ */

int tkms_gov_check_holder(tkms_op *op) {
  tkms_core *c = op->core;
  tkms_gov g;
  c->must_finish = 0;
  if (tkms_gov_get(c, &g) == TKMS_GOV_MODE_LEGACY) return TKMS_OK; /* nothing to record */
  int mine = g.has_holder && memcmp(g.holder, c->measurement, 32) == 0;
  if (mine || c->migrate_source) return TKMS_OK;
  if (c->imported) {
    c->must_finish = 1; /* MIGRATE_FINISH records this core before it serves */
    return TKMS_OK;
  }
  if (!g.has_holder) return TKMS_OK; /* a record written before the holder existed */
  char hh[67], hm[67];
  tkms_hex_encode(g.holder, 32, hh);
  tkms_hex_encode(c->measurement, 32, hm);
  if (g.n_governors == 0)
    return tkms_op_fail(op, TKMS_E_NOT_ANNOUNCED,
                        "the deployment is held by the core %s, not by this core %s (its "
                        "sealed key is an old copy). Going back to another build is a "
                        "migration: start this core on the current sealed state and it takes "
                        "the deployment over from the holder (development deployment: no "
                        "announcement needed)",
                        hh, hm);
  return tkms_op_fail(op, TKMS_E_NOT_ANNOUNCED,
                      "the deployment is held by the core %s, not by this core %s (its sealed "
                      "key is an old copy). Going back to another build needs an announced "
                      "upgrade: announce %s through the running core (%u of the %u "
                      "governors), wait %llu s, then start this core on the current sealed "
                      "state",
                      hh, hm, hm, g.threshold, g.n_governors, (unsigned long long)g.delay);
}

int tkms_migrate_finish(tkms_op *op) {
  tkms_core *c = op->core;
  if (!c->must_finish)
    return tkms_op_fail(op, TKMS_E_BAD_REQUEST,
                        "nothing to finish: this core did not just take the deployment over");
  tkms_gov g;
  tkms_gov_get(c, &g);
  g.has_holder = 1;
  memcpy(g.holder, c->measurement, 32);
  int st = put_gov(op, &g, gov_rec(c)->version + 1);
  if (st != TKMS_OK) return st;
  tkms_fw_bytes(op->resp, TKMS_F_MEASUREMENT, c->measurement, 32);
  return TKMS_OK;
}
