#!/usr/bin/env bash
# scan.test.sh - `aupwatch scan` end to end: input layouts and
# compression, malformed input (reported, counted, never fatal),
# output formats, exit codes, --explain, --stats-json, pseudonymisation.
set -u
B=$AW_BIN
[ -x "$B" ] || { echo "not ok - aupwatch binary missing at $B"; exit 0; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

cat > "$t/rule.yml" <<'R'
title: Demo stop logging
id: 6a3b7d1e-6a2b-4c1e-9a0f-0d7c3e2b1a01
status: test
author: aupwatch tests
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}
  condition: sel
level: high
tags: [attack.defense-impairment]
R
ev() { printf '{"eventVersion":"1.08","eventTime":"2026-01-01T00:00:0%sZ","eventSource":"cloudtrail.amazonaws.com","eventName":"%s","recipientAccountId":"111122223333","sourceIPAddress":"203.0.113.%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u"}}' "$1" "$2" "$1"; }
{ ev 1 StopLogging; echo; ev 2 StartLogging; echo; ev 3 StopLogging; echo; } > "$t/a.jsonl"

n=$("$B" scan -q --rules "$t/rule.yml" "$t/a.jsonl" | wc -l)
check "jsonl: 2 alerts" "[ $n -eq 2 ]"
line=$("$B" scan -q --rules "$t/rule.yml" "$t/a.jsonl" | head -1)
check "alert carries rule author, tenant, time, source, hash" \
  "echo '$line' | jq -e '.type==\"detection\" and .rule.author==\"aupwatch tests\" and .tenant==\"111122223333\" and .time==\"2026-01-01T00:00:01Z\" and .source.record==1 and .source.line==1 and (.event_sha256|length)==64' >/dev/null"
