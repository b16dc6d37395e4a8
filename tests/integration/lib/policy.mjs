// tests/integration/lib/policy.mjs — a key policy's canonical bytes, written from
// the format in src/core/policy.h / docs/policy.md (not from the C encoder), so
// that what a client signs (the EIP-712 member `bytes policy`) is checked against
// what the service stores.
//
//   u8 1 | u32 delay_s | u8 flags (bit 0 require_attestation) | u32 rate_per_minute
//   | u64 not_after | u8 n | n x (u8 tee | u8 mlen | measurement | u16 min_svn
//   | u16 tcb_mask), entries sorted by (tee, mlen, measurement); big-endian.
// No policy (undefined / null) is the empty byte string: the default policy.

export const TEES = { sgx: [1, 32], tdx: [2, 48], snp: [3, 48], nitro: [4, 48], tpm2: [5, 32] };
export const TCB_STATUSES = [
  'NotApplicable',
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
];

function be(value, bytes) {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * bytes)) throw new RangeError(`${value} does not fit ${bytes} bytes`);
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The canonical bytes of a policy object as '0x…' hex ('0x' for none). */
export function encodePolicy(policy) {
  if (policy === undefined || policy === null) return '0x';
  const entries = (policy.software ?? []).map((s) => {
    const [tee, mlen] = TEES[s.tee] ?? [];
    if (tee === undefined) throw new Error(`unknown tee ${s.tee}`);
    const m = Buffer.from(String(s.measurement).replace(/^0x/, ''), 'hex');
    if (m.length !== mlen) throw new Error(`measurement of ${s.tee} is ${mlen} bytes`);
    let mask = 0;
    for (const st of s.tcb_statuses ?? []) {
      const bit = TCB_STATUSES.indexOf(st);
      if (bit < 0) throw new Error(`unknown TCB status ${st}`);
      mask |= 1 << bit;
    }
    // (tee, mlen, measurement) as one byte string sorts the same way
    const key = Uint8Array.from([tee, mlen, ...m]);
    return { key, bytes: Buffer.concat([key, be(s.min_svn ?? 0, 2), be(mask, 2)]) };
  });
  entries.sort((a, b) => compare(a.key, b.key));
  const parts = [
    Uint8Array.of(1),
    be(policy.delay_s ?? 0, 4),
    Uint8Array.of(policy.require_attestation ? 1 : 0),
    be(policy.rate_per_minute ?? 0, 4),
    be(policy.not_after ?? 0, 8),
    Uint8Array.of(entries.length),
    ...entries.map((e) => e.bytes),
  ];
  return '0x' + Buffer.concat(parts).toString('hex');
}

/** The JSON form of canonical bytes (what GET shows), for comparisons. */
export function decodePolicy(hex) {
  const b = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  if (b.length === 0) return decodePolicy(encodePolicy({}));
  if (b[0] !== 1) throw new Error('unknown policy format');
  const p = {
    delay_s: b.readUInt32BE(1),
    require_attestation: (b[5] & 1) === 1,
    rate_per_minute: b.readUInt32BE(6),
    not_after: Number(b.readBigUInt64BE(10)),
    software: [],
  };
  let off = 19;
  for (let i = 0; i < b[18]; i++) {
    const tee = Object.keys(TEES).find((k) => TEES[k][0] === b[off]);
    const mlen = b[off + 1];
    const measurement = '0x' + b.subarray(off + 2, off + 2 + mlen).toString('hex');
    const min_svn = b.readUInt16BE(off + 2 + mlen);
    const mask = b.readUInt16BE(off + 4 + mlen);
    p.software.push({ tee, measurement, min_svn, tcb_statuses: TCB_STATUSES.filter((_, k) => mask & (1 << k)) });
    off += 6 + mlen;
  }
  if (off !== b.length) throw new Error('trailing bytes');
  return p;
}
