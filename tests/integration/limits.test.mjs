// tests/integration/limits.test.mjs — malformed and oversized input: each gets
// its documented 4xx, and none changes anything (the deployment's state counter
// and the owner's key list stay as they were; no signature is returned). At the
// end the service still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { start } from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, ethers, rand, now } from './lib/client.mjs';
import { expectError, expectStatus, checkSecpSignature, counter } from './lib/checks.mjs';

let srv;
let c;
const O = new EoaSigner();
let K; // secp256k1 key of O
let KE; // ed25519 key of O
let startList;
let expectedCounter; // moves only with the successful mutations this file makes on purpose

before(async () => {
  srv = await start();
  c = await new Client(srv.url).init();
  const r1 = await c.createKey(O, 'secp256k1');
  expectStatus(r1, 201);
  K = r1.json;
  const r2 = await c.createKey(O, 'ed25519');
  expectStatus(r2, 201);
  KE = r2.json;
  expectedCounter = await counter(c);
  startList = await c.listAll(O.principal);
});
after(async () => {
  await srv?.stop();
});

/** A request that must be refused without changing anything. */
async function refused(fn, status, code) {
  const res = await fn();
  expectError(res, status, code);
  assert.equal(await counter(c), expectedCounter, `the state counter moved on a refused request (${code})`);
  return res;
}

const post = (path, body, opts) => c.raw('POST', path, body, opts);
const createBody = async (opts) => (await c.buildCreateKey(O, 'secp256k1', opts)).body;

