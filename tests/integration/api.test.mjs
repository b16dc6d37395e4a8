// tests/integration/api.test.mjs — the HTTP API of docs/api.md, checked by
// independent code: ethers signs every request and verifies every secp256k1
// signature and receipt; @noble/curves does the same for Ed25519.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { start } from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, ethers, rand, now, hex, unhex } from './lib/client.mjs';
import {
  HEX,
  expectError,
  expectStatus,
  checkKey,
  checkSecpSignature,
  checkEd25519Signature,
} from './lib/checks.mjs';

let srv;
let c;
const owner = new EoaSigner();

before(async () => {
  srv = await start();
  c = await new Client(srv.url).init();
});
after(async () => {
  await srv?.stop();
});

// The EIP-712 types exactly as docs/api.md lists them. Used only to check what
// /v1/eip712 serves; every request below is built from the served types.
const DOC_TYPES = {
  EIP712Domain: 'EIP712Domain(string name,string version,bytes32 salt)',
  CreateKey: 'CreateKey(string keyType,string owner,bytes policy,bytes32 requestId,uint64 deadline)',
  Sign: 'Sign(bytes16 keyId,string mode,bytes payload,uint32 version,bytes32 requestId,uint64 deadline)',
  RotateKey: 'RotateKey(bytes16 keyId,bytes32 requestId,uint64 deadline)',
  DestroyKey: 'DestroyKey(bytes16 keyId,bytes32 requestId,uint64 deadline)',
  OpenSession:
    'OpenSession(string sessionKey,string[] operations,bytes16[] keyIds,uint64 expiry,bytes32 requestId,uint64 deadline)',
  RevokeSession: 'RevokeSession(bytes16 sessionId,bytes32 requestId,uint64 deadline)',
  DeletionReceipt:
    'DeletionReceipt(bytes16 keyId,string owner,uint32 version,uint64 destroyedAt,bytes32 requestId)',
  AnnounceUpgrade: 'AnnounceUpgrade(bytes32 measurement,bytes32 requestId,uint64 deadline)',
  CancelUpgrade: 'CancelUpgrade(bytes32 measurement,bytes32 requestId,uint64 deadline)',
  UpdatePolicy: 'UpdatePolicy(bytes16 keyId,string newOwner,bytes policy,bytes32 requestId,uint64 deadline)',
  CancelPolicyChange: 'CancelPolicyChange(bytes16 keyId,bytes32 requestId,uint64 deadline)',
};
const DOC_ROUTES = {
  'POST /v1/keys': 'CreateKey',
  'POST /v1/keys/{id}/sign': 'Sign',
  'POST /v1/keys/{id}/rotate': 'RotateKey',
  'DELETE /v1/keys/{id}': 'DestroyKey',
  'POST /v1/sessions': 'OpenSession',
  'DELETE /v1/sessions/{id}': 'RevokeSession',
  'POST /v1/governance/announce': 'AnnounceUpgrade',
  'POST /v1/governance/cancel': 'CancelUpgrade',
  'POST /v1/keys/{id}/policy': 'UpdatePolicy',
  'DELETE /v1/keys/{id}/policy/pending': 'CancelPolicyChange',
  // EigenLayer (docs/api.md "Signed types of the /v1/avs routes")
  'POST /v1/avs/keys': 'CreateKey',
  'POST /v1/avs/scalar_mul': 'Sign',
  'POST /v1/avs/sign': 'Sign',
  'POST /v1/avs/registration': 'Sign',
  'POST /v1/avs/keys/{eoa}/rotate': 'RotateKey',
};

/** Parse "Name(type a,type b)" into the typed-data field list. */
function fieldsOf(encodeType) {
  const inner = encodeType.slice(encodeType.indexOf('(') + 1, -1);
  return inner.split(',').map((f) => {
    const [type, name] = f.split(' ');
    return { name, type };
  });
}

