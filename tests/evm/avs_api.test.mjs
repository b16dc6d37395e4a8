// tests/evm/avs_api.test.mjs — the EigenLayer flow end to end through tkms's HTTP API and
// its TypeScript client (clients/ts), checked on a real EVM.
//
// A `tkms serve` is started on 127.0.0.1; ganache accounts are the operators and sign
// every request (EIP-712, eth_signTypedData_v4) through the TypeScript client, built by
// `make client-ts` into $TKMS_BUILD/clients/ts. The registration parameters and BLS
// signatures the service returns must pass contracts/BN254Registration.sol (EigenLayer's
// registration check and BLSSignatureChecker), and wrong ones must fail there.
// Independent cross-checks: @noble/curves for pairings and hashToG1, ethers for keccak.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { TypedDataEncoder, solidityPackedKeccak256 } from 'ethers';
import { bn254 } from '@noble/curves/bn254';
import { deployChain, hashToG1Noble, fromG1 } from './lib/chain.mjs';
import { start, BUILD } from '../integration/lib/server.mjs';

const CLIENT = join(BUILD, 'clients', 'ts', 'index.js');
assert.ok(existsSync(CLIENT), `${CLIENT} is missing: run make client-ts`);
const { TkmsAvsClient, TkmsError } = await import(pathToFileURL(CLIENT).href);

const CHAIN_ID = 31000 + (randomBytes(2).readUInt16BE() % 1000);
const big = (p) => ({ X: BigInt(p.X), Y: BigInt(p.Y) });
const big2 = (q) => ({ X: [BigInt(q.X[0]), BigInt(q.X[1])], Y: [BigInt(q.Y[0]), BigInt(q.Y[1])] });
const hex32 = (n) => '0x' + BigInt(n).toString(16).padStart(64, '0');
const pointHex = (p) => ({ X: hex32(p.X), Y: hex32(p.Y) });
const randHash = () => '0x' + randomBytes(32).toString('hex');

// noble: e(a, G2) == e(G1, b) for a public key pair, e(sig, G2) == e(H, pk2) for a signature
const { G1, G2 } = bn254;
const nG1 = (p) => G1.ProjectivePoint.fromAffine({ x: BigInt(p.X), y: BigInt(p.Y) });
const nG2 = (q) =>
  G2.ProjectivePoint.fromAffine({
    x: bn254.fields.Fp2.fromBigTuple([BigInt(q.X[1]), BigInt(q.X[0])]),
    y: bn254.fields.Fp2.fromBigTuple([BigInt(q.Y[1]), BigInt(q.Y[0])]),
  });
const pairEq = (a1, a2, b1, b2) => bn254.fields.Fp12.eql(bn254.pairing(a1, a2), bn254.pairing(b1, b2));

// A ganache account as the client's signer. Ganache 7.9 takes eth_signTypedData_v4's typed
// data as an object, not the JSON string ethers' JsonRpcSigner sends, so this adapter sends
// the object; ganache's own EIP-712 code signs and tkms's core verifies.
class GanacheSigner {
  constructor(provider, address) {
    this.provider = provider;
    this.address = address;
  }
  async getAddress() {
    return this.address;
  }
  async signTypedData(domain, types, value) {
    return this.provider.send('eth_signTypedData_v4', [this.address, TypedDataEncoder.getPayload(domain, types, value)]);
  }
}

