// clients/ts/src/index.ts — the tkms EigenLayer AVS client.
//
// Implements the operator KMS interface of seed 002:
//   createKey(eoa): Promise<void>
//   scalar_mul(eoa, hash: G1Point): Promise<{signature, g1, g2}>
// over tkms's HTTP API (/v1/avs/*, docs/api.md), plus the rest of that API: the
// key and its versions, message signing with hashToG1, EigenLayer registration
// parameters, rotation and verification.
//
// Every request that uses or changes an operator's key is EIP-712 typed data
// signed by that operator's account (any ethers v6 Signer: a Wallet, a
// JsonRpcSigner of a browser wallet or hardware wallet, a ganache account). The
// domain and the types are fetched from GET /v1/eip712, never hard-coded, so
// the wallet shows exactly the request tkms checks inside its trusted core.
//
// Points are 0x-prefixed 32-byte big-endian hex words. G2 points are in
// Solidity BN254.G2Point order: X = [x_imaginary, x_real], Y = [y_imaginary, y_real].

/** A G1 point: affine coordinates as 0x-prefixed 32-byte hex. */
export interface G1Point {
  X: string;
  Y: string;
}

/** A G2 point in Solidity G2Point order (imaginary part first). */
export interface G2Point {
  X: [string, string];
  Y: [string, string];
}

/** The seed's interface (002): what an AVS runbook needs from a KMS. */
export interface KeyManagementService {
  createKey(eoa: string): Promise<void>;
  scalar_mul(eoa: string, hash: G1Point): Promise<{ signature: G1Point; g1: G1Point; g2: G2Point }>;
}

/** An operator's BN254 key as tkms reports it. */
export interface OperatorKey {
  operator: string;
  keyId: string;
  version: number;
  g1: G1Point;
  g2: G2Point;
  /** keccak256(g1.X ‖ g1.Y), as EigenLayer computes operator ids. */
  operatorId: string;
  createdAt: number;
}

export interface OperatorKeyVersion {
  version: number;
  g1: G1Point;
  g2: G2Point;
  operatorId: string;
  createdAt: number;
  usable: boolean;
}

/** EigenLayer's IBLSApkRegistry.PubkeyRegistrationParams. */
export interface PubkeyRegistrationParams {
  pubkeyRegistrationSignature: G1Point;
  pubkeyG1: G1Point;
  pubkeyG2: G2Point;
}

/** What the client needs of a signer: ethers v6 Signer has both. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: Record<string, unknown>,
    types: Record<string, Array<{ name: string; type: string }>>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** A refusal by the service: HTTP status, the API's error code and message. */
export class TkmsError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryable: boolean;
  constructor(status: number, code: string, message: string, retryable = false) {
    super(`tkms: ${status} ${code}: ${message}`);
    this.name = 'TkmsError';
    this.status = status;
    this.code = code;
    this.retryable = retryable;
  }
}

export interface ClientOptions {
  /** The service, e.g. "http://127.0.0.1:8420". */
  url: string;
  /**
   * The operators' signers: one signer, several, or a function from an
   * operator address to its signer. A request for an operator without a
   * signer fails before anything is sent.
   */
  signers: TypedDataSigner | TypedDataSigner[] | ((eoa: string) => TypedDataSigner | undefined);
  /** Seconds a signed request stays valid (at most 3600; default 300). */
  deadlineSeconds?: number;
  /** fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Per-request timeout in milliseconds (default 30000). */
  timeoutMs?: number;
}

type Json = Record<string, unknown>;
type Types = Record<string, Array<{ name: string; type: string }>>;

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const MAX_DEADLINE = 3600;

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return '0x' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function normAddress(eoa: string): string {
  if (typeof eoa !== 'string' || !ADDRESS.test(eoa)) {
    throw new TypeError(`not an Ethereum address: ${String(eoa)}`);
  }
  return eoa.toLowerCase();
}

function word(v: string, what: string): string {
  if (typeof v !== 'string' || !HEX32.test(v)) {
    throw new TypeError(`${what} must be 0x + 64 hex digits`);
  }
  return v.toLowerCase();
}

function g1Words(p: G1Point, what: string): string {
  return word(p.X, `${what}.X`).slice(2) + word(p.Y, `${what}.Y`).slice(2);
}

