/* tests/unit/test_core_policy.c — key policies: the canonical encoding (every
 * refusal), which changes widen, key record format 2 (and format 1 still read),
 * the policy in force, and policies through the core's ECALL table. */
#include "test_core_harness.h"

#include "core/key_policy.h"
#include "core/policy.h"
#include "core/records.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static tkms_policy_sw sw(uint8_t tee, uint8_t fill, uint16_t min_svn, uint16_t mask) {
  tkms_policy_sw s;
  memset(&s, 0, sizeof s);
  s.tee = tee;
  s.mlen = (tee == 1 || tee == 5) ? 32 : 48;
  memset(s.measurement, fill, s.mlen);
  s.min_svn = min_svn;
  s.tcb_mask = mask;
  return s;
}

/* A policy with everything set, entries in canonical order. */
static void full_policy(tkms_policy *p) {
  tkms_policy_default(p);
  p->delay_s = 3600;
  p->flags = TKMS_POLICY_F_REQUIRE_ATTESTATION;
  p->rate_per_minute = 60;
  p->not_after = 1800000000u;
  p->n_software = 3;
  p->software[0] = sw(1, 0xaa, 5, 0x0002);
  p->software[1] = sw(2, 0x10, 0, 0x0006);
  p->software[2] = sw(2, 0x20, 0, 0x0002);
}

static size_t enc(const tkms_policy *p, uint8_t *b) {
  size_t n = tkms_policy_encode(p, b, TKMS_POLICY_ENC_MAX);
  assert_true(n > 0);
  return n;
}

/* Same policy: same canonical encoding (entries past n_software do not count). */
static void policy_eq(const tkms_policy *a, const tkms_policy *b) {
  uint8_t x[TKMS_POLICY_ENC_MAX], y[TKMS_POLICY_ENC_MAX];
  size_t nx = enc(a, x), ny = enc(b, y);
  assert_int_equal(nx, ny);
  assert_memory_equal(x, y, nx);
}

static void refused(const uint8_t *b, size_t n, const char *why_part) {
  tkms_policy p;
  const char *why = NULL;
  assert_int_equal(tkms_policy_decode(b, n, &p, &why), -1);
  assert_non_null(why);
  if (strstr(why, why_part) == NULL) fail_msg("refused for \"%s\", expected \"%s\"", why, why_part);
}

/* ---- encoding ----------------------------------------------------------------- */

static void test_default_and_round_trip(void **state) {
  (void)state;
  tkms_policy p, q;
  const char *why;
  /* empty bytes = the default policy */
  memset(&p, 0x5a, sizeof p);
  assert_int_equal(tkms_policy_decode(NULL, 0, &p, &why), 0);
  assert_true(tkms_policy_is_default(&p));
  /* the default encodes as its full 19-byte form, which decodes back */
  uint8_t b[TKMS_POLICY_ENC_MAX], b2[TKMS_POLICY_ENC_MAX];
  size_t n = enc(&p, b);
  assert_int_equal(n, 19);
  static const uint8_t want_default[19] = {1};
  assert_memory_equal(b, want_default, 19);
  assert_int_equal(tkms_policy_decode(b, n, &q, &why), 0);
  assert_true(tkms_policy_is_default(&q));

  /* a full policy: the exact bytes, and back */
  full_policy(&p);
  n = enc(&p, b);
  assert_int_equal(n, 19 + (2 + 32 + 4) + 2 * (2 + 48 + 4));
  static const uint8_t head[19] = {1, 0, 0, 0x0e, 0x10, 1,    0,    0,    0, 60,
                                   0, 0, 0, 0,    0x6b, 0x49, 0xd2, 0x00, 3};
  assert_memory_equal(b, head, 19);
  assert_int_equal(b[19], 1);  /* sgx */
  assert_int_equal(b[20], 32); /* mlen */
  assert_int_equal(b[19 + 2 + 32], 0);
  assert_int_equal(b[19 + 2 + 32 + 1], 5); /* min_svn */
  assert_int_equal(b[19 + 2 + 32 + 3], 2); /* tcb mask: UpToDate */
  assert_int_equal(tkms_policy_decode(b, n, &q, &why), 0);
  assert_false(tkms_policy_is_default(&q));
  assert_int_equal(enc(&q, b2), n);
  assert_memory_equal(b, b2, n);
  assert_int_equal(q.delay_s, 3600);
  assert_int_equal(q.rate_per_minute, 60);
  assert_int_equal(q.not_after, 1800000000u);
  assert_int_equal(q.n_software, 3);
  assert_memory_equal(&q.software[2], &p.software[2], sizeof q.software[2]);

  /* eight entries, the maximum: TKMS_POLICY_ENC_MAX bytes */
  tkms_policy_default(&p);
  p.n_software = 8;
  for (int i = 0; i < 8; i++) p.software[i] = sw(2, (uint8_t)(i + 1), 0, 1);
  n = enc(&p, b);
  assert_int_equal(n, TKMS_POLICY_ENC_MAX);
  assert_int_equal(tkms_policy_decode(b, n, &q, &why), 0);
  assert_int_equal(q.n_software, 8);

  /* random policies round-trip */
  for (int k = 0; k < 200; k++) {
    tkms_policy_default(&p);
    p.delay_s = randombytes_uniform(TKMS_POLICY_MAX_DELAY + 1);
    p.flags = (uint8_t)(randombytes_random() & 1);
    p.rate_per_minute = randombytes_random();
    p.not_after = (((uint64_t)randombytes_random() << 32) | randombytes_random()) >> 1;
    p.n_software = (uint8_t)randombytes_uniform(9);
    for (int i = 0; i < p.n_software; i++) {
      /* increasing (tee, fill) so the list is sorted */
      p.software[i] = sw((uint8_t)(1 + i / 2), (uint8_t)(i * 3 + 1), (uint16_t)randombytes_random(),
                         (uint16_t)(1 + randombytes_uniform(0xff)));
    }
    n = enc(&p, b);
    if (tkms_policy_decode(b, n, &q, &why) != 0) fail_msg("round trip %d: %s", k, why);
    assert_int_equal(enc(&q, b2), n);
    assert_memory_equal(b, b2, n);
  }
}

