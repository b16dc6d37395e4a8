// tests/integration/bn254_diff.test.mjs — differential test of tkms's BN254 C code against
// @noble/curves (an independent implementation) on over a thousand random cases: G1 and G2
// scalar multiplication (constant-time and public paths), additions, the pairing value,
// pairing-product checks with their negative twins, hashToG1 against BN254.sol's algorithm
// written here in JavaScript, and refusals of off-curve and off-subgroup points.
//
// The C side is tests/unit/test_bn254_tool.c --serve: $TKMS_BUILD/tests/test_bn254_tool when
// `make` built it, otherwise compiled here with cc. Seeded PRNG: set BN254_SEED to replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bn254 } from '@noble/curves/bn254';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { Fp, Fp2 } = bn254.fields;
const P = Fp.ORDER;
const R = bn254.fields.Fr.ORDER;
const G1 = bn254.G1.ProjectivePoint;
const G2 = bn254.G2.ProjectivePoint;

// ---- the C tool ----
function toolPath() {
  const built = process.env.TKMS_BUILD && join(process.env.TKMS_BUILD, 'tests', 'test_bn254_tool');
  if (built && existsSync(built)) return { path: built, cleanup() {} };
  const dir = mkdtempSync(join(tmpdir(), 'bn254-tool-'));
  const out = join(dir, 'tool');
  const srcs = readdirSync(join(ROOT, 'src/crypto/bn254'))
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(ROOT, 'src/crypto/bn254', f));
  execFileSync(process.env.CC || 'cc', ['-O2', '-std=c11', '-D_GNU_SOURCE', `-I${join(ROOT, 'src')}`,
    join(ROOT, 'tests/unit/test_bn254_tool.c'), ...srcs, '-lcmocka', '-o', out], { stdio: 'inherit' });
  return { path: out, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function runTool(path, reqs) {
  const r = spawnSync(path, ['--serve'], { input: reqs.join('\n') + '\n', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `tool exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.toString().trimEnd().split('\n');
  assert.equal(lines.length, reqs.length);
  return lines;
}

// ---- deterministic randomness ----
const SEED = process.env.BN254_SEED || createHash('sha256').update(String(Date.now())).digest('hex').slice(0, 16);
let counter = 0;
function rand256() {
  return BigInt('0x' + createHash('sha256').update(`${SEED}:${counter++}`).digest('hex'));
}
const randScalar = () => rand256() % R;

// ---- encodings (bn254.h): 32-byte big-endian words; G2 imaginary part first ----
const w = (n) => n.toString(16).padStart(64, '0');
const g1hex = (pt) => (pt.is0() ? '0'.repeat(128) : ((a) => w(a.x) + w(a.y))(pt.toAffine()));
const g2hex = (pt) =>
  pt.is0() ? '0'.repeat(256) : ((a) => w(a.x.c1) + w(a.x.c0) + w(a.y.c1) + w(a.y.c0))(pt.toAffine());
const gthex = (e) => [e.c0.c0, e.c0.c1, e.c0.c2, e.c1.c0, e.c1.c1, e.c1.c2].map((f) => w(f.c0) + w(f.c1)).join('');
const mulG1 = (k) => (k % R === 0n ? G1.ZERO : G1.BASE.multiplyUnsafe(k % R));
const mulG2 = (k) => (k % R === 0n ? G2.ZERO : G2.BASE.multiplyUnsafe(k % R));
const times = (pt, k) => (k % R === 0n || pt.is0() ? pt.multiplyUnsafe(0n) : pt.multiplyUnsafe(k % R));

// BN254.sol hashToG1, from its source: x = h mod p; loop { beta = x^3 + 3;
// y = beta^((p+1)/4); if (beta == y^2) return (x, y); x = x + 1 }.
function hashToG1Sol(h) {
  let x = h % P;
  for (;;) {
    const beta = Fp.add(Fp.mul(Fp.sqr(x), x), 3n);
    const y = Fp.pow(beta, (P + 1n) / 4n);
    if (Fp.eql(Fp.sqr(y), beta)) return { x, y };
    x = Fp.add(x, 1n);
  }
}

// Scalars worth covering besides uniform ones: 0, 1, r - 1, r, r + 1, 2^256 - 1, small.
const EDGE = [0n, 1n, 2n, R - 1n, R, R + 1n, (1n << 256n) - 1n, 15n, 16n, 17n, 1n << 128n];
const scalarAt = (i) => (i < EDGE.length ? EDGE[i] : i % 3 === 0 ? rand256() : randScalar());

test('BN254 C code matches @noble/curves on random cases', { timeout: 60_000 }, (t) => {
  t.diagnostic(`seed ${SEED} (BN254_SEED=${SEED} to replay)`);
  const tool = toolPath();
  const reqs = [];
  const checks = []; // [request index, expected answer, label]
  const ask = (req, expect, label) => {
    checks.push([reqs.length, expect, label]);
    reqs.push(req);
  };
  try {
    // G1 scalar multiplication: 300 cases, each on both paths
    for (let i = 0; i < 300; i++) {
      const base = i % 5 === 0 ? G1.BASE : mulG1(randScalar() || 1n);
      const k = scalarAt(i);
      const want = g1hex(times(base, k));
      ask(`g1mul ${g1hex(base)} ${w(k)}`, want, `g1mul #${i}`);
      ask(`g1mulp ${g1hex(base)} ${w(k)}`, want, `g1mulp #${i}`);
    }
    // G2 scalar multiplication: 200 cases, both paths
    for (let i = 0; i < 200; i++) {
      const base = i % 5 === 0 ? G2.BASE : mulG2(randScalar() || 1n);
      const k = scalarAt(i);
      const want = g2hex(times(base, k));
      ask(`g2mul ${g2hex(base)} ${w(k)}`, want, `g2mul #${i}`);
      ask(`g2mulp ${g2hex(base)} ${w(k)}`, want, `g2mulp #${i}`);
      if (i < 40) ask(`g2mulbase ${w(k)}`, g2hex(mulG2(k)), `g2mulbase #${i}`);
    }
    // additions including the exceptional cases P + P, P + (-P), P + O: 100 G1, 60 G2
    for (let i = 0; i < 100; i++) {
      const a = mulG1(randScalar());
      const b = [a, a.negate(), G1.ZERO, mulG1(randScalar())][i % 4];
      ask(`g1add ${g1hex(a)} ${g1hex(b)}`, g1hex(a.add(b)), `g1add #${i}`);
    }
    for (let i = 0; i < 60; i++) {
      const a = mulG2(randScalar());
      const b = [a, a.negate(), G2.ZERO, mulG2(randScalar())][i % 4];
      ask(`g2add ${g2hex(a)} ${g2hex(b)}`, g2hex(a.add(b)), `g2add #${i}`);
    }
    // hashToG1: 300 random digests plus edge values; the JavaScript result is itself checked
    // to be a valid point by noble
    const hs = [0n, 1n, P - 1n, P, P + 1n, (1n << 256n) - 1n];
    for (let i = 0; i < 300; i++) hs.push(rand256());
    hs.forEach((h, i) => {
      const { x, y } = hashToG1Sol(h);
      G1.fromAffine({ x, y }).assertValidity();
      ask(`h2g ${w(h)}`, w(x) + w(y), `hashToG1 #${i}`);
    });
    // the pairing value itself (same final exponentiation as noble): 40 cases
    for (let i = 0; i < 40; i++) {
      const p = mulG1(randScalar() || 1n);
      const q = mulG2(randScalar() || 1n);
      ask(`pair ${g1hex(p)} ${g2hex(q)}`, gthex(bn254.pairing(p, q)), `pairing #${i}`);
    }
    // pairing-product checks, the shape of BLS verification: e(aP, bQ) e(-abP, Q) = 1, and
    // the same with one scalar off by one; noble's verdict on each is asserted too
    for (let i = 0; i < 40; i++) {
      const a = randScalar() || 1n;
      const b = randScalar() || 1n;
      const off = i % 2 === 1 ? 1n : 0n;
      const p1 = mulG1(a);
      const q1 = mulG2(b);
      const p2 = mulG1((a * b + off) % R || 1n).negate();
      const nobleOne = bn254.fields.Fp12.eql(
        bn254.pairingBatch([{ g1: p1, g2: q1 }, { g1: p2, g2: G2.BASE }]), bn254.fields.Fp12.ONE);
      assert.equal(nobleOne, off === 0n, `noble pairing check #${i}`);
      ask(`check ${g1hex(p1)}${g2hex(q1)}${g1hex(p2)}${g2hex(G2.BASE)}`, nobleOne ? 'ok' : 'no', `check #${i}`);
    }
    // refusals: G1 points off the curve, twist points outside G2 (noble refuses them too)
    for (let i = 0; i < 30; i++) {
      const a = mulG1(randScalar() || 1n).toAffine();
      ask(`g1mul ${w(a.x)}${w(Fp.add(a.y, 1n))} ${w(5n)}`, 'err', `off-curve G1 #${i}`);
    }
    let twist = 0;
    for (let i = 0; twist < 30 && i < 200; i++) {
      const x = Fp2.fromBigTuple([rand256() % P, rand256() % P]);
      const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), bn254.G2.CURVE.b);
      let y;
      try {
        y = Fp2.sqrt(rhs);
      } catch {
        continue;
      }
      if (!Fp2.eql(Fp2.sqr(y), rhs)) continue;
      const pt = G2.fromAffine({ x, y });
      assert.throws(() => pt.assertValidity(), undefined, 'noble accepts a point outside G2');
      const enc = w(x.c1) + w(x.c0) + w(y.c1) + w(y.c0);
      ask(`g2check ${enc}`, 'no', `twist point #${twist}`);
      twist++;
    }
    assert.equal(twist, 30);

    const t0 = Date.now();
    const got = runTool(tool.path, reqs);
    t.diagnostic(`${checks.length} cases, C side ${Date.now() - t0} ms`);
    const bad = checks.filter(([idx, want]) => got[idx] !== want);
    const around = (s, i) => s.slice(Math.max(0, i - 8), i + 24);
    const show = bad.slice(0, 5).map(([idx, want, label]) => {
      const c = got[idx];
      let i = 0;
      while (i < c.length && c[i] === want[i]) i++;
      return `${label}: from hex digit ${i}, C …${around(c, i)}… noble …${around(want, i)}…`;
    });
    assert.equal(bad.length, 0, `${bad.length} of ${checks.length} differ:\n${show.join('\n')}`);
    assert.ok(checks.length >= 1000, `only ${checks.length} cases`);
  } finally {
    tool.cleanup();
  }
});
