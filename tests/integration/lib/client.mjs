// tests/integration/lib/client.mjs — a small tkms client for tests.
//
// Request bodies are built from the domain and types served by GET /v1/eip712
// (never hard-coded here) and signed by independent code: ethers (EOA principals)
// and @noble/curves (Ed25519 principals, over 0x1901 ‖ domainSeparator ‖ hashStruct);
// MAC sessions with node:crypto only (X25519, HKDF, HMAC) and ethers' digest.
import http from 'node:http';
import crypto, { randomBytes } from 'node:crypto';
import { ethers } from 'ethers';
import { ed25519 } from '@noble/curves/ed25519';
import { encodePolicy } from './policy.mjs';

export const SECP256K1_N = BigInt(
  '0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141',
);

export const hex = (u8) => '0x' + Buffer.from(u8).toString('hex');
export const unhex = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/i, ''), 'hex'));
export const rand = (n) => hex(randomBytes(n));
export const now = () => Math.floor(Date.now() / 1000);

// ---- signers -------------------------------------------------------------

/** An Ethereum account principal ("eoa:0x<lowercase address>"), signing with ethers. */
export class EoaSigner {
  constructor(wallet = ethers.Wallet.createRandom()) {
    this.wallet = wallet;
    this.address = wallet.address;
    this.principal = 'eoa:' + wallet.address.toLowerCase();
    this.kind = 'eoa';
  }
  async signTyped(domain, types, primary, value) {
    return this.wallet.signTypedData(domain, { [primary]: types[primary] }, value);
  }
}

/** An Ed25519 principal ("ed25519:0x<pubkey>"), signing the 66-byte EIP-712 preimage with noble. */
export class Ed25519Signer {
  constructor(priv = ed25519.utils.randomPrivateKey()) {
    this.priv = priv;
    this.pub = ed25519.getPublicKey(priv);
    this.principal = 'ed25519:' + hex(this.pub);
    this.kind = 'ed25519';
  }
  static preimage(domain, types, primary, value) {
    const sep = ethers.TypedDataEncoder.hashDomain(domain);
    const hs = ethers.TypedDataEncoder.from({ [primary]: types[primary] }).hash(value);
    return ethers.getBytes(ethers.concat(['0x1901', sep, hs]));
  }
  async signTyped(domain, types, primary, value) {
    const pre = Ed25519Signer.preimage(domain, types, primary, value);
    if (pre.length !== 66) throw new Error('EIP-712 preimage is not 66 bytes');
    return hex(ed25519.sign(pre, this.priv));
  }
}

/**
 * A MAC session key ("x25519:0x<client public key>"): an X25519 key pair made by
 * node:crypto. Bound to a deployment (bind / Client.macSigner) it derives
 *   shared  = X25519(client_sk, core_pk)          (core_pk: /v1/health session_x25519)
 *   mac_key = HKDF-SHA256(shared, salt = deployment salt,
 *                         info = "tkms-session-mac-v1" || core_pk || client_pk)
 * and authenticates a request with HMAC-SHA256(mac_key, EIP-712 digest), 32 bytes,
 * the digest an EOA would sign (ethers TypedDataEncoder.hash). Sent with session_id.
 */
export class MacSessionSigner {
  constructor(keyPair = crypto.generateKeyPairSync('x25519')) {
    this.privateKey = keyPair.privateKey;
    this.publicKey = keyPair.publicKey;
    this.pub = Buffer.from(this.publicKey.export({ format: 'jwk' }).x, 'base64url');
    this.principal = 'x25519:' + hex(this.pub);
    this.kind = 'mac';
    this.macKey = null;
  }
  /** Derive the MAC key for a deployment: its session X25519 key and salt (0x hex). */
  bind(corePubHex, saltHex) {
    const corePub = Buffer.from(unhex(corePubHex));
    if (corePub.length !== 32) throw new Error('the core X25519 key is not 32 bytes');
    const core = crypto.createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: corePub.toString('base64url') },
      format: 'jwk',
    });
    const shared = crypto.diffieHellman({ privateKey: this.privateKey, publicKey: core });
    const info = Buffer.concat([Buffer.from('tkms-session-mac-v1'), corePub, this.pub]);
    this.macKey = Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.from(unhex(saltHex)), info, 32));
    shared.fill(0);
    return this;
  }
  static digest(domain, types, primary, value) {
    return ethers.TypedDataEncoder.hash(domain, { [primary]: types[primary] }, value);
  }
  async signTyped(domain, types, primary, value) {
    if (!this.macKey) throw new Error('MacSessionSigner: bind() it to a deployment first');
    const d = MacSessionSigner.digest(domain, types, primary, value);
    return hex(crypto.createHmac('sha256', this.macKey).update(unhex(d)).digest());
  }
}

