// tests/integration/roughtime.test.mjs — trusted time end to end: three
// Roughtime responders (tests/tools/roughtime_server.mjs, an independent
// implementation of the wire format) with k = 2, one of them lying; the core's
// quorum through the host's UDP relay, /v1/health's time object, time that
// does not go backwards when liars agree on the past, forged replies refused,
// and the sealed configuration surviving a restart.
//
// (A core on a non-sim platform answers time_unavailable before its first
// quorum; only the sim platform runs here, so that is tested at the core
// level in tests/unit/test_core_time.c.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, makeTmpDir } from './lib/server.mjs';
import { Client, EoaSigner } from './lib/client.mjs';
import { expectStatus } from './lib/checks.mjs';
import { startResponder } from '../tools/roughtime_server.mjs';

const servers = new Set();
const responders = [];
after(async () => {
  for (const s of servers) await s.stop();
  for (const r of responders) await r.close().catch(() => {});
});

const realNow = () => Math.floor(Date.now() / 1000);

async function health(url) {
  const c = new Client(url, { timeoutMs: 5000 });
  const h = await c.raw('GET', '/v1/health');
  assert.equal(h.status, 200, h.text);
  return h.json;
}

/** Polls /v1/health until pred(time) holds, at most ms. */
async function waitTime(url, pred, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = (await health(url)).time;
    if (pred(last)) return last;
    await sleep(250);
  }
  assert.fail(`time condition not met within ${ms} ms; last: ${JSON.stringify(last)}`);
}

function writeConfig(dir, quorum, rs) {
  const file = path.join(dir, 'roughtime.json');
  const cfg = {
    quorum,
    servers: rs.map((r, i) => ({
      name: `rt${i}`,
      address: `127.0.0.1:${r.port}`,
      public_key: r.publicKey,
    })),
  };
  fs.writeFileSync(file, JSON.stringify(cfg));
  return file;
}

test('Roughtime quorum through the host relay; liars cannot move time back; config sealed', async () => {
  // Two honest servers and one an hour behind.
  const rs = [
    await startResponder({ key: '11'.repeat(32) }),
    await startResponder({ key: '22'.repeat(32) }),
    await startResponder({ key: '33'.repeat(32), offset: -3600 }),
  ];
  responders.push(...rs);
  const cfgDir = makeTmpDir('tkms-rt-cfg-');
  const cfgFile = writeConfig(cfgDir, 2, rs);
  const dataDir = makeTmpDir();
  let s = await start({
    dataDir,
    extraArgs: ['--roughtime-config', cfgFile, '--time-interval', '1'],
  });
  servers.add(s);

  // 1. Trusted time from the two honest servers; the liar is outvoted.
  let t = await waitTime(s.url, (x) => x && x.trusted === true);
  assert.equal(t.source, 'roughtime');
  assert.ok(Math.abs(t.now - realNow()) <= 5, `core time ${t.now} vs real ${realNow()}`);
  assert.equal(t.last_quorum.servers_agreeing, 2);
  assert.ok(Math.abs(t.last_quorum.at - realNow()) <= 5);
  assert.ok(rs.every((r) => r.served > 0), 'the relay sent a request to every server');

  // Key use works with trusted time (deadlines are checked against it).
  const c = await new Client(s.url, { timeoutMs: 10000 }).init();
  const O = new EoaSigner();
  expectStatus(await c.createKey(O, 'secp256k1'), 201);

  // 2. Forged replies do not count: bad signature and wrong nonce leave one
  //    valid reply, below the quorum; the core says so and keeps its time.
  rs[0].setOptions({ badSig: true });
  rs[1].setOptions({ wrongNonce: true });
  const before = (await health(s.url)).time.now;
  await waitTime(s.url, (x) => /no quorum: 1 verified replies/.test(x.note || ''), 8000);
  assert.match(s.stderr, /the core refused: no quorum/);
  t = (await health(s.url)).time;
  assert.ok(t.now >= before);
  rs[0].setOptions({ badSig: false });
  rs[1].setOptions({ wrongNonce: false });

  // 3. Two liars agree on an hour ago: that quorum is accepted as evidence,
  //    but the core's time never goes back.
  rs[0].setOptions({ offset: -3600 });
  const high = (await health(s.url)).time.now;
  t = await waitTime(s.url, (x) => x.last_quorum && x.last_quorum.at < realNow() - 3000, 8000);
  assert.equal(t.last_quorum.servers_agreeing, 2);
  assert.match(t.note, /time does not go back/);
  let prev = high;
  for (let i = 0; i < 6; i++) {
    const x = (await health(s.url)).time;
    assert.ok(x.now >= prev, `time went back: ${x.now} < ${prev}`);
    prev = x.now;
    await sleep(300);
  }
  assert.ok(prev >= high);
  // A change seals the floor with the deployment (it survives the restart below).
  expectStatus(await c.createKey(O, 'secp256k1'), 201);

  // 4. Restart with every server down: the sealed config is still the one in
  //    force (a new --roughtime-config is ignored and says so); on the sim
  //    platform the core falls back to host time, reported as untrusted.
  for (const r of rs) await r.close();
  servers.delete(s);
  await s.stop();
  const other = writeConfig(makeTmpDir('tkms-rt-cfg-'), 1, [rs[0]]);
  s = await start({ dataDir, extraArgs: ['--roughtime-config', other, '--time-interval', '1'] });
  servers.add(s);
  assert.match(s.stderr, /apply only when a deployment is initialised/);
  await sleep(2500); // a relay round or two, all unanswered
  t = (await health(s.url)).time;
  assert.equal(t.source, 'host-sim');
  assert.equal(t.trusted, false);
  assert.ok(t.now >= prev, 'the floor sealed before the restart still holds');
  assert.match(s.stderr, /roughtime: 0 replies; the core refused: no quorum/);
});

