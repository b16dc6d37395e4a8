// tests/integration/authz.test.mjs — every refusal of the authorisation layer:
// exact HTTP status and error code, and proof that nothing changed (no key
// created, no version added, the key still signs, no signature returned, the
// deployment's state counter did not move).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { secp256k1 } from '@noble/curves/secp256k1';
import { start } from './lib/server.mjs';
import {
  Client,
  EoaSigner,
  Ed25519Signer,
  ethers,
  rand,
  now,
  hex,
  unhex,
  highSTwin,
  SECP256K1_N,
} from './lib/client.mjs';
import { HEX, expectError, expectStatus, checkSecpSignature, counter, expectRefused } from './lib/checks.mjs';

let srv;
let c;
const A = new EoaSigner(); // owner of kA, kA2
const B = new EoaSigner(); // another account
const E = new Ed25519Signer(); // an ed25519 owner
let kA;
let kA2;
let kE;
let kB;

async function newKey(signer, type = 'secp256k1') {
  const r = await c.createKey(signer, type);
  expectStatus(r, 201);
  return r.json;
}

before(async () => {
  srv = await start();
  c = await new Client(srv.url).init();
  kA = await newKey(A);
  kA2 = await newKey(A);
  kE = await newKey(E);
  kB = await newKey(B);
});
after(async () => {
  await srv?.stop();
});

/** A request that must be refused; the state counter must not move. */
const refused = (fn, status, code) => expectRefused(c, fn, status, code);

async function stillSigns(signer, key) {
  const d = rand(32);
  checkSecpSignature(await c.sign(signer, key.key_id, 'digest', d), {
    mode: 'digest',
    payload: d,
    address: key.address,
  });
}

async function versionOf(key) {
  const g = await c.getKey(key.key_id);
  expectStatus(g, 200);
  return g.json.version;
}

async function keyCount(principal) {
  return (await c.listAll(principal)).length;
}

/** Replace the signature of a built request. */
function withSig(req, signature) {
  return { ...req, body: { ...req.body, signature } };
}

/** A 65-byte r‖s‖v whose r is not the x coordinate of any curve point: recovery must fail. */
function unrecoverableSig() {
  for (let i = 0; i < 1000; i++) {
    const x = rand(32);
    try {
      secp256k1.ProjectivePoint.fromHex('02' + x.slice(2));
    } catch {
      if (BigInt(x) >= SECP256K1_N) continue;
      return x + '0000000000000000000000000000000000000000000000000000000000000001' + '1b';
    }
  }
  throw new Error('no non-curve x found');
}

// ---- wrong signer ---------------------------------------------------------------

test('wrong signer: another account signs sign / rotate / destroy / create → 403 wrong_signer', async () => {
  await refused(() => c.sign(B, kA.key_id, 'digest', rand(32)), 403, 'wrong_signer');
  await refused(() => c.sign(B, kA.key_id, 'personal', '0x68656c6c6f'), 403, 'wrong_signer');
  await refused(() => c.rotate(B, kA.key_id), 403, 'wrong_signer');
  await refused(() => c.destroy(B, kA.key_id), 403, 'wrong_signer');
  // An ed25519 signature (64 bytes) for an EOA-owned key and an EOA signature
  // (65 bytes) for an ed25519-owned key do not even have the owner's signature form.
  await refused(() => c.sign(E, kA.key_id, 'digest', rand(32)), 401, 'bad_signature');
  await refused(() => c.sign(A, kE.key_id, 'digest', rand(32)), 401, 'bad_signature');
  // Another ed25519 key for an ed25519-owned key.
  await refused(() => c.sign(new Ed25519Signer(), kE.key_id, 'digest', rand(32)), 401, 'bad_signature');
  // B signs a CreateKey naming A as owner.
  const n = await keyCount(A.principal);
  await refused(() => c.createKey(B, 'secp256k1', { owner: A.principal }), 403, 'wrong_signer');
  await refused(() => c.createKey(E, 'secp256k1', { owner: A.principal }), 401, 'bad_signature');
  assert.equal(await keyCount(A.principal), n, 'no key created');
  assert.equal(await versionOf(kA), 1);
  await stillSigns(A, kA);
});

