/* src/proto/requests.c — the EIP-712 request type table (see requests.h). */
#include "proto/requests.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const tkms_eip712_field create_key[] = {{"keyType", "string"},
                                               {"owner", "string"},
                                               {"policy", "bytes"},
                                               {"requestId", "bytes32"},
                                               {"deadline", "uint64"}};
static const tkms_eip712_field sign[] = {{"keyId", "bytes16"},     {"mode", "string"},
                                         {"payload", "bytes"},     {"version", "uint32"},
                                         {"requestId", "bytes32"}, {"deadline", "uint64"}};
static const tkms_eip712_field rotate_key[] = {
    {"keyId", "bytes16"}, {"requestId", "bytes32"}, {"deadline", "uint64"}};
static const tkms_eip712_field destroy_key[] = {
    {"keyId", "bytes16"}, {"requestId", "bytes32"}, {"deadline", "uint64"}};
static const tkms_eip712_field open_session[] = {
    {"sessionKey", "string"}, {"operations", "string[]"}, {"keyIds", "bytes16[]"},
    {"expiry", "uint64"},     {"requestId", "bytes32"},   {"deadline", "uint64"}};
static const tkms_eip712_field revoke_session[] = {
    {"sessionId", "bytes16"}, {"requestId", "bytes32"}, {"deadline", "uint64"}};
static const tkms_eip712_field deletion_receipt[] = {{"keyId", "bytes16"},
                                                     {"owner", "string"},
                                                     {"version", "uint32"},
                                                     {"destroyedAt", "uint64"},
                                                     {"requestId", "bytes32"}};
static const tkms_eip712_field upgrade[] = {
    {"measurement", "bytes32"}, {"requestId", "bytes32"}, {"deadline", "uint64"}};

static const tkms_eip712_field update_policy[] = {{"keyId", "bytes16"},
                                                  {"newOwner", "string"},
                                                  {"policy", "bytes"},
                                                  {"requestId", "bytes32"},
                                                  {"deadline", "uint64"}};
static const tkms_eip712_field cancel_policy_change[] = {
    {"keyId", "bytes16"}, {"requestId", "bytes32"}, {"deadline", "uint64"}};

const tkms_eip712_request_type tkms_eip712_request_types[TKMS_RT__COUNT] = {
    [TKMS_RT_CREATE_KEY] =
        {"CreateKey",
         "CreateKey(string keyType,string owner,bytes policy,bytes32 requestId,uint64 deadline)",
         "POST /v1/keys", create_key, N(create_key)},
    [TKMS_RT_SIGN] =
        {"Sign",
         "Sign(bytes16 keyId,string mode,bytes payload,uint32 version,bytes32 requestId,"
         "uint64 deadline)",
         "POST /v1/keys/{id}/sign", sign, N(sign)},
    [TKMS_RT_ROTATE_KEY] = {"RotateKey",
                            "RotateKey(bytes16 keyId,bytes32 requestId,uint64 deadline)",
                            "POST /v1/keys/{id}/rotate", rotate_key, N(rotate_key)},
    [TKMS_RT_DESTROY_KEY] = {"DestroyKey",
                             "DestroyKey(bytes16 keyId,bytes32 requestId,uint64 deadline)",
                             "DELETE /v1/keys/{id}", destroy_key, N(destroy_key)},
    [TKMS_RT_OPEN_SESSION] = {"OpenSession",
                              "OpenSession(string sessionKey,string[] operations,bytes16[] keyIds,"
                              "uint64 expiry,bytes32 requestId,uint64 deadline)",
                              "POST /v1/sessions", open_session, N(open_session)},
    [TKMS_RT_REVOKE_SESSION] =
        {"RevokeSession", "RevokeSession(bytes16 sessionId,bytes32 requestId,uint64 deadline)",
         "DELETE /v1/sessions/{id}", revoke_session, N(revoke_session)},
    [TKMS_RT_DELETION_RECEIPT] = {"DeletionReceipt",
                                  "DeletionReceipt(bytes16 keyId,string owner,uint32 version,"
                                  "uint64 destroyedAt,bytes32 requestId)",
                                  "(returned by DELETE /v1/keys/{id})", deletion_receipt,
                                  N(deletion_receipt)},
    [TKMS_RT_ANNOUNCE_UPGRADE] = {"AnnounceUpgrade",
                                  "AnnounceUpgrade(bytes32 measurement,bytes32 requestId,"
                                  "uint64 deadline)",
                                  "POST /v1/governance/announce", upgrade, N(upgrade)},
    [TKMS_RT_CANCEL_UPGRADE] = {"CancelUpgrade",
                                "CancelUpgrade(bytes32 measurement,bytes32 requestId,"
                                "uint64 deadline)",
                                "POST /v1/governance/cancel", upgrade, N(upgrade)},
    [TKMS_RT_UPDATE_POLICY] = {"UpdatePolicy",
                               "UpdatePolicy(bytes16 keyId,string newOwner,bytes policy,"
                               "bytes32 requestId,uint64 deadline)",
                               "POST /v1/keys/{id}/policy", update_policy, N(update_policy)},
    [TKMS_RT_CANCEL_POLICY_CHANGE] = {"CancelPolicyChange",
                                      "CancelPolicyChange(bytes16 keyId,bytes32 requestId,"
                                      "uint64 deadline)",
                                      "DELETE /v1/keys/{id}/policy/pending", cancel_policy_change,
                                      N(cancel_policy_change)},
};
