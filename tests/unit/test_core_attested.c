/* tests/unit/test_core_attested.c — attested sessions and attestation-gated key
 * use at the core level (core/attested.h): the policy match with claims built
 * directly (every refusal and its distinct status), the measurement principal,
 * the report data formula (checked with OpenSSL, not libsodium), the challenge
 * store, the session record format 2 (and that format 1 still decodes), and
 * KEY_SIGN through the core with attested sessions placed in the index. */
#include "test_core_harness.h"
/* after the harness (cmocka) */
#include <openssl/evp.h>

#include "attest/attest.h"
#include "core/attested.h"
#include "core/key_policy.h"
#include "core/policy.h"
#include "core/records.h"
#include "core/sessions.h"
#include "dcap_world.h"

static int setup(void **state) {
  *state = h_setup();
  return 0;
}

static int teardown(void **state) {
  h_teardown(*state);
  return 0;
}

static const uint8_t M_TDX[48] = {0xa1, 0xa1, 0xa1, 0xa1, 1, 2, 3};
static const uint8_t M_OTHER[48] = {0xb2, 0xb2, 0xb2};
static const uint8_t M_SGX[32] = {0x5e, 0x5e, 7};

#define BIT(s) (uint16_t)(1u << (s))

/* tdx M_TDX (UpToDate) and sgx M_SGX (svn >= 5, UpToDate or SWHardeningNeeded),
 * sorted by tee as the canonical form wants. */
static void two_entries(tkms_policy *p, uint8_t flags) {
  memset(p, 0, sizeof *p);
  p->flags = flags;
  p->n_software = 2;
  p->software[0] =
      (tkms_policy_sw){.tee = TKMS_ATTEST_SGX,
                       .mlen = 32,
                       .min_svn = 5,
                       .tcb_mask = BIT(TKMS_TCB_UP_TO_DATE) | BIT(TKMS_TCB_SW_HARDENING_NEEDED)};
  memcpy(p->software[0].measurement, M_SGX, 32);
  p->software[1] =
      (tkms_policy_sw){.tee = TKMS_ATTEST_TDX, .mlen = 48, .tcb_mask = BIT(TKMS_TCB_UP_TO_DATE)};
  memcpy(p->software[1].measurement, M_TDX, 48);
}

static tkms_att_claims claims(uint8_t tee, const uint8_t *m, uint16_t svn, int tcb, int debug) {
  tkms_att_claims c = {.tee = tee, .mlen = tee == TKMS_ATTEST_SGX ? 32 : 48};
  memcpy(c.meas, m, c.mlen);
  c.svn = svn;
  c.tcb_status = (uint8_t)tcb;
  c.debug = debug;
  return c;
}

static int check(const tkms_policy *p, tkms_att_claims c) {
  char why[200] = "";
  int st = tkms_attested_policy_check(p, &c, why, sizeof why);
  if (st != TKMS_OK) assert_true(why[0] != '\0');
  return st;
}

static void test_policy_check(void **state) {
  (void)state;
  tkms_policy p, none;
  two_entries(&p, 0);
  memset(&none, 0, sizeof none);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE, 0)), TKMS_OK);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE, 1)),
                   TKMS_E_DEBUG_NOT_ALLOWED);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_TDX, M_OTHER, 0, TKMS_TCB_UP_TO_DATE, 0)),
                   TKMS_E_MEASUREMENT_NOT_ALLOWED);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_OUT_OF_DATE, 0)),
                   TKMS_E_TCB_STATUS_NOT_ALLOWED);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_SGX, M_SGX, 4, TKMS_TCB_UP_TO_DATE, 0)),
                   TKMS_E_SVN_TOO_LOW);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_SGX, M_SGX, 5, TKMS_TCB_OUT_OF_DATE, 0)),
                   TKMS_E_TCB_STATUS_NOT_ALLOWED);
  assert_int_equal(check(&p, claims(TKMS_ATTEST_SGX, M_SGX, 6, TKMS_TCB_SW_HARDENING_NEEDED, 0)),
                   TKMS_OK);
  /* the same bytes under another TEE are another measurement */
  tkms_att_claims x = claims(TKMS_ATTEST_SNP, M_TDX, 0, TKMS_TCB_NOT_APPLICABLE, 0);
  assert_int_equal(check(&p, x), TKMS_E_MEASUREMENT_NOT_ALLOWED);
  /* a default policy lists no software: no attested session may use the key */
  assert_int_equal(check(&none, claims(TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE, 0)),
                   TKMS_E_MEASUREMENT_NOT_ALLOWED);
  /* debug is refused whatever the policy says */
  assert_int_equal(check(&none, claims(TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE, 1)),
                   TKMS_E_DEBUG_NOT_ALLOWED);
}