test('tampered body: a field changed after signing → wrong_signer (EOA) / bad_signature (ed25519)', async () => {
  // For an EOA the signature then recovers to some other address.
  const s = await c.buildSign(A, kA.key_id, 'digest', rand(32));
  await refused(() => c.send({ ...s, body: { ...s.body, payload: rand(32) } }), 403, 'wrong_signer');
  await refused(() => c.send({ ...s, body: { ...s.body, deadline: s.body.deadline + 1 } }), 403, 'wrong_signer');
  await refused(() => c.send({ ...s, path: `/v1/keys/${kA2.key_id}/sign` }), 403, 'wrong_signer');
  const p = await c.buildSign(A, kA.key_id, 'personal', rand(32));
  await refused(() => c.send({ ...p, body: { ...p.body, mode: 'digest' } }), 403, 'wrong_signer');
  const cr = await c.buildCreateKey(A, 'secp256k1');
  await refused(() => c.send({ ...cr, body: { ...cr.body, key_type: 'ed25519' } }), 403, 'wrong_signer');
  // For an ed25519 principal the signature does not verify.
  const e = await c.buildSign(E, kE.key_id, 'digest', rand(32));
  await refused(() => c.send({ ...e, body: { ...e.body, payload: rand(32) } }), 401, 'bad_signature');
  // The untampered requests still work.
  expectStatus(await c.send(s), 200);
  expectStatus(await c.send(e), 200);
});

// ---- bad signatures -----------------------------------------------------------

test('bad signature: malformed or unverifiable → 401 bad_signature', async () => {
  const s = await c.buildSign(A, kA.key_id, 'digest', rand(32));
  const sig = s.body.signature;
  // Truncated (64 bytes, 10 bytes), empty, too long.
  await refused(() => c.send(withSig(s, sig.slice(0, 2 + 128))), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, sig.slice(0, 2 + 20))), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, '0x')), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, sig + '00')), 401, 'bad_signature');
  // 65 random-looking bytes that recover to no key (r is not on the curve).
  await refused(() => c.send(withSig(s, unrecoverableSig())), 401, 'bad_signature');
  // r = 0 and s = 0.
  await refused(() => c.send(withSig(s, '0x' + '00'.repeat(32) + sig.slice(66, 130) + '1b')), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, sig.slice(0, 66) + '00'.repeat(32) + '1b')), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, '0x' + '00'.repeat(64) + '1c')), 401, 'bad_signature');
  // r >= n.
  const rBig = SECP256K1_N.toString(16);
  await refused(() => c.send(withSig(s, '0x' + rBig + sig.slice(66, 130) + '1b')), 401, 'bad_signature');
  // A well-formed signature by nobody in particular recovers to a random address: wrong signer.
  let randomSig;
  for (;;) {
    const x = rand(32);
    try {
      secp256k1.ProjectivePoint.fromHex('02' + x.slice(2));
      randomSig = x + '00'.repeat(31) + '05' + '1b';
      break;
    } catch {
      /* try another */
    }
  }
  await refused(() => c.send(withSig(s, randomSig)), 403, 'wrong_signer');

  // Create and rotate with a truncated signature change nothing.
  const n = await keyCount(A.principal);
  const cr = await c.buildCreateKey(A, 'secp256k1');
  await refused(() => c.send(withSig(cr, cr.body.signature.slice(0, 130))), 401, 'bad_signature');
  const ro = await c.buildRotate(A, kA.key_id);
  await refused(() => c.send(withSig(ro, unrecoverableSig())), 401, 'bad_signature');
  const de = await c.buildDestroy(A, kA.key_id);
  await refused(() => c.send(withSig(de, de.body.signature.slice(0, 100))), 401, 'bad_signature');
  assert.equal(await keyCount(A.principal), n);
  assert.equal(await versionOf(kA), 1);
  // The same request ids were not consumed by the refusals: the intact create works.
  const ok = await c.send(cr);
  expectStatus(ok, 201);
  await stillSigns(A, kA);
});

