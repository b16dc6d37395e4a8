// tests/integration/persistence.test.mjs — keys survive restarts and kills;
// an old database cannot be replayed (rollback); a different core binary cannot
// unseal the deployment and does not start over.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  start,
  startExpectFailure,
  waitHealthy,
  makeTmpDir,
  snapshotDir,
  isAlive,
  ENCLAVE_BIN,
} from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, rand, ethers } from './lib/client.mjs';
import {
  expectError,
  expectStatus,
  checkSecpSignature,
  checkEd25519Signature,
} from './lib/checks.mjs';

const servers = new Set();
after(async () => {
  for (const s of servers) await s.stop();
});

async function up(opts) {
  const s = await start(opts);
  servers.add(s);
  const c = await new Client(s.url, { timeoutMs: 10000 }).init();
  return { s, c };
}
async function down(s) {
  servers.delete(s);
  return s.stop();
}

/** A small population of keys in every state. */
async function populate(c) {
  const O = new EoaSigner();
  const OE = new Ed25519Signer();
  const keys = {};
  const mk = async (signer, type) => {
    const r = await c.createKey(signer, type);
    expectStatus(r, 201);
    return { ...r.json, signer };
  };
  keys.secp = await mk(O, 'secp256k1');
  keys.ed = await mk(O, 'ed25519');
  keys.edOwned = await mk(OE, 'secp256k1');
  keys.rotated = await mk(O, 'secp256k1');
  const ro = await c.rotate(O, keys.rotated.key_id);
  expectStatus(ro, 200);
  keys.rotated = { ...ro.json, signer: O };
  keys.destroyed = await mk(O, 'secp256k1');
  const de = await c.destroy(O, keys.destroyed.key_id);
  expectStatus(de, 200);
  keys.destroyed.receipt = de.json.receipt;
  return keys;
}

/** Every key is as it was: public data, version, state; live keys sign; destroyed ones do not. */
async function verify(c, keys) {
  for (const [name, k] of Object.entries(keys)) {
    const g = await c.getKey(k.key_id);
    expectStatus(g, 200);
    const j = g.json;
    assert.equal(j.public_key, k.public_key, `${name}: public key`);
    if (name === 'destroyed') {
      assert.equal(j.state, 'destroyed', `${name}: still destroyed`);
      assert.deepEqual(j.receipt, k.receipt, `${name}: receipt`);
      expectError(await c.sign(k.signer, k.key_id, 'digest', rand(32)), 410, 'key_destroyed');
      continue;
    }
    assert.equal(j.state, 'active', `${name}: active`);
    assert.equal(j.version, k.version, `${name}: version`);
    if (k.key_type === 'ed25519') {
      const m = rand(24);
      checkEd25519Signature(await c.sign(k.signer, k.key_id, 'message', m), { payload: m, publicKey: k.public_key });
    } else {
      const d = rand(32);
      checkSecpSignature(await c.sign(k.signer, k.key_id, 'digest', d), { mode: 'digest', payload: d, address: k.address });
    }
  }
}

function sameDeployment(a, b) {
  assert.equal(b.deployment.salt, a.deployment.salt, 'same deployment salt');
  assert.equal(b.deployment.identity_address, a.deployment.identity_address, 'same identity');
  assert.equal(b.measurement, a.measurement, 'same measurement');
  assert.ok(b.counter >= a.counter, `counter did not go back (${a.counter} -> ${b.counter})`);
}

/** After a core kill: a new core process, and the host says ok again. */
async function waitCoreRestarted(s, oldCore, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = s.corePid();
    if (now && now !== oldCore) break;
    if (Date.now() > deadline) throw new Error(`no new core within ${timeoutMs} ms\n${s.stderr}`);
    await sleep(20);
  }
  return waitHealthy(s.url, { timeoutMs: Math.max(1000, deadline - Date.now()) });
}

const isDbFile = (n) => /\.db(-wal|-shm|-journal)?$/.test(n);

test('keys survive a clean restart', async (t) => {
  let { s, c } = await up();
  const keys = await populate(c);
  const h0 = c.health;
  const h1 = (await c.getHealth()).json;
  const r = await down(s);
  assert.equal(r.code, 0, `clean stop exits 0: ${JSON.stringify(r)}\n${s.stderr}`);
  t.diagnostic(`data dir after a clean stop: ${fs.readdirSync(s.dataDir).join(' ')}`);
  ({ s, c } = await up({ dataDir: s.dataDir }));
  sameDeployment(h0, c.health);
  assert.ok(c.health.counter >= h1.counter, 'the counter did not go back');
  await verify(c, keys);
  await down(s);
});

