// tests/integration/governance.test.mjs — governance, announced upgrades and
// migration to a successor core, end to end through the HTTP API and two real
// core binaries that differ in measurement (build/tkms-enclave and
// build/tests/tkms-enclave-b). Governors are ethers wallets; every signature a
// key makes before and after a migration is checked with ethers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, startExpectFailure, makeTmpDir, ENCLAVE_BIN, TKMS_BIN } from './lib/server.mjs';
import { Client, EoaSigner, ethers, rand, highSTwin } from './lib/client.mjs';
import { HEX, expectError, expectStatus, checkSecpSignature } from './lib/checks.mjs';
import { ENCLAVE_B, requireEnclaveB, announce, cancel } from './lib/governance.mjs';

const DELAY = 8; // the production deployment's upgrade delay, seconds
const MEAS_RE = /the core (0x[0-9a-f]{64}) cannot unseal/;

/** Runs SQL on the data directory's SQLite store (the server is stopped). */
function storeSql(dataDir, sql) {
  const db = fs.readdirSync(dataDir).find((f) => f.endsWith('.db'));
  assert.ok(db, `no *.db store in ${dataDir}`);
  try {
    return execFileSync('sqlite3', [path.join(dataDir, db), sql], { encoding: 'utf8' }).trim();
  } catch (e) {
    assert.fail(`this test edits the store with the sqlite3 CLI (apt-get install sqlite3): ${e.message}`);
  }
}

async function newKeyAndSign(c, owner) {
  const k = await c.createKey(owner, 'secp256k1');
  expectStatus(k, 201);
  const digest = rand(32);
  checkSecpSignature(await c.sign(owner, k.json.key_id, 'digest', digest), {
    mode: 'digest',
    payload: digest,
    address: k.json.address,
    keyId: k.json.key_id,
  });
  return k.json;
}

async function signsAs(c, owner, key) {
  const digest = rand(32);
  const r = await c.sign(owner, key.key_id, 'digest', digest);
  expectStatus(r, 200);
  assert.equal(ethers.recoverAddress(digest, r.json.signature).toLowerCase(), key.address);
}