test('bad signature for an ed25519 principal: random, truncated, 65 bytes → 401 bad_signature', async () => {
  const s = await c.buildSign(E, kE.key_id, 'digest', rand(32));
  await refused(() => c.send(withSig(s, rand(64))), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, s.body.signature.slice(0, 2 + 126))), 401, 'bad_signature');
  await refused(() => c.send(withSig(s, s.body.signature + '1b')), 401, 'bad_signature');
  // An EOA signature (65 bytes) over the same typed data.
  const eoaSig = await A.signTyped(s.domain, c.types, 'Sign', s.message);
  await refused(() => c.send(withSig(s, eoaSig)), 401, 'bad_signature');
  // The ed25519 signature of the EIP-712 *digest* instead of the 66-byte preimage.
  const { ed25519 } = await import('@noble/curves/ed25519');
  const digest = ethers.TypedDataEncoder.hash(s.domain, { Sign: c.types.Sign }, s.message);
  await refused(() => c.send(withSig(s, hex(ed25519.sign(unhex(digest), E.priv)))), 401, 'bad_signature');
  const n = await keyCount(E.principal);
  const cr = await c.buildCreateKey(E, 'ed25519');
  await refused(() => c.send(withSig(cr, rand(64))), 401, 'bad_signature');
  assert.equal(await keyCount(E.principal), n);
  const ok = await c.send(s);
  expectStatus(ok, 200);
});

test('non-canonical: high-s twin (s → n−s, v flipped) and v not 27/28 → 401 non_canonical_signature', async () => {
  // The twin recovers to the same address: only the canonical-form check refuses it.
  const s = await c.buildSign(A, kA.key_id, 'digest', rand(32));
  const twin = highSTwin(s.body.signature);
  const digest = ethers.TypedDataEncoder.hash(s.domain, { Sign: c.types.Sign }, s.message);
  const tb = unhex(twin);
  const pub = new secp256k1.Signature(BigInt(hex(tb.slice(0, 32))), BigInt(hex(tb.slice(32, 64))))
    .addRecoveryBit(tb[64] - 27)
    .recoverPublicKey(digest.slice(2));
  assert.equal(ethers.computeAddress(hex(pub.toRawBytes(false))), A.address, 'the twin is a valid signature by A (ignoring s <= n/2)');
  await refused(() => c.send(withSig(s, twin)), 401, 'non_canonical_signature');
  // v as a raw recovery id (0/1) or out of range.
  const v = parseInt(s.body.signature.slice(130), 16);
  for (const bad of [v - 27, v + 2, 0x42]) {
    const b = s.body.signature.slice(0, 130) + bad.toString(16).padStart(2, '0');
    await refused(() => c.send(withSig(s, b)), 401, 'non_canonical_signature');
  }
  // The high-s twin of a create does not create, and does not consume the request id.
  const n = await keyCount(A.principal);
  const cr = await c.buildCreateKey(A, 'secp256k1');
  await refused(() => c.send(withSig(cr, highSTwin(cr.body.signature))), 401, 'non_canonical_signature');
  const ro = await c.buildRotate(A, kA.key_id);
  await refused(() => c.send(withSig(ro, highSTwin(ro.body.signature))), 401, 'non_canonical_signature');
  const de = await c.buildDestroy(A, kA.key_id);
  await refused(() => c.send(withSig(de, highSTwin(de.body.signature))), 401, 'non_canonical_signature');
  assert.equal(await keyCount(A.principal), n);
  assert.equal(await versionOf(kA), 1);
  expectStatus(await c.send(cr), 201);
  await stillSigns(A, kA);
});

// ---- deadlines ------------------------------------------------------------------

test('expired deadline → 401 request_expired', async () => {
  const past = now() - 10;
  await refused(() => c.sign(A, kA.key_id, 'digest', rand(32), { deadline: past }), 401, 'request_expired');
  await refused(() => c.sign(A, kA.key_id, 'digest', rand(32), { deadline: 0 }), 401, 'request_expired');
  const n = await keyCount(A.principal);
  await refused(() => c.createKey(A, 'secp256k1', { deadline: past }), 401, 'request_expired');
  await refused(() => c.rotate(A, kA.key_id, { deadline: past }), 401, 'request_expired');
  await refused(() => c.destroy(A, kA.key_id, { deadline: past }), 401, 'request_expired');
  assert.equal(await keyCount(A.principal), n);
  assert.equal(await versionOf(kA), 1);
  await stillSigns(A, kA);
});

test('deadline more than 3600 s ahead → 400 deadline_too_far', async () => {
  const far = now() + 3700;
  await refused(() => c.sign(A, kA.key_id, 'digest', rand(32), { deadline: far }), 400, 'deadline_too_far');
  const n = await keyCount(A.principal);
  await refused(() => c.createKey(A, 'secp256k1', { deadline: far }), 400, 'deadline_too_far');
  await refused(() => c.rotate(A, kA.key_id, { deadline: far }), 400, 'deadline_too_far');
  await refused(() => c.destroy(A, kA.key_id, { deadline: far }), 400, 'deadline_too_far');
  assert.equal(await keyCount(A.principal), n);
  // Just inside the window is fine.
  const d = rand(32);
  checkSecpSignature(await c.sign(A, kA.key_id, 'digest', d, { deadline: now() + 3500 }), {
    mode: 'digest',
    payload: d,
    address: kA.address,
  });
});

