// tests/integration/policy.test.mjs — key policies through the HTTP API, signed
// with ethers: a policy given as JSON is signed as its canonical bytes
// (lib/policy.mjs, written from the spec, not from the C encoder); a request
// whose signed bytes differ from the JSON is refused; bad policies are 400.
// Then the time-lock: widening changes wait out delay_s (2-3 s here), narrowing
// ones apply at once, pending changes are visible and cancellable, a new owner
// takes over only once the change is effective; not_after and the rate limit
// are enforced at sign; the CLI creates with --policy and updates policies.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, makeTmpDir, TKMS_BIN } from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, rand, now } from './lib/client.mjs';
import { expectError, expectStatus } from './lib/checks.mjs';
import { encodePolicy, decodePolicy } from './lib/policy.mjs';

let s, c;
before(async () => {
  // No sweep here: these tests see due changes before the host materialises them
  // (the sweep has its own test and server below).
  s = await start({ extraArgs: ['--policy-sweep', '0'] });
  c = await new Client(s.url, { timeoutMs: 10000 }).init();
});
after(async () => {
  if (s) await s.stop();
});

const TDX_A = '0x' + 'a1'.repeat(48);
const TDX_B = '0x' + '0b'.repeat(48);
const SGX_A = '0x' + '5a'.repeat(32);

test('the client encoder matches the documented layout byte for byte', () => {
  assert.equal(encodePolicy(undefined), '0x');
  assert.equal(encodePolicy({}), '0x01' + '00'.repeat(18));
  const p = encodePolicy({
    delay_s: 3600,
    require_attestation: true,
    rate_per_minute: 60,
    not_after: 1800000000,
    software: [
      { tee: 'tdx', measurement: TDX_A, min_svn: 0, tcb_statuses: ['UpToDate'] },
      { tee: 'sgx', measurement: SGX_A, min_svn: 5, tcb_statuses: ['UpToDate', 'SWHardeningNeeded'] },
    ],
  });
  const want =
    '0x01' + '00000e10' + '01' + '0000003c' + '000000006b49d200' + '02' +
    '01' + '20' + '5a'.repeat(32) + '0005' + '0006' + // sgx sorts first
    '02' + '30' + 'a1'.repeat(48) + '0000' + '0002';
  assert.equal(p, want);
});

test('create with a policy: 201, the policy is signed as canonical bytes', async () => {
  const o = new EoaSigner();
  const policy = {
    rate_per_minute: 100,
    software: [
      { tee: 'tdx', measurement: TDX_B, tcb_statuses: ['UpToDate'] },
      { tee: 'tdx', measurement: TDX_A, tcb_statuses: ['UpToDate', 'OutOfDate'], min_svn: 3 },
    ],
  };
  const r = await c.createKey(o, 'secp256k1', { policy });
  expectStatus(r, 201);
  assert.equal(r.req.message.policy, encodePolicy(policy));
  // the entries were given unsorted: the signed bytes are sorted
  assert.deepEqual(
    decodePolicy(r.req.message.policy).software.map((x) => x.measurement),
    [TDX_B, TDX_A],
  );
  // no policy: signed as 0x
  const d = await c.createKey(o, 'ed25519');
  expectStatus(d, 201);
  assert.equal(d.req.message.policy, '0x');
});

test('signed policy bytes that differ from the JSON are refused', async () => {
  const o = new EoaSigner();
  const policy = { rate_per_minute: 10 };
  const r = await c.createKey(o, 'secp256k1', { policy, signedPolicy: encodePolicy({ rate_per_minute: 11 }) });
  expectError(r, 403, 'wrong_signer');
  // signed with a policy, sent without one
  const r2 = await c.send(await c.buildCreateKey(o, 'secp256k1', { signedPolicy: encodePolicy({}) }));
  expectError(r2, 403, 'wrong_signer');
});