test('a deployment without Roughtime reports host time; the relay stays idle', async () => {
  const s = await start({});
  servers.add(s);
  const t = (await health(s.url)).time;
  assert.equal(t.source, 'host-sim');
  assert.equal(t.trusted, false);
  assert.ok(Math.abs(t.now - realNow()) <= 5);
  assert.equal(t.last_quorum, null);
  await sleep(500);
  assert.doesNotMatch(s.stderr, /roughtime:/);
});

test('--insecure-host-time is sealed and reported', async () => {
  const s = await start({ extraArgs: ['--insecure-host-time'] });
  servers.add(s);
  const t = (await health(s.url)).time;
  assert.equal(t.source, 'host-insecure');
  assert.equal(t.trusted, false);
});

test('a malformed --roughtime-config is refused before anything starts', async () => {
  const dir = makeTmpDir('tkms-rt-cfg-');
  const bad = [
    { quorum: 3, servers: [{ name: 'a', address: '127.0.0.1:1', public_key: '0x' + '11'.repeat(32) }] },
    { quorum: 1, servers: [{ name: 'a', address: '127.0.0.1:1', public_key: '0x1234' }] },
    { quorum: 1, servers: [], extra: 1 },
  ];
  for (const [i, cfg] of bad.entries()) {
    const f = path.join(dir, `bad${i}.json`);
    fs.writeFileSync(f, JSON.stringify(cfg));
    await assert.rejects(start({ extraArgs: ['--roughtime-config', f], timeoutMs: 5000 }), /exited early \(code 1/);
  }
  // Duplicate keys pass the host's reading but the core refuses to seal them.
  const dup = path.join(dir, 'dup.json');
  const srv = { address: '127.0.0.1:1', public_key: '0x' + '11'.repeat(32) };
  fs.writeFileSync(dup, JSON.stringify({ quorum: 1, servers: [{ name: 'a', ...srv }, { name: 'b', ...srv }] }));
  await assert.rejects(start({ extraArgs: ['--roughtime-config', dup], timeoutMs: 8000 }), /INIT refused by the core/);
});
