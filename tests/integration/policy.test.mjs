// tests/integration/policy.test.mjs — key policies through the HTTP API, signed
// with ethers: a policy given as JSON is signed as its canonical bytes
// (lib/policy.mjs, written from the spec, not from the C encoder); a request
// whose signed bytes differ from the JSON is refused; bad policies are 400.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './lib/server.mjs';
import { Client, EoaSigner, rand } from './lib/client.mjs';
import { expectError, expectStatus } from './lib/checks.mjs';
import { encodePolicy, decodePolicy } from './lib/policy.mjs';

let s, c;
before(async () => {
  s = await start();
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
