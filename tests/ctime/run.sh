#!/usr/bin/env bash
# tests/ctime/run.sh — constant-time check of the BN254 secret-scalar code under valgrind
# memcheck (see bn254_ctime.c). Builds at -O2 (what ships) and -O3, and runs each build
# twice: with the portable C field arithmetic (valgrind's CPUID hides ADX, so that is the
# default under valgrind) and with the BMI2/ADX assembly forced on (--asm). Exit status 0
# only if valgrind reports no secret-dependent branch or memory index and every result is
# right. CC=clang works too.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "ctime: valgrind is not installed"; exit 2; }
CC=${CC:-cc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
WARN="-Wall -Wextra -Werror -Wshadow -Wvla -Wstrict-prototypes -Wmissing-prototypes"
# the hardening flags of the Makefile, so the checked code is the shipped code
HARDEN="-fPIE -pie -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fno-common"
status=0
for opt in -O2 -O3; do
  bin="$out/bn254_ctime$opt"
  # -gdwarf-4: valgrind 3.19 cannot read the DWARF 5 that clang emits by default
  $CC -std=c11 -D_GNU_SOURCE $WARN $HARDEN $opt -gdwarf-4 -Isrc -o "$bin" \
    tests/ctime/bn254_ctime.c src/crypto/bn254/*.c
  for mode in "" --asm; do
    if valgrind -q --error-exitcode=1 "$bin" $mode; then
      echo "ctime: $CC $opt ${mode:-(portable)}: no secret-dependent branches or indices"
    else
      echo "ctime: $CC $opt ${mode:-(portable)}: FAILED"
      status=1
    fi
  done
done
exit $status
