// tests/integration/attested.test.mjs — attested sessions and attestation-gated
// key use through HTTP (docs/attested-sessions.md). Evidence comes from
// build/tests/fake_quote: the real TDX quote of ../shared/vectors re-signed by a
// test CA, with chosen report data, MRTD, RTMR3, debug bit and TCB status. The
// server trusts that CA through --attestation-test-root (sim only). Report data
// and the TD identity a policy names are computed here independently
// (node:crypto SHA-512 and SHA-384 over the quote's bytes at their documented
// offsets); signatures are checked with ethers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { start, makeTmpDir, BUILD, TKMS_BIN, ENCLAVE_BIN } from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, rand, now, hex, unhex } from './lib/client.mjs';
import { HEX, expectError, expectStatus, checkSecpSignature, expectRefused } from './lib/checks.mjs';

const FAKE_QUOTE = path.join(BUILD, 'tests', 'fake_quote');
const LABEL = 'tkms-attested-session-v1';
const MRTD = '0x' + 'a1'.repeat(48);
const OTHER_MRTD = '0x' + 'b2'.repeat(48);
const OTHER_RTMR3 = '0x' + 'c3'.repeat(48);

/**
 * The TD identity of a TDX v4 quote, as docs/attested-sessions.md defines it:
 * SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2 || RTMR3 || MRCONFIGID || MROWNER ||
 * MROWNERCONFIG), each 48 bytes of the TD report, which starts after the 48-byte
 * quote header.
 */
function tdIdentity(evidenceHex) {
  const ev = unhex(evidenceHex);
  const at = (off) => ev.subarray(48 + off, 48 + off + 48);
  const h = createHash('sha384');
  h.update(at(136)); // MRTD
  for (let i = 0; i < 4; i++) h.update(at(328 + 48 * i)); // RTMR0..3
  h.update(at(184)); // MRCONFIGID
  h.update(at(232)); // MROWNER
  h.update(at(280)); // MROWNERCONFIG
  return '0x' + h.digest('hex');
}
let TD_ID; // the identity of fake_quote's TD with MRTD (the allowed software)
let anyKey; // a key whose policy allows TD_ID, listed by default

let caDir;
let rootKey;
let srv;
let c;
const owner = new EoaSigner();

