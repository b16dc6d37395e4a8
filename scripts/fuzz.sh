#!/usr/bin/env bash
# Builds every fuzz/fuzz_*.c with libFuzzer + ASan + UBSan and runs each.
#   scripts/fuzz.sh SECONDS        run each harness for SECONDS (make fuzz)
#   scripts/fuzz.sh --smoke        a few thousand runs each (part of make check)
# A harness names the src/ rooms it links in a "FUZZ_ROOMS:" comment.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-60}
out=build-fuzz
mkdir -p "$out"
pcs="libsecp256k1 libsodium libcrypto libseccomp libcbor tss2-esys tss2-tctildr tss2-mu tss2-rc jansson libmicrohttpd sqlite3"
status=0
for h in fuzz/fuzz_*.c; do
  name=$(basename "$h" .c)
  rooms=$(sed -n 's/.*FUZZ_ROOMS:\([a-z ]*\).*/\1/p' "$h" | head -1)
  srcs=()
  for r in $rooms; do
    for f in src/$r/*.c src/$r/*/*.c; do [ -f "$f" ] && [ "$(basename "$f")" != main.c ] && srcs+=("$f"); done
  done
  clang -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined $(pkg-config --cflags $pcs) \
    "$h" "${srcs[@]}" -o "$out/$name" $(pkg-config --libs $pcs) -lgmp -lpthread
  corpus="$out/corpus-$name"
  mkdir -p "$corpus"
  [ -d "fuzz/seeds/$name" ] && cp -n fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null || true
  if [ "$mode" = "--smoke" ]; then
    args=(-runs=20000 -max_len=4096)
  else
    args=(-max_total_time="$mode" -max_len=65536)
  fi
  echo "fuzz: $name ${args[*]}"
  if ! "$out/$name" "${args[@]}" -artifact_prefix="$out/$name-" "$corpus" >"$out/$name.log" 2>&1; then
    echo "fuzz: $name FAILED (log: $out/$name.log)"; tail -30 "$out/$name.log"; status=1
  else
    tail -1 "$out/$name.log"
  fi
done
exit $status
