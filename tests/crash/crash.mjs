#!/usr/bin/env node
// tests/crash/crash.mjs — crash safety: kill -9 the host or the core at random
// moments of a mixed workload, restart, and check that nothing acknowledged is
// lost and nothing destroyed comes back.
//
//   node tests/crash/crash.mjs [--kills 100] [--clients 4] [--seed N] [--timeout 420] [--verbose]
//
// Model. A 2xx answer acknowledges an operation; a 503 or a broken connection
// leaves it undecided (it may or may not have happened). Each client owns its
// keys and sends one request at a time, so per key the model is exact:
//   acknowledged create      -> the key exists from then on, signs, keeps its public key per version
//   acknowledged rotate to v -> the current version is >= v from then on
//   acknowledged destroy     -> 410 on sign and state "destroyed" from then on
//   undecided rotate/destroy -> resolved by what the server later proves (a signature
//                               by a newer version, a 410)
// Every 200 from sign is verified (ethers / noble) against the public key of the
// version it names. After every restart (with the workload paused) and at the end
// the acknowledged state is checked against the server.
import { setTimeout as sleep } from 'node:timers/promises';
import { start, waitHealthy } from '../integration/lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, ethers, rand, verifyEd25519, splitSig, SECP256K1_N } from '../integration/lib/client.mjs';

// ---- options ----------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const KILLS = Number(opt('kills', 100));
const CLIENTS = Number(opt('clients', 4));
const SEED = Number(opt('seed', Math.floor(Math.random() * 2 ** 31)));
const TIMEOUT_S = Number(opt('timeout', 420));
const VERBOSE = args.includes('--verbose');
const LIVE_CAP = 6; // live keys per client: keeps each verification round bounded
const SAMPLE_DESTROYED = 20; // older destroyed keys re-checked per round
const REQ_TIMEOUT_MS = 10000;

// ---- deterministic randomness for the schedule (mulberry32) ---------------------------
let rngState = SEED >>> 0;
function rnd() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const rint = (a, b) => a + Math.floor(rnd() * (b - a + 1));
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];

// ---- bookkeeping ------------------------------------------------------------
const t0 = Date.now();
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1);
const violations = [];
const stats = { ackMut: 0, ackSign: 0, unacked: 0, timeouts: 0, s503: 0, connErr: 0, hostKills: 0, coreKills: 0, rounds: 0, checks: 0 };
function violation(msg) {
  violations.push(msg);
  if (violations.length <= 30) console.log(`crash: VIOLATION: ${msg}`);
}
const log = (...a) => console.log('crash:', ...a);
const vlog = (...a) => VERBOSE && console.log('crash:', ...a);

let srv = null;
let client = null;
let identity = null;
let salt = null;
let lastCounter = -1;
let finished = false;

const keys = new Map(); // key_id -> model
const owners = []; // per client: {signer, unackedCreates}

function newModel(k, owner) {
  return {
    id: k.key_id,
    type: k.key_type,
    owner,
    versions: new Map([[1, { public_key: k.public_key, address: k.address }]]),
    ackVersion: 1,
    pendingRotations: 0,
    destroyed: 'no', // 'no' | 'maybe' | 'yes'
    destroyedRound: -1,
    pendingSigs: [], // signatures by a version whose public key we do not know yet
  };
}

// ---- response classification ------------------------------------------------------
const CONN = /^(ECONNRESET|ECONNREFUSED|EPIPE|ECONNABORTED|EHOSTUNREACH)$/;

/** 'ack' | 'unacked' | 'other' */
function classify(res, err, okStatus) {
  if (err) {
    if (err.code === 'ETIMEDOUT') {
      stats.timeouts++;
      return 'unacked';
    }
    if (CONN.test(String(err.code))) {
      stats.connErr++;
      return 'unacked';
    }
    violation(`unexpected client error ${err.code}: ${err.message}`);
    return 'other';
  }
  if (res.status === okStatus) return 'ack';
  if (res.status === 503) {
    const code = res.json?.error?.code;
    if (code !== 'core_unavailable' && code !== 'core_busy') {
      violation(`503 with code ${code}: ${res.text?.slice(0, 200)}`);
    }
    stats.s503++;
    return 'unacked';
  }
  return 'other';
}

async function call(fn) {
  try {
    return { res: await fn() };
  } catch (err) {
    return { err };
  }
}