static void test_decode_refusals(void **state) {
  (void)state;
  tkms_policy p;
  uint8_t b[TKMS_POLICY_ENC_MAX + 8], t[TKMS_POLICY_ENC_MAX + 8];
  full_policy(&p);
  size_t n = enc(&p, b);
  const size_t e0 = 19, e1 = 19 + 2 + 32 + 4; /* offsets of entries 0 and 1 */

  memcpy(t, b, n);
  t[0] = 2;
  refused(t, n, "unknown policy format");
  t[0] = 0;
  refused(t, n, "unknown policy format");

  memcpy(t, b, n);
  t[n] = 0;
  refused(t, n + 1, "trailing bytes");

  for (size_t k = 1; k < 19; k++) refused(b, k, "shorter than its fixed part");
  refused(b, n - 1, "truncated");
  refused(b, e1 + 1, "truncated");

  memcpy(t, b, n);
  t[5] = 0x02;
  refused(t, n, "unknown policy flag");
  t[5] = 0x81;
  refused(t, n, "unknown policy flag");

  /* delay: the maximum is accepted, one more refused */
  memcpy(t, b, n);
  tkms_be32_put(t + 1, TKMS_POLICY_MAX_DELAY);
  tkms_policy q;
  const char *why;
  assert_int_equal(tkms_policy_decode(t, n, &q, &why), 0);
  tkms_be32_put(t + 1, TKMS_POLICY_MAX_DELAY + 1);
  refused(t, n, "delay_s");

  /* not_after: 2^63 - 1 is the largest */
  memcpy(t, b, n);
  tkms_be64_put(t + 10, (uint64_t)INT64_MAX);
  assert_int_equal(tkms_policy_decode(t, n, &q, &why), 0);
  tkms_be64_put(t + 10, (uint64_t)INT64_MAX + 1);
  refused(t, n, "not_after");

  /* more than 8 software entries */
  tkms_policy_default(&q);
  uint8_t big[19 + 9 * 54];
  memset(big, 0, sizeof big);
  big[0] = 1;
  big[18] = 9;
  for (int i = 0; i < 9; i++) {
    big[19 + i * 54] = 2;
    big[19 + i * 54 + 1] = 48;
    big[19 + i * 54 + 2] = (uint8_t)(i + 1);
  }
  refused(big, sizeof big, "too many software entries");

  /* unsorted and duplicate entries */
  tkms_policy u = p;
  u.software[1] = p.software[2];
  u.software[2] = p.software[1];
  uint8_t bu[TKMS_POLICY_ENC_MAX];
  size_t nu = enc(&u, bu);
  refused(bu, nu, "not strictly sorted");
  u = p;
  u.software[2] = u.software[1];
  nu = enc(&u, bu);
  refused(bu, nu, "not strictly sorted");
  /* same measurement and tee but a different svn is still the same entry */
  u.software[2].min_svn = 9;
  nu = enc(&u, bu);
  refused(bu, nu, "not strictly sorted");
  /* a tee before the previous one */
  u = p;
  u.n_software = 2;
  u.software[0] = sw(2, 1, 0, 1);
  u.software[1] = sw(1, 1, 0, 1);
  nu = enc(&u, bu);
  refused(bu, nu, "not strictly sorted");

  /* mlen not fitting the tee; unknown tees (sim included: its evidence is debug) */
  memcpy(t, b, n);
  t[e0 + 1] = 48; /* sgx with 48 */
  refused(t, n, "does not fit its tee");
  memcpy(t, b, n);
  t[e1 + 1] = 32; /* tdx with 32 */
  refused(t, n, "does not fit its tee");
  memcpy(t, b, n);
  t[e0] = 6; /* sim */
  refused(t, n, "unknown tee");
  t[e0] = 0;
  refused(t, n, "unknown tee");
  t[e0] = 7;
  refused(t, n, "unknown tee");
  /* tpm2 (5): no policy may list it, the core cannot check a TPM's attestation key */
  {
    tkms_policy tp;
    tkms_policy_default(&tp);
    tp.n_software = 1;
    tp.software[0] = sw(5, 0x33, 0, 1);
    uint8_t bt[TKMS_POLICY_ENC_MAX];
    size_t nt = enc(&tp, bt);
    refused(bt, nt, "tpm2");
    refused(bt, nt, "no root of trust");
    /* the same entry as nitro decodes: only the tee is refused */
    tp.software[0] = sw(4, 0x33, 0, 1);
    nt = enc(&tp, bt);
    assert_int_equal(tkms_policy_decode(bt, nt, &q, &why), 0);
  }

  /* an entry accepting no TCB status (tcb_mask 0) lets nothing in: refused, as in JSON */
  memcpy(t, b, n);
  t[e0 + 2 + 32 + 2] = 0;
  t[e0 + 2 + 32 + 3] = 0;
  refused(t, n, "tcb_mask 0");

  /* TCB status bits beyond the known statuses */
  memcpy(t, b, n);
  t[e0 + 2 + 32 + 2] = 0x02; /* bit 9 */
  refused(t, n, "unknown TCB status bits");
  memcpy(t, b, n);
  t[e0 + 2 + 32 + 2] = 0x01; /* bit 8: NoMatch is never acceptable */
  refused(t, n, "unknown TCB status bits");
  memcpy(t, b, n);
  t[e0 + 2 + 32 + 3] = 0x80 | 0x02; /* bit 7 = Revoked: known */
  assert_int_equal(tkms_policy_decode(t, n, &q, &why), 0);

  /* a refusal leaves the output as the default, never half-decoded */
  memcpy(t, b, n);
  t[n - 1] ^= 0;
  t[5] = 0x04;
  memset(&q, 0x77, sizeof q);
  assert_int_equal(tkms_policy_decode(t, n, &q, &why), -1);
  assert_true(tkms_policy_is_default(&q));

  /* the encoder refuses a buffer that is too small */
  assert_int_equal(tkms_policy_encode(&p, t, TKMS_POLICY_ENC_MAX - 1), 0);
}

/* ---- widening ------------------------------------------------------------------- */

