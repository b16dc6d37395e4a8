// bench/e2e.mjs — end-to-end tkms throughput next to the raw libsecp256k1 ceiling.
// Run by bench/run.sh (`make bench`). Prints a short table; judges nothing.
//
//   node bench/e2e.mjs --raw build/bench/raw_secp [--seconds 10] [--conns 16]
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, makeTmpDir } from '../tests/integration/lib/server.mjs';
import { Client, EoaSigner, ethers, rand } from '../tests/integration/lib/client.mjs';
import { hashToG1Noble } from '../tests/evm/lib/chain.mjs';
import { bn254 } from '@noble/curves/bn254';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const SECONDS = Number(opt('seconds', process.env.BENCH_SECONDS || 10));
const CONNS = Number(opt('conns', 16));
const RAW = opt('raw', null);
const CREATE_SECONDS = Number(opt('create-seconds', 3));
const GLOBAL_TIMEOUT_MS = (3 * SECONDS + 8 * CREATE_SECONDS + 150) * 1000;

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const timer = setTimeout(() => {
  console.error(`bench: global timeout (${GLOBAL_TIMEOUT_MS / 1000} s)`);
  process.exit(3);
}, GLOBAL_TIMEOUT_MS);

function haveWrk() {
  if (process.env.BENCH_LOADGEN === 'node') return false;
  return spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;
}

function rawSigns() {
  if (!RAW) return { perSec: NaN, line: 'not run (no --raw)' };
  const r = spawnSync(RAW, ['2'], { encoding: 'utf8', timeout: 30000 });
  const m = /raw_secp256k1_sign: (\d+) signs\/s/.exec(r.stdout || '');
  if (!m) throw new Error(`raw_secp failed: ${r.stderr || r.error}`);
  return { perSec: Number(m[1]), line: r.stdout.trim() };
}

/** One thread of the C BN254 code: G1 scalar multiplications by a secret scalar per second. */
function rawG1Mul() {
  const bin = path.join(process.env.TKMS_BUILD || 'build', 'bench', 'bn254_bench');
  if (!fs.existsSync(bin)) return NaN;
  const r = spawnSync(bin, ['1'], { encoding: 'utf8', timeout: 60000 });
  const m = /^g1_mul \(ct\)\s+([\d.]+) ops\/s$/m.exec(r.stdout || '');
  return m ? Number(m[1]) : NaN;
}

/** A signed POST /v1/avs/scalar_mul body for a fresh operator key, checked once with noble. */
async function avsScalarMulRequest(c) {
  const op = new EoaSigner();
  const eoa = op.principal.slice(4);
  const cr = await c.envelope(op, 'CreateKey', { keyType: 'bn254', owner: op.principal, policy: '0x' }, { eoa });
  const k = await c.raw('POST', '/v1/avs/keys', cr.body);
  if (k.status !== 201) throw new Error(`avs create: ${k.status} ${k.text}`);
  const key = k.json;
  const h = hashToG1Noble(BigInt(rand(32)));
  const hx = (n) => '0x' + n.toString(16).padStart(64, '0');
  const hash = { X: hx(h.X), Y: hx(h.Y) };
  const payload = hash.X + hash.Y.slice(2);
  const req = await c.envelope(
    op, 'Sign', { keyId: key.key_id, mode: 'bn254_g1_mul', payload, version: key.version },
    { eoa, hash, version: key.version }, { deadline: Math.floor(Date.now() / 1000) + 1800 });
  const probe = await c.raw('POST', '/v1/avs/scalar_mul', req.body);
  const Fp2 = bn254.fields.Fp2;
  const g2 = bn254.G2.ProjectivePoint.fromAffine({
    x: Fp2.fromBigTuple([BigInt(key.g2.X[1]), BigInt(key.g2.X[0])]),
    y: Fp2.fromBigTuple([BigInt(key.g2.Y[1]), BigInt(key.g2.Y[0])]),
  });
  const g1 = (p) => bn254.G1.ProjectivePoint.fromAffine({ x: BigInt(p.X), y: BigInt(p.Y) });
  if (probe.status !== 200 ||
      !bn254.fields.Fp12.eql(bn254.pairing(g1(probe.json.signature), bn254.G2.ProjectivePoint.BASE),
        bn254.pairing(g1(hash), g2))) {
    throw new Error(`scalar_mul probe failed: ${probe.status} ${probe.text}`);
  }
  return { path: '/v1/avs/scalar_mul', body: JSON.stringify(req.body) };
}

