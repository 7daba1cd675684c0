#!/usr/bin/env bash
# bench/alternate.sh - two or more aupwatch binaries run in turn on the
# same file, round after round, output to /dev/null: the comparison
# that holds on a shared machine, where single runs spread by 10-20 %.
#
#   bash bench/alternate.sh ROUNDS FILE RULES BIN [BIN...]
#
# RULES: cloud (SigmaHQ's cloud rules), pack (cloud + rules/), windows
# (the full SigmaHQ set). THREADS=N sets -j (default 1). Prints, per
# binary, the best and the median of the scan's own seconds (start-up
# excluded, from --stats-json) as MB/s of decompressed input, and the
# median CPU seconds of the calling thread (with threads, the share that
# does not spread over them). FILE may be a directory (CloudTrail's
# S3 layout: many gzip files). Inputs: bench/run.sh leaves them in
# /tmp/aw-bench (cloudtrail.jsonl, windows.jsonl).
set -eu
if [ $# -lt 4 ]; then
    echo "usage: bench/alternate.sh ROUNDS FILE cloud|pack|windows BIN [BIN...]" >&2; exit 2
fi
cd "$(dirname "$0")/.."
n=$1 f=$2 set=$3; shift 3
S=${AW_SHARED:-../shared}
C=$S/sigma/corpus
case $set in
cloud) R=(--rules "$C/rules/cloud") ;;
pack) R=(--rules "$C/rules/cloud" --rules rules) ;;
windows) R=(--rules "$C/rules" --rules "$C/rules-emerging-threats" --rules "$C/rules-threat-hunting"
            --rules "$C/rules-compliance") ;;
*) echo "bench/alternate.sh: rules: cloud, pack or windows" >&2; exit 2 ;;
esac
st=$(mktemp); trap 'rm -f "$st"' EXIT
declare -A secs calling
bytes=0
for _ in $(seq "$n"); do
    for b in "$@"; do
        # read the input first, each time: a VM whose host reclaims guest
        # memory drops pages untouched for a few seconds, and the first
        # read of those costs up to a fifth of a scan (bench/README)
        find "$f" -type f -exec cat {} + > /dev/null
        "$b" scan -q -j "${THREADS:-1}" --stats-json "$st" "${R[@]}" "$f" > /dev/null 2>&1
        secs[$b]="${secs[$b]:-} $(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$st")"
        calling[$b]="${calling[$b]:-} $(sed -n 's/.*"calling_thread":\([0-9.]*\).*/\1/p' "$st")"
        bytes=$(sed -n 's/.*"bytes_decompressed":\([0-9]*\).*/\1/p' "$st")
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for b in "$@"; do
    echo "${secs[$b]}" | tr ' ' '\n' | grep . | sort -n |
        awk -v b="$b" -v mb="$(awk -v x="$bytes" 'BEGIN{print x/1e6}')" -v cpu="$(echo "${calling[$b]}" | median)" \
            '{a[NR]=$1} END {printf "%-40s best %6.0f  median %6.0f MB/s  (%d rounds; calling thread %s s)\n", b, mb/a[1], mb/a[int((NR+1)/2)], NR, cpu}'
done
