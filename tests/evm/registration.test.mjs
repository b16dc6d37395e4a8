// tests/evm/registration.test.mjs — end-to-end proof on a real EVM that BLS keys and
// signatures made by tkms's C BN254 code are what EigenLayer's contracts accept.
//
// contracts/BN254Registration.sol (EigenLayer's hashToG1, BLSApkRegistry registration check
// and BLSSignatureChecker.trySignatureAndApkVerification, written from PROTOCOLS.md) is
// compiled with solc-js and deployed on an in-process ganache (no network, no port). Every
// key, hash-to-curve point and signature comes from the C code through
// tests/unit/test_bn254_tool.c --serve ($TKMS_BUILD/tests/test_bn254_tool when `make` built
// it, otherwise compiled here with cc); nothing expected is hard-coded. Independent
// cross-checks: ethers' EIP-712 encoder for the registration digest, @noble/curves for H.
//
// Secret keys come from a seeded PRNG: set EVM_SEED to replay a run.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypedDataEncoder, id, solidityPackedKeccak256 } from 'ethers';
import { bn254 } from '@noble/curves/bn254';
import { ROOT, P, R, deployChain, hashToG1Noble, registrationGamma, signatureGamma, fromG1, fromG2 } from './lib/chain.mjs';

const { Fp } = bn254.fields;

