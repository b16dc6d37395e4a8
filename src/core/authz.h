/* src/core/authz.h — is this request allowed? Checked entirely inside the core.
 *
 * Order of checks, each with its own status (docs/api.md lists them):
 *   envelope fields present and well-formed        TKMS_E_BAD_REQUEST
 *   F_DEPLOYMENT is this deployment's salt          TKMS_E_WRONG_DEPLOYMENT
 *   deadline >= now                                 TKMS_E_EXPIRED
 *   deadline <= now + TKMS_MAX_DEADLINE_WINDOW      TKMS_E_DEADLINE_TOO_FAR
 *   mutations: request id never used                TKMS_E_REPLAY
 *   (the op's parse step: fields, key / target lookup)
 *   F_SESSION_ID names a live session               TKMS_E_SESSION_UNKNOWN
 *   ... that has not expired                        TKMS_E_SESSION_EXPIRED
 *   signature well-formed and valid                 TKMS_E_BAD_SIGNATURE
 *     (MAC session: 32-byte HMAC-SHA256 of the EIP-712 digest, sessions.h)
 *   low-s, v in {27,28}                             TKMS_E_HIGH_S
 *   signed by the owner (or the session key)        TKMS_E_WRONG_SIGNER
 *   session covers the op, the key and its owner    TKMS_E_SCOPE
 * Replay is checked before the subject is looked up, so a replayed destroy of a
 * key (or revoke of a session) that is gone now is still TKMS_E_REPLAY, not
 * NOT_FOUND. Saying "used" before the signature is checked reveals nothing: a
 * request id is 32 random bytes only the request's holder knows.
 * An Ed25519 signature by another key does not verify, so for Ed25519 signers a
 * wrong signer is reported as TKMS_E_BAD_SIGNATURE.
 *
 * What is signed: the EIP-712 struct of the op's request type (proto/requests.c),
 * its fields taken from the frame in the order the type lists them, in the domain
 * EIP712Domain(string name,string version,bytes32 salt) = ("tkms", "1", salt). */
#ifndef TKMS_CORE_AUTHZ_H
#define TKMS_CORE_AUTHZ_H
#include <stdint.h>

#include "core/op.h"

/* Parses the envelope into op and checks deployment and deadline. */
int tkms_authz_envelope(tkms_op *op);
/* The checks every signed request shares once its envelope is parsed (op->deadline
 * set): deployment is this deployment's salt, and the deadline is neither past nor
 * more than TKMS_MAX_DEADLINE_WINDOW ahead of op->now. Governance requests (M-of-N
 * signatures, their own envelope) use it too. */
int tkms_authz_deployment_deadline(tkms_op *op, const uint8_t deployment[TKMS_SALT_BYTES]);
/* Mutations: refuses a request id that is already a live nonce (TKMS_E_REPLAY). */
int tkms_authz_replay(tkms_op *op);
/* Checks session, signature and scope for ecall ec. */
int tkms_authz_verify(tkms_op *op, const tkms_ecall *ec);

/* hashStruct of the request in f as request type rt (TKMS_RT_*). Returns 0, or -1
 * if a field is missing, repeated or malformed (*bad names it). */
int tkms_request_hash_struct(const tkms_frame *f, int rt, uint8_t out[32], const char **bad);
#endif