/** utime + stime of a process in clock ticks (100 per second on Linux), or NaN. */
function cpuTicks(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    return Number(rest[11]) + Number(rest[12]); // fields 14 and 15
  } catch {
    return NaN;
  }
}

/**
 * Runs fn (a load) and adds the CPU time the host and the core spent per request
 * during it: a measure of cost that, unlike a rate, does not depend on what else
 * the machine is doing.
 */
async function withCpu(srv, fn) {
  const core = srv.corePid();
  const h0 = cpuTicks(srv.pid), c0 = cpuTicks(core);
  const r = await fn();
  const n = r.perSec * SECONDS;
  const us = (t0, t1) => ((t1 - t0) * 1e4) / n; // ticks of 10 ms -> us per request
  return { ...r, hostUs: us(h0, cpuTicks(srv.pid)), coreUs: us(c0, cpuTicks(core)) };
}

/** wrk (or the Node fallback) against one body. */
async function load(url, body, name) {
  if (!haveWrk()) return runNode(url, body);
  const f = path.join(makeTmpDir('tkms-bench-'), `${name}.json`);
  fs.writeFileSync(f, body);
  return runWrk(url, f);
}

const toMs = (v, unit) => Number(v) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[unit];

/** wrk, keep-alive, one body (POST) or none (GET): {perSec, p50, p99, non2xx, errors, tool}. */
function runWrk(url, bodyFile) {
  return new Promise((resolve, reject) => {
    const threads = process.env.BENCH_WRK_THREADS || '1';
    const script = bodyFile ? ['-s', path.join(HERE, 'sign.lua')] : [];
    const p = spawn(
      'wrk',
      [`-t${threads}`, `-c${CONNS}`, `-d${SECONDS}s`, '--timeout', '10s', '--latency', ...script, url],
      { env: { ...process.env, TKMS_BENCH_BODY: bodyFile }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), (SECONDS + 30) * 1000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const lat = (q) => {
        const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
        return m ? toMs(m[1], m[2]) : NaN;
      };
      if (code !== 0 || !rps) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      resolve({ perSec: Number(rps[1]), p50: lat(50), p99: lat(99), non2xx, errors, tool: `wrk -t${threads} -c${CONNS}` });
    });
  });
}

/** GET url under the same load as the sign run: what the HTTP path costs without signing. */
async function loadGet(url) {
  return haveWrk() ? runWrk(url, null) : runNode(url, null);
}

/** The fallback: CONNS keep-alive connections from Node, each sending back to back. */
async function runNode(url, body) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNS });
  const data = body === null ? null : Buffer.from(body);
  const headers = data ? { 'content-type': 'application/json', 'content-length': data.length } : {};
  const lat = [];
  let non2xx = 0;
  let errors = 0;
  const one = () =>
    new Promise((resolve) => {
      const t = process.hrtime.bigint();
      const req = http.request(
        { host: u.hostname, port: u.port, path: u.pathname, method: data ? 'POST' : 'GET', agent, headers },
        (res) => {
          res.resume();
          res.on('end', () => {
            lat.push(Number(process.hrtime.bigint() - t) / 1e6);
            if (res.statusCode !== 200) non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(data ?? undefined);
    });
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNS }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  return { perSec: lat.length / secs, p50: q(50), p99: q(99), non2xx, errors, tool: `node keep-alive ×${CONNS}` };
}

/** Sealed key creations per second: each a fresh, pre-signed create request. */
async function creates(c, bodies, conc) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  const cc = new Client(c.url, { agent, timeoutMs: 30000 });
  let next = 0;
  let ok = 0;
  let bad = 0;
  const t0 = Date.now();
  const end = t0 + CREATE_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (Date.now() < end && next < bodies.length) {
        const b = bodies[next++];
        try {
          const r = await cc.raw('POST', '/v1/keys', b);
          if (r.status === 201) ok++;
          else bad++;
        } catch {
          bad++;
        }
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  agent.destroy();
  return { perSec: ok / secs, ok, bad, exhausted: next >= bodies.length };
}

async function presign(c, owner, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await c.buildCreateKey(owner, 'secp256k1', { deadline: Math.floor(Date.now() / 1000) + 1800 })).body);
  return out;
}