async function newKey(signer, type = 'secp256k1', ownerPrincipal) {
  const res = await c.createKey(signer, type, ownerPrincipal ? { owner: ownerPrincipal } : {});
  expectStatus(res, 201);
  checkKey(res.json, { type, owner: ownerPrincipal ?? signer.principal, version: 1 });
  return res.json;
}

test('GET /v1/health: sim platform, simulated, deployment salt and identity', async () => {
  const r = await c.getHealth();
  expectStatus(r, 200);
  const h = r.json;
  assert.equal(h.status, 'ok');
  assert.equal(typeof h.version, 'string');
  assert.equal(h.platform, 'sim');
  assert.equal(h.simulated, true);
  assert.deepEqual(h.protection, { root_on_host: false, stolen_disk: false, tampered_boot: false });
  assert.match(h.warning, /SIMULATION/);
  assert.match(h.measurement, HEX(32));
  assert.match(h.deployment.salt, HEX(32));
  assert.match(h.deployment.identity_address, HEX(20));
  assert.ok(ethers.isAddress(h.deployment.identity_address));
  assert.ok(Number.isInteger(h.counter) && h.counter >= 0, 'counter');
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
});

test('GET /v1/eip712 serves exactly the documented domain and types', async () => {
  const r = await c.raw('GET', '/v1/eip712');
  expectStatus(r, 200);
  const { domain, types, routes } = r.json;
  assert.deepEqual(domain, { name: 'tkms', version: '1', salt: c.health.deployment.salt });
  assert.deepEqual(Object.keys(types).sort(), Object.keys(DOC_TYPES).sort());
  for (const [name, enc] of Object.entries(DOC_TYPES)) {
    assert.deepEqual(types[name], fieldsOf(enc), `fields of ${name}`);
    if (name !== 'EIP712Domain') {
      // ethers derives the encodeType (and so the typeHash) from the served fields.
      assert.equal(ethers.TypedDataEncoder.from({ [name]: types[name] }).encodeType(name), enc);
    }
  }
  for (const [route, primary] of Object.entries(DOC_ROUTES)) {
    assert.equal(routes?.[route], primary, `routes["${route}"]`);
  }
  assert.deepEqual(Object.keys(routes).sort(), Object.keys(DOC_ROUTES).sort(), 'no undocumented route');
});

test('create a secp256k1 key: address = computeAddress(public_key)', async () => {
  const k = await newKey(owner);
  assert.ok(Math.abs(k.created_at - now()) < 120, 'created_at is about now');
  const g = await c.getKey(k.key_id);
  expectStatus(g, 200);
  checkKey(g.json, { type: 'secp256k1', owner: owner.principal, version: 1 });
  assert.equal(g.json.public_key, k.public_key);
  assert.equal(g.json.address, k.address);
});

test('sign personal: ethers.verifyMessage gives the key address', async () => {
  const k = await newKey(owner);
  const payload = ethers.hexlify(ethers.toUtf8Bytes('hello tkms'));
  const r = await c.sign(owner, k.key_id, 'personal', payload);
  checkSecpSignature(r, { mode: 'personal', payload, address: k.address, keyId: k.key_id, version: 1 });
  // Signing requests are not state-changing: the same body may be sent again.
  const again = await c.send(r.req);
  checkSecpSignature(again, { mode: 'personal', payload, address: k.address });
  // Empty and binary payloads.
  for (const p of ['0x', rand(100)]) {
    const r2 = await c.sign(owner, k.key_id, 'personal', p);
    checkSecpSignature(r2, { mode: 'personal', payload: p, address: k.address });
  }
});

test('sign digest: recoverAddress gives the key address, low-s, v in {27,28}', async () => {
  const k = await newKey(owner);
  for (let i = 0; i < 8; i++) {
    const digest = rand(32);
    const r = await c.sign(owner, k.key_id, 'digest', digest);
    checkSecpSignature(r, { mode: 'digest', payload: digest, address: k.address, keyId: k.key_id });
  }
  // RFC 6979: the same digest gives the same signature.
  const d = rand(32);
  const a = await c.sign(owner, k.key_id, 'digest', d);
  const b = await c.sign(owner, k.key_id, 'digest', d);
  expectStatus(a, 200);
  expectStatus(b, 200);
  assert.equal(a.json.signature, b.json.signature, 'deterministic (RFC 6979)');
});

