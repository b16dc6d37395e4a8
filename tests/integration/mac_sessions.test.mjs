// tests/integration/mac_sessions.test.mjs — MAC sessions: the session key is a
// client X25519 key ("x25519:0x…"); each request carries HMAC-SHA256(mac_key,
// EIP-712 digest) instead of a signature. The client side is node:crypto (X25519,
// HKDF, HMAC) and ethers (the digest, the owner's OpenSession signature, and the
// check of every signature the key makes), never our C code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { start, waitHealthy, makeTmpDir, TKMS_BIN } from './lib/server.mjs';
import { Client, EoaSigner, MacSessionSigner, rand, now, hex, unhex, ethers } from './lib/client.mjs';
import { HEX, expectError, expectStatus, checkSecpSignature, counter, expectRefused } from './lib/checks.mjs';

let srv;
let c;
const A = new EoaSigner(); // owner
let kA;

before(async () => {
  srv = await start();
  c = await new Client(srv.url).init();
  const r = await c.createKey(A, 'secp256k1');
  expectStatus(r, 201);
  kA = r.json;
});
after(async () => {
  await srv?.stop();
});

/** A request that must be refused; the state counter must not move. */
const refused = (fn, status, code) => expectRefused(c, fn, status, code);

/** Opens a MAC session for m (owner A signs OpenSession with ethers). */
async function openMac(m, ops, keyIds, expiry = now() + 600) {
  const r = await c.openSession(A, m.principal, ops, keyIds, expiry);
  expectStatus(r, 201);
  assert.match(r.json.session_id, HEX(16));
  assert.equal(r.json.session_key, m.principal);
  assert.equal(r.json.owner, A.principal);
  return r.json.session_id;
}

/** Flips one bit of a 0x-hex value. */
function flipBit(h, bit = 0) {
  const b = unhex(h);
  b[bit >> 3] ^= 1 << (bit & 7);
  return hex(b);
}

test('/v1/health shows the deployment session key', async () => {
  assert.match(c.health.session_x25519, HEX(32));
  // a valid X25519 public key: node:crypto accepts it as a peer key
  const m = c.macSigner();
  assert.equal(m.macKey.length, 32);
});

test('a MAC session signs: digest mode recovers to the key, personal mode verifies', async () => {
  const m = c.macSigner();
  const sid = await openMac(m, ['sign'], [kA.key_id]);
  // the authenticator is 32 bytes, the HMAC of the EIP-712 digest
  const built = await c.buildSign(m, kA.key_id, 'digest', rand(32), { sessionId: sid });
  assert.match(built.body.signature, HEX(32));
  const digest = MacSessionSigner.digest(built.domain, c.types, 'Sign', built.message);
  assert.equal(digest, ethers.TypedDataEncoder.hash(built.domain, { Sign: c.types.Sign }, built.message));
  const res = await c.send(built);
  checkSecpSignature(res, { mode: 'digest', payload: built.body.payload, address: kA.address });
  assert.equal(ethers.recoverAddress(built.body.payload, res.json.signature).toLowerCase(), kA.address);
  const msg = hex(Buffer.from('hello from a MAC session'));
  const p = await c.sign(m, kA.key_id, 'personal', msg, { sessionId: sid });
  checkSecpSignature(p, { mode: 'personal', payload: msg, address: kA.address });
  assert.equal(ethers.verifyMessage(ethers.getBytes(msg), p.json.signature).toLowerCase(), kA.address);
});

test('a tampered MAC, a MAC of the wrong length, another client key → 401 bad_signature', async () => {
  const m = c.macSigner();
  const other = c.macSigner(); // another client key, no session of its own
  const sid = await openMac(m, ['sign'], []);
  for (const bit of [0, 100, 255]) {
    const b = await c.buildSign(m, kA.key_id, 'digest', rand(32), { sessionId: sid });
    b.body.signature = flipBit(b.body.signature, bit);
    await refused(() => c.send(b), 401, 'bad_signature');
  }
  for (const len of [31, 33, 64, 65]) {
    const b = await c.buildSign(m, kA.key_id, 'digest', rand(32), { sessionId: sid });
    b.body.signature = rand(len);
    const r = await refused(() => c.send(b), 401, 'bad_signature');
    assert.match(r.json.error.message, /a MAC session authenticator is 32 bytes/);
  }
  await refused(
    () => c.sign(other, kA.key_id, 'digest', rand(32), { sessionId: sid }),
    401,
    'bad_signature',
  );
  // the owner's EIP-712 signature under the MAC session's id is not its MAC
  await refused(() => c.sign(A, kA.key_id, 'digest', rand(32), { sessionId: sid }), 401, 'bad_signature');
  // and the session still works
  const d = rand(32);
  checkSecpSignature(await c.sign(m, kA.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: kA.address,
  });
});

test('scope: a sign-only MAC session cannot rotate → 403 outside_session_scope', async () => {
  const m = c.macSigner();
  const sid = await openMac(m, ['sign'], [kA.key_id]);
  await refused(() => c.rotate(m, kA.key_id, { sessionId: sid }), 403, 'outside_session_scope');
  await refused(() => c.destroy(m, kA.key_id, { sessionId: sid }), 403, 'outside_session_scope');
});

test('revoked (by itself) → 401 session_unknown', async () => {
  const m = c.macSigner();
  const sid = await openMac(m, ['sign'], []);
  const r = await c.revokeSession(m, sid, { sessionId: sid });
  expectStatus(r, 200);
  await refused(() => c.sign(m, kA.key_id, 'digest', rand(32), { sessionId: sid }), 401, 'session_unknown');
});