static void test_principal_and_report_data(void **state) {
  (void)state;
  char s[TKMS_MAX_PRINCIPAL + 1];
  assert_int_equal(tkms_measurement_principal(TKMS_ATTEST_TDX, M_TDX, 48, s), 0);
  assert_int_equal(strlen(s), strlen("measurement:tdx:0x") + 96);
  assert_memory_equal(s, "measurement:tdx:0xa1a1a1a1010203", 32);
  assert_int_equal(tkms_measurement_principal(TKMS_ATTEST_SGX, M_SGX, 32, s), 0);
  assert_memory_equal(s, "measurement:sgx:0x5e5e07", 24);
  assert_int_equal(tkms_measurement_principal(TKMS_ATTEST_SGX, M_SGX, 31, s), -1);
  assert_int_equal(tkms_measurement_principal(TKMS_ATTEST_AUTO, M_SGX, 32, s), -1);
  assert_int_equal(tkms_measurement_principal(99, M_SGX, 32, s), -1);

  uint8_t salt[32], nonce[32], got[64], want[64];
  for (int i = 0; i < 32; i++) salt[i] = (uint8_t)i, nonce[i] = (uint8_t)(0xff - i);
  const char *key = "ed25519:0x0101010101010101010101010101010101010101010101010101010101010101";
  tkms_attested_report_data(salt, nonce, key, got);
  uint8_t msg[24 + 32 + 32 + 128];
  size_t n = 0;
  memcpy(msg + n, "tkms-attested-session-v1", 24), n += 24;
  memcpy(msg + n, salt, 32), n += 32;
  memcpy(msg + n, nonce, 32), n += 32;
  memcpy(msg + n, key, strlen(key)), n += strlen(key);
  unsigned wl = 0;
  assert_int_equal(EVP_Digest(msg, n, want, &wl, EVP_sha512(), NULL), 1);
  assert_memory_equal(got, want, 64);
  /* each input matters */
  nonce[0] ^= 1;
  tkms_attested_report_data(salt, nonce, key, got);
  assert_memory_not_equal(got, want, 64);
}

static void test_claims_from(void **state) {
  (void)state;
  tkms_attest_claims c;
  tkms_att_claims out;
  const char *why = NULL;
  memset(&c, 0, sizeof c);
  c.format = TKMS_ATTEST_SGX;
  c.tcb_status = TKMS_TCB_SW_HARDENING_NEEDED;
  strcpy(c.meas[0].name, "mrsigner");
  c.meas[0].len = 32;
  strcpy(c.meas[1].name, "mrenclave");
  memcpy(c.meas[1].value, M_SGX, 32);
  c.meas[1].len = 32;
  strcpy(c.meas[2].name, "isvsvn");
  c.meas[2].value[0] = 0x01;
  c.meas[2].value[1] = 0x02;
  c.meas[2].len = 2;
  c.n_meas = 3;
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), 0);
  assert_int_equal(out.tee, TKMS_ATTEST_SGX);
  assert_int_equal(out.mlen, 32);
  assert_memory_equal(out.meas, M_SGX, 32);
  assert_int_equal(out.svn, 0x0102);
  assert_int_equal(out.tcb_status, TKMS_TCB_SW_HARDENING_NEEDED);
  c.n_meas = 2; /* no isvsvn */
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), -1);
  /* TDX: the measurement is SHA-384 over the eight registers in the documented
   * order, whatever order the verifier listed them in (here reversed, with
   * another register between) */
  static const char *const order[] = {"mrtd",  "rtmr0",      "rtmr1",   "rtmr2",
                                      "rtmr3", "mrconfigid", "mrowner", "mrownerconfig"};
  memset(&c, 0, sizeof c);
  c.format = TKMS_ATTEST_TDX;
  strcpy(c.meas[0].name, "mrseam");
  c.meas[0].len = 48;
  uint8_t cat[8 * 48];
  for (size_t i = 0; i < 8; i++) {
    tkms_attest_meas *m = &c.meas[8 - i];
    strcpy(m->name, order[i]);
    memset(m->value, (int)(0x10 + i), 48);
    m->len = 48;
    memcpy(cat + 48 * i, m->value, 48);
  }
  c.n_meas = 9;
  c.debug = 1;
  uint8_t want[48];
  unsigned wl = 0;
  assert_int_equal(EVP_Digest(cat, sizeof cat, want, &wl, EVP_sha384(), NULL), 1);
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), 0);
  assert_int_equal(out.tee, TKMS_ATTEST_TDX);
  assert_int_equal(out.mlen, 48);
  assert_memory_equal(out.meas, want, 48);
  assert_int_equal(out.svn, 0);
  assert_int_equal(out.debug, 1);
  /* any register changed (here RTMR3, MRTD unchanged) changes the measurement */
  c.meas[4].value[47] ^= 1;
  assert_string_equal(c.meas[4].name, "rtmr3");
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), 0);
  assert_memory_not_equal(out.meas, want, 48);
  /* a register missing: refused */
  c.n_meas = 8; /* drops mrtd */
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), -1);
  c.n_meas = 9;
  c.format = TKMS_ATTEST_SIM; /* sim evidence cannot open an attested session */
  why = NULL;
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), -1);
  assert_non_null(strstr(why, "sim"));
  /* tpm2: no root of trust the core can check, whatever the claims */
  memset(&c, 0, sizeof c);
  c.format = TKMS_ATTEST_TPM2;
  strcpy(c.meas[0].name, "pcr_digest");
  c.meas[0].len = 32;
  c.n_meas = 1;
  why = NULL;
  assert_int_equal(tkms_attested_claims_from(&c, &out, &why), -1);
  assert_non_null(strstr(why, "root of trust"));
}

