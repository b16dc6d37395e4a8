// tests/integration/upgrade_time.test.mjs — an announced upgrade on a deployment
// whose time comes from Roughtime: the kept previous core (the migration source)
// judges the time-lock by its own clock, so the host relays a Roughtime round to
// it before it is asked to hand the deployment over. Servers are the independent
// responders of tests/tools/roughtime_server.mjs; the second core build is
// build/tests/tkms-enclave-b.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, startExpectFailure, makeTmpDir } from './lib/server.mjs';
import { Client, EoaSigner, ethers, rand } from './lib/client.mjs';
import { expectStatus } from './lib/checks.mjs';
import { ENCLAVE_B, requireEnclaveB, announce } from './lib/governance.mjs';
import { startResponder } from '../tools/roughtime_server.mjs';

const DELAY = 5;
const responders = [];
after(async () => {
  for (const r of responders) await r.close().catch(() => {});
});

async function trustedTime(url, ms = 15000) {
  const c = new Client(url, { timeoutMs: 5000 });
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    const h = await c.raw('GET', '/v1/health');
    last = h.json?.time;
    if (last?.trusted === true && last.source === 'roughtime') return last;
    await sleep(250);
  }
  assert.fail(`no trusted time within ${ms} ms; last: ${JSON.stringify(last)}`);
}

test('announced upgrade of a Roughtime deployment: the source core gets trusted time, then migrates', async (t) => {
  requireEnclaveB();
  const rs = [await startResponder(), await startResponder(), await startResponder()];
  responders.push(...rs);
  const cfg = path.join(makeTmpDir('tkms-up-rt-'), 'roughtime.json');
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      quorum: 2,
      servers: rs.map((r, i) => ({ name: `rt${i}`, address: `127.0.0.1:${r.port}`, public_key: r.publicKey })),
    }),
  );
  const gov = ethers.Wallet.createRandom();
  const dataDir = makeTmpDir('tkms-up-rt-');
  const owner = new EoaSigner();
  const args = ['--roughtime-config', cfg, '--time-interval', '1', '--governor', gov.address, '--upgrade-delay', String(DELAY)];

  let srv = await start({ dataDir, extraArgs: args });
  await trustedTime(srv.url);
  let c = await new Client(srv.url).init();
  const measA = c.health.measurement;
  const k = await c.createKey(owner, 'secp256k1');
  expectStatus(k, 201);
  await srv.stop();

  // Learn B's measurement from its refusal, then announce it on A.
  let r = await startExpectFailure({ dataDir, enclave: ENCLAVE_B });
  const measB = /the core (0x[0-9a-f]{64}) cannot unseal/.exec(r.stderr)?.[1];
  assert.ok(measB, r.stderr);
  srv = await start({ dataDir });
  await trustedTime(srv.url);
  c = await new Client(srv.url).init();
  const a = await announce(c, [gov], measB);
  expectStatus(a, 201);
  await srv.stop();

  const served = rs.map((x) => x.served);
  const waitMs = (a.json.effective_at + 1) * 1000 - Date.now();
  assert.ok(waitMs < (DELAY + 2) * 1000, 'bounded wait');
  if (waitMs > 0) await sleep(waitMs);
  srv = await start({ dataDir, enclave: ENCLAVE_B });
  t.after(() => srv.stop());
  // The source core asked the Roughtime servers before it decided.
  const accepted = srv.stderr.indexOf('the core accepted a quorum');
  const migrated = srv.stderr.indexOf(`migrated from ${measA} to ${measB}`);
  assert.ok(migrated > 0, srv.stderr);
  assert.ok(accepted >= 0 && accepted < migrated, `no Roughtime quorum before the migration:\n${srv.stderr}`);
  assert.ok(rs.every((x, i) => x.served > served[i]), 'every server was asked during the migration');

  // B serves the same key once it has its own trusted time.
  await trustedTime(srv.url);
  c = await new Client(srv.url).init();
  assert.equal(c.health.measurement, measB);
  const digest = rand(32);
  const s = await c.sign(owner, k.json.key_id, 'digest', digest);
  expectStatus(s, 200);
  assert.equal(ethers.recoverAddress(digest, s.json.signature).toLowerCase(), k.json.address);
});
