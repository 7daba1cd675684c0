#!/usr/bin/env bash
# scripts/demo-sigmahq.sh - scan the sample telemetry shipped in examples/ with
# the shipped rules (and SigmaHQ's cloud rules when ../shared is there),
# and show the alerts as a table.
set -eu
cd "$(dirname "$0")/.."
BIN=${AW_BIN:-build/aupwatch}
rules=(--rules rules)
[ -d ../shared/sigma/corpus/rules/cloud ] && rules+=(--rules ../shared/sigma/corpus/rules/cloud)
inputs=(examples/telemetry)
D=../shared/telemetry/datasets
for f in "$D"/stratus-red-team/cloudtrail.jsonl "$D"/panther-analysis-tests/*.events.jsonl \
         "$D"/gcp-audit-log-examples/gcp_cloudaudit.jsonl; do
    [ -f "$f" ] && inputs+=("$f")
done
echo "aupwatch scan ${rules[*]} ${inputs[*]}"
"$BIN" scan "${rules[@]}" --format text "${inputs[@]}"