static void test_challenges(void **state) {
  (void)state;
  tkms_challenges *ch = tkms_challenges_new();
  assert_non_null(ch);
  uint8_t a[32], b[32], unknown[32] = {1};
  uint64_t exp;
  assert_int_equal(tkms_challenge_issue(ch, 1000, a, &exp), 0);
  assert_int_equal(exp, 1000 + TKMS_CHALLENGE_TTL);
  assert_int_equal(tkms_challenge_issue(ch, 1000, b, &exp), 0);
  assert_memory_not_equal(a, b, 32);
  assert_int_equal(tkms_challenge_consume(ch, unknown, 1000), -1);
  assert_int_equal(tkms_challenge_consume(ch, a, 1000 + TKMS_CHALLENGE_TTL), 0);
  assert_int_equal(tkms_challenge_consume(ch, a, 1001), -1);                      /* single use */
  assert_int_equal(tkms_challenge_consume(ch, b, 1001 + TKMS_CHALLENGE_TTL), -1); /* expired */
  assert_int_equal(tkms_challenge_consume(ch, b, 1000), -1);                      /* and gone */
  /* bounded: TKMS_MAX_CHALLENGES live at once, then refused until some expire */
  for (unsigned i = 0; i < TKMS_MAX_CHALLENGES; i++)
    assert_int_equal(tkms_challenge_issue(ch, 2000, a, &exp), 0);
  assert_int_equal(tkms_challenge_issue(ch, 2000, a, &exp), -1);
  assert_int_equal(tkms_challenge_issue(ch, 2001 + TKMS_CHALLENGE_TTL, a, &exp), 0);
  tkms_challenges_free(ch);
}

static tkms_rec *attested_rec(const char *session_key, uint8_t tee, const uint8_t *m, uint16_t svn,
                              int tcb) {
  tkms_rec *r = tkms_rec_new(1);
  assert_non_null(r);
  r->type = TKMS_REC_SESSION;
  r->id_len = 16;
  randombytes_buf(r->id, 16);
  r->version = 1;
  r->u.session.attested = 1;
  r->u.session.tee = tee;
  r->u.session.mlen = tee == TKMS_ATTEST_SGX ? 32 : 48;
  memcpy(r->u.session.meas, m, r->u.session.mlen);
  r->u.session.svn = svn;
  r->u.session.tcb_status = (uint8_t)tcb;
  r->u.session.verified_at = h_now;
  assert_int_equal(tkms_measurement_principal(tee, m, r->u.session.mlen, r->u.session.owner), 0);
  strcpy(r->u.session.session_key, session_key);
  r->u.session.ops = TKMS_SCOPE_SIGN;
  r->u.session.expiry = h_now + 600;
  r->u.session.n_keys = 0;
  return r;
}

