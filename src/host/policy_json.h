/* src/host/policy_json.h — a key policy between its JSON form (docs/policy.md)
 * and its canonical bytes (the F_POLICY field, signed by the client as the
 * EIP-712 member `bytes policy`). The host only translates: the core decodes
 * the bytes again strictly and decides. Layout (restated from core/policy.h,
 * which the host may not include):
 *   u8 1 | u32 delay_s | u8 flags (bit 0 require_attestation) | u32 rate_per_minute
 *   | u64 not_after | u8 n | n x (u8 tee | u8 mlen | measurement | u16 min_svn
 *   | u16 tcb_mask), entries sorted by (tee, mlen, measurement), big-endian.
 * JSON: {"delay_s":0,"require_attestation":false,"rate_per_minute":0,"not_after":0,
 *        "software":[{"tee":"tdx","measurement":"0x..","min_svn":0,
 *                     "tcb_statuses":["UpToDate"]}]}
 * every member optional (0 / false / [] when absent), nothing else allowed. */
#ifndef TKMS_HOST_POLICY_JSON_H
#define TKMS_HOST_POLICY_JSON_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "host/json.h"

#define TKMS_POLICY_JSON_ENC_MAX (19u + 8u * 54u)

/* Encodes the JSON object v (NULL: absent -> *n = 0, empty bytes). Entries are
 * sorted here; a repeated entry is refused. Returns 0 or -1 (e filled, code
 * "bad_request"). */
int tkms_policy_json_encode(const json_t *v, const char *name, uint8_t *out, size_t cap, size_t *n,
                            tkms_json_err *e);
/* The JSON form of canonical bytes (n == 0: the default policy). NULL if
 * malformed or out of memory. */
json_t *tkms_policy_json_decode(const uint8_t *b, size_t n);
#endif
