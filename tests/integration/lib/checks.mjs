// tests/integration/lib/checks.mjs — assertions shared by the integration tests.
import assert from 'node:assert/strict';
import { ethers, splitSig, SECP256K1_N, verifyEd25519 } from './client.mjs';

export const HEX = (bytes) => new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`);

export function show(res) {
  return `HTTP ${res.status} ${res.text?.slice(0, 400)}`;
}

/** A refusal: exact status and error code, the documented error shape, no signature. */
export function expectError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${show(res)}`);
  assert.ok(res.json && typeof res.json === 'object', `error body is not JSON: ${show(res)}`);
  assert.ok(res.json.error, `no "error" object: ${show(res)}`);
  assert.equal(res.json.error.code, code, `expected code ${code}, got ${show(res)}`);
  assert.equal(typeof res.json.error.message, 'string', `error.message missing: ${show(res)}`);
  assert.equal(res.json.signature, undefined, 'a refused request returned a signature');
  assert.equal(res.json.receipt_signature, undefined, 'a refused request returned a receipt');
}

export function expectStatus(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${show(res)}`);
}

/** The shape of a key object (POST /v1/keys, GET /v1/keys/{id}, list entries). */
export function checkKey(k, { type, owner, state = 'active', version } = {}) {
  assert.match(k.key_id, HEX(16), 'key_id');
  if (type) assert.equal(k.key_type, type);
  if (owner) assert.equal(k.owner, owner);
  assert.equal(k.state, state);
  if (version !== undefined) assert.equal(k.version, version);
  assert.equal(typeof k.created_at, 'number');
  if (k.key_type === 'secp256k1') {
    assert.match(k.public_key, /^0x0[23][0-9a-f]{64}$/, 'compressed secp256k1 public key');
    assert.match(k.address, HEX(20), 'address is 20 bytes of lowercase hex');
    assert.equal(k.address, ethers.computeAddress(k.public_key).toLowerCase(), 'address = computeAddress(public_key)');
  } else if (k.key_type === 'ed25519') {
    assert.match(k.public_key, HEX(32), 'ed25519 public key');
    assert.equal(k.address, undefined, 'ed25519 keys have no address');
  }
}

/** A 65-byte Ethereum signature: v 27/28, s <= n/2, r,s in range. */
export function checkEthSig(sig) {
  assert.match(sig, HEX(65), 'signature is 65 bytes of lowercase hex');
  const { r, s, v } = splitSig(sig);
  assert.ok(v === 27 || v === 28, `v = ${v}`);
  assert.ok(r > 0n && r < SECP256K1_N, 'r in [1, n)');
  assert.ok(s > 0n && s <= SECP256K1_N / 2n, 's <= n/2 (low-s)');
}

/** A sign response for a secp256k1 key verifies with ethers against address. */
export function checkSecpSignature(res, { mode, payload, address, keyId, version }) {
  expectStatus(res, 200);
  const j = res.json;
  if (keyId) assert.equal(j.key_id, keyId);
  if (version !== undefined) assert.equal(j.version, version);
  assert.equal(j.mode, mode);
  checkEthSig(j.signature);
  const got =
    mode === 'personal'
      ? ethers.verifyMessage(ethers.getBytes(payload), j.signature)
      : ethers.recoverAddress(payload, j.signature);
  assert.equal(got.toLowerCase(), address.toLowerCase(), `${mode} signature recovers to ${got}, not ${address}`);
}

export function checkEd25519Signature(res, { payload, publicKey, keyId, version }) {
  expectStatus(res, 200);
  const j = res.json;
  if (keyId) assert.equal(j.key_id, keyId);
  if (version !== undefined) assert.equal(j.version, version);
  assert.equal(j.mode, 'message');
  assert.match(j.signature, HEX(64), 'ed25519 signature is 64 bytes');
  assert.ok(verifyEd25519(j.signature, payload, publicKey), 'ed25519 signature verifies with noble');
}

/** The deployment's monotonic counter (changes exactly when state changes). */
export async function counter(client) {
  const h = await client.getHealth();
  expectStatus(h, 200);
  assert.equal(typeof h.json.counter, 'number', 'health.counter');
  return h.json.counter;
}

/** A request that must be refused with status and code; the deployment's state counter must not move. */
export async function expectRefused(client, fn, status, code) {
  const before = await counter(client);
  const res = await fn();
  expectError(res, status, code);
  assert.equal(await counter(client), before, `the state counter moved on a refused request (${code})`);
  return res;
}
