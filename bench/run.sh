#!/usr/bin/env bash
# bench/run.sh - scan throughput, side by side with hardware baselines,
# on generated input (nothing generated is committed).
#
#   bash bench/run.sh [--quick] [--mb N] [--win-mb N] [--threads N] [--memcheck] [--baseline REV]
#
# Generates CloudTrail JSON lines with the event mix and sizes of
# ../shared/telemetry/datasets (default 1024 MB) and Windows event JSON
# shaped like SigmaHQ's regression data (default 300 MB; also a copy
# whose command lines and targets are all distinct), then times, on
# the same file: `wc -l`, `grep -c -F` of one literal, `jq` (on a 64 MB
# prefix, extrapolated), and `aupwatch scan` with every SigmaHQ cloud
# rule plus rules/ (CloudTrail) or the full SigmaHQ rule set (Windows).
# --baseline REV builds that git revision (a release tag, a commit) from
# `git archive` in a temporary directory and adds its scan as a row;
# AW_BASELINE_BIN=/path/to/older/aupwatch adds a binary built elsewhere.
# --memcheck also scans 4x the input to show peak memory is flat.
# Prints a table; bench/README.md keeps the figures.
set -eu
cd "$(dirname "$0")/.."
MB=1024 WMB=300 THREADS=${THREADS:-$(nproc)} QUICK=0 MEMCHECK=0 BASE_REV=
usage="usage: bench/run.sh [--quick] [--mb N] [--win-mb N] [--threads N] [--memcheck] [--baseline REV]"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 MB=48 WMB=16 ;;
    --mb) MB=$2; shift ;;
    --win-mb) WMB=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --memcheck) MEMCHECK=1 ;;
    --baseline) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; BASE_REV=$2; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
    shift
done
S=${AW_SHARED:-../shared}
if [ ! -d "$S/telemetry/datasets" ] || [ ! -d "$S/sigma/corpus" ]; then
    echo "bench: $S/telemetry and $S/sigma are needed for sample records and rules" >&2; exit 0
fi
B=${B:-build}
make -s -j2 bench >/dev/null
BIN=$B/aupwatch
OUT=${AW_BENCH_DIR:-/tmp/aw-bench}
RMOUT=0
if [ "$QUICK" = 1 ] && [ -z "${AW_BENCH_DIR:-}" ]; then
    OUT=$(mktemp -d /tmp/aw-bench-quick.XXXXXX)     # not /tmp/aw-bench: a full run's inputs stay
    RMOUT=1
fi
mkdir -p "$OUT"
BASE_DIR=
cleanup() {
    [ -z "$BASE_DIR" ] || rm -rf "$BASE_DIR"
    [ "$RMOUT" = 0 ] || rm -rf "$OUT"
}
trap cleanup EXIT
if [ -n "$BASE_REV" ]; then
    # the revision's own tree and Makefile, built as it was; its binary is
    # named after the commit so the row says what it ran
    rev=$(git rev-parse --verify --short "$BASE_REV^{commit}" 2>/dev/null) ||
        { echo "bench: --baseline $BASE_REV: not a commit of this repository" >&2; exit 2; }
    BASE_DIR=$(mktemp -d /tmp/aw-baseline.XXXXXX)
    git archive "$rev" | tar -x -C "$BASE_DIR"
    make -s -C "$BASE_DIR" -j"$(nproc)" build/aupwatch >/dev/null ||
        { echo "bench: --baseline $BASE_REV: the build of $rev failed" >&2; exit 1; }
    cp "$BASE_DIR/build/aupwatch" "$BASE_DIR/aupwatch-$rev"
    AW_BASELINE_BIN="$BASE_DIR/aupwatch-$rev${AW_BASELINE_BIN:+ $AW_BASELINE_BIN}"
