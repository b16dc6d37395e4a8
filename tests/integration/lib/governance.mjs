// tests/integration/lib/governance.mjs — governance requests for tests: each
// governor (an ethers wallet) signs AnnounceUpgrade / CancelUpgrade as served by
// GET /v1/eip712, and the signatures go into one body (docs/api.md, Governance).
import fs from 'node:fs';
import path from 'node:path';
import { ethers } from 'ethers';
import { BUILD } from './server.mjs';
import { rand, now } from './client.mjs';

/** The second core build (make build/tests/tkms-enclave-b): same source, other measurement. */
export const ENCLAVE_B = path.join(BUILD, 'tests', 'tkms-enclave-b');

export function requireEnclaveB() {
  if (!fs.existsSync(ENCLAVE_B))
    throw new Error(`${ENCLAVE_B} does not exist: build it with make ${path.relative(process.cwd(), ENCLAVE_B)}`);
}

/**
 * A signed governance body. primary: 'AnnounceUpgrade' | 'CancelUpgrade'.
 * signers: ethers wallets (or {sign(domain, types, value)} objects).
 * opts: requestId, deadline, mutate(sigs) to alter the signature list.
 */
export async function govBody(client, primary, signers, measurement, opts = {}) {
  const requestId = opts.requestId ?? rand(32);
  const deadline = opts.deadline ?? now() + 300;
  const types = { [primary]: client.types[primary] };
  if (!types[primary]) throw new Error(`/v1/eip712 does not serve ${primary}`);
  const value = { measurement, requestId, deadline };
  let signatures = [];
  for (const s of signers) signatures.push(await s.signTypedData(client.domain, types, value));
  if (opts.mutate) signatures = opts.mutate(signatures);
  return {
    body: { measurement, request_id: requestId, deadline, deployment: client.salt, signatures },
    digest: ethers.TypedDataEncoder.hash(client.domain, types, value),
  };
}

export async function announce(client, signers, measurement, opts = {}) {
  const { body } = await govBody(client, 'AnnounceUpgrade', signers, measurement, opts);
  const res = await client.raw('POST', '/v1/governance/announce', body);
  res.body = body;
  return res;
}

export async function cancel(client, signers, measurement, opts = {}) {
  const { body } = await govBody(client, 'CancelUpgrade', signers, measurement, opts);
  const res = await client.raw('POST', '/v1/governance/cancel', body);
  res.body = body;
  return res;
}
