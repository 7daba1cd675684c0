#!/usr/bin/env bash
# sim_corr.test.sh - per-group lateness at the scan level, on provider
# telemetry from build/aupwatch-sim (a small multi-tenant slice: 12
# tenants, 1 hour, scale 0.01, the acceptable-use pack rendered at the
# same scale).
#
# The simulator writes one file per tenant per 5-minute delivery window;
# a directory walk reads tenant A's 5 minutes, then tenant B's, ... and
# each tenant's file is itself up to 5 minutes out of order. Read that
# way, and also tenant after tenant (every file of tenant A for the whole
# hour, then B's: streams 1 hour apart, far beyond the 5-minute lateness
# bound), no event may be late: lateness is per group (a global
# watermark lost one flagged tenant and ~20 000 events on the second
# order). Both orders must flag the same tenants with the pack's
# case-opening rules (tag aupwatch.case), no benign tenant, and every
# non-evasive interception tenant in time (as tests/aup/aup.test.sh).
# Env: AW_BIN, AW_BUILD, AW_ROOT (tests/run.sh).
set -u
ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${AW_BUILD:-$ROOT/build}
BIN=${AW_BIN:-$BUILD/aupwatch}
SIM=$BUILD/aupwatch-sim
if [ ! -x "$SIM" ] || [ ! -x "$BIN" ]; then
    echo "skip - sim correlation tests: $SIM or $BIN not built (make tests)"
    exit 0
fi
command -v jq >/dev/null || { echo "skip - sim correlation tests: jq missing"; exit 0; }
t=$(mktemp -d "${TMPDIR:-/tmp}/sim-corr.XXXXXX"); trap 'rm -rf "$t"' EXIT
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

"$SIM" -q --out "$t/d" --seed 9 --tenants 12 --hours 1 --scale 0.01 || { no "simulator failed"; exit 0; }
sh "$ROOT/rules/aup/render.sh" --scale 0.01 "$ROOT/rules/aup/thresholds.policy" "$t/rules" ||
    { no "render.sh --scale 0.01 failed"; exit 0; }
flagged() {   # tenants flagged by case-opening correlations
    jq -r 'select(.type=="correlation" and (.rule.tags|index("aupwatch.case"))) | .tenant' "$1" | sort -u
}

# delivery order (directory walk)
"$BIN" scan -q --no-progress --rules "$t/rules" --stats-json "$t/st_dir.json" "$t/d/logs" > "$t/al_dir.jsonl"
check "delivery order: correlation events, none late" \
  "jq -e '.correlation.events > 1000 and .correlation.late_events == 0' '$t/st_dir.json' >/dev/null"
js=$("$SIM" score --json --labels "$t/d/labels.jsonl" --alerts "$t/al_dir.jsonl")
get() { printf '%s' "$js" | sed -n "s/.*\"$1\":\([0-9.-]*\).*/\1/p"; }
check "delivery order: no benign tenant flagged, all $(get nonevasive) non-evasive interception tenants in time" \
  "[ '$(get fp)' = 0 ] && [ '$(get nonevasive)' -gt 0 ] && [ '$(get nonevasive_flagged_in_time)' = '$(get nonevasive)' ]"

# tenant after tenant: each tenant's files for the whole hour, in time
# order, then the next tenant's (sorted by the path below the delivery
# folder, which names the tenant, then the window)
(cd "$t/d/logs" && find . -type f | awk '{k = $0; sub(/^\.\/[^\/]*\//, "", k); print k "\t" $0}' |
    sort -V -k1,1 | cut -f2 | sed "s|^\./|$t/d/logs/|") > "$t/files"
mapfile -t files < "$t/files"
"$BIN" scan -q --no-progress --rules "$t/rules" --stats-json "$t/st_ten.json" "${files[@]}" > "$t/al_ten.jsonl"
check "tenant after tenant (${#files[@]} files, streams 1 h apart): none late" \
  "jq -e '.correlation.late_events == 0 and .correlation.events > 1000' '$t/st_ten.json' >/dev/null"
flagged "$t/al_dir.jsonl" > "$t/f_dir"
flagged "$t/al_ten.jsonl" > "$t/f_ten"
check "both orders flag the same $(wc -l < "$t/f_dir") tenants with case-opening rules" \
  "[ -s '$t/f_dir' ] && cmp -s '$t/f_dir' '$t/f_ten'"