test('keys survive kill -9 of the host', async () => {
  let { s, c } = await up();
  const keys = await populate(c);
  const h0 = c.health;
  const core = s.corePid();
  assert.ok(core, 'the host has a core child process');
  const coreStart = fs.readFileSync(`/proc/${core}/stat`, 'utf8');
  process.kill(s.pid, 'SIGKILL');
  await s.exited;
  // The core notices that its host is gone and exits by itself.
  const deadline = Date.now() + 5000;
  const startField = coreStart.slice(coreStart.lastIndexOf(')') + 2).split(' ')[19];
  while (isAlive(core, startField) && Date.now() < deadline) await sleep(50);
  const orphan = isAlive(core, startField);
  await s.kill('SIGKILL'); // reaps whatever is left, by PID
  servers.delete(s);
  assert.equal(orphan, false, 'the core exited within 5 s of its host being killed');
  ({ s, c } = await up({ dataDir: s.dataDir }));
  sameDeployment(h0, c.health);
  await verify(c, keys);
  await down(s);
});

test('keys survive kill -9 of the core; in-flight requests get 503 core_unavailable or a connection error', async (t) => {
  const { s, c } = await up();
  const keys = await populate(c);
  const O = keys.secp.signer;
  const core = s.corePid();
  assert.ok(core, 'the host has a core child process');

  const results = [];
  const created = [];
  const stopAt = Date.now() + 1500;
  const worker = async (kind) => {
    while (Date.now() < stopAt) {
      const payload = rand(32);
      try {
        if (kind === 'create') {
          const r = await c.createKey(O, 'secp256k1');
          results.push({ kind, r });
          if (r.status === 201) created.push(r.json);
        } else {
          const r = await c.sign(O, keys.secp.key_id, 'digest', payload);
          results.push({ kind, r, payload });
        }
      } catch (e) {
        results.push({ kind, err: e });
        await sleep(10);
      }
    }
  };
  const workers = [worker('sign'), worker('sign'), worker('sign'), worker('create')];
  await sleep(300);
  process.kill(core, 'SIGKILL');
  await Promise.all(workers);

  const tally = {};
  for (const { kind, r, err, payload } of results) {
    if (err) {
      assert.match(String(err.code), /^(ECONNRESET|ECONNREFUSED|EPIPE)$/, `${kind}: unexpected error ${err.stack}`);
      tally.connection_error = (tally.connection_error ?? 0) + 1;
      continue;
    }
    tally[r.status] = (tally[r.status] ?? 0) + 1;
    if (r.status === 503) {
      expectError(r, 503, 'core_unavailable');
      assert.equal(r.json.error.retryable, true, '503 says retryable');
    } else if (kind === 'sign') {
      // Never a wrong answer: every 200 is a valid signature by the key.
      checkSecpSignature(r, { mode: 'digest', payload, address: keys.secp.address });
    } else {
      expectStatus(r, 201);
    }
  }
  t.diagnostic(`in-flight results around the core kill: ${JSON.stringify(tally)}`);

  const h = await waitCoreRestarted(s, core);
  assert.equal(h.status, 'ok');
  const core2 = s.corePid();
  assert.ok(core2 && core2 !== core, 'the host restarted the core');
  assert.equal(s.proc.exitCode, null, 'the host survived');
  await verify(c, keys);
  // Every acknowledged create exists and signs.
  for (const k of created) {
    const d = rand(32);
    checkSecpSignature(await c.sign(O, k.key_id, 'digest', d), { mode: 'digest', payload: d, address: k.address });
  }
  // And once more: a second core kill while idle.
  process.kill(core2, 'SIGKILL');
  await waitCoreRestarted(s, core2);
  await verify(c, keys);
  await down(s);
});