test('revoked by the owner → 401 session_unknown', async () => {
  const m = c.macSigner();
  const sid = await openMac(m, ['sign'], []);
  expectStatus(await c.revokeSession(A, sid), 200);
  await refused(() => c.sign(m, kA.key_id, 'digest', rand(32), { sessionId: sid }), 401, 'session_unknown');
});

test('expired → 401 session_expired', async () => {
  const m = c.macSigner();
  const expiry = now() + 2;
  const sid = await openMac(m, ['sign'], [], expiry);
  while (now() <= expiry + 1) await sleep(200);
  await refused(() => c.sign(m, kA.key_id, 'digest', rand(32), { sessionId: sid }), 401, 'session_expired');
});

test('x25519 is only a session key: as an owner → 400', async () => {
  const m = c.macSigner();
  const before = await counter(c);
  const r = await c.createKey(A, 'secp256k1', { owner: m.principal });
  expectError(r, 400, 'bad_request');
  const o = await c.openSession(A, m.principal, ['sign'], [], now() + 60, { owner: m.principal });
  assert.ok(o.status === 400 || o.status === 403, `open with an x25519 owner: ${o.status} ${o.text}`);
  assert.equal(await counter(c), before);
});

test('a low-order client key is refused at open → 400 bad_request', async () => {
  // 0, 1 and a point of order 8: X25519 with any of them is all zero
  const low = [
    '0x' + '00'.repeat(32),
    '0x01' + '00'.repeat(31),
    '0xe0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  ];
  for (const pk of low) {
    const r = await refused(() => c.openSession(A, 'x25519:' + pk, ['sign'], [], now() + 60), 400, 'bad_request');
    assert.match(r.json.error.message, /low order/);
  }
});

test('after a core restart the MAC session still signs; the deployment key is the same', async () => {
  const m = c.macSigner();
  const sid = await openMac(m, ['sign'], [kA.key_id]);
  const key0 = c.health.session_x25519;
  const core = srv.corePid();
  assert.ok(core, 'the host has a core child process');
  process.kill(core, 'SIGKILL');
  const deadline = Date.now() + 15000;
  for (;;) {
    const pid = srv.corePid();
    if (pid && pid !== core) break;
    if (Date.now() > deadline) throw new Error(`no new core\n${srv.stderr}`);
    await sleep(20);
  }
  await waitHealthy(srv.url, { timeoutMs: 15000 });
  const h = await c.getHealth();
  expectStatus(h, 200);
  assert.equal(h.json.session_x25519, key0);
  const d = rand(32);
  checkSecpSignature(await c.sign(m, kA.key_id, 'digest', d, { sessionId: sid }), {
    mode: 'digest',
    payload: d,
    address: kA.address,
  });
});

/** Runs build/tkms against the server; the command must succeed. */
function cli(args) {
  const env = { ...process.env, TKMS_URL: srv.url };
  delete env.TKMS_DEPLOYMENT;
  const r = spawnSync(TKMS_BIN, args, { env, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `tkms ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    return r.stdout; // dev-account prints a plain address
  }
}

test('CLI: session open --mac saves a 0600 session file; key sign --session authenticates with HMAC', async () => {
  const dir = makeTmpDir();
  const acct = path.join(dir, 'owner.key');
  const sess = path.join(dir, 'mac.session');
  cli(['dev-account', 'new', '--out', acct]);
  const key = cli(['key', 'create', '--account', acct, '--type', 'secp256k1']);
  const opened = cli(['session', 'open', '--mac', '--account', acct, '--session-out', sess, '--operations', 'sign',
    '--key-ids', key.key_id, '--ttl', '600']);
  assert.match(opened.session_id, HEX(16));
  assert.match(opened.session_key, /^x25519:0x[0-9a-f]{64}$/);
  assert.equal(fs.statSync(sess).mode & 0o777, 0o600, 'the session file is 0600');
  const f = JSON.parse(fs.readFileSync(sess, 'utf8'));
  assert.equal(f.session_id, opened.session_id);
  assert.equal(f.session_x25519, c.health.session_x25519);
  // The MAC the CLI makes, recomputed with node:crypto from the file's secret.
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(unhex(f.private_key))]);
  const priv = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const m = new MacSessionSigner({ privateKey: priv, publicKey: crypto.createPublicKey(priv) }).bind(
    c.health.session_x25519,
    c.salt,
  );
  assert.equal(m.principal, opened.session_key);
  const d = rand(32);
  const dry = cli(['key', 'sign', key.key_id, '--session', sess, '--mode', 'digest', '--hex', d, '--dry-run']);
  assert.equal(dry.body.session_id, opened.session_id);
  const td = dry.typed_data;
  const types = { ...td.types };
  delete types.EIP712Domain;
  const want = hex(crypto.createHmac('sha256', m.macKey).update(unhex(ethers.TypedDataEncoder.hash(td.domain, types, td.message))).digest());
  assert.equal(dry.body.signature, want, 'the CLI MAC equals node:crypto HMAC of the ethers digest');
  // and for real
  const r = cli(['key', 'sign', key.key_id, '--session', sess, '--mode', 'digest', '--hex', d]);
  assert.equal(ethers.recoverAddress(d, r.signature).toLowerCase(), key.address);
  // never overwritten
  const again = spawnSync(TKMS_BIN, ['session', 'open', '--mac', '--account', acct, '--session-out', sess,
    '--operations', 'sign'], { env: { ...process.env, TKMS_URL: srv.url }, encoding: 'utf8' });
  assert.notEqual(again.status, 0);
});