h=$(head -1 "$t/a.jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)
check "event_sha256 is the SHA-256 of the record bytes" "[ \"$(echo "$line" | jq -r .event_sha256)\" = $h ]"

# envelope, array, pretty concatenated, gzip, zstd, stdin
{ printf '{"Records":['; ev 1 StopLogging; printf ','; ev 2 StopLogging; printf ']}'; } > "$t/ct.json"
{ printf '['; ev 1 StopLogging; printf ',\n'; ev 2 Other; printf ']'; } > "$t/arr.json"
{ ev 1 StopLogging | jq .; ev 2 StopLogging | jq .; } > "$t/pretty.json"
gzip -c "$t/ct.json" > "$t/ct.json.gz"; cp "$t/ct.json.gz" "$t/noext"
zstd -q -c "$t/a.jsonl" > "$t/a.zst"
check "CloudTrail envelope" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" \"$t/ct.json\" | wc -l) -eq 2 ]"
check "JSON array" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" \"$t/arr.json\" | wc -l) -eq 1 ]"
check "pretty-printed concatenated objects" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" \"$t/pretty.json\" | wc -l) -eq 2 ]"
check "gzip detected by magic, not name" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" \"$t/noext\" | wc -l) -eq 2 ]"
check "zstd" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" \"$t/a.zst\" | wc -l) -eq 2 ]"
check "stdin" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" - < \"$t/a.jsonl\" | wc -l) -eq 2 ]"
mkdir -p "$t/dir/sub"; cp "$t/a.jsonl" "$t/dir/sub/"; cp "$t/ct.json.gz" "$t/dir/"
check "directory, recursive" "[ \$(\"$B\" scan -q --rules \"$t/rule.yml\" \"$t/dir\" | wc -l) -eq 4 ]"

# malformed input: reported with file:line, counted, scan goes on
{ ev 1 StopLogging; echo; echo '{"eventName": "StopLogging", broken'; printf '{"x":"\xff\xfe"}\n'; ev 3 StopLogging; echo; ev 4 StopLogging | head -c 40; } > "$t/bad.jsonl"
"$B" scan --rules "$t/rule.yml" --stats-json "$t/st.json" "$t/bad.jsonl" > "$t/out" 2> "$t/err"; rc=$?
check "malformed: exit 0 without --strict" "[ $rc -eq 0 ]"
check "malformed: good records still alert" "[ \$(wc -l < \"$t/out\") -eq 2 ]"
check "malformed: file:line reported" "grep -q 'bad.jsonl:2: ' \"$t/err\" && grep -q 'bad.jsonl:3: ' \"$t/err\" && grep -q 'bad.jsonl:5: ' \"$t/err\""
check "malformed: counted in stats" "jq -e '.malformed==3 and .records==5 and .alerts==2' \"$t/st.json\" >/dev/null"
# one rule (too few to index or prefilter): evaluated on each good record
check "stats: rules per event" "jq -e '.rules_per_event.evaluations==2 and .rules_per_event.considered==1 and .rules_per_event.evaluated==1' \"$t/st.json\" >/dev/null"
"$B" scan -q -j 2 --rules "$t/rule.yml" --stats-json "$t/st2.json" "$t/a.jsonl" > /dev/null
check "stats: rules per event summed over threads" "jq -e '.threads==2 and .rules_per_event.evaluations==3 and .rules_per_event.evaluated==1' \"$t/st2.json\" >/dev/null"
# alerts counted by level: one rule per level (others are rejected), one without
mkdir -p "$t/levels"
for lv in informational low medium high critical; do
    printf 'title: level %s\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {eventName: StopLogging}, condition: sel}\nlevel: %s\n' "$lv" "$lv" > "$t/levels/$lv.yml"
done
printf 'title: no level\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {eventName: StopLogging}, condition: sel}\n' > "$t/levels/none.yml"
"$B" scan -q --rules "$t/levels" --stats-json "$t/stl.json" "$t/a.jsonl" > /dev/null 2>&1
check "stats: alerts by level (2 each, the rule without one under none)" \
    "jq -e '.alerts_by_level == {informational: 2, low: 2, medium: 2, high: 2, critical: 2, none: 2}' \"$t/stl.json\" > /dev/null"
"$B" scan -q --strict --rules "$t/rule.yml" "$t/bad.jsonl" >/dev/null 2>&1; rc=$?
check "--strict: malformed records exit 1" "[ $rc -eq 1 ]"
head -c 2000000 /dev/zero | tr '\0' 'a' | sed 's/^/{"k":"/; s/$/"}/' > "$t/big.jsonl"; ev 1 StopLogging >> "$t/big.jsonl"
out=$("$B" scan --max-record 100000 --rules "$t/rule.yml" "$t/big.jsonl" 2>&1 >/dev/null)
check "oversized record rejected by name, next record kept" "echo \"\$out\" | grep -q 'big.jsonl:1:' && [ \$(\"$B\" scan -q --max-record 100000 --rules \"$t/rule.yml\" \"$t/big.jsonl\" | wc -l) -eq 1 ]"

# exit codes
"$B" scan --rules "$t/rule.yml" "$t/nonexistent" >/dev/null 2>&1; rc=$?
check "unreadable input: exit 2" "[ $rc -eq 2 ]"
"$B" scan --bogus >/dev/null 2>&1; rc=$?
check "unknown option: exit 2" "[ $rc -eq 2 ]"
printf 'title: x\nlogsource: {product: aws}\ndetection: {s: {a|nosuch: 1}, condition: s}\n' > "$t/badrule.yml"
"$B" scan -q --strict --rules "$t/badrule.yml" --rules "$t/rule.yml" "$t/a.jsonl" >/dev/null 2>&1; rc=$?
check "--strict: rejected rule exits 1" "[ $rc -eq 1 ]"
"$B" rules check "$t/badrule.yml" > "$t/chk" 2>&1; rc=$?
check "rules check: file:line: reason, exit 1" "[ $rc -eq 1 ] && grep -q 'badrule.yml:3: unknown modifier .nosuch.' \"$t/chk\""
# usage errors: exit 2 and a message naming what was wrong
usage() {   # name, expected message, command...
    local name=$1 want=$2; shift 2
    "$B" "$@" > /dev/null 2> "$t/usage"; local rc=$?
    check "usage: $name" "[ $rc -eq 2 ] && grep -q -- \"$want\" \"$t/usage\""
}
usage "unknown command" "unknown command 'frob'" frob
usage "rules: unknown subcommand" "unknown subcommand 'frob'" rules frob x
usage "rules check: unknown option" "unknown option '--bogus'" rules check --bogus x
usage "rules check: no path" "no PATH given" rules check
usage "log: unknown subcommand" "unknown subcommand 'frob'" log frob
usage "scan: unknown option named" "unknown option '--bogus'" scan --bogus

# formats and explain
check "--format sarif is valid JSON with results" "\"$B\" scan -q -f sarif --rules \"$t/rule.yml\" \"$t/a.jsonl\" | jq -e '.version==\"2.1.0\" and (.runs[0].results|length)==2' >/dev/null"
check "--format text prints a table" "\"$B\" scan -q -f text --rules \"$t/rule.yml\" \"$t/a.jsonl\" | grep -q 'Demo stop logging'"
check "--explain names identifier, field and value" "\"$B\" scan -q --explain --rules \"$t/rule.yml\" \"$t/a.jsonl\" | head -1 | jq -e '.explain | any(.identifier==\"sel\" and .field==\"eventName\" and .value==\"StopLogging\")' >/dev/null"
# Alerts are rendered two ways on the workers: JSON straight into the
# batch, or through a stream when explained. Both must agree, also for an
# alert longer than the room reserved for it (2,001 tags, a long file name)
# and with the record number and line spliced in at commit (chunks; in
# ranges the line is known only then).
tags=$(for i in $(seq 1000 3000); do printf 'attack.t%d.007, ' "$i"; done)
sed "s/^tags: .*/tags: [${tags%, }]/" "$t/rule.yml" > "$t/longrule.yml"
lf="$t/$(head -c 200 /dev/zero | tr '\0' 'f').jsonl"
for i in 1 2 3 4 5 6; do ev $i StopLogging; echo; ev $i Other; echo; done > "$lf"
for rl in rule longrule; do
  for j in 1 2; do
    AUPWATCH_SOLO_MAX=0 AUPWATCH_CHUNK_BYTES=1 "$B" scan -q -j $j --rules "$t/$rl.yml" "$lf" | jq -c . > "$t/plain" 2>/dev/null
    AUPWATCH_SOLO_MAX=0 AUPWATCH_CHUNK_BYTES=1 "$B" scan -q -j $j --explain --rules "$t/$rl.yml" "$lf" | jq -c 'del(.explain)' > "$t/expl" 2>/dev/null
    check "alerts rendered direct = through the stream ($rl, -j$j)" \
      "[ \$(wc -l < \"$t/plain\") -eq 6 ] && cmp -s \"$t/plain\" \"$t/expl\" && [ \"\$(jq -r .source.record \"$t/plain\" | tr '\\n' ' ')\" = '1 3 5 7 9 11 ' ] &&
       [ \"\$(jq -r .source.line \"$t/plain\" | tr '\\n' ' ')\" = '1 3 5 7 9 11 ' ]"
  done
done
check "a long alert is whole" "jq -e '(.rule.tags|length)==2001 and (tostring|length)>30000' \"$t/plain\" >/dev/null"

# pseudonymisation: a mapping declares sourceIPAddress pseudonymised
cat > "$t/map.yml" <<'M'
sources:
  - name: ct-pseudo
    logsource: {product: aws, service: cloudtrail}
    when: {exists: eventVersion}
    time: eventTime
    tenant: recipientAccountId
    pseudonymise: [sourceIPAddress, tenant]
M
cat > "$t/iprule.yml" <<'R'
title: ip
author: t
logsource: {product: aws, service: cloudtrail}
detection: {sel: {sourceIPAddress: 203.0.113.1}, condition: sel}
R
printf 'k3y-for-tests-only' > "$t/key"
out=$("$B" scan -q --no-builtin-mappings --mapping "$t/map.yml" --pseudonym-key-file "$t/key" --explain --rules "$t/iprule.yml" "$t/a.jsonl")
check "pseudonymised field still matches on the original value" "[ \$(echo \"\$out\" | wc -l) -eq 1 ]"
check "alert carries only pseudonyms (tenant, explained value)" "! echo \"\$out\" | grep -q -e 203.0.113.1 -e 111122223333 && echo \"\$out\" | grep -q hmac-sha256"
check "the key never appears in output" "! echo \"\$out\" | grep -q k3y-for-tests-only"
out2=$(AUPWATCH_PSEUDONYM_KEY=another-key-of-enough-length "$B" scan -q --no-builtin-mappings --mapping "$t/map.yml" --rules "$t/iprule.yml" "$t/a.jsonl")
check "pseudonyms depend on the key" "[ -n \"\$out2\" ] && [ \"\$(echo \"\$out\" | jq -r .tenant)\" != \"\$(echo \"\$out2\" | jq -r .tenant)\" ]"

# a picture for people who would rather look than read
"$B" scan -q --picture "$t/p.svg" --rules "$t/rule.yml" "$t/a.jsonl" "$t/ct.json" > /dev/null
check "--picture writes a well-formed SVG naming the alert count" \
  "python3 -c 'import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); assert d.documentElement.tagName==\"svg\"' \"$t/p.svg\" && grep -q '4 alerts' \"$t/p.svg\""
"$B" scan -q --picture /nonexistent/dir/p.svg --rules "$t/rule.yml" "$t/a.jsonl" > /dev/null 2>&1; rc=$?
check "--picture to an unwritable path: exit 2" "[ $rc -eq 2 ]"

# an alert longer than the renderer's 2 KB buffer (a 2.4 KB input path):
# whole and the same at 1 and 2 threads
d=$t; for i in 1 2 3 4 5 6 7 8 9 10; do d=$d/$(printf 'd%.0s' $(seq 1 240))$i; done
mkdir -p "$d" && ev 1 StopLogging > "$d/ev.jsonl" && echo >> "$d/ev.jsonl"
o1=$("$B" scan -q -j1 --rules "$t/rule.yml" "$d/ev.jsonl"); o2=$("$B" scan -q -j2 --rules "$t/rule.yml" "$d/ev.jsonl")
check "a long alert is written whole (1 and 2 threads)" \
  "[ \"\$(echo \"\$o1\" | jq -r .source.file)\" = \"$d/ev.jsonl\" ] && [ \"\$o1\" = \"\$o2\" ] && [ \${#o1} -gt 2500 ]"

# gzip members framed where they were decoded (the reader's lent mode):
# an envelope over 4 MiB (framed by the calling thread, its records kept
# in place in batches), members that split a record, a bad element, an
# empty member and JSON lines after it. The alerts, their lines, record
# numbers, hashes and the malformed count are those of the same bytes
# uncompressed, at 1 and 2 threads.
python3 - "$t" <<'PY'
import gzip, json, sys
t = sys.argv[1]
def ev(i, name):
    return json.dumps({"eventVersion": "1.08", "eventTime": "2026-01-01T00:00:%02dZ" % (i % 60),
                       "eventSource": "cloudtrail.amazonaws.com", "eventName": name,
                       "recipientAccountId": "111122223333", "pad": "x" * 300,
                       "sourceIPAddress": "203.0.113.%d" % (i % 250)}, separators=(",", ":"))
env = '{"Records":[' + ",\n".join(ev(i, "StopLogging" if i % 7 == 0 else "Other") for i in range(14000)) + "]}\n"
lines = "".join(ev(i, "StopLogging" if i % 5 == 0 else "Other") + "\n" for i in range(3000))
parts = [env[:1000], env[1000:], "", '{"bad": \n', lines[:777], lines[777:]]
open(t + "/lent.json", "w").write("".join(parts))
with open(t + "/lent.json.gz", "wb") as f:
    for p in parts:
        f.write(gzip.compress(p.encode()))
with open(t + "/lent1.json.gz", "wb") as f:
    f.write(gzip.compress(env.encode()))
PY
# (AUPWATCH_SOLO_MAX=0: not read whole by one worker, below)
for j in 1 2; do
    "$B" scan -q -j $j --stats-json "$t/lp$j.json" --rules "$t/rule.yml" "$t/lent.json" | jq -c 'del(.source.file)' > "$t/lp$j"
    AUPWATCH_SOLO_MAX=0 "$B" scan -q -j $j --stats-json "$t/lg$j.json" --rules "$t/rule.yml" "$t/lent.json.gz" | jq -c 'del(.source.file)' > "$t/lg$j"
    AUPWATCH_SOLO_MAX=0 "$B" scan -q -j $j --rules "$t/rule.yml" "$t/lent1.json.gz" | jq -c 'del(.source.file)' > "$t/l1g$j"
done
check "gzip members framed in place: alerts of the uncompressed bytes (1 and 2 threads)" \
  "[ \$(wc -l < \"$t/lp1\") -eq 2600 ] && cmp -s \"$t/lp1\" \"$t/lg1\" && cmp -s \"$t/lp1\" \"$t/lg2\" && cmp -s \"$t/lp1\" \"$t/lp2\""
check "gzip members framed in place: one envelope member alone" \
  "[ \$(wc -l < \"$t/l1g2\") -eq 2000 ] && cmp -s \"$t/l1g1\" \"$t/l1g2\" && cmp -s \"$t/l1g2\" <(head -2000 \"$t/lp1\")"
check "gzip members framed in place: the bad element counted, the envelope framed by the calling thread" \
  "jq -e '.malformed==1 and .records_framed_by_calling_thread > 10000' \"$t/lg2.json\" >/dev/null && jq -e '.malformed==1' \"$t/lp2.json\" >/dev/null"

# a gzip file whose last member decodes to at most 64 MiB is read whole
# by one worker (aw_reader_solo), its records committed in parts: the
# same alerts and count, and nothing framed by the calling thread
"$B" scan -q -j 2 --stats-json "$t/ls.json" --rules "$t/rule.yml" "$t/lent.json.gz" | jq -c 'del(.source.file)' > "$t/ls"
AUPWATCH_CHUNK_BYTES=4096 "$B" scan -q -j 3 --stats-json "$t/ls4.json" --rules "$t/rule.yml" "$t/lent.json.gz" | jq -c 'del(.source.file)' > "$t/ls4"
check "a gzip file read whole by one worker: the alerts of one thread, in 4 KiB parts too" \
  "cmp -s \"$t/lp1\" \"$t/ls\" && cmp -s \"$t/lp1\" \"$t/ls4\" && jq -e '.malformed==1 and .records==17001 and .records_framed_by_calling_thread==0 and .files_read_whole_by_a_worker==1' \"$t/ls.json\" >/dev/null"
# (a file alone: the workers it leaves idle evaluate parts of it)
check "a gzip file read whole by one worker: parts of it shared with the idle workers" \
  "jq -e '.parts_shared > 0 and .malformed==1 and .records==17001' \"$t/ls4.json\" >/dev/null"

# many such files in one scan, of all sizes, among plain files, files
# over the limit (decoded on the reader's thread) and damaged ones: the
# alerts and every diagnostic those of one thread, whatever the parts'
# size (4 KiB parts: workers wait for the committing thread)
mkdir -p "$t/many"
python3 - "$t/many" <<'PY2'
import gzip, json, random, sys
random.seed(3)
d = sys.argv[1]
def ev(i):
    return json.dumps({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging" if i % 9 == 0 else "X",
                       "recipientAccountId": "111122223333", "i": i, "pad": "p" * random.randint(0, 400)})
for k in range(40):
    n = 3000 if k % 13 == 6 else random.choice([0, 1, 3, 50, 400, 3000, 12000])
    recs = [ev(k * 100000 + i) for i in range(n)]
    if k % 7 == 3 or k % 13 == 6:
        recs.insert(n * 3 // 5, '{"bad": ')
    body = ('{"Records":[' + ",\n".join(recs) + "]}\n") if k % 3 == 0 else "".join(r + "\n" for r in recs)
    name = "%s/f%02d.json" % (d, k)
    if k % 10 == 5:
        open(name, "w").write(body)
        continue
    data = gzip.compress(body.encode())
    if k % 13 == 6:
        data = data[: len(data) * 2 // 3]       # cut short: a read error after the records before it
    open(name + ".gz", "wb").write(data)
PY2
"$B" scan -j 1 --rules "$t/rule.yml" "$t/many" > "$t/m1" 2> "$t/me1"
grep -v 'MB/s' "$t/me1" > "$t/mf1"
for v in "" "AUPWATCH_SOLO_MAX=200000" "AUPWATCH_CHUNK_BYTES=4096"; do
    env $v "$B" scan -j 3 --stats-json "$t/ms.json" --rules "$t/rule.yml" "$t/many" > "$t/m3" 2> "$t/me3"
    grep -v 'MB/s' "$t/me3" > "$t/mf3"
    check "many gzip files read whole by workers ($v): alerts and diagnostics as one thread's" \
      "[ \$(wc -l < \"$t/m1\") -gt 1000 ] && cmp -s \"$t/m1\" \"$t/m3\" && cmp -s \"$t/mf1\" \"$t/mf3\""
done
# (one thread's: a bad record, then the read error after it, in order)
check "a gzip file cut short: its bad record, then the read error" \
  "grep 'f06.json.gz' \"$t/mf1\" | head -1 | grep -q 'bad-record' && grep 'f06.json.gz' \"$t/mf1\" | tail -1 | grep -q 'truncated gzip stream \[read-error\]'"

# chunks' lines are counted by their framers and added up at commit
# (aw_reader_defer_lines): with 4 KiB chunks over records that span
# lines, arrays and records cut short, the alerts and every diagnostic's
# line are those of one thread, plain and gzip
python3 - "$t" <<'PY'
import json, random, sys
random.seed(7)
out = []
for i in range(20000):
    r = random.random()
    if r < 0.002:
        out.append('{"bad": \n')
    elif r < 0.004:
        out.append(json.dumps({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "n": i}, indent=1) + "\n")
    elif r < 0.005:
        out.append('[{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","arr":%d},\n{"x":1}]\n' % i)
    else:
        out.append(json.dumps({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging" if i % 50 == 0 else "X",
                               "recipientAccountId": "111122223333", "i": i, "pad": "p" * random.randint(10, 300)}) + "\n")
open(sys.argv[1] + "/mixed.jsonl", "w").write("".join(out))
PY
gzip -kf "$t/mixed.jsonl"
for f in mixed.jsonl mixed.jsonl.gz; do
    for j in 1 2; do
        AUPWATCH_SOLO_MAX=0 AUPWATCH_CHUNK_BYTES=4096 "$B" scan -j $j --rules "$t/rule.yml" "$t/$f" > "$t/mo$j" 2> "$t/me$j"
        grep -v 'MB/s' "$t/me$j" > "$t/mf$j"
    done
    check "lines added up at commit ($f): alerts and diagnostics as one thread's" \
      "[ \$(grep -c 'is not closed' \"$t/mf1\") -gt 20 ] && cmp -s \"$t/mo1\" \"$t/mo2\" && cmp -s \"$t/mf1\" \"$t/mf2\""
done