// ---- deployment -----------------------------------------------------------------

test('wrong deployment salt → 403 wrong_deployment', async () => {
  const other = rand(32);
  // A request made for another deployment (domain and body agree on the other salt).
  await refused(() => c.sign(A, kA.key_id, 'digest', rand(32), { deployment: other }), 403, 'wrong_deployment');
  const n = await keyCount(A.principal);
  await refused(() => c.createKey(A, 'secp256k1', { deployment: other }), 403, 'wrong_deployment');
  await refused(() => c.rotate(A, kA.key_id, { deployment: other }), 403, 'wrong_deployment');
  await refused(() => c.destroy(A, kA.key_id, { deployment: other }), 403, 'wrong_deployment');
  // The body names another deployment, the signature is over this one.
  await refused(
    () => c.sign(A, kA.key_id, 'digest', rand(32), { bodyDeployment: other }),
    403,
    'wrong_deployment',
  );
  // The body names this deployment, but the signature is over another domain:
  // an EOA signature then recovers to someone else, an ed25519 one does not verify.
  await refused(() => c.sign(A, kA.key_id, 'digest', rand(32), { domainSalt: other }), 403, 'wrong_signer');
  await refused(() => c.sign(E, kE.key_id, 'digest', rand(32), { domainSalt: other }), 401, 'bad_signature');
  assert.equal(await keyCount(A.principal), n);
  assert.equal(await versionOf(kA), 1);
  await stillSigns(A, kA);
});

// ---- sessions -------------------------------------------------------------------

async function openSession(owner, sessionSigner, ops, keyIds, expiry = now() + 600) {
  const r = await c.openSession(owner, sessionSigner.principal, ops, keyIds, expiry);
  expectStatus(r, 201);
  assert.match(r.json.session_id, HEX(16));
  assert.equal(r.json.owner, owner.principal);
  assert.equal(r.json.session_key, sessionSigner.principal);
  assert.equal(r.json.expiry, expiry);
  return r.json.session_id;
}

test('sessions: the session key signs in scope; out-of-scope key or op → 403 outside_session_scope', async () => {
  const S = new EoaSigner();
  const sid = await openSession(A, S, ['sign'], [kA.key_id]);
  // In scope: the session key signs kA.
  const d = rand(32);
  checkSecpSignature(await c.sign(S, kA.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: kA.address,
  });
  // Another key of the same owner is not in keyIds.
  await refused(() => c.sign(S, kA2.key_id, 'digest', rand(32), { sessionId: sid }), 403, 'outside_session_scope');
  // Operations not in scope.
  await refused(() => c.rotate(S, kA.key_id, { sessionId: sid }), 403, 'outside_session_scope');
  await refused(() => c.destroy(S, kA.key_id, { sessionId: sid }), 403, 'outside_session_scope');
  const n = await keyCount(A.principal);
  await refused(
    () => c.createKey(S, 'secp256k1', { owner: A.principal, sessionId: sid }),
    403,
    'outside_session_scope',
  );
  assert.equal(await keyCount(A.principal), n);
  assert.equal(await versionOf(kA), 1);
  // The session key without session_id is just a stranger; a stranger with the session id likewise.
  await refused(() => c.sign(S, kA.key_id, 'digest', rand(32)), 403, 'wrong_signer');
  await refused(() => c.sign(B, kA.key_id, 'digest', rand(32), { sessionId: sid }), 403, 'wrong_signer');
  await stillSigns(A, kA);
});

