/* src/proto/ops.h — the ECALL table: every request the host may send the core,
 * the fields each carries, and the status codes the core answers with.
 * This file is the whole interface between src/host and src/core.
 *
 * Conventions
 *  - Fixed-size binary fields are exactly that size; strings are printable
 *    ASCII without NUL; u32/u64 are big-endian (see frame.h).
 *  - A response echoes op and seq. status != TKMS_OK carries F_ERR_MSG
 *    (a human sentence without secrets) and nothing else.
 *
 * Mutations (INIT, KEY_CREATE, KEY_ROTATE, KEY_DESTROY, SESSION_OPEN,
 * SESSION_REVOKE, GOV_ANNOUNCE, GOV_CANCEL, MIGRATE_IMPORT, MIGRATE_FINISH) are two-phase, because
 * "acknowledged means durable":
 *   1. host -> core: the op.  The core checks authorisation, computes the new
 *      state, seals it, advances the platform's *prepared* counter P durably,
 *      stamps the new manifest with that P (so every manifest ever issued has
 *      its own value), and answers TKMS_OK with a *prepared transaction*:
 *      F_TXID, F_PUT* (records to write), F_DEL* (records to delete),
 *      F_MANIFEST (the new sealed manifest), F_DMK (INIT only), and the
 *      op's result fields. The core holds its mutation lock from here.
 *   2. host: writes puts/deletes/manifest (and public metadata derived from the
 *      result fields) in ONE storage transaction and makes it durable.
 *   3. host -> core: TKMS_OP_COMMIT {F_TXID} on the same socket. The core
 *      advances the platform's *committed* counter K to the manifest's value
 *      (durably), applies the change in memory, releases the lock and answers
 *      TKMS_OK. Only then does the host answer the client.
 *      If the storage write failed the host sends TKMS_OP_ABORT {F_TXID}
 *      instead and the core forgets the prepared change; its value of P stays
 *      burned, so its manifest can never be loaded once a later change commits.
 * At start-up LOAD_END accepts a stored manifest m iff K <= m <= P: m < K is
 * TKMS_E_ROLLBACK (an older state, an ABORTed or never-committed manifest),
 * m > P is TKMS_E_TAMPERED (never issued). K < m means the host stored a
 * change whose COMMIT the core did not see; the core sets K := m first.
 * The core refuses any other op on that socket between 1 and 3
 * (TKMS_E_BAD_REQUEST) and any mutation on other sockets waits for the lock.
 *
 * Record encoding (F_PUT / F_REC):  u8 type | u8 id_len (1..32) | id |
 *   u32 version | blob (the rest, sealed by the core, opaque to the host).
 * Record reference (F_DEL):          u8 type | u8 id_len | id.
 */
#ifndef TKMS_PROTO_OPS_H
#define TKMS_PROTO_OPS_H

/* ---- ops ---------------------------------------------------------------- */
enum {
  /* lifecycle (host only; never reachable from a client request) */
  TKMS_OP_STATUS = 0x01,       /* -> F_PLATFORM F_SIMULATED F_MEASUREMENT F_STATE
                                     F_COUNTER (committed) F_CORE_VERSION
                                     [F_DEPLOY_SALT F_IDENTITY F_SESSION_X25519 once
                                     the DMK is loaded]
                                     F_RT_SOURCE F_RT_TRUSTED [F_TIME] [F_RT_QUORUM]
                                     [F_RT_NOTE] (the core's clock) */
  TKMS_OP_INIT = 0x02,         /* [F_RT_CONFIG] -> prepared tx with F_DMK and F_MANIFEST,
                                     plus F_DEPLOY_SALT F_IDENTITY. Refused once ready. */
  TKMS_OP_LOAD_DMK = 0x03,     /* F_DMK -> ok | TKMS_E_UNSEAL */
  TKMS_OP_LOAD_RECORDS = 0x04, /* F_REC* (any number per frame) -> ok */
  TKMS_OP_LOAD_END = 0x05,     /* F_MANIFEST -> ok | TKMS_E_ROLLBACK (m < K) |
                                     TKMS_E_TAMPERED (m > P, or records do not match) |
                                     TKMS_E_NOT_ANNOUNCED (the governance record names
                                     another core as the deployment's holder);
                                     core is ready afterwards */
  TKMS_OP_COMMIT = 0x06,       /* F_TXID -> ok (K advanced) | TKMS_E_INTERNAL (fail-stop) */
  TKMS_OP_ABORT = 0x07,        /* F_TXID -> ok */

