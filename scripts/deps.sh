#!/usr/bin/env bash
# scripts/deps.sh - install what aupwatch needs on Debian 12 (as root).
# Only missing packages are installed; `apt-get update` runs only then.
# Usage: scripts/deps.sh [build|test]
set -eu
build_pkgs="make gcc pkg-config libyaml-dev libpcre2-dev libsodium-dev zlib1g-dev libdeflate-dev libisal-dev libzstd-dev libvectorscan-dev libssl-dev"
# Intel's multi-buffer library (SHA-256 of several records at once) is
# packaged for amd64 only; elsewhere the build hashes one at a time.
[ "$(dpkg --print-architecture)" = amd64 ] && build_pkgs="$build_pkgs libipsec-mb-dev"
test_pkgs="clang libclang-rt-14-dev libcmocka-dev jq python3 python3-cryptography gzip zstd"
pkgs=$build_pkgs
[ "${1:-build}" = test ] && pkgs="$pkgs $test_pkgs"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "aupwatch: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