// ---- signature checks -----------------------------------------------------------
function checkSig(m, version, mode, payload, sig, where) {
  const v = m.versions.get(version);
  if (!v) {
    m.pendingSigs.push({ version, mode, payload, sig, where });
    return;
  }
  let ok = false;
  try {
    if (m.type === 'ed25519') {
      ok = mode === 'message' && verifyEd25519(sig, payload, v.public_key);
    } else {
      const { s, v: vv } = splitSig(sig);
      if (s > SECP256K1_N / 2n || (vv !== 27 && vv !== 28)) {
        violation(`${where}: non-canonical signature from key ${m.id}`);
        return;
      }
      const got = mode === 'personal' ? ethers.verifyMessage(ethers.getBytes(payload), sig) : ethers.recoverAddress(payload, sig);
      ok = got.toLowerCase() === v.address.toLowerCase();
    }
  } catch (e) {
    ok = false;
  }
  if (!ok) violation(`${where}: signature by key ${m.id} v${version} (${mode}) does not verify`);
}

/** A sign answered 200 with version: check it against the model. */
function acceptSignVersion(m, version, where) {
  if (version < m.ackVersion) {
    violation(`${where}: key ${m.id} signed with version ${version} < acknowledged ${m.ackVersion}`);
  } else if (version > m.ackVersion + m.pendingRotations) {
    violation(`${where}: key ${m.id} signed with version ${version}, but only ${m.ackVersion}+${m.pendingRotations} possible`);
  } else if (version > m.ackVersion) {
    // An undecided rotation did happen.
    m.ackVersion = version;
    m.pendingRotations = 0;
  }
}

/** Learn a version's public key; it may never change. */
function learnVersion(m, v, where) {
  const known = m.versions.get(v.version);
  if (known) {
    if (known.public_key !== v.public_key) {
      violation(`${where}: key ${m.id} version ${v.version} changed its public key`);
    }
    return;
  }
  m.versions.set(v.version, { public_key: v.public_key, address: v.address });
}

// ---- the workload -----------------------------------------------------------------
let paused = false;
let resume = () => {};
let resumed = Promise.resolve();
const idle = new Array(CLIENTS).fill(false);

async function opCreate(o) {
  const type = rnd() < 0.8 ? 'secp256k1' : 'ed25519';
  const c = client;
  const { res, err } = await call(() => c.createKey(o.signer, type));
  const cl = classify(res, err, 201);
  if (cl === 'ack') {
    stats.ackMut++;
    const k = res.json;
    if (keys.has(k.key_id)) violation(`create returned an existing key id ${k.key_id}`);
    if (k.version !== 1 || k.owner !== o.signer.principal || k.key_type !== type) {
      violation(`create answered ${res.text.slice(0, 200)}`);
    }
    keys.set(k.key_id, newModel(k, o));
  } else if (cl === 'unacked') {
    stats.unacked++;
    o.unackedCreates++;
  } else {
    violation(`create: HTTP ${res.status} ${res.text?.slice(0, 200)}`);
  }
}

async function opSign(o, m) {
  const mode = m.type === 'ed25519' ? 'message' : pick(['digest', 'personal']);
  const payload = mode === 'digest' ? rand(32) : rand(rint(0, 64));
  const c = client;
  const { res, err } = await call(() => c.sign(o.signer, m.id, mode, payload));
  const cl = classify(res, err, 200);
  const where = `sign ${m.id}`;
  if (cl === 'ack') {
    stats.ackSign++;
    if (m.destroyed === 'yes') {
      violation(`${where}: signed after its destruction was acknowledged`);
      return;
    }
    if (m.destroyed === 'maybe') m.destroyed = 'no'; // the undecided destroy did not happen
    acceptSignVersion(m, res.json.version, where);
    checkSig(m, res.json.version, mode, payload, res.json.signature, where);
  } else if (cl === 'unacked') {
    stats.unacked++;
  } else if (res.status === 410 && res.json?.error?.code === 'key_destroyed' && m.destroyed !== 'no') {
    if (m.destroyed === 'maybe') markDestroyed(m);
  } else {
    violation(`${where} (destroyed: ${m.destroyed}): HTTP ${res.status} ${res.text?.slice(0, 200)}`);
  }
}

function markDestroyed(m) {
  m.destroyed = 'yes';
  m.destroyedRound = stats.rounds;
}