static void test_session_record_format(void **state) {
  (void)state;
  h_signer sk;
  h_signer_ed(&sk, 9);
  tkms_rec *r = attested_rec(sk.text, TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_OUT_OF_DATE);
  uint8_t buf[TKMS_SESSREC_MAX];
  size_t n = tkms_rec_plain_encode(r, NULL, buf, sizeof buf);
  assert_true(n > 0);
  assert_int_equal(buf[0], TKMS_SESSREC_FORMAT_ATTESTED);
  tkms_rec *d = NULL;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_SESSION, r->id, 16, 1, buf, n, &d, NULL), 0);
  assert_int_equal(d->u.session.attested, 1);
  assert_string_equal(d->u.session.owner, r->u.session.owner);
  assert_string_equal(d->u.session.session_key, sk.text);
  assert_int_equal(d->u.session.tee, TKMS_ATTEST_TDX);
  assert_int_equal(d->u.session.mlen, 48);
  assert_memory_equal(d->u.session.meas, M_TDX, 48);
  assert_int_equal(d->u.session.tcb_status, TKMS_TCB_OUT_OF_DATE);
  assert_int_equal(d->u.session.verified_at, h_now);
  assert_int_equal(d->u.session.ops, TKMS_SCOPE_SIGN);
  tkms_rec_free(d);
  /* every truncation is refused */
  for (size_t k = 0; k < n; k++)
    assert_int_equal(tkms_rec_plain_decode(TKMS_REC_SESSION, r->id, 16, 1, buf, k, &d, NULL), -1);
  /* an owner that is not the record's measurement */
  size_t off = 2; /* format, owner length */
  buf[off + strlen("measurement:tdx:0x")] ^= 1;
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_SESSION, r->id, 16, 1, buf, n, &d, NULL), -1);
  buf[off + strlen("measurement:tdx:0x")] ^= 1;
  /* an attested session with scope beyond sign */
  r->u.session.ops = TKMS_SCOPE_ALL;
  n = tkms_rec_plain_encode(r, NULL, buf, sizeof buf);
  assert_true(n > 0);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_SESSION, r->id, 16, 1, buf, n, &d, NULL), -1);
  /* an owner's session still encodes and decodes as format 1 */
  h_signer owner;
  h_signer_eoa(&owner, 3);
  memset(&r->u.session, 0, sizeof r->u.session);
  strcpy(r->u.session.owner, owner.text);
  strcpy(r->u.session.session_key, sk.text);
  r->u.session.ops = TKMS_SCOPE_SIGN | TKMS_SCOPE_ROTATE;
  r->u.session.expiry = 5;
  n = tkms_rec_plain_encode(r, NULL, buf, sizeof buf);
  assert_int_equal(buf[0], 1);
  assert_int_equal(tkms_rec_plain_decode(TKMS_REC_SESSION, r->id, 16, 1, buf, n, &d, NULL), 0);
  assert_int_equal(d->u.session.attested, 0);
  assert_string_equal(d->u.session.owner, owner.text);
  tkms_rec_free(d);
  tkms_rec_free(r);
}

/* ---- through the core ----------------------------------------------------------- */

static void create_with_policy(h_env *e, const h_signer *owner, const tkms_policy *p,
                               uint8_t key_id[16]) {
  uint8_t b[TKMS_POLICY_ENC_MAX];
  size_t n = tkms_policy_encode(p, b, sizeof b);
  assert_true(n > 0);
  tkms_fw w;
  h_begin(&w, TKMS_OP_KEY_CREATE);
  tkms_fw_str(&w, TKMS_F_KEY_TYPE, "secp256k1");
  tkms_fw_str(&w, TKMS_F_OWNER, owner->text);
  tkms_fw_bytes(&w, TKMS_F_POLICY, b, n);
  h_envelope(e, &w, NULL, h_now + 60);
  h_sign(e, &w, owner, NULL);
  if (h_call(e, &w) != TKMS_OK) fail_msg("create refused: %s", e->err);
  h_fixed(e, TKMS_F_KEY_ID, key_id, 16);
  h_commit(e);
}

/* A sign of key_id by signer through session sid (NULL: no session). */
static int sign_by(h_env *e, const uint8_t key_id[16], const h_signer *signer, const uint8_t *sid) {
  uint8_t payload[32] = {7};
  tkms_fw w;
  h_req_sign(e, &w, key_id, "digest", payload, sizeof payload);
  h_sign(e, &w, signer, sid);
  return h_call(e, &w);
}

