#!/usr/bin/env bash
# Dependencies point one way: host -> proto <- core -> {crypto, attest, platform}.
# A room may include only the rooms listed for it here.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A allowed=(
  [proto]="proto"
  [crypto]="crypto"
  [attest]="attest crypto"
  [platform]="platform crypto"
  [core]="core proto crypto attest platform"
  [host]="host proto"
  [cli]="cli host proto crypto attest"
)
bad=0
for room in "${!allowed[@]}"; do
  [ -d "src/$room" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"${line#*:}")
    if ! grep -qw "$inc" <<<"${allowed[$room]}"; then
      echo "layering: $file includes $inc/ (src/$room may include: ${allowed[$room]})"
      bad=1
    fi
  done < <(grep -rHE --include="*.[ch]" '^#include "[a-z]+/' "src/$room" 2>/dev/null || true)
done
# The trusted core links no HTTP, JSON, database or curl.
if grep -lE '#include <(microhttpd|jansson|sqlite3|curl/)' -r --include="*.[ch]" src/core src/platform src/crypto src/attest src/proto 2>/dev/null; then
  echo "layering: a trusted-side file includes an HTTP/JSON/DB header"; bad=1
fi
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
