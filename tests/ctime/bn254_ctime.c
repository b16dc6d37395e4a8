/* tests/ctime/bn254_ctime.c — constant-time check of the BN254 secret-scalar paths, in the
 * manner of libsecp256k1's ctime_tests: the scalar is marked undefined for valgrind's
 * memcheck, so any branch or memory index that depends on it is reported ("conditional jump
 * or move depends on uninitialised value", "use of uninitialised value of size 8") and
 * valgrind --error-exitcode=1 fails. Outputs are marked defined again before they are
 * checked against the variable-time path. Run by tests/ctime/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <valgrind/memcheck.h>

#include "crypto/bn254/bn254.h"
#include "crypto/bn254/field.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int failures;

static void expect(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "ctime: wrong result: %s\n", what);
    failures++;
  }
}

/* One round with scalar k: every secret path, then the answers checked. */
static void round_with(const uint8_t k_in[32], const uint8_t g1[64], const uint8_t g2[128]) {
  uint8_t k[32], a[64], b[64], c[128], d[128], e[128], f[128], s[32], s2[32];
  int rc_check;
  memcpy(k, k_in, 32);

  SECRET(k, 32);
  int rc = tkms_bn254_g1_mul(a, g1, k);
  rc |= tkms_bn254_g1_mul_base(b, k);
  rc |= tkms_bn254_g2_mul(c, g2, k);
  rc |= tkms_bn254_g2_mul_base(d, k);
  rc_check = tkms_bn254_scalar_check(k);
  rc |= tkms_bn254_scalar_reduce(s, k);
  rc |= tkms_bn254_scalar_mul(s2, k, k);
  rc |= tkms_bn254_scalar_add(s2, s2, k);
  PUBLIC(k, 32);
  PUBLIC(&rc, sizeof rc);
  PUBLIC(&rc_check, sizeof rc_check);
  PUBLIC(a, sizeof a);
  PUBLIC(b, sizeof b);
  PUBLIC(c, sizeof c);
  PUBLIC(d, sizeof d);
  PUBLIC(s, sizeof s);
  PUBLIC(s2, sizeof s2);

  expect(rc == 0, "return codes");
  uint8_t gen1[64], gen2[128];
  tkms_bn254_g1_generator(gen1);
  tkms_bn254_g2_generator(gen2);
  expect(tkms_bn254_g1_mul_public(e, g1, k) == 0 && !memcmp(a, e, 64), "g1_mul");
  expect(tkms_bn254_g1_mul_public(e, gen1, k) == 0 && !memcmp(b, e, 64), "g1_mul_base");
  expect(tkms_bn254_g2_mul_public(f, g2, k) == 0 && !memcmp(c, f, 128), "g2_mul");
  expect(tkms_bn254_g2_mul_public(f, gen2, k) == 0 && !memcmp(d, f, 128), "g2_mul_base");
  /* k mod r times G1 is [k]G1 */
  expect(tkms_bn254_g1_mul_public(e, gen1, s) == 0 && !memcmp(b, e, 64), "scalar_reduce");
  /* in range iff 0 < k mod r and k < r, i.e. k equals its reduction and is not zero */
  static const uint8_t zero[32];
  expect((rc_check == 0) == (!memcmp(s, k, 32) && memcmp(k, zero, 32)), "scalar_check");
  /* k^2 + k */
  uint8_t sq[32];
  tkms_bn254_scalar_mul(sq, s, s);
  tkms_bn254_scalar_add(sq, sq, s);
  expect(!memcmp(sq, s2, 32), "scalar_mul/add");
}

int main(int argc, char **argv) {
  uint8_t k[32], g1[64], g2[128], t[32];
  /* --asm: use the BMI2/ADX code even if CPUID (as valgrind reports it) denies it; valgrind
   * must then decode mulx/adcx/adox itself. */
  if (argc > 1 && !strcmp(argv[1], "--asm")) bn254_fp_use_adx = 1;
  /* Public points of unknown discrete log: [t]G for a random public t. */
  if (getrandom(t, sizeof t, 0) != (ssize_t)sizeof t) return 2;
  uint8_t gen1[64], gen2[128];
  tkms_bn254_g1_generator(gen1);
  tkms_bn254_g2_generator(gen2);
  if (tkms_bn254_g1_mul_public(g1, gen1, t) || tkms_bn254_g2_mul_public(g2, gen2, t)) return 2;
  for (int i = 0; i < 6; i++) {
    if (i == 0)
      memset(k, 0, 32); /* zero: infinity on every path */
    else if (i == 1)
      memset(k, 0xff, 32); /* above r: reduced */
    else if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k)
      return 2;
    round_with(k, g1, g2);
  }
  printf("bn254 ctime: %s (BMI2/ADX assembly %s)\n", failures ? "WRONG RESULTS" : "results ok",
         bn254_fp_use_adx ? "on" : "off: portable C");
  return failures ? 1 : 0;
}
