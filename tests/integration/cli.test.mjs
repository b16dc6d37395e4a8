// tests/integration/cli.test.mjs — the `tkms` command line (docs/api.md, CLI).
//
// Whatever the CLI signs or verifies is checked by independent code: ethers for
// EIP-712, EIP-191 and ECDSA recovery, @noble/curves for Ed25519. The first
// group needs no server (account files, --dry-run with a pinned deployment,
// offline receipt verification); the second runs the whole stack.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ethers } from 'ethers';
import { ed25519 } from '@noble/curves/ed25519';
import { start, makeTmpDir, TKMS_BIN } from './lib/server.mjs';

const hex = (u8) => '0x' + Buffer.from(u8).toString('hex');
const rand = (n) => hex(randomBytes(n));
const HEX = (n) => new RegExp(`^0x[0-9a-f]{${2 * n}}$`);

/** Runs build/tkms; resolves to {code, stdout, stderr, json (stdout parsed, or null)}. */
function tkms(args, { url, env = {}, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const e = { ...process.env, ...env };
    delete e.TKMS_DEPLOYMENT;
    if (url) e.TKMS_URL = url;
    const p = spawn(TKMS_BIN, args, { env: e, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = null;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** Like tkms() but the command must succeed. */
async function ok(args, opts) {
  const r = await tkms(args, opts);
  assert.equal(r.code, 0, `tkms ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r;
}

const RECEIPT_TYPES = {
  DeletionReceipt: [
    { name: 'keyId', type: 'bytes16' },
    { name: 'owner', type: 'string' },
    { name: 'version', type: 'uint32' },
    { name: 'destroyedAt', type: 'uint64' },
    { name: 'requestId', type: 'bytes32' },
  ],
};

/** What an EOA's typed data recovers to, using only ethers. */
function recoverTyped(td, signature) {
  const types = { ...td.types };
  delete types.EIP712Domain;
  return ethers.verifyTypedData(td.domain, types, td.message, signature);
}

/** The 66-byte preimage an Ed25519 principal signs: 0x1901 ‖ domainSeparator ‖ hashStruct. */
function preimage(td) {
  const types = { ...td.types };
  delete types.EIP712Domain;
  const sep = ethers.TypedDataEncoder.hashDomain(td.domain);
  const hs = ethers.TypedDataEncoder.from(types).hash(td.message);
  return ethers.getBytes(ethers.concat(['0x1901', sep, hs]));
}

// ---------------------------------------------------------------------------
describe('tkms CLI offline', () => {
  let dir;
  before(() => {
    dir = makeTmpDir('tkms-cli-');
  });

  test('--help works for every command; bad usage exits 2', async () => {
    for (const args of [
      ['--help'],
      ['dev-account', '--help'],
      ['dev-account', 'new', '--help'],
      ['dev-account', 'show', '--help'],
      ['key', '--help'],
      ['key', 'create', '--help'],
      ['key', 'list', '--help'],
      ['key', 'get', '--help'],
      ['key', 'sign', '--help'],
      ['key', 'rotate', '--help'],
      ['key', 'destroy', '--help'],
      ['receipt', '--help'],
      ['receipt', 'verify', '--help'],
    ]) {
      const r = await tkms(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /usage: tkms/);
    }
    for (const args of [
      [],
      ['frobnicate'],
      ['key'],
      ['key', 'frob'],
      ['key', 'get'],
      ['key', 'get', '0x1234'],
      ['key', 'get', '0x' + '00'.repeat(16), '--bogus'],
      ['key', 'create', '--type', 'secp256k1'],
      ['dev-account', 'new'],
      ['dev-account', 'new', '--out', path.join(dir, 'x.key'), '--type', 'rsa'],
      ['receipt', 'verify'],
    ]) {
      const r = await tkms(args);
      assert.equal(r.code, 2, `${args.join(' ')} should be a usage error: ${r.stderr}`);
    }
  });

  test('dev-account new: 0600 file, right address, never overwrites', async () => {
    const file = path.join(dir, 'dev.key');
    const r = await ok(['dev-account', 'new', '--out', file]);
    const address = r.stdout.trim();
    assert.match(address, HEX(20));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const acct = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(acct.type, 'secp256k1');
    assert.equal(acct.address, address);
    assert.match(acct.warning, /development/);
    assert.equal(new ethers.Wallet(acct.private_key).address.toLowerCase(), address);
    // The private key never reaches stdout or stderr.
    assert.ok(!r.stdout.includes(acct.private_key.slice(2)) && !r.stderr.includes(acct.private_key.slice(2)));

    const again = await tkms(['dev-account', 'new', '--out', file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists/);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), acct);

    const show = await ok(['dev-account', 'show', file]);
    assert.equal(show.stdout.trim(), address);

    // A file whose address does not match its key is refused.
    const bad = path.join(dir, 'bad.key');
    fs.writeFileSync(bad, JSON.stringify({ ...acct, address: '0x' + '11'.repeat(20) }), { mode: 0o600 });
    assert.equal((await tkms(['dev-account', 'show', bad])).code, 1);
  });

  test('dev-account new --type ed25519', async () => {
    const file = path.join(dir, 'ed.key');
    const r = await ok(['dev-account', 'new', '--out', file, '--type', 'ed25519']);
    const acct = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(acct.type, 'ed25519');
    assert.equal(r.stdout.trim(), acct.public_key);
    assert.equal(hex(ed25519.getPublicKey(ethers.getBytes(acct.private_key))), acct.public_key);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  test('--dry-run requests verify with ethers / noble (pinned deployment)', async () => {
    const salt = rand(32);
    const eoaFile = path.join(dir, 'dry.key');
    const edFile = path.join(dir, 'dry-ed.key');
    await ok(['dev-account', 'new', '--out', eoaFile]);
    await ok(['dev-account', 'new', '--out', edFile, '--type', 'ed25519']);
    const eoa = JSON.parse(fs.readFileSync(eoaFile, 'utf8'));
    const ed = JSON.parse(fs.readFileSync(edFile, 'utf8'));
    const keyId = rand(16);
    const pin = ['--deployment', salt, '--dry-run', '--url', 'http://127.0.0.1:9'];

    const cases = [
      [['key', 'create', '--type', 'secp256k1'], 'CreateKey', 'POST', '/v1/keys'],
      [['key', 'sign', keyId, '--mode', 'personal', '--data', 'hello', '--key-version', '3'], 'Sign', 'POST', `/v1/keys/${keyId}/sign`],
      [['key', 'rotate', keyId], 'RotateKey', 'POST', `/v1/keys/${keyId}/rotate`],
      [['key', 'destroy', keyId], 'DestroyKey', 'DELETE', `/v1/keys/${keyId}`],
    ];
    for (const [args, primary, method, p] of cases) {
      for (const [file, acct] of [
        [eoaFile, eoa],
        [edFile, ed],
      ]) {
        const { json: d } = await ok([...args, '--account', file, ...pin]);
        assert.equal(d.method, method);
        assert.equal(d.path, p);
        assert.equal(d.typed_data.primaryType, primary);
        assert.deepEqual(d.typed_data.domain, { name: 'tkms', version: '1', salt });
        assert.equal(d.body.deployment, salt);
        assert.equal(d.body.request_id, d.typed_data.message.requestId);
        assert.equal(d.body.deadline, d.typed_data.message.deadline);
        const now = Math.floor(Date.now() / 1000);
        assert.ok(d.body.deadline > now && d.body.deadline <= now + 3600);
        if (acct.type === 'secp256k1') {
          assert.match(d.body.signature, HEX(65));
          assert.equal(recoverTyped(d.typed_data, d.body.signature).toLowerCase(), acct.address);
        } else {
          assert.match(d.body.signature, HEX(64));
          assert.ok(ed25519.verify(ethers.getBytes(d.body.signature), preimage(d.typed_data), ethers.getBytes(acct.public_key)));
        }
        if (primary === 'CreateKey') {
          const principal = acct.type === 'secp256k1' ? `eoa:${acct.address}` : `ed25519:${acct.public_key}`;
          assert.equal(d.body.owner, principal);
          assert.equal(d.typed_data.message.owner, principal);
        }
        if (primary === 'Sign') {
          assert.equal(d.body.payload, hex(Buffer.from('hello')));
          assert.equal(d.typed_data.message.payload, d.body.payload);
          assert.equal(d.typed_data.message.keyId, keyId);
          assert.equal(d.typed_data.message.version, 3);
          assert.equal(d.body.version, 3);
        }
      }
    }
    // --hex and --file give the same payload as --data.
    const payloadFile = path.join(dir, 'payload.bin');
    fs.writeFileSync(payloadFile, 'hello');
    for (const src of [['--hex', hex(Buffer.from('hello'))], ['--file', payloadFile]]) {
      const { json: d } = await ok(['key', 'sign', keyId, '--account', eoaFile, '--mode', 'personal', ...src, '--key-version', '1', ...pin]);
      assert.equal(d.body.payload, hex(Buffer.from('hello')));
    }
    // digest mode needs exactly 32 bytes; exactly one payload source.
    assert.equal((await tkms(['key', 'sign', keyId, '--account', eoaFile, '--mode', 'digest', '--hex', '0x1234', ...pin])).code, 2);
    assert.equal((await tkms(['key', 'sign', keyId, '--account', eoaFile, '--mode', 'personal', ...pin])).code, 2);
    assert.equal(
      (await tkms(['key', 'sign', keyId, '--account', eoaFile, '--mode', 'personal', '--data', 'a', '--hex', '0x00', ...pin])).code,
      2,
    );
  });

  test('receipt verify: offline, against an ethers-signed receipt', async () => {
    const identity = ethers.Wallet.createRandom();
    const other = ethers.Wallet.createRandom();
    const salt = rand(32);
    const domain = { name: 'tkms', version: '1', salt };
    const receipt = {
      keyId: rand(16),
      owner: 'eoa:' + other.address.toLowerCase(),
      version: 2,
      destroyedAt: 1767222100,
      requestId: rand(32),
    };
    const receipt_signature = await identity.signTypedData(domain, RECEIPT_TYPES, receipt);
    const good = {
      key_id: receipt.keyId,
      state: 'destroyed',
      receipt,
      receipt_signature,
      signer: identity.address.toLowerCase(),
      domain,
    };
    const write = (name, obj) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
      return f;
    };
    const goodFile = write('r-good.json', good);
    const id = identity.address.toLowerCase();

    let r = await tkms(['receipt', 'verify', goodFile, '--identity', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.valid, true);
    assert.equal(r.json.signer, id);
    // Checksummed --identity is the same address.
    assert.equal((await tkms(['receipt', 'verify', goodFile, '--identity', identity.address])).code, 0);
    // Without --identity: compared with the file's signer, with a warning.
    r = await tkms(['receipt', 'verify', goodFile]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning/);
    // Someone else's identity.
    r = await tkms(['receipt', 'verify', goodFile, '--identity', other.address]);
    assert.equal(r.code, 1);
    assert.equal(r.json.valid, false);

    const tampered = [
      ['version', { ...good, receipt: { ...receipt, version: 3 } }],
      ['keyId', { ...good, key_id: rand(16), receipt: { ...receipt, keyId: rand(16) } }],
      ['owner', { ...good, receipt: { ...receipt, owner: 'eoa:0x' + '22'.repeat(20) } }],
      ['destroyedAt', { ...good, receipt: { ...receipt, destroyedAt: receipt.destroyedAt + 1 } }],
      ['requestId', { ...good, receipt: { ...receipt, requestId: rand(32) } }],
      ['salt', { ...good, domain: { ...domain, salt: rand(32) } }],
      ['domain name', { ...good, domain: { ...domain, name: 'other' } }],
      ['outer key_id', { ...good, key_id: rand(16) }],
      ['extra signed-looking field', { ...good, receipt: { ...receipt, note: 'x' } }],
      ['no signature', { ...good, receipt_signature: undefined }],
      ['short signature', { ...good, receipt_signature: receipt_signature.slice(0, 100) }],
    ];
    for (const [what, obj] of tampered) {
      const f = write(`r-${what.replace(/ /g, '_')}.json`, obj);
      r = await tkms(['receipt', 'verify', f, '--identity', id]);
      assert.equal(r.code, 1, `tampered ${what} should be invalid: ${r.stdout} ${r.stderr}`);
      // Even when the attacker also rewrites the file's signer, without --identity.
      if (r.json?.signer) {
        const f2 = write(`r2-${what.replace(/ /g, '_')}.json`, { ...obj, signer: identity.address.toLowerCase() });
        assert.equal((await tkms(['receipt', 'verify', f2])).code, 1, what);
      }
    }
    assert.equal((await tkms(['receipt', 'verify', write('r-notjson.json', 'not json'), '--identity', id])).code, 1);

    // No domain in the file: --salt is required, and must be the right one.
    const noDomain = write('r-nodomain.json', { ...good, domain: undefined });
    assert.equal((await tkms(['receipt', 'verify', noDomain, '--identity', id])).code, 2);
    assert.equal((await tkms(['receipt', 'verify', noDomain, '--identity', id, '--salt', salt])).code, 0);
    assert.equal((await tkms(['receipt', 'verify', noDomain, '--identity', id, '--salt', rand(32)])).code, 1);
    // Usage errors.
    assert.equal((await tkms(['receipt', 'verify', goodFile, '--identity', '0x1234'])).code, 2);
    assert.equal((await tkms(['receipt', 'verify', path.join(dir, 'missing.json')])).code, 2);
  });

  test('an unreachable service is an error, not a hang', async () => {
    const file = path.join(dir, 'unreach.key');
    await ok(['dev-account', 'new', '--out', file]);
    const r = await tkms(['key', 'create', '--account', file, '--type', 'secp256k1', '--url', 'http://127.0.0.1:9']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tkms:/);
  });
});

// ---------------------------------------------------------------------------
describe('tkms CLI against a running service', () => {
  let srv;
  let dir;
  let health;
  let run;
  before(async () => {
    srv = await start();
    dir = makeTmpDir('tkms-cli-srv-');
    health = await (await fetch(`${srv.url}/v1/health`)).json();
    run = (args) => tkms(args, { url: srv.url });
  });
  after(async () => {
    await srv?.stop();
  });

  test('secp256k1: create, list, get, sign, rotate, destroy, verify the receipt', async () => {
    const acctFile = path.join(dir, 'eoa.key');
    const address = (await ok(['dev-account', 'new', '--out', acctFile])).stdout.trim();
    const principal = `eoa:${address}`;

    const { json: key } = await run(['key', 'create', '--account', acctFile, '--type', 'secp256k1']).then((r) => {
      assert.equal(r.code, 0, r.stderr);
      return r;
    });
    assert.match(key.key_id, HEX(16));
    assert.equal(key.key_type, 'secp256k1');
    assert.equal(key.owner, principal);
    assert.equal(key.state, 'active');
    assert.equal(key.version, 1);
    assert.match(key.address, HEX(20));
    assert.equal(ethers.computeAddress(key.public_key).toLowerCase(), key.address);

    // list by owner (and by account), get
    let r = await run(['key', 'list', '--owner', principal]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json.keys.some((k) => k.key_id === key.key_id));
    r = await run(['key', 'list', '--account', acctFile, '--limit', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.keys.length, 1);
    r = await run(['key', 'get', key.key_id.toUpperCase().replace('0X', '0x')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.key_id, key.key_id);

    // personal_sign of "hello" verifies with ethers.verifyMessage
    r = await run(['key', 'sign', key.key_id, '--account', acctFile, '--mode', 'personal', '--data', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.json.signature, HEX(65));
    assert.equal(ethers.verifyMessage('hello', r.json.signature).toLowerCase(), key.address);

    // digest signing verifies with ethers.recoverAddress
    const digest = rand(32);
    r = await run(['key', 'sign', key.key_id, '--account', acctFile, '--mode', 'digest', '--hex', digest]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ethers.recoverAddress(digest, r.json.signature).toLowerCase(), key.address);

    // another account may not use the key: the server's error reaches stderr
    const strangerFile = path.join(dir, 'stranger.key');
    await ok(['dev-account', 'new', '--out', strangerFile]);
    r = await run(['key', 'sign', key.key_id, '--account', strangerFile, '--mode', 'personal', '--data', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrong_signer/);
    assert.match(r.stderr, /HTTP 403/);

    // rotate: version 2, new address signs from now on
    r = await run(['key', 'rotate', key.key_id, '--account', acctFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.version, 2);
    const newAddress = r.json.address;
    assert.notEqual(newAddress, key.address);
    r = await run(['key', 'sign', key.key_id, '--account', acctFile, '--mode', 'personal', '--data', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ethers.verifyMessage('hello', r.json.signature).toLowerCase(), newAddress);
    // a request signed for the old version is refused, not signed with the new key
    r = await run(['key', 'sign', key.key_id, '--account', acctFile, '--mode', 'personal', '--data', 'hello', '--key-version', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /version_mismatch/);

    // destroy: a receipt file that already exists is refused before anything happens
    const receiptFile = path.join(dir, 'receipt.json');
    fs.writeFileSync(receiptFile, 'occupied');
    r = await run(['key', 'destroy', key.key_id, '--account', acctFile, '--receipt-out', receiptFile]);
    assert.equal(r.code, 1);
    assert.equal((await run(['key', 'get', key.key_id])).json.state, 'active');
    fs.unlinkSync(receiptFile);

    r = await run(['key', 'destroy', key.key_id, '--account', acctFile, '--receipt-out', receiptFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.state, 'destroyed');
    const saved = JSON.parse(fs.readFileSync(receiptFile, 'utf8'));
    assert.deepEqual(saved.domain, { name: 'tkms', version: '1', salt: health.deployment.salt });
    assert.equal(saved.receipt.keyId, key.key_id);
    assert.equal(saved.receipt.owner, principal);
    assert.equal(saved.receipt.version, 2);
    // ethers agrees with the service's signer and the published identity
    const signer = ethers.verifyTypedData(saved.domain, RECEIPT_TYPES, saved.receipt, saved.receipt_signature);
    assert.equal(signer.toLowerCase(), health.deployment.identity_address.toLowerCase());

    r = await tkms(['receipt', 'verify', receiptFile, '--identity', health.deployment.identity_address]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.valid, true);

    // tampered receipts and a different identity are invalid
    const tamper = (name, f) => {
      const p = path.join(dir, name);
      const obj = structuredClone(saved);
      f(obj);
      fs.writeFileSync(p, JSON.stringify(obj));
      return p;
    };
    for (const p of [
      tamper('t-version.json', (o) => (o.receipt.version = 1)),
      tamper('t-keyid.json', (o) => {
        o.receipt.keyId = rand(16);
        o.key_id = o.receipt.keyId;
      }),
    ]) {
      r = await tkms(['receipt', 'verify', p, '--identity', health.deployment.identity_address]);
      assert.equal(r.code, 1, `${p}: ${r.stdout}`);
    }
    r = await tkms(['receipt', 'verify', receiptFile, '--identity', ethers.Wallet.createRandom().address]);
    assert.equal(r.code, 1);

    // the destroyed key can no longer sign
    r = await run(['key', 'sign', key.key_id, '--account', acctFile, '--mode', 'personal', '--data', 'hello']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /key_destroyed|key_not_found/);
  });

  test('ed25519 account owning an ed25519 key', async () => {
    const acctFile = path.join(dir, 'ed.key');
    const pub = (await ok(['dev-account', 'new', '--out', acctFile, '--type', 'ed25519'])).stdout.trim();
    const principal = `ed25519:${pub}`;

    let r = await run(['key', 'create', '--account', acctFile, '--type', 'ed25519']);
    assert.equal(r.code, 0, r.stderr);
    const key = r.json;
    assert.equal(key.owner, principal);
    assert.equal(key.key_type, 'ed25519');
    assert.match(key.public_key, HEX(32));

    const msg = 'hello from an ed25519 principal';
    r = await run(['key', 'sign', key.key_id, '--account', acctFile, '--mode', 'message', '--data', msg]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.json.signature, HEX(64));
    assert.ok(ed25519.verify(ethers.getBytes(r.json.signature), Buffer.from(msg), ethers.getBytes(key.public_key)));

    r = await run(['key', 'rotate', key.key_id, '--account', acctFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.version, 2);

    const receiptFile = path.join(dir, 'ed-receipt.json');
    r = await run(['key', 'destroy', key.key_id, '--account', acctFile, '--receipt-out', receiptFile]);
    assert.equal(r.code, 0, r.stderr);
    r = await tkms(['receipt', 'verify', receiptFile, '--identity', health.deployment.identity_address]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('--owner is signed for as given: a create for someone else is refused', async () => {
    const a = path.join(dir, 'owner-a.key');
    const b = path.join(dir, 'owner-b.key');
    await ok(['dev-account', 'new', '--out', a]);
    const bAddr = (await ok(['dev-account', 'new', '--out', b])).stdout.trim();
    // docs/api.md: CreateKey is signed by the owner, so a's signature cannot create b's key.
    const r = await run(['key', 'create', '--account', a, '--type', 'secp256k1', '--owner', `eoa:${bAddr}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrong_signer/);
    const mine = await run(['key', 'create', '--account', b, '--type', 'secp256k1', '--owner', `eoa:${bAddr}`]);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.json.owner, `eoa:${bAddr}`);
  });

  test('unknown key: the service error code reaches stderr', async () => {
    const r = await run(['key', 'get', rand(16)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /key_not_found/);
    assert.equal(r.stdout, '');
  });
});