static void test_gated_sign(void **state) {
  h_env *e = *state;
  h_signer owner, sk;
  h_signer_eoa(&owner, 1);
  h_signer_ed(&sk, 2);
  tkms_policy p;
  two_entries(&p, 0);
  uint8_t k[16], kr[16], kd[16];
  create_with_policy(e, &owner, &p, k);
  two_entries(&p, TKMS_POLICY_F_REQUIRE_ATTESTATION);
  create_with_policy(e, &owner, &p, kr);
  memset(&p, 0, sizeof p);
  create_with_policy(e, &owner, &p, kd); /* default: no software */

  /* attested sessions with claims built directly, placed in the index */
  struct {
    uint8_t tee;
    const uint8_t *m;
    uint16_t svn;
    int tcb;
    int want_k, want_kd;
  } cases[] = {
      {TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE, TKMS_OK, TKMS_E_MEASUREMENT_NOT_ALLOWED},
      {TKMS_ATTEST_TDX, M_OTHER, 0, TKMS_TCB_UP_TO_DATE, TKMS_E_MEASUREMENT_NOT_ALLOWED,
       TKMS_E_MEASUREMENT_NOT_ALLOWED},
      {TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_OUT_OF_DATE, TKMS_E_TCB_STATUS_NOT_ALLOWED,
       TKMS_E_MEASUREMENT_NOT_ALLOWED},
      {TKMS_ATTEST_SGX, M_SGX, 4, TKMS_TCB_UP_TO_DATE, TKMS_E_SVN_TOO_LOW,
       TKMS_E_MEASUREMENT_NOT_ALLOWED},
      {TKMS_ATTEST_SGX, M_SGX, 9, TKMS_TCB_SW_HARDENING_NEEDED, TKMS_OK,
       TKMS_E_MEASUREMENT_NOT_ALLOWED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tkms_rec *r = attested_rec(sk.text, cases[i].tee, cases[i].m, cases[i].svn, cases[i].tcb);
    uint8_t sid[16];
    memcpy(sid, r->id, 16);
    tkms_index_put(&e->core->index, r);
    int st = sign_by(e, k, &sk, sid);
    if (st != cases[i].want_k)
      fail_msg("case %zu: %d (%s), want %d", i, st, e->err, cases[i].want_k);
    assert_int_equal(sign_by(e, kr, &sk, sid), cases[i].want_k); /* require_attestation: same */
    assert_int_equal(sign_by(e, kd, &sk, sid), cases[i].want_kd);
    /* the session key must sign: the owner's signature through it does not verify */
    assert_int_equal(sign_by(e, k, &owner, sid), TKMS_E_BAD_SIGNATURE);
    /* only sign: rotate through an attested session is out of scope */
    tkms_fw w;
    h_req_key(e, &w, TKMS_OP_KEY_ROTATE, k);
    h_sign(e, &w, &sk, sid);
    assert_int_equal(h_call(e, &w), TKMS_E_SCOPE);
  }
  /* require_attestation: the owner is refused, the other keys still sign for it */
  assert_int_equal(sign_by(e, kr, &owner, NULL), TKMS_E_ATTESTATION_REQUIRED);
  assert_int_equal(sign_by(e, k, &owner, NULL), TKMS_OK);
  assert_int_equal(sign_by(e, kd, &owner, NULL), TKMS_OK);
}

static void test_open_attested_refusals(void **state) {
  h_env *e = *state;
  h_signer sk;
  h_signer_ed(&sk, 4);
  uint8_t nonce[32] = {9}, any_key[16] = {1};
  tkms_fw w;
  h_snap before;
  h_snap_take(e, &before);
  /* a nonce the core never issued */
  h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
  tkms_fw_str(&w, TKMS_F_ATT_FORMAT, "tdx");
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, "x", 1);
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, sk.text);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
  tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, any_key, 16);
  h_refused(e, &w, TKMS_E_STALE_NONCE, &before);
  /* an issued nonce, then evidence that does not parse: consumed all the same */
  h_begin(&w, TKMS_OP_ATTEST_CHALLENGE);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_NONCE, nonce, 32);
  /* before that: refusals at parse, which leave the nonce live. tpm2 and sim
   * evidence are refused whatever they carry (no root of trust the core can
   * check; always debug), and a request without key ids is refused */
  const char *never[] = {"tpm2", "sim"};
  for (size_t i = 0; i < 2; i++) {
    h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
    tkms_fw_str(&w, TKMS_F_ATT_FORMAT, never[i]);
    tkms_fw_bytes(&w, TKMS_F_EVIDENCE, "x", 1);
    tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
    tkms_fw_str(&w, TKMS_F_SESSION_KEY, sk.text);
    tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
    tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, any_key, 16);
    h_refused(e, &w, TKMS_E_UNSUPPORTED, &before);
    assert_non_null(strstr(e->err, i == 0 ? "root of trust" : "debug"));
  }
  h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
  tkms_fw_str(&w, TKMS_F_ATT_FORMAT, "tdx");
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, "x", 1);
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, sk.text);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  assert_non_null(strstr(e->err, "key_ids"));
  for (int round = 0; round < 2; round++) {
    h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
    tkms_fw_str(&w, TKMS_F_ATT_FORMAT, "tdx");
    tkms_fw_bytes(&w, TKMS_F_EVIDENCE, "x", 1);
    tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
    tkms_fw_str(&w, TKMS_F_SESSION_KEY, sk.text);
    tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
    tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, any_key, 16);
    h_refused(e, &w, round == 0 ? TKMS_E_EVIDENCE_INVALID : TKMS_E_STALE_NONCE, &before);
  }
  /* malformed requests: 400 before the nonce is looked at */
  const char *formats[] = {"auto", "TDX", ""};
  for (size_t i = 0; i < 3; i++) {
    h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
    tkms_fw_str(&w, TKMS_F_ATT_FORMAT, formats[i]);
    tkms_fw_bytes(&w, TKMS_F_EVIDENCE, "x", 1);
    tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
    tkms_fw_str(&w, TKMS_F_SESSION_KEY, sk.text);
    tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 60);
    tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, any_key, 16);
    h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
  }
  h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
  tkms_fw_str(&w, TKMS_F_ATT_FORMAT, "tdx");
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, "x", 1);
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, sk.text);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + TKMS_MAX_ATTESTED_TTL + 1);
  tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, any_key, 16);
  h_refused(e, &w, TKMS_E_BAD_REQUEST, &before);
}

