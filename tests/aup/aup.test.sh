#!/usr/bin/env bash
# tests/aup/aup.test.sh - the acceptable-use pack against the simulator.
#
# Over 20 simulator seeds, each with its own tenant population and
# parameters: no benign tenant is flagged by a case-opening rule (tag
# aupwatch.case) and every non-evasive interception tenant is flagged
# within 60 minutes of event time. Recall on the evasive variants is
# reported (as "# " lines), not asserted. Also: the policy renderer
# reproduces the shipped pack at scale 1, the pack loads cleanly, the
# records carry nothing of the labels, the simulator is deterministic
# whatever its thread count, and every record it writes is valid JSON.
#
# Small populations at --scale 0.01 (rates and thresholds scaled
# together, rules/aup/render.sh); fewer tenants under the sanitizer
# build. Env: AW_BIN, AW_BUILD, AW_ROOT (tests/run.sh).
set -u
ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${AW_BUILD:-$ROOT/build}
BIN=${AW_BIN:-$BUILD/aupwatch}
SIM=$BUILD/aupwatch-sim
SEEDS=${AUP_SEEDS:-20}
SCALE=0.01

if [ ! -x "$SIM" ] || [ ! -x "$BIN" ]; then
    echo "skip - aup pack tests: $SIM or $BIN not built (make tests)"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aup-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
ntenants=28
case "$BUILD" in *san*) ntenants=16 ;; esac

# --- the pack and its policy ------------------------------------------
if sh "$ROOT/rules/aup/render.sh" "$ROOT/rules/aup/thresholds.policy" "$TMP/r1" &&
   diff -r "$TMP/r1/aws" "$ROOT/rules/aup/aws" >/dev/null &&
   diff -r "$TMP/r1/azure" "$ROOT/rules/aup/azure" >/dev/null &&
   diff -r "$TMP/r1/gcp" "$ROOT/rules/aup/gcp" >/dev/null; then
    echo "ok - thresholds.policy rendered at scale 1 reproduces the shipped pack"
else
    echo "not ok - thresholds.policy rendered at scale 1 differs from rules/aup"
fi
out=$("$BIN" rules check "$ROOT/rules/aup" 2>&1)
if printf '%s\n' "$out" | grep -q ' 0 rejected' && printf '%s\n' "$out" | grep -q ' 0 without a mapping'; then
    echo "ok - rules/aup loads: $(printf '%s\n' "$out" | tail -1)"
else
    echo "not ok - rules/aup has problems: $out"
fi
ncase=$(grep -l 'aupwatch.case' "$ROOT"/rules/aup/*/*.yml | wc -l)
nsingle=$(grep -L '^correlation:' $(grep -l 'aupwatch.case' "$ROOT"/rules/aup/*/*.yml) | wc -l)
if [ "$ncase" -ge 3 ] && [ "$nsingle" -eq 0 ]; then
    echo "ok - $ncase case-opening rules, all correlations of several signals"
else
    echo "not ok - case-opening rules must be correlations ($ncase case rules, $nsingle single-event)"
fi
sh "$ROOT/rules/aup/render.sh" --scale "$SCALE" "$ROOT/rules/aup/thresholds.policy" "$TMP/rules" || {
    echo "not ok - render.sh --scale $SCALE failed"; exit 0; }

# --- simulator properties ---------------------------------------------
"$SIM" -q --out "$TMP/d1" --seed 7 --tenants 12 --hours 0.5 --scale $SCALE --jobs 1
"$SIM" -q --out "$TMP/d2" --seed 7 --tenants 12 --hours 0.5 --scale $SCALE --jobs 2
h1=$(cd "$TMP/d1" && find . -type f | LC_ALL=C sort | while read -r f; do printf '%s ' "$f"; gzip -dc -f "$f" | cksum; done | cksum)
h2=$(cd "$TMP/d2" && find . -type f | LC_ALL=C sort | while read -r f; do printf '%s ' "$f"; gzip -dc -f "$f" | cksum; done | cksum)
if [ "$h1" = "$h2" ]; then
    echo "ok - simulator output depends on the seed only, not on the thread count"
else
    echo "not ok - simulator output differs between --jobs 1 and --jobs 2"