test('production deployment: announce with M-of-N governors, time-lock, migration to core B', async (t) => {
  requireEnclaveB();
  const govs = [0, 1, 2].map(() => ethers.Wallet.createRandom());
  const outsider = ethers.Wallet.createRandom();
  const govArgs = govs.flatMap((g) => ['--governor', g.address]).concat(['--threshold', '2', '--upgrade-delay', String(DELAY)]);
  const dataDir = makeTmpDir('tkms-gov-');
  const owner = new EoaSigner();

  // 1. Initialise with core A and governance; make a key.
  let srv = await start({ dataDir, extraArgs: govArgs });
  let c = await new Client(srv.url).init();
  const measA = c.health.measurement;
  assert.equal(c.health.deployment_mode, 'production');
  assert.deepEqual(c.health.governance, { mode: 'production', governors: 3, threshold: 2, upgrade_delay: DELAY });
  const g0 = await c.raw('GET', '/v1/governance');
  expectStatus(g0, 200);
  assert.deepEqual(g0.json.governors, govs.map((g) => g.address.toLowerCase()));
  assert.equal(g0.json.threshold, 2);
  assert.equal(g0.json.upgrade_delay, DELAY);
  assert.deepEqual(g0.json.announcements, []);
  assert.equal(g0.json.holder, measA, 'the initialising core holds the deployment');
  const key = await newKeyAndSign(c, owner);
  const identity = c.health.deployment.identity_address;
  await srv.stop();

  // 2. Governance is fixed at initialisation: the options are refused now.
  let r = await startExpectFailure({ dataDir, extraArgs: ['--governor', outsider.address] });
  assert.equal(r.listened, false);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /apply only when a deployment is initialised/);

  // 3. Core B before any announcement: refused, naming the command to announce it.
  r = await startExpectFailure({ dataDir, enclave: ENCLAVE_B });
  assert.equal(r.listened, false, 'core B must not take over an unannounced deployment');
  assert.equal(r.code, 2, r.stderr);
  const measB = MEAS_RE.exec(r.stderr)?.[1];
  assert.ok(measB, `no measurement of core B in:\n${r.stderr}`);
  assert.notEqual(measB, measA);
  assert.ok(r.stderr.includes(`tkms governance announce --measurement ${measB}`), r.stderr);
  assert.match(r.stderr, /status 30/);

  // 4. Back on core A: announce B.
  srv = await start({ dataDir });
  c = await new Client(srv.url).init();
  assert.equal(c.health.measurement, measA, 'the refused attempt changed nothing');
  await signsAs(c, owner, key);
  // one governor: not enough
  expectError(await announce(c, [govs[0]], measB), 403, 'governance_quorum');
  // one governor twice and an outsider: still one governor
  expectError(await announce(c, [govs[0], govs[0], outsider], measB), 403, 'governance_quorum');
  // a high-s twin of a valid signature refuses the request
  expectError(
    await announce(c, [govs[0], govs[1]], measB, { mutate: (s) => [highSTwin(s[0]), s[1]] }),
    401,
    'non_canonical_signature',
  );
  // two governors: pending
  const a = await announce(c, [govs[0], outsider, govs[2]], measB);
  expectStatus(a, 201);
  assert.equal(a.json.measurement, measB);
  assert.equal(a.json.status, 'pending');
  assert.equal(a.json.effective_at, a.json.accepted_at + DELAY);
  assert.equal(a.json.effective, false);
  // the same request again: replay
  const replay = await c.raw('POST', '/v1/governance/announce', a.body);
  expectError(replay, 403, 'replayed_request');
  // announcing it again (fresh request) is refused while it is pending
  expectError(await announce(c, [govs[0], govs[1]], measB), 409, 'already_announced');
  let g = await c.raw('GET', '/v1/governance');
  expectStatus(g, 200);
  assert.equal(g.json.announcements.length, 1);
  assert.deepEqual(g.json.announcements[0], {
    measurement: measB,
    accepted_at: a.json.accepted_at,
    effective_at: a.json.effective_at,
    effective: g.json.now >= a.json.effective_at,
  });

  // 5. Cancel works before it is effective (another measurement, so B stays announced).
  const other = rand(32);
  expectStatus(await announce(c, [govs[1], govs[2]], other), 201);
  expectError(await cancel(c, [govs[1]], other), 403, 'governance_quorum');
  const cx = await cancel(c, [govs[0], govs[1]], other);
  expectStatus(cx, 200);
  assert.equal(cx.json.status, 'cancelled');
  expectError(await cancel(c, [govs[0], govs[1]], other), 403, 'upgrade_not_announced');
  g = await c.raw('GET', '/v1/governance');
  assert.deepEqual(g.json.announcements.map((x) => x.measurement), [measB]);
  await srv.stop();

  // 6. Core B before the time-lock ends: refused (timelock), nothing changed.
  assert.ok(Math.floor(Date.now() / 1000) < a.json.effective_at, 'this machine was too slow to test before the time-lock');
  r = await startExpectFailure({ dataDir, enclave: ENCLAVE_B });
  assert.equal(r.listened, false, 'core B took over before the time-lock ended');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /status 29/);
  assert.match(r.stderr, new RegExp(`becomes effective at ${a.json.effective_at}`));

  // 7. After the time-lock: B takes over, the keys are the same keys.
  const waitMs = (a.json.effective_at + 1) * 1000 - Date.now();
  assert.ok(waitMs < (DELAY + 2) * 1000, 'bounded wait');
  if (waitMs > 0) await sleep(waitMs);
  srv = await start({ dataDir, enclave: ENCLAVE_B });
  t.after(() => srv.stop());
  assert.ok(
    srv.stderr.includes(`migrated from ${measA} to ${measB} (announced at ${a.json.accepted_at}, effective at ${a.json.effective_at})`),
    srv.stderr,
  );
  c = await new Client(srv.url).init();
  assert.equal(c.health.measurement, measB);
  assert.equal(c.health.core_version, '0.1.0+b');
  assert.equal(c.health.deployment.identity_address, identity, 'same deployment identity');
  assert.equal(c.health.deployment_mode, 'production');
  await signsAs(c, owner, key);
  assert.equal((await c.raw('GET', '/v1/governance')).json.holder, measB, 'B recorded itself as the holder');
  // Governance came along: a new announcement still needs two governors.
  expectError(await announce(c, [govs[2]], rand(32)), 403, 'governance_quorum');
  await srv.stop();

  // 8. Root restores A's old sealed DMK (the host kept it as dmk.<A>) and starts
  // the kept core A: A unseals it, but the newest state names B as the holder,
  // and an older state would be a rollback. Refused; nothing changes.
  const dmkA = `dmk.${measA.slice(2)}`;
  assert.equal(storeSql(dataDir, `SELECT count(*) FROM meta WHERE k = '${dmkA}'`), '1', 'the host keeps A\'s sealed DMK');
  const manifestBefore = storeSql(dataDir, "SELECT hex(v) FROM meta WHERE k = 'manifest'");
  storeSql(dataDir, "INSERT OR REPLACE INTO meta(k, v) SELECT 'test.dmk-b', v FROM meta WHERE k = 'dmk'");
  storeSql(dataDir, `UPDATE meta SET v = (SELECT v FROM meta WHERE k = '${dmkA}') WHERE k = 'dmk'`);
  r = await startExpectFailure({ dataDir, enclave: path.join(dataDir, 'cores', measA.slice(2), 'tkms-enclave') });
  assert.equal(r.listened, false, 'core A served again with its old sealed DMK: a downgrade without announcement');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /LOAD_END refused by the core \(status 30\)/);
  assert.ok(r.stderr.includes(`the deployment is held by the core ${measB}`), r.stderr);
  assert.match(r.stderr, /needs an announced upgrade/);
  assert.equal(storeSql(dataDir, "SELECT hex(v) FROM meta WHERE k = 'manifest'"), manifestBefore, 'nothing changed');
  storeSql(dataDir, "UPDATE meta SET v = (SELECT v FROM meta WHERE k = 'test.dmk-b') WHERE k = 'dmk'");
  storeSql(dataDir, "DELETE FROM meta WHERE k = 'test.dmk-b'");

  // 9. And back to A is an upgrade like any other: refused without announcement.
  r = await startExpectFailure({ dataDir, enclave: ENCLAVE_BIN });
  assert.equal(r.listened, false, 'core A took the deployment back without announcement');
  assert.ok(r.stderr.includes(`tkms governance announce --measurement ${measA}`), r.stderr);

  // 10. B still serves after the refused downgrades.
  srv = await start({ dataDir, enclave: ENCLAVE_B });
  c = await new Client(srv.url).init();
  await signsAs(c, owner, key);
});