  /* key operations: each carries the authorisation fields below */
  TKMS_OP_KEY_CREATE = 0x10,     /* F_KEY_TYPE F_OWNER F_POLICY + auth -> prepared tx +
                                       F_KEY_ID F_VERSION F_PUBKEY [F_ADDRESS]
                                       [F_OPERATOR_ID] F_TIME. bn254: owner must be
                                       eoa:, at most one live bn254 key per owner
                                       (else TKMS_E_EXISTS) */
  TKMS_OP_KEY_SIGN = 0x11,       /* F_KEY_ID F_SIGN_MODE F_PAYLOAD F_VERSION (the version
                                       the owner signed for) F_BLOB (the blob part of the
                                       key's current record, from storage) + auth
                                       -> F_SIGNATURE F_VERSION [F_BN_POINT for
                                       bn254_hash / avs_registration] (not a
                                       mutation). bn254 modes: the payload is
                                       validated before the secret is opened. */
  TKMS_OP_KEY_ROTATE = 0x12,     /* F_KEY_ID + auth -> prepared tx + F_KEY_ID
                                       F_VERSION F_PUBKEY [F_ADDRESS]
                                       [F_OPERATOR_ID] F_TIME */
  TKMS_OP_KEY_DESTROY = 0x13,    /* F_KEY_ID + auth -> prepared tx + F_KEY_ID
                                       F_VERSION F_OWNER F_TIME F_RECEIPT_SIG */
  TKMS_OP_SESSION_OPEN = 0x14,   /* F_SESSION_KEY F_SCOPE_OP* F_SCOPE_KEY* F_EXPIRY
                                    + auth (owner only, F_SESSION_ID absent)
                                    -> prepared tx + F_SESSION_ID F_OWNER */
  TKMS_OP_SESSION_REVOKE = 0x15, /* F_TARGET_SESSION + auth (by the owner via
                                       F_OWNER, or by the session itself via
                                       F_SESSION_ID) -> prepared tx + F_TARGET_SESSION */

  /* attestation */
  TKMS_OP_ATTEST = 0x20, /* F_NONCE (32) -> F_EVIDENCE F_REPORT_DATA
                               F_MEASUREMENT F_PLATFORM F_SIMULATED
                               F_IDENTITY F_DEPLOY_SALT */

  /* EigenLayer BN254, stateless: no key, no authorisation, not a mutation */
  TKMS_OP_BN254_VERIFY = 0x30, /* F_PUBKEY (192: G1 || G2) F_PAYLOAD (32-byte message
                                     hash) F_SIGNATURE (64: G1 sigma) -> F_VALID, by
                                     BLSSignatureChecker's check (crypto/avs.h);
                                     an invalid point -> TKMS_E_BAD_REQUEST */