test('ed25519 key: create and sign a message, verified with noble', async () => {
  const k = await newKey(owner, 'ed25519');
  for (const payload of [ethers.hexlify(ethers.toUtf8Bytes('hello ed25519')), '0x', rand(1000)]) {
    const r = await c.sign(owner, k.key_id, 'message', payload);
    checkEd25519Signature(r, { payload, publicKey: k.public_key, keyId: k.key_id, version: 1 });
  }
});

test('an ed25519 owner creates, uses, rotates and destroys keys', async () => {
  const ed = new Ed25519Signer();
  assert.match(ed.principal, /^ed25519:0x[0-9a-f]{64}$/);
  const ks = await newKey(ed, 'secp256k1');
  const ke = await newKey(ed, 'ed25519');
  const digest = rand(32);
  checkSecpSignature(await c.sign(ed, ks.key_id, 'digest', digest), {
    mode: 'digest',
    payload: digest,
    address: ks.address,
  });
  const msg = rand(40);
  checkEd25519Signature(await c.sign(ed, ke.key_id, 'message', msg), { payload: msg, publicKey: ke.public_key });
  const rot = await c.rotate(ed, ks.key_id);
  expectStatus(rot, 200);
  assert.equal(rot.json.version, 2);
  checkSecpSignature(await c.sign(ed, ks.key_id, 'digest', digest), {
    mode: 'digest',
    payload: digest,
    address: rot.json.address,
    version: 2,
  });
  const del = await c.destroy(ed, ke.key_id);
  expectStatus(del, 200);
  assert.equal(del.json.receipt.owner, ed.principal);
  expectError(await c.sign(ed, ke.key_id, 'message', msg), 410, 'key_destroyed');
  const list = await c.listAll(ed.principal);
  assert.deepEqual(
    list.map((k) => [k.key_id, k.state]),
    [
      [ks.key_id, 'active'],
      [ke.key_id, 'destroyed'],
    ],
  );
});

test('rotate: new public key, version 2, old version kept but not usable', async () => {
  const k = await newKey(owner);
  const r = await c.rotate(owner, k.key_id);
  expectStatus(r, 200);
  const k2 = r.json;
  checkKey(k2, { type: 'secp256k1', owner: owner.principal, version: 2 });
  assert.notEqual(k2.public_key, k.public_key);
  assert.notEqual(k2.address, k.address);
  const g = await c.getKey(k.key_id);
  expectStatus(g, 200);
  checkKey(g.json, { version: 2 });
  assert.equal(g.json.public_key, k2.public_key);
  assert.equal(typeof g.json.updated_at, 'number');
  const vs = g.json.versions;
  assert.equal(vs.length, 2);
  assert.deepEqual(
    vs.map((v) => [v.version, v.public_key, v.address, v.usable]),
    [
      [1, k.public_key, k.address, false],
      [2, k2.public_key, k2.address, true],
    ],
  );
  for (const v of vs) {
    assert.equal(v.address, ethers.computeAddress(v.public_key).toLowerCase());
    assert.equal(typeof v.created_at, 'number');
  }
  // Signatures now come from the new key.
  const digest = rand(32);
  const s = await c.sign(owner, k.key_id, 'digest', digest);
  checkSecpSignature(s, { mode: 'digest', payload: digest, address: k2.address, version: 2 });
  const payload = ethers.hexlify(ethers.toUtf8Bytes('after rotation'));
  checkSecpSignature(await c.sign(owner, k.key_id, 'personal', payload), {
    mode: 'personal',
    payload,
    address: k2.address,
    version: 2,
  });
  // A second rotation: version 3, versions 1 and 2 not usable.
  const r3 = await c.rotate(owner, k.key_id);
  expectStatus(r3, 200);
  assert.equal(r3.json.version, 3);
  const g3 = await c.getKey(k.key_id);
  assert.deepEqual(
    g3.json.versions.map((v) => [v.version, v.usable]),
    [
      [1, false],
      [2, false],
      [3, true],
    ],
  );
  // Ed25519 keys rotate the same way.
  const e = await newKey(owner, 'ed25519');
  const er = await c.rotate(owner, e.key_id);
  expectStatus(er, 200);
  assert.equal(er.json.version, 2);
  assert.notEqual(er.json.public_key, e.public_key);
  const m = rand(16);
  checkEd25519Signature(await c.sign(owner, e.key_id, 'message', m), {
    payload: m,
    publicKey: er.json.public_key,
    version: 2,
  });
});

