// tests/integration/measure.test.mjs — the core measurement covers the core binary
// and every shared library it loads (docs/reproducible-builds.md).
//
// The oracle is computed here, independently of the C code: the dynamic loader's
// own list of what it loads for tkms-enclave (`ldd`, which runs the loader in
// trace mode with the same LD_LIBRARY_PATH / LD_PRELOAD), each file hashed with
// node:crypto, the manifest built by the documented rule and hashed again. Then:
// the measurement is stable; a byte-modified copy of libsodium picked up through
// LD_LIBRARY_PATH, or a preloaded library built here, changes it and is named in
// the manifest; the service reports the same measurement in /v1/health and its
// evidence; a swapped library cannot unseal an existing deployment.
import { test, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { start, startExpectFailure, makeTmpDir, ENCLAVE_BIN, TKMS_BIN } from './lib/server.mjs';
import { Client, EoaSigner, rand } from './lib/client.mjs';
import { checkSecpSignature } from './lib/checks.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const servers = new Set();
after(async () => {
  for (const s of servers) await s.stop();
});

const sha256File = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

/** Runs a program; returns {code, stdout, stderr}. */
function run(bin, args, env = {}) {
  const r = spawnSync(bin, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `tkms-enclave --measure` parsed: {measurement, manifest, lines}. */
function measure(env = {}, bin = ENCLAVE_BIN) {
  const r = run(bin, ['--measure'], env);
  assert.equal(r.code, 0, `--measure failed: ${r.stderr}`);
  const m = /^measurement (0x[0-9a-f]{64})\n/.exec(r.stdout);
  assert.ok(m, `unexpected output: ${r.stdout.slice(0, 200)}`);
  const manifest = r.stdout.slice(m[0].length);
  return { measurement: m[1], manifest, lines: manifest.split('\n').slice(1, -1) };
}

/** The manifest by the documented rule, from the loader's own list (ldd). */
function oracle(env = {}, bin = ENCLAVE_BIN) {
  const r = run('ldd', [bin], env);
  assert.equal(r.code, 0, `ldd failed: ${r.stderr}`);
  const files = new Set();
  for (const l of r.stdout.split('\n')) {
    const m = /=>\s+(\/\S+)\s+\(0x/.exec(l) || /^\s+(\/\S+)\s+\(0x/.exec(l);
    if (m) files.add(fs.realpathSync(m[1]));
  }
  assert.ok(files.size >= 2, `ldd listed too little: ${r.stdout}`);
  // the executable's line names it tkms-enclave whatever the file is called
  const lines = [`core\ttkms-enclave\t${sha256File(bin)}`];
  for (const f of files) lines.push(`lib\t${path.basename(f)}\t${sha256File(f)}`);
  lines.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  const manifest = 'tkms-core-manifest v1\n' + lines.map((l) => l + '\n').join('');
  return { measurement: '0x' + sha256(manifest), manifest, lines };
}

/** A copy of the libsodium the core loads, with bytes appended (still loadable). */
function swappedSodium() {
  const r = run('ldd', [ENCLAVE_BIN]);
  const m = /libsodium\.so\S*\s+=>\s+(\/\S+)/.exec(r.stdout);
  assert.ok(m, 'tkms-enclave links libsodium');
  const soname = path.basename(m[1]); // libsodium.so.23
  const real = fs.realpathSync(m[1]); // …/libsodium.so.23.3.0
  const dir = makeTmpDir('tkms-libdir-');
  const copy = path.join(dir, path.basename(real));
  fs.copyFileSync(real, copy);
  fs.appendFileSync(copy, Buffer.from('not the packaged library'));
  if (soname !== path.basename(real)) fs.symlinkSync(path.basename(real), path.join(dir, soname));
  return { dir, copy, name: path.basename(real), hash: sha256File(copy) };
}

test('the measurement is SHA-256 of a manifest of the core binary and every library the loader maps', () => {
  const a = measure();
  const b = measure();
  assert.equal(a.measurement, b.measurement, 'stable across runs');
  assert.equal(a.manifest, b.manifest, 'the manifest is stable across runs');
  assert.equal('0x' + sha256(a.manifest), a.measurement, 'measurement = SHA-256(manifest text)');
  const o = oracle();
  assert.equal(a.manifest, o.manifest, 'same manifest as computed from ldd + node:crypto');
  assert.equal(a.measurement, o.measurement);
  assert.ok(a.lines.some((l) => /^lib\tld-linux[^\t]*\t/.test(l)), 'the dynamic loader is measured');
  assert.ok(a.lines.some((l) => /^lib\tlibc\.so[^\t]*\t/.test(l)), 'libc is measured');
  assert.ok(!a.manifest.includes('vdso'), '[vdso] is not a file');
  // path-independent: the same bytes elsewhere under the same name measure the same
  const dir = makeTmpDir('tkms-elsewhere-');
  const moved = path.join(dir, 'tkms-enclave');
  fs.copyFileSync(ENCLAVE_BIN, moved);
  fs.chmodSync(moved, 0o755);
  assert.equal(measure({}, moved).measurement, a.measurement, 'installed elsewhere: same measurement');
  // renamed (the copy an upgrade keeps, a test build's name): the same software
  const renamed = path.join(dir, 'kept-core-copy');
  fs.copyFileSync(ENCLAVE_BIN, renamed);
  fs.chmodSync(renamed, 0o755);
  assert.equal(measure({}, renamed).measurement, a.measurement, 'renamed: same measurement');
});

test('a byte-modified library found through LD_LIBRARY_PATH changes the measurement and is named', () => {
  const base = measure();
  const sw = swappedSodium();
  const env = { LD_LIBRARY_PATH: sw.dir };
  const m = measure(env);
  assert.notEqual(m.measurement, base.measurement, 'another libsodium, another measurement');
  assert.ok(m.lines.includes(`lib\t${sw.name}\t${sw.hash}`), `the manifest names the modified ${sw.name}`);
  const changed = m.lines.filter((l) => !base.lines.includes(l));
  assert.deepEqual(changed, [`lib\t${sw.name}\t${sw.hash}`], 'only the libsodium line differs');
  assert.equal(m.manifest, oracle(env).manifest, 'the loader agrees on what it loaded');
  // and back: the original libraries give the original measurement again
  assert.equal(measure().measurement, base.measurement);
});

test('a preloaded library is measured too (LD_PRELOAD of a library built here)', () => {
  const dir = makeTmpDir('tkms-preload-');
  const src = path.join(dir, 'probe.c');
  fs.writeFileSync(src, 'int tkms_probe_value(void) { return 42; }\n');
  const so = path.join(dir, 'libtkmsprobe.so');
  const cc = run(process.env.CC || 'cc', ['-shared', '-fPIC', '-o', so, src]);
  assert.equal(cc.code, 0, `cc failed: ${cc.stderr}`);
  const base = measure();
  // An ASan build (make check-san) insists on coming first unless told otherwise.
  const asan = [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':');
  const env = { LD_PRELOAD: so, ASAN_OPTIONS: asan };
  const m = measure(env);
  assert.notEqual(m.measurement, base.measurement);
  assert.ok(m.lines.includes(`lib\tlibtkmsprobe.so\t${sha256File(so)}`), 'the preloaded object is listed');
  assert.equal(m.lines.length, base.lines.length + 1);
  // one changed byte in it: another measurement again
  fs.appendFileSync(so, Buffer.from([0]));
  const m2 = measure(env);
  assert.notEqual(m2.measurement, m.measurement);
  assert.ok(m2.lines.includes(`lib\tlibtkmsprobe.so\t${sha256File(so)}`));
});

test('tkms measure prints what the core prints, and --compare checks the service', async () => {
  const local = measure();
  const r = run(TKMS_BIN, ['measure', '--enclave', ENCLAVE_BIN]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `measurement ${local.measurement}\n${local.manifest}`);
  const bad = run(TKMS_BIN, ['measure', '--enclave', path.join(makeTmpDir(), 'missing')]);
  assert.equal(bad.code, 1);
  assert.equal(run(TKMS_BIN, ['measure', 'extra']).code, 2);

  const s = await start();
  servers.add(s);
  try {
    const c = await new Client(s.url, { timeoutMs: 10000 }).init();
    assert.equal(c.health.measurement, local.measurement, '/v1/health reports the same measurement');
    const cmp = run(TKMS_BIN, ['measure', '--enclave', ENCLAVE_BIN, '--compare', '--url', s.url]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
    assert.match(cmp.stdout, /runs this measurement/);
    // a measurement the service does not run: --compare fails
    const sw = swappedSodium();
    const cmp2 = run(TKMS_BIN, ['measure', '--enclave', ENCLAVE_BIN, '--compare', '--url', s.url], {
      LD_LIBRARY_PATH: sw.dir,
    });
    assert.equal(cmp2.code, 1, cmp2.stdout + cmp2.stderr);
    assert.match(cmp2.stdout, /DIFFERENT/);
  } finally {
    servers.delete(s);
    await s.stop();
  }
});

test('a core with a swapped library reports its measurement and cannot unseal an existing deployment', async (t) => {
  const sw = swappedSodium();
  const env = { LD_LIBRARY_PATH: sw.dir };
  // A fresh deployment under the swapped library reports the swapped measurement.
  const s1 = await start({ env });
  servers.add(s1);
  const c1 = await new Client(s1.url, { timeoutMs: 10000 }).init();
  assert.equal(c1.health.measurement, measure(env).measurement);
  assert.notEqual(c1.health.measurement, measure().measurement);
  servers.delete(s1);
  await s1.stop();

  // A deployment sealed under the packaged libraries…
  const s = await start();
  servers.add(s);
  const c = await new Client(s.url, { timeoutMs: 10000 }).init();
  const O = new EoaSigner();
  const k = (await c.createKey(O, 'secp256k1')).json;
  assert.ok(k.key_id);
  const dir = s.dataDir;
  servers.delete(s);
  assert.equal((await s.stop()).code, 0);
  // …is not opened by the same core binary with another libsodium.
  const r = await startExpectFailure({ dataDir: dir, env });
  const out = r.stdout + r.stderr;
  t.diagnostic(`refusal: ${out.trim().split('\n').slice(-2).join(' | ')}`);
  assert.equal(r.listened, false, 'a core with a swapped library must not serve this deployment');
  assert.match(out, /unseal/i);
  // The packaged libraries still do.
  const s2 = await start({ dataDir: dir });
  servers.add(s2);
  const c2 = await new Client(s2.url, { timeoutMs: 10000 }).init();
  const d = rand(32);
  checkSecpSignature(await c2.sign(O, k.key_id, 'digest', d), { mode: 'digest', payload: d, address: k.address });
  servers.delete(s2);
  await s2.stop();
});

// The reproducibility flags of the normal build (the full check, two builds in two
// directories, is `make reproduce` in CI): no build id, no build directory inside.
test('tkms-enclave carries no build id and no path of the build tree', () => {
  const notes = run('readelf', ['-n', ENCLAVE_BIN]);
  assert.equal(notes.code, 0, notes.stderr);
  assert.doesNotMatch(notes.stdout, /Build ID/, 'linked with --build-id=none');
  const bin = fs.readFileSync(ENCLAVE_BIN);
  for (const dir of new Set([REPO, fs.realpathSync(REPO)])) {
    assert.equal(bin.indexOf(Buffer.from(dir)), -1, `the binary contains the build path ${dir}`);
  }
});
