// tests/integration/lib/avs.mjs — independent JS for the /v1/avs tests: EigenLayer's
// hashToG1 (BN254.sol, over @noble/curves' field, as tests/evm/registration.test.mjs),
// the registration digest (ethers TypedDataEncoder), the BLSSignatureChecker check, point
// conversions between the API's JSON ({X, Y}; G2 {X: [imag, real], Y: [imag, real]}) and
// noble, and builders of the signed /v1/avs requests on top of Client.envelope.
import { bn254 } from '@noble/curves/bn254';
import { AbiCoder, TypedDataEncoder, keccak256 } from 'ethers';
import { encodePolicy } from './policy.mjs';

export const { Fp, Fp2, Fp12 } = bn254.fields;
export const P = Fp.ORDER;
export const R = bn254.fields.Fr.ORDER;
export const G1 = bn254.G1.ProjectivePoint;
export const G2 = bn254.G2.ProjectivePoint;

export const w32 = (n) => '0x' + BigInt(n).toString(16).padStart(64, '0');
export const g1Json = (pt) => {
  const a = pt.toAffine();
  return { X: w32(a.x), Y: w32(a.y) };
};
export const g2Json = (pt) => {
  const a = pt.toAffine();
  return { X: [w32(a.x.c1), w32(a.x.c0)], Y: [w32(a.y.c1), w32(a.y.c0)] };
};
/** API JSON -> noble points (validated by noble: on the curve / in the subgroup). */
export function g1From(j) {
  const pt = G1.fromAffine({ x: BigInt(j.X), y: BigInt(j.Y) });
  pt.assertValidity();
  return pt;
}
export function g2From(j) {
  const x = Fp2.fromBigTuple([BigInt(j.X[1]), BigInt(j.X[0])]); // [real, imag]
  const y = Fp2.fromBigTuple([BigInt(j.Y[1]), BigInt(j.Y[0])]);
  const pt = G2.fromAffine({ x, y });
  pt.assertValidity();
  return pt;
}

/** BN254.sol hashToG1, bit-exact: x = h mod p; y = beta^((p+1)/4); never negated. */
export function hashToG1(h) {
  let x = BigInt(h) % P;
  for (;;) {
    const beta = Fp.add(Fp.mul(Fp.sqr(x), x), 3n);
    const y = Fp.pow(beta, (P + 1n) / 4n);
    if (Fp.eql(Fp.sqr(y), beta)) return G1.fromAffine({ x, y });
    x = Fp.add(x, 1n);
  }
}

/** EigenLayer's pubkeyRegistrationMessageHash digest (before hashToG1). */
export function registrationDigest(operator, chainId, coordinator) {
  const domain = { name: 'AVSRegistryCoordinator', version: 'v0.0.1', chainId, verifyingContract: coordinator };
  return TypedDataEncoder.hash(domain, { BN254PubkeyRegistration: [{ name: 'operator', type: 'address' }] }, { operator });
}

/** e(a1, a2) * e(b1, b2) == 1 by noble. */
export const pairingProductIsOne = (a1, a2, b1, b2) =>
  Fp12.eql(bn254.pairingBatch([{ g1: a1, g2: a2 }, { g1: b1, g2: b2 }]), Fp12.ONE);
/** e(s, G2) == e(pt, pk2): s = sk * pt for the sk of pk2. */
export const signedBy = (s, pt, pk2) => pairingProductIsOne(s, G2.BASE.negate(), pt, pk2);

const abi = AbiCoder.defaultAbiCoder();
const words = (n) => Array(n).fill('uint256');
const add = (a, b) => a.add(b);
const mul = (pt, k) => (k === 0n ? G1.ZERO : pt.multiply(k));

