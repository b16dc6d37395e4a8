/* src/host/time_relay.h — relays Roughtime UDP for the core. The host decides
 * nothing: the core makes the requests (with its own nonces), verifies the
 * replies and counts the quorum. The host can only delay or drop datagrams. */
#ifndef TKMS_HOST_TIME_RELAY_H
#define TKMS_HOST_TIME_RELAY_H
#include <stddef.h>
#include <stdint.h>

#include "host/core.h"

#define TKMS_RT_RELAY_DEFAULT_S 60u
#define TKMS_RT_RELAY_WAIT_MS 2000u /* how long one round waits for replies */

typedef struct tkms_time_relay tkms_time_relay;

/* Reads --roughtime-config FILE ({"quorum":k,"servers":[{"name","address",
 * "public_key":"0x.."}]}) and/or --insecure-host-time into the binary
 * F_RT_CONFIG (core/clock.h describes it; the core validates it again).
 * path may be NULL (then insecure must be set). Returns 0 with *len, or -1
 * with a message printed. */
int tkms_rt_config_load(const char *path, int insecure, uint8_t *out, size_t cap, size_t *len);

/* Starts the relay thread: a round soon after start, every 2 s until the first
 * quorum, then every interval_s seconds. Returns 0 or -1. */
int tkms_time_relay_start(tkms_core *core, unsigned interval_s, tkms_time_relay **out);
void tkms_time_relay_stop(tkms_time_relay *r);

enum { TKMS_RT_ROUND_OK = 0, TKMS_RT_ROUND_FAILED = 1, TKMS_RT_ROUND_UNCONFIGURED = 2 };
/* One Roughtime round (TIME_REQUEST, UDP, TIME_RESPONSE) over a channel the
 * caller holds locked: used for a migration source core, which judges the
 * upgrade time-lock by its own clock. Returns TKMS_RT_ROUND_*. */
int tkms_time_round_held(tkms_chan *ch);
#endif