// ---- HTTP ----------------------------------------------------------------

export const defaultAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP request. body: an object (sent as JSON), a string or a Buffer (sent as
 * is). Resolves to {status, json, text, headers}; rejects on connection errors
 * (err.code such as ECONNREFUSED / ECONNRESET) and on timeout (code ETIMEDOUT).
 */
export function httpRequest(baseUrl, method, path, body, opts = {}) {
  const u = new URL(path, baseUrl);
  let data = null;
  if (body !== undefined && body !== null) {
    data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  }
  const headers = { ...(opts.headers || {}) };
  if (data) {
    if (!('content-type' in headers) && opts.contentType !== null) {
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    if (headers['content-type'] === null) delete headers['content-type'];
    if (!('transfer-encoding' in headers)) headers['content-length'] = String(data.length);
  }
  const timeoutMs = opts.timeoutMs ?? 30000;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (fn, v) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        fn(v);
      }
    };
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: u.pathname + u.search,
        headers,
        agent: opts.agent ?? defaultAgent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (e) => done(reject, e));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          done(resolve, { status: res.statusCode, json, text, headers: res.headers });
        });
      },
    );
    const timer = setTimeout(() => {
      const e = new Error(`${method} ${path}: no answer within ${timeoutMs} ms`);
      e.code = 'ETIMEDOUT';
      req.destroy(e);
      done(reject, e);
    }, timeoutMs);
    // A server may answer (e.g. 413) and close before it read the whole body:
    // the response wins over the write error that follows.
    req.on('error', (e) => setTimeout(() => done(reject, e), 50));
    if (data) req.write(data);
    req.end();
  });
}

// ---- the client ----------------------------------------------------------

export class Client {
  constructor(url, opts = {}) {
    this.url = url;
    this.agent = opts.agent;
    this.timeoutMs = opts.timeoutMs ?? 30000;
  }

  /** Fetch /v1/health and /v1/eip712; must be called before building requests. */
  async init() {
    const h = await this.raw('GET', '/v1/health');
    if (h.status !== 200) throw new Error(`health: ${h.status} ${h.text}`);
    this.health = h.json;
    const e = await this.raw('GET', '/v1/eip712');
    if (e.status !== 200) throw new Error(`eip712: ${e.status} ${e.text}`);
    this.eip712 = e.json;
    this.domain = e.json.domain;
    this.types = e.json.types;
    this.salt = e.json.domain.salt;
    return this;
  }

  /** A new MAC session signer bound to this deployment (after init()). */
  macSigner(keyPair) {
    if (!this.health?.session_x25519) throw new Error('health has no session_x25519');
    return new MacSessionSigner(keyPair).bind(this.health.session_x25519, this.salt);
  }

  raw(method, path, body, opts = {}) {
    return httpRequest(this.url, method, path, body, {
      agent: this.agent,
      timeoutMs: this.timeoutMs,
      ...opts,
    });
  }

  /**
   * Build a signed request. fields: the typed-data message without requestId and
   * deadline; bodyFields: the JSON body without the envelope. opts: requestId,
   * deadline, deployment (signs in that domain and sends it), sessionId,
   * domainSalt / bodyDeployment (to make the two disagree).
   */
  async envelope(signer, primary, fields, bodyFields, opts = {}) {
    const requestId = opts.requestId ?? rand(32);
    const deadline = opts.deadline ?? now() + 300;
    const salt = opts.domainSalt ?? opts.deployment ?? this.salt;
    const domain = { ...this.domain, salt };
    const message = { ...fields, requestId, deadline };
    const signature = await signer.signTyped(domain, this.types, primary, message);
    const body = {
      ...bodyFields,
      request_id: requestId,
      deadline,
      deployment: opts.bodyDeployment ?? opts.deployment ?? this.salt,
      signature,
    };
    if (opts.sessionId) body.session_id = opts.sessionId;
    return { body, message, domain, primary };
  }

