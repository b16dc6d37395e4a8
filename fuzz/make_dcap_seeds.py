#!/usr/bin/env python3
"""fuzz/make_dcap_seeds.py - writes small synthetic seeds for the attestation
harnesses: structurally valid Intel DCAP quotes (SGX v3, TDX v4, TDX v5 with a
TD 1.5 body) with random signatures and a short PEM chain into
fuzz/seeds/fuzz_attest_dcap/, and TCB info / QE identity documents shaped like
Intel's into fuzz/seeds/fuzz_attest_json/. Nothing is copied from the shared
vectors (they stay outside the repository); with --vectors DIR CORPUS the real
quotes and collateral are copied into a local corpus directory instead.
Layout: ../shared/PROTOCOLS.md, src/attest/dcap_quote.h."""
import json, os, random, shutil, struct, sys

random.seed(4)
HERE = os.path.dirname(os.path.abspath(__file__))
VENDOR = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n\0"

def rnd(n): return bytes(random.getrandbits(8) for _ in range(n))

def header(version, tee):
    return struct.pack("<HHIHH", version, 2, tee, 8, 13) + VENDOR + rnd(20)

def qe_part():
    auth = rnd(32)
    return rnd(384) + rnd(64) + struct.pack("<H", len(auth)) + auth + struct.pack("<HI", 5, len(PEM)) + PEM

def sig_data(inner):
    s = rnd(64) + rnd(64) + inner
    return struct.pack("<I", len(s)) + s

def quote_v3():
    return header(3, 0) + rnd(384) + sig_data(qe_part())

def quote_v4():
    qe = qe_part()
    return header(4, 0x81) + rnd(584) + sig_data(struct.pack("<HI", 6, len(qe)) + qe)

def quote_v5():
    qe = qe_part()
    return header(5, 0x81) + struct.pack("<HI", 3, 648) + rnd(648) + sig_data(struct.pack("<HI", 6, len(qe)) + qe)

def comps(n): return [{"svn": n} for _ in range(16)]

def tcb_info(tdx):
    level = {"tcb": {"sgxtcbcomponents": comps(2), "pcesvn": 11}, "tcbDate": "2024-03-13T00:00:00Z",
             "tcbStatus": "UpToDate"}
    if tdx:
        level["tcb"]["tdxtcbcomponents"] = comps(1)
    old = json.loads(json.dumps(level))
    old["tcbStatus"] = "OutOfDate"
    old["advisoryIDs"] = ["INTEL-SA-00615"]
    body = {"id": "TDX" if tdx else "SGX", "version": 3, "issueDate": "2025-06-19T10:56:11Z",
            "nextUpdate": "2025-07-19T10:56:11Z", "fmspc": "00A067110000", "pceId": "0000",
            "tcbType": 0, "tcbEvaluationDataNumber": 17, "tcbLevels": [level, old]}
    if tdx:
        mod = {"mrsigner": "00" * 48, "attributes": "00" * 8, "attributesMask": "FF" * 8}
        body["tdxModule"] = mod
        body["tdxModuleIdentities"] = [dict(mod, id="TDX_01", tcbLevels=[
            {"tcb": {"isvsvn": 4}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "UpToDate"}])]
    return {"tcbInfo": body, "signature": "00" * 64}

def qe_identity():
    body = {"id": "QE", "version": 2, "issueDate": "2025-06-19T10:01:18Z",
            "nextUpdate": "2025-07-19T10:01:18Z", "tcbEvaluationDataNumber": 17,
            "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
            "attributes": "11" + "00" * 15, "attributesMask": "FBFFFFFFFFFFFFFF" + "00" * 8,
            "mrsigner": "8C" * 32, "isvprodid": 1,
            "tcbLevels": [{"tcb": {"isvsvn": 8}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "UpToDate"}]}
    return {"enclaveIdentity": body, "signature": "00" * 64}

def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

if len(sys.argv) == 4 and sys.argv[1] == "--vectors":
    src, corpus = sys.argv[2], sys.argv[3]
    for sub in ("dcap-qvl", "go-tdx-guest"):
        for n in os.listdir(os.path.join(src, "attestation", sub)):
            shutil.copy(os.path.join(src, "attestation", sub, n), os.path.join(corpus, sub + "_" + n))
    sys.exit(0)

dcap = os.path.join(HERE, "seeds", "fuzz_attest_dcap")
write(dcap, "sgx_v3", quote_v3())
write(dcap, "tdx_v4", quote_v4())
write(dcap, "tdx_v5", quote_v5())
js = os.path.join(HERE, "seeds", "fuzz_attest_json")
write(js, "tcb_info_sgx", json.dumps(tcb_info(False), separators=(",", ":")).encode())
write(js, "tcb_info_tdx", json.dumps(tcb_info(True), separators=(",", ":")).encode())
write(js, "qe_identity", json.dumps(qe_identity(), separators=(",", ":")).encode())
write(js, "escapes", b'{"a":"\\u00e9\\n","b":[1,-2.5e+3,true,false,null],"c":{}}')
