// bench/bn254_noble.mjs — the BN254 operations of bench/bn254_bench.c measured with
// @noble/curves and mcl-wasm (herumi's mcl compiled to WebAssembly, curve BN_SNARK1 =
// alt_bn128) in the same run, and the ratios C / noble and C / mcl.
//
//   node bench/bn254_noble.mjs [path/to/bn254_bench] [seconds per op, default 1]
//
// Without a path it looks for $TKMS_BUILD/bench/bn254_bench, then compiles bench/bn254_bench.c
// with cc into a temporary directory. Both sides report operations per second of CPU time of
// one thread (the machine is shared; wall time would count other processes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bn254 } from '@noble/curves/bn254';
import mcl from 'mcl-wasm';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const secs = Number(process.argv[3] || 1);
const G1 = bn254.G1.ProjectivePoint;
const G2 = bn254.G2.ProjectivePoint;
const R = bn254.fields.Fr.ORDER;
const Fp = bn254.fields.Fp;

function cBench() {
  let bin = process.argv[2];
  let dir;
  if (!bin && process.env.TKMS_BUILD) bin = join(process.env.TKMS_BUILD, 'bench', 'bn254_bench');
  if (!bin || !existsSync(bin)) {
    dir = mkdtempSync(join(tmpdir(), 'bn254-bench-'));
    bin = join(dir, 'bn254_bench');
    const srcs = readdirSync(join(ROOT, 'src/crypto/bn254')).filter((f) => f.endsWith('.c'))
      .map((f) => join(ROOT, 'src/crypto/bn254', f));
    execFileSync(process.env.CC || 'cc', ['-O2', '-std=c11', '-D_GNU_SOURCE', `-I${join(ROOT, 'src')}`,
      join(ROOT, 'bench/bn254_bench.c'), ...srcs, '-o', bin]);
  }
  const out = execFileSync(bin, [String(secs)]).toString();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const res = {};
  for (const line of out.trim().split('\n')) {
    const m = line.match(/^(.*?)\s+([\d.]+) ops\/s$/);
    if (m) res[m[1].trim()] = Number(m[2]);
  }
  return res;
}

const cpuNow = () => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
function run(fn) {
  let n = 0;
  const t0 = cpuNow();
  let t;
  do {
    fn(n++);
    t = cpuNow() - t0;
  } while (t < secs);
  return n / t;
}

let seed = 0x1234567n;
const scalar = () => {
  seed = (seed * 6364136223846793005n + 1442695040888963407n) % (1n << 256n);
  return (seed % (R - 1n)) + 1n;
};
const p1 = G1.BASE.multiply(scalar());
const q2 = G2.BASE.multiply(scalar());
// noble memoises validity and pairing precomputations per point object: give it a new
// object each time, as the C side decodes its input each time
const p1a = p1.toAffine();
const q2a = q2.toAffine();
const freshP = () => G1.fromAffine(p1a);
const freshQ = () => G2.fromAffine(q2a);
const noble = {
  'g1_mul (ct)': run(() => p1.multiply(scalar())),
  g1_mul_public: run(() => p1.multiplyUnsafe(scalar())),
  'g2_mul (ct)': run(() => q2.multiply(scalar())),
  g2_mul_public: run(() => q2.multiplyUnsafe(scalar())),
  'g2_check (subgroup)': run(() => freshQ().assertValidity()),
  pairing: run(() => bn254.pairing(freshP(), freshQ())),
  'pairing_check (2 pairs)': run(() =>
    bn254.fields.Fp12.eql(
      bn254.pairingBatch([{ g1: freshP(), g2: freshQ() }, { g1: freshP().negate(), g2: freshQ() }]),
      bn254.fields.Fp12.ONE)),
  hash_to_g1: run((i) => {
    // BN254.sol's loop, the reference for tkms_bn254_hash_to_g1
    let x = BigInt(i) % Fp.ORDER;
    for (;;) {
      const beta = Fp.add(Fp.mul(Fp.sqr(x), x), 3n);
      const y = Fp.pow(beta, (Fp.ORDER + 1n) / 4n);
      if (Fp.eql(Fp.sqr(y), beta)) break;
      x = Fp.add(x, 1n);
    }
  }),
};
// mcl-wasm: the same operations where mcl has them (its hash-to-curve is not BN254.sol's).
await mcl.init(mcl.BN_SNARK1);
const mP = mcl.hashAndMapToG1('tkms bench');
const mQ = mcl.hashAndMapToG2('tkms bench');
// scalars made up front, so the conversion from BigInt is not measured
const mScalars = Array.from({ length: 256 }, () => {
  const a = new mcl.Fr();
  a.setStr(scalar().toString(10));
  return a;
});
let mi = 0;
const mScalar = () => mScalars[mi++ & 255];
const mQbytes = mQ.serialize();
const mclOps = {
  'g1_mul (ct)': run(() => mcl.mul(mP, mScalar())),
  'g2_mul (ct)': run(() => mcl.mul(mQ, mScalar())),
  'g2_check (subgroup)': run(() => {
    const q = new mcl.G2();
    q.deserialize(mQbytes); // mcl verifies the order on deserialisation by default
  }),
  pairing: run(() => mcl.pairing(mP, mQ)),
  'pairing_check (2 pairs)': run(() => {
    const e = mcl.mul(mcl.millerLoop(mP, mQ), mcl.millerLoop(mcl.neg(mP), mQ));
    mcl.finalExp(e).isOne();
  }),
};

const c = cBench();
const fmt = (v) => (v === undefined ? '-' : v.toFixed(0)).padStart(10);
const ratio = (a, b) => (a && b ? (a / b).toFixed(1) + 'x' : '-').padStart(8);
console.log(`${'operation'.padEnd(24)}${'tkms C'.padStart(10)}${'noble'.padStart(10)}${'mcl-wasm'.padStart(10)}` +
  `${'C/noble'.padStart(8)}${'C/mcl'.padStart(8)}   (ops/s, CPU time of one thread)`);
for (const k of Object.keys(noble)) {
  console.log(`${k.padEnd(24)}${fmt(c[k])}${fmt(noble[k])}${fmt(mclOps[k])}${ratio(c[k], noble[k])}${ratio(c[k], mclOps[k])}`);
}