static void test_widens_table(void **state) {
  (void)state;
  tkms_policy base;
  full_policy(&base); /* delay 3600, attestation required, 60/min, not_after, 3 entries */
  enum { N_CASES = 26 };
  static const char *names[N_CASES] = {
      "unchanged",
      "shorter delay",
      "longer delay",
      "zero delay",
      "drop require_attestation",
      "higher rate",
      "lower rate",
      "rate removed (0 = unlimited)",
      "later not_after",
      "earlier not_after",
      "not_after removed",
      "new measurement",
      "same measurement, other tee length class (tdx vs snp)",
      "entry removed",
      "all entries removed",
      "lower min_svn",
      "higher min_svn",
      "one more TCB status",
      "one TCB status fewer",
      "TCB statuses swapped",
      "entry replaced by another measurement",
      "everything narrower",
      "narrower but one more status",
      "narrower but a new entry",
      "add require_attestation (already set): same",
      "same rate, same not_after, fewer entries",
  };
  static const int widens[N_CASES] = {0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1,
                                      0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0};
  for (int i = 0; i < N_CASES; i++) {
    tkms_policy to = base;
    switch (i) {
      case 1:
        to.delay_s = 3599;
        break;
      case 2:
        to.delay_s = 7200;
        break;
      case 3:
        to.delay_s = 0;
        break;
      case 4:
        to.flags = 0;
        break;
      case 5:
        to.rate_per_minute = 61;
        break;
      case 6:
        to.rate_per_minute = 59;
        break;
      case 7:
        to.rate_per_minute = 0;
        break;
      case 8:
        to.not_after = base.not_after + 1;
        break;
      case 9:
        to.not_after = base.not_after - 1;
        break;
      case 10:
        to.not_after = 0;
        break;
      case 11:
        to.software[to.n_software++] = sw(3, 0x30, 0, 2);
        break;
      case 12:
        to.software[to.n_software++] = sw(3, 0x10, 0, 6); /* snp with tdx's bytes */
        break;
      case 13:
        to.n_software = 2;
        break;
      case 14:
        to.n_software = 0;
        break;
      case 15:
        to.software[0].min_svn = 4;
        break;
      case 16:
        to.software[0].min_svn = 6;
        break;
      case 17:
        to.software[2].tcb_mask |= 0x0004;
        break;
      case 18:
        to.software[1].tcb_mask = 0x0002;
        break;
      case 19:
        to.software[2].tcb_mask = 0x0004; /* one lost, one gained */
        break;
      case 20:
        to.software[0].measurement[31] ^= 1;
        break;
      case 21:
        to.delay_s = 7200;
        to.rate_per_minute = 1;
        to.not_after = base.not_after - 100;
        to.n_software = 1;
        to.software[0].min_svn = 9;
        break;
      case 22:
        to.delay_s = 7200;
        to.rate_per_minute = 1;
        to.software[1].tcb_mask |= 0x0080;
        break;
      case 23:
        to.rate_per_minute = 1;
        to.software[to.n_software++] = sw(5, 0x01, 0, 1);
        break;
      case 24:
        to.flags = TKMS_POLICY_F_REQUIRE_ATTESTATION;
        break;
      case 25:
        to.n_software = 1;
        break;
      default:
        break;
    }
    int got = tkms_policy_widens(&base, &to);
    if (got != widens[i])
      fail_msg("case %d (%s): widens %d, expected %d", i, names[i], got, widens[i]);
  }
  /* from the default policy: limits added narrow; software or delay added... */
  tkms_policy d, to;
  tkms_policy_default(&d);
  to = d;
  to.rate_per_minute = 10;
  to.not_after = 5;
  to.flags = TKMS_POLICY_F_REQUIRE_ATTESTATION;
  to.delay_s = 60;
  assert_int_equal(tkms_policy_widens(&d, &to), 0);
  /* ... but allowing attested software to use the key widens */
  to.n_software = 1;
  to.software[0] = sw(2, 1, 0, 2);
  assert_int_equal(tkms_policy_widens(&d, &to), 1);
  /* and back to the default from a full policy widens */
  assert_int_equal(tkms_policy_widens(&base, &d), 1);
  assert_int_equal(tkms_policy_widens(&d, &d), 0);
}

/* ---- records ---------------------------------------------------------------------- */

static tkms_rec *key_rec(const char *owner) {
  tkms_rec *r = tkms_rec_new(0);
  assert_non_null(r);
  r->type = TKMS_REC_KEY;
  r->id_len = 16;
  memset(r->id, 0x42, 16);
  r->version = 3;
  r->u.key.key_type = TKMS_KEYTYPE_ED25519;
  r->u.key.created_at = 1767222000u;
  snprintf(r->u.key.owner, sizeof r->u.key.owner, "%s", owner);
  r->u.key.pub_len = 32;
  memset(r->u.key.pub, 0x07, 32);
  return r;
}

#define OWNER_A "eoa:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
#define OWNER_B "eoa:0x2b5ad5c4795c026514f8317c7a215e218dccd6cf"

static void test_key_record_format(void **state) {
  (void)state;
  uint8_t secret[32], pt[TKMS_REC_PLAIN_MAX];
  memset(secret, 0x99, 32);
  tkms_policy p;
  full_policy(&p);

  /* format 2 with a policy: round trip, policy and secret intact */
  tkms_rec *r = key_rec(OWNER_A);
  assert_int_equal(tkms_rec_set_policy(r, &p), 0);
  assert_non_null(r->u.key.policy);
  size_t n = tkms_rec_plain_encode(r, secret, pt, sizeof pt);
  assert_true(n > 0);
  assert_int_equal(pt[0], 2);
  tkms_rec *o = NULL;
  const uint8_t *sec = NULL;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_KEY, r->id, 16, 3, pt, n, &o, &sec), 0);
  policy_eq(tkms_rec_policy(o), &p);
  assert_memory_equal(sec, secret, 32);
  assert_string_equal(o->u.key.owner, OWNER_A);
  /* a deep copy owns its own policy */
  tkms_rec *d = tkms_rec_dup(o);
  assert_non_null(d);
  assert_ptr_not_equal(d->u.key.policy, o->u.key.policy);
  policy_eq(d->u.key.policy, &p);
  tkms_rec_free(d);
  tkms_rec_free(o);

  /* trailing or missing bytes, a bad policy inside: refused */
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_KEY, r->id, 16, 3, pt, n - 1, &o, &sec), -1);
  uint8_t t[TKMS_REC_PLAIN_MAX];
  memcpy(t, pt, n);
  t[n] = 0;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_KEY, r->id, 16, 3, t, n + 1, &o, &sec), -1);
  size_t pol_off = 1 + 1 + 4 + 8 + 1 + strlen(OWNER_A) + 1 + 32 + 2;
  memcpy(t, pt, n);
  t[pol_off + 5] = 0x40; /* unknown flag inside the sealed policy */
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_KEY, r->id, 16, 3, t, n, &o, &sec), -1);

  /* the default policy is stored as length 0 and held as NULL */
  tkms_policy dflt;
  tkms_policy_default(&dflt);
  assert_int_equal(tkms_rec_set_policy(r, &dflt), 0);
  assert_null(r->u.key.policy);
  n = tkms_rec_plain_encode(r, secret, pt, sizeof pt);
  assert_int_equal(n, pol_off + 32);
  assert_int_equal(pt[pol_off - 2], 0);
  assert_int_equal(pt[pol_off - 1], 0);

  /* format 1 (before policies): the same without the policy; decodes as default */
  memcpy(t, pt, pol_off - 2);
  memcpy(t + pol_off - 2, secret, 32);
  t[0] = 1;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_KEY, r->id, 16, 3, t, pol_off - 2 + 32, &o, &sec),
                   0);
  assert_null(o->u.key.policy);
  assert_true(tkms_policy_is_default(tkms_rec_policy(o)));
  assert_memory_equal(sec, secret, 32);
  tkms_rec_free(o);
  /* format 2 for a session or nonce is refused; format 3 for a key too */
  t[0] = 3;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_KEY, r->id, 16, 3, t, pol_off - 2 + 32, &o, &sec),
                   -1);
  uint8_t nonce[9] = {2, 0, 0, 0, 0, 0, 0, 0, 1}, rid[32] = {1};
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_NONCE, rid, 32, 1, nonce, 9, &o, NULL), -1);
  nonce[0] = 1;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_NONCE, rid, 32, 1, nonce, 9, &o, NULL), 0);
  tkms_rec_free(o);
  tkms_rec_free(r);
}