async function opRotate(o, m) {
  const c = client;
  const { res, err } = await call(() => c.rotate(o.signer, m.id));
  const cl = classify(res, err, 200);
  const where = `rotate ${m.id}`;
  if (cl === 'ack') {
    stats.ackMut++;
    if (m.destroyed === 'yes') {
      violation(`${where}: rotated after its destruction was acknowledged`);
      return;
    }
    if (m.destroyed === 'maybe') m.destroyed = 'no';
    const v = res.json.version;
    if (v <= m.ackVersion || v > m.ackVersion + m.pendingRotations + 1) {
      violation(`${where}: new version ${v} after acknowledged ${m.ackVersion} (+${m.pendingRotations} undecided)`);
    }
    for (const ver of res.json.versions ?? []) learnVersion(m, ver, where);
    learnVersion(m, { version: v, public_key: res.json.public_key, address: res.json.address }, where);
    m.ackVersion = Math.max(m.ackVersion, v);
    m.pendingRotations = 0;
  } else if (cl === 'unacked') {
    stats.unacked++;
    m.pendingRotations++;
  } else if (res.status === 410 && res.json?.error?.code === 'key_destroyed' && m.destroyed !== 'no') {
    if (m.destroyed === 'maybe') markDestroyed(m);
  } else {
    violation(`${where} (destroyed: ${m.destroyed}): HTTP ${res.status} ${res.text?.slice(0, 200)}`);
  }
}

async function opDestroy(o, m) {
  const c = client;
  const { res, err } = await call(() => c.destroy(o.signer, m.id));
  const cl = classify(res, err, 200);
  const where = `destroy ${m.id}`;
  if (cl === 'ack') {
    stats.ackMut++;
    if (m.destroyed === 'yes') violation(`${where}: destroyed twice`);
    const j = res.json;
    try {
      const who = ethers.verifyTypedData(c.domain, { DeletionReceipt: c.types.DeletionReceipt }, j.receipt, j.receipt_signature);
      if (who.toLowerCase() !== identity.toLowerCase()) violation(`${where}: receipt signed by ${who}, not ${identity}`);
    } catch (e) {
      violation(`${where}: receipt does not verify: ${e.message}`);
    }
    if (j.receipt?.version < m.ackVersion) violation(`${where}: receipt version ${j.receipt?.version} < ${m.ackVersion}`);
    markDestroyed(m);
  } else if (cl === 'unacked') {
    stats.unacked++;
    if (m.destroyed === 'no') m.destroyed = 'maybe';
  } else if (res.status === 410 && res.json?.error?.code === 'key_destroyed' && m.destroyed !== 'no') {
    if (m.destroyed === 'maybe') markDestroyed(m);
  } else {
    violation(`${where} (destroyed: ${m.destroyed}): HTTP ${res.status} ${res.text?.slice(0, 200)}`);
  }
}

async function worker(i) {
  const o = owners[i];
  while (!finished) {
    if (paused) {
      idle[i] = true;
      await resumed;
      idle[i] = false;
      continue;
    }
    const mine = [...keys.values()].filter((m) => m.owner === o && m.destroyed !== 'yes');
    const r = rnd();
    const before = stats.connErr + stats.s503;
    if (mine.length === 0 || (r < 0.2 && mine.length < LIVE_CAP)) await opCreate(o);
    else if (r < 0.7) await opSign(o, pick(mine));
    else if (r < 0.85) await opRotate(o, pick(mine));
    else await opDestroy(o, pick(mine));
    if (stats.connErr + stats.s503 !== before) await sleep(20); // the host or core is down: do not spin
  }
  idle[i] = true;
}

async function pauseWorkers() {
  paused = true;
  resumed = new Promise((r) => {
    resume = r;
  });
  const deadline = Date.now() + REQ_TIMEOUT_MS + 5000;
  while (!idle.every(Boolean)) {
    if (Date.now() > deadline) throw new Error('workers did not go idle');
    await sleep(5);
  }
}
function resumeWorkers() {
  paused = false;
  resume();
}

// ---- verification ---------------------------------------------------------------
async function retrying(fn, what) {
  for (let i = 0; ; i++) {
    const { res, err } = await call(fn);
    if (!err && res.status !== 503) return res;
    if (i >= 20) throw new Error(`${what}: server not answering (${err?.code ?? res.status})`);
    await sleep(100);
  }
}

