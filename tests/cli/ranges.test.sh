#!/usr/bin/env bash
# ranges.test.sh - with threads, the workers read a regular file's
# chunks themselves (ranges, docs/input.md): alerts equal one thread's,
# and a read that fails midway (an LD_PRELOAD shim, failread.c) is
# reported once, after the alerts of the records before it, and the next
# file is still scanned.
set -u
B=$AW_BIN
[ -x "$B" ] || { echo "not ok - aupwatch binary missing at $B"; exit 0; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

cat > "$t/rule.yml" <<'R'
title: Demo stop logging
id: 6a3b7d1e-6a2b-4c1e-9a0f-0d7c3e2b1a02
status: test
author: aupwatch tests
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}
  condition: sel
level: high
R
# 20,000 records (about 6 MB): six ranges of 1 MB, or sixty of 100 KB
awk 'BEGIN { for (i = 1; i <= 20000; i++)
  printf "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventName\":\"%s\",\"recipientAccountId\":\"111122223333\",\"requestID\":\"%08d-aaaa-bbbb-cccc-dddddddddddd\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111122223333:user/u%d\"}}\n", i % 7 ? "Other" : "StopLogging", i, i }' > "$t/big.jsonl"
head -70 "$t/big.jsonl" > "$t/small.jsonl"
R=(--rules "$t/rule.yml")
"$B" scan -q -j 1 "${R[@]}" "$t/big.jsonl" "$t/small.jsonl" > "$t/a1" 2> "$t/e1"
# threads:chunk bytes (ranges by default from 3 threads; forced on here)
for cfg in 2: 3: 2:100000 3:4096; do
    j=${cfg%%:*} cb=${cfg#*:}
    env ${cb:+AUPWATCH_CHUNK_BYTES=$cb} AUPWATCH_RANGES=1 AUPWATCH_SOLO_MAX=0 "$B" scan -q -j "$j" --stats-json "$t/st.json" "${R[@]}" "$t/big.jsonl" "$t/small.jsonl" > "$t/a2" 2> "$t/e2"
    check "ranges: -j $j (${cb:-1M} bytes) alerts identical to -j 1 ($(wc -l < "$t/a1") alerts)" \
        "[ -s \"$t/a1\" ] && cmp -s \"$t/a1\" \"$t/a2\" && cmp -s \"$t/e1\" \"$t/e2\""
done
check "--stats-json: the calling thread's CPU, within the process's" \
    "jq -e '.cpu_seconds.calling_thread >= 0 and .cpu_seconds.calling_thread <= .cpu_seconds.process' \"$t/st.json\" > /dev/null"
check "--stats-json: how the alerting records are hashed" \
    "jq -e '.event_hashing | IN(\"sha-ni x2\", \"sse x4\", \"avx x4\", \"avx2 x8\", \"avx512 x16\", \"one at a time\")' \"$t/st.json\" > /dev/null"
# every alert's hash is its line's, whether hashed inline (copied, as the
# reader moves on) or on workers, several at once
cat > "$t/sha.py" <<'PY'
import hashlib, json, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
bad = n = 0
for a in open(sys.argv[2]):
    a = json.loads(a)
    if a['source']['file'].endswith('big.jsonl'):
        n += 1
        bad += a['event_sha256'] != hashlib.sha256(lines[a['source']['line'] - 1]).hexdigest()
sys.exit(0 if n > 1000 and bad == 0 else 1)
PY
check "event_sha256 of every alert is its record's (-j 1, $(grep -c big.jsonl "$t/a1") alerts)" "python3 \"$t/sha.py\" \"$t/big.jsonl\" \"$t/a1\""
check "event_sha256 of every alert is its record's (-j 3, ranges)" "python3 \"$t/sha.py\" \"$t/big.jsonl\" \"$t/a2\""

cc=${CC:-cc}
if ! "$cc" -shared -fPIC -O1 -o "$t/failread.so" "$AW_ROOT/tests/cli/failread.c" -ldl 2> "$t/ccerr"; then
    echo "skip - ranges: a failing read: cannot build the shim ($(head -1 "$t/ccerr"))"
    exit 0
fi
size=$(stat -c %s "$t/big.jsonl")
at=$((size / 2))
nl_before=$(head -c "$at" "$t/big.jsonl" | wc -l)
want_small=$(grep -c '"file":"[^"]*small.jsonl"' "$t/a1")
# min 65536: the workers' reads of 100 KB ranges fail; 0: the calling
# thread's look for the next cut fails first
for min in 65536 0; do
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD="$t/failread.so" \
    AW_FAIL_NAME=big.jsonl AW_FAIL_AT=$at AW_FAIL_MIN=$min AUPWATCH_CHUNK_BYTES=100000 AUPWATCH_RANGES=1 AUPWATCH_SOLO_MAX=0 \
        "$B" scan -j 2 "${R[@]}" "$t/big.jsonl" "$t/small.jsonl" > "$t/f" 2> "$t/fe"
    nbig=$(grep -c '"file":"[^"]*big.jsonl"' "$t/f")
    maxline=$(grep '"file":"[^"]*big.jsonl"' "$t/f" | jq -s 'map(.source.line) | max')
    check "ranges: a read failing at byte $at (reads over $min bytes): one read error, naming the file" \
        "[ \$(grep -c 'read-error\]\$' \"$t/fe\") -eq 1 ] && grep 'read-error\]\$' \"$t/fe\" | grep -q 'big.jsonl:[0-9]*: .*read failed'"
    check "ranges: ... the alerts before it, in order, none after it ($nbig alerts, last on line $maxline of $nl_before)" \
        "[ $nbig -gt 0 ] && [ $nbig -lt $(grep -c big.jsonl "$t/a1") ] && [ \"$maxline\" -le $((nl_before + 1)) ] &&
         head -n $nbig \"$t/a1\" | cmp -s - <(grep big.jsonl \"$t/f\")"
    check "ranges: ... and the next file is scanned whole ($want_small alerts)" \
        "[ \$(grep -c '\"file\":\"[^\"]*small.jsonl\"' \"$t/f\") -eq $want_small ] && [ $want_small -gt 0 ]"
done