static void test_pending_record_format(void **state) {
  (void)state;
  tkms_policy p;
  full_policy(&p);
  tkms_rec *r = tkms_rec_new(0);
  assert_non_null(r);
  r->type = TKMS_REC_POLICY_CHANGE;
  r->id_len = 16;
  memset(r->id, 0x42, 16);
  r->version = 1;
  r->u.pending.accepted_at = 100;
  r->u.pending.effective_at = 160;
  strcpy(r->u.pending.new_owner, OWNER_B);
  assert_int_equal(tkms_rec_set_policy(r, &p), 0);
  uint8_t pt[TKMS_REC_PLAIN_MAX];
  size_t n = tkms_rec_plain_encode(r, NULL, pt, sizeof pt);
  assert_true(n > 0);
  tkms_rec *o = NULL;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_POLICY_CHANGE, r->id, 16, 1, pt, n, &o, NULL), 0);
  assert_int_equal(o->u.pending.accepted_at, 100);
  assert_int_equal(o->u.pending.effective_at, 160);
  assert_string_equal(o->u.pending.new_owner, OWNER_B);
  policy_eq(tkms_rec_policy(o), &p);
  tkms_rec_free(o);
  /* version other than 1, effective before accepted, wrong id length: refused */
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_POLICY_CHANGE, r->id, 16, 2, pt, n, &o, NULL),
                   -1);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_POLICY_CHANGE, r->id, 15, 1, pt, n, &o, NULL),
                   -1);
  r->u.pending.effective_at = 99;
  n = tkms_rec_plain_encode(r, NULL, pt, sizeof pt);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_POLICY_CHANGE, r->id, 16, 1, pt, n, &o, NULL),
                   -1);
  tkms_rec_free(r);
}

/* The policy lives beside the record: nonce and session records did not grow. */
static void test_index_record_size(void **state) {
  (void)state;
  /* the key member as it was before policies (main at 16e6b82) */
  struct old_key {
    uint8_t key_type;
    uint64_t created_at;
    char owner[TKMS_MAX_PRINCIPAL + 1];
    uint8_t pub[TKMS_KEY_PUB_MAX];
    uint8_t pub_len;
  };
  tkms_rec r;
  assert_true(sizeof r.u <= sizeof(struct old_key));
}

/* ---- the policy and owner in force ------------------------------------------------- */

static void test_policy_at(void **state) {
  (void)state;
  tkms_core c;
  memset(&c, 0, sizeof c);
  assert_int_equal(tkms_index_init(&c.index), 0);
  tkms_policy p;
  full_policy(&p);
  tkms_rec *k = key_rec(OWNER_A);
  tkms_index_put(&c.index, k);
  /* no pending change: the key's own (default) policy and owner */
  assert_null(tkms_key_pending(&c, k));
  assert_true(tkms_policy_is_default(tkms_key_policy_at(&c, k, 0)));
  assert_string_equal(tkms_key_owner_at(&c, k, UINT64_MAX), OWNER_A);

  tkms_rec *pc = tkms_rec_new(0);
  assert_non_null(pc);
  pc->type = TKMS_REC_POLICY_CHANGE;
  pc->id_len = 16;
  memcpy(pc->id, k->id, 16);
  pc->version = 1;
  pc->u.pending.accepted_at = 1000;
  pc->u.pending.effective_at = 1060;
  strcpy(pc->u.pending.new_owner, OWNER_B);
  assert_int_equal(tkms_rec_set_policy(pc, &p), 0);
  tkms_index_put(&c.index, pc);
  assert_ptr_equal(tkms_key_pending(&c, k), pc);
  /* effective_at - 1: still the old; effective_at and later: the new, unmaterialised */
  assert_true(tkms_policy_is_default(tkms_key_policy_at(&c, k, 1059)));
  assert_string_equal(tkms_key_owner_at(&c, k, 1059), OWNER_A);
  policy_eq(tkms_key_policy_at(&c, k, 1060), &p);
  assert_string_equal(tkms_key_owner_at(&c, k, 1060), OWNER_B);
  policy_eq(tkms_key_policy_at(&c, k, UINT64_MAX), &p);
  /* another key with the same id bytes is not affected by type confusion */
  assert_null(tkms_key_pending(&c, pc));
  tkms_index_free(&c.index);
}

/* ---- through the core --------------------------------------------------------------- */

static void create_with_policy(h_env *e, const h_signer *owner, const uint8_t *pol, size_t n,
                               uint8_t key_id[16], int want) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "ed25519");
  tkms_fw_str(&w, TKMS_F_OWNER, owner->text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, pol, n);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, owner, NULL);
  int st = h_call(e, &w);
  if (st != want) fail_msg("create: status %d (%s), expected %d", st, e->err, want);
  if (st != TKMS_OK) return;
  h_fixed(e, TKMS_F_KEY_ID, key_id, 16);
  h_commit(e);
}

static void test_create_with_policy(void **state) {
  h_env *e = *state;
  h_signer owner;
  h_signer_eoa(&owner, 1);
  tkms_policy p;
  full_policy(&p);
  uint8_t b[TKMS_POLICY_ENC_MAX], id1[16], id2[16];
  size_t n = enc(&p, b);
  create_with_policy(e, &owner, b, n, id1, TKMS_OK);
  create_with_policy(e, &owner, NULL, 0, id2, TKMS_OK);
  const tkms_rec *k1 = tkms_index_find(&e->core->index, TKMS_REC_KEY, id1, 16);
  const tkms_rec *k2 = tkms_index_find(&e->core->index, TKMS_REC_KEY, id2, 16);
  policy_eq(tkms_key_policy_at(e->core, k1, h_now), &p);
  assert_null(k2->u.key.policy);

  /* the policy is sealed in the record: a restarted core reads it back */
  assert_int_equal(h_restart(e), TKMS_OK);
  k1 = tkms_index_find(&e->core->index, TKMS_REC_KEY, id1, 16);
  assert_non_null(k1);
  policy_eq(tkms_key_policy_at(e->core, k1, h_now), &p);

  /* what was signed is what is stored: a bad policy is refused, nothing changes */
  h_snap before;
  h_snap_take(e, &before);
  b[5] = 0x80;
  tkms_fw w;
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "ed25519");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, b, n);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, &owner, NULL);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "policy"));
  /* the policy member is required (may be empty) */
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "ed25519");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_AUTH_SIG, b, 65);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  /* the policy is signed: bytes changed after signing fail the signature */
  b[5] = 0x01;
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "ed25519");
  tkms_fw_str(&w, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, NULL, 0);
  h_envelope(e, &w, NULL, h_now + 60);
  uint8_t sig[65];
  size_t sn = h_sig_for(e->domain, &w, &owner, sig);
  tkms_fw w2;
  h_begin(&w2, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w2, TKMS_F_KEY_TYPE, "ed25519");
  tkms_fw_str(&w2, TKMS_F_OWNER, owner.text);
  tkms_fw_bytes(&w2, TKMS_F_POLICY, b, n);
  h_envelope(e, &w2, NULL, h_now + 60);
  tkms_fw_bytes(&w2, TKMS_F_AUTH_SIG, sig, sn);
  h_refused(e, &w2, TKMS_E_WRONG_SIGNER, &before);
  tkms_fw_free(&w);
}

