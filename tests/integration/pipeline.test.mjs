// tests/integration/pipeline.test.mjs — signing requests queued on pipelined core
// sockets (serve --core-pipelines, docs/architecture.md): many requests in flight at
// once, each answered with its own result; the core killed or the host stopped
// while requests wait.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, startExpectFailure, waitHealthy } from './lib/server.mjs';
import { Client, EoaSigner, Ed25519Signer, rand, verifyEd25519 } from './lib/client.mjs';
import { expectError, checkSecpSignature } from './lib/checks.mjs';

const servers = new Set();
after(async () => {
  for (const s of servers) await s.stop();
});

async function up(extraArgs = []) {
  const s = await start({ extraArgs });
  servers.add(s);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const c = await new Client(s.url, { agent }).init();
  return { s, c, agent };
}

/**
 * n requests, `conc` at a time, mixing a secp256k1 key, an Ed25519 key and
 * requests signed by a stranger (refused): every answer must be the one for its
 * own request, which a mix-up between queued requests would break.
 */
async function burst(c, n, conc) {
  const owner = new EoaSigner();
  const edOwner = new Ed25519Signer();
  const stranger = new EoaSigner();
  const k = (await c.createKey(owner, 'secp256k1')).json;
  const e = (await c.createKey(edOwner, 'ed25519')).json;
  // Sign the requests first: the burst then measures the service, not ethers.
  const reqs = [];
  for (let i = 0; i < n; i++) {
    const payload = rand(32);
    const kind = i % 5 === 3 ? 'stranger' : i % 3 === 0 ? 'ed25519' : 'secp';
    const req =
      kind === 'ed25519'
        ? await c.buildSign(edOwner, e.key_id, 'message', payload)
        : await c.buildSign(kind === 'stranger' ? stranger : owner, k.key_id, 'digest', payload);
    reqs.push({ kind, payload, req });
  }
  let next = 0;
  const results = [];
  let slowest = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++];
        const t0 = Date.now();
        results.push({ ...r, res: await c.send(r.req) });
        slowest = Math.max(slowest, Date.now() - t0);
      }
    }),
  );
  assert.equal(results.length, n);
  for (const { kind, payload, res } of results) {
    if (kind === 'stranger') {
      expectError(res, 403, 'wrong_signer');
    } else if (kind === 'secp') {
      checkSecpSignature(res, { mode: 'digest', payload, address: k.address, keyId: k.key_id });
    } else {
      assert.equal(res.status, 200, res.text);
      assert.ok(verifyEd25519(res.json.signature, payload, e.public_key), 'ed25519 signature of its own message');
    }
  }
  return { owner, k, slowest };
}

test('400 signing requests, 32 in flight: each gets its own answer (pipelined)', async () => {
  const { c, agent } = await up();
  await burst(c, 400, 32);
  agent.destroy();
});

test('the same with --core-pipelines 0 (signing over the worker sockets)', async () => {
  const { c, agent } = await up(['--core-pipelines', '0']);
  await burst(c, 200, 32);
  agent.destroy();
});

test('two HTTP threads, one pipelined socket: the loop that does not own it is woken for every answer', async () => {
  // The socket's owner resumes the other loop's connections; a missed wake-up
  // leaves a request waiting for that loop's 1 s tick (it did, before the fix).
  const { c, agent } = await up(['--http-threads', '2', '--core-pipelines', '1']);
  const { slowest } = await burst(c, 400, 32);
  assert.ok(slowest < 900, `slowest request took ${slowest} ms`);
  agent.destroy();
});

test('--core-pipelines and --http-threads are bounded', async () => {
  let r = await startExpectFailure({ extraArgs: ['--core-pipelines', '9'] });
  assert.match(r.stderr, /--core-pipelines must be 0\.\.8/);
  r = await startExpectFailure({ extraArgs: ['--http-threads', '0'] });
  assert.match(r.stderr, /--http-threads must be 1\.\.16/);
  r = await startExpectFailure({ extraArgs: ['--http-threads', '4', '--max-connections', '3'] });
  assert.match(r.stderr, /--max-connections must be at least --http-threads/);
});

