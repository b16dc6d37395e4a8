// tests/integration/avs.test.mjs — /v1/avs (docs/api.md "EigenLayer AVS"), checked by
// independent code: ethers signs every request (EIP-712) and computes keccak and the
// registration digest; @noble/curves checks every point and pairing; hashToG1 is
// BN254.sol's loop in JS (lib/avs.mjs). Every refusal checks status, code and that
// nothing changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, ethers, rand } from './lib/client.mjs';
import { HEX, expectError, expectStatus } from './lib/checks.mjs';
import {
  G1, G2, P, R, w32, g1Json, g1From, g2From, hashToG1, registrationDigest, signedBy,
  pairingProductIsOne, blsCheck, registrationCheck, operatorId, buildAvsCreate, buildScalarMul,
  buildAvsSignHash, buildRegistration, buildAvsRotate,
} from './lib/avs.mjs';

let srv;
let c;
before(async () => {
  srv = await start();
  c = await new Client(srv.url).init();
});
after(async () => {
  await srv?.stop();
});

const hasSignVersion = () => c.types.Sign.some((f) => f.name === 'version');
const randScalar = () => (BigInt(rand(32)) % (R - 1n)) + 1n;
const getAvs = (eoa) => c.raw('GET', `/v1/avs/keys/${eoa}`);

/** Shape and consistency of a create / rotate / GET key object. */
function checkAvsKey(k, signer, version) {
  assert.equal(k.operator, signer.address.toLowerCase());
  assert.match(k.key_id, HEX(16));
  assert.equal(k.version, version);
  assert.equal(typeof k.created_at, 'number');
  for (const v of [k.g1.X, k.g1.Y, ...k.g2.X, ...k.g2.Y]) assert.match(v, HEX(32));
  const g1 = g1From(k.g1), g2 = g2From(k.g2);
  // one sk behind both halves: e(g1, G2) == e(G1, g2)
  assert.ok(pairingProductIsOne(g1, G2.BASE.negate(), G1.BASE, g2), 'g1 and g2 are sk*G1, sk*G2');
  assert.equal(k.operator_id, operatorId(k.g1), 'operator_id = keccak256(X || Y)');
  return { g1, g2 };
}

async function createOperator(signer = new EoaSigner()) {
  const res = await c.send(await buildAvsCreate(c, signer));
  expectStatus(res, 201);
  return { signer, key: res.json, ...checkAvsKey(res.json, signer, 1) };
}

test('create: 201 with g1/g2 of one key and operator_id; GET returns it with its versions', async () => {
  const { signer, key } = await createOperator();
  for (const path of [signer.address, signer.address.toLowerCase()]) {
    const got = await getAvs(path);
    expectStatus(got, 200);
    const { versions, ...rest } = got.json;
    assert.deepEqual(rest, key);
    assert.equal(versions.length, 1);
    assert.deepEqual(versions[0], { version: 1, g1: key.g1, g2: key.g2, operator_id: key.operator_id, created_at: key.created_at, usable: true });
  }
  // the generic API sees the same key
  const g = await c.getKey(key.key_id);
  expectStatus(g, 200);
  assert.equal(g.json.key_type, 'bn254');
  assert.equal(g.json.owner, 'eoa:' + signer.address.toLowerCase());
  assert.equal(g.json.operator_id, key.operator_id);
});

test('create refusals: second key, replay, wrong signer, ed25519 owner; nothing changes', async () => {
  const { signer, key } = await createOperator();
  const before = await getAvs(signer.address);
  expectError(await c.send(await buildAvsCreate(c, signer)), 409, 'key_exists');
  assert.deepEqual((await getAvs(signer.address)).json, before.json);

  const fresh = new EoaSigner();
  const req = await buildAvsCreate(c, fresh);
  expectStatus(await c.send(req), 201);
  expectError(await c.send(req), 403, 'replayed_request');

  const victim = new EoaSigner(), mallory = new EoaSigner();
  expectError(await c.send(await buildAvsCreate(c, mallory, { eoa: victim.address })), 403, 'wrong_signer');
  expectError(await getAvs(victim.address), 404, 'key_not_found');

  // an operator key needs an Ethereum account owner (generic route: owner is free there)
  const ed = new Ed25519Signer();
  expectError(await c.createKey(ed, 'bn254'), 400, 'unsupported');
  assert.deepEqual(await c.listAll(ed.principal), []);
  assert.equal(key.version, 1);
});

