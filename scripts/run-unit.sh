#!/usr/bin/env bash
# Runs every cmocka test binary; prints one summary line; fails if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
for t in "$@"; do
  if "$t"; then pass=$((pass+1)); else echo "FAILED: $t"; fail=$((fail+1)); fi
done
echo "unit test programs: $pass passed, $fail failed"
[ $fail -eq 0 ]
