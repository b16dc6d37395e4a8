#!/usr/bin/env bash
# Installs the Debian 12 packages tkms needs, when missing. As root it runs
# apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
pkgs=(
  build-essential pkg-config clang-format
  libsecp256k1-dev libsodium-dev libssl-dev libgmp-dev libseccomp-dev   # core
  libcbor-dev unzip                                                     # attest (Nitro), its tests
  libtss2-dev                                                           # core, tpm2 platform
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev  # host, cli
  libcmocka-dev valgrind sqlite3                                        # tests
  swtpm swtpm-tools tpm2-tools                                          # tpm2 platform tests
  clang llvm libclang-rt-14-dev                                         # fuzzing, sanitizers
  nodejs npm                                                            # integration tests
  wrk                                                                   # benchmarks
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A newer Node.js than Debian's may already be installed (e.g. /usr/local); accept it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "tkms needs these Debian packages: ${missing[*]}" >&2
  echo "Run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