test('destroy: receipt verifies with ethers.verifyTypedData against the identity address', async () => {
  const k = await newKey(owner);
  await c.rotate(owner, k.key_id); // so the receipt carries version 2
  const req = await c.buildDestroy(owner, k.key_id);
  const r = await c.send(req);
  expectStatus(r, 200);
  const j = r.json;
  assert.equal(j.key_id, k.key_id);
  assert.equal(j.state, 'destroyed');
  const identity = c.health.deployment.identity_address;
  assert.equal(j.signer.toLowerCase(), identity.toLowerCase(), 'signer is the identity address from /v1/health');
  assert.deepEqual(Object.keys(j.receipt).sort(), ['destroyedAt', 'keyId', 'owner', 'requestId', 'version']);
  assert.equal(j.receipt.keyId, k.key_id);
  assert.equal(j.receipt.owner, owner.principal);
  assert.equal(j.receipt.version, 2);
  assert.equal(j.receipt.requestId, req.body.request_id);
  assert.ok(Math.abs(j.receipt.destroyedAt - now()) < 120, 'destroyedAt is about now');
  assert.match(j.receipt_signature, HEX(65));
  const types = { DeletionReceipt: c.types.DeletionReceipt };
  const recovered = ethers.verifyTypedData(c.domain, types, j.receipt, j.receipt_signature);
  assert.equal(recovered.toLowerCase(), identity.toLowerCase(), 'receipt signed by the deployment identity');
  // A receipt for another key does not verify against the same signature.
  const forged = { ...j.receipt, keyId: rand(16) };
  assert.notEqual(
    ethers.verifyTypedData(c.domain, types, forged, j.receipt_signature).toLowerCase(),
    identity.toLowerCase(),
  );

  // The public data and the receipt remain readable.
  const g = await c.getKey(k.key_id);
  expectStatus(g, 200);
  assert.equal(g.json.state, 'destroyed');
  assert.equal(typeof g.json.destroyed_at, 'number');
  assert.deepEqual(g.json.receipt, j.receipt);
  // After destruction: sign, rotate and destroy answer 410.
  expectError(await c.sign(owner, k.key_id, 'digest', rand(32)), 410, 'key_destroyed');
  expectError(await c.sign(owner, k.key_id, 'personal', '0x01'), 410, 'key_destroyed');
  expectError(await c.rotate(owner, k.key_id), 410, 'key_destroyed');
  expectError(await c.destroy(owner, k.key_id), 410, 'key_destroyed');
});