fi
D=$S/telemetry/datasets
C=$S/sigma/corpus
ct_samples=("$D"/stratus-red-team/cloudtrail.jsonl "$D"/panther-analysis-tests/aws_cloudtrail.events.jsonl "$D"/otrf-security-datasets)
"$B"/bench/gen cloudtrail "$MB" 1 "${ct_samples[@]}" > "$OUT/cloudtrail.jsonl"
"$B"/bench/gen windows "$WMB" 2 "$C/regression_data" > "$OUT/windows.jsonl"
"$B"/bench/gen windows-unique "$WMB" 2 "$C/regression_data" > "$OUT/windows-unique.jsonl"

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? b / 1e6 / t : 0) }'; }
row() { printf '| %-34s | %9s | %12s | %10s | %s |\n' "$@"; }   # five columns: the last holds notes
# Read the file into the page cache right before a timed scan: a VM whose
# host reclaims guest memory (DAMON's pageout of pages untouched for ~6 s,
# bench/README) may have dropped it since the last row, and the scan then
# times the disk.
warm() { cat "$1" > /dev/null; }

bench_file() {   # name file literal rules...
    local name=$1 f=$2 lit=$3; shift 3
    local bytes recs t0 t1 st
    bytes=$(stat -c %s "$f")
    echo
    echo "### $name: $(awk -v b="$bytes" 'BEGIN{printf "%.0f", b/1e6}') MB"
    echo
    row "what" "MB/s" "events/s" "peak RSS" "notes"
    row "---" "---:" "---:" "---:" "---"
    warm "$f"
    t0=$(now); recs=$(wc -l < "$f"); t1=$(now)
    local dt; dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
    row "wc -l (baseline)" "$(mbps "$bytes" "$dt")" "$(awk -v r="$recs" -v t="$dt" 'BEGIN{printf "%.0f", r/t}')" "-" ""
    # not to /dev/null: GNU grep then stops at the first match
    t0=$(now); grep -c -F "$lit" "$f" > "$OUT/grep.out" || true; t1=$(now)
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
    row "grep -c -F '$lit' (baseline)" "$(mbps "$bytes" "$dt")" "-" "-" ""
    if command -v jq >/dev/null; then
        head -c 64000000 "$f" | head -n -1 > "$OUT/prefix.jsonl"
        local pb; pb=$(stat -c %s "$OUT/prefix.jsonl")
        t0=$(now); jq -c "select(.eventName? == \"ConsoleLogin\")" "$OUT/prefix.jsonl" > /dev/null; t1=$(now)
        dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
        row "jq select (64 MB prefix)" "$(mbps "$pb" "$dt")" "-" "-" ""
    fi
    for bin in "$BIN" ${AW_BASELINE_BIN:-}; do
        local label="aupwatch scan, 1 thread"
        [ "$bin" != "$BIN" ] && label="baseline $(basename "$bin"), 1 thread"
        local one=()
        "$bin" scan --help | grep -q -- '--threads' && one=(--threads 1)   # default is every CPU
        warm "$f"
        "$bin" scan -q "${one[@]}" --stats-json "$OUT/st.json" "$@" "$f" > "$OUT/alerts.jsonl"
        row "$label" "$(jq .mb_per_s "$OUT/st.json" | xargs printf '%.0f')" "$(jq .events_per_s "$OUT/st.json")" \
            "$(jq .max_rss_kb "$OUT/st.json") KB" "$(jq .alerts "$OUT/st.json") alerts, $(jq .rules_active "$OUT/st.json") rules$(jq -r '.rules_per_event // empty | ", \(.evaluated) evaluated per event"' "$OUT/st.json")$(jq -r '.prefilter_values // empty | select(.lookups > 0) | ", \(.remembered * 100 / .lookups | floor) % of values remembered"' "$OUT/st.json")$(jq -r '.event_hashing // empty | select(. != "") | ", hashes: \(.)"' "$OUT/st.json")"
        if [ "$bin" = "$BIN" ]; then
            # the same scan with the alerts thrown away: what writing them to a file costs
            warm "$f"
            "$bin" scan -q "${one[@]}" --stats-json "$OUT/st.json" "$@" "$f" > /dev/null
            row "aupwatch scan, 1 thread, alerts to /dev/null" "$(jq .mb_per_s "$OUT/st.json" | xargs printf '%.0f')" \
                "$(jq .events_per_s "$OUT/st.json")" "$(jq .max_rss_kb "$OUT/st.json") KB" ""
        fi
        if [ "$bin" = "$BIN" ] && [ "$THREADS" -gt 1 ] && "$bin" scan --help | grep -q -- '--threads'; then
            warm "$f"
            "$bin" scan -q --threads "$THREADS" --stats-json "$OUT/st.json" "$@" "$f" > "$OUT/alerts-n.jsonl"
            row "aupwatch scan, $THREADS threads" "$(jq .mb_per_s "$OUT/st.json" | xargs printf '%.0f')" "$(jq .events_per_s "$OUT/st.json")" \
                "$(jq .max_rss_kb "$OUT/st.json") KB" "$(jq .alerts "$OUT/st.json") alerts$(jq -r '.cpu_seconds // empty | select(.calling_thread > 0) | ", calling thread \(.calling_thread * 1000 | floor) ms of \(.process * 1000 | floor) ms CPU: the limit near \((.process - .calling_thread) / .calling_thread | floor) workers"' "$OUT/st.json")"
            cmp -s "$OUT/alerts.jsonl" "$OUT/alerts-n.jsonl" || echo "WARNING: $THREADS-thread alerts differ from 1-thread alerts"
        fi
    done
}