  /* trusted time (Roughtime; docs/trusted-time.md). The host only relays UDP. */
  TKMS_OP_TIME_REQUEST = 0x40,  /* -> F_RT_ADDRESS F_RT_PACKET, one pair per configured
                                      server in config order: fresh core-made nonces; a new
                                      request replaces the outstanding round. No servers
                                      configured -> TKMS_E_BAD_REQUEST */
  TKMS_OP_TIME_RESPONSE = 0x41, /* F_RT_REPLY* (whatever came back) -> ok + F_RT_QUORUM F_TIME
                                      F_RT_NOTE* | TKMS_E_TIME_NO_QUORUM (fewer than k
                                      verified replies agree, or no round is open / it
                                      expired; the round is closed either way) */
  /* governance, announced upgrades, migration to a successor core (core/governance.h).
   * ANNOUNCE and CANCEL carry M-of-N governor signatures instead of one owner's:
   * F_MEASUREMENT F_REQUEST_ID F_DEADLINE F_DEPLOYMENT F_GOV_SIG* (each governor signs
   * the EIP-712 AnnounceUpgrade / CancelUpgrade, proto/requests.c). Both are
   * mutations (prepared tx + COMMIT) writing the governance record (type 5). */
  TKMS_OP_GOV_ANNOUNCE = 0x48, /* -> prepared tx + F_GOV_ANNOUNCEMENT F_TIME |
                                    TKMS_E_GOV_QUORUM | TKMS_E_NOT_GOVERNED |
                                    TKMS_E_ALREADY_ANNOUNCED | TKMS_E_LIMIT */
  TKMS_OP_GOV_CANCEL = 0x49,   /* -> prepared tx + F_MEASUREMENT F_TIME |
                                    TKMS_E_NOT_ANNOUNCED | TKMS_E_GOV_QUORUM */
  TKMS_OP_GOV_STATUS = 0x4a,   /* -> F_GOV_MODE F_GOVERNOR* F_GOV_THRESHOLD F_GOV_DELAY
                                    F_GOV_ANNOUNCEMENT* [F_MEASUREMENT: the holder, the
                                    core that holds the deployment; absent if none is
                                    recorded] F_TIME (the core's now) */
  /* Migration (host only). B = the successor core (cannot unseal), A = the
   * current core (kept binary, started with --migrate-source). */
  TKMS_OP_MIGRATE_NONCE = 0x4b,  /* A: -> F_NONCE (fresh; one outstanding). NONCE and
                                      EXPORT: BAD_REQUEST unless A was started with
                                      --migrate-source (such a core refuses every client
                                      op with NOT_READY) */
  TKMS_OP_MIGRATE_OFFER = 0x4c,  /* B: F_NONCE (A's) -> F_MIGRATE_PK F_EVIDENCE
                                      F_MEASUREMENT; report data = SHA-512(
                                      "tkms-migrate-v1" || nonce || pk) */
  TKMS_OP_MIGRATE_EXPORT = 0x4d, /* A: F_MIGRATE_PK F_EVIDENCE (B's) -> F_MIGRATE_CT
                                      F_EVIDENCE (A's) F_DEPLOY_SALT F_MEASUREMENT (B's)
                                      F_GOV_MODE [F_GOV_ANNOUNCEMENT] |
                                      TKMS_E_NOT_ANNOUNCED | TKMS_E_TIMELOCK |
                                      TKMS_E_MIGRATION | TKMS_E_UNSUPPORTED */
  TKMS_OP_MIGRATE_IMPORT = 0x4e, /* B: F_MIGRATE_CT F_EVIDENCE (A's) F_DEPLOY_SALT ->
                                      prepared tx with F_DMK only (no manifest, no
                                      counter) + F_MEASUREMENT (A's) F_IDENTITY; after
                                      COMMIT the core is LOADING: LOAD_RECORDS and
                                      LOAD_END follow as usual | TKMS_E_MIGRATION */
  TKMS_OP_MIGRATE_FINISH = 0x4f, /* B, right after its LOAD_END: -> prepared tx (the
                                      governance record with holder = B; the counters
                                      move at COMMIT) + F_MEASUREMENT (B's). Until it
                                      commits B refuses every client op (NOT_READY).
                                      BAD_REQUEST on a core that did not import */
  /* key policy and its time-lock (core/key_policy.h, docs/policy.md) */
  TKMS_OP_POLICY_UPDATE = 0x50,      /* F_KEY_ID F_NEW_OWNER F_POLICY + auth (the owner in
                                          force; no session) -> prepared tx + F_KEY_ID
                                          F_APPLIED F_OWNER F_POLICY (in force now)
                                          [F_NEW_OWNER F_PENDING_POLICY F_ACCEPTED_AT
                                          F_EFFECTIVE_AT when pending] F_TIME. Narrowing
                                          only: applied at once (needs F_BLOB, the key's
                                          current record, to re-seal it). */
  TKMS_OP_POLICY_CANCEL = 0x51,      /* F_KEY_ID + auth (owner in force, no session) ->
                                          prepared tx + F_KEY_ID F_TIME */
  TKMS_OP_POLICY_GET = 0x52,         /* F_KEY_ID -> F_OWNER F_POLICY (in force at now)
                                          F_TIME [F_NEW_OWNER F_PENDING_POLICY
                                          F_ACCEPTED_AT F_EFFECTIVE_AT] (not a mutation) */
  TKMS_OP_POLICY_MATERIALISE = 0x53, /* F_KEY_ID F_BLOB, no auth: folds a due pending
                                          change into the key record -> prepared tx +
                                          F_KEY_ID F_OWNER F_TIME | TKMS_E_NO_PENDING_CHANGE
                                          | TKMS_E_CHANGE_NOT_DUE */
  TKMS_OP_POLICY_DUE = 0x54,         /* [F_CURSOR] -> F_KEY_ID* (keys whose pending change
                                          is due, at most TKMS_POLICY_DUE_MAX) F_CURSOR
                                          (where the next call goes on) F_TIME; no auth,
                                          reads only: the host's sweep materialises them */
  /* attested sessions (docs/attested-sessions.md) */
  TKMS_OP_ATTEST_CHALLENGE = 0x58,      /* -> F_NONCE (32, fresh, single use) F_EXPIRY
                                            (u64: unusable after this). Kept in core
                                            memory only (TKMS_MAX_CHALLENGES live,
                                            TKMS_CHALLENGE_TTL s); not a mutation. */
  TKMS_OP_SESSION_OPEN_ATTESTED = 0x59, /* F_ATT_FORMAT F_EVIDENCE F_COLLATERAL* F_NONCE
                                            F_SESSION_KEY F_EXPIRY F_SCOPE_KEY* (no
                                            signature envelope: the evidence authorises)
                                            -> prepared tx + F_SESSION_ID F_OWNER
                                            ("measurement:<tee>:0x<hex>") F_ATT_FORMAT
                                            F_ATT_MEASUREMENT F_ATT_SVN F_ATT_TCB_STATUS
                                            F_TIME (verified_at) F_EXPIRY (granted) */