/* ---- SESSION_OPEN_ATTESTED end to end in the core, on test-CA evidence ----------- */

typedef struct {
  dcap_world w;
  h_signer sk;
} open_ctx;

/* Asks for a challenge, makes a TDX quote (mrtd, debug, report data for bound_key,
 * collateral with tcb_status) and sends SESSION_OPEN_ATTESTED for o->sk. */
static int open_with3(h_env *e, open_ctx *o, const uint8_t *mrtd, const uint8_t *rtmr3, int debug,
                      const char *bound_key, const char *tcb_status, const uint8_t *key_id) {
  tkms_fw w;
  uint8_t nonce[32], rd[64];
  h_begin(&w, TKMS_OP_ATTEST_CHALLENGE);
  assert_int_equal(h_call(e, &w), TKMS_OK);
  h_fixed(e, TKMS_F_NONCE, nonce, 32);
  tkms_attested_report_data(e->salt, nonce, bound_key != NULL ? bound_key : o->sk.text, rd);
  dcap_quote_mods m = {.report_data = rd, .mrtd = mrtd, .rtmr3 = rtmr3};
  if (debug) {
    m.body_off[0] = TKMS_TD_R_TDATTRIBUTES;
    m.body_val[0] = (uint8_t)(o->w.rq.body[TKMS_TD_R_TDATTRIBUTES] | 1);
  }
  size_t qlen;
  uint8_t *q = dcap_world_quote(&o->w, &m, &qlen);
  tkms_cli_collateral col;
  dcap_world_fresh_collateral(&o->w, (time_t)h_now, tcb_status, &col);
  h_begin(&w, TKMS_OP_SESSION_OPEN_ATTESTED);
  tkms_fw_str(&w, TKMS_F_ATT_FORMAT, "tdx");
  tkms_fw_bytes(&w, TKMS_F_EVIDENCE, q, qlen);
  for (size_t i = 0; i < col.col.n; i++) {
    size_t nl = strlen(col.col.items[i].name), n = 1 + nl + col.col.items[i].len;
    uint8_t *item = malloc(n);
    assert_non_null(item);
    item[0] = (uint8_t)nl;
    memcpy(item + 1, col.col.items[i].name, nl);
    memcpy(item + 1 + nl, col.col.items[i].data, col.col.items[i].len);
    tkms_fw_bytes(&w, TKMS_F_COLLATERAL, item, n);
    free(item);
  }
  tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
  tkms_fw_str(&w, TKMS_F_SESSION_KEY, o->sk.text);
  tkms_fw_u64(&w, TKMS_F_EXPIRY, h_now + 600);
  if (key_id != NULL) tkms_fw_bytes(&w, TKMS_F_SCOPE_KEY, key_id, 16);
  free(q);
  tkms_cli_collateral_free(&col);
  return h_call(e, &w);
}