test('development deployment: a rebuilt core migrates by itself and says so', async (t) => {
  requireEnclaveB();
  const dataDir = makeTmpDir('tkms-gov-dev-');
  const owner = new EoaSigner();
  let srv = await start({ dataDir });
  assert.match(srv.stderr, /DEVELOPMENT DEPLOYMENT/);
  let c = await new Client(srv.url).init();
  assert.equal(c.health.deployment_mode, 'development');
  assert.match(c.health.deployment_warning, /DEVELOPMENT DEPLOYMENT/);
  const measA = c.health.measurement;
  const g = await c.raw('GET', '/v1/governance');
  expectStatus(g, 200);
  assert.equal(g.json.mode, 'development');
  assert.deepEqual(g.json.governors, []);
  expectError(await announce(c, [ethers.Wallet.createRandom()], rand(32)), 409, 'no_governance');
  const key = await newKeyAndSign(c, owner);
  await srv.stop();

  srv = await start({ dataDir, enclave: ENCLAVE_B });
  t.after(() => srv.stop());
  c = await new Client(srv.url).init();
  const measB = c.health.measurement;
  assert.match(measB, HEX(32));
  assert.notEqual(measB, measA);
  assert.ok(
    srv.stderr.includes(`migrated from ${measA} to ${measB} (development deployment: no announcement needed)`),
    srv.stderr,
  );
  await signsAs(c, owner, key);
  // The new core is kept too: restarting it needs no migration.
  await srv.stop();
  srv = await start({ dataDir, enclave: ENCLAVE_B });
  assert.doesNotMatch(srv.stderr, /migrated from/);
  c = await new Client(srv.url).init();
  await signsAs(c, owner, key);
  assert.equal((await c.raw('GET', '/v1/governance')).json.holder, measB);
  // Back to A (e.g. `make run` on an older checkout): a migration from B, no
  // announcement needed; A holds the deployment again.
  await srv.stop();
  srv = await start({ dataDir, enclave: ENCLAVE_BIN });
  assert.ok(
    srv.stderr.includes(`migrated from ${measB} to ${measA} (development deployment: no announcement needed)`),
    srv.stderr,
  );
  c = await new Client(srv.url).init();
  assert.equal(c.health.measurement, measA);
  await signsAs(c, owner, key);
  assert.equal((await c.raw('GET', '/v1/governance')).json.holder, measA);
});