test('scalar_mul: sk * P for the caller\'s point, checked by pairing against g2', async () => {
  const { signer, key, g2 } = await createOperator();
  const pt = G1.BASE.multiply(randScalar());
  const res = await c.send(await buildScalarMul(c, signer, key.key_id, g1Json(pt)));
  expectStatus(res, 200);
  const j = res.json;
  assert.equal(j.operator, signer.address.toLowerCase());
  assert.equal(j.key_id, key.key_id);
  assert.equal(j.version, 1);
  assert.deepEqual(j.g1, key.g1);
  assert.deepEqual(j.g2, key.g2);
  const sig = g1From(j.signature);
  assert.ok(signedBy(sig, pt, g2), 'e(sigma, G2) == e(P, g2)');
  assert.ok(!signedBy(sig, G1.BASE, g2), 'bound to P');
});

test('scalar_mul refusals: invalid points, malformed input, unknown operator, other signer', async () => {
  const { signer, key } = await createOperator();
  const before = (await getAvs(signer.address)).json;
  const cases = [
    [{ X: w32(1), Y: w32(3) }, /not on the curve/],
    [{ X: w32(1n + P), Y: w32(2) }, />= p/],
    [{ X: w32(0), Y: w32(0) }, /infinity/],
  ];
  for (const [hash, msg] of cases) {
    const res = await c.send(await buildScalarMul(c, signer, key.key_id, hash));
    expectError(res, 400, 'bad_request');
    assert.match(res.json.error.message, msg);
  }
  // malformed JSON points are refused by the host before anything is signed
  const good = g1Json(G1.BASE);
  for (const hash of [{ X: good.X }, { X: good.X, Y: '0x02' }, { X: good.X, Y: good.Y, Z: good.Y }, 'x']) {
    const req = await buildScalarMul(c, signer, key.key_id, good);
    req.body.hash = hash;
    expectError(await c.send(req), 400, 'bad_request');
  }
  const stranger = new EoaSigner();
  expectError(await c.send(await buildScalarMul(c, stranger, key.key_id, good)), 404, 'key_not_found');
  expectError(await getAvs(stranger.address), 404, 'key_not_found');
  expectError(await c.raw('GET', '/v1/avs/keys/0x1234'), 400, 'bad_request');
  expectError(await c.send(await buildScalarMul(c, stranger, key.key_id, good, { eoa: signer.address })), 403, 'wrong_signer');
  assert.deepEqual((await getAvs(signer.address)).json, before);
});

test('sign: hashToG1 in the core matches BN254.sol; EigenLayer\'s check holds; /verify agrees', async () => {
  const { signer, key, g1, g2 } = await createOperator();
  const msgHash = rand(32);
  const res = await c.send(await buildAvsSignHash(c, signer, key.key_id, msgHash));
  expectStatus(res, 200);
  const h = hashToG1(msgHash);
  assert.deepEqual(res.json.message_point, g1Json(h));
  const sig = g1From(res.json.signature);
  assert.ok(signedBy(sig, h, g2));
  assert.ok(blsCheck(msgHash, g1, g2, sig), 'BLSSignatureChecker check (noble)');

  const verify = (message_hash, signature, g = key) =>
    c.raw('POST', '/v1/avs/verify', { g1: g.g1, g2: g.g2, message_hash, signature });
  let v = await verify(msgHash, res.json.signature);
  expectStatus(v, 200);
  assert.deepEqual(v.json, { valid: true });
  const other = rand(32);
  v = await verify(other, res.json.signature);
  expectStatus(v, 200);
  assert.deepEqual(v.json, { valid: false });
  assert.equal(blsCheck(other, g1, g2, sig), false);
  // a signature by another operator's key is not valid for this one
  const o2 = await createOperator();
  const r2 = await c.send(await buildAvsSignHash(c, o2.signer, o2.key.key_id, msgHash));
  expectStatus(r2, 200);
  assert.deepEqual((await verify(msgHash, r2.json.signature)).json, { valid: false });
  // malformed or invalid points: 400 invalid_point (curve checks) or bad_request (encoding)
  expectError(await verify(msgHash, { X: w32(1), Y: w32(3) }), 400, 'invalid_point');
  expectError(await verify(msgHash, { X: w32(1n + P), Y: w32(2) }), 400, 'invalid_point');
  const badG2 = { ...key.g2, X: [key.g2.X[1], key.g2.X[0]] }; // real part first: not on the twist
  expectError(await c.raw('POST', '/v1/avs/verify', { g1: key.g1, g2: badG2, message_hash: msgHash, signature: res.json.signature }), 400, 'invalid_point');
  expectError(await c.raw('POST', '/v1/avs/verify', { g1: key.g1, g2: key.g2, message_hash: '0x12', signature: res.json.signature }), 400, 'bad_request');
  expectError(await c.raw('POST', '/v1/avs/verify', { g1: key.g1, g2: key.g2, message_hash: msgHash, signature: res.json.signature, extra: 1 }), 400, 'bad_request');
});