static int open_with(h_env *e, open_ctx *o, const uint8_t *mrtd, int debug, const char *bound_key,
                     const char *tcb_status, const uint8_t *key_id) {
  return open_with3(e, o, mrtd, NULL, debug, bound_key, tcb_status, key_id);
}

/* The TD identity of the world's quote with mrtd (and rtmr3 if not NULL), from
 * the TD report's bytes at their offsets (docs/attested-sessions.md). */
static void td_identity(const open_ctx *o, const uint8_t *mrtd, const uint8_t *rtmr3,
                        uint8_t out[48]) {
  uint8_t body[TKMS_TD_R_REPORTDATA];
  memcpy(body, o->w.rq.body, sizeof body);
  memcpy(body + TKMS_TD_R_MRTD, mrtd, 48);
  if (rtmr3 != NULL) memcpy(body + TKMS_TD_R_RTMR0 + 144, rtmr3, 48);
  EVP_MD_CTX *x = EVP_MD_CTX_new();
  assert_non_null(x);
  assert_int_equal(EVP_DigestInit_ex(x, EVP_sha384(), NULL), 1);
  assert_int_equal(EVP_DigestUpdate(x, body + TKMS_TD_R_MRTD, 48), 1);
  assert_int_equal(EVP_DigestUpdate(x, body + TKMS_TD_R_RTMR0, 4 * 48), 1);
  assert_int_equal(EVP_DigestUpdate(x, body + TKMS_TD_R_MRCONFIGID, 48), 1);
  assert_int_equal(EVP_DigestUpdate(x, body + TKMS_TD_R_MROWNER, 48), 1);
  assert_int_equal(EVP_DigestUpdate(x, body + TKMS_TD_R_MROWNERCONFIG, 48), 1);
  unsigned n = 0;
  assert_int_equal(EVP_DigestFinal_ex(x, out, &n), 1);
  assert_int_equal(n, 48);
  EVP_MD_CTX_free(x);
}

