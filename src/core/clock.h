/* src/core/clock.h — the core's clock: trusted time from a quorum of Roughtime
 * servers whose keys are sealed in the deployment (record type 4), or host
 * time where the deployment allows it, never going backwards.
 *
 * Sources, in order (tkms_clock_now):
 *   roughtime      a quorum no older than TKMS_RT_MAX_AGE_S: its time plus the
 *                  CLOCK_MONOTONIC seconds elapsed since it was accepted;
 *   host-insecure  the record says --insecure-host-time, or the deployment
 *                  predates Roughtime (no record) on a non-sim platform;
 *   host-sim       the sim platform;
 *   otherwise      no time: ops that need it get TKMS_E_TIME_UNAVAILABLE.
 * Whatever the source, the time handed out is at least the largest ever
 * handed out (the floor). The floor is in memory and is sealed into the time
 * record with every mutation, so a restarted core starts from the floor of the
 * last committed change.
 *
 * Config encoding (F_RT_CONFIG, and inside the record):
 *   u8 flags (bit 0: insecure host time) | u8 quorum k | u8 n |
 *   n x (u8 len | name | u8 len | address | ed25519 public key [32])
 * Valid: n == 0 and k == 0 with the insecure flag, or 1 <= k <= n <= 8; names
 * 1..32 and addresses 1..64 printable ASCII; public keys distinct.
 * Time record plaintext (after the format byte): config | u64 floor. */
#ifndef TKMS_CORE_CLOCK_H
#define TKMS_CORE_CLOCK_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/index.h"
#include "crypto/roughtime.h"
#include "proto/frame.h"

#define TKMS_RT_MAX_SERVERS 8u
#define TKMS_RT_NAME_MAX 32u
#define TKMS_RT_ADDR_MAX 64u
#define TKMS_RT_CONFIG_MAX \
  (3u + TKMS_RT_MAX_SERVERS * (2u + TKMS_RT_NAME_MAX + TKMS_RT_ADDR_MAX + 32u))
#define TKMS_TIMEREC_MAX (1u + TKMS_RT_CONFIG_MAX + 8u)
#define TKMS_RT_FLAG_INSECURE_HOST 1u
/* A quorum time is used for this long without a new quorum: the host relays
 * every minute by default, and a free-running clock drifts at most ~100 ppm
 * (2 s in 6 h), well inside what Roughtime servers' radii already allow. */
#define TKMS_RT_MAX_AGE_S (6u * 3600u)
/* Replies later than this after their TIME_REQUEST are refused (round closed). */
#define TKMS_RT_MAX_WAIT_MS 30000u

typedef struct {
  char name[TKMS_RT_NAME_MAX + 1];
  char address[TKMS_RT_ADDR_MAX + 1];
  uint8_t pk[32];
} tkms_rt_server;

typedef struct {
  uint8_t flags, quorum, n;
  tkms_rt_server s[TKMS_RT_MAX_SERVERS];
} tkms_rt_config;

enum { TKMS_TIME_NONE = 0, TKMS_TIME_ROUGHTIME, TKMS_TIME_HOST_SIM, TKMS_TIME_HOST_INSECURE };

typedef struct tkms_clock {
  pthread_mutex_t mu;
  /* the sealed configuration, parsed from the index's time record */
  int has_record;
  uint8_t rec_hash[32];
  tkms_rt_config cfg;
  /* the last accepted quorum */
  int have_quorum;
  uint64_t q_time;    /* unix seconds at q_mono_ms */
  uint64_t q_mono_ms; /* CLOCK_MONOTONIC */
  uint32_t q_radius, q_agree;
  uint64_t floor; /* no time below this is ever handed out */
  /* the outstanding round: one nonce and request per server */
  int round_open;
  uint64_t round_mono_ms;
  uint8_t nonce[TKMS_RT_MAX_SERVERS][TKMS_RT_NONCE_BYTES];
  uint8_t req[TKMS_RT_MAX_SERVERS][TKMS_RT_REQUEST_BYTES];
  char note[256]; /* what the last round did */
} tkms_clock;

int tkms_rt_config_decode(const uint8_t *p, size_t n, tkms_rt_config *out);
size_t tkms_rt_config_encode(const tkms_rt_config *cfg, uint8_t *out, size_t cap);

/* Record layout helpers for records.c: the plaintext after the format byte. */
size_t tkms_timerec_encode(const tkms_rec *r, uint8_t *out, size_t cap);
int tkms_timerec_decode(const uint8_t *id, size_t id_len, uint32_t version, const uint8_t *p,
                        size_t n, tkms_rec **out);

typedef struct tkms_core tkms_core;
typedef struct tkms_op tkms_op;

int tkms_clock_init(tkms_clock *k);
void tkms_clock_destroy(tkms_clock *k);
/* The core's time for one request (the caller holds the core's read lock or
 * the mutation lock). Returns 0 with *now and *source, 1 when there is no
 * usable time (*source TKMS_TIME_NONE), or -1 if the platform clock failed. */
int tkms_clock_now(tkms_core *c, uint64_t *now, int *source);
const char *tkms_clock_source_name(int source);
/* Appends the time fields to a STATUS answer. */
void tkms_clock_status(tkms_core *c, tkms_fw *resp);
/* INIT: validates F_RT_CONFIG (if present) and puts the time record. */
int tkms_clock_init_record(tkms_op *op);
/* Mutations: seals the current floor into the time record if it moved. */
int tkms_clock_tx_floor(tkms_op *op);
/* TIME_REQUEST / TIME_RESPONSE handlers. */
int tkms_time_request(tkms_op *op);
int tkms_time_response(tkms_op *op);
#endif
