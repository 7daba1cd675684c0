#!/usr/bin/env bash
# scan_corr.test.sh - correlations through `aupwatch scan`: JSON alert
# shape (group, tenant, value, window, events, evidence with hashes),
# text and SARIF, --stats-json counters, options, per-group lateness,
# and the streaming property at the CLI: one file or the same records
# split across many files (many reader calls) give the same alerts.
set -u
B=$AW_BIN
[ -x "$B" ] || { echo "not ok - aupwatch binary missing at $B"; exit 0; }
command -v jq >/dev/null || { echo "skip - correlation scan tests: jq missing"; exit 0; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

cat > "$t/rules.yml" <<'R'
title: Many audio objects written
id: 5d1f2c3a-0b7e-4a55-9c11-2f3e4d5a6b01
author: aupwatch tests
correlation:
  type: event_count
  rules: [put_audio]
  group-by: [recipientAccountId, sourceIPAddress]
  timespan: 1m
  condition: {gte: 3}
level: high
---
title: Put audio object
name: put_audio
author: aupwatch tests
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventSource: s3.amazonaws.com, eventName: PutObject}
  condition: sel
R
ev() { printf '{"eventVersion":"1.08","eventTime":"2026-01-01T00:%s","eventSource":"s3.amazonaws.com","eventName":"PutObject","recipientAccountId":"%s","sourceIPAddress":"203.0.113.%s","userIdentity":{"type":"IAMUser"}}\n' "$1" "$2" "$3"; }
{
  ev 00:01Z 111122223333 7; ev 00:02Z 111122223333 8; ev 00:10Z 111122223333 7
  ev 00:30Z 111122223333 7          # 3rd for (1111, .7): fires
  ev 00:31Z 444455556666 7; ev 00:35Z 444455556666 7
  ev 05:00Z 444455556666 7          # too late for the window
  ev 00:20Z 111122223333 8          # out of order (within lateness)
  ev 00:40Z 111122223333 8          # 3rd for (1111, .8): fires
} > "$t/a.jsonl"

out=$("$B" scan -q --no-progress --rules "$t/rules.yml" --stats-json "$t/st.json" "$t/a.jsonl")
n=$(printf '%s\n' "$out" | grep -c '"type":"correlation"')
check "two correlation alerts, no stand-alone detection alerts" "[ $n -eq 2 ] && [ $(printf '%s\n' "$out" | grep -c detection) -eq 0 ]"
sum=$("$B" scan --no-progress --rules "$t/rules.yml" "$t/a.jsonl" 2>&1 >/dev/null)
check "summary: detection alerts and correlation alerts on their own lines" \
  "printf '%s\n' \"\$sum\" | grep -qx 'detection alerts: 0' && printf '%s\n' \"\$sum\" | grep -q '^correlations: 2 alerts'"
first=$(printf '%s\n' "$out" | head -1)
check "alert: rule with author, tenant, value, window, events" \
  "echo '$first' | jq -e '.rule.author==\"aupwatch tests\" and .tenant==\"111122223333\" and .value==3 and .window.start==\"2026-01-01T00:00:01Z\" and .window.end==\"2026-01-01T00:00:30Z\" and .events==3' >/dev/null"
check "alert: group holds the fields, the source IP pseudonymised" \
  "echo '$first' | jq -e '.group.recipientAccountId==\"111122223333\" and (.group.sourceIPAddress|test(\"^(redacted|hmac-sha256:)\"))' >/dev/null"