// ---- the C side ----
function buildTool() {
  const built = join(process.env.TKMS_BUILD || join(ROOT, 'build'), 'tests', 'test_bn254_tool');
  if (existsSync(built)) return { path: built, cleanup() {} };
  const dir = mkdtempSync(join(tmpdir(), 'bn254-evm-tool-'));
  const out = join(dir, 'tool');
  const srcs = readdirSync(join(ROOT, 'src/crypto/bn254'))
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(ROOT, 'src/crypto/bn254', f));
  execFileSync(process.env.CC || 'cc', ['-O2', '-std=c11', '-D_GNU_SOURCE', `-I${join(ROOT, 'src')}`,
    join(ROOT, 'tests/unit/test_bn254_tool.c'), ...srcs, '-lcmocka', '-o', out], { stdio: 'inherit' });
  return { path: out, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
const TOOL = buildTool();
after(() => TOOL.cleanup());

// One batch of requests to the tool; every answer must be a value (no err/bad/no).
function c(...reqs) {
  const r = spawnSync(TOOL.path, ['--serve'], { input: reqs.join('\n') + '\n' });
  assert.equal(r.status, 0, `tool exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.toString().trimEnd().split('\n');
  assert.equal(lines.length, reqs.length);
  return lines;
}

// ---- encodings: 32-byte big-endian words; G2 as BN254.G2Point (imaginary part first) ----
const w = (n) => BigInt(n).toString(16).padStart(64, '0');
const word = (hex, i) => BigInt('0x' + hex.slice(64 * i, 64 * i + 64));
const g1 = (hex) => ({ X: word(hex, 0), Y: word(hex, 1) });
const g2 = (hex) => ({ X: [word(hex, 0), word(hex, 1)], Y: [word(hex, 2), word(hex, 3)] });
const g1hex = (p) => w(p.X) + w(p.Y);
const g2hex = (q) => w(q.X[0]) + w(q.X[1]) + w(q.Y[0]) + w(q.Y[1]);
const b32 = (n) => '0x' + w(n);

// ---- deterministic randomness ----
const SEED = process.env.EVM_SEED || createHash('sha256').update(`${Date.now()}:${process.pid}`).digest('hex').slice(0, 16);
let counter = 0;
const rand256 = () => BigInt('0x' + createHash('sha256').update(`${SEED}:${counter++}`).digest('hex'));
// sk uniform in [1, r - 1] by rejection on 254-bit candidates
function randSk() {
  for (;;) {
    const k = rand256() >> 2n;
    if (k >= 1n && k < R) return k;
  }
}

// The C code's key material and signatures.
const G1GEN = w(1) + w(2);
function keyOf(sk) {
  const [pk, pk2] = c(`g1mulbase ${w(sk)}`, `g2mulbase ${w(sk)}`);
  return { sk, g1: g1(pk), g2: g2(pk2) };
}
const hashToG1C = (h) => g1(c(`h2g ${w(h)}`)[0]);
const signC = (sk, hPoint) => g1(c(`g1mul ${g1hex(hPoint)} ${w(sk)}`)[0]);

// The same pairing equation checked by the C code: e(a1, a2) * e(b1, b2) == 1.
function cPairing(a1, a2, b1, b2) {
  const [ans] = c(`check ${g1hex(a1)}${g2hex(a2)}${g1hex(b1)}${g2hex(b2)}`);
  assert.ok(ans === 'ok' || ans === 'no', `tool: ${ans}`);
  return ans === 'ok';
}
// sigma + gamma * pk, h + gamma * G1 and -G2, by the C code (gamma is public).
function cChallengeCheck(gamma, sigma, pk, h, pk2) {
  const [gpk, gG1, g2gen] = c(`g1mulp ${g1hex(pk)} ${w(gamma)}`, `g1mulp ${G1GEN} ${w(gamma)}`, `g2mulbase ${w(1)}`);
  const [left, right, negG2] = c(`g1add ${g1hex(sigma)} ${gpk}`, `g1add ${g1hex(h)} ${gG1}`, `g2neg ${g2gen}`);
  return cPairing(g1(left), g2(negG2), g1(right), pk2);
}

// ---- the chain ----
const CHAIN_ID = 17000 + Number(rand256() % 1000n); // any id: the domain must use block.chainid

describe('BN254 registration and signature check on an EVM (ganache), keys by the C code', () => {
  let chain, signers, reg, addr;

  before(async () => {
    chain = await deployChain(CHAIN_ID);
    ({ signers, reg, addr } = chain);
  });

  after(async () => {
    await chain?.close();
  });

  const domain = () => ({ name: 'AVSRegistryCoordinator', version: 'v0.0.1', chainId: CHAIN_ID, verifyingContract: addr });
  const registrationDigest = (operator) =>
    TypedDataEncoder.hash(domain(), { BN254PubkeyRegistration: [{ name: 'operator', type: 'address' }] }, { operator });
  // Registration params by the C code: H from the digest computed off-chain (ethers).
  function registrationParams(operator, sk, { sigmaSk = sk, g2Sk = sk } = {}) {
    const h = hashToG1C(BigInt(registrationDigest(operator)));
    const key = keyOf(sk);
    return {
      h,
      params: {
        pubkeyRegistrationSignature: signC(sigmaSk, h),
        pubkeyG1: key.g1,
        pubkeyG2: g2Sk === sk ? key.g2 : keyOf(g2Sk).g2,
      },
    };
  }
  const register = async (signer, params) => (await reg.connect(signer).registerBLSPublicKey(params)).wait();
  // Refused: eth_call reverts with the contract's reason, and a transaction sent anyway
  // (gas given, so no estimate) is mined with status 0.
  async function rejected(signer, params) {
    await assert.rejects(reg.connect(signer).registerBLSPublicKey.staticCall(params),
      (e) => e.reason === 'invalid registration signature');
    const tx = await reg.connect(signer).registerBLSPublicKey(params, { gasLimit: 5_000_000n });
    await assert.rejects(tx.wait(), (e) => e.code === 'CALL_EXCEPTION' && e.receipt?.status === 0);
  }

  test('constants: G2 generator as the C code writes it, TYPEHASH, EIP-712 digest as ethers computes it', async (t) => {
    t.diagnostic(`EVM_SEED=${SEED} chainId=${CHAIN_ID}`);
    const [gen] = c(`g2mulbase ${w(1)}`);
    assert.deepEqual(fromG2(await reg.g2Generator()), g2(gen));
    const [neg] = c(`g2neg ${gen}`);
    assert.deepEqual(fromG2(await reg.negG2Generator()), g2(neg));
    assert.equal(await reg.PUBKEY_REGISTRATION_TYPEHASH(), id('BN254PubkeyRegistration(address operator)'));
    for (const s of signers) {
      const op = await s.getAddress();
      assert.equal(await reg.pubkeyRegistrationDigest(op), registrationDigest(op));
    }
  });

  test('hashToG1 on-chain equals the C hashToG1 and BN254.sol run over @noble/curves', async () => {
    const inputs = [0n, 1n, 3n, P - 1n, P, P + 1n, (1n << 256n) - 1n];
    for (let i = 0; i < 8; i++) inputs.push(rand256());
    // inputs whose first x is rejected (x^3 + 3 not a square), so the x + 1 path runs
    let rejectedFirst = 0;
    while (rejectedFirst < 3) {
      const h = rand256();
      const b = Fp.add(Fp.mul(Fp.sqr(h % P), h % P), 3n);
      if (!Fp.eql(Fp.sqr(Fp.pow(b, (P + 1n) / 4n)), b)) (inputs.push(h), rejectedFirst++);
    }
    for (const s of signers) inputs.push(BigInt(registrationDigest(await s.getAddress())));
    let stepped = 0;
    for (const h of inputs) {
      const onchain = fromG1(await reg.hashToG1(b32(h)));
      const ours = hashToG1C(h);
      assert.deepEqual(onchain, ours, `hashToG1(${b32(h)})`);
      assert.deepEqual(hashToG1Noble(h), ours, `noble hashToG1(${b32(h)})`);
      bn254.G1.ProjectivePoint.fromAffine({ x: ours.X, y: ours.Y }).assertValidity();
      if (ours.X !== h % P) stepped++;
    }
    assert.ok(stepped >= 3, 'the x + 1 path was exercised');
  });

  test('registration params made by the C code pass on-chain and register the operator', async () => {
    const op = await signers[0].getAddress();
    const sk = randSk();
    const { h, params } = registrationParams(op, sk);
    assert.deepEqual(fromG1(await reg.pubkeyRegistrationMessageHash(op)), h, 'H on-chain = H by the C code');
    const gamma = registrationGamma(params.pubkeyRegistrationSignature, params.pubkeyG1, params.pubkeyG2, h);
    assert.ok(cChallengeCheck(gamma, params.pubkeyRegistrationSignature, params.pubkeyG1, h, params.pubkeyG2),
      'the C pairing check accepts the same equation');
    assert.equal(await reg.verifyRegistration(op, params), true);
    const receipt = await register(signers[0], params);
    assert.equal(receipt.status, 1);
    const operatorId = solidityPackedKeccak256(['uint256', 'uint256'], [params.pubkeyG1.X, params.pubkeyG1.Y]);
    assert.equal(await reg.operatorToPubkeyHash(op), operatorId);
    assert.equal(await reg.pubkeyHashToOperator(operatorId), op);
    const ev = receipt.logs.map((l) => reg.interface.parseLog(l)).find((e) => e?.name === 'NewPubkeyRegistration');
    assert.equal(ev.args.operator, op);
    assert.equal(ev.args.operatorId, operatorId);
  });

  test('a registration signature made with another key fails', async () => {
    const op = await signers[1].getAddress();
    const sk = randSk();
    const other = randSk();
    const { h, params } = registrationParams(op, sk, { sigmaSk: other });
    const gamma = registrationGamma(params.pubkeyRegistrationSignature, params.pubkeyG1, params.pubkeyG2, h);
    assert.equal(cChallengeCheck(gamma, params.pubkeyRegistrationSignature, params.pubkeyG1, h, params.pubkeyG2), false);
    assert.equal(await reg.verifyRegistration(op, params), false);
    await rejected(signers[1], params);
    // a G2 key that is not the G1 key's twin fails too
    const mixed = registrationParams(op, sk, { g2Sk: other }).params;
    assert.equal(await reg.verifyRegistration(op, mixed), false);
    await rejected(signers[1], mixed);
    // the zero key is refused
    const zero = { X: 0n, Y: 0n };
    const zero2 = { X: [0n, 0n], Y: [0n, 0n] };
    assert.equal(await reg.verifyRegistration(op, { pubkeyRegistrationSignature: zero, pubkeyG1: zero, pubkeyG2: zero2 }), false);
    assert.equal(await reg.operatorToPubkeyHash(op), '0x' + '0'.repeat(64));
  });

  test('params made for another operator fail; the same params pass for their operator', async () => {
    const op2 = await signers[2].getAddress();
    const op3 = await signers[3].getAddress();
    const { params } = registrationParams(op2, randSk());
    assert.equal(await reg.verifyRegistration(op3, params), false);
    await rejected(signers[3], params);
    assert.equal(await reg.verifyRegistration(op2, params), true);
    assert.equal((await register(signers[2], params)).status, 1);
    assert.equal(await reg.pubkeyHashToOperator(
      solidityPackedKeccak256(['uint256', 'uint256'], [params.pubkeyG1.X, params.pubkeyG1.Y])), op2);
  });

  test('BLS signatures by the C code pass trySignatureAndApkVerification; wrong ones fail', async () => {
    const msgHash = b32(rand256());
    const otherHash = b32(rand256());
    const a = keyOf(randSk());
    const b = keyOf(randSk());
    const hm = hashToG1C(BigInt(msgHash));
    assert.deepEqual(fromG1(await reg.hashToG1(msgHash)), hm);
    const sigA = signC(a.sk, hm);
    const sigB = signC(b.sk, hm);
    const sigAOther = signC(a.sk, hashToG1C(BigInt(otherHash)));
    // aggregate of a and b: apk = Pa + Pb, apkG2 = P'a + P'b, sigma = sigma_a + sigma_b
    const [apk, apkG2, sigAgg] = c(`g1add ${g1hex(a.g1)} ${g1hex(b.g1)}`, `g2add ${g2hex(a.g2)} ${g2hex(b.g2)}`,
      `g1add ${g1hex(sigA)} ${g1hex(sigB)}`);
    const offCurve = { X: [a.g2.X[0], (a.g2.X[1] + 1n) % P], Y: a.g2.Y };
    const cases = [
      ['own signature', msgHash, a.g1, a.g2, sigA, [true, true]],
      ['aggregate of two keys', msgHash, g1(apk), g2(apkG2), g1(sigAgg), [true, true]],
      ['signature by another key', msgHash, a.g1, a.g2, sigB, [true, false]],
      ['signature over another message', msgHash, a.g1, a.g2, sigAOther, [true, false]],
      ['signature checked against another message', otherHash, a.g1, a.g2, sigA, [true, false]],
      ['aggregate missing a signer', msgHash, g1(apk), g2(apkG2), sigA, [true, false]],
      ['G1 key not matching the G2 key', msgHash, b.g1, a.g2, sigA, [true, false]],
      ['G2 key off the curve', msgHash, a.g1, offCurve, sigA, [false, false]],
    ];
    for (const [name, mh, pk, pk2, sig, want] of cases) {
      const got = await reg.trySignatureAndApkVerification(mh, pk, pk2, sig);
      assert.deepEqual([got[0], got[1]], want, name);
      if (want[0]) {
        const gamma = signatureGamma(mh, pk, pk2, sig);
        assert.equal(cChallengeCheck(gamma, sig, pk, hashToG1C(BigInt(mh)), pk2), want[1], `C agrees: ${name}`);
      }
    }
  });
});