test('sessions: an ed25519 session key with all operations on all the owner keys', async () => {
  const S = new Ed25519Signer();
  const sid = await openSession(A, S, ['create', 'sign', 'rotate', 'destroy'], []);
  const cr = await c.createKey(S, 'secp256k1', { owner: A.principal, sessionId: sid });
  expectStatus(cr, 201);
  assert.equal(cr.json.owner, A.principal, 'a key created through a session belongs to the owner');
  const k = cr.json;
  const d = rand(32);
  checkSecpSignature(await c.sign(S, k.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: k.address,
  });
  checkSecpSignature(await c.sign(S, kA2.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: kA2.address,
  });
  const ro = await c.rotate(S, k.key_id, { sessionId: sid });
  expectStatus(ro, 200);
  assert.equal(ro.json.version, 2);
  const de = await c.destroy(S, k.key_id, { sessionId: sid });
  expectStatus(de, 200);
  assert.equal(de.json.receipt.owner, A.principal);
  // The owner's own signature still works alongside the session.
  await stillSigns(A, kA2);
});

test("sessions: a session of owner B cannot use owner A's keys", async () => {
  const S = new EoaSigner();
  const sid = await openSession(B, S, ['create', 'sign', 'rotate', 'destroy'], []);
  // B's own key is fine.
  const d = rand(32);
  checkSecpSignature(await c.sign(S, kB.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: kB.address,
  });
  await refused(() => c.sign(S, kA.key_id, 'digest', rand(32), { sessionId: sid }), 403, 'outside_session_scope');
  await refused(() => c.rotate(S, kA.key_id, { sessionId: sid }), 403, 'outside_session_scope');
  await refused(() => c.destroy(S, kA.key_id, { sessionId: sid }), 403, 'outside_session_scope');
  const n = await keyCount(A.principal);
  await refused(
    () => c.createKey(S, 'secp256k1', { owner: A.principal, sessionId: sid }),
    403,
    'outside_session_scope',
  );
  assert.equal(await keyCount(A.principal), n);
  // B opens a session naming A's key explicitly: it must not reach A's key either
  // (refused when opened, or refused when used).
  const S2 = new EoaSigner();
  const before = await counter(c);
  const o = await c.openSession(B, S2.principal, ['sign'], [kA.key_id], now() + 600);
  if (o.status === 201) {
    await refused(
      () => c.sign(S2, kA.key_id, 'digest', rand(32), { sessionId: o.json.session_id }),
      403,
      'outside_session_scope',
    );
  } else {
    expectError(o, 403, 'wrong_signer');
    assert.equal(await counter(c), before);
  }
  assert.equal(await versionOf(kA), 1);
  await stillSigns(A, kA);
});

test('sessions: expired → 401 session_expired', async () => {
  const S = new EoaSigner();
  const expiry = now() + 3;
  const sid = await openSession(A, S, ['sign'], [], expiry);
  const d = rand(32);
  checkSecpSignature(await c.sign(S, kA.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: kA.address,
  });
  while (now() <= expiry + 1) await sleep(200);
  await refused(() => c.sign(S, kA.key_id, 'digest', rand(32), { sessionId: sid }), 401, 'session_expired');
});

test('sessions: revoked (by the owner or by the session key) or never opened → 401 session_unknown', async () => {
  const S = new EoaSigner();
  const sid = await openSession(A, S, ['sign'], []);
  expectStatus(await c.sign(S, kA.key_id, 'digest', rand(32), { sessionId: sid }), 200);
  // Another owner cannot revoke it.
  await refused(() => c.revokeSession(B, sid, { owner: A.principal }), 403, 'wrong_signer');
  expectStatus(await c.sign(S, kA.key_id, 'digest', rand(32), { sessionId: sid }), 200);
  // The owner revokes it.
  const rv = await c.revokeSession(A, sid);
  expectStatus(rv, 200);
  assert.deepEqual(rv.json, { session_id: sid, revoked: true });
  await refused(() => c.sign(S, kA.key_id, 'digest', rand(32), { sessionId: sid }), 401, 'session_unknown');

  // The session key revokes its own session.
  const S2 = new Ed25519Signer();
  const sid2 = await openSession(A, S2, ['sign'], []);
  const rv2 = await c.revokeSession(S2, sid2, { sessionId: sid2 });
  expectStatus(rv2, 200);
  assert.deepEqual(rv2.json, { session_id: sid2, revoked: true });
  await refused(() => c.sign(S2, kA.key_id, 'digest', rand(32), { sessionId: sid2 }), 401, 'session_unknown');

  // A session id that never existed.
  await refused(() => c.sign(S, kA.key_id, 'digest', rand(32), { sessionId: rand(16) }), 401, 'session_unknown');
  await stillSigns(A, kA);
});

