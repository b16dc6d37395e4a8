#!/usr/bin/env bash
# scripts/reproduce.sh [REFERENCE] — is tkms-enclave reproducible?
#
# Copies this tree's source (tracked files and untracked ones git does not ignore,
# as they are in the work tree) into two temporary directories under different
# paths, builds tkms-enclave in each with the Makefile's normal flags and
# SOURCE_DATE_EPOCH = the last commit's time, and compares the two byte for byte.
# With REFERENCE (`make reproduce` passes build/tkms-enclave) that binary must be
# identical too: the binary `make` builds is the reproducible one.
# Prints the sha256 of the binary and its measurement (tkms-enclave --measure).
# Exit 0 only if every binary is identical. See docs/reproducible-builds.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${1:-}"

# A build in a clean environment: no inherited make or compiler settings.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS LDFLAGS CPPFLAGS BUILD SAN
export LC_ALL=C TZ=UTC
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"
fi
export SOURCE_DATE_EPOCH
JOBS="${REPRODUCE_JOBS:-2}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tkms-reproduce.XXXXXX")"
# Kept when the builds differ, so the binaries and build logs can be compared.
trap 'if [ "${keep:-0}" = 1 ]; then echo "reproduce: kept $tmp" >&2; else rm -rf "$tmp"; fi' EXIT
dir_a="$tmp/a/tkms"
dir_b="$tmp/second-build/somewhere/else/tkms-source"
mkdir -p "$dir_a" "$dir_b"

copy_tree() {
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    tar --null --files-from=- -cf - | tar -xf - -C "$1"
}
build() {
  echo "reproduce: building tkms-enclave in $1" >&2
  if ! nice -n 10 make -C "$1" --no-print-directory -j"$JOBS" BUILD=build build/tkms-enclave \
    >"$1.log" 2>&1; then
    tail -n 30 "$1.log" >&2
    echo "reproduce: the build in $1 failed" >&2
    exit 1
  fi
}

copy_tree "$dir_a"
copy_tree "$dir_b"
build "$dir_a"
build "$dir_b"
bin_a="$dir_a/build/tkms-enclave"
bin_b="$dir_b/build/tkms-enclave"

# Which sections differ between two ELF files (a hint for whoever debugs it).
section_diff() {
  local x="$1" y="$2" s
  echo "  sections that differ:" >&2
  for s in $(readelf -SW "$x" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p' | grep -v '^NULL$'); do
    if ! cmp -s <(objcopy -O binary --only-section="$s" "$x" /dev/stdout 2>/dev/null) \
      <(objcopy -O binary --only-section="$s" "$y" /dev/stdout 2>/dev/null); then
      echo "    $s" >&2
    fi
  done
  echo "  first differing bytes (cmp -l | head):" >&2
  cmp -l "$x" "$y" | head -n 5 >&2 || true
  echo "  try: diff <(readelf -wi $x) <(readelf -wi $y); strings -a both | diff" >&2
}

sha_a="$(sha256sum "$bin_a" | cut -d' ' -f1)"
sha_b="$(sha256sum "$bin_b" | cut -d' ' -f1)"
echo "sha256 $sha_a  build 1 ($dir_a)"
echo "sha256 $sha_b  build 2 ($dir_b)"
status=0
if ! cmp -s "$bin_a" "$bin_b"; then
  echo "reproduce: FAIL: the two builds differ" >&2
  section_diff "$bin_a" "$bin_b"
  status=1
fi
if [ -n "$ref" ]; then
  sha_r="$(sha256sum "$ref" | cut -d' ' -f1)"
  echo "sha256 $sha_r  $ref"
  if ! cmp -s "$bin_a" "$ref"; then
    echo "reproduce: FAIL: $ref differs from the reproducible build (stale, or built with" \
      "other CFLAGS/LDFLAGS/SAN? run make again)" >&2
    section_diff "$bin_a" "$ref"
    status=1
  fi
fi
if [ "$status" -ne 0 ]; then
  keep=1
  exit "$status"
fi
echo "reproduce: OK, identical (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
echo "tkms-enclave sha256 $sha_a"
"$bin_a" --measure

# What a verifier needs to rebuild the same bytes: the toolchain and the library
# packages (their headers shape the binary; their .so files are in the manifest).
if command -v dpkg-query >/dev/null 2>&1; then
  echo "build environment (Debian packages):"
  {
    for f in $(ldd "$bin_a" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'); do
      dpkg -S "$(readlink -f "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || true
    done | cut -d: -f1
    for pc in libsecp256k1 libsodium libcrypto libseccomp libcbor tss2-esys tss2-tctildr tss2-mu tss2-rc; do
      p="$(pkg-config --path "$pc" 2>/dev/null)" && dpkg -S "$(readlink -f "$p")" 2>/dev/null | cut -d: -f1
    done
    for b in "$(command -v cc)" "$(command -v ld)" "$(command -v as)"; do
      [ -n "$b" ] && dpkg -S "$(readlink -f "$b")" 2>/dev/null | cut -d: -f1
    done
    echo libc6-dev
  } | sort -u | while read -r pkg; do
    [ -n "$pkg" ] && dpkg-query -W -f '  ${Package}=${Version}\n' "$pkg" 2>/dev/null
  done
fi