/** Nest `inner` in `levels` objects: {"a":{"a":...}}. */
function nest(levels, inner = 1) {
  let v = inner;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

test('malformed JSON → 400 invalid_json', async () => {
  for (const text of ['{"key_type": ', '', 'not json', '{"a":1} trailing', "{'a':1}", '{"a":1,}', '\u0000']) {
    await refused(() => post('/v1/keys', text), 400, 'invalid_json');
  }
  // Invalid UTF-8 inside a string.
  await refused(
    () => post('/v1/keys', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    400,
    'invalid_json',
  );
  // The same on another route.
  await refused(() => post(`/v1/keys/${K.key_id}/sign`, '{"mode":'), 400, 'invalid_json');
});

test('duplicate object keys → 400 invalid_json (no field smuggling)', async () => {
  // Which of two values a parser keeps differs between parsers; refuse both.
  const b = await createBody();
  const text = JSON.stringify(b).replace('"key_type":"secp256k1"', '"key_type":"ed25519","key_type":"secp256k1"');
  assert.notEqual(text, JSON.stringify(b));
  await refused(() => post('/v1/keys', text), 400, 'invalid_json');
});

test('JSON that is not an object → 400 invalid_json', async () => {
  for (const text of ['[]', '[{"key_type":"secp256k1"}]', '"x"', '42', 'null', 'true']) {
    await refused(() => post('/v1/keys', text), 400, 'invalid_json');
  }
});

test('nesting deeper than 8 levels → 400 invalid_json; 8 levels parse', async () => {
  // The top-level object is level 1; "x" adds 8 more levels: 9 in all.
  await refused(async () => post('/v1/keys', { ...(await createBody()), x: nest(8) }), 400, 'invalid_json');
  await refused(async () => post('/v1/keys', { ...(await createBody()), x: nest(7, [1]) }), 400, 'invalid_json');
  // 8 levels in all is valid JSON; the unknown field is then refused.
  await refused(async () => post('/v1/keys', { ...(await createBody()), x: nest(7) }), 400, 'bad_request');
  // A deep nest inside a known field, and a stack bomb (30 000 levels, < 64 KiB).
  const b = await createBody();
  await refused(() => post('/v1/keys', { ...b, owner: nest(9, O.principal) }), 400, 'invalid_json');
  await refused(() => post('/v1/keys', '['.repeat(30000) + ']'.repeat(30000)), 400, 'invalid_json');
  await refused(() => post('/v1/keys', '{"a":'.repeat(10000) + '1' + '}'.repeat(10000)), 400, 'invalid_json');
});

test('unknown, missing and mistyped fields → 400 bad_request', async () => {
  // Each body is otherwise a valid signed request, so accepting it would change state.
  await refused(async () => post('/v1/keys', { ...(await createBody()), extra: 1 }), 400, 'bad_request');
  await refused(async () => post('/v1/keys', { ...(await createBody()), Owner: O.principal }), 400, 'bad_request');
  for (const f of ['key_type', 'owner', 'request_id', 'deadline', 'deployment', 'signature']) {
    const b = await createBody();
    delete b[f];
    await refused(() => post('/v1/keys', b), 400, 'bad_request');
  }
  const mistyped = [
    ['deadline', String(now() + 300)],
    ['deadline', -1],
    ['deadline', now() + 300.5],
    ['deadline', null],
    ['key_type', 5],
    ['key_type', ''],
    ['owner', 'eoa:0x1234'],
    ['owner', 'eoa:0x' + O.address.slice(2).toUpperCase()], // principals are lower case
    ['owner', 'rsa:0x' + '11'.repeat(20)],
    ['owner', ['eoa:0x' + '11'.repeat(20)]],
    ['request_id', 12345],
    ['session_id', 7],
  ];
  for (const [f, v] of mistyped) {
    const b = await createBody();
    await refused(() => post('/v1/keys', { ...b, [f]: v }), 400, 'bad_request');
  }
  // A well-formed key type this service does not have: 400 unsupported, like a
  // signing mode the key type does not have (docs/api.md leaves the choice open;
  // this pins what the service answers).
  await refused(() => c.createKey(O, 'rsa'), 400, 'unsupported');
  // Sign: unknown field, missing payload, unknown mode.
  const s = await c.buildSign(O, K.key_id, 'digest', rand(32));
  await refused(() => post(s.path, { ...s.body, extra: true }), 400, 'bad_request');
  const noPayload = { ...s.body };
  delete noPayload.payload;
  await refused(() => post(s.path, noPayload), 400, 'bad_request');
  // A well-formed mode the service does not offer is `unsupported` (docs/api.md),
  // like an unknown key type.
  await refused(async () => c.sign(O, K.key_id, 'raw', rand(32)), 400, 'unsupported');
});

test('bad hex and wrong hex lengths → 400 bad_request; upper-case hex is accepted', async () => {
  const zz = '0x' + 'zz'.repeat(32);
  const cases = [
    ['request_id', zz],
    ['request_id', 'ab'.repeat(32)], // no 0x prefix
    ['request_id', '0x' + 'ab'.repeat(31) + 'a'], // odd length
    ['request_id', rand(31)],
    ['request_id', rand(33)],
    ['deployment', rand(31)],
    ['deployment', c.salt + '00'],
    ['deployment', zz],
    ['session_id', rand(15)],
  ];
  for (const [f, v] of cases) {
    const b = await createBody();
    await refused(() => post('/v1/keys', { ...b, [f]: v }), 400, 'bad_request');
  }
  // A digest must be exactly 32 bytes; a payload must be hex.
  await refused(() => c.sign(O, K.key_id, 'digest', rand(31)), 400, 'bad_request');
  await refused(() => c.sign(O, K.key_id, 'digest', rand(33)), 400, 'bad_request');
  const s = await c.buildSign(O, K.key_id, 'personal', '0x00');
  await refused(() => post(s.path, { ...s.body, payload: '0xzz' }), 400, 'bad_request');
  await refused(() => post(s.path, { ...s.body, payload: '00' }), 400, 'bad_request');
  // Key ids in the path.
  for (const id of ['0x00', rand(15), rand(17), '0x' + 'zz'.repeat(16), K.key_id.slice(2)]) {
    await refused(() => c.getKey(id), 400, 'bad_request');
    const sg = await c.buildSign(O, K.key_id, 'digest', rand(32));
    await refused(() => post(`/v1/keys/${id}/sign`, sg.body), 400, 'bad_request');
  }
  // Upper case is accepted on input: request id, deployment, payload and the path.
  const up = await c.buildCreateKey(O, 'secp256k1');
  const upBody = {
    ...up.body,
    request_id: '0x' + up.body.request_id.slice(2).toUpperCase(),
    deployment: '0x' + up.body.deployment.slice(2).toUpperCase(),
  };
  const r = await post('/v1/keys', upBody);
  expectStatus(r, 201);
  expectedCounter = await counter(c);
  const d = rand(32);
  const sg = await c.buildSign(O, K.key_id, 'digest', d);
  const upSign = await post(`/v1/keys/0x${K.key_id.slice(2).toUpperCase()}/sign`, {
    ...sg.body,
    payload: '0x' + d.slice(2).toUpperCase(),
  });
  checkSecpSignature(upSign, { mode: 'digest', payload: d, address: K.address });
  const g = await c.getKey('0x' + K.key_id.slice(2).toUpperCase());
  expectStatus(g, 200);
  assert.equal(g.json.key_id, K.key_id, 'key ids are answered in lower case');
});

test('signing modes the key type does not have → 400 unsupported', async () => {
  await refused(() => c.sign(O, K.key_id, 'message', rand(32)), 400, 'unsupported');
  await refused(() => c.sign(O, KE.key_id, 'digest', rand(32)), 400, 'unsupported');
  await refused(() => c.sign(O, KE.key_id, 'personal', rand(32)), 400, 'unsupported');
});

test('payload over 16 KiB → 400 bad_request; exactly 16 KiB is signed', async () => {
  await refused(() => c.sign(O, K.key_id, 'personal', rand(16 * 1024 + 1)), 400, 'bad_request');
  await refused(() => c.sign(O, KE.key_id, 'message', rand(16 * 1024 + 1)), 400, 'bad_request');
  const p = rand(16 * 1024);
  checkSecpSignature(await c.sign(O, K.key_id, 'personal', p), { mode: 'personal', payload: p, address: K.address });
});

/**
 * POST an oversized body on a fresh connection. A server that answers 413 and
 * closes while the client is still sending may have its answer lost in the
 * TCP reset (no lingering close); such an attempt is retried, at most 3 times.
 */
async function postBig(body, headers) {
  let last;
  for (let i = 0; i < 3; i++) {
    try {
      return await c.raw('POST', '/v1/keys', body, { agent: false, headers });
    } catch (e) {
      if (!/^(ECONNRESET|EPIPE)$/.test(String(e.code))) throw e;
      last = e;
    }
  }
  throw new Error(`no answer to an oversized body in 3 attempts (last: ${last.code})`);
}

test('body over 64 KiB → 413 body_too_large; exactly 64 KiB is read', async () => {
  const b = await createBody();
  const base = JSON.stringify({ ...b, pad: '' });
  const exact = JSON.stringify({ ...b, pad: 'x'.repeat(65536 - base.length) });
  assert.equal(exact.length, 65536);
  // 64 KiB is within the limit: it is parsed, and the unknown field refused.
  await refused(() => post('/v1/keys', exact), 400, 'bad_request');
  const over = JSON.stringify({ ...b, pad: 'x'.repeat(65537 - base.length) });
  assert.equal(over.length, 65537);
  await refused(() => postBig(over), 413, 'body_too_large');
  await refused(() => postBig(JSON.stringify({ ...b, pad: 'x'.repeat(1 << 20) })), 413, 'body_too_large');
  // Without a Content-Length (chunked), the limit holds on the bytes received.
  await refused(
    () => postBig(over, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
    413,
    'body_too_large',
  );
});

test('an oversized body up to 4 MiB is read and refused with 413, never a reset', async () => {
  const b = await createBody();
  // Every attempt on a fresh connection: answering before the body was read
  // and closing with unread bytes would make the kernel reset the connection.
  for (const size of [65537, 1 << 20, 4 << 20]) {
    const body = JSON.stringify({ ...b, pad: 'x'.repeat(size) }).slice(0, size);
    for (let i = 0; i < 3; i++) {
      const r = await c.raw('POST', '/v1/keys', body, { agent: false });
      expectError(r, 413, 'body_too_large');
    }
  }
  // The connection stays usable after a drained 413.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const r1 = await c.raw('POST', '/v1/keys', 'x'.repeat(70000), { agent, headers: { 'content-type': 'application/json' } });
  expectError(r1, 413, 'body_too_large');
  const r2 = await c.raw('GET', '/v1/health', undefined, { agent });
  assert.equal(r2.status, 200, r2.text);
  agent.destroy();
});

test('a body that is not application/json → 415 unsupported_media_type', async () => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', null]) {
    const b = await createBody();
    await refused(() => post('/v1/keys', b, { contentType: ct }), 415, 'unsupported_media_type');
  }
  const d = await c.buildDestroy(O, K.key_id);
  await refused(() => c.raw('DELETE', d.path, d.body, { contentType: 'text/plain' }), 415, 'unsupported_media_type');
  // application/json with a charset is JSON.
  const ok = await post('/v1/keys', await createBody(), { contentType: 'application/json; charset=utf-8' });
  expectStatus(ok, 201);
  expectedCounter = await counter(c);
});

test('unknown route → 404 not_found; wrong method → 405 method_not_allowed', async () => {
  for (const p of ['/', '/v1', '/v1/nope', '/v2/health', `/v1/keys/${K.key_id}/nope`, '/v1/keys/a/b/c', '/v1/health/x']) {
    await refused(() => c.raw('GET', p), 404, 'not_found');
  }
  await refused(() => c.raw('POST', '/v1/nope', {}), 404, 'not_found');
  const wrong = [
    ['PUT', '/v1/keys'],
    ['DELETE', '/v1/keys'],
    ['POST', '/v1/health'],
    ['DELETE', '/v1/health'],
    ['POST', '/v1/eip712'],
    ['PUT', `/v1/keys/${K.key_id}`],
    ['PATCH', `/v1/keys/${K.key_id}`],
    ['GET', `/v1/keys/${K.key_id}/sign`],
    ['GET', `/v1/keys/${K.key_id}/rotate`],
    ['GET', '/v1/sessions'],
    ['POST', '/v1/attestation'],
  ];
  for (const [m, p] of wrong) {
    await refused(() => c.raw(m, p, m === 'GET' ? undefined : {}), 405, 'method_not_allowed');
  }
});

test('query parameters out of bounds → 400 bad_request', async () => {
  await refused(() => c.raw('GET', '/v1/keys'), 400, 'bad_request');
  await refused(() => c.raw('GET', '/v1/keys?owner=nobody'), 400, 'bad_request');
  for (const limit of ['0', '101', '-1', 'abc', '1.5']) {
    await refused(() => c.raw('GET', `/v1/keys?owner=${O.principal}&limit=${limit}`), 400, 'bad_request');
  }
  await refused(() => c.raw('GET', `/v1/keys?owner=${O.principal}&cursor=zz`), 400, 'bad_request');
  const max = await c.listKeys(O.principal, { limit: 100 });
  expectStatus(max, 200);
  // Attestation nonce: required, 32 bytes of hex.
  await refused(() => c.attestation(), 400, 'bad_request');
  await refused(() => c.attestation(rand(31)), 400, 'bad_request');
  await refused(() => c.attestation('0x' + 'zz'.repeat(32)), 400, 'bad_request');
});

test('session scope over 64 keys → 400 bad_request', async () => {
  const S = new Ed25519Signer();
  const ids = Array.from({ length: 65 }, () => rand(16));
  await refused(() => c.openSession(O, S.principal, ['sign'], ids, now() + 600), 400, 'bad_request');
  const os = await c.buildOpenSession(O, S.principal, ['sign'], [K.key_id], now() + 600);
  await refused(() => post(os.path, { ...os.body, key_ids: [rand(15)] }), 400, 'bad_request');
  await refused(() => post(os.path, { ...os.body, key_ids: K.key_id }), 400, 'bad_request');
  await refused(() => post(os.path, { ...os.body, operations: 'sign' }), 400, 'bad_request');
  await refused(() => post(os.path, { ...os.body, operations: [1] }), 400, 'bad_request');
  await refused(() => post(os.path, { ...os.body, expiry: '1' }), 400, 'bad_request');
});

test('after all of it the service still works and nothing changed', async () => {
  const h = await c.getHealth();
  expectStatus(h, 200);
  assert.equal(h.json.status, 'ok');
  assert.equal(h.json.counter, expectedCounter);
  // The owner's keys: the ones from before plus the two created on purpose above.
  const list = await c.listAll(O.principal);
  assert.deepEqual(
    list.slice(0, startList.length).map((k) => [k.key_id, k.state, k.version]),
    startList.map((k) => [k.key_id, k.state, k.version]),
  );
  assert.equal(list.length, startList.length + 2);
  const d = rand(32);
  checkSecpSignature(await c.sign(O, K.key_id, 'digest', d), { mode: 'digest', payload: d, address: K.address });
  const m = ethers.hexlify(ethers.toUtf8Bytes('still alive'));
  const r = await c.sign(O, KE.key_id, 'message', m);
  expectStatus(r, 200);
  expectStatus(await c.createKey(new EoaSigner(), 'ed25519'), 201);
  assert.equal(srv.proc.exitCode, null, 'the host is still running');
});