async function verifyKey(m, where) {
  stats.checks++;
  const c = client;
  const g = await retrying(() => c.getKey(m.id), `GET ${m.id}`);
  if (g.status !== 200) {
    violation(`${where}: acknowledged key ${m.id} answers GET with ${g.status} ${g.text?.slice(0, 200)}`);
    return;
  }
  const j = g.json;
  for (const v of j.versions ?? []) learnVersion(m, v, where);
  if (j.version < m.ackVersion) violation(`${where}: key ${m.id} at version ${j.version} < acknowledged ${m.ackVersion}`);
  // Signatures that named a version we had not seen yet.
  const pend = m.pendingSigs;
  m.pendingSigs = [];
  for (const p of pend) {
    if (!m.versions.has(p.version)) violation(`${where}: key ${m.id} signed with version ${p.version} that GET does not list`);
    else checkSig(m, p.version, p.mode, p.payload, p.sig, p.where);
  }
  if (m.destroyed === 'maybe') {
    if (j.state === 'destroyed') markDestroyed(m);
    else if (j.state === 'active') m.destroyed = 'no';
  }
  const mode = m.type === 'ed25519' ? 'message' : 'digest';
  const payload = rand(32);
  const s = await retrying(() => c.sign(m.owner.signer, m.id, mode, payload), `sign ${m.id}`);
  if (m.destroyed === 'yes') {
    if (j.state !== 'destroyed') violation(`${where}: destroyed key ${m.id} is back in state ${j.state}`);
    if (s.status !== 410 || s.json?.error?.code !== 'key_destroyed') {
      violation(`${where}: destroyed key ${m.id} answers sign with ${s.status} ${s.text?.slice(0, 200)}`);
    }
    return;
  }
  if (j.state !== 'active') {
    violation(`${where}: key ${m.id} is ${j.state} without an acknowledged destroy`);
    return;
  }
  if (s.status !== 200) {
    violation(`${where}: live key ${m.id} answers sign with ${s.status} ${s.text?.slice(0, 200)}`);
    return;
  }
  if (s.json.version !== j.version) violation(`${where}: key ${m.id} signs with version ${s.json.version}, GET says ${j.version}`);
  acceptSignVersion(m, s.json.version, where);
  checkSig(m, s.json.version, mode, payload, s.json.signature, where);
}

async function verifyAll(where, full) {
  const c = client;
  const h = await retrying(() => c.getHealth(), 'health');
  if (h.status !== 200 || h.json.status !== 'ok') violation(`${where}: health ${h.status} ${h.text}`);
  else {
    if (h.json.deployment.salt !== salt) violation(`${where}: deployment salt changed`);
    if (h.json.deployment.identity_address.toLowerCase() !== identity.toLowerCase()) violation(`${where}: identity changed`);
    if (h.json.counter < lastCounter) violation(`${where}: counter went back ${lastCounter} -> ${h.json.counter}`);
    lastCounter = h.json.counter;
  }
  const all = [...keys.values()];
  const older = all.filter((m) => m.destroyed === 'yes' && m.destroyedRound < stats.rounds - 1);
  const chosen = full
    ? all
    : all
        .filter((m) => !(m.destroyed === 'yes' && m.destroyedRound < stats.rounds - 1))
        .concat(Array.from({ length: Math.min(SAMPLE_DESTROYED, older.length) }, () => pick(older)));
  for (const m of new Set(chosen)) await verifyKey(m, where);
  // Listing: every acknowledged key of an owner is listed; the others come from undecided creates.
  for (const o of owners) {
    let listed;
    try {
      listed = await c.listAll(o.signer.principal);
    } catch (e) {
      violation(`${where}: list ${o.signer.principal}: ${e.message}`);
      continue;
    }
    const ids = new Set(listed.map((k) => k.key_id));
    for (const m of all) {
      if (m.owner === o && !ids.has(m.id)) violation(`${where}: key ${m.id} missing from its owner's list`);
    }
    const unknown = listed.filter((k) => !keys.has(k.key_id)).length;
    if (unknown > o.unackedCreates) {
      violation(`${where}: ${unknown} unknown keys listed for an owner with ${o.unackedCreates} undecided creates`);
    }
  }
}

// ---- kills and restarts --------------------------------------------------------------
async function newClient() {
  client = await new Client(srv.url, { timeoutMs: REQ_TIMEOUT_MS }).init();
}