test('list by owner: ordered by creation, paginated without duplicates', async () => {
  const o = new EoaSigner();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await newKey(o, i % 2 ? 'ed25519' : 'secp256k1')).key_id);
  const pages = [];
  let cursor = null;
  for (let i = 0; i < 10; i++) {
    const r = await c.listKeys(o.principal, { limit: 2, cursor });
    expectStatus(r, 200);
    pages.push(r.json.keys.map((k) => k.key_id));
    for (const k of r.json.keys) checkKey(k, { owner: o.principal });
    cursor = r.json.next_cursor;
    if (cursor === null) break;
    assert.equal(typeof cursor, 'string', 'next_cursor is a string or null');
  }
  assert.deepEqual(
    pages.map((p) => p.length),
    [2, 2, 1],
    'three pages of 2, 2 and 1',
  );
  assert.deepEqual(pages.flat(), ids, 'every key once, in creation order');
  // Default limit returns all five; another owner's list does not contain them.
  const all = await c.listKeys(o.principal);
  expectStatus(all, 200);
  assert.deepEqual(
    all.json.keys.map((k) => k.key_id),
    ids,
  );
  assert.equal(all.json.next_cursor, null);
  const other = await c.listKeys(new EoaSigner().principal);
  expectStatus(other, 200);
  assert.deepEqual(other.json.keys, []);
  assert.equal(other.json.next_cursor, null);
  // Destroyed keys stay listed with state "destroyed".
  expectStatus(await c.destroy(o, ids[2]), 200);
  const after = await c.listAll(o.principal, { limit: 3 });
  assert.deepEqual(
    after.map((k) => [k.key_id, k.state]),
    ids.map((id, i) => [id, i === 2 ? 'destroyed' : 'active']),
  );
});

test('get an unknown key: 404 key_not_found', async () => {
  expectError(await c.getKey(rand(16)), 404, 'key_not_found');
  expectError(await c.sign(owner, rand(16), 'digest', rand(32)), 404, 'key_not_found');
  expectError(await c.rotate(owner, rand(16)), 404, 'key_not_found');
  expectError(await c.destroy(owner, rand(16)), 404, 'key_not_found');
});

test('sign with a malformed envelope: 404 for an unknown key first, else 400 naming the field', async () => {
  // The key lookup comes before the envelope check. A body with an error always
  // leaves the fast JSON path for jansson, which words the error; an escaped
  // mode is one more way there.
  const k = (await c.createKey(owner, 'secp256k1')).json;
  for (const mode of ['"digest"', '"dig\\u0065st"']) {
    for (const [keyId, status, code] of [[rand(16), 404, 'key_not_found'], [k.key_id, 400, 'bad_request']]) {
      const req = await c.buildSign(owner, keyId, 'digest', rand(32));
      const text = JSON.stringify({ ...req.body, request_id: '0x00' }).replace('"digest"', mode);
      const r = await c.raw('POST', `/v1/keys/${keyId}/sign`, text);
      expectError(r, status, code);
      if (status === 400) assert.match(r.json.error.message, /request_id/);
    }
  }
});

test('attestation: report_data binds identity, salt and nonce', async () => {
  const nonce = rand(32);
  const r = await c.attestation(nonce);
  expectStatus(r, 200);
  const a = r.json;
  const h = c.health;
  assert.equal(a.platform, 'sim');
  assert.equal(a.simulated, true);
  assert.equal(a.nonce, nonce);
  assert.equal(a.identity_address.toLowerCase(), h.deployment.identity_address.toLowerCase());
  assert.equal(a.deployment_salt, h.deployment.salt);
  assert.equal(a.measurement, h.measurement);
  const expected = Buffer.concat([
    createHash('sha256')
      .update(Buffer.from('tkms-attest-v1'))
      .update(unhex(h.deployment.identity_address))
      .update(unhex(h.deployment.salt))
      .update(unhex(nonce))
      .digest(),
    Buffer.alloc(32),
  ]);
  assert.equal(a.report_data, hex(expected), 'report_data = sha256("tkms-attest-v1" ‖ identity ‖ salt ‖ nonce) ‖ 0^32');
  assert.match(a.evidence, /^0x([0-9a-f]{2})+$/);
  const ev = Buffer.from(unhex(a.evidence));
  assert.equal(ev.subarray(0, 20).toString('latin1'), 'TKMS-SIM-EVIDENCE-v1', 'sim evidence says so in its first bytes');
  assert.ok(ev.includes(Buffer.from(unhex(a.report_data))), 'evidence contains the report data');
  // Another nonce, another report.
  const r2 = await c.attestation(hex(randomBytes(32)));
  expectStatus(r2, 200);
  assert.notEqual(r2.json.report_data, a.report_data);
});