/* ---- time-locked changes through the core ------------------------------------------- */

/* An UpdatePolicy request (new_owner "" = unchanged; pol NULL/0 = unchanged),
 * with the key's current record from the store. Not yet signed. */
static void req_update(h_env *e, tkms_fw *w, const uint8_t id[16], const char *new_owner,
                       const tkms_policy *pol) {
  uint8_t b[TKMS_POLICY_ENC_MAX];
  size_t n = pol != NULL ? enc(pol, b) : 0;
  h_begin(w, TKMS_OP_POLICY_UPDATE);
  tkms_fw_bytes(w, TKMS_F_KEY_ID, id, 16);
  tkms_fw_bytes(w, TKMS_F_NEW_OWNER, (const uint8_t *)new_owner, strlen(new_owner));
  tkms_fw_bytes(w, TKMS_F_POLICY, b, n);
  h_envelope(e, w, NULL, h_now + 60);
  h_rec *r = h_store_find(e, TKMS_REC_KEY, id, 16);
  assert_non_null(r);
  tkms_fw_bytes(w, TKMS_F_BLOB, r->blob, r->blob_len);
}

/* Signs and sends an update; returns the status (committing on OK). */
static int update(h_env *e, const h_signer *by, const uint8_t id[16], const char *new_owner,
                  const tkms_policy *pol, uint32_t *applied) {
  tkms_fw w;
  req_update(e, &w, id, new_owner, pol);
  h_sign(e, &w, by, NULL);
  int st = h_call(e, &w);
  if (st == TKMS_OK) {
    if (applied != NULL) *applied = h_u32(e, TKMS_F_APPLIED);
    h_commit(e);
  } else if (st == TKMS_E_INTERNAL) {
    fail_msg("update: internal error: %s", e->err);
  }
  return st;
}

static int cancel(h_env *e, const h_signer *by, const uint8_t id[16]) {
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_POLICY_CANCEL, id);
  h_sign(e, &w, by, NULL);
  int st = h_call(e, &w);
  if (st == TKMS_OK) h_commit(e);
  return st;
}

static int materialise(h_env *e, const uint8_t id[16]) {
  tkms_fw w;
  h_begin(&w, TKMS_OP_POLICY_MATERIALISE);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
  h_rec *r = h_store_find(e, TKMS_REC_KEY, id, 16);
  assert_non_null(r);
  tkms_fw_bytes(&w, TKMS_F_BLOB, r->blob, r->blob_len);
  int st = h_call(e, &w);
  if (st == TKMS_OK) h_commit(e);
  return st;
}

static int sign_with(h_env *e, const h_signer *by, const uint8_t id[16]) {
  uint8_t msg[8] = "policy!";
  tkms_fw w;
  h_req_sign(e, &w, id, "message", msg, sizeof msg);
  h_sign(e, &w, by, NULL);
  return h_call(e, &w);
}

static const tkms_rec *key_of(h_env *e, const uint8_t id[16]) {
  const tkms_rec *k = tkms_index_find(&e->core->index, TKMS_REC_KEY, id, 16);
  assert_non_null(k);
  return k;
}

static void test_widen_pending_then_effective(void **state) {
  h_env *e = *state;
  h_signer a;
  h_signer_eoa(&a, 1);
  tkms_policy p0, p1;
  tkms_policy_default(&p0);
  p0.delay_s = 100;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  /* widen: allow attested software */
  p1 = p0;
  p1.n_software = 1;
  p1.software[0] = sw(2, 0x11, 0, 2);
  uint64_t t0 = h_now;
  uint32_t applied = 9;
  assert_int_equal(update(e, &a, id, "", &p1, &applied), TKMS_OK);
  assert_int_equal(applied, 0);
  const tkms_rec *pc = tkms_key_pending(e->core, key_of(e, id));
  assert_non_null(pc);
  assert_int_equal(pc->u.pending.accepted_at, t0);
  assert_int_equal(pc->u.pending.effective_at, t0 + 100);
  /* the pending change is sealed and survives a restart */
  assert_int_equal(h_restart(e), TKMS_OK);
  pc = tkms_key_pending(e->core, key_of(e, id));
  assert_non_null(pc);
  assert_int_equal(pc->u.pending.effective_at, t0 + 100);
  /* GET shows both, with the core's time */
  tkms_fw w;
  h_begin(&w, TKMS_OP_POLICY_GET);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_u64(e, TKMS_F_EFFECTIVE_AT), t0 + 100);
  assert_int_equal(h_u64(e, TKMS_F_ACCEPTED_AT), t0);
  assert_int_equal(h_u64(e, TKMS_F_TIME), h_now);
  /* boundary: effective_at - 1 is the old policy, effective_at the new */
  h_now = t0 + 99;
  policy_eq(tkms_key_policy_at(e->core, key_of(e, id), h_now), &p0);
  assert_int_equal(materialise(e, id), TKMS_E_CHANGE_NOT_DUE);
  /* another change while one is pending: refused */
  tkms_policy p2 = p0;
  p2.rate_per_minute = 5; /* narrowing, but a change is pending */
  assert_int_equal(update(e, &a, id, "", &p2, NULL), TKMS_E_CHANGE_PENDING);
  h_now = t0 + 100;
  policy_eq(tkms_key_policy_at(e->core, key_of(e, id), h_now), &p1);
  /* too late to cancel */
  h_snap before;
  h_snap_take(e, &before);
  h_req_key(e, &w, TKMS_OP_POLICY_CANCEL, id);
  h_sign(e, &w, &a, NULL);
  h_refused(e, &w, TKMS_E_CHANGE_EFFECTIVE, &before);
  /* materialise: no signature needed; folds the change into the key record */
  assert_int_equal(materialise(e, id), TKMS_OK);
  assert_null(tkms_key_pending(e->core, key_of(e, id)));
  policy_eq(tkms_rec_policy(key_of(e, id)), &p1);
  assert_int_equal(materialise(e, id), TKMS_E_NO_PENDING_CHANGE);
  assert_int_equal(sign_with(e, &a, id), TKMS_OK); /* the re-sealed record opens */
  assert_int_equal(h_restart(e), TKMS_OK);
  policy_eq(tkms_rec_policy(key_of(e, id)), &p1);
  assert_int_equal(sign_with(e, &a, id), TKMS_OK);
}

