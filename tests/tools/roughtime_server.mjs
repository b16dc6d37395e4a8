#!/usr/bin/env node
// tests/tools/roughtime_server.mjs — a small Roughtime responder for tests.
//
// Written from draft-ietf-ntp-roughtime-14 (version 0x8000000c) on its own —
// it shares no code with the C client in src/crypto/roughtime.c, so the two
// check each other. Ed25519 by @noble/curves, SHA-512 by node:crypto.
//
//   node tests/tools/roughtime_server.mjs [--port N] [--host 127.0.0.1]
//        [--key HEX32] [--offset SECONDS] [--radius SECONDS] [--bad-sig] [--wrong-nonce]
//
// --key is the 32-byte Ed25519 seed of the long-term key (random if absent).
// Lies: --offset reports a wrong but validly signed time; --bad-sig corrupts
// the response signature; --wrong-nonce answers with another nonce.
// Prints one line: "roughtime: listening on HOST:PORT public_key 0x..".
// Also importable: startResponder(opts) -> {port, publicKey, setOptions, close}.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519';

export const VERSION = 0x8000000c;
const MAGIC = Buffer.from('ROUGHTIM', 'latin1');

/** A tag from up to four ASCII characters, zero-padded, as a little-endian u32. */
export function tag(s) {
  const b = Buffer.alloc(4);
  b.write(s, 'latin1');
  return b.readUInt32LE(0);
}

const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};

/** Encodes {tagName: Buffer} as a Roughtime message (tags sorted numerically). */
export function encodeMessage(fields) {
  const entries = Object.entries(fields)
    .map(([k, v]) => [tag(k), v])
    .sort((a, b) => a[0] - b[0]);
  const n = entries.length;
  const offsets = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    if (entries[i][1].length % 4 !== 0) throw new Error('values must be multiples of 4 bytes');
    if (i > 0) offsets.push(u32(off));
    off += entries[i][1].length;
  }
  return Buffer.concat([u32(n), ...offsets, ...entries.map((e) => u32(e[0])), ...entries.map((e) => e[1])]);
}

/** Decodes a message into Map(tag -> Buffer); throws on anything malformed. */
export function decodeMessage(buf) {
  if (buf.length < 4 || buf.length % 4) throw new Error('bad message length');
  const n = buf.readUInt32LE(0);
  if (n < 1 || n > 64 || buf.length < 8 * n) throw new Error('bad tag count');
  const vals = 8 * n;
  const out = new Map();
  let prevTag = -1;
  for (let i = 0; i < n; i++) {
    const start = i === 0 ? 0 : buf.readUInt32LE(4 * i);
    const end = i === n - 1 ? buf.length - vals : buf.readUInt32LE(4 * (i + 1));
    const t = buf.readUInt32LE(4 * n + 4 * i);
    if (t <= prevTag || start % 4 || end < start || vals + end > buf.length) throw new Error('bad header');
    prevTag = t;
    out.set(t, buf.subarray(vals + start, vals + end));
  }
  return out;
}

function sha512trunc(...parts) {
  const h = crypto.createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, 32);
}

function sign(context, value, priv) {
  const msg = Buffer.concat([Buffer.from(context + '\0', 'latin1'), value]);
  return Buffer.from(ed25519.sign(msg, priv));
}