  // --- builders: return {method, path, body, message} without sending ---

  /** opts.policy: a policy object (docs/policy.md), sent as JSON and signed as its
   * canonical bytes (lib/policy.mjs); none = the default policy (signed as 0x).
   * opts.signedPolicy: sign these bytes instead (to make the two disagree). */
  async buildCreateKey(signer, keyType, opts = {}) {
    const owner = opts.owner ?? signer.principal;
    const policy = opts.signedPolicy ?? encodePolicy(opts.policy);
    const body = { key_type: keyType, owner };
    if (opts.policy !== undefined) body.policy = opts.policy;
    const r = await this.envelope(signer, 'CreateKey', { keyType, owner, policy }, body, opts);
    return { method: 'POST', path: '/v1/keys', ...r };
  }

  /** opts.version: the key version the request is signed for (default: the current one, asked from the service). */
  async buildSign(signer, keyId, mode, payload, opts = {}) {
    const version = opts.version ?? (await this.currentVersion(keyId));
    const r = await this.envelope(signer, 'Sign', { keyId, mode, payload, version }, { mode, payload, version }, opts);
    return { method: 'POST', path: `/v1/keys/${keyId}/sign`, ...r };
  }

  async buildRotate(signer, keyId, opts = {}) {
    const r = await this.envelope(signer, 'RotateKey', { keyId }, {}, opts);
    return { method: 'POST', path: `/v1/keys/${keyId}/rotate`, ...r };
  }

  async buildDestroy(signer, keyId, opts = {}) {
    const r = await this.envelope(signer, 'DestroyKey', { keyId }, {}, opts);
    return { method: 'DELETE', path: `/v1/keys/${keyId}`, ...r };
  }

  async buildOpenSession(owner, sessionKey, operations, keyIds, expiry, opts = {}) {
    const r = await this.envelope(
      owner,
      'OpenSession',
      { sessionKey, operations, keyIds, expiry },
      { session_key: sessionKey, operations, key_ids: keyIds, expiry, owner: opts.owner ?? owner.principal },
      opts,
    );
    return { method: 'POST', path: '/v1/sessions', ...r };
  }

  /** Revoke: signed by the owner (opts.owner, default signer.principal) or by the session key (opts.sessionId). */
  async buildRevokeSession(signer, sessionId, opts = {}) {
    const bodyFields = opts.sessionId ? {} : { owner: opts.owner ?? signer.principal };
    const r = await this.envelope(signer, 'RevokeSession', { sessionId }, bodyFields, opts);
    return { method: 'DELETE', path: `/v1/sessions/${sessionId}`, ...r };
  }

  /** UpdatePolicy: opts.newOwner (default "" = unchanged), opts.policy (a policy
   * object; absent = unchanged, signed as 0x), opts.signedPolicy to sign other bytes. */
  async buildUpdatePolicy(signer, keyId, opts = {}) {
    const newOwner = opts.newOwner ?? '';
    const policy = opts.signedPolicy ?? encodePolicy(opts.policy);
    const body = {};
    if (opts.newOwner !== undefined) body.new_owner = opts.newOwner;
    if (opts.policy !== undefined) body.policy = opts.policy;
    const r = await this.envelope(signer, 'UpdatePolicy', { keyId, newOwner, policy }, body, opts);
    return { method: 'POST', path: `/v1/keys/${keyId}/policy`, ...r };
  }

  async buildCancelPolicyChange(signer, keyId, opts = {}) {
    const r = await this.envelope(signer, 'CancelPolicyChange', { keyId }, {}, opts);
    return { method: 'DELETE', path: `/v1/keys/${keyId}/policy/pending`, ...r };
  }

  /** Send a built request (again, for replays). */
  async send(req) {
    const res = await this.raw(req.method, req.path, req.body);
    return { ...res, req };
  }