test('one HTTP thread, two workers: creates, signs, reads and health at 32 in flight all answer', async () => {
  const { c, agent } = await up(['--http-threads', '1', '--workers', '2']);
  const owner = new EoaSigner();
  const k = (await c.createKey(owner, 'secp256k1')).json;
  const jobs = [];
  for (let i = 0; i < 300; i++) {
    const kind = ['create', 'sign', 'sign', 'get', 'health', 'sign'][i % 6];
    const payload = rand(32);
    const req =
      kind === 'create'
        ? await c.buildCreateKey(owner, 'secp256k1')
        : kind === 'sign'
          ? await c.buildSign(owner, k.key_id, 'digest', payload)
          : null;
    jobs.push({ kind, payload, req });
  }
  let next = 0;
  const tally = {};
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < jobs.length) {
        const { kind, payload, req } = jobs[next++];
        tally[kind] = (tally[kind] ?? 0) + 1;
        if (kind === 'get') {
          const g = await c.raw('GET', `/v1/keys/${k.key_id}`);
          assert.equal(g.status, 200, g.text);
          assert.equal(g.json.address, k.address);
        } else if (kind === 'health') {
          const h = await c.raw('GET', '/v1/health');
          assert.equal(h.status, 200, h.text);
        } else {
          const res = await c.send(req);
          if (kind === 'create') {
            assert.equal(res.status, 201, res.text);
            assert.equal(res.json.owner, owner.principal);
          } else {
            checkSecpSignature(res, { mode: 'digest', payload, address: k.address, keyId: k.key_id });
          }
        }
      }
    }),
  );
  assert.deepEqual(tally, { create: 50, sign: 150, get: 50, health: 50 });
  agent.destroy();
});

test('core killed while requests wait in the pipeline: each gets its own signature or 503, then signing resumes', async (t) => {
  const { s, c, agent } = await up(['--core-pipelines', '2']);
  const { owner, k } = await burst(c, 20, 4);
  const core = s.corePid();
  const reqs = [];
  for (let i = 0; i < 600; i++) {
    const payload = rand(32);
    reqs.push({ payload, req: await c.buildSign(owner, k.key_id, 'digest', payload) });
  }
  let next = 0;
  const results = [];
  const run = Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++];
        try {
          results.push({ ...r, res: await c.send(r.req) });
        } catch (err) {
          results.push({ ...r, err });
        }
      }
    }),
  );
  await sleep(100);
  process.kill(core, 'SIGKILL');
  await run;
  const tally = {};
  for (const { payload, res, err } of results) {
    if (err) {
      assert.match(String(err.code), /^(ECONNRESET|ECONNREFUSED|EPIPE)$/, err.stack);
      tally.connection_error = (tally.connection_error ?? 0) + 1;
      continue;
    }
    tally[res.status] = (tally[res.status] ?? 0) + 1;
    if (res.status === 503) {
      expectError(res, 503, 'core_unavailable');
      assert.equal(res.json.error.retryable, true);
    } else {
      checkSecpSignature(res, { mode: 'digest', payload, address: k.address });
    }
  }
  t.diagnostic(`answers around the core kill: ${JSON.stringify(tally)}`);
  assert.ok(tally[200] > 0, 'some requests were answered before the kill');
  // The supervisor restarts the core; signing works again.
  const deadline = Date.now() + 15000;
  while (s.corePid() === core && Date.now() < deadline) await sleep(20);
  await waitHealthy(s.url);
  const d = rand(32);
  checkSecpSignature(await c.sign(owner, k.key_id, 'digest', d), { mode: 'digest', payload: d, address: k.address });
  agent.destroy();
});

test('SIGTERM while requests wait in the pipeline: the host answers them and exits cleanly', async () => {
  const { s, c, agent } = await up();
  const { owner, k } = await burst(c, 20, 4);
  const reqs = [];
  for (let i = 0; i < 1500; i++) reqs.push(await c.buildSign(owner, k.key_id, 'digest', rand(32)));
  let next = 0;
  const statuses = {};
  const run = Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < reqs.length) {
        try {
          const res = await c.send(reqs[next++]);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          // An answer is a signature or a retryable refusal: 503 stopping for a
          // request that arrived after the stop began.
          if (res.status === 503) {
            assert.ok(['stopping', 'core_unavailable'].includes(res.json.error.code), res.text);
            assert.equal(res.json.error.retryable, true);
          } else {
            assert.equal(res.status, 200, res.text);
          }
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          /* connections close (or are refused) as the host stops */
        }
      }
    }),
  );
  await sleep(100);
  servers.delete(s);
  const r = await s.stop(20000);
  await run;
  console.log(`# answers around the stop: ${JSON.stringify(statuses)}`);
  assert.ok((statuses[200] ?? 0) > 0, 'some requests were signed before the stop');
  assert.equal(r.signal, null, `the host exited by itself, not by ${r.signal}\n${s.stderr}`);
  assert.equal(r.code, 0, s.stderr);
  assert.doesNotMatch(s.stderr, /suspended|panic|abort/i);
  agent.destroy();
});