/** BLSSignatureChecker.trySignatureAndApkVerification for one signer. */
export function blsCheck(msgHash, apk, apkG2, sigma) {
  const a = apk.toAffine(), q = apkG2.toAffine(), s = sigma.toAffine();
  const gamma = BigInt(keccak256(abi.encode(['bytes32', ...words(8)],
    [msgHash, a.x, a.y, q.x.c1, q.x.c0, q.y.c1, q.y.c0, s.x, s.y]))) % R;
  return pairingProductIsOne(add(sigma, mul(apk, gamma)), G2.BASE.negate(), add(hashToG1(msgHash), mul(G1.BASE, gamma)), apkG2);
}

/** BLSApkRegistry.registerBLSPublicKey's check. */
export function registrationCheck(sigma, pk, pk2, h) {
  const s = sigma.toAffine(), a = pk.toAffine(), q = pk2.toAffine(), m = h.toAffine();
  const gamma = BigInt(keccak256(abi.encode(words(10),
    [s.x, s.y, a.x, a.y, q.x.c1, q.x.c0, q.y.c1, q.y.c0, m.x, m.y]))) % R;
  return pairingProductIsOne(add(sigma, mul(pk, gamma)), G2.BASE.negate(), add(h, mul(G1.BASE, gamma)), pk2);
}

/** operatorId = keccak256(X || Y). */
export const operatorId = (g1) => keccak256('0x' + g1.X.slice(2) + g1.Y.slice(2));

// ---- signed requests -------------------------------------------------------------

/** POST /v1/avs/keys: CreateKey{keyType "bn254", owner "eoa:<lowercase>"}. */
export async function buildAvsCreate(c, signer, opts = {}) {
  const eoa = opts.eoa ?? signer.address;
  const owner = opts.owner ?? 'eoa:' + eoa.toLowerCase();
  const body = { eoa };
  if (opts.policy !== undefined) body.policy = opts.policy;
  const policy = encodePolicy(opts.policy);
  const r = await c.envelope(signer, 'CreateKey', { keyType: 'bn254', owner, policy }, body, opts);
  return { method: 'POST', path: '/v1/avs/keys', ...r };
}

/** The Sign message of a /v1/avs signing route; version only if the served type has it. */
async function buildAvsSign(c, signer, path, keyId, mode, payload, bodyFields, opts) {
  const fields = { keyId, mode, payload };
  const hasVersion = c.types.Sign.some((f) => f.name === 'version');
  if (hasVersion) fields.version = opts.version ?? 1;
  const body = { eoa: opts.eoa ?? signer.address, ...bodyFields };
  if (opts.bodyVersion !== undefined) body.version = opts.bodyVersion;
  else if (hasVersion && opts.version !== undefined) body.version = opts.version;
  const r = await c.envelope(signer, 'Sign', fields, body, opts);
  return { method: 'POST', path, ...r };
}

const strip = (h) => h.slice(2);
export const buildScalarMul = (c, signer, keyId, hash, opts = {}) =>
  buildAvsSign(c, signer, '/v1/avs/scalar_mul', keyId, 'bn254_g1_mul',
    '0x' + strip(hash.X) + strip(hash.Y), { hash }, opts);
export const buildAvsSignHash = (c, signer, keyId, messageHash, opts = {}) =>
  buildAvsSign(c, signer, '/v1/avs/sign', keyId, 'bn254_hash', messageHash, { message_hash: messageHash }, opts);
export const buildRegistration = (c, signer, keyId, chainId, coordinator, opts = {}) =>
  buildAvsSign(c, signer, '/v1/avs/registration', keyId, 'avs_registration',
    w32(chainId) + strip(coordinator.toLowerCase()),
    { chain_id: opts.chainIdJson ?? chainId.toString(), registry_coordinator: coordinator }, opts);

export async function buildAvsRotate(c, signer, keyId, opts = {}) {
  const eoa = opts.eoa ?? signer.address;
  const r = await c.envelope(signer, 'RotateKey', { keyId }, {}, opts);
  return { method: 'POST', path: `/v1/avs/keys/${eoa}/rotate`, ...r };
}

export { bn254 };
