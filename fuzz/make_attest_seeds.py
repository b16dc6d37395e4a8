#!/usr/bin/env python3
"""fuzz/make_attest_seeds.py - writes synthetic, well-formed-looking seeds for the
attestation harnesses (fuzz_attest_snp, _nitro, _tpm2) into fuzz/seeds/. No real
evidence is copied: signatures and certificates are random bytes, so the seeds
reach the parsers and the first cryptographic check, not beyond it.
Layouts: src/attest/snp.c, nitro.c, tpm2_quote.h, sim_evidence.h."""
import os, struct, random

random.seed(4)
ROOT = os.path.join(os.path.dirname(__file__), "seeds")

def rnd(n): return bytes(random.getrandbits(8) for _ in range(n))

def write(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# SEV-SNP: version 2, ECDSA P-384, policy with DEBUG, a fake DER "VCEK" after it.
r = bytearray(0x4A0)
struct.pack_into("<IIQ", r, 0, 2, 0, 0xB0000)
struct.pack_into("<I", r, 0x34, 1)
r[0x50:0x90] = rnd(64); r[0x90:0xC0] = rnd(48); r[0x1A0:0x1E0] = rnd(64)
struct.pack_into("<Q", r, 0x180, 0x4405000000000002)
r[0x2A0:0x2D0] = rnd(48); r[0x2E8:0x318] = rnd(48)
write("fuzz_attest_snp", "report", bytes(r))
write("fuzz_attest_snp", "report_der", bytes(r) + b"\x30\x82\x01\x00" + rnd(256))
write("fuzz_attest_snp", "report_pem", bytes(r) + b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")

# Nitro: COSE_Sign1 over a payload with every field.
def head(mt, v):
    if v < 24: return bytes([mt << 5 | v])
    for ai, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if v < 1 << (8 * n): return bytes([mt << 5 | ai]) + v.to_bytes(n, "big")
def bstr(b): return head(2, len(b)) + b
def text(s): return head(3, len(s)) + s.encode()
def cmap(pairs): return head(5, len(pairs)) + b"".join(k + v for k, v in pairs)
pcrs = cmap([(head(0, i), bstr(rnd(48))) for i in range(16)])
fake_cert = lambda: b"\x30\x82\x01\x00" + rnd(256)
payload = cmap([(text("module_id"), text("i-0123456789abcdef0-enc0123456789abcdef")),
                (text("digest"), text("SHA384")),
                (text("timestamp"), head(0, 1725719859545)),
                (text("pcrs"), pcrs),
                (text("certificate"), bstr(fake_cert())),
                (text("cabundle"), head(4, 2) + bstr(fake_cert()) + bstr(fake_cert())),
                (text("public_key"), bstr(rnd(32))),
                (text("user_data"), bstr(rnd(64))),
                (text("nonce"), b"\xf6")])
prot = cmap([(head(0, 1), head(1, 34))])
doc = head(4, 4) + bstr(prot) + cmap([]) + bstr(payload) + bstr(rnd(96))
write("fuzz_attest_nitro", "tagged", b"\xd2" + doc)
write("fuzz_attest_nitro", "untagged", doc)

# TPM 2.0: TKMSTPM1 container, ECDSA P-256 / SHA-256.
att = struct.pack(">IH", 0xFF544347, 0x8018) + struct.pack(">H", 34) + b"\x00\x0b" + rnd(32)
att += struct.pack(">H", 32) + rnd(32) + struct.pack(">QIIB", 123456, 1, 0, 1)
att += struct.pack(">Q", 0x2000000000010203) + struct.pack(">IHB", 1, 0x000B, 3) + b"\xff\xff\xff"
att += struct.pack(">H", 32) + rnd(32)
sig = struct.pack(">HH", 0x0018, 0x000B) + struct.pack(">H", 32) + rnd(32) + struct.pack(">H", 32) + rnd(32)
write("fuzz_attest_tpm2", "quote_ecdsa", b"TKMSTPM1" + struct.pack(">H", len(att)) + att + struct.pack(">H", len(sig)) + sig)
sig = struct.pack(">HH", 0x0014, 0x000B) + struct.pack(">H", 256) + rnd(256)
write("fuzz_attest_tpm2", "quote_rsassa", b"TKMSTPM1" + struct.pack(">H", len(att)) + att + struct.pack(">H", len(sig)) + sig)
# Sim evidence shares the TPM harness.
write("fuzz_attest_tpm2", "sim", b"TKMS-SIM-EVIDENCE-v1" + rnd(192))
print("wrote attestation seeds to", ROOT)
