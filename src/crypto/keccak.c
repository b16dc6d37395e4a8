/* src/crypto/keccak.c — Keccak-256 (the pre-FIPS padding Ethereum uses).
 * Keccak-f[1600] on 25 little-endian 64-bit lanes, rate 136 bytes (17 lanes).
 * No table is indexed by data and no branch depends on data, so hashing a
 * secret does not leak it through timing. */
#include "crypto/keccak.h"

#include <sodium.h>
#include <string.h>

#define KECCAK_RATE 136u
#define KECCAK_ROUNDS 24

static const uint64_t round_constants[KECCAK_ROUNDS] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* Rotation offsets of the rho step, indexed by lane x + 5y. */
static const unsigned rho_offsets[25] = {
    0,  1,  62, 28, 27, /* y = 0 */
    36, 44, 6,  55, 20, /* y = 1 */
    3,  10, 43, 25, 39, /* y = 2 */
    41, 45, 15, 21, 8,  /* y = 3 */
    18, 2,  61, 56, 14, /* y = 4 */
};

static uint64_t rotl64(uint64_t v, unsigned n) {
  /* n == 0 must not shift by 64, which C leaves undefined. */
  return n == 0 ? v : (v << n) | (v >> (64u - n));
}

static void keccak_f1600(uint64_t a[25]) {
  uint64_t b[25];
  uint64_t c[5];
  for (int round = 0; round < KECCAK_ROUNDS; round++) {
    /* theta */
    for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; x++) {
      uint64_t d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    /* rho and pi: lane (x, y) moves to (y, 2x + 3y) */
    for (int x = 0; x < 5; x++) {
      for (int y = 0; y < 5; y++) {
        b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl64(a[x + 5 * y], rho_offsets[x + 5 * y]);
      }
    }
    /* chi */
    for (int y = 0; y < 25; y += 5) {
      for (int x = 0; x < 5; x++) {
        a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
      }
    }
    /* iota */
    a[0] ^= round_constants[round];
  }
  sodium_memzero(b, sizeof b);
  sodium_memzero(c, sizeof c);
}

static uint64_t load64_le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

void tkms_keccak256_init(tkms_keccak_ctx *c) {
  memset(c->st, 0, sizeof c->st);
  c->pos = 0;
}

void tkms_keccak256_update(tkms_keccak_ctx *c, const void *in, size_t len) {
  const uint8_t *p = in;
  while (len > 0) {
    if (c->pos % 8 == 0 && len >= 8) {
      /* Whole lanes: the common case once the input is aligned to a lane. */
      c->st[c->pos / 8] ^= load64_le(p);
      c->pos += 8;
      p += 8;
      len -= 8;
    } else {
      c->st[c->pos / 8] ^= (uint64_t)*p << (8 * (c->pos % 8));
      c->pos++;
      p++;
      len--;
    }
    if (c->pos == KECCAK_RATE) {
      keccak_f1600(c->st);
      c->pos = 0;
    }
  }
}

void tkms_keccak256_final(tkms_keccak_ctx *c, uint8_t out[32]) {
  /* Keccak's multi-rate padding pad10*1 with domain byte 0x01 (SHA3 would use
   * 0x06). When only one byte of the block is left both bits land in it. */
  c->st[c->pos / 8] ^= (uint64_t)0x01 << (8 * (c->pos % 8));
  c->st[(KECCAK_RATE - 1) / 8] ^= (uint64_t)0x80 << 56;
  keccak_f1600(c->st);
  for (size_t i = 0; i < TKMS_KECCAK256_BYTES; i++) {
    out[i] = (uint8_t)(c->st[i / 8] >> (8 * (i % 8)));
  }
  sodium_memzero(c, sizeof *c);
}

void tkms_keccak256(const void *in, size_t len, uint8_t out[32]) {
  tkms_keccak_ctx c;
  tkms_keccak256_init(&c);
  tkms_keccak256_update(&c, in, len);
  tkms_keccak256_final(&c, out);
}
