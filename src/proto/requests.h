/* src/proto/requests.h — the EIP-712 types of client requests.
 *
 * One primary type per operation so a wallet shows what is being signed. The
 * core hashes requests with these exact encodeType strings; the host serves the
 * same table at GET /v1/eip712; the CLI signs with it. Domain:
 *   EIP712Domain(string name,string version,bytes32 salt)
 *   name = "tkms", version = "1", salt = the deployment salt (/v1/health).
 * EOA principals sign the EIP-712 digest (65-byte r‖s‖v); Ed25519 principals
 * sign the 66-byte preimage 0x19 0x01 ‖ domainSeparator ‖ hashStruct. */
#ifndef TKMS_PROTO_REQUESTS_H
#define TKMS_PROTO_REQUESTS_H
#include <stddef.h>

#define TKMS_EIP712_NAME "tkms"
#define TKMS_EIP712_VERSION "1"
#define TKMS_EIP712_DOMAIN_TYPE "EIP712Domain(string name,string version,bytes32 salt)"

typedef struct {
  const char *name; /* field name as in the typed data */
  const char *type; /* solidity type */
} tkms_eip712_field;

typedef struct {
  const char *primary;     /* e.g. "CreateKey" */
  const char *encode_type; /* the exact encodeType string hashed into typeHash */
  const char *route;       /* the HTTP route it authorises, for /v1/eip712 */
  const tkms_eip712_field *fields;
  size_t n_fields;
} tkms_eip712_request_type;

/* Indices into tkms_eip712_request_types[]. */
enum {
  TKMS_RT_CREATE_KEY = 0,
  TKMS_RT_SIGN,
  TKMS_RT_ROTATE_KEY,
  TKMS_RT_DESTROY_KEY,
  TKMS_RT_OPEN_SESSION,
  TKMS_RT_REVOKE_SESSION,
  TKMS_RT_DELETION_RECEIPT, /* signed by the deployment identity, not by clients */
  TKMS_RT_ANNOUNCE_UPGRADE, /* signed by M of the deployment's governors */
  TKMS_RT_CANCEL_UPGRADE,   /* signed by M of the deployment's governors */
  TKMS_RT_UPDATE_POLICY,
  TKMS_RT_CANCEL_POLICY_CHANGE,
  TKMS_RT__COUNT
};

extern const tkms_eip712_request_type tkms_eip712_request_types[TKMS_RT__COUNT];
#endif