test('bad policies are 400 bad_request and create nothing', async () => {
  const o = new EoaSigner();
  const bad = [
    [{ delay_s: 365 * 24 * 3600 + 1 }, 'delay_s'],
    [{ delay_s: -1 }, 'delay_s'],
    [{ rate_per_minute: 2 ** 32 }, 'rate_per_minute'],
    [{ require_attestation: 1 }, 'require_attestation'],
    [{ colour: 'red' }, 'unknown member'],
    [{ software: [{ tee: 'sim', measurement: SGX_A, tcb_statuses: ['UpToDate'] }] }, 'tee'],
    [{ software: [{ tee: 'sgx', measurement: TDX_A, tcb_statuses: ['UpToDate'] }] }, 'measurement'],
    [{ software: [{ tee: 'tdx', measurement: TDX_A, tcb_statuses: ['NoMatch'] }] }, 'tcb_statuses'],
    [{ software: [{ tee: 'tdx', measurement: TDX_A, tcb_statuses: [] }] }, 'tcb_statuses'],
    [
      {
        software: [
          { tee: 'tdx', measurement: TDX_A, tcb_statuses: ['UpToDate'] },
          { tee: 'tdx', measurement: TDX_A, tcb_statuses: ['OutOfDate'] },
        ],
      },
      'twice',
    ],
    [{ software: Array.from({ length: 9 }, (_, i) => ({ tee: 'tdx', measurement: '0x' + String(i).padStart(2, '0').repeat(48), tcb_statuses: ['UpToDate'] })) }, 'software'],
    ['not an object', 'object'],
  ];
  for (const [policy, word] of bad) {
    const body = (await c.buildCreateKey(o, 'secp256k1', { signedPolicy: '0x' })).body;
    body.policy = policy;
    const r = await c.raw('POST', '/v1/keys', body);
    expectError(r, 400, 'bad_request');
    assert.match(r.json.error.message, new RegExp(word), JSON.stringify(policy));
  }
  const l = await c.raw('GET', `/v1/keys?owner=${o.principal}`);
  expectStatus(l, 200);
  assert.equal(l.json.keys.length, 0);
});

// ---- the time-lock ------------------------------------------------------------

const SW = (m, statuses = ['UpToDate']) => ({ tee: 'tdx', measurement: m, min_svn: 0, tcb_statuses: statuses });

async function newKey(o, policy, type = 'secp256k1') {
  const r = await c.createKey(o, type, { policy });
  expectStatus(r, 201);
  return r.json.key_id;
}

/** Waits until the server's clock (seconds) has reached t. */
async function until(t) {
  while (now() < t) await sleep(200);
  await sleep(50);
}

const digest = () => rand(32);

test('a widening change is pending for delay_s, visible, then in force', async () => {
  const o = new EoaSigner();
  const base = { delay_s: 2, rate_per_minute: 100 };
  const id = await newKey(o, base);
  let g = await c.getPolicy(id);
  expectStatus(g, 200);
  assert.equal(g.json.owner, o.principal);
  assert.deepEqual(g.json.policy, decodePolicy(encodePolicy(base)));
  assert.equal(g.json.pending, null);

  const wider = { ...base, software: [SW(TDX_A)] };
  const u = await c.updatePolicy(o, id, { policy: wider });
  expectStatus(u, 202);
  assert.equal(u.json.applied, false);
  const p = u.json.pending;
  assert.equal(p.effective_at, p.accepted_at + 2);
  assert.equal(p.effective, false);
  assert.deepEqual(p.policy, decodePolicy(encodePolicy(wider)));
  assert.deepEqual(u.json.policy, decodePolicy(encodePolicy(base))); // still in force

  g = await c.getPolicy(id);
  expectStatus(g, 200);
  assert.deepEqual(g.json.policy.software, []);
  assert.equal(g.json.pending.effective_at, p.effective_at);
  assert.equal(g.json.pending.effective, false);

  // a second change while one is pending
  const again = await c.updatePolicy(o, id, { policy: { ...base, rate_per_minute: 5 } });
  expectError(again, 409, 'change_pending');

  await until(p.effective_at);
  g = await c.getPolicy(id);
  expectStatus(g, 200);
  assert.deepEqual(g.json.policy, decodePolicy(encodePolicy(wider)));
  assert.equal(g.json.pending, null); // materialised by the GET
  // the key still signs (its record was re-sealed with the policy)
  expectStatus(await c.sign(o, id, 'digest', digest()), 200);
});

