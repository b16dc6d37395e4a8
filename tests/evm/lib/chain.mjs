// tests/evm/lib/chain.mjs — the EVM side of the EigenLayer checks: contracts/BN254Registration.sol
// (EigenLayer's hashToG1, BLSApkRegistry registration check and
// BLSSignatureChecker.trySignatureAndApkVerification, written from PROTOCOLS.md) compiled with
// solc-js and deployed on an in-process ganache (no network, no port).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';
import ganache from 'ganache';
import { AbiCoder, BrowserProvider, ContractFactory, keccak256 } from 'ethers';
import { bn254 } from '@noble/curves/bn254';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { Fp } = bn254.fields;
export const P = Fp.ORDER;
export const R = bn254.fields.Fr.ORDER;

export function compile() {
  const input = {
    language: 'Solidity',
    sources: { 'BN254Registration.sol': { content: readFileSync(join(ROOT, 'contracts/BN254Registration.sol'), 'utf8') } },
    settings: {
      evmVersion: 'shanghai', // ganache 7.9 knows no later fork
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = (out.errors || []).filter((e) => e.severity === 'error' || e.type === 'Warning');
  assert.deepEqual(problems.map((e) => e.formattedMessage), [], 'solc reported problems');
  const k = out.contracts['BN254Registration.sol'].BN254Registration;
  return { abi: k.abi, bytecode: '0x' + k.evm.bytecode.object };
}

/** ganache with `accounts` funded accounts and the contract deployed by the first. */
export async function deployChain(chainId, accounts = 4) {
  const { abi, bytecode } = compile();
  const chain = ganache.provider({
    logging: { quiet: true },
    chain: { chainId, hardfork: 'shanghai' },
    wallet: { totalAccounts: accounts },
  });
  const provider = new BrowserProvider(chain);
  const signers = await Promise.all([...Array(accounts).keys()].map((i) => provider.getSigner(i)));
  const reg = await new ContractFactory(abi, bytecode, signers[0]).deploy();
  await reg.waitForDeployment();
  return {
    chain,
    provider,
    signers,
    reg,
    addr: await reg.getAddress(),
    async close() {
      provider.destroy();
      await chain.disconnect();
    },
  };
}

// BN254.sol hashToG1 in JavaScript over @noble/curves' field.
export function hashToG1Noble(h) {
  let x = h % P;
  for (;;) {
    const beta = Fp.add(Fp.mul(Fp.sqr(x), x), 3n);
    const y = Fp.pow(beta, (P + 1n) / 4n);
    if (Fp.eql(Fp.sqr(y), beta)) return { X: x, Y: y };
    x = Fp.add(x, 1n);
  }
}

const abi = AbiCoder.defaultAbiCoder();
const u256s = (n) => Array(n).fill('uint256');
export const registrationGamma = (s, pk, pk2, h) =>
  BigInt(keccak256(abi.encode(u256s(10), [s.X, s.Y, pk.X, pk.Y, pk2.X[0], pk2.X[1], pk2.Y[0], pk2.Y[1], h.X, h.Y]))) % R;
export const signatureGamma = (msgHash, apk, apkG2, s) =>
  BigInt(keccak256(abi.encode(['bytes32', ...u256s(8)],
    [msgHash, apk.X, apk.Y, apkG2.X[0], apkG2.X[1], apkG2.Y[0], apkG2.Y[1], s.X, s.Y]))) % R;

// ethers Results (structs) back to plain BigInt objects
export const fromG1 = (r) => ({ X: r[0], Y: r[1] });
export const fromG2 = (r) => ({ X: [r[0][0], r[0][1]], Y: [r[1][0], r[1][1]] });