  /* Number ranges by subsystem (ops, field tags and statuses alike), so that
   * work on one never renumbers another:
   *   trusted time (Roughtime)            ops 0x40-0x47  fields 0x60-0x67  statuses 24-27
   *   governance, upgrades, migration     ops 0x48-0x4f  fields 0x68-0x6f  statuses 28-33
   *   key policy and its time-lock        ops 0x50-0x57  fields 0x70-0x77  statuses 34-39
   *   attested sessions, gated key use    ops 0x58-0x5f  fields 0x78-0x7f  statuses 40-47 */
};

/* ---- field tags ---------------------------------------------------------- */
enum {
  TKMS_F_ERR_MSG = 0x01, /* str: human-readable reason, never secrets */

  /* authorisation envelope (all key operations) */
  TKMS_F_OWNER = 0x10,      /* str principal "eoa:0x<40 hex lower>" |
                                "ed25519:0x<64 hex lower>" */
  TKMS_F_REQUEST_ID = 0x11, /* 32 bytes */
  TKMS_F_DEADLINE = 0x12,   /* u64 unix seconds */
  TKMS_F_DEPLOYMENT = 0x13, /* 32 bytes: the deployment salt the client meant */
  TKMS_F_AUTH_SIG = 0x14,   /* 65 bytes r|s|v (v 27/28) or 64 bytes ed25519, or
                                32 bytes HMAC-SHA256 under a MAC session (sessions.h) */
  TKMS_F_SESSION_ID = 0x15, /* 16 bytes: request signed by this session's key */