async function main() {
  // The ceiling: one thread of libsecp256k1, measured before the HTTP runs,
  // after each signing run and at the end. Each signing rate is shown against
  // the best of all four and against the higher of the two measured next to it
  // (the machine's speed drifts within a run).
  const rawBefore = rawSigns();
  // BENCH_WORKERS: HTTP worker threads = core sockets (the service's --workers).
  const workers = process.env.BENCH_WORKERS;
  const serveArgs = workers ? ['--workers', workers] : [];
  const srv = await start({ extraArgs: serveArgs });
  try {
    const c = await new Client(srv.url).init();
    const owner = new EoaSigner();
    const k = await c.createKey(owner, 'secp256k1');
    if (k.status !== 201) throw new Error(`create: ${k.status} ${k.text}`);
    const key = k.json;
    const digest = rand(32);
    const req = await c.buildSign(owner, key.key_id, 'digest', digest, { deadline: Math.floor(Date.now() / 1000) + 1800 });
    // One check that the body is right before hammering the service with it.
    const probe = await c.send(req);
    if (probe.status !== 200 || ethers.recoverAddress(digest, probe.json.signature).toLowerCase() !== key.address) {
      throw new Error(`sign probe failed: ${probe.status} ${probe.text}`);
    }
    const e2e = await withCpu(srv, () => load(`${srv.url}${req.path}`, JSON.stringify(req.body), 'sign'));
    // The raw rate again right after each signing run: this VM's speed drifts by
    // a quarter within minutes, so each run is also compared with the raw rate
    // measured next to it (the higher of the two around it).
    const rawMid = rawSigns();
    // The same load through a MAC session (scope sign, this key): the core checks an
    // HMAC-SHA256 instead of recovering an EIP-712 signer. Client side: node:crypto.
    const mac = c.macSigner();
    const open = await c.openSession(owner, mac.principal, ['sign'], [key.key_id], Math.floor(Date.now() / 1000) + 3600);
    if (open.status !== 201) throw new Error(`open MAC session: ${open.status} ${open.text}`);
    const macDigest = rand(32);
    const macReq = await c.buildSign(mac, key.key_id, 'digest', macDigest, {
      deadline: Math.floor(Date.now() / 1000) + 1800,
      sessionId: open.json.session_id,
    });
    const macProbe = await c.send(macReq);
    if (macProbe.status !== 200 || ethers.recoverAddress(macDigest, macProbe.json.signature).toLowerCase() !== key.address) {
      throw new Error(`MAC session sign probe failed: ${macProbe.status} ${macProbe.text}`);
    }
    const macE2e = await withCpu(srv, () => load(`${srv.url}${macReq.path}`, JSON.stringify(macReq.body), 'sign_mac'));
    const rawPost = rawSigns();
    // The floor under any signing rate on this machine: the same load generator and
    // connections against a static route (host only) and against /v1/health (host +
    // one core round trip, no cryptography).
    const floorHost = await loadGet(`${srv.url}/v1/eip712`);
    const floorCore = await loadGet(`${srv.url}/v1/health`);
    // EigenLayer scalar_mul(eoa, hash) over HTTP, beside one thread of the C G1 multiplication.
    const avs = await avsScalarMulRequest(c);
    const avsE2e = await load(`${srv.url}${avs.path}`, avs.body, 'scalar_mul');
    const rawG1 = rawG1Mul();

    // Creations: sign the requests first so the client's signing is not measured.
    const seqBodies = await presign(c, owner, 2000);
    const seq = await creates(c, seqBodies, 1);
    const conBodies = await presign(c, owner, 2000);
    const con = await creates(c, conBodies, CONNS);

    const rawAfter = rawSigns();
    const all = [rawBefore, rawMid, rawPost, rawAfter].map((r) => r.perSec);
    const raw = { perSec: Math.max(...all) };
    const near = (a, b) => Math.max(a.perSec, b.perSec);
    const ratio = (rate, a, b) =>
      `${fmt((100 * rate) / raw.perSec, 1)} % of the best raw; ${fmt((100 * rate) / near(a, b), 1)} % of the raw measured next to it (${fmt(near(a, b))})`;
    const rows = [
      ['raw secp256k1 sign (libsecp256k1, 1 thread), best of 4 in this run', `${fmt(raw.perSec)} signs/s (${all.map((x) => fmt(x)).join(' / ')})`],
      [`e2e POST /v1/keys/{id}/sign (${e2e.tool}, ${SECONDS} s)`, `${fmt(e2e.perSec)} signs/s`],
      ['  latency p50 / p99', `${fmt(e2e.p50, 2)} ms / ${fmt(e2e.p99, 2)} ms`],
      ['  CPU per request: host / core', `${fmt(e2e.hostUs, 1)} us / ${fmt(e2e.coreUs, 1)} us`],
      ['  non-2xx / socket errors', `${e2e.non2xx} / ${e2e.errors}`],
      ['  e2e / raw', ratio(e2e.perSec, rawBefore, rawMid)],
      [`e2e POST /v1/keys/{id}/sign, MAC session (${macE2e.tool}, ${SECONDS} s)`, `${fmt(macE2e.perSec)} signs/s`],
      ['  latency p50 / p99', `${fmt(macE2e.p50, 2)} ms / ${fmt(macE2e.p99, 2)} ms`],
      ['  CPU per request: host / core', `${fmt(macE2e.hostUs, 1)} us / ${fmt(macE2e.coreUs, 1)} us`],
      ['  non-2xx / socket errors', `${macE2e.non2xx} / ${macE2e.errors}`],
      ['  e2e / raw', ratio(macE2e.perSec, rawMid, rawPost)],
      [`floor: GET /v1/eip712, host only (${floorHost.tool})`, `${fmt(floorHost.perSec)} req/s = ${fmt((100 * floorHost.perSec) / raw.perSec, 1)} % of raw`],
      [`floor: GET /v1/health, host + core round trip (${floorCore.tool})`, `${fmt(floorCore.perSec)} req/s = ${fmt((100 * floorCore.perSec) / raw.perSec, 1)} % of raw`],
      ['raw BN254 G1 mul, secret scalar (tkms C, 1 thread)', `${fmt(rawG1)} muls/s`],
      [`e2e POST /v1/avs/scalar_mul (${avsE2e.tool}, ${SECONDS} s)`, `${fmt(avsE2e.perSec)} muls/s`],
      ['  latency p50 / p99', `${fmt(avsE2e.p50, 2)} ms / ${fmt(avsE2e.p99, 2)} ms`],
      ['  non-2xx / socket errors', `${avsE2e.non2xx} / ${avsE2e.errors}`],
      ['  e2e / raw', `${fmt((100 * avsE2e.perSec) / rawG1, 1)} %`],
      ['sealed key create, sequential', `${fmt(seq.perSec, 1)} keys/s${seq.bad ? ` (${seq.bad} failed)` : ''}${seq.exhausted ? ' (ran out of pre-signed bodies)' : ''}`],
      [`sealed key create, ${CONNS} concurrent`, `${fmt(con.perSec, 1)} keys/s${con.bad ? ` (${con.bad} failed)` : ''}${con.exhausted ? ' (ran out of pre-signed bodies)' : ''}`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`tkms benchmarks — sim platform, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}`);
    console.log(`tkms serve ${serveArgs.join(' ') || '(defaults: --workers 4 --http-threads 1 --core-pipelines 1)'}; load: wrk on the same CPUs`);
    console.log(`${'metric'.padEnd(w)}  value`);
    console.log(`${'-'.repeat(w)}  ${'-'.repeat(24)}`);
    for (const [a, b] of rows) console.log(`${a.padEnd(w)}  ${b}`);
    if (e2e.non2xx || e2e.errors) console.log('bench: WARNING: some sign requests failed; the e2e figure is not a signing rate');
    if (macE2e.non2xx || macE2e.errors) console.log('bench: WARNING: some MAC session sign requests failed; that figure is not a signing rate');
    if (avsE2e.non2xx || avsE2e.errors) console.log('bench: WARNING: some scalar_mul requests failed; the figure is not a rate');
  } finally {
    await srv.stop();
  }
}

try {
  await main();
  clearTimeout(timer);
} catch (e) {
  console.error(`bench: ${e.stack || e}`);
  process.exitCode = 1;
  clearTimeout(timer);
}
