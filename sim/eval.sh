#!/bin/sh
# sim/eval.sh - measure the acceptable-use pack over many simulator seeds
# and print the table of docs/aup-detection.md: per tenant kind and
# provider, how many tenants a case-opening rule flagged; benign tenants
# flagged; time to detection of the non-evasive interception tenants.
#
#   sh sim/eval.sh [SEEDS] [SCALE]          (default 20 seeds, scale 0.01)
#
# Seed s uses 28 + s%5 tenants over 1.5 or 2 hours, as tests/aup does.
# Env: B (build dir, default build), TMPDIR.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
seeds=${1:-20} scale=${2:-0.01}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aup-eval.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sh rules/aup/render.sh --scale "$scale" rules/aup/thresholds.policy "$tmp/rules"
: > "$tmp/flagged"
: > "$tmp/labels"
: > "$tmp/ttd"
for s in $(seq 1 "$seeds"); do
    n=$((28 + s % 5))
    hours=$([ $((s % 2)) -eq 0 ] && echo 2 || echo 1.5)
    d=$tmp/s$s
    "$B/aupwatch-sim" -q --out "$d" --seed "$s" --tenants "$n" --hours "$hours" --scale "$scale"
    "$B/aupwatch" scan -q --rules "$tmp/rules" "$d/logs" > "$d/alerts.jsonl"
    cat "$d/labels.jsonl" >> "$tmp/labels"
    "$B/aupwatch-sim" score --labels "$d/labels.jsonl" --alerts "$d/alerts.jsonl" |
        awk '/^  [^ ]/ { sub("truth=", "", $3); print $2, $3; for (i = 4; i <= NF; i++) if ($i ~ /^ttd=/) { t = $i; sub("ttd=", "", t); sub("min", "", t); if ($3 == "intercept") print t > "/dev/stderr" } }' \
        >> "$tmp/flagged" 2>> "$tmp/ttd"
    rm -rf "$d/logs"
done
sed 's/.*"provider":"\([a-z]*\)","kind":"\([a-z_]*\)".*/\1 \2/' "$tmp/labels" | sort | uniq -c > "$tmp/tot"
sort "$tmp/flagged" | uniq -c > "$tmp/hit"
echo "seeds $seeds, scale $scale"
echo
echo "| kind | AWS | Azure | GCP | all |"
echo "|---|---|---|---|---|"
for k in intercept intercept_flee intercept_opaque_keys intercept_renamed_ext intercept_split \
         contact_centre voicemail podcast_hosting media_transcription newsroom_translation background; do
    line="| $k"
    ta=0 ha=0
    for p in aws azure gcp; do
        t=$(awk -v p=$p -v k=$k '$2 == p && $3 == k { print $1 }' "$tmp/tot"); t=${t:-0}
        h=$(awk -v p=$p -v k=$k '$2 == p && $3 == k { print $1 }' "$tmp/hit"); h=${h:-0}
        line="$line | $h / $t"
        ta=$((ta + t)) ha=$((ha + h))
    done
    echo "$line | $ha / $ta |"
done
echo
sort -n "$tmp/ttd" | awk '{ v[NR] = $1 } END { if (NR) printf "time to detection, non-evasive (min, %d tenants): min %.0f, median %.0f, p90 %.0f, max %.0f\n", NR, v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }'
