#!/usr/bin/env python3
"""fuzz/make_seeds.py - writes well-formed frames for every core op into
fuzz/seeds/fuzz_core_dispatch/, so the fuzzer starts inside each handler's field
parsing instead of at the frame parser. Signatures are random: these seeds reach
authorisation, not beyond it. Layout: src/proto/frame.h; ops and tags: src/proto/ops.h."""
import os, struct, random

random.seed(1)
OUT = os.path.join(os.path.dirname(__file__), "seeds", "fuzz_core_dispatch")
F = dict(OWNER=0x10, REQUEST_ID=0x11, DEADLINE=0x12, DEPLOYMENT=0x13, AUTH_SIG=0x14,
         SESSION_ID=0x15, KEY_TYPE=0x20, KEY_ID=0x21, PUBKEY=0x23, SIGN_MODE=0x25, PAYLOAD=0x26,
         SIGNATURE=0x27, BLOB=0x28, SESSION_KEY=0x30, SCOPE_OP=0x31, SCOPE_KEY=0x32, EXPIRY=0x33,
         TARGET_SESSION=0x34, TXID=0x40, MANIFEST=0x43, DMK=0x44, REC=0x45, NONCE=0x58,
         POLICY=0x70, NEW_OWNER=0x71)

def rnd(n): return bytes(random.getrandbits(8) for _ in range(n))
def field(tag, val): return struct.pack(">BI", tag, len(val)) + val
def u64(v): return struct.pack(">Q", v)
def frame(op, fields): return struct.pack(">BHHI", 1, op, 0, 7) + b"".join(field(t, v) for t, v in fields)

eoa = b"eoa:0x" + rnd(20).hex().encode()
auth = [(F["REQUEST_ID"], rnd(32)), (F["DEADLINE"], u64(2_000_000_000)),
        (F["DEPLOYMENT"], rnd(32)), (F["AUTH_SIG"], rnd(65))]
seeds = {
    "status": frame(0x01, []),
    "init": frame(0x02, []),
    "load_dmk": frame(0x03, [(F["DMK"], rnd(72))]),
    "load_records": frame(0x04, [(F["REC"], bytes([1, 16]) + rnd(16) + struct.pack(">I", 1) + rnd(120))]),
    "load_end": frame(0x05, [(F["MANIFEST"], rnd(90))]),
    "commit": frame(0x06, [(F["TXID"], u64(1))]),
    "abort": frame(0x07, [(F["TXID"], u64(1))]),
    "create": frame(0x10, [(F["KEY_TYPE"], b"secp256k1"), (F["OWNER"], eoa), (F["POLICY"], b"")] + auth),
    "sign": frame(0x11, [(F["KEY_ID"], rnd(16)), (F["SIGN_MODE"], b"personal"),
                         (F["PAYLOAD"], b"hello"), (F["BLOB"], rnd(140))] + auth),
    "sign_session": frame(0x11, [(F["KEY_ID"], rnd(16)), (F["SIGN_MODE"], b"digest"),
                                 (F["PAYLOAD"], rnd(32)), (F["BLOB"], rnd(140)),
                                 (F["SESSION_ID"], rnd(16))] + auth),
    "rotate": frame(0x12, [(F["KEY_ID"], rnd(16))] + auth),
    "destroy": frame(0x13, [(F["KEY_ID"], rnd(16))] + auth),
    "session_open": frame(0x14, [(F["OWNER"], eoa), (F["SESSION_KEY"], b"ed25519:0x" + rnd(32).hex().encode()),
                                 (F["SCOPE_OP"], b"sign"), (F["SCOPE_KEY"], rnd(16)),
                                 (F["EXPIRY"], u64(2_000_000_000))] + auth),
    "session_revoke": frame(0x15, [(F["TARGET_SESSION"], rnd(16)), (F["OWNER"], eoa)] + auth),
    "attest": frame(0x20, [(F["NONCE"], rnd(32))]),
    # bn254 (EigenLayer) keys: create, the three sign modes, and the stateless verify.
    # The G1 generator (1, 2) is a valid point, so bn254_g1_mul reaches past its checks.
    "create_bn254": frame(0x10, [(F["KEY_TYPE"], b"bn254"), (F["OWNER"], eoa), (F["POLICY"], b"")] + auth),
    "sign_bn254_g1_mul": frame(0x11, [(F["KEY_ID"], rnd(16)), (F["SIGN_MODE"], b"bn254_g1_mul"),
                                      (F["PAYLOAD"], (1).to_bytes(32, "big") + (2).to_bytes(32, "big")),
                                      (F["BLOB"], rnd(300))] + auth),
    "sign_bn254_hash": frame(0x11, [(F["KEY_ID"], rnd(16)), (F["SIGN_MODE"], b"bn254_hash"),
                                    (F["PAYLOAD"], rnd(32)), (F["BLOB"], rnd(300))] + auth),
    "sign_avs_registration": frame(0x11, [(F["KEY_ID"], rnd(16)), (F["SIGN_MODE"], b"avs_registration"),
                                          (F["PAYLOAD"], (17000).to_bytes(32, "big") + rnd(20)),
                                          (F["BLOB"], rnd(300))] + auth),
    "bn254_verify": frame(0x30, [(F["PUBKEY"], (1).to_bytes(32, "big") + (2).to_bytes(32, "big") + rnd(128)),
                                 (F["PAYLOAD"], rnd(32)),
                                 (F["SIGNATURE"], (1).to_bytes(32, "big") + (2).to_bytes(32, "big"))]),
}
# key policies (docs/policy.md): a full canonical policy with two tdx entries
POLICY = (bytes([1]) + struct.pack(">IBIQ", 3600, 0, 60, 0) + bytes([2])
          + bytes([2, 48]) + bytes([0x10] * 48) + struct.pack(">HH", 0, 2)
          + bytes([2, 48]) + bytes([0x20] * 48) + struct.pack(">HH", 1, 6))
seeds.update({
    "create_policy": frame(0x10, [(F["KEY_TYPE"], b"ed25519"), (F["OWNER"], eoa), (F["POLICY"], POLICY)] + auth),
    "policy_update": frame(0x50, [(F["KEY_ID"], rnd(16)), (F["NEW_OWNER"], eoa), (F["POLICY"], POLICY),
                                  (F["BLOB"], rnd(200))] + auth),
    "policy_cancel": frame(0x51, [(F["KEY_ID"], rnd(16))] + auth),
    "policy_get": frame(0x52, [(F["KEY_ID"], rnd(16))]),
    "policy_materialise": frame(0x53, [(F["KEY_ID"], rnd(16)), (F["BLOB"], rnd(200))]),
})
# attested sessions (ops 0x58-0x59, fields 0x78-0x7f): appended after the others so
# the earlier seeds stay byte-identical.
F.update(ATT_FORMAT=0x79, COLLATERAL=0x7a, EVIDENCE=0x59)
seeds["attest_challenge"] = frame(0x58, [])
seeds["session_open_attested"] = frame(0x59, [
    (F["ATT_FORMAT"], b"tdx"), (F["EVIDENCE"], rnd(600)),
    (F["COLLATERAL"], bytes([8]) + b"tcb_info" + b'{"id":"TDX"}'),
    (F["COLLATERAL"], bytes([7]) + b"pck_crl" + rnd(64)),
    (F["NONCE"], rnd(32)), (F["SESSION_KEY"], b"ed25519:0x" + rnd(32).hex().encode()),
    (F["EXPIRY"], u64(2_000_000_000)), (F["SCOPE_KEY"], rnd(16))])
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