  /* keys */
  TKMS_F_KEY_TYPE = 0x20,    /* str "secp256k1" | "ed25519" | "bn254" */
  TKMS_F_KEY_ID = 0x21,      /* 16 bytes */
  TKMS_F_VERSION = 0x22,     /* u32 */
  TKMS_F_PUBKEY = 0x23,      /* secp256k1: 33 bytes compressed; ed25519: 32 bytes;
                                 bn254: 192 = G1 (x||y) || G2 (x_imag||x_real||
                                 y_imag||y_real, precompile order) */
  TKMS_F_ADDRESS = 0x24,     /* 20 bytes (secp256k1 keys) */
  TKMS_F_SIGN_MODE = 0x25,   /* str "digest" | "personal" | "message" |
                                 bn254: "bn254_g1_mul" (payload G1 point, 64) |
                                 "bn254_hash" (payload 32-byte hash) |
                                 "avs_registration" (payload chain_id u256 (32)
                                 || registry coordinator address (20)) */
  TKMS_F_PAYLOAD = 0x26,     /* bytes, <= TKMS_MAX_PAYLOAD */
  TKMS_F_SIGNATURE = 0x27,   /* 65 bytes r|s|v (v 27/28), 64 bytes ed25519, or 64
                                 bytes bn254 (G1 point x||y) */
  TKMS_F_BLOB = 0x28,        /* a sealed record blob as stored */
  TKMS_F_TIME = 0x29,        /* u64 unix seconds: when the core applied it */
  TKMS_F_RECEIPT_SIG = 0x2a, /* 65 bytes: EIP-712 DeletionReceipt signed by the
                                 deployment identity key */
  TKMS_F_BN_POINT = 0x2b,    /* 64 bytes: the G1 point a bn254 key multiplied
                                 (hashToG1 of the hash / registration message) */
  TKMS_F_OPERATOR_ID = 0x2c, /* 32 bytes: keccak256(G1 pk), EigenLayer's operatorId */
  TKMS_F_VALID = 0x2d,       /* u32 0/1 */

  /* sessions */
  TKMS_F_SESSION_KEY = 0x30,    /* str principal of the delegate key; SESSION_OPEN
                                    also takes "x25519:0x<64 hex>" (a MAC session) */
  TKMS_F_SCOPE_OP = 0x31,       /* str, repeated: "create"|"sign"|"rotate"|"destroy" */
  TKMS_F_SCOPE_KEY = 0x32,      /* 16 bytes, repeated; none = all the owner's keys */
  TKMS_F_EXPIRY = 0x33,         /* u64 unix seconds */
  TKMS_F_TARGET_SESSION = 0x34, /* 16 bytes: session to revoke */

  /* transactions and state */
  TKMS_F_TXID = 0x40,     /* u64 */
  TKMS_F_PUT = 0x41,      /* record encoding, repeated */
  TKMS_F_DEL = 0x42,      /* record reference, repeated */
  TKMS_F_MANIFEST = 0x43, /* sealed manifest blob */
  TKMS_F_DMK = 0x44,      /* the deployment master key sealed by the platform */
  TKMS_F_REC = 0x45,      /* record encoding, repeated (LOAD_RECORDS) */

  /* status / attestation */
  TKMS_F_PLATFORM = 0x50,     /* str "sim" | "tpm2" | ... */
  TKMS_F_SIMULATED = 0x51,    /* u32 0/1 */
  TKMS_F_MEASUREMENT = 0x52,  /* 32 bytes */
  TKMS_F_STATE = 0x53,        /* u32 TKMS_STATE_* */
  TKMS_F_COUNTER = 0x54,      /* u64 */
  TKMS_F_CORE_VERSION = 0x55, /* str */
  TKMS_F_DEPLOY_SALT = 0x56,  /* 32 bytes: EIP-712 domain salt of this deployment */
  TKMS_F_IDENTITY = 0x57,     /* 20 bytes: address of the deployment identity key */
  TKMS_F_NONCE = 0x58,        /* 32 bytes */
  TKMS_F_EVIDENCE = 0x59,     /* bytes: platform evidence */
  TKMS_F_REPORT_DATA = 0x5a,  /* 64 bytes */