test('a narrowing change applies at once', async () => {
  const o = new EoaSigner();
  const base = { delay_s: 3, rate_per_minute: 100, software: [SW(TDX_A), SW(TDX_B)] };
  const id = await newKey(o, base);
  const narrower = { delay_s: 30, rate_per_minute: 50, not_after: now() + 3600, software: [SW(TDX_B)] };
  const u = await c.updatePolicy(o, id, { policy: narrower });
  expectStatus(u, 200);
  assert.equal(u.json.applied, true);
  assert.equal(u.json.pending, null);
  assert.deepEqual(u.json.policy, decodePolicy(encodePolicy(narrower)));
  const g = await c.getPolicy(id);
  assert.deepEqual(g.json.policy, decodePolicy(encodePolicy(narrower)));
  expectStatus(await c.sign(o, id, 'digest', digest()), 200);
  // nothing to change
  expectError(await c.updatePolicy(o, id, {}), 400, 'bad_request');
});

test('cancel before effective_at; not after; nothing pending is 404', async () => {
  const o = new EoaSigner();
  const other = new EoaSigner();
  const id = await newKey(o, { delay_s: 2, rate_per_minute: 10 });
  expectError(await c.cancelPolicyChange(o, id), 404, 'no_pending_change');
  const u = await c.updatePolicy(o, id, { policy: { delay_s: 2 } }); // removes the rate limit: widens
  expectStatus(u, 202);
  expectError(await c.cancelPolicyChange(other, id), 403, 'wrong_signer');
  const x = await c.cancelPolicyChange(o, id);
  expectStatus(x, 200);
  assert.equal(x.json.cancelled, true);
  let g = await c.getPolicy(id);
  assert.equal(g.json.pending, null);
  assert.equal(g.json.policy.rate_per_minute, 10);
  expectError(await c.cancelPolicyChange(o, id), 404, 'no_pending_change');

  // once effective (and before anyone materialised it) it can no longer be cancelled
  const u2 = await c.updatePolicy(o, id, { policy: { delay_s: 2 } });
  expectStatus(u2, 202);
  await until(u2.json.pending.effective_at);
  expectError(await c.cancelPolicyChange(o, id), 409, 'change_effective');
  g = await c.getPolicy(id);
  assert.equal(g.json.policy.rate_per_minute, 0);
  assert.equal(g.json.pending, null);
});

test('owner change: the old owner until effective_at, then only the new one', async () => {
  const a = new EoaSigner();
  const b = new EoaSigner();
  const id = await newKey(a, { delay_s: 2 });
  const u = await c.updatePolicy(a, id, { newOwner: b.principal });
  expectStatus(u, 202);
  assert.equal(u.json.pending.new_owner, b.principal);
  assert.equal(u.json.owner, a.principal);
  // before: b is refused, a signs
  expectError(await c.sign(b, id, 'digest', digest()), 403, 'wrong_signer');
  expectError(await c.updatePolicy(b, id, { policy: { delay_s: 5 } }), 403, 'wrong_signer');
  expectStatus(await c.sign(a, id, 'digest', digest()), 200);
  let la = await c.raw('GET', `/v1/keys?owner=${a.principal}`);
  assert.equal(la.json.keys.length, 1);

  await until(u.json.pending.effective_at);
  // effective in the core before anyone materialised it
  expectError(await c.sign(a, id, 'digest', digest()), 403, 'wrong_signer');
  expectStatus(await c.sign(b, id, 'digest', digest()), 200);
  // GET materialises it and the host's listing follows
  const g = await c.getPolicy(id);
  assert.equal(g.json.owner, b.principal);
  assert.equal(g.json.pending, null);
  la = await c.raw('GET', `/v1/keys?owner=${a.principal}`);
  assert.equal(la.json.keys.length, 0);
  const lb = await c.raw('GET', `/v1/keys?owner=${b.principal}`);
  assert.equal(lb.json.keys.length, 1);
  assert.equal(lb.json.keys[0].owner, b.principal);
  expectStatus(await c.sign(b, id, 'digest', digest()), 200);
  expectError(await c.updatePolicy(b, id, { newOwner: 'eoa:0xNOT' }), 400, 'bad_request');
});