async function waitCoreRestarted(oldCore) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const now = srv.corePid();
    if (now && now !== oldCore) break;
    if (srv.proc.exitCode !== null) throw new Error(`the host exited (${srv.proc.exitCode}) after a core kill\n${srv.stderr}`);
    if (Date.now() > deadline) throw new Error(`the host did not restart the core within 20 s\n${srv.stderr.slice(-2000)}`);
    await sleep(10);
  }
  await waitHealthy(srv.url, { timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 20 });
}

async function killOnce() {
  let target = rnd() < 0.5 ? 'host' : 'core';
  let core = null;
  if (target === 'core') {
    for (let i = 0; i < 50 && !core; i++) {
      core = srv.corePid();
      if (!core) await sleep(10);
    }
    if (!core) target = 'host';
  }
  if (target === 'core') {
    stats.coreKills++;
    try {
      process.kill(core, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await sleep(rint(0, 100)); // let the workload meet the restarting core
    await pauseWorkers();
    await waitCoreRestarted(core);
  } else {
    stats.hostKills++;
    const dataDir = srv.dataDir;
    await srv.kill('SIGKILL');
    await pauseWorkers();
    try {
      srv = await start({ dataDir, timeoutMs: 20000 });
    } catch (e) {
      violation(`the host did not start again on its data dir: ${e.message.slice(0, 3000)}`);
      throw e;
    }
    await newClient();
  }
  vlog(`round ${stats.rounds}: killed the ${target}`);
}

// ---- main ---------------------------------------------------------------------------
function summary() {
  const acked = stats.ackMut + stats.ackSign;
  log(
    `${stats.hostKills + stats.coreKills} kills (host ${stats.hostKills}, core ${stats.coreKills}), ` +
      `${keys.size} keys, ${stats.ackMut} acknowledged mutations, ${stats.ackSign} acknowledged signatures, ` +
      `${stats.unacked} undecided (${stats.s503} × 503, ${stats.connErr} connection errors, ${stats.timeouts} timeouts), ` +
      `${stats.checks} key checks, ${elapsed()} s`,
  );
  log(`${stats.hostKills + stats.coreKills} kills, ${acked} acknowledged ops, ${violations.length} violations`);
  const rounds = stats.rounds + (finished ? 1 : 0);
  const failed = violations.length ? 1 : 0;
  console.log(`${Math.max(0, rounds - failed)} passed, ${failed} failed`);
}

async function main() {
  log(`seed ${SEED}, ${KILLS} kills, ${CLIENTS} clients, timeout ${TIMEOUT_S} s`);
  for (let i = 0; i < CLIENTS; i++) {
    owners.push({ signer: i === CLIENTS - 1 && CLIENTS > 1 ? new Ed25519Signer() : new EoaSigner(), unackedCreates: 0 });
  }
  srv = await start({ timeoutMs: 20000 });
  log(`data dir ${srv.dataDir}, ${srv.url}`);
  await newClient();
  salt = client.salt;
  identity = client.health.deployment.identity_address;

  const workers = owners.map((_, i) => worker(i));
  for (let k = 0; k < KILLS; k++) {
    resumeWorkers();
    await sleep(rint(20, 300));
    await killOnce();
    stats.rounds++;
    await verifyAll(`after kill ${k + 1}`, false);
    if ((k + 1) % 10 === 0 || k + 1 === KILLS) {
      log(
        `${k + 1}/${KILLS} kills (host ${stats.hostKills}, core ${stats.coreKills}) · ` +
          `${stats.ackMut + stats.ackSign} acked ops · ${keys.size} keys · ${violations.length} violations · ${elapsed()} s`,
      );
    }
  }
  finished = true;
  resumeWorkers();
  await Promise.all(workers);
  await verifyAll('final', true);
  for (const m of keys.values()) {
    if (m.pendingSigs.length) violation(`final: key ${m.id} has unverified signatures`);
  }
}

const globalTimer = setTimeout(() => {
  violation(`global timeout of ${TIMEOUT_S} s reached`);
  summary();
  process.env.TKMS_KEEP_DATA = '1';
  process.exit(3);
}, TIMEOUT_S * 1000);

let code = 0;
try {
  await main();
} catch (e) {
  violation(`aborted: ${e.stack || e}`);
}
clearTimeout(globalTimer);
finished = true;
summary();
if (violations.length) {
  code = 1;
  process.env.TKMS_KEEP_DATA = '1';
  log(`data dir kept for inspection: ${srv?.dataDir}`);
}
try {
  await srv?.stop();
} catch {
  /* the exit handler kills by PID anyway */
}
process.exit(code);