function fakeQuote(reportData, { mrtd = MRTD, rtmr3, debug = false, tcb, at } = {}) {
  const args = ['quote', caDir, '--report-data', reportData, '--mrtd', mrtd];
  if (rtmr3) args.push('--rtmr3', rtmr3);
  if (debug) args.push('--debug');
  if (tcb) args.push('--tcb-status', tcb);
  if (at) args.push('--at', String(at));
  const r = spawnSync(FAKE_QUOTE, args, { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `fake_quote failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** SHA-512(label || salt || nonce || session key principal text), as docs/attested-sessions.md says. */
function reportData(salt, nonce, sessionKey) {
  const h = createHash('sha512');
  h.update(Buffer.from(LABEL, 'utf8'));
  h.update(unhex(salt));
  h.update(unhex(nonce));
  h.update(Buffer.from(sessionKey, 'utf8'));
  return '0x' + h.digest('hex');
}

async function challenge() {
  const r = await c.raw('POST', '/v1/attestation/challenge', {});
  expectStatus(r, 200);
  assert.match(r.json.nonce, HEX(32));
  assert.ok(r.json.expires_at > now() && r.json.expires_at <= now() + 301);
  return r.json.nonce;
}

/** Open an attested session for signer (an Ed25519Signer or EoaSigner). */
async function openAttested(signer, opts = {}) {
  const nonce = opts.nonce ?? (await challenge());
  const bound = opts.boundKey ?? signer.principal;
  const q = fakeQuote(reportData(c.salt, nonce, bound), opts);
  const body = {
    format: q.format,
    evidence: q.evidence,
    collateral: q.collateral,
    nonce,
    session_key: signer.principal,
    expiry: opts.expiry ?? now() + 600,
  };
  const keyIds = opts.keyIds === undefined ? [anyKey.key_id] : opts.keyIds;
  if (keyIds !== null) body.key_ids = keyIds;
  if (opts.format) body.format = opts.format;
  const res = await c.raw('POST', '/v1/sessions/attested', body);
  return { res, nonce, body };
}

/** A request that must be refused; the state counter must not move. */
const refused = (fn, status, code) => expectRefused(c, fn, status, code);

before(async () => {
  assert.ok(fs.existsSync(FAKE_QUOTE), `${FAKE_QUOTE} missing: make ${FAKE_QUOTE}`);
  caDir = path.join(makeTmpDir('tkms-ca-'), 'ca');
  const init = spawnSync(FAKE_QUOTE, ['init', caDir], { encoding: 'utf8', timeout: 20000 });
  assert.equal(init.status, 0, init.stderr);
  const q0 = fakeQuote('0x' + '00'.repeat(64));
  rootKey = q0.root_key;
  assert.match(rootKey, /^0x04[0-9a-f]{128}$/);
  // the offsets tdIdentity reads: MRTD where fake_quote put it
  assert.equal(hex(unhex(q0.evidence).subarray(48 + 136, 48 + 184)), MRTD);
  TD_ID = tdIdentity(q0.evidence);
  assert.notEqual(TD_ID, tdIdentity(fakeQuote('0x' + '00'.repeat(64), { rtmr3: OTHER_RTMR3 }).evidence));
  srv = await start({ extraArgs: ['--attestation-test-root', rootKey] });
  c = await new Client(srv.url).init();
  anyKey = await keyWithPolicy(allowTd());
});
after(async () => {
  await srv?.stop();
});

test('fake_quote evidence verifies with tkms evidence verify --test-root, and only with it', () => {
  const rd = '0x' + 'ab'.repeat(64);
  const q = fakeQuote(rd, { tcb: 'OutOfDate', debug: true });
  const dir = makeTmpDir('tkms-fq-');
  fs.writeFileSync(path.join(dir, 'ev.hex'), q.evidence);
  fs.writeFileSync(path.join(dir, 'col.json'), JSON.stringify(q.collateral));
  const args = ['evidence', 'verify', '--format', 'tdx', '--collateral', path.join(dir, 'col.json')];
  const ok = spawnSync(TKMS_BIN, [...args, '--test-root', q.root_key, path.join(dir, 'ev.hex')], {
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(ok.status, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  assert.equal(j.valid, true);
  assert.equal(j.report_data, rd.slice(2));
  assert.equal(j.measurements.mrtd, MRTD.slice(2));
  assert.equal(j.debug, true);
  assert.equal(j.tcb_status, 'OutOfDate');
  // Against the pinned Intel root the test CA is refused.
  const bad = spawnSync(TKMS_BIN, [...args, path.join(dir, 'ev.hex')], { encoding: 'utf8', timeout: 20000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /REFUSED \(root\)/);
});

test('health reports the test root loudly', async () => {
  const h = await c.getHealth();
  expectStatus(h, 200);
  assert.equal(h.json.attestation_test_root, true);
  assert.match(h.json.attestation_warning, /TEST ROOT/);
});

test('the test root is refused off the sim platform (host and core)', async () => {
  const dir = makeTmpDir();
  const r = spawnSync(
    TKMS_BIN,
    ['serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--platform', 'tpm2', '--attestation-test-root', rootKey],
    { encoding: 'utf8', timeout: 20000 },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /only on the sim platform/);
  // The core itself, given a socket on fd 3, refuses before touching the platform.
  const core = spawn(
    ENCLAVE_BIN,
    ['--data-dir', dir, '--workers', '1', '--platform', 'tpm2', '--attestation-test-root', rootKey],
    { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  core.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => {
    const t = setTimeout(() => {
      core.kill('SIGKILL');
      resolve('timeout');
    }, 10000);
    // 'close' (not 'exit'): stderr is read to its end first
    core.on('close', (cd) => {
      clearTimeout(t);
      resolve(cd);
    });
  });
  assert.equal(code, 2, err);
  assert.match(err, /accepted only on the sim platform/);
});

test('a challenge nonce is fresh each time', async () => {
  const a = await challenge();
  const b = await challenge();
  assert.notEqual(a, b);
});

test('attested session opens; its principal is the measurement; scope sign only', async () => {
  const sk = new Ed25519Signer();
  const { res } = await openAttested(sk);
  expectStatus(res, 201);
  assert.match(res.json.session_id, HEX(16));
  assert.equal(res.json.owner, `measurement:tdx:${TD_ID}`);
  assert.equal(res.json.session_key, sk.principal);
  assert.equal(res.json.tee, 'tdx');
  assert.equal(res.json.measurement, TD_ID);
  assert.equal(res.json.tcb_status, 'UpToDate');
  assert.deepEqual(res.json.operations, ['sign']);
});

test('stale nonce: reused and unknown → 401 stale_nonce', async () => {
  const sk = new Ed25519Signer();
  const first = await openAttested(sk);
  expectStatus(first.res, 201);
  await refused(async () => (await openAttested(sk, { nonce: first.nonce })).res, 401, 'stale_nonce');
  await refused(async () => (await openAttested(sk, { nonce: rand(32) })).res, 401, 'stale_nonce');
});

test('session key not bound by the evidence → 401 session_key_not_bound', async () => {
  const sk = new Ed25519Signer();
  const other = new Ed25519Signer();
  await refused(async () => (await openAttested(sk, { boundKey: other.principal })).res, 401, 'session_key_not_bound');
});

test('debug TD → 403 debug_not_allowed', async () => {
  await refused(async () => (await openAttested(new Ed25519Signer(), { debug: true })).res, 403, 'debug_not_allowed');
});

test('evidence the verifier refuses → 401 evidence_invalid', async () => {
  // collateral that expired a year before the core's time
  const res = await refused(
    async () => (await openAttested(new Ed25519Signer(), { at: now() - 400 * 86400 })).res,
    401,
    'evidence_invalid',
  );
  assert.match(res.json.error.message, /expired/);
  // a tampered quote (a byte of the signed body flipped)
  const nonce = await challenge();
  const sk = new Ed25519Signer();
  const q = fakeQuote(reportData(c.salt, nonce, sk.principal));
  const ev = unhex(q.evidence);
  ev[200] ^= 1;
  const r = await c.raw('POST', '/v1/sessions/attested', {
    format: 'tdx',
    evidence: hex(ev),
    collateral: q.collateral,
    nonce,
    session_key: sk.principal,
    expiry: now() + 600,
    key_ids: [anyKey.key_id],
  });
  expectError(r, 401, 'evidence_invalid');
});

test('bad requests → 400 and nothing changes', async () => {
  const sk = new Ed25519Signer();
  await refused(async () => (await openAttested(sk, { expiry: now() + 2 * 86400 })).res, 400, 'bad_request');
  await refused(async () => (await openAttested({ principal: 'measurement:tdx:0x00' })).res, 400, 'bad_request');
  const r = await c.raw('POST', '/v1/sessions/attested', { format: 'tdx' });
  expectError(r, 400, 'bad_request');
  // no key ids: a session must name at least one key whose policy allows the TD
  const none = await refused(async () => (await openAttested(sk, { keyIds: null })).res, 400, 'bad_request');
  assert.match(none.json.error.message, /key_ids/);
  await refused(async () => (await openAttested(sk, { keyIds: [] })).res, 400, 'bad_request');
});

test('tpm2 and sim evidence → 400 unsupported (no root of trust the core can check)', async () => {
  for (const format of ['tpm2', 'sim']) {
    const res = await refused(async () => (await openAttested(new Ed25519Signer(), { format })).res, 400, 'unsupported');
    assert.match(res.json.error.message, format === 'tpm2' ? /root of trust/ : /debug/);
  }
  // and no policy may list tpm2
  const m32 = '0x' + '11'.repeat(32);
  const k = await c.createKey(owner, 'secp256k1', {
    policy: { software: [{ tee: 'tpm2', measurement: m32, tcb_statuses: ['NotApplicable'] }] },
  });
  expectError(k, 400, 'unsupported');
  assert.match(k.json.error.message, /root of trust/);
});

test('a key with the default policy (no software) refuses an attested session', async () => {
  const k = await c.createKey(owner, 'secp256k1');
  expectStatus(k, 201);
  const sk = new Ed25519Signer();
  // listed at open: refused there (alone or beside an allowing key)
  await refused(
    async () => (await openAttested(sk, { keyIds: [k.json.key_id] })).res,
    403,
    'measurement_not_allowed',
  );
  await refused(
    async () => (await openAttested(sk, { keyIds: [anyKey.key_id, k.json.key_id] })).res,
    403,
    'measurement_not_allowed',
  );
  // a session of another key cannot reach it
  const { res } = await openAttested(sk);
  expectStatus(res, 201);
  const payload = rand(32);
  const s = await c.sign(sk, k.json.key_id, 'digest', payload, { sessionId: res.json.session_id });
  expectError(s, 403, 'outside_session_scope');
  // the owner still signs
  const o = await c.sign(owner, k.json.key_id, 'digest', payload);
  checkSecpSignature(o, { mode: 'digest', payload, address: k.json.address });
});

// ---- gated key use with key policies (docs/policy.md) ----------------------

const allowTd = (statuses = ['UpToDate'], extra = {}) => ({
  software: [{ tee: 'tdx', measurement: TD_ID, min_svn: 0, tcb_statuses: statuses }],
  ...extra,
});

async function keyWithPolicy(policy) {
  const r = await c.createKey(owner, 'secp256k1', { policy });
  expectStatus(r, 201);
  return r.json;
}

test('allowed software signs through its attested session; the signature verifies (ethers)', async () => {
  const k = await keyWithPolicy(allowTd());
  const sk = new Ed25519Signer();
  const { res } = await openAttested(sk, { keyIds: [k.key_id] });
  expectStatus(res, 201);
  const payload = rand(32);
  const s = await c.sign(sk, k.key_id, 'digest', payload, { sessionId: res.json.session_id });
  checkSecpSignature(s, { mode: 'digest', payload, address: k.address, keyId: k.key_id });
  // an eoa session key works the same way
  const ek = new EoaSigner();
  const o2 = await openAttested(ek, { keyIds: [k.key_id] });
  expectStatus(o2.res, 201);
  const s2 = await c.sign(ek, k.key_id, 'personal', payload, { sessionId: o2.res.json.session_id });
  checkSecpSignature(s2, { mode: 'personal', payload, address: k.address });
  // a key the session does not list is out of its scope
  const k2 = await keyWithPolicy(allowTd());
  const s3 = await c.sign(sk, k2.key_id, 'digest', payload, { sessionId: res.json.session_id });
  expectError(s3, 403, 'outside_session_scope');
  // the session may only sign: rotate / destroy / revoke-by-owner are refused
  const rot = await c.rotate(sk, k.key_id, { sessionId: res.json.session_id });
  expectError(rot, 403, 'outside_session_scope');
});

test('other measurement → 403 measurement_not_allowed', async () => {
  const k = await keyWithPolicy(allowTd());
  const sk = new Ed25519Signer();
  await refused(
    async () => (await openAttested(sk, { mrtd: OTHER_MRTD, keyIds: [k.key_id] })).res,
    403,
    'measurement_not_allowed',
  );
  // an attacker's TD on the same firmware: same MRTD, another RTMR3
  await refused(
    async () => (await openAttested(sk, { rtmr3: OTHER_RTMR3, keyIds: [k.key_id] })).res,
    403,
    'measurement_not_allowed',
  );
  // a policy naming the bare MRTD (the old rule) lets no TD in
  const bare = await keyWithPolicy({ software: [{ tee: 'tdx', measurement: MRTD, tcb_statuses: ['UpToDate'] }] });
  await refused(async () => (await openAttested(sk, { keyIds: [bare.key_id] })).res, 403, 'measurement_not_allowed');
  // the attacker's TD naming its own identity opens, and reaches no key of ours
  const q = fakeQuote('0x' + '00'.repeat(64), { rtmr3: OTHER_RTMR3 });
  const theirs = await keyWithPolicy({ software: [{ tee: 'tdx', measurement: tdIdentity(q.evidence), tcb_statuses: ['UpToDate'] }] });
  const { res } = await openAttested(sk, { rtmr3: OTHER_RTMR3, keyIds: [theirs.key_id] });
  expectStatus(res, 201);
  assert.equal(res.json.owner, `measurement:tdx:${tdIdentity(q.evidence)}`);
  const s = await c.sign(sk, k.key_id, 'digest', rand(32), { sessionId: res.json.session_id });
  expectError(s, 403, 'outside_session_scope');
});

test('unacceptable TCB status (OutOfDate, only UpToDate allowed) → 403 tcb_status_not_allowed', async () => {
  const k = await keyWithPolicy(allowTd(['UpToDate']));
  const sk = new Ed25519Signer();
  await refused(
    async () => (await openAttested(sk, { tcb: 'OutOfDate', keyIds: [k.key_id] })).res,
    403,
    'tcb_status_not_allowed',
  );
  await refused(
    async () => (await openAttested(sk, { tcb: 'OutOfDate' })).res,
    403,
    'tcb_status_not_allowed',
  );
  // a key that accepts OutOfDate too lets such a session sign
  const k2 = await keyWithPolicy(allowTd(['UpToDate', 'OutOfDate']));
  const { res } = await openAttested(sk, { tcb: 'OutOfDate', keyIds: [k2.key_id] });
  expectStatus(res, 201);
  assert.equal(res.json.tcb_status, 'OutOfDate');
  const payload = rand(32);
  const ok = await c.sign(sk, k2.key_id, 'digest', payload, { sessionId: res.json.session_id });
  checkSecpSignature(ok, { mode: 'digest', payload, address: k2.address });
});

test('require_attestation: the owner and the owner\'s sessions → 403 attestation_required', async () => {
  const k = await keyWithPolicy(allowTd(['UpToDate'], { require_attestation: true }));
  const payload = rand(32);
  const o = await c.sign(owner, k.key_id, 'digest', payload);
  expectError(o, 403, 'attestation_required');
  const delegate = new Ed25519Signer();
  const os = await c.openSession(owner, delegate.principal, ['sign'], [k.key_id], now() + 600);
  expectStatus(os, 201);
  const d = await c.sign(delegate, k.key_id, 'digest', payload, { sessionId: os.json.session_id });
  expectError(d, 403, 'attestation_required');
  // allowed software still signs
  const sk = new Ed25519Signer();
  const { res } = await openAttested(sk, { keyIds: [k.key_id] });
  expectStatus(res, 201);
  const s = await c.sign(sk, k.key_id, 'digest', payload, { sessionId: res.json.session_id });
  checkSecpSignature(s, { mode: 'digest', payload, address: k.address });
});

test('an attested session survives a restart of the server', async () => {
  const k = await keyWithPolicy(allowTd());
  const sk = new Ed25519Signer();
  const { res } = await openAttested(sk, { keyIds: [k.key_id] });
  expectStatus(res, 201);
  const dataDir = srv.dataDir;
  await srv.stop();
  srv = await start({ dataDir, extraArgs: ['--attestation-test-root', rootKey] });
  c = await new Client(srv.url).init();
  const payload = rand(32);
  const s = await c.sign(sk, k.key_id, 'digest', payload, { sessionId: res.json.session_id });
  checkSecpSignature(s, { mode: 'digest', payload, address: k.address });
  // the session revokes itself; then it is gone
  const rv = await c.revokeSession(sk, res.json.session_id, { sessionId: res.json.session_id });
  expectStatus(rv, 200);
  const s2 = await c.sign(sk, k.key_id, 'digest', payload, { sessionId: res.json.session_id });
  expectError(s2, 401, 'session_unknown');
});

test('CLI: tkms attest challenge and tkms session open-attested', async () => {
  const k = await keyWithPolicy(allowTd());
  const run = (args) => spawnSync(TKMS_BIN, ['--url', srv.url, ...args], { encoding: 'utf8', timeout: 30000 });
  const ch = run(['attest', 'challenge']);
  assert.equal(ch.status, 0, ch.stderr);
  const { nonce } = JSON.parse(ch.stdout);
  assert.match(nonce, HEX(32));
  const sk = new Ed25519Signer();
  const q = fakeQuote(reportData(c.salt, nonce, sk.principal));
  const dir = makeTmpDir('tkms-cli-att-');
  fs.writeFileSync(path.join(dir, 'quote.hex'), q.evidence);
  fs.writeFileSync(path.join(dir, 'collateral.json'), JSON.stringify(q.collateral));
  const args = ['session', 'open-attested', '--evidence', path.join(dir, 'quote.hex'), '--collateral',
    path.join(dir, 'collateral.json'), '--nonce', nonce, '--session-key', sk.principal, '--key-ids', k.key_id];
  const o = run(args);
  assert.equal(o.status, 0, o.stderr);
  const s = JSON.parse(o.stdout);
  assert.equal(s.owner, `measurement:tdx:${TD_ID}`);
  const payload = rand(32);
  const r = await c.sign(sk, k.key_id, 'digest', payload, { sessionId: s.session_id });
  checkSecpSignature(r, { mode: 'digest', payload, address: k.address });
  // the same nonce again: refused, exit 1, the code on stderr
  const again = run(args);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /stale_nonce/);
});

test('policy changes: narrowing stops a live attested session at once; widening waits out the delay', async () => {
  const k = await keyWithPolicy(allowTd(['UpToDate'], { delay_s: 3600 }));
  const sk = new Ed25519Signer();
  const { res } = await openAttested(sk, { keyIds: [k.key_id] });
  expectStatus(res, 201);
  const sid = res.json.session_id;
  const payload = rand(32);
  checkSecpSignature(await c.sign(sk, k.key_id, 'digest', payload, { sessionId: sid }), {
    mode: 'digest',
    payload,
    address: k.address,
  });
  // narrowing (the measurement removed) applies at once: the same session is refused
  const narrow = await c.updatePolicy(owner, k.key_id, { policy: { delay_s: 3600 } });
  expectStatus(narrow, 200);
  assert.equal(narrow.json.applied, true);
  expectError(await c.sign(sk, k.key_id, 'digest', payload, { sessionId: sid }), 403, 'measurement_not_allowed');
  // widening (the measurement back) is pending for the delay: still refused now
  const widen = await c.updatePolicy(owner, k.key_id, { policy: allowTd(['UpToDate'], { delay_s: 3600 }) });
  expectStatus(widen, 202);
  assert.ok(widen.json.pending.effective_at >= now() + 3599);
  expectError(await c.sign(sk, k.key_id, 'digest', payload, { sessionId: sid }), 403, 'measurement_not_allowed');
});

test('svn below the policy minimum → 403 svn_too_low (TDX claims svn 0)', async () => {
  const k = await keyWithPolicy({ software: [{ tee: 'tdx', measurement: TD_ID, min_svn: 1, tcb_statuses: ['UpToDate'] }] });
  const sk = new Ed25519Signer();
  await refused(async () => (await openAttested(sk, { keyIds: [k.key_id] })).res, 403, 'svn_too_low');
  const { res } = await openAttested(sk);
  expectStatus(res, 201);
  assert.equal(res.json.svn, 0);
});
