#!/usr/bin/env bash
# bench/run.sh — `make bench`: raw libsecp256k1 signing vs end-to-end tkms signing,
# the C BN254 G1 multiplication vs end-to-end EigenLayer scalar_mul, and sealed key
# creation. Benchmarks, not tests: they print numbers, they do not judge.
#   TKMS_BUILD (default build)  BENCH_SECONDS (e2e duration, default 10)
#   BENCH_LOADGEN=node          use the Node keep-alive load generator even if wrk exists
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${TKMS_BUILD:-build}
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$BUILD/bench/raw_secp" bench/raw_secp.c \
  $(pkg-config --cflags --libs libsecp256k1)
exec env TKMS_BUILD="$BUILD" node bench/e2e.mjs --raw "$BUILD/bench/raw_secp" "$@"
