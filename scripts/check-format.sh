#!/usr/bin/env bash
# Every C file is clang-formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
for f in $(git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h'); do
  [ -f "$f" ] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "format: $f (run make format)"; bad=1; }
done
[ $bad -eq 0 ] && echo "format: ok"
exit $bad