fi
leak=$(find "$TMP/d1/logs" -name '*.gz' -exec gzip -dc {} + |
       grep -c -i -E 'intercept|contact_centre|voicemail|podcast|newsroom|evasive|surveil|wiretap' || true)
if [ "$leak" -eq 0 ]; then
    echo "ok - no record carries a label or a telling name"
else
    echo "not ok - $leak records carry label text"
fi
"$BIN" scan -q --strict --rules "$TMP/rules" --stats-json "$TMP/st.json" "$TMP/d1/logs" >/dev/null
rc=$?
if [ $rc -eq 0 ] && grep -q '"malformed":0' "$TMP/st.json" && ! grep -q '"records":0,' "$TMP/st.json"; then
    echo "ok - every simulated record is valid JSON in a supported framing (scan --strict)"
else
    echo "not ok - scan --strict over simulated logs: rc $rc, $(cat "$TMP/st.json" 2>/dev/null | head -c 300)"
fi

# --- 20 seeds ---------------------------------------------------------
tot_ne=0 tot_ne_hit=0 tot_ev=0 tot_ev_hit=0 tot_fp=0 tot_ben=0 worst=0
: > "$TMP/kinds"
for seed in $(seq 1 "$SEEDS"); do
    # parameters differ per seed: population size and duration
    n=$((ntenants + seed % 5))
    hours=$([ $((seed % 2)) -eq 0 ] && echo 2 || echo 1.5)
    d=$TMP/s$seed
    "$SIM" -q --out "$d" --seed "$seed" --tenants "$n" --hours "$hours" --scale $SCALE
    "$BIN" scan -q --rules "$TMP/rules" "$d/logs" > "$d/alerts.jsonl"
    js=$("$SIM" score --json --labels "$d/labels.jsonl" --alerts "$d/alerts.jsonl")
    get() { printf '%s' "$js" | sed -n "s/.*\"$1\":\([0-9.-]*\).*/\1/p"; }
    fp=$(get fp) ne=$(get nonevasive) nehit=$(get nonevasive_flagged_in_time) ev=$(get evasive) evhit=$(get evasive_flagged)
    ttd=$(get ttd_max)
    ben=$(grep -c '"intercept":false' "$d/labels.jsonl")
    tot_ne=$((tot_ne + ne)) tot_ne_hit=$((tot_ne_hit + nehit)) tot_ev=$((tot_ev + ev))
    tot_ev_hit=$((tot_ev_hit + evhit)) tot_fp=$((tot_fp + fp)) tot_ben=$((tot_ben + ben))
    worst=$(awk -v a="$worst" -v b="$ttd" 'BEGIN { print (b > a ? b : a) }')
    printf '%s\n' "$js" | sed 's/.*"by_kind":{//; s/}}$//' | tr ',' '\n' | paste - - >> "$TMP/kinds"
    if [ "$fp" -ne 0 ]; then
        echo "not ok - seed $seed: benign tenants flagged: $(printf '%s' "$js" | sed 's/.*"fp_by_kind":\({[^}]*}\).*/\1/')"
    else
        echo "ok - seed $seed ($n tenants, ${hours} h): no benign tenant flagged ($ben benign)"
    fi
    if [ "$nehit" -ne "$ne" ]; then
        echo "not ok - seed $seed: $nehit of $ne non-evasive interception tenants flagged within 60 min"
    else
        echo "ok - seed $seed: all $ne non-evasive interception tenants flagged within 60 min (worst ${ttd} min)"
    fi
    rm -rf "$d/logs"
done
echo "# over $SEEDS seeds: benign tenants flagged $tot_fp/$tot_ben, non-evasive interception flagged in time $tot_ne_hit/$tot_ne (worst time to detection ${worst} min), evasive variants flagged $tot_ev_hit/$tot_ev"
awk '{ gsub(/[\[\]"]/, ""); split($1, a, ":"); split($2, b, ":"); k = a[1]; hit[k] += a[2]; tot[k] += b[1] }
     END { for (k in tot) printf "#   %-24s flagged %4d of %4d\n", k, hit[k], tot[k] }' "$TMP/kinds" | sort