export class TkmsAvsClient implements KeyManagementService {
  private readonly url: string;
  private readonly fetchFn: typeof fetch;
  private readonly deadlineSeconds: number;
  private readonly timeoutMs: number;
  private readonly signerFor: (eoa: string) => Promise<TypedDataSigner>;
  private domain?: Json;
  private types?: Types;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('no fetch available: pass opts.fetch');
    this.fetchFn = f;
    this.deadlineSeconds = opts.deadlineSeconds ?? 300;
    if (!(this.deadlineSeconds > 0 && this.deadlineSeconds <= MAX_DEADLINE)) {
      throw new RangeError(`deadlineSeconds must be in (0, ${MAX_DEADLINE}]`);
    }
    this.timeoutMs = opts.timeoutMs ?? 30000;
    this.signerFor = signerLookup(opts.signers);
  }

  // ---- the seed's interface ---------------------------------------------------

  /** Creates the operator's BN254 key inside tkms. The secret never leaves it. */
  async createKey(eoa: string): Promise<void> {
    await this.createOperatorKey(eoa);
  }

  /** sk·hash for the operator's current key, with its public keys. */
  async scalar_mul(
    eoa: string,
    hash: G1Point,
  ): Promise<{ signature: G1Point; g1: G1Point; g2: G2Point }> {
    const payload = '0x' + g1Words(hash, 'hash');
    const r = await this.signed(eoa, '/v1/avs/scalar_mul', 'bn254_g1_mul', payload, {
      hash: { X: hash.X.toLowerCase(), Y: hash.Y.toLowerCase() },
    });
    return { signature: r.signature as G1Point, g1: r.g1 as G1Point, g2: r.g2 as G2Point };
  }

  // ---- the rest of the API ----------------------------------------------------

  /** Creates the operator's key and returns it (409 key_exists if it has one). */
  async createOperatorKey(eoa: string): Promise<OperatorKey> {
    const op = normAddress(eoa);
    const owner = `eoa:${op}`;
    // policy: the key's policy as canonical bytes; 0x = the default policy
    // (docs/policy.md). The body sends none, which the service reads as 0x.
    const env = await this.envelope(op, 'CreateKey', { keyType: 'bn254', owner, policy: '0x' });
    return toKey(await this.call('POST', '/v1/avs/keys', { eoa: op, ...env }));
  }

  /** The operator's current key and all its versions (404 key_not_found if none). */
  async getKey(eoa: string): Promise<OperatorKey & { versions: OperatorKeyVersion[] }> {
    const r = await this.call('GET', `/v1/avs/keys/${normAddress(eoa)}`);
    const versions = Array.isArray(r.versions) ? (r.versions as Json[]) : [];
    return {
      ...toKey(r),
      versions: versions.map((v) => ({
        version: Number(v.version),
        g1: v.g1 as G1Point,
        g2: v.g2 as G2Point,
        operatorId: String(v.operator_id),
        createdAt: Number(v.created_at),
        usable: v.usable === true,
      })),
    };
  }

  /** BLS signature over a 32-byte message hash: sk·hashToG1(messageHash) (BN254.sol). */
  async signMessageHash(
    eoa: string,
    messageHash: string,
  ): Promise<{ signature: G1Point; messagePoint: G1Point; g1: G1Point; g2: G2Point }> {
    const h = word(messageHash, 'messageHash');
    const r = await this.signed(eoa, '/v1/avs/sign', 'bn254_hash', h, { message_hash: h });
    return {
      signature: r.signature as G1Point,
      messagePoint: r.message_point as G1Point,
      g1: r.g1 as G1Point,
      g2: r.g2 as G2Point,
    };
  }

  /**
   * EigenLayer PubkeyRegistrationParams for registering the operator with the
   * registry coordinator at `registryCoordinator` on chain `chainId`. tkms
   * computes pubkeyRegistrationMessageHash(operator) itself; the operator is the
   * key's owner, not a parameter anyone else can choose.
   */
  async registrationParams(
    eoa: string,
    chainId: bigint | number,
    registryCoordinator: string,
  ): Promise<{ params: PubkeyRegistrationParams; messageHash: G1Point }> {
    const cid = BigInt(chainId);
    if (cid < 0n || cid >= 1n << 256n) throw new RangeError('chainId out of range');
    const rc = normAddress(registryCoordinator);
    const payload = '0x' + cid.toString(16).padStart(64, '0') + rc.slice(2);
    const r = await this.signed(eoa, '/v1/avs/registration', 'avs_registration', payload, {
      chain_id: cid.toString(10),
      registry_coordinator: rc,
    });
    const p = r.params as Json;
    return {
      params: {
        pubkeyRegistrationSignature: p.pubkeyRegistrationSignature as G1Point,
        pubkeyG1: p.pubkeyG1 as G1Point,
        pubkeyG2: p.pubkeyG2 as G2Point,
      },
      messageHash: r.message_hash as G1Point,
    };
  }

  /** Replaces the operator's key by a new version; the old one can no longer sign. */
  async rotateKey(eoa: string): Promise<OperatorKey> {
    const op = normAddress(eoa);
    const key = await this.getKey(op);
    const env = await this.envelope(op, 'RotateKey', { keyId: key.keyId });
    return toKey(await this.call('POST', `/v1/avs/keys/${op}/rotate`, env));
  }

  /** EigenLayer's BLS signature check (BLSSignatureChecker), done by tkms. */
  async verify(g1: G1Point, g2: G2Point, messageHash: string, signature: G1Point): Promise<boolean> {
    const r = await this.call('POST', '/v1/avs/verify', {
      g1,
      g2,
      message_hash: word(messageHash, 'messageHash'),
      signature,
    });
    return r.valid === true;
  }

  // ---- plumbing ----------------------------------------------------------------

  /** A Sign request for the operator's current key version. */
  private async signed(
    eoa: string,
    path: string,
    mode: string,
    payload: string,
    fields: Json,
  ): Promise<Json> {
    const op = normAddress(eoa);
    const key = await this.getKey(op);
    const env = await this.envelope(op, 'Sign', {
      keyId: key.keyId,
      mode,
      payload,
      version: key.version,
    });
    return this.call('POST', path, { eoa: op, ...fields, version: key.version, ...env });
  }

  /** request_id, deadline, deployment and the operator's EIP-712 signature. */
  private async envelope(eoa: string, primary: string, message: Json): Promise<Json> {
    const { domain, types } = await this.eip712();
    const fields = types[primary];
    if (!fields) throw new Error(`the service has no EIP-712 type ${primary}`);
    const signer = await this.signerFor(eoa);
    const requestId = randomHex(32);
    const deadline = Math.floor(Date.now() / 1000) + this.deadlineSeconds;
    const value = { ...message, requestId, deadline };
    const signature = await signer.signTypedData(domain, { [primary]: fields }, value);
    return { request_id: requestId, deadline, deployment: domain.salt, signature };
  }

  private async eip712(): Promise<{ domain: Json; types: Types }> {
    if (this.domain === undefined || this.types === undefined) {
      const r = await this.call('GET', '/v1/eip712');
      const domain = r.domain as Json | undefined;
      const types = r.types as Types | undefined;
      if (!domain || !types || typeof domain.salt !== 'string') {
        throw new Error('the service answered /v1/eip712 without a domain and types');
      }
      this.domain = domain;
      this.types = types;
    }
    return { domain: this.domain, types: this.types };
  }

  private async call(method: string, path: string, body?: Json): Promise<Json> {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchFn(this.url + path, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: ctl.signal,
      });
    } finally {
      clearTimeout(t);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new TkmsError(res.status, 'invalid_response', `not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = ((json as Json)?.error ?? {}) as Json;
      throw new TkmsError(
        res.status,
        String(e.code ?? 'http_error'),
        String(e.message ?? text.slice(0, 200)),
        e.retryable === true,
      );
    }
    return json as Json;
  }
}

function toKey(r: Json): OperatorKey {
  return {
    operator: String(r.operator),
    keyId: String(r.key_id),
    version: Number(r.version),
    g1: r.g1 as G1Point,
    g2: r.g2 as G2Point,
    operatorId: String(r.operator_id),
    createdAt: Number(r.created_at),
  };
}

function signerLookup(s: ClientOptions['signers']): (eoa: string) => Promise<TypedDataSigner> {
  if (typeof s === 'function') {
    return async (eoa) => {
      const found = s(eoa);
      if (!found) throw new Error(`no signer for operator ${eoa}`);
      return found;
    };
  }
  const list = Array.isArray(s) ? s : [s];
  const byAddress = new Map<string, TypedDataSigner>();
  return async (eoa) => {
    if (byAddress.size === 0) {
      for (const x of list) byAddress.set((await x.getAddress()).toLowerCase(), x);
    }
    const found = byAddress.get(eoa.toLowerCase());
    if (!found) throw new Error(`no signer for operator ${eoa}`);
    return found;
  };
}