test('replays are refused; a session cannot change the policy', async () => {
  const o = new EoaSigner();
  const id = await newKey(o, { delay_s: 2, rate_per_minute: 100 });
  const req = await c.buildUpdatePolicy(o, id, { policy: { delay_s: 2, rate_per_minute: 50 } });
  expectStatus(await c.send(req), 200);
  expectError(await c.send(req), 403, 'replayed_request');

  const sk = new Ed25519Signer();
  const open = await c.send(
    await c.buildOpenSession(o, sk.principal, ['create', 'sign', 'rotate', 'destroy'], [id], now() + 600),
  );
  expectStatus(open, 201);
  const sid = open.json.session_id;
  expectError(
    await c.updatePolicy(sk, id, { policy: { delay_s: 2, rate_per_minute: 10 }, sessionId: sid }),
    403,
    'outside_session_scope',
  );
  expectError(await c.cancelPolicyChange(sk, id, { sessionId: sid }), 403, 'outside_session_scope');
  expectStatus(await c.sign(sk, id, 'digest', digest(), { sessionId: sid }), 200);
});

test('not_after: 403 key_expired', async () => {
  const o = new EoaSigner();
  const id = await newKey(o, { not_after: now() + 1 });
  expectStatus(await c.sign(o, id, 'digest', digest()), 200);
  await until(now() + 3);
  const r = await c.sign(o, id, 'digest', digest());
  expectError(r, 403, 'key_expired');
});

test('rate_per_minute: 429 key_rate_limited, counted per key', async () => {
  const o = new EoaSigner();
  // do not straddle a minute boundary of the server's clock
  if (now() % 60 > 50) await until(Math.ceil(now() / 60) * 60 + 1);
  const id = await newKey(o, { rate_per_minute: 3 });
  const free = await newKey(o, undefined);
  for (let i = 0; i < 3; i++) expectStatus(await c.sign(o, id, 'digest', digest()), 200);
  expectError(await c.sign(o, id, 'digest', digest()), 429, 'key_rate_limited');
  for (let i = 0; i < 5; i++) expectStatus(await c.sign(o, free, 'digest', digest()), 200);
});

test('avs keys take a policy too', async () => {
  const o = new EoaSigner();
  const { buildAvsCreate } = await import('./lib/avs.mjs');
  const r = await c.send(await buildAvsCreate(c, o, { policy: { rate_per_minute: 7 } }));
  expectStatus(r, 201);
  assert.equal(r.req.message.policy, encodePolicy({ rate_per_minute: 7 }));
  const g = await c.getPolicy(r.json.key_id);
  assert.equal(g.json.policy.rate_per_minute, 7);
  // an operator key cannot change owner
  expectError(await c.updatePolicy(o, r.json.key_id, { newOwner: new EoaSigner().principal }), 400, 'unsupported');
});

// ---- the CLI ---------------------------------------------------------------------

function tkms(args) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, TKMS_URL: s.url };
    delete env.TKMS_DEPLOYMENT;
    const p = spawn(TKMS_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      let json = null;
      try {
        json = JSON.parse(out);
      } catch {}
      resolve({ code, out, err, json });
    });
  });
}

