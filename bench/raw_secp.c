/* bench/raw_secp.c — the ceiling for tkms signing: libsecp256k1's
 * secp256k1_ecdsa_sign_recoverable (+ compact serialisation, as the core does)
 * over random digests, on one thread, for about SECONDS (default 2).
 * Prints "raw_secp256k1_sign: <signs/s> signs/s ...". Not a test. */
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

enum { N_DIGESTS = 4096 };

static int fill_random(unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = getrandom(buf, len, 0);
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  if (!(seconds > 0.0 && seconds < 600.0)) {
    fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
    return 2;
  }
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == NULL) return 1;
  static unsigned char digests[N_DIGESTS][32];
  unsigned char seed[32], sk[32];
  if (fill_random(seed, sizeof seed) || !secp256k1_context_randomize(ctx, seed)) return 1;
  do {
    if (fill_random(sk, sizeof sk)) return 1;
  } while (!secp256k1_ec_seckey_verify(ctx, sk));
  if (fill_random(&digests[0][0], sizeof digests)) return 1;

  uint64_t count = 0;
  unsigned acc = 0;
  double t0 = now_s(), t1 = t0;
  while (t1 - t0 < seconds) {
    for (int i = 0; i < 256; i++, count++) {
      secp256k1_ecdsa_recoverable_signature sig;
      unsigned char out[64];
      int recid = 0;
      if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, digests[count % N_DIGESTS], sk, NULL,
                                            NULL) ||
          !secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out, &recid, &sig)) {
        fprintf(stderr, "signing failed\n");
        return 1;
      }
      acc ^= out[0] ^ (unsigned)recid;
    }
    t1 = now_s();
  }
  double secs = t1 - t0;
  printf("raw_secp256k1_sign: %.0f signs/s (%llu signs in %.2f s, 1 thread, check %02x)\n",
         (double)count / secs, (unsigned long long)count, secs, acc & 0xff);
  secp256k1_context_destroy(ctx);
  return 0;
}
