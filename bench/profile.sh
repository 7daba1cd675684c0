#!/usr/bin/env bash
# bench/profile.sh - where a one-thread scan's time goes, by component.
#
#   bash bench/profile.sh cloudtrail|windows [FILE]
#
# Builds aupwatch with frame pointers (build-fp/), records the scan of
# FILE (default: bench/run.sh's generated input in /tmp/aw-bench) with
# `perf record --call-graph fp` at 1999 Hz of CPU clock (no hardware
# counters needed), start-up left out, alerts to /dev/null, and prints
# the components' shares (bench/profile_shares.py). CloudTrail runs
# SigmaHQ's cloud rules and the pack; Windows every SigmaHQ rule.
set -eu
cd "$(dirname "$0")/.."
kind=${1:-}
S=${AW_SHARED:-../shared}
C=$S/sigma/corpus
case $kind in
cloudtrail) f=${2:-/tmp/aw-bench/cloudtrail.jsonl}; rules=(--rules "$C/rules/cloud" --rules rules); delay=300 ;;
windows) f=${2:-/tmp/aw-bench/windows.jsonl}; delay=2500
    rules=(--rules "$C/rules" --rules "$C/rules-emerging-threats" --rules "$C/rules-threat-hunting" --rules "$C/rules-compliance") ;;
*) echo "usage: bench/profile.sh cloudtrail|windows [FILE]" >&2; exit 2 ;;
esac
command -v perf >/dev/null || { echo "profile: perf is not installed (Debian: linux-perf)" >&2; exit 1; }
[ -f "$f" ] || { echo "profile: $f: no such file (bash bench/run.sh generates it)" >&2; exit 1; }
make -s -j2 B=build-fp CFLAGS="-O2 -g -fno-omit-frame-pointer" build-fp/aupwatch
out=$(mktemp /tmp/aw-profile.XXXXXX)
trap 'rm -f "$out"' EXIT
cat "$f" > /dev/null                    # into the page cache
perf record -q -e cpu-clock -F 1999 --call-graph fp -D "$delay" -o "$out" -- \
    build-fp/aupwatch scan -q -j 1 "${rules[@]}" "$f" > /dev/null
python3 bench/profile_shares.py "$out"
