// tests/integration/evidence_cli.test.mjs — `tkms evidence verify` (offline) on
// the real Intel SGX and TDX quotes in ../shared/vectors/attestation/, at their
// pinned times, and on corrupted copies made in a temporary directory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTmpDir, TKMS_BIN } from './lib/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VECTORS = process.env.TKMS_VECTORS || path.join(ROOT, '..', 'shared', 'vectors');
const QVL = path.join(VECTORS, 'attestation', 'dcap-qvl');
const GTG = path.join(VECTORS, 'attestation', 'go-tdx-guest');

function evidence(args) {
  const r = spawnSync(TKMS_BIN, ['evidence', 'verify', ...args], { encoding: 'utf8', timeout: 60000 });
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = null;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

describe('tkms evidence verify', () => {
  test('SGX quote v3 with dcap-qvl collateral at its pinned time', () => {
    const r = evidence([
      '--at', '2025-07-01T00:00:00Z',
      '--collateral', path.join(QVL, 'sgx_quote_collateral.json'),
      path.join(QVL, 'sgx_quote'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.valid, true);
    assert.equal(r.json.format, 'sgx');
    assert.equal(r.json.tcb_status, 'ConfigurationAndSWHardeningNeeded');
    assert.deepEqual(r.json.advisories, ['INTEL-SA-00289', 'INTEL-SA-00615']);
    assert.equal(r.json.debug, false);
    assert.equal(r.json.verified_at_unix, 1751328000);
    assert.equal(
      r.json.measurements.mrenclave,
      '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb',
    );
    assert.equal(Buffer.from(r.json.report_data, 'hex').subarray(0, 13).toString(), 'Hello, world!');
  });

  test('a corrupted copy of the SGX quote is refused with the signature reason', () => {
    const dir = makeTmpDir('tkms-evidence-');
    const q = fs.readFileSync(path.join(QVL, 'sgx_quote'));
    q[112] ^= 1; // MRENCLAVE
    const file = path.join(dir, 'sgx_quote_corrupt');
    fs.writeFileSync(file, q);
    const r = evidence([
      '--at', '1751328000', '--format', 'sgx',
      '--collateral', path.join(QVL, 'sgx_quote_collateral.json'), file,
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.json.valid, false);
    assert.equal(r.json.error, 'signature');
    assert.match(r.stderr, /REFUSED \(signature\)/);
    assert.equal(r.json.measurements, undefined);
  });

  test('collateral past its nextUpdate is refused as expired', () => {
    const r = evidence([
      '--at', '2025-08-01T00:00:00Z',
      '--collateral', path.join(QVL, 'sgx_quote_collateral.json'),
      path.join(QVL, 'sgx_quote'),
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.json.error, 'expired');
  });

  test('TDX quote v4 is UpToDate', () => {
    const r = evidence([
      '--at', '2025-07-01T00:00:00Z',
      '--collateral', path.join(QVL, 'tdx_quote_collateral.json'),
      path.join(QVL, 'tdx_quote'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.format, 'tdx');
    assert.equal(r.json.tcb_status, 'UpToDate');
    assert.equal(r.json.measurements.mrtd.length, 96);
  });

  test('go-tdx-guest set from a directory of named items: no TCB level matches', () => {
    const dir = makeTmpDir('tkms-evidence-');
    const items = {
      'tcb_info.json': 'sample_tcbInfo_response',
      'tcb_info_issuer_chain.pem': 'tcbInfoIssuerChain.pem',
      'qe_identity.json': 'sample_qeIdentity_response',
      'qe_identity_issuer_chain.pem': 'qeIdentityIssuerChain.pem',
      'pck_crl.der': 'pckcrl',
      'root_ca_crl.der': 'rootcrl.der',
      'root_ca.pem': 'trusted_root.pem',
    };
    for (const [to, from] of Object.entries(items)) fs.copyFileSync(path.join(GTG, from), path.join(dir, to));
    const r = evidence([
      '--at', '2023-07-01T01:00:00Z', '--collateral', dir,
      path.join(GTG, 'tdx_prod_quote_SPR_E4.dat'),
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.json.error, 'tcb_unmatched');
    assert.equal(r.json.tcb_status, 'NoMatch');
    assert.equal(r.json.measurements.tee_tcb_svn, '03000400000000000000000000000000');
  });

  test('usage errors exit 2', () => {
    assert.equal(evidence(['--at', 'yesterday', path.join(QVL, 'sgx_quote')]).code, 2);
    assert.equal(evidence(['--format', 'pdf', path.join(QVL, 'sgx_quote')]).code, 2);
    assert.equal(evidence([]).code, 2);
  });
});
