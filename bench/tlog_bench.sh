#!/usr/bin/env bash
# tlog_bench.sh - run the decision-log benchmarks; prints one line each.
#   bash bench/tlog_bench.sh [N_LARGE] [ENTRY_LARGE]
# N_LARGE (default 10000000) entries of ENTRY_LARGE bytes (default 64)
# for the proof and verification runs. Scratch space: $TLOG_BENCH_DIR
# (default /var/tmp), which must be a real disk for the fsync figures.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000000}
EL=${2:-64}
W=$(mktemp -d "${TLOG_BENCH_DIR:-/var/tmp}/aw-tlog-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
make -s -C "$ROOT" build/libaupwatch.a
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" -o "$W/tlog_bench" \
    "$ROOT/bench/tlog_bench.c" "$ROOT/build/libaupwatch.a" \
    $(pkg-config --libs libsodium yaml-0.1 libpcre2-8 zlib libzstd) -lm -lpthread
B=$W/tlog_bench
echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cpus; fs: $(df -T "$W" | awk 'NR==2{print $2}')"
for batch in 1 16 256 4096; do
    secs=3; [ "$batch" = 1 ] && secs=5
    "$B" append "$W/a$batch" "$W/k$batch" "$batch" "$secs" 512
    rm -rf "$W/a$batch"
done
"$B" build "$W/big" "$W/kbig" "$N" "$EL"
"$B" prove "$W/big" 20000
"$B" verify "$W/big" "$W/kbig.pub"
bytes=$(find "$W/big" -path '*/.aw-tlog' -prune -o -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
t0=$(date +%s.%N)
find "$W/big" -path '*/.aw-tlog' -prune -o -type f -print0 | xargs -0 cat | sha256sum >/dev/null
t1=$(date +%s.%N)
echo "baseline sha256sum over the same files: bytes=$bytes seconds=$(echo "$t1 - $t0" | bc)"
