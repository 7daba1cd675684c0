#!/bin/sh
# sim/demo.sh - the main demo: simulate a slice of a region (CloudTrail,
# Azure and GCP logs of a labelled tenant population), scan it with the
# acceptable-use pack, print the flagged tenants with their evidence
# summary and the score against the simulator's ground truth.
#
#   sh sim/demo.sh [OUTDIR]        (default /tmp/aupwatch-demo)
#
# Env: B (build dir, default build), AUP_SEED (42), AUP_TENANTS (40),
# AUP_HOURS (2), AUP_SCALE (0.05: rates and the pack's thresholds are
# scaled together; 1 is a real region's absolute rates).
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
out=${1:-/tmp/aupwatch-demo}
seed=${AUP_SEED:-42} tenants=${AUP_TENANTS:-40} hours=${AUP_HOURS:-2} scale=${AUP_SCALE:-0.05}
[ -x "$B/aupwatch-sim" ] && [ -x "$B/aupwatch" ] || { echo "demo.sh: run make first" >&2; exit 2; }
rm -rf "$out"
"$B/aupwatch-sim" --out "$out" --seed "$seed" --tenants "$tenants" --hours "$hours" --scale "$scale"
sh rules/aup/render.sh --scale "$scale" rules/aup/thresholds.policy "$out/rules"
"$B/aupwatch" scan --no-progress --rules "$out/rules" -o "$out/alerts.jsonl" --picture "$out/alerts.svg" "$out/logs"
echo
"$B/aupwatch-sim" score --labels "$out/labels.jsonl" --alerts "$out/alerts.jsonl"
echo
echo "alerts: $out/alerts.jsonl   picture: $out/alerts.svg (open it in a browser)"