describe('EigenLayer through the tkms API and the TypeScript client, checked on ganache', () => {
  let srv, ch, ops, wallets, kms;

  before(async () => {
    srv = await start();
    ch = await deployChain(CHAIN_ID, 5);
    ops = await Promise.all(ch.signers.map((s) => s.getAddress()));
    wallets = ops.map((a) => new GanacheSigner(ch.provider, a));
    kms = new TkmsAvsClient({ url: srv.url, signers: wallets });
  });

  after(async () => {
    await ch?.close();
    await srv?.stop();
  });

  test('createKey(eoa) then registration params pass the on-chain registration check', async () => {
    const op = ops[0];
    await kms.createKey(op); // the seed's interface: Promise<void>
    const key = await kms.getKey(op);
    assert.equal(key.operator, op.toLowerCase());
    assert.equal(key.version, 1);
    assert.equal(key.versions.length, 1);
    // the G1 and G2 keys are twins: e(pk1, G2) = e(G1, pk2)
    assert.ok(pairEq(nG1(key.g1), G2.ProjectivePoint.BASE, G1.ProjectivePoint.BASE, nG2(key.g2)));
    assert.equal(key.operatorId, solidityPackedKeccak256(['uint256', 'uint256'], [key.g1.X, key.g1.Y]));

    const { params, messageHash } = await kms.registrationParams(op, CHAIN_ID, ch.addr);
    assert.deepEqual(big(messageHash), fromG1(await ch.reg.pubkeyRegistrationMessageHash(op)), 'H as the chain computes it');
    assert.deepEqual(big(messageHash), hashToG1Noble(BigInt(await ch.reg.pubkeyRegistrationDigest(op))));
    assert.deepEqual(params.pubkeyG1, key.g1);
    assert.deepEqual(params.pubkeyG2, key.g2);
    const p = { pubkeyRegistrationSignature: big(params.pubkeyRegistrationSignature), pubkeyG1: big(params.pubkeyG1), pubkeyG2: big2(params.pubkeyG2) };
    assert.equal(await ch.reg.verifyRegistration(op, p), true);
    const receipt = await (await ch.reg.connect(ch.signers[0]).registerBLSPublicKey(p)).wait();
    assert.equal(receipt.status, 1);
    assert.equal(await ch.reg.operatorToPubkeyHash(op), key.operatorId);
    assert.equal(await ch.reg.pubkeyHashToOperator(key.operatorId), op);
  });

  test('params for one operator fail for another, on-chain, and for another coordinator or chain', async () => {
    const [a, b] = [ops[1], ops[2]];
    await kms.createKey(a);
    const { params } = await kms.registrationParams(a, CHAIN_ID, ch.addr);
    const p = { pubkeyRegistrationSignature: big(params.pubkeyRegistrationSignature), pubkeyG1: big(params.pubkeyG1), pubkeyG2: big2(params.pubkeyG2) };
    assert.equal(await ch.reg.verifyRegistration(b, p), false);
    await assert.rejects(ch.reg.connect(ch.signers[2]).registerBLSPublicKey.staticCall(p), (e) => e.reason === 'invalid registration signature');
    assert.equal(await ch.reg.verifyRegistration(a, p), true);
    // made for another registry coordinator or chain id: the domain differs, the check fails
    const other = await kms.registrationParams(a, CHAIN_ID, '0x' + '11'.repeat(20));
    const wrongChain = await kms.registrationParams(a, CHAIN_ID + 1, ch.addr);
    for (const x of [other, wrongChain]) {
      const q = { pubkeyRegistrationSignature: big(x.params.pubkeyRegistrationSignature), pubkeyG1: big(x.params.pubkeyG1), pubkeyG2: big2(x.params.pubkeyG2) };
      assert.equal(await ch.reg.verifyRegistration(a, q), false);
    }
  });

  test('scalar_mul(eoa, hash) and message signing pass BLSSignatureChecker; other keys and messages fail', async () => {
    const op = ops[0];
    const key = await kms.getKey(op);
    const msg = randHash();
    const other = randHash();
    const h = fromG1(await ch.reg.hashToG1(msg));
    // the seed's interface: the caller hashes, tkms multiplies
    const sm = await kms.scalar_mul(op, pointHex(h));
    assert.deepEqual(sm.g1, key.g1);
    assert.deepEqual(sm.g2, key.g2);
    assert.ok(pairEq(nG1(sm.signature), G2.ProjectivePoint.BASE, nG1(pointHex(h)), nG2(key.g2)), 'noble: e(σ, G2) = e(H, pk2)');
    // /v1/avs/sign does hashToG1 itself: the same signature
    const sg = await kms.signMessageHash(op, msg);
    assert.deepEqual(sg.signature, sm.signature);
    assert.deepEqual(big(sg.messagePoint), h);
    const sigOther = (await kms.signMessageHash(op, other)).signature;
    await kms.createKey(ops[3]);
    const sigB = (await kms.signMessageHash(ops[3], msg)).signature;
    const cases = [
      ['own signature', msg, sm.signature, [true, true]],
      ['signature over another message', msg, sigOther, [true, false]],
      ['signature checked against another message', other, sm.signature, [true, false]],
      ['signature by another operator key', msg, sigB, [true, false]],
    ];
    for (const [name, mh, sig, want] of cases) {
      const got = await ch.reg.trySignatureAndApkVerification(mh, big(key.g1), big2(key.g2), big(sig));
      assert.deepEqual([got[0], got[1]], want, name);
      assert.equal(await kms.verify(key.g1, key.g2, mh, sig), want[1], `POST /v1/avs/verify: ${name}`);
    }
  });

  test('rotation: a new key; the old public key no longer verifies new signatures', async () => {
    const op = ops[3];
    const before = await kms.getKey(op);
    const rotated = await kms.rotateKey(op);
    assert.equal(rotated.version, before.version + 1);
    assert.notDeepEqual(rotated.g1, before.g1);
    const after = await kms.getKey(op);
    assert.deepEqual(after.versions.map((v) => [v.version, v.usable]), [[1, false], [2, true]]);
    const msg = randHash();
    const sig = (await kms.signMessageHash(op, msg)).signature;
    const onNew = await ch.reg.trySignatureAndApkVerification(msg, big(rotated.g1), big2(rotated.g2), big(sig));
    const onOld = await ch.reg.trySignatureAndApkVerification(msg, big(before.g1), big2(before.g2), big(sig));
    assert.deepEqual([onNew[0], onNew[1]], [true, true]);
    assert.deepEqual([onOld[0], onOld[1]], [true, false]);
  });

  test('refusals reach the client as TkmsError: another account, a second key, an invalid point', async () => {
    const op = ops[4];
    // a client whose only signer is another account cannot create op's key
    const impostor = new TkmsAvsClient({ url: srv.url, signers: (eoa) => (eoa.toLowerCase() === op.toLowerCase() ? wallets[0] : undefined) });
    await assert.rejects(impostor.createKey(op), (e) => e instanceof TkmsError && e.status === 403 && e.code === 'wrong_signer');
    await assert.rejects(kms.getKey(op), (e) => e instanceof TkmsError && e.status === 404);
    await kms.createKey(op);
    await assert.rejects(kms.createKey(op), (e) => e instanceof TkmsError && e.status === 409 && e.code === 'key_exists');
    // a point not on the curve is refused before any secret is used
    const h = fromG1(await ch.reg.hashToG1(randHash()));
    await assert.rejects(kms.scalar_mul(op, pointHex({ X: h.X, Y: h.Y + 1n })), (e) => e instanceof TkmsError && e.status === 400);
    // and an operator that is not the signer's cannot use op's key
    await assert.rejects(impostor.scalar_mul(op, pointHex(h)), (e) => e instanceof TkmsError && e.status === 403 && e.code === 'wrong_signer');
  });
});