static void test_cancel(void **state) {
  h_env *e = *state;
  h_signer a, other;
  h_signer_eoa(&a, 1);
  h_signer_eoa(&other, 2);
  tkms_policy p0, p1;
  tkms_policy_default(&p0);
  p0.delay_s = 60;
  p0.rate_per_minute = 10;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  assert_int_equal(cancel(e, &a, id), TKMS_E_NO_PENDING_CHANGE);
  p1 = p0;
  p1.rate_per_minute = 0; /* removing the limit widens */
  assert_int_equal(update(e, &a, id, "", &p1, NULL), TKMS_OK);
  assert_non_null(tkms_key_pending(e->core, key_of(e, id)));
  /* only the owner in force may cancel */
  assert_int_equal(cancel(e, &other, id), TKMS_E_WRONG_SIGNER);
  h_now += 59; /* effective_at - 1: still cancellable */
  assert_int_equal(cancel(e, &a, id), TKMS_OK);
  assert_null(tkms_key_pending(e->core, key_of(e, id)));
  h_now += 10;
  policy_eq(tkms_key_policy_at(e->core, key_of(e, id), h_now), &p0);
  assert_int_equal(cancel(e, &a, id), TKMS_E_NO_PENDING_CHANGE);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_null(tkms_key_pending(e->core, key_of(e, id)));
  /* a new change may be proposed once the old one is gone */
  assert_int_equal(update(e, &a, id, "", &p1, NULL), TKMS_OK);
  /* destroying the key drops its pending change with it */
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, id);
  h_sign(e, &w, &a, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_POLICY_CHANGE, id, 16));
  assert_null(h_store_find(e, TKMS_REC_POLICY_CHANGE, id, 16));
  assert_int_equal(h_restart(e), TKMS_OK);
}

static void test_narrow_applies_at_once(void **state) {
  h_env *e = *state;
  h_signer a;
  h_signer_eoa(&a, 1);
  tkms_policy p0, p1;
  full_policy(&p0); /* delay 3600 */
  p0.flags = 0;
  p0.not_after = 0;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  h_rec *before_rec = h_store_find(e, TKMS_REC_KEY, id, 16);
  uint32_t version = before_rec->version;
  p1 = p0;
  p1.rate_per_minute = 1;
  p1.n_software = 1;
  p1.delay_s = 7200;
  uint32_t applied = 9;
  assert_int_equal(update(e, &a, id, "", &p1, &applied), TKMS_OK);
  assert_int_equal(applied, 1);
  assert_null(tkms_key_pending(e->core, key_of(e, id)));
  policy_eq(tkms_key_policy_at(e->core, key_of(e, id), h_now), &p1);
  /* re-sealed at the same version; the old blob is no longer the current record */
  assert_int_equal(key_of(e, id)->version, version);
  assert_int_equal(sign_with(e, &a, id), TKMS_OK);
  assert_int_equal(sign_with(e, &a, id), TKMS_E_KEY_RATE_LIMITED); /* 1 per minute now */
  assert_int_equal(h_restart(e), TKMS_OK);
  policy_eq(tkms_rec_policy(key_of(e, id)), &p1);
  /* a widening under a zero delay applies at once too */
  tkms_policy z;
  tkms_policy_default(&z);
  create_with_policy(e, &a, NULL, 0, id, TKMS_OK);
  z.n_software = 1;
  z.software[0] = sw(1, 3, 0, 2);
  assert_int_equal(update(e, &a, id, "", &z, &applied), TKMS_OK);
  assert_int_equal(applied, 1);
  policy_eq(tkms_rec_policy(key_of(e, id)), &z);
  /* nothing to change; a stale blob */
  assert_int_equal(update(e, &a, id, "", NULL, NULL), TKMS_E_BAD_REQUEST);
  tkms_fw w;
  req_update(e, &w, id, "", &z);
  tkms_fw_free(&w);
  h_begin(&w, TKMS_OP_POLICY_UPDATE);
  tkms_fw_bytes(&w, TKMS_F_KEY_ID, id, 16);
  tkms_fw_bytes(&w, TKMS_F_NEW_OWNER, (const uint8_t *)"", 0);
  tkms_fw_bytes(&w, TKMS_F_POLICY, b, enc(&p0, b));
  h_envelope(e, &w, NULL, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_BLOB, before_rec->blob, 8); /* not the current record */
  h_sign(e, &w, &a, NULL);
  assert_int_equal(h_call(e, &w), TKMS_E_STALE_RECORD);
}

static void test_owner_change(void **state) {
  h_env *e = *state;
  h_signer a, bb;
  h_signer_eoa(&a, 1);
  h_signer_eoa(&bb, 2);
  tkms_policy p0;
  tkms_policy_default(&p0);
  p0.delay_s = 50;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  uint64_t t0 = h_now;
  uint32_t applied = 9;
  /* an owner change always widens (to the new owner), even with the same policy */
  assert_int_equal(update(e, &a, id, bb.text, NULL, &applied), TKMS_OK);
  assert_int_equal(applied, 0);
  /* before effective_at: the old owner signs, the new one is refused */
  h_now = t0 + 49;
  assert_int_equal(sign_with(e, &a, id), TKMS_OK);
  assert_int_equal(sign_with(e, &bb, id), TKMS_E_WRONG_SIGNER);
  assert_int_equal(update(e, &bb, id, "", &p0, NULL), TKMS_E_WRONG_SIGNER);
  /* at effective_at, before anyone materialises it: the new owner only */
  h_now = t0 + 50;
  assert_string_equal(tkms_key_owner_at(e->core, key_of(e, id), h_now), bb.text);
  assert_string_equal(key_of(e, id)->u.key.owner, a.text); /* not materialised */
  assert_int_equal(sign_with(e, &bb, id), TKMS_OK);
  assert_int_equal(sign_with(e, &a, id), TKMS_E_WRONG_SIGNER);
  assert_int_equal(cancel(e, &a, id), TKMS_E_WRONG_SIGNER);
  /* the new owner's narrowing change applies at once and folds the due one in */
  tkms_policy p1 = p0;
  p1.rate_per_minute = 100;
  assert_int_equal(update(e, &bb, id, "", &p1, &applied), TKMS_OK);
  assert_int_equal(applied, 1);
  assert_null(tkms_key_pending(e->core, key_of(e, id)));
  assert_string_equal(key_of(e, id)->u.key.owner, bb.text);
  policy_eq(tkms_rec_policy(key_of(e, id)), &p1);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_string_equal(key_of(e, id)->u.key.owner, bb.text);
  assert_int_equal(sign_with(e, &bb, id), TKMS_OK);
  /* bad new owners */
  assert_int_equal(update(e, &bb, id, "eoa:0xNOT", NULL, NULL), TKMS_E_BAD_REQUEST);
  assert_int_equal(update(e, &bb, id, "EOA:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", NULL, NULL),
                   TKMS_E_BAD_REQUEST);
}