/** Builds the signed response to one request packet, or null to ignore it. */
export function respond(packet, st) {
  if (packet.length < 12 || !packet.subarray(0, 8).equals(MAGIC)) return null;
  if (packet.readUInt32LE(8) !== packet.length - 12) return null;
  let req;
  try {
    req = decodeMessage(packet.subarray(12));
  } catch {
    return null;
  }
  const nonce = req.get(tag('NONC'));
  const ver = req.get(tag('VER'));
  if (!nonce || nonce.length !== 32 || !ver) return null;
  let ok = false;
  for (let i = 0; i + 4 <= ver.length; i += 4) ok ||= ver.readUInt32LE(i) === VERSION;
  if (!ok) return null;
  // Single-request batch: the tree is one leaf, the whole request packet.
  const root = sha512trunc(Buffer.from([0]), packet);
  const midp = Math.floor(Date.now() / 1000) + st.offset;
  const srep = encodeMessage({
    VER: u32(VERSION),
    RADI: u32(st.radius),
    MIDP: u64(midp),
    VERS: u32(VERSION),
    ROOT: root,
  });
  const dele = encodeMessage({
    PUBK: Buffer.from(ed25519.getPublicKey(st.onlineKey)),
    MINT: u64(0),
    MAXT: u64(0xffffffffffffffffn),
  });
  const cert = encodeMessage({ SIG: sign('RoughTime v1 delegation signature', dele, st.longTermKey), DELE: dele });
  const sig = sign('RoughTime v1 response signature', srep, st.onlineKey);
  if (st.badSig) sig[0] ^= 0x01;
  const echoed = Buffer.from(nonce);
  if (st.wrongNonce) echoed[0] ^= 0xff;
  const msg = encodeMessage({
    SIG: sig,
    NONC: echoed,
    TYPE: u32(1),
    PATH: Buffer.alloc(0),
    SREP: srep,
    CERT: cert,
    INDX: u32(0),
  });
  const out = Buffer.concat([MAGIC, u32(msg.length), msg]);
  return out.length <= packet.length ? out : null; // never amplify
}

/**
 * Starts a responder on UDP. opts: {port=0, host='127.0.0.1', key (hex or
 * Buffer seed), offset=0, radius=3, badSig=false, wrongNonce=false}.
 */
export async function startResponder(opts = {}) {
  const seed = opts.key ? Buffer.from(String(opts.key).replace(/^0x/, ''), 'hex') : crypto.randomBytes(32);
  if (seed.length !== 32) throw new Error('--key must be 32 bytes of hex');
  const st = {
    longTermKey: seed,
    onlineKey: crypto.randomBytes(32),
    offset: Number(opts.offset || 0),
    radius: Number(opts.radius ?? 3),
    badSig: !!opts.badSig,
    wrongNonce: !!opts.wrongNonce,
    served: 0,
  };
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m, rinfo) => {
    const r = respond(m, st);
    if (r) {
      st.served++;
      sock.send(r, rinfo.port, rinfo.address);
    }
  });
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(opts.port || 0, opts.host || '127.0.0.1', resolve);
  });
  const publicKey = '0x' + Buffer.from(ed25519.getPublicKey(seed)).toString('hex');
  return {
    port: sock.address().port,
    publicKey,
    get served() {
      return st.served;
    },
    /** Changes how it lies from now on: {offset, badSig, wrongNonce, radius}. */
    setOptions(o) {
      if (o.offset !== undefined) st.offset = Number(o.offset);
      if (o.radius !== undefined) st.radius = Number(o.radius);
      if (o.badSig !== undefined) st.badSig = !!o.badSig;
      if (o.wrongNonce !== undefined) st.wrongNonce = !!o.wrongNonce;
    },
    close: () => new Promise((resolve) => sock.close(resolve)),
  };
}

async function main(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(val());
    else if (a === '--host') o.host = val();
    else if (a === '--key') o.key = val();
    else if (a === '--offset') o.offset = Number(val());
    else if (a === '--radius') o.radius = Number(val());
    else if (a === '--bad-sig') o.badSig = true;
    else if (a === '--wrong-nonce') o.wrongNonce = true;
    else throw new Error(`unknown option ${a}`);
  }
  const r = await startResponder(o);
  console.log(`roughtime: listening on ${o.host || '127.0.0.1'}:${r.port} public_key ${r.publicKey}`);
  const stop = () => r.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`roughtime_server: ${e.message}`);
    process.exit(2);
  });
}