test('registration: the core computes pubkeyRegistrationMessageHash(operator) and the params pass EigenLayer\'s check', async () => {
  const { signer, key, g1, g2 } = await createOperator();
  const coordinator = ethers.getAddress(rand(20)); // checksummed: any case is accepted
  for (const [chainId, chainIdJson] of [[17000n, 17000], [1n, '1'], [2n ** 255n + 7n, (2n ** 255n + 7n).toString()]]) {
    const res = await c.send(await buildRegistration(c, signer, key.key_id, chainId, coordinator, { chainIdJson }));
    expectStatus(res, 200);
    const j = res.json;
    const h = hashToG1(registrationDigest(signer.address, chainId, coordinator));
    assert.deepEqual(j.message_hash, g1Json(h));
    assert.deepEqual(j.params.pubkeyG1, key.g1);
    assert.deepEqual(j.params.pubkeyG2, key.g2);
    assert.equal(j.operator, signer.address.toLowerCase());
    const sig = g1From(j.params.pubkeyRegistrationSignature);
    assert.ok(registrationCheck(sig, g1, g2, h), 'BLSApkRegistry registration check (noble)');
  }
  // bad chain ids change nothing and sign nothing
  for (const bad of ['abc', '-1', '', 2 ** 60, -1, '1'.repeat(79), 1.5]) {
    const req = await buildRegistration(c, signer, key.key_id, 1n, coordinator);
    req.body.chain_id = bad;
    const r = await c.send(req);
    assert.equal(r.status, 400, `chain_id ${JSON.stringify(bad)}: ${r.text}`);
    expectError(r, 400, 'bad_request');
  }
  const req = await buildRegistration(c, signer, key.key_id, 1n, coordinator);
  req.body.registry_coordinator = '0x1234';
  expectError(await c.send(req), 400, 'bad_request');
});

test('rotate: same key id, new keys and operator_id; the old version is no longer usable', async () => {
  const { signer, key, g2 } = await createOperator();
  const res = await c.send(await buildAvsRotate(c, signer, key.key_id));
  expectStatus(res, 200);
  const { g2: g2b } = checkAvsKey(res.json, signer, 2);
  assert.equal(res.json.key_id, key.key_id);
  assert.notDeepEqual(res.json.g1, key.g1);
  assert.notEqual(res.json.operator_id, key.operator_id);
  const got = (await getAvs(signer.address)).json;
  assert.equal(got.version, 2);
  assert.deepEqual(got.versions.map((v) => [v.version, v.usable]), [[1, false], [2, true]]);
  assert.deepEqual(got.versions[0].g1, key.g1);

  const msgHash = rand(32);
  const s = await c.send(await buildAvsSignHash(c, signer, key.key_id, msgHash, { version: 2 }));
  expectStatus(s, 200);
  assert.equal(s.json.version, 2);
  assert.deepEqual(s.json.g2, res.json.g2);
  const sig = g1From(s.json.signature);
  assert.ok(signedBy(sig, hashToG1(msgHash), g2b));
  assert.ok(!signedBy(sig, hashToG1(msgHash), g2), 'not the old key');
  if (hasSignVersion()) {
    // a request signed for version 1 is refused now
    const old = await c.send(await buildAvsSignHash(c, signer, key.key_id, msgHash, { version: 1 }));
    expectError(old, 409, 'version_mismatch');
  }
  // a stranger cannot rotate it
  const mallory = new EoaSigner();
  expectError(await c.send(await buildAvsRotate(c, mallory, key.key_id, { eoa: signer.address })), 403, 'wrong_signer');
  assert.deepEqual((await getAvs(signer.address)).json, got);
});

test('a session with the sign scope can scalar_mul for the operator', async () => {
  const { signer, key, g2 } = await createOperator();
  const delegate = new EoaSigner();
  const open = await c.openSession(signer, delegate.principal, ['sign'], [key.key_id], Math.floor(Date.now() / 1000) + 600);
  expectStatus(open, 201);
  const sessionId = open.json.session_id;
  const pt = G1.BASE.multiply(randScalar());
  const res = await c.send(await buildScalarMul(c, delegate, key.key_id, g1Json(pt), { eoa: signer.address, sessionId }));
  expectStatus(res, 200);
  assert.ok(signedBy(g1From(res.json.signature), pt, g2));
  // without the session id the delegate is just another signer
  expectError(await c.send(await buildScalarMul(c, delegate, key.key_id, g1Json(pt), { eoa: signer.address })), 403, 'wrong_signer');
  // and the session does not cover rotation
  const rot = await c.send(await buildAvsRotate(c, delegate, key.key_id, { eoa: signer.address, sessionId }));
  expectError(rot, 403, 'outside_session_scope');
});