/* Rotation keeps the stored owner and policy and leaves a pending change pending;
 * a due change stays in force across the rotation and materialises on the new
 * version's record. */
static void test_rotate_with_pending(void **state) {
  h_env *e = *state;
  h_signer a, bb;
  h_signer_eoa(&a, 1);
  h_signer_eoa(&bb, 2);
  tkms_policy p0;
  tkms_policy_default(&p0);
  p0.delay_s = 30;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  uint64_t t0 = h_now;
  assert_int_equal(update(e, &a, id, bb.text, NULL, NULL), TKMS_OK);
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, id);
  h_sign(e, &w, &a, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  assert_int_equal(key_of(e, id)->version, 2);
  policy_eq(tkms_rec_policy(key_of(e, id)), &p0);
  assert_non_null(tkms_key_pending(e->core, key_of(e, id)));
  h_now = t0 + 30;
  /* due: the new owner rotates (the old one cannot), the change stays in force */
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, id);
  h_sign(e, &w, &a, NULL);
  assert_int_equal(h_call(e, &w), TKMS_E_WRONG_SIGNER);
  h_req_key(e, &w, TKMS_OP_KEY_ROTATE, id);
  h_sign(e, &w, &bb, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  assert_string_equal(tkms_key_owner_at(e->core, key_of(e, id), h_now), bb.text);
  assert_int_equal(materialise(e, id), TKMS_OK);
  assert_int_equal(key_of(e, id)->version, 3);
  assert_string_equal(key_of(e, id)->u.key.owner, bb.text);
  assert_int_equal(sign_with(e, &bb, id), TKMS_OK);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_int_equal(sign_with(e, &bb, id), TKMS_OK);
}

/* A new widening change while a due one is unmaterialised: the due one is
 * folded into the key (and the answer names the owner in force), the new one
 * pending behind it. */
static void test_widen_over_due_change(void **state) {
  h_env *e = *state;
  h_signer a, bb;
  h_signer_eoa(&a, 1);
  h_signer_eoa(&bb, 2);
  tkms_policy p0;
  tkms_policy_default(&p0);
  p0.delay_s = 5;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  uint64_t t0 = h_now;
  assert_int_equal(update(e, &a, id, bb.text, NULL, NULL), TKMS_OK);
  h_now = t0 + 5;
  tkms_policy p1 = p0;
  p1.n_software = 1;
  p1.software[0] = sw(3, 9, 0, 2);
  tkms_fw w;
  req_update(e, &w, id, "", &p1);
  h_sign(e, &w, &bb, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  assert_int_equal(h_u32(e, TKMS_F_APPLIED), 0);
  char owner[TKMS_MAX_PRINCIPAL + 1];
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_OWNER, owner, TKMS_MAX_PRINCIPAL), 0);
  assert_string_equal(owner, bb.text);
  assert_int_equal(h_u64(e, TKMS_F_EFFECTIVE_AT), t0 + 10);
  h_commit(e);
  assert_string_equal(key_of(e, id)->u.key.owner, bb.text); /* folded in */
  const tkms_rec *pc = tkms_key_pending(e->core, key_of(e, id));
  assert_non_null(pc);
  assert_string_equal(pc->u.pending.new_owner, bb.text);
  policy_eq(tkms_rec_policy(pc), &p1);
  assert_int_equal(sign_with(e, &bb, id), TKMS_OK);
  assert_int_equal(h_restart(e), TKMS_OK);
  assert_string_equal(tkms_key_owner_at(e->core, key_of(e, id), h_now), bb.text);
  policy_eq(tkms_key_policy_at(e->core, key_of(e, id), h_now), &p0);
  policy_eq(tkms_key_policy_at(e->core, key_of(e, id), t0 + 10), &p1);
}

/* A key destroyed by the owner a due (unmaterialised) change made: the receipt
 * names that owner. */
static void test_destroy_by_new_owner(void **state) {
  h_env *e = *state;
  h_signer a, bb;
  h_signer_eoa(&a, 1);
  h_signer_eoa(&bb, 2);
  tkms_policy p0;
  tkms_policy_default(&p0);
  p0.delay_s = 5;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  assert_int_equal(update(e, &a, id, bb.text, NULL, NULL), TKMS_OK);
  h_now += 5;
  tkms_fw w;
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, id);
  h_sign(e, &w, &a, NULL);
  assert_int_equal(h_call(e, &w), TKMS_E_WRONG_SIGNER);
  h_req_key(e, &w, TKMS_OP_KEY_DESTROY, id);
  h_sign(e, &w, &bb, NULL);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  char owner[TKMS_MAX_PRINCIPAL + 1];
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_OWNER, owner, TKMS_MAX_PRINCIPAL), 0);
  assert_string_equal(owner, bb.text);
  assert_string_equal(e->conn.pending->receipt_owner, bb.text);
  h_commit(e);
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_KEY, id, 16));
  assert_null(tkms_index_find(&e->core->index, TKMS_REC_POLICY_CHANGE, id, 16));
}