test('CLI: key create --policy, key policy, policy-update, policy-cancel', async () => {
  const dir = makeTmpDir('tkms-policy-cli-');
  const acct = path.join(dir, 'a.key');
  const acct2 = path.join(dir, 'b.key');
  let r = await tkms(['dev-account', 'new', '--out', acct]);
  assert.equal(r.code, 0, r.err);
  r = await tkms(['dev-account', 'new', '--out', acct2]);
  assert.equal(r.code, 0, r.err);
  const b = 'eoa:' + r.out.trim();
  const pfile = path.join(dir, 'policy.json');
  const policy = { delay_s: 2, rate_per_minute: 20, software: [SW(TDX_B), SW(TDX_A, ['UpToDate', 'OutOfDate'])] };
  fs.writeFileSync(pfile, JSON.stringify(policy));

  // dry run: the typed data carries the canonical bytes the JS encoder makes
  r = await tkms(['key', 'create', '--account', acct, '--type', 'secp256k1', '--policy', pfile, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.json.typed_data.message.policy, encodePolicy(policy));

  r = await tkms(['key', 'create', '--account', acct, '--type', 'secp256k1', '--policy', pfile]);
  assert.equal(r.code, 0, r.err);
  const id = r.json.key_id;
  r = await tkms(['key', 'policy', id]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.json.policy, decodePolicy(encodePolicy(policy)));

  // narrowing: applied at once
  fs.writeFileSync(pfile, JSON.stringify({ ...policy, rate_per_minute: 10 }));
  r = await tkms(['key', 'policy-update', id, '--account', acct, '--policy', pfile]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.json.applied, true);
  assert.equal(r.json.policy.rate_per_minute, 10);

  // owner change: pending, cancelled, proposed again
  r = await tkms(['key', 'policy-update', id, '--account', acct, '--new-owner', b]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.json.applied, false);
  assert.equal(r.json.pending.new_owner, b);
  r = await tkms(['key', 'policy-update', id, '--account', acct, '--new-owner', b]);
  assert.notEqual(r.code, 0);
  assert.match(r.err + r.out, /change_pending/);
  r = await tkms(['key', 'policy-cancel', id, '--account', acct]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.json.cancelled, true);
  r = await tkms(['key', 'policy', id]);
  assert.equal(r.json.pending, null);

  // a bad policy file is refused before anything is sent
  fs.writeFileSync(pfile, JSON.stringify({ delay_s: 'soon' }));
  r = await tkms(['key', 'policy-update', id, '--account', acct, '--policy', pfile]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /delay_s/);
});

test('a pending change survives a restart of the service and still applies', async () => {
  const dataDir = makeTmpDir('tkms-policy-restart-');
  let s2 = await start({ dataDir });
  try {
    let c2 = await new Client(s2.url, { timeoutMs: 10000 }).init();
    const a = new EoaSigner();
    const b = new EoaSigner();
    const r = await c2.createKey(a, 'secp256k1', { policy: { delay_s: 3 } });
    expectStatus(r, 201);
    const id = r.json.key_id;
    const u = await c2.updatePolicy(a, id, { newOwner: b.principal });
    expectStatus(u, 202);
    await s2.stop();
    s2 = await start({ dataDir });
    c2 = await new Client(s2.url, { timeoutMs: 10000 }).init();
    let g = await c2.getPolicy(id);
    expectStatus(g, 200);
    assert.equal(g.json.pending.new_owner, b.principal);
    assert.equal(g.json.pending.effective_at, u.json.pending.effective_at);
    expectError(await c2.sign(b, id, 'digest', rand(32)), 403, 'wrong_signer');
    await until(u.json.pending.effective_at);
    expectStatus(await c2.sign(b, id, 'digest', rand(32)), 200);
    g = await c2.getPolicy(id);
    assert.equal(g.json.owner, b.principal);
    assert.equal(g.json.pending, null);
  } finally {
    await s2.stop();
  }
});

test('the sweep materialises a due owner change without anyone reading the key', async () => {
  const s3 = await start({ extraArgs: ['--policy-sweep', '1'] });
  try {
    const c3 = await new Client(s3.url, { timeoutMs: 10000 }).init();
    const a = new EoaSigner();
    const b = new EoaSigner();
    const r = await c3.createKey(a, 'secp256k1', { policy: { delay_s: 2 } });
    expectStatus(r, 201);
    const id = r.json.key_id;
    const u = await c3.updatePolicy(a, id, { newOwner: b.principal });
    expectStatus(u, 202);
    await until(u.json.pending.effective_at);
    // the sweep runs every second: allow it a few rounds
    let listed = [];
    for (let i = 0; i < 40 && listed.length === 0; i++) {
      await sleep(100);
      listed = (await c3.raw('GET', `/v1/keys?owner=${b.principal}`)).json.keys;
    }
    assert.equal(listed.length, 1);
    assert.equal(listed[0].key_id, id);
    assert.equal(listed[0].owner, b.principal);
    assert.equal((await c3.raw('GET', `/v1/keys?owner=${a.principal}`)).json.keys.length, 0);
    // materialised: nothing is pending any more, and cancel says so
    expectError(await c3.cancelPolicyChange(b, id), 404, 'no_pending_change');
  } finally {
    await s3.stop();
  }
});

test('a destroyed key: its pending change is gone, its policy routes answer 410', async () => {
  const o = new EoaSigner();
  const id = await newKey(o, { delay_s: 60 });
  expectStatus(await c.updatePolicy(o, id, { newOwner: new EoaSigner().principal }), 202);
  expectStatus(await c.send(await c.buildDestroy(o, id)), 200);
  expectError(await c.getPolicy(id), 410, 'key_destroyed');
  expectError(await c.updatePolicy(o, id, { policy: { delay_s: 90 } }), 410, 'key_destroyed');
  expectError(await c.cancelPolicyChange(o, id), 410, 'key_destroyed');
  expectError(await c.getPolicy('0x' + '00'.repeat(16)), 404, 'key_not_found');
});