  /* trusted time */
  TKMS_F_RT_PACKET = 0x60,  /* bytes: a Roughtime request packet to send as one datagram */
  TKMS_F_RT_ADDRESS = 0x61, /* str "host:port" where to send it */
  TKMS_F_RT_REPLY = 0x62,   /* bytes: u8 server index (config order) | the datagram received */
  TKMS_F_RT_CONFIG = 0x63,  /* bytes (INIT, optional): Roughtime servers and quorum, see
                                core/clock.h; absent = no Roughtime */
  TKMS_F_RT_SOURCE = 0x64,  /* str (STATUS) "roughtime" | "host-sim" | "host-insecure" | "none" */
  TKMS_F_RT_TRUSTED = 0x65, /* u32 0/1 (STATUS): the time comes from a Roughtime quorum */
  TKMS_F_RT_QUORUM = 0x66,  /* 16 bytes: u64 time accepted | u32 servers agreeing | u32 radius
                                (STATUS, TIME_RESPONSE) */
  TKMS_F_RT_NOTE = 0x67,    /* str, repeated: one line per server / what the last round did */
  /* governance (INIT carries F_GOVERNOR* F_GOV_THRESHOLD F_GOV_DELAY, all optional:
   * none = a development deployment) */
  TKMS_F_GOV_SIG = 0x68,          /* 65 bytes r|s|v, repeated: governor signatures */
  TKMS_F_GOVERNOR = 0x69,         /* 20 bytes, repeated: a governor's address */
  TKMS_F_GOV_THRESHOLD = 0x6a,    /* u32 M */
  TKMS_F_GOV_DELAY = 0x6b,        /* u64 seconds: the upgrade time-lock */
  TKMS_F_GOV_ANNOUNCEMENT = 0x6c, /* 48 bytes: measurement (32) || u64 accepted_at
                                      || u64 effective_at, repeated */
  TKMS_F_MIGRATE_PK = 0x6d,       /* 32 bytes: the successor's ephemeral X25519 key */
  TKMS_F_MIGRATE_CT = 0x6e,       /* the DMK encrypted to F_MIGRATE_PK (104 bytes) */
  TKMS_F_GOV_MODE = 0x6f,         /* u32 TKMS_GOV_MODE_* */
  /* key policy (core/policy.h) */
  TKMS_F_POLICY = 0x70,         /* bytes: canonical policy (empty = default policy in
                                    KEY_CREATE, unchanged in POLICY_UPDATE) */
  TKMS_F_NEW_OWNER = 0x71,      /* str principal; "" in POLICY_UPDATE = unchanged */
  TKMS_F_ACCEPTED_AT = 0x72,    /* u64 unix seconds */
  TKMS_F_EFFECTIVE_AT = 0x73,   /* u64 unix seconds */
  TKMS_F_PENDING_POLICY = 0x74, /* bytes: canonical policy of the pending change */
  TKMS_F_APPLIED = 0x75,        /* u32 1 = applied at once, 0 = pending */
  TKMS_F_CURSOR = 0x76,         /* u64: POLICY_DUE's position in the core's index */
  /* attested sessions */
  TKMS_F_ATT_TEST_ROOT = 0x78,   /* u32 1: STATUS, the core trusts a DCAP test root (sim only) */
  TKMS_F_ATT_FORMAT = 0x79,      /* str "sgx" | "tdx" | "snp" | "nitro" | "tpm2" */
  TKMS_F_COLLATERAL = 0x7a,      /* repeated: u8 name_len (1..32) | name | data */
  TKMS_F_ATT_MEASUREMENT = 0x7b, /* bytes (32 or 48): the measurement a policy names */
  TKMS_F_ATT_SVN = 0x7c,         /* u32: sgx isvsvn, snp guest_svn (low 16 bits), else 0 */
  TKMS_F_ATT_TCB_STATUS = 0x7d,  /* str: "UpToDate", "OutOfDate", ... */

  /* MAC sessions (fields 0x80-0x87) */
  TKMS_F_SESSION_X25519 = 0x80, /* 32 bytes, STATUS: the deployment's session X25519 key */
};

/* F_GOV_MODE values. */
enum {
  TKMS_GOV_MODE_LEGACY = 0,      /* no governance record: made before governance existed;
                                    treated as development */
  TKMS_GOV_MODE_DEVELOPMENT = 1, /* no governors, delay 0 */
  TKMS_GOV_MODE_PRODUCTION = 2,  /* M-of-N governors and a delay */
};

