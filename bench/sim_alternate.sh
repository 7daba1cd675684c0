#!/usr/bin/env bash
# bench/sim_alternate.sh - two or more aupwatch binaries scan the
# simulator's telemetry (what a provider's region writes: gzip files,
# AWS envelopes up to 65 MB, Azure and GCP JSON lines) in turn, round
# after round, with the acceptable-use pack, and print per run what a
# threaded scan of such files is judged by here: wall time, process and
# calling-thread CPU (--stats-json), page faults and peak RSS
# (/usr/bin/time), and a checksum of the alerts (they must not differ).
#
#   bash bench/sim_alternate.sh ROUNDS BIN [BIN...]
#
# DIR (default /tmp/aw-sim) holds the telemetry; it is generated when
# missing: 400 tenants, 15 minutes, scale 0.5 (1,199 gzip files, 4.5 GB
# of JSON, 2.8 M records; about 10 s here). THREADS (default 2) sets -j.
# On a shared VM single runs spread by 10-20 %: compare within a round.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: bench/sim_alternate.sh ROUNDS BIN [BIN...]" >&2; exit 2
fi
cd "$(dirname "$0")/.."
n=$1; shift
dir=${DIR:-/tmp/aw-sim}
if [ ! -d "$dir/logs" ]; then
    make -s build/aupwatch-sim
    build/aupwatch-sim --out "$dir" --tenants 400 --hours 0.25 --scale 0.5 -q
fi
st=$(mktemp); tm=$(mktemp); trap 'rm -f "$st" "$tm"' EXIT
printf '%-28s %7s %9s %9s %8s %9s %s\n' binary wall "cpu s" "calling" faults "RSS KB" alerts
for _ in $(seq "$n"); do
    for b in "$@"; do
        find "$dir/logs" -type f -exec cat {} + > /dev/null     # into the page cache
        /usr/bin/time -f '%e %R %M' -o "$tm" "$b" scan -q -j "${THREADS:-2}" --stats-json "$st" \
            --rules rules "$dir/logs" | md5sum | cut -c1-8 > "$tm.sum"
        read -r wall faults rss < "$tm"
        printf '%-28s %7s %9s %9s %8s %9s %s\n' "$(basename "$(dirname "$b")")/$(basename "$b")" "$wall" \
            "$(jq .cpu_seconds.process "$st")" "$(jq .cpu_seconds.calling_thread "$st")" "$faults" "$rss" \
            "$(jq .correlation.correlation_alerts "$st") $(cat "$tm.sum")"
        rm -f "$tm.sum"
    done
done
