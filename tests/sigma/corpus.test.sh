#!/usr/bin/env bash
# corpus.test.sh - the Sigma engine against SigmaHQ's own rules and
# regression data in ../shared/sigma/corpus:
#   - every regression case fires its rule (aupwatch rules test);
#   - every rule compiles or is rejected with a named reason, and the
#     counts by reason equal tests/sigma/corpus_expected.json;
#   - every legacy (unsupported/) rule is rejected, none crashes.
set -u
C=$AW_SHARED/sigma/corpus
EXP=$AW_ROOT/tests/sigma/corpus_expected.json
if [ ! -d "$C" ]; then echo "skip - sigma corpus: $C not found (../shared absent)"; exit 0; fi
if [ ! -x "$AW_BIN" ]; then echo "not ok - aupwatch binary missing at $AW_BIN"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# 1. regression data
out=$("$AW_BIN" rules test "$C/rules" "$C/rules-emerging-threats" "$C/rules-threat-hunting" "$C/rules-compliance" 2>&1)
rc=$?
line=$(printf '%s\n' "$out" | tail -1)
passed=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
want=$(jq '.tests | length' "$C/regression_index.json")
if [ "$rc" -eq 0 ] && [ "${passed:-0}" -ge "$want" ]; then
    echo "ok - regression: $line (index lists $want cases)"
else
    echo "not ok - regression: $line (index lists $want cases)"
    printf '%s\n' "$out" | grep '^FAIL' | head -20
fi

# every case of the index fires its rule on its own events, scanned
# alone; then again with the literal prefilter on every event: one
# rule's literals make small databases, which the full rule set never
# builds (Vectorscan 5.4.9's AVX-512 scan missed literals in those:
# src/sigma/prefilter.c)
cases_fire() {  # label, then VAR=value settings for the scan
    local label=$1 miss=0 rule json want_n n; shift
    while IFS=$'\t' read -r rule json want_n; do
        n=$(env "$@" "$AW_BIN" scan -q --rules "$C/$rule" "$C/$json" | wc -l)
        if [ "$n" -lt "$want_n" ]; then echo "# $rule: $n alerts on $json$label, expected >= $want_n"; miss=$((miss + 1)); fi
    done < <(jq -r '.tests[] | [.rule_path, .json_path, (.match_count // 1)] | @tsv' "$C/regression_index.json")
    if [ "$miss" -eq 0 ]; then echo "ok - regression index: every case fires its rule when scanned alone$label"
    else echo "not ok - regression index: $miss cases do not fire$label"; fi
}
cases_fire ""
cases_fire " with the prefilter on" AUPWATCH_PF_MIN_RULES=1

# 2. counts by reason
for set in active placeholder unsupported deprecated; do
    mapfile -t paths < <(jq -r ".$set.paths[]" "$EXP")
    args=(); for p in "${paths[@]}"; do args+=("$C/$p"); done
    "$AW_BIN" rules check -q --summary-json "$tmp/$set.json" "${args[@]}" >/dev/null 2>"$tmp/$set.err"
    rc=$?
    if [ "$rc" -gt 1 ] || grep -q -E 'Sanitizer|runtime error|Segmentation' "$tmp/$set.err"; then
        echo "not ok - $set: rules check crashed or failed (exit $rc)"; head -5 "$tmp/$set.err"; continue
    fi
    got=$(jq -c '{compiled, rejected, r: (.by_reason | del(.["no-logsource-mapping"]) | to_entries | sort_by(.key) | from_entries)}' "$tmp/$set.json")
    exp=$(jq -c ".$set | {compiled, rejected, r: (.rejected_by_reason | to_entries | sort_by(.key) | from_entries)}" "$EXP")
    if [ "$got" = "$exp" ]; then echo "ok - $set: $got"
    else echo "not ok - $set: got $got expected $exp"; fi
    amin=$(jq ".$set.active_min // 0" "$EXP")
    act=$(jq '.active' "$tmp/$set.json")
    if [ "$act" -ge "$amin" ]; then echo "ok - $set: $act rules can fire (>= $amin)"
    else echo "not ok - $set: only $act rules can fire (expected >= $amin)"; fi
done

# 3. legacy rules: all rejected, each with a reason that names the construct
n_files=$(find "$C/special/unsupported" -name '*.yml' | wc -l)
bad=0
for f in $(find "$C/special/unsupported" -name '*.yml'); do
    "$AW_BIN" rules check -q "$f" >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || { echo "# $f: exit $rc (expected 1: rejected)"; bad=$((bad + 1)); }
done
if [ "$bad" -eq 0 ]; then echo "ok - unsupported: all $n_files legacy files rejected, none crashed"
else echo "not ok - unsupported: $bad of $n_files files not rejected cleanly"; fi

# 4. placeholders: with the example values every placeholder rule compiles
"$AW_BIN" rules check -q --placeholders "$AW_ROOT/docs/examples/placeholders.yml" \
    --summary-json "$tmp/ph.json" "$C/special/rules-placeholder" "$C/rules-emerging-threats" >/dev/null 2>&1
if [ "$(jq .rejected "$tmp/ph.json")" = 0 ]; then echo "ok - placeholders: all resolve with docs/examples/placeholders.yml"
else echo "not ok - placeholders: $(jq -c .by_reason "$tmp/ph.json")"; fi