ct_rules=(--rules "$C/rules/cloud")
echo "aupwatch $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u +%Y-%m-%d)"
bench_file "CloudTrail JSON lines, SigmaHQ cloud rules" "$OUT/cloudtrail.jsonl" '"eventName":"ConsoleLogin"' "${ct_rules[@]}"
if [ -n "$(find rules -name '*.yml' 2>/dev/null | head -1)" ]; then
    # the pack reads the stateful own_side: workers evaluate both values,
    # the committing thread decides in input order (same alerts for any N)
    ct_rules+=(--rules rules)
    bench_file "CloudTrail JSON lines, SigmaHQ cloud rules + the acceptable-use pack" "$OUT/cloudtrail.jsonl" '"eventName":"ConsoleLogin"' "${ct_rules[@]}"
fi
if [ "$QUICK" = 0 ]; then
    # compressed: decoded on a thread of its own when the scan is threaded
    # (MB/s counts decompressed bytes)
    echo
    echo "### the same CloudTrail file compressed (SigmaHQ cloud rules + pack; MB/s of decompressed JSON)"
    echo
    row "what" "MB/s" "events/s" "peak RSS" "notes"
    row "---" "---:" "---:" "---:" "---"
    for z in zstd gzip; do
        command -v "$z" >/dev/null || { echo "($z not installed: skipped)"; continue; }
        if [ "$z" = zstd ]; then zstd -q -1 -T0 -f -o "$OUT/ct.z" "$OUT/cloudtrail.jsonl"; else gzip -1 -c "$OUT/cloudtrail.jsonl" > "$OUT/ct.z"; fi
        warm "$OUT/ct.z"
        t0=$(now); $z -dc "$OUT/ct.z" > /dev/null; t1=$(now)
        row "$z -dc (baseline)" "$(mbps "$(stat -c %s "$OUT/cloudtrail.jsonl")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")" "-" "-" ""
        for j in 1 "$THREADS"; do
            warm "$OUT/ct.z"
            "$BIN" scan -q --threads "$j" --stats-json "$OUT/st.json" "${ct_rules[@]}" "$OUT/ct.z" > /dev/null
            row "aupwatch scan $z, $j thread(s)" "$(jq .mb_per_s "$OUT/st.json" | xargs printf '%.0f')" "$(jq .events_per_s "$OUT/st.json")" \
                "$(jq .max_rss_kb "$OUT/st.json") KB" ""
            [ "$THREADS" = 1 ] && break
        done
    done
    rm -f "$OUT/ct.z"
