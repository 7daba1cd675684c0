#!/usr/bin/env bash
# cloud.test.sh - do the SigmaHQ AWS/Azure/GCP rules fire where the
# labelled datasets say they should? Expectations: cloud_expectations.json
# (how they were derived: README.md). For each dataset file, runs
#   $AW_BIN scan --rules <every rule expected on it> <file>
# once and checks every (record, rule) pair: "ok - ..." / "not ok - ...".
# Skips cleanly without $AW_BIN, a working `scan --help`, ../shared or jq.
set -u
here=$(cd "$(dirname "$0")" && pwd)
exp=$here/cloud_expectations.json
shared=${AW_SHARED:-}
bin=${AW_BIN:-}

if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "skip - cloud conformance: \$AW_BIN is not set or not executable"; exit 0
fi
if ! "$bin" scan --help >/dev/null 2>&1; then
    echo "skip - cloud conformance: $bin scan --help fails"; exit 0
fi
if [ -z "$shared" ] || [ ! -d "$shared/telemetry/datasets" ] || [ ! -d "$shared/sigma/corpus" ]; then
    echo "skip - cloud conformance: \$AW_SHARED datasets or corpus missing"; exit 0
fi
if ! command -v jq >/dev/null 2>&1; then
    echo "skip - cloud conformance: jq is not installed"; exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

jq -r '.expectations[].dataset' "$exp" | sort -u >"$tmp/datasets"
while IFS= read -r ds; do
    input=$shared/$ds
    tag=$(printf '%s' "$ds" | tr '/' '_')
    if [ ! -f "$input" ]; then
        echo "skip - $ds: dataset file missing"; continue
    fi
    rules=()
    while IFS= read -r r; do
        rules+=(--rules "$shared/sigma/corpus/$r")
    done < <(jq -r --arg ds "$ds" '[.expectations[] | select(.dataset == $ds) | .rule_path] | unique[]' "$exp")
    if ! "$bin" scan --no-progress -q "${rules[@]}" "$input" >"$tmp/$tag.out" 2>"$tmp/$tag.err"; then
        echo "not ok - scan $ds exited non-zero: $(head -c 300 "$tmp/$tag.err")"; continue
    fi
    # fired pairs: "rule-id<TAB>record"
    jq -r 'select(.rule.id != null) | "\(.rule.id)\t\(.source.record)"' "$tmp/$tag.out" \
        2>/dev/null | sort -u >"$tmp/$tag.fired"
    jq -r --arg ds "$ds" '.expectations[] | select(.dataset == $ds) |
        "\(.rule_id)\t\(.record)\t\(.must_fire)\t\(.known_gap // false)\t\(.rule_path)"' "$exp" |
    while IFS=$'\t' read -r id rec must gap path; do
        name="$ds#$rec $(basename "$path" .yml)"
        [ "$gap" = true ] && name="$name (known gap)"
        if grep -qxF "$(printf '%s\t%s' "$id" "$rec")" "$tmp/$tag.fired"; then fired=true; else fired=false; fi
        if [ "$fired" = "$must" ]; then
            if [ "$must" = true ]; then echo "ok - $name fires"; else echo "ok - $name stays quiet"; fi
        else
            if [ "$must" = true ]; then echo "not ok - $name should fire"; else echo "not ok - $name should not fire"; fi
        fi
    done
done <"$tmp/datasets"
exit 0