h=$(sed -n 4p "$t/a.jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)
check "alert: evidence references with record, line and event hash" \
  "echo '$first' | jq -e '(.evidence|length)==3 and .evidence[2].record==4 and .evidence[2].line==4 and .trigger.event_sha256==\"$h\" and .approximate==false' >/dev/null"
second=$(printf '%s\n' "$out" | sed -n 2p)
check "out-of-order event within lateness counted in its window" \
  "echo '$second' | jq -e '.events==3 and .window.start==\"2026-01-01T00:00:02Z\"' >/dev/null"
check "stats-json: correlation counters" \
  "jq -e '.correlation.correlation_alerts==2 and .correlation.late_events==0 and .correlation.evicted_groups==0 and .correlation.approximated_groups==0 and .correlation.missing_time==0 and .correlation.missing_group_field==0' '$t/st.json' >/dev/null"

# the same records split one per file: same alerts
mkdir "$t/split"; i=0
while IFS= read -r l; do i=$((i+1)); printf '%s\n' "$l" > "$t/split/$(printf %03d $i).jsonl"; done < "$t/a.jsonl"
strip='del(.evidence[].file, .trigger.file, .evidence[].record, .evidence[].line, .trigger.record, .trigger.line)'
printf '%s\n' "$out" | jq -c "$strip" > "$t/one"
"$B" scan -q --no-progress --rules "$t/rules.yml" "$t/split" | jq -c "$strip" > "$t/many"
check "streaming: one file or one record per file, same alerts" "cmp -s '$t/one' '$t/many' && [ -s '$t/one' ]"

# lateness is per group: with --corr-lateness 0 the records of (1111, .8)
# that come after (4444, .7)'s 00:05:00 are still in order for their own
# group (not late; formerly a global watermark made them late), while a
# record older than its own group's newest is late, counted, reported
{ cat "$t/a.jsonl"; ev 00:05Z 111122223333 7; } > "$t/a2.jsonl"
"$B" scan --no-progress --corr-lateness 0 --rules "$t/rules.yml" --stats-json "$t/st0.json" "$t/a2.jsonl" >"$t/o0" 2>"$t/e0"
check "--corr-lateness 0: late only within a group, counted and named" \
  "jq -e '.correlation.late_events==1' '$t/st0.json' >/dev/null && grep -q 'correlation-late' '$t/e0' && grep -q '^correlations: 2 alerts' '$t/e0'"
"$B" scan -q --no-progress --rules "$t/rules.yml" --stats-json "$t/st2.json" "$t/a2.jsonl" >/dev/null
check "default lateness: the same record 25 s behind its group is accepted" \
  "jq -e '.correlation.late_events==0 and .correlation.events==10' '$t/st2.json' >/dev/null"

# bounds: one group at a time evicts
"$B" scan -q --no-progress --corr-max-groups 1 --rules "$t/rules.yml" --stats-json "$t/st1.json" "$t/a.jsonl" >/dev/null
check "--corr-max-groups 1: evictions counted" "jq -e '.correlation.evicted_groups>0 and .correlation.evicted_groups_live>0 and .correlation.peak_groups==1' '$t/st1.json' >/dev/null"

"$B" scan -q --no-progress --corr-refire keep --rules "$t/rules.yml" "$t/a.jsonl" > "$t/keep"
check "--corr-refire keep accepted" "[ \$(grep -c correlation '$t/keep') -ge 2 ]"
"$B" scan -q --corr-refire sometimes --rules "$t/rules.yml" "$t/a.jsonl" >/dev/null 2>&1; rc=$?
check "bad --corr-refire is a usage error" "[ $rc -eq 2 ]"
"$B" scan -q --corr-max-values x --rules "$t/rules.yml" "$t/a.jsonl" >/dev/null 2>&1; rc=$?
check "bad --corr-max-values is a usage error" "[ $rc -eq 2 ]"
check "help lists the correlation options" "\"$B\" scan --help | grep -q -- '--corr-lateness' && \"$B\" scan --help | grep -q -- '--corr-max-groups'"

"$B" scan -q --no-progress -f text --rules "$t/rules.yml" "$t/a.jsonl" > "$t/txt"
check "text: correlation line with value and evidence" "grep -q 'Many audio objects written.*correlation value=3 events=3' '$t/txt' && grep -q 'evidence .*a.jsonl:4' '$t/txt'"
"$B" scan -q --no-progress -f sarif --rules "$t/rules.yml" "$t/a.jsonl" > "$t/sarif"
check "sarif: valid, two correlation results" "jq -e '.runs[0].results|length==2 and .[0].properties.type==\"correlation\" and (.[0].locations|length)==3' '$t/sarif' >/dev/null"