static void test_open_attested_end_to_end(void **state) {
  h_env *e = *state;
  open_ctx o;
  dcap_world_init(&o.w, 1, "Intel SGX PCK Certificate", "Intel SGX TCB Signing", NULL);
  h_signer_ed(&o.sk, 5);
  h_signer owner;
  h_signer_eoa(&owner, 6);
  tkms_policy p;
  two_entries(&p, 0);
  /* the policy names the TD's identity, not its MRTD */
  uint8_t id_tdx[48];
  td_identity(&o, M_TDX, NULL, id_tdx);
  memcpy(p.software[1].measurement, id_tdx, 48);
  uint8_t k[16];
  create_with_policy(e, &owner, &p, k);
  /* a key whose policy names the MRTD alone (the old rule) lets no TD in */
  tkms_policy p_mrtd;
  two_entries(&p_mrtd, 0);
  uint8_t k_mrtd[16];
  create_with_policy(e, &owner, &p_mrtd, k_mrtd);

  /* without the test root the core trusts Intel's root only */
  assert_int_equal(open_with(e, &o, M_TDX, 0, NULL, NULL, k), TKMS_E_EVIDENCE_INVALID);
  assert_non_null(strstr(e->err, "root"));
  e->core->has_test_root = 1;
  memcpy(e->core->test_root, o.w.pin, 65);

  h_snap before;
  h_snap_take(e, &before);
  assert_int_equal(open_with(e, &o, M_TDX, 1, NULL, NULL, k), TKMS_E_DEBUG_NOT_ALLOWED);
  h_signer other;
  h_signer_ed(&other, 7);
  assert_int_equal(open_with(e, &o, M_TDX, 0, other.text, NULL, k), TKMS_E_SESSION_KEY_NOT_BOUND);
  assert_int_equal(open_with(e, &o, M_OTHER, 0, NULL, NULL, k), TKMS_E_MEASUREMENT_NOT_ALLOWED);
  assert_int_equal(open_with(e, &o, M_TDX, 0, NULL, "OutOfDate", k), TKMS_E_TCB_STATUS_NOT_ALLOWED);
  /* an attacker's TD on the same firmware (same MRTD) with another RTMR3 */
  static const uint8_t RTMR3_ATTACKER[48] = {0xee, 0xee, 0x01};
  assert_int_equal(open_with3(e, &o, M_TDX, RTMR3_ATTACKER, 0, NULL, NULL, k),
                   TKMS_E_MEASUREMENT_NOT_ALLOWED);
  assert_int_equal(open_with(e, &o, M_TDX, 0, NULL, NULL, k_mrtd), TKMS_E_MEASUREMENT_NOT_ALLOWED);
  h_snap_same(e, &before);

  assert_int_equal(open_with(e, &o, M_TDX, 0, NULL, NULL, k), TKMS_OK);
  uint8_t sid[16];
  h_fixed(e, TKMS_F_SESSION_ID, sid, 16);
  char owner_text[TKMS_MAX_PRINCIPAL + 1], want[TKMS_MAX_PRINCIPAL + 1];
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_OWNER, owner_text, TKMS_MAX_PRINCIPAL), 0);
  assert_int_equal(tkms_measurement_principal(TKMS_ATTEST_TDX, id_tdx, 48, want), 0);
  assert_string_equal(owner_text, want);
  char tcb[32];
  assert_int_equal(tkms_frame_get_str(&e->rf, TKMS_F_ATT_TCB_STATUS, tcb, sizeof tcb - 1), 0);
  assert_string_equal(tcb, "UpToDate");
  h_commit(e);
  assert_int_equal(sign_by(e, k, &o.sk, sid), TKMS_OK);
  /* the session and its claims survive a restart of the core */
  assert_int_equal(h_restart(e), 0);
  assert_int_equal(sign_by(e, k, &o.sk, sid), TKMS_OK);
  const tkms_rec *r = tkms_index_find(&e->core->index, TKMS_REC_SESSION, sid, 16);
  assert_non_null(r);
  assert_int_equal(r->u.session.attested, 1);
  assert_memory_equal(r->u.session.meas, id_tdx, 48);
  dcap_world_free(&o.w);
}

/* At most TKMS_MAX_ATTESTED_SESSIONS live attested sessions; expired ones do
 * not count. Owners' sessions are not affected by the cap. */
static void test_open_attested_cap(void **state) {
  h_env *e = *state;
  open_ctx o;
  dcap_world_init(&o.w, 1, "Intel SGX PCK Certificate", "Intel SGX TCB Signing", NULL);
  h_signer_ed(&o.sk, 5);
  e->core->has_test_root = 1;
  memcpy(e->core->test_root, o.w.pin, 65);
  h_signer owner;
  h_signer_eoa(&owner, 6);
  tkms_policy p;
  two_entries(&p, 0);
  td_identity(&o, M_TDX, NULL, p.software[1].measurement);
  uint8_t k[16];
  create_with_policy(e, &owner, &p, k);
  /* one expired attested session and TKMS_MAX_ATTESTED_SESSIONS - 1 live ones */
  tkms_rec *x = attested_rec(o.sk.text, TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE);
  x->u.session.expiry = h_now - 1;
  tkms_index_put(&e->core->index, x);
  for (unsigned i = 0; i + 1 < TKMS_MAX_ATTESTED_SESSIONS; i++)
    tkms_index_put(&e->core->index,
                   attested_rec(o.sk.text, TKMS_ATTEST_TDX, M_TDX, 0, TKMS_TCB_UP_TO_DATE));
  assert_int_equal(open_with(e, &o, M_TDX, 0, NULL, NULL, k), TKMS_OK);
  h_commit(e);
  h_snap before;
  h_snap_take(e, &before);
  assert_int_equal(open_with(e, &o, M_TDX, 0, NULL, NULL, k), TKMS_E_LIMIT);
  assert_non_null(strstr(e->err, "attested sessions"));
  h_snap_same(e, &before);
  dcap_world_free(&o.w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_policy_check),
      cmocka_unit_test(test_principal_and_report_data),
      cmocka_unit_test(test_claims_from),
      cmocka_unit_test(test_challenges),
      cmocka_unit_test(test_session_record_format),
      cmocka_unit_test_setup_teardown(test_gated_sign, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_attested_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_attested_end_to_end, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_attested_cap, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