/* POLICY_DUE lists exactly the keys whose pending change is due. */
static void test_due_listing(void **state) {
  h_env *e = *state;
  h_signer a, bb;
  h_signer_eoa(&a, 1);
  h_signer_eoa(&bb, 2);
  tkms_policy p10, p20;
  tkms_policy_default(&p10);
  p10.delay_s = 10;
  p20 = p10;
  p20.delay_s = 20;
  uint8_t b[TKMS_POLICY_ENC_MAX], k10[16], k20[16], k0[16];
  create_with_policy(e, &a, b, enc(&p10, b), k10, TKMS_OK);
  create_with_policy(e, &a, b, enc(&p20, b), k20, TKMS_OK);
  create_with_policy(e, &a, NULL, 0, k0, TKMS_OK);
  uint64_t t0 = h_now;
  assert_int_equal(update(e, &a, k10, bb.text, NULL, NULL), TKMS_OK);
  assert_int_equal(update(e, &a, k20, bb.text, NULL, NULL), TKMS_OK);
  for (int round = 0; round < 4; round++) {
    h_now = t0 + (uint64_t[]){9, 10, 20, 20}[round];
    if (round == 3) assert_int_equal(materialise(e, k10), TKMS_OK);
    tkms_fw w;
    h_begin(&w, TKMS_OP_POLICY_DUE);
    tkms_fw_u64(&w, TKMS_F_CURSOR, (uint64_t)round * 12345u); /* any cursor is fine */
    assert_int_equal(h_call(e, &w), TKMS_OK);
    int has10 = 0, has20 = 0, n = 0;
    tkms_field_iter it;
    tkms_field_iter_init(&it, &e->rf);
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    while (tkms_field_next(&it, &tag, &v, &len) == 1) {
      if (tag != TKMS_F_KEY_ID) continue;
      n++;
      has10 |= memcmp(v, k10, 16) == 0;
      has20 |= memcmp(v, k20, 16) == 0;
    }
    static const int want10[4] = {0, 1, 1, 0}, want20[4] = {0, 0, 1, 1};
    assert_int_equal(has10, want10[round]);
    assert_int_equal(has20, want20[round]);
    assert_int_equal(n, want10[round] + want20[round]);
  }
}

static void test_replay_and_session(void **state) {
  h_env *e = *state;
  h_signer a, skey;
  h_signer_eoa(&a, 1);
  h_signer_ed(&skey, 7);
  tkms_policy p0, p1;
  tkms_policy_default(&p0);
  p0.delay_s = 10;
  p0.rate_per_minute = 50;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16];
  create_with_policy(e, &a, b, enc(&p0, b), id, TKMS_OK);
  p1 = p0;
  p1.rate_per_minute = 40;
  /* a replayed update: the same signed request twice (and after a restart) */
  tkms_fw w;
  req_update(e, &w, id, "", &p1);
  h_sign(e, &w, &a, NULL);
  assert_int_equal(tkms_fw_finish(&w), 0);
  uint8_t *raw = malloc(w.len);
  size_t raw_len = w.len;
  memcpy(raw, w.buf, w.len);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_commit(e);
  h_snap before;
  for (int round = 0; round < 2; round++) {
    h_snap_take(e, &before);
    tkms_fw again = {.buf = malloc(raw_len), .len = raw_len, .cap = raw_len};
    memcpy(again.buf, raw, raw_len);
    h_refused(e, &again, TKMS_E_REPLAY, &before);
    assert_int_equal(h_restart(e), TKMS_OK);
  }
  free(raw);
  /* a session, even one allowed every operation on this key, cannot change the policy */
  static const char *const all[] = {"create", "sign", "rotate", "destroy", NULL};
  h_begin(&w, TKMS_OP_SESSION_OPEN);
  tkms_fw_str(&w, TKMS_F_OWNER, a.text);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, skey.text);
  for (size_t i = 0; all[i] != NULL; i++) tkms_fw_str(&w, TKMS_F_SCOPE_OP, all[i]);
  tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, id, 16);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 600);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, &a, NULL);
  if (h_call(e, &w) != TKMS_OK) fail_msg("open refused: %s", e->err);
  uint8_t sid[16];
  h_fixed(e, TKMS_F_SESSION_ID, sid, 16);
  h_commit(e);
  h_snap_take(e, &before);
  p1.rate_per_minute = 30;
  req_update(e, &w, id, "", &p1);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  h_req_key(e, &w, TKMS_OP_POLICY_CANCEL, id);
  h_sign(e, &w, &skey, sid);
  h_refused(e, &w, TKMS_E_SCOPE, &before);
  /* but the session may sign within the policy */
  uint8_t msg[4] = "abc";
  h_req_sign(e, &w, id, "message", msg, 4);
  h_sign(e, &w, &skey, sid);
  assert_int_equal(h_call(e, &w), TKMS_OK);
}

static void test_limits_at_sign(void **state) {
  h_env *e = *state;
  h_signer a;
  h_signer_eoa(&a, 1);
  tkms_policy p;
  tkms_policy_default(&p);
  p.not_after = h_now + 10;
  uint8_t b[TKMS_POLICY_ENC_MAX], id[16], id2[16];
  create_with_policy(e, &a, b, enc(&p, b), id, TKMS_OK);
  uint64_t t0 = h_now;
  h_now = t0 + 10; /* at not_after: still allowed */
  assert_int_equal(sign_with(e, &a, id), TKMS_OK);
  h_now = t0 + 11;
  assert_int_equal(sign_with(e, &a, id), TKMS_E_KEY_EXPIRED);
  assert_non_null(strstr(e->err, "until"));
  /* rate: 3 per minute, counted per key and per minute of the core's clock */
  h_now = (h_now / 60 + 1) * 60; /* the start of a minute */
  tkms_policy_default(&p);
  p.rate_per_minute = 3;
  create_with_policy(e, &a, b, enc(&p, b), id2, TKMS_OK);
  for (int i = 0; i < 3; i++) assert_int_equal(sign_with(e, &a, id2), TKMS_OK);
  assert_int_equal(sign_with(e, &a, id2), TKMS_E_KEY_RATE_LIMITED);
  h_now += 59;
  assert_int_equal(sign_with(e, &a, id2), TKMS_E_KEY_RATE_LIMITED);
  h_now += 1; /* the next minute */
  for (int i = 0; i < 3; i++) assert_int_equal(sign_with(e, &a, id2), TKMS_OK);
  assert_int_equal(sign_with(e, &a, id2), TKMS_E_KEY_RATE_LIMITED);
  /* a refused sign (wrong signer) does not spend the budget */
  h_now += 60;
  h_signer other;
  h_signer_eoa(&other, 9);
  for (int i = 0; i < 5; i++) assert_int_equal(sign_with(e, &other, id2), TKMS_E_WRONG_SIGNER);
  for (int i = 0; i < 3; i++) assert_int_equal(sign_with(e, &a, id2), TKMS_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_and_round_trip),
      cmocka_unit_test(test_decode_refusals),
      cmocka_unit_test(test_widens_table),
      cmocka_unit_test(test_key_record_format),
      cmocka_unit_test(test_pending_record_format),
      cmocka_unit_test(test_index_record_size),
      cmocka_unit_test(test_policy_at),
      cmocka_unit_test_setup_teardown(test_create_with_policy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_widen_pending_then_effective, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_narrow_applies_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_owner_change, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rotate_with_pending, setup, teardown),
      cmocka_unit_test_setup_teardown(test_due_listing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_widen_over_due_change, setup, teardown),
      cmocka_unit_test_setup_teardown(test_destroy_by_new_owner, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay_and_session, setup, teardown),
      cmocka_unit_test_setup_teardown(test_limits_at_sign, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