test('serve refuses bad governance options', async () => {
  const w = ethers.Wallet.createRandom();
  for (const [args, re] of [
    [['--threshold', '1'], /need --governor/],
    [['--governor', w.address, '--threshold', '2'], /more than the 1 governor/],
    [['--governor', w.address, '--governor', w.address], /given twice/],
    [['--governor', '0x1234'], /40 hex digits/],
    [['--governor', w.address, '--upgrade-delay', '31536001'], /1 year/],
  ]) {
    const r = await startExpectFailure({ extraArgs: args, dataDir: makeTmpDir('tkms-gov-bad-') });
    assert.equal(r.listened, false);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, re);
  }
});

/** Runs build/tkms against url; resolves to {code, stdout, stderr, json}. */
function tkms(args, url) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, TKMS_URL: url };
    delete env.TKMS_DEPLOYMENT;
    const p = spawn(TKMS_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = null;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

test('CLI: governance status / announce / cancel with account files and a signature made elsewhere', async (t) => {
  const dir = makeTmpDir('tkms-gov-cli-');
  const files = [0, 1].map((i) => path.join(dir, `gov${i}.key`));
  const addrs = [];
  for (const f of files) {
    const r = await tkms(['dev-account', 'new', '--out', f], 'http://127.0.0.1:1');
    assert.equal(r.code, 0, r.stderr);
    addrs.push(r.stdout.trim());
  }
  const wallet = ethers.Wallet.createRandom(); // a governor signing elsewhere (hardware wallet)
  const srv = await start({
    extraArgs: ['--governor', addrs[0], '--governor', addrs[1], '--governor', wallet.address, '--threshold', '2'],
  });
  t.after(() => srv.stop());
  const url = srv.url;
  let r = await tkms(['governance', 'status'], url);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.mode, 'production');
  assert.deepEqual(r.json.governors, [addrs[0], addrs[1], wallet.address].map((a) => a.toLowerCase()));

  const m = rand(32);
  // one account: the core refuses (quorum), the CLI exits 1 and shows the code
  r = await tkms(['governance', 'announce', '--measurement', m, '--account', files[0]], url);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /governance_quorum/);
  // one account + a signature by the wallet over the typed data --dry-run printed
  const rid = rand(32);
  const deadline = Math.floor(Date.now() / 1000) + 300;
  r = await tkms(
    ['governance', 'announce', '--measurement', m, '--account', files[0], '--request-id', rid, '--deadline', String(deadline), '--dry-run'],
    url,
  );
  assert.equal(r.code, 0, r.stderr);
  const td = r.json.typed_data;
  assert.equal(td.primaryType, 'AnnounceUpgrade');
  assert.deepEqual(td.message, { measurement: m, requestId: rid, deadline });
  const types = { ...td.types };
  delete types.EIP712Domain;
  // ethers agrees with the CLI: the account's signature recovers to its address
  assert.equal(ethers.verifyTypedData(td.domain, types, td.message, r.json.body.signatures[0]), ethers.getAddress(addrs[0]));
  const ext = await wallet.signTypedData(td.domain, types, td.message);
  r = await tkms(
    ['governance', 'announce', '--measurement', m, '--account', files[0], '--signature', ext, '--request-id', rid, '--deadline', String(deadline)],
    url,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.json.measurement, m);
  assert.equal(r.json.status, 'effective'); // delay 0
  r = await tkms(['governance', 'status'], url);
  assert.deepEqual(r.json.announcements.map((a) => a.measurement), [m]);
  // --signature without the shared request id is a usage error
  r = await tkms(['governance', 'cancel', '--measurement', m, '--signature', ext], url);
  assert.equal(r.code, 2);
  // cancel with both account files
  r = await tkms(['governance', 'cancel', '--measurement', m, '--account', files[0], '--account', files[1]], url);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.json.status, 'cancelled');
  r = await tkms(['governance', 'status'], url);
  assert.deepEqual(r.json.announcements, []);
});