test('rollback: an old copy of the database is refused, the destroyed key does not come back', async (t) => {
  let { s, c } = await up();
  const O = new EoaSigner();
  const k1 = (await c.createKey(O, 'secp256k1')).json;
  const k2 = (await c.createKey(O, 'secp256k1')).json;
  assert.ok(k1.key_id && k2.key_id);
  const dir = s.dataDir;
  assert.equal((await down(s)).code, 0, 'clean stop');

  const files = fs.readdirSync(dir);
  t.diagnostic(`data dir: ${files.join(' ')}`);
  const dbFiles = files.filter(isDbFile);
  assert.ok(dbFiles.some((f) => f.endsWith('.db')), `a *.db file in the data dir (have: ${files.join(' ')})`);
  assert.ok(files.includes('sim-counter'), `DATA/sim-counter exists (have: ${files.join(' ')})`);
  const oldCopy = makeTmpDir('tkms-old-db-');
  for (const f of dbFiles) fs.copyFileSync(path.join(dir, f), path.join(oldCopy, f));

  // Destroy k1 (acknowledged), then stop.
  ({ s, c } = await up({ dataDir: dir }));
  const de = await c.destroy(O, k1.key_id);
  expectStatus(de, 200);
  assert.equal((await down(s)).code, 0);
  const newCopy = makeTmpDir('tkms-new-db-');
  for (const f of fs.readdirSync(dir).filter(isDbFile)) fs.copyFileSync(path.join(dir, f), path.join(newCopy, f));

  // Put the old database back, keep the current counter.
  for (const f of fs.readdirSync(dir).filter(isDbFile)) fs.rmSync(path.join(dir, f));
  for (const f of fs.readdirSync(oldCopy)) fs.copyFileSync(path.join(oldCopy, f), path.join(dir, f));
  const r = await startExpectFailure({ dataDir: dir });
  const out = r.stdout + r.stderr;
  t.diagnostic(`refusal: exit ${r.code} signal ${r.signal}: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  assert.equal(r.listened, false, 'the server must not start on a rolled-back database');
  assert.equal(r.timedOut, false, 'it exits instead of hanging');
  assert.ok(r.code !== 0 && r.code !== null, `non-zero exit (got ${r.code}, ${r.signal})`);
  assert.match(out, /rollback|rolled back/i, 'the message says rollback');

  // With the current database back it starts, and k1 is still destroyed.
  for (const f of fs.readdirSync(dir).filter(isDbFile)) fs.rmSync(path.join(dir, f));
  for (const f of fs.readdirSync(newCopy)) fs.copyFileSync(path.join(newCopy, f), path.join(dir, f));
  ({ s, c } = await up({ dataDir: dir }));
  const g = await c.getKey(k1.key_id);
  expectStatus(g, 200);
  assert.equal(g.json.state, 'destroyed');
  expectError(await c.sign(O, k1.key_id, 'digest', rand(32)), 410, 'key_destroyed');
  const d = rand(32);
  checkSecpSignature(await c.sign(O, k2.key_id, 'digest', d), { mode: 'digest', payload: d, address: k2.address });
  await down(s);
});

test('a core binary with another measurement cannot unseal and changes nothing', async (t) => {
  // A production deployment (one governor, nothing announced): another core build
  // gets nothing. (A development deployment hands itself to a rebuilt core:
  // governance.test.mjs.)
  const governor = ethers.Wallet.createRandom();
  let { s, c } = await up({ extraArgs: ['--governor', governor.address] });
  const O = new EoaSigner();
  const k = (await c.createKey(O, 'secp256k1')).json;
  assert.ok(k.key_id);
  const h0 = c.health;
  const dir = s.dataDir;
  assert.equal((await down(s)).code, 0);

  // Same code plus one byte: the ELF still runs, but its SHA-256 differs.
  const encDir = makeTmpDir('tkms-enclave-');
  const enclave = path.join(encDir, 'tkms-enclave');
  fs.copyFileSync(ENCLAVE_BIN, enclave);
  fs.appendFileSync(enclave, Buffer.from([0x0a]));
  fs.chmodSync(enclave, 0o755);

  const notTransient = (n) => !/-(wal|shm|journal)$/.test(n) && !/\.(lock|pid)$/.test(n);
  const before = await snapshotDir(dir, notTransient);
  const r = await startExpectFailure({ dataDir: dir, enclave });
  const out = r.stdout + r.stderr;
  t.diagnostic(`refusal: exit ${r.code} signal ${r.signal}: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  assert.equal(r.listened, false, 'a core with another measurement must not serve this data dir');
  assert.equal(r.timedOut, false, 'it exits instead of hanging');
  assert.ok(r.code !== 0 && r.code !== null, `non-zero exit (got ${r.code}, ${r.signal})`);
  assert.match(out, /unseal/i, 'the message says it cannot unseal');
  assert.match(out, /upgrade_not_announced|not announced/, 'and that it was not announced');
  const afterSnap = await snapshotDir(dir, notTransient);
  assert.deepEqual(afterSnap, before, 'the data dir is unchanged (no new root secret, no new deployment)');

  // The original core still serves the same deployment and key.
  ({ s, c } = await up({ dataDir: dir }));
  assert.equal(c.health.deployment.salt, h0.deployment.salt);
  assert.equal(c.health.deployment.identity_address, h0.deployment.identity_address);
  const d = rand(32);
  checkSecpSignature(await c.sign(O, k.key_id, 'digest', d), { mode: 'digest', payload: d, address: k.address });
  await down(s);

  // On an empty data dir the modified core is a different deployment, not a copy of this one.
  const { s: s2, c: c2 } = await up({ enclave });
  assert.notEqual(c2.health.measurement, h0.measurement, 'a different measurement is reported');
  assert.notEqual(c2.health.deployment.salt, h0.deployment.salt);
  await down(s2);
});