test('sessions: bounds on expiry and operations → 400 bad_request', async () => {
  const S = new EoaSigner();
  await refused(
    () => c.openSession(A, S.principal, ['sign'], [], now() + 7 * 24 * 3600 + 600),
    400,
    'bad_request',
  );
  await refused(() => c.openSession(A, S.principal, ['sign', 'admin'], [], now() + 600), 400, 'bad_request');
  await refused(() => c.openSession(A, 'nobody', ['sign'], [], now() + 600), 400, 'bad_request');
  // B cannot open a session for A.
  await refused(
    () => c.openSession(B, S.principal, ['sign'], [], now() + 600, { owner: A.principal }),
    403,
    'wrong_signer',
  );
});

// ---- replay ---------------------------------------------------------------------

const replays = {};

test('replay of create / rotate / open-session requests → 403 replayed_request', async () => {
  const O = new EoaSigner();
  // create
  const cr = await c.buildCreateKey(O, 'secp256k1');
  const r1 = await c.send(cr);
  expectStatus(r1, 201);
  const k = r1.json;
  Object.assign(replays, { O, k, cr });
  await refused(() => c.send(cr), 403, 'replayed_request');
  // A new, validly signed request that reuses the request id.
  await refused(() => c.createKey(O, 'ed25519', { requestId: cr.body.request_id }), 403, 'replayed_request');
  assert.equal(await keyCount(O.principal), 1, 'one key, not two');
  // rotate
  const ro = await c.buildRotate(O, k.key_id);
  expectStatus(await c.send(ro), 200);
  replays.ro = ro;
  await refused(() => c.send(ro), 403, 'replayed_request');
  assert.equal(await versionOf(k), 2, 'rotated once, not twice');
  // destroy (of another key, so the first stays usable for the restart test);
  // its replay is checked in the next test
  const k2 = (await c.send(await c.buildCreateKey(O, 'secp256k1'))).json;
  const de = await c.buildDestroy(O, k2.key_id);
  expectStatus(await c.send(de), 200);
  replays.de = de;
  // A request id used by one mutation cannot be used by any other.
  await refused(() => c.rotate(O, k.key_id, { requestId: de.body.request_id }), 403, 'replayed_request');
  await refused(() => c.rotate(O, k.key_id, { requestId: cr.body.request_id }), 403, 'replayed_request');
  assert.equal(await versionOf(k), 2);
  // sessions: open, replayed open; revoke (its replay in a later test)
  const S = new EoaSigner();
  const os = await c.buildOpenSession(O, S.principal, ['sign'], [], now() + 600);
  const r2 = await c.send(os);
  expectStatus(r2, 201);
  replays.os = os;
  await refused(() => c.send(os), 403, 'replayed_request');
  const rv = await c.buildRevokeSession(O, r2.json.session_id);
  expectStatus(await c.send(rv), 200);
  replays.rv = rv;
});

test('replay of a destroy request → 403 replayed_request', async () => {
  assert.ok(replays.de, 'the replay test ran');
  await refused(() => c.send(replays.de), 403, 'replayed_request');
});

test('replay of a revoke-session request → 403 replayed_request', async () => {
  assert.ok(replays.rv, 'the replay test ran');
  await refused(() => c.send(replays.rv), 403, 'replayed_request');
});

test('replay after a restart on the same data directory is still refused', async () => {
  const { O, k, cr, ro, de, os, rv } = replays;
  assert.ok(cr && ro && de && os && rv, 'the replay test ran');
  const salt = c.salt;
  const stopped = await srv.stop();
  assert.equal(stopped.code, 0, `clean stop exits 0 (got ${JSON.stringify(stopped)})`);
  srv = await start({ dataDir: srv.dataDir });
  c = await new Client(srv.url).init();
  assert.equal(c.salt, salt, 'same deployment after restart');
  for (const req of [cr, ro, os]) {
    await refused(() => c.send(req), 403, 'replayed_request');
  }
  await refused(() => c.rotate(O, k.key_id, { requestId: de.body.request_id }), 403, 'replayed_request');
  assert.equal(await keyCount(O.principal), 2);
  assert.equal(await versionOf(k), 2);
  const d = rand(32);
  const g = (await c.getKey(k.key_id)).json;
  checkSecpSignature(await c.sign(O, k.key_id, 'digest', d), { mode: 'digest', payload: d, address: g.address });
  // Replays whose target is gone (destroyed key, revoked session) last.
  for (const req of [de, rv]) {
    await refused(() => c.send(req), 403, 'replayed_request');
  }
});