/* Record types (the u8 in record encodings). */
enum {
  TKMS_REC_KEY = 1,           /* id = key id (16), version = key version */
  TKMS_REC_SESSION = 2,       /* id = session id (16) */
  TKMS_REC_NONCE = 3,         /* id = request id (32): replay protection */
  TKMS_REC_TIME = 4,          /* id = 0x01: Roughtime config + time floor (core/clock.h) */
  TKMS_REC_GOV = 5,           /* id = "g" (1 byte): the one governance record */
  TKMS_REC_POLICY_CHANGE = 6, /* id = key id (16): the key's pending policy change */
  TKMS_REC__MAX = 8,          /* record types are < this */
};

enum { TKMS_STATE_UNINITIALISED = 0, TKMS_STATE_LOADING = 1, TKMS_STATE_READY = 2 };

/* ---- status codes -------------------------------------------------------- */
/* The host maps each to an HTTP status and a snake_case code (src/host/errors.c);
 * docs/api.md lists them. Keep the three in step. */
enum {
  TKMS_OK = 0,
  TKMS_E_BAD_REQUEST = 1,       /* 400 bad_request */
  TKMS_E_BAD_SIGNATURE = 2,     /* 401 bad_signature: malformed or does not verify */
  TKMS_E_HIGH_S = 3,            /* 401 non_canonical_signature: s > n/2, v not 27/28 */
  TKMS_E_WRONG_SIGNER = 4,      /* 403 wrong_signer: valid signature, not the owner */
  TKMS_E_EXPIRED = 5,           /* 401 request_expired: deadline passed */
  TKMS_E_REPLAY = 6,            /* 403 replayed_request: request id already used */
  TKMS_E_WRONG_DEPLOYMENT = 7,  /* 403 wrong_deployment */
  TKMS_E_NOT_FOUND = 8,         /* 404 key_not_found */
  TKMS_E_SCOPE = 9,             /* 403 outside_session_scope */
  TKMS_E_SESSION_EXPIRED = 10,  /* 401 session_expired */
  TKMS_E_SESSION_UNKNOWN = 11,  /* 401 session_unknown: never opened or revoked */
  TKMS_E_DEADLINE_TOO_FAR = 12, /* 400 deadline_too_far */
  TKMS_E_UNSUPPORTED = 13,      /* 400 unsupported (e.g. mode not valid for key type) */
  TKMS_E_STALE_RECORD = 14,     /* 409 stale_record: blob is not the current version */
  TKMS_E_BUSY = 15,             /* 503 core_busy (retryable) */
  TKMS_E_NOT_READY = 16,        /* 503 core_unavailable (retryable) */
  TKMS_E_LIMIT = 17,            /* 429 limit_reached (too many sessions / nonces) */
  TKMS_E_UNSEAL = 18,           /* startup: sealed state cannot be opened here */
  TKMS_E_ROLLBACK = 19,         /* startup: manifest older than the counter */
  TKMS_E_TAMPERED = 20,         /* startup: records do not match the manifest */
  TKMS_E_INTERNAL = 21,         /* 500 internal */
  TKMS_E_WRONG_VERSION = 22,    /* 409 version_mismatch: signed for another key version */
  TKMS_E_EXISTS = 23,           /* 409 key_exists: the owner already has a live bn254 key */
  TKMS_E_TIME_UNAVAILABLE = 24, /* 503 time_unavailable (retryable): no trusted time yet */
  TKMS_E_TIME_NO_QUORUM = 25,   /* 503 time_no_quorum: a Roughtime round did not reach k */
  /* governance, upgrades, migration */
  TKMS_E_GOV_QUORUM = 28,        /* 403 governance_quorum: fewer than M governors signed */
  TKMS_E_TIMELOCK = 29,          /* 403 timelock_pending: announced, not yet effective */
  TKMS_E_NOT_ANNOUNCED = 30,     /* 403 upgrade_not_announced */
  TKMS_E_NOT_GOVERNED = 31,      /* 409 no_governance: a development deployment */
  TKMS_E_MIGRATION = 32,         /* 403 migration_refused: evidence or ciphertext wrong */
  TKMS_E_ALREADY_ANNOUNCED = 33, /* 409 already_announced */
  /* key policy: 34-39 */
  TKMS_E_CHANGE_PENDING = 34,    /* 409 change_pending: a policy change is already pending */
  TKMS_E_NO_PENDING_CHANGE = 35, /* 404 no_pending_change */
  TKMS_E_CHANGE_EFFECTIVE = 36,  /* 409 change_effective: too late to cancel */
  TKMS_E_KEY_EXPIRED = 37,       /* 403 key_expired: past the policy's not_after */
  TKMS_E_KEY_RATE_LIMITED = 38,  /* 429 key_rate_limited: the policy's rate_per_minute */
  TKMS_E_CHANGE_NOT_DUE = 39,    /* 409 change_not_due: materialise before effective_at */
  /* attested sessions and gated key use (docs/attested-sessions.md) */
  TKMS_E_STALE_NONCE = 40,             /* 401 stale_nonce: challenge unknown, used or expired */
  TKMS_E_EVIDENCE_INVALID = 41,        /* 401 evidence_invalid: the verifier refused */
  TKMS_E_SESSION_KEY_NOT_BOUND = 42,   /* 401 session_key_not_bound: report data mismatch */
  TKMS_E_DEBUG_NOT_ALLOWED = 43,       /* 403 debug_not_allowed */
  TKMS_E_MEASUREMENT_NOT_ALLOWED = 44, /* 403 measurement_not_allowed */
  TKMS_E_SVN_TOO_LOW = 45,             /* 403 svn_too_low */
  TKMS_E_TCB_STATUS_NOT_ALLOWED = 46,  /* 403 tcb_status_not_allowed */
  TKMS_E_ATTESTATION_REQUIRED = 47,    /* 403 attestation_required: owner signature refused */
  TKMS_E__COUNT = 48                   /* statuses are < this; ranges by subsystem above */
};