  // --- one-call helpers ---

  async createKey(signer, keyType = 'secp256k1', opts = {}) {
    return this.send(await this.buildCreateKey(signer, keyType, opts));
  }
  async sign(signer, keyId, mode, payload, opts = {}) {
    return this.send(await this.buildSign(signer, keyId, mode, payload, opts));
  }
  async updatePolicy(signer, keyId, opts = {}) {
    return this.send(await this.buildUpdatePolicy(signer, keyId, opts));
  }
  async cancelPolicyChange(signer, keyId, opts = {}) {
    return this.send(await this.buildCancelPolicyChange(signer, keyId, opts));
  }
  getPolicy(keyId) {
    return this.raw('GET', `/v1/keys/${keyId}/policy`);
  }
  async rotate(signer, keyId, opts = {}) {
    return this.send(await this.buildRotate(signer, keyId, opts));
  }
  async destroy(signer, keyId, opts = {}) {
    return this.send(await this.buildDestroy(signer, keyId, opts));
  }
  async openSession(owner, sessionKey, operations, keyIds, expiry, opts = {}) {
    return this.send(await this.buildOpenSession(owner, sessionKey, operations, keyIds, expiry, opts));
  }
  async revokeSession(signer, sessionId, opts = {}) {
    return this.send(await this.buildRevokeSession(signer, sessionId, opts));
  }
  /** The key's current version as GET /v1/keys/{id} reports it (1 for an unknown key, so refusals stay testable). */
  async currentVersion(keyId) {
    const r = await this.getKey(keyId);
    return r.status === 200 ? r.json.version : 1;
  }
  getKey(keyId) {
    return this.raw('GET', `/v1/keys/${keyId}`);
  }
  listKeys(owner, { limit, cursor } = {}) {
    const q = new URLSearchParams({ owner });
    if (limit !== undefined) q.set('limit', String(limit));
    if (cursor !== undefined && cursor !== null) q.set('cursor', cursor);
    return this.raw('GET', `/v1/keys?${q}`);
  }
  /** Every key of an owner, following next_cursor (bounded to maxPages). */
  async listAll(owner, { limit = 100, maxPages = 1000 } = {}) {
    const keys = [];
    let cursor = null;
    for (let i = 0; i < maxPages; i++) {
      const r = await this.listKeys(owner, { limit, cursor });
      if (r.status !== 200) throw new Error(`list ${owner}: ${r.status} ${r.text}`);
      keys.push(...r.json.keys);
      cursor = r.json.next_cursor;
      if (cursor === null || cursor === undefined) return keys;
    }
    throw new Error(`list ${owner}: more than ${maxPages} pages`);
  }
  async getHealth() {
    return this.raw('GET', '/v1/health');
  }
  attestation(nonce) {
    return this.raw('GET', nonce === undefined ? '/v1/attestation' : `/v1/attestation?nonce=${nonce}`);
  }
}

// ---- signature helpers -----------------------------------------------------

/** The high-s twin of a 65-byte r‖s‖v signature: s -> n - s, v 27 <-> 28. */
export function highSTwin(sigHex) {
  const b = unhex(sigHex);
  if (b.length !== 65) throw new Error('not a 65-byte signature');
  const s = BigInt(hex(b.slice(32, 64)));
  const s2 = SECP256K1_N - s;
  const out = new Uint8Array(65);
  out.set(b.slice(0, 32), 0);
  out.set(unhex(s2.toString(16).padStart(64, '0')), 32);
  out[64] = b[64] === 27 ? 28 : 27;
  return hex(out);
}

/** r, s, v of a 65-byte signature as BigInt/number. */
export function splitSig(sigHex) {
  const b = unhex(sigHex);
  return { r: BigInt(hex(b.slice(0, 32))), s: BigInt(hex(b.slice(32, 64))), v: b[64], len: b.length };
}

export function verifyEd25519(sigHex, msgHex, pubHex) {
  try {
    return ed25519.verify(unhex(sigHex), unhex(msgHex), unhex(pubHex), { zip215: false });
  } catch {
    return false;
  }
}

export { ethers, ed25519 };