fi
# CloudTrail as it is delivered to S3: one gzip file per account, region
# and 5 minutes, holding one {"Records":[...]} envelope; here 1,000
# records a file. Files up to 4 MiB go to the workers whole; the calling
# thread reads them (and decodes: one file at a time, on a thread of
# its own) and commits.
mkdir -p "$OUT/s3"; rm -f "$OUT"/s3/*
split -l 1000 -d -a 5 "$OUT/cloudtrail.jsonl" "$OUT/s3/part."
for f in "$OUT"/s3/part.*; do
    { printf '{"Records":['; paste -sd, "$f" | tr -d '\n'; printf ']}'; } | gzip -1 -c > "$f.json.gz"
    rm -f "$f"
done
nfiles=$(ls "$OUT"/s3 | wc -l)
echo
echo "### CloudTrail as delivered to S3: $nfiles gzip files of 1,000 records in a {\"Records\":[...]} envelope (SigmaHQ cloud rules + pack; MB/s of decompressed JSON)"
echo
row "what" "MB/s" "events/s" "peak RSS" "notes"
row "---" "---:" "---:" "---:" "---"
warm_dir() { cat "$1"/* > /dev/null; }
warm_dir "$OUT/s3"
t0=$(now); cat "$OUT"/s3/* | gzip -dc > /dev/null; t1=$(now)
row "gzip -dc of every file (baseline)" "$(mbps "$(stat -c %s "$OUT/cloudtrail.jsonl")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")" "-" "-" ""
for bin in "$BIN" ${AW_BASELINE_BIN:-}; do
    for j in 1 "$THREADS"; do
        warm_dir "$OUT/s3"
        "$bin" scan -q --threads "$j" --stats-json "$OUT/st.json" "${ct_rules[@]}" "$OUT/s3" > /dev/null
        label="aupwatch scan, $j thread(s)"
        [ "$bin" != "$BIN" ] && label="baseline $(basename "$bin"), $j thread(s)"
        row "$label" "$(jq .mb_per_s "$OUT/st.json" | xargs printf '%.0f')" "$(jq .events_per_s "$OUT/st.json")" \
            "$(jq .max_rss_kb "$OUT/st.json") KB" "$(jq .alerts "$OUT/st.json") alerts$(jq -r '.records_framed_by_calling_thread // empty | select(. > 0) | ", \(.) records framed by the calling thread"' "$OUT/st.json")$(jq -r '.cpu_seconds // empty | select(.calling_thread > 0 and .process > .calling_thread * 1.01) | ", calling thread \(.calling_thread * 1000 | floor) ms of \(.process * 1000 | floor) ms CPU"' "$OUT/st.json")"
        [ "$THREADS" = 1 ] && break
    done
done
rm -rf "$OUT/s3"

win_rules=(--rules "$C/rules" --rules "$C/rules-emerging-threats" --rules "$C/rules-threat-hunting" --rules "$C/rules-compliance")
bench_file "Windows event JSON, full SigmaHQ rule set" "$OUT/windows.jsonl" 'powershell.exe' "${win_rules[@]}"
# the samples repeat their values (a few hundred distinct command lines):
# the same events with every command line, parent command line, target
# file and object made unique, as real telemetry's mostly are
bench_file "Windows event JSON, full SigmaHQ rule set, command lines and targets unique" \
    "$OUT/windows-unique.jsonl" 'powershell.exe' "${win_rules[@]}"

if [ "$MEMCHECK" = 1 ]; then
    echo; echo "### peak memory against input size (CloudTrail)"; echo
    for m in "$MB" $((MB * 4)); do
        "$B"/bench/gen cloudtrail "$m" 3 "${ct_samples[@]}" > "$OUT/mem.jsonl"
        "$BIN" scan -q --stats-json "$OUT/st.json" "${ct_rules[@]}" "$OUT/mem.jsonl" > /dev/null
        echo "- $m MB: peak RSS $(jq .max_rss_kb "$OUT/st.json") KB"
    done
    rm -f "$OUT/mem.jsonl"
fi
exit 0