/* ---- limits shared by host and core -------------------------------------- */
#define TKMS_MAX_PAYLOAD 16384u /* bytes to sign in one request */
/* "ed25519:0x" + 64 hex = 74; "measurement:tdx:0x" + 96 hex = 114 */
#define TKMS_MAX_PRINCIPAL 120u
#define TKMS_MAX_DEADLINE_WINDOW 3600u /* a deadline at most 1 h ahead */
#define TKMS_MAX_SESSION_TTL (7u * 24u * 3600u)
#define TKMS_MAX_SCOPE_KEYS 64u
#define TKMS_MAX_SESSIONS 65536u         /* live sessions in a deployment */
#define TKMS_MAX_ATTESTED_SESSIONS 4096u /* of which attested sessions */
#define TKMS_KEY_ID_BYTES 16u
#define TKMS_SESSION_ID_BYTES 16u
#define TKMS_REQUEST_ID_BYTES 32u
#define TKMS_SALT_BYTES 32u
#define TKMS_GOV_MAX_GOVERNORS 8u               /* N */
#define TKMS_GOV_MAX_ANNOUNCEMENTS 8u           /* live announcements */
#define TKMS_GOV_MAX_DELAY (365u * 24u * 3600u) /* the upgrade time-lock: 1 year */
#define TKMS_GOV_MAX_SIGS 16u                   /* F_GOV_SIG per request */
#define TKMS_MIGRATE_CT_BYTES (32u + 32u + 40u) /* epk || AEAD(DMK) */
#define TKMS_POLICY_DUE_MAX 32u                 /* key ids one POLICY_DUE answer lists at most */
#define TKMS_MAX_CHALLENGES 4096u               /* live attestation challenges */
#define TKMS_CHALLENGE_TTL 300u                 /* seconds a challenge nonce stays usable */
#define TKMS_MAX_ATTESTED_TTL (24u * 3600u)     /* an attested session lives at most 24 h */
#define TKMS_MAX_EVIDENCE 65536u                /* bytes of evidence */
#define TKMS_MAX_COLLATERAL_ITEMS 16u
#define TKMS_MAX_COLLATERAL_ITEM 65536u /* bytes per collateral item */

#endif
