#!/usr/bin/env bash
# differential.test.sh - the fast path (rule dispatch by required field
# values, the literals of field values remembered, fields read by object)
# and the reference path (every rule of a source on every event, every
# value scanned, every field read by its path: AUPWATCH_NO_DISPATCH=1
# AUPWATCH_PF_CACHE=0 AUPWATCH_FIELD_GROUPS=0) must produce identical
# alerts, byte for byte, over SigmaHQ's rules and every sample we have.
set -u
C=$AW_SHARED/sigma/corpus
D=$AW_SHARED/telemetry/datasets
if [ ! -d "$C" ] || [ ! -d "$D" ]; then echo "skip - differential: ../shared absent"; exit 0; fi
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
run() {  # name, then scan args
    local name=$1; shift
    "$AW_BIN" scan -q "$@" > "$t/fast" 2>/dev/null
    AUPWATCH_NO_DISPATCH=1 AUPWATCH_PF_CACHE=0 AUPWATCH_FIELD_GROUPS=0 "$AW_BIN" scan -q "$@" > "$t/ref" 2>/dev/null
    local n; n=$(wc -l < "$t/ref")
    if cmp -s "$t/fast" "$t/ref" && [ "$n" -gt 0 ]; then echo "ok - differential $name: $n identical alerts"
    else echo "not ok - differential $name: fast $(wc -l < "$t/fast") vs reference $n alerts"; diff "$t/fast" "$t/ref" | head -5; fi
}
run cloud --rules "$C/rules/cloud" --rules "$C/rules/identity" --rules "$C/rules/application" "$D"
run windows --rules "$C/rules/windows" --rules "$C/rules-emerging-threats" --rules "$C/rules-threat-hunting" "$C/regression_data"
if [ -d "$AW_ROOT/examples/telemetry" ]; then run examples --rules "$C/rules" "$AW_ROOT/examples/telemetry"; fi
# the literal prefilter on every event (off by default where few rules
# run on every event, as on CloudTrail), against the same reference
AUPWATCH_PF_MIN_RULES=1 run cloud-prefilter --rules "$C/rules/cloud" --rules "$C/rules/identity" \
    --rules "$C/rules/application" "$D"

# the benchmark's generated inputs (bench/gen.c: records drawn from the
# samples, fresh ids and times; windows-unique makes every command line
# and target distinct, so no remembered value answers for another), with
# the rule sets the benchmark loads; seeds from AW_DIFF_SEEDS
GEN=$AW_BUILD/bench/gen
SEEDS=${AW_DIFF_SEEDS:-3 11}
if [ -x "$GEN" ]; then
    ct_samples=("$D"/stratus-red-team/cloudtrail.jsonl "$D"/panther-analysis-tests/aws_cloudtrail.events.jsonl "$D"/otrf-security-datasets)
    all_rules=(--rules "$C/rules" --rules "$C/rules-emerging-threats" --rules "$C/rules-threat-hunting" --rules "$C/rules-compliance")
    for seed in $SEEDS; do
        if ! { "$GEN" cloudtrail 3 "$seed" "${ct_samples[@]}" > "$t/gct.jsonl" &&
               "$GEN" windows 1 "$seed" "$C/regression_data" > "$t/gw.jsonl" &&
               "$GEN" windows-unique 1 "$seed" "$C/regression_data" > "$t/gwu.jsonl"; } 2> "$t/gen.err"; then
            echo "not ok - differential: bench/gen failed (seed $seed): $(head -c 300 "$t/gen.err")"; continue
        fi
        run "generated CloudTrail, seed $seed, cloud rules + the pack" --rules "$C/rules/cloud" --rules "$AW_ROOT/rules" "$t/gct.jsonl"
        AUPWATCH_PF_MIN_RULES=1 run "generated CloudTrail, seed $seed, prefilter on every event" --rules "$C/rules/cloud" "$t/gct.jsonl"
        run "generated Windows events, seed $seed, every SigmaHQ rule" "${all_rules[@]}" "$t/gw.jsonl" "$t/gwu.jsonl"
        # and the fast path on two threads (ranges, chunks): same bytes
        "$AW_BIN" scan -q -j 1 "${all_rules[@]}" "$t/gw.jsonl" "$t/gwu.jsonl" > "$t/g1" 2>/dev/null
        AUPWATCH_SOLO_MAX=0 AUPWATCH_CHUNK_BYTES=65536 "$AW_BIN" scan -q -j 2 "${all_rules[@]}" "$t/gw.jsonl" "$t/gwu.jsonl" > "$t/g2" 2>/dev/null
        if cmp -s "$t/g1" "$t/g2" && [ -s "$t/g1" ]; then echo "ok - differential generated Windows events, seed $seed: -j 2 equals -j 1 ($(wc -l < "$t/g1") alerts)"
        else echo "not ok - differential generated Windows events, seed $seed: -j 2 differs from -j 1"; fi
    done
else
    echo "skip - differential over generated inputs: $GEN not built (make tests builds it)"
fi

# the simulator's provider telemetry (AWS, Azure, GCP; tenants of every
# kind) with the acceptable-use pack rendered for it and SigmaHQ's
# cloud rules
if [ -x "$AW_BUILD/aupwatch-sim" ]; then
    for seed in $SEEDS; do
        rm -rf "$t/ds"
        "$AW_BUILD/aupwatch-sim" --out "$t/ds" --seed "$seed" --tenants 12 --hours 1 --scale 0.02 -q > /dev/null 2>&1
        sh "$AW_ROOT/rules/aup/render.sh" --scale 0.02 "$AW_ROOT/rules/aup/thresholds.policy" "$t/ds/rules" > /dev/null 2>&1
        run "simulated telemetry, seed $seed, the pack + cloud rules" --rules "$t/ds/rules" --rules "$C/rules/cloud" "$t/ds/logs"
    done
else
    echo "skip - differential over simulated telemetry: aupwatch-sim not built"
fi

# threads: batches are evaluated in parallel and committed in input
# order, so any thread count gives the same bytes as one thread
"$AW_BIN" scan -q -j 1 --rules "$C/rules/cloud" "$D" "$C/regression_data" > "$t/j1" 2>/dev/null
"$AW_BIN" scan -q -j 3 --rules "$C/rules/cloud" "$D" "$C/regression_data" > "$t/j3" 2>/dev/null
if cmp -s "$t/j1" "$t/j3" && [ -s "$t/j1" ]; then echo "ok - threads: -j 3 output identical to -j 1 ($(wc -l < "$t/j1") alerts)"
else echo "not ok - threads: -j 3 output differs from -j 1"; fi

# one thread frames a line by parsing it (the reader's line function);
# threads frame chunks of lines on the workers (tiny ones here, so most
# records meet a chunk's end, and arrays and envelopes stay open across
# them) and the rest byte by byte: malformed and mixed layouts must give
# the same alerts and the same diagnostics
L='"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorMessage":"Failed authentication"'
{
    for i in $(seq 1 40); do
        printf '{%s,"n":%d}\n' "$L" "$i"
        printf '{"a":1}{%s}\r\n{"h":\ngarbage\n' "$L"
        printf '{"m":"\377",%s}\n{\n %s\n}\n{"n":01,%s} x\n' "$L" "$L" "$L"
        printf '[{%s}]\n{"Records":[{%s}]}\n' "$L" "$L"
        printf '{%s,"t":"a\tb"}  {%s}\n' "$L" "$L"
        printf '{"x":1} [{%s},\n{%s}]\n{"Records":[\n{%s},\n{"y":2}\n]}\n' "$L" "$L" "$L"
        printf '{"x":2} [{%s},\n{"Records":[{%s}]}]\n{%s}\n' "$L" "$L" "$L"
    done
} > "$t/mixed.json"
# and a gzip file cut short: the records before the cut, then the read
# error, at the same line (a chunk that meets the failure reading ahead
# is not cut; the stream reader frames what is left, then reports it)
for _ in 1 2 3 4 5 6 7 8; do cat "$t/mixed.json"; done | gzip -c > "$t/full.gz"
head -c $(( $(wc -c < "$t/full.gz") * 2 / 3 )) "$t/full.gz" > "$t/cut.gz"
# and an array opened in one chunk of a file and never closed, so its
# opening line is named chunks later, at the end of input (with threads,
# a regular file's chunks are read by the workers, their lines counted
# at commit)
{
    cat "$t/mixed.json"
    for i in $(seq 1 40); do printf '{%s,"n":%d}\n' "$L" "$i"; done
    printf '[{%s},\n' "$L"
    for i in $(seq 1 30); do printf '{%s,"n":%d},\n' "$L" "$i"; done
} > "$t/open.json"
# and CloudTrail's own layout: files that are one {"Records":[...]}
# envelope (after a byte order mark, followed by more records, cut
# short, gzip-compressed, and one longer than the 4 MiB a worker takes
# whole), and records on lines after a byte order mark
S=$D/stratus-red-team/cloudtrail.jsonl
mkdir -p "$t/envdir"
{ printf '{"Records":['; head -60 "$S" | paste -sd, | tr -d '\n'; printf ']}\n'; } > "$t/envdir/a-small.json"
{ printf '\357\273\277{"Records":[\n'; sed -n 61,120p "$S" | paste -sd, ; printf ']}'; } > "$t/envdir/b-bom.json"
{ printf '{"Records":['; sed -n 121,160p "$S" | paste -sd, | tr -d '\n'; printf ']}\n'; sed -n 161,200p "$S"; } > "$t/envdir/c-trail.json"
{ printf '{"Records":['; sed -n 201,240p "$S" | paste -sd, | tr -d '\n'; printf ',{"eventName":"x",\n'; } > "$t/envdir/d-cut.json"
{ printf '{"Records":['; for i in $(seq 1 60); do head -250 "$S" | paste -sd, | tr -d '\n'; [ "$i" -lt 60 ] && printf ','; done; printf ']}'; } > "$t/big.json"
{ printf '{"Records":['; sed -n 241,310p "$S" | paste -sd, | tr -d '\n'; printf ']}'; } | gzip -c > "$t/envdir/f-small.json.gz"
{ printf '\357\273\277'; sed -n 1,50p "$S"; } > "$t/envdir/g-bom-lines.jsonl"
# in chunks (AUPWATCH_SOLO_MAX=0), workers frame the envelopes up to 4
# MiB whole; the calling thread only the longer one's records
# (--stats-json records_framed_by_calling_thread); by default a worker
# reads each file whole, the longer one too
framed() { "$AW_BIN" scan -q -j 2 --stats-json "$t/fr.json" --rules "$C/rules/cloud" "$@" > /dev/null 2>&1
           sed -n 's/.*"records_framed_by_calling_thread":\([0-9]*\).*/\1/p' "$t/fr.json"; }
nbig=$("$AW_BIN" scan -q -j 1 --stats-json "$t/fr.json" --rules "$C/rules/cloud" "$t/big.json" > /dev/null 2>&1
       sed -n 's/.*"records":\([0-9]*\).*/\1/p' "$t/fr.json")
fs=$(AUPWATCH_SOLO_MAX=0 framed "$t/envdir"); fb=$(AUPWATCH_SOLO_MAX=0 framed "$t/big.json")
fw=$(framed "$t/big.json")
if [ "$fs" = 0 ] && [ "$fb" = "$nbig" ] && [ "$nbig" -gt 4000 ] && [ "$fw" = 0 ] &&
   grep -q '"files_read_whole_by_a_worker":1,' "$t/fr.json"; then
    echo "ok - threads: envelopes up to 4 MiB framed by the workers, a longer one ($nbig records) by the calling thread in chunks, by a worker read whole"
else
    echo "not ok - threads: records framed by the calling thread: $fs in the small envelopes (want 0), $fb of $nbig in the long one, $fw read whole"
fi
cp "$t/big.json" "$t/envdir/e-big.json"
# a small --max-record bounds the reader's buffer (max_record + 2 MiB):
# an envelope is then taken whole only up to half of that, and chunks
# asked larger than the buffer are cut smaller
{ printf '{"Records":['; for i in $(seq 1 12); do head -250 "$S" | paste -sd, | tr -d '\n'; [ "$i" -lt 12 ] && printf ','; done; printf ']}'; } > "$t/mid.json"
for cfg in 100000: 100000:8000000 64:; do
    IFS=: read -r mr cb <<< "$cfg"
    "$AW_BIN" scan -j 1 --max-record "$mr" --rules "$C/rules/cloud" "$t/mid.json" "$t/envdir" > "$t/m1" 2> "$t/e1"
    env ${cb:+AUPWATCH_CHUNK_BYTES=$cb} AUPWATCH_SOLO_MAX=0 "$AW_BIN" scan -j 2 --max-record "$mr" --rules "$C/rules/cloud" "$t/mid.json" "$t/envdir" > "$t/m2" 2> "$t/e2"
    if cmp -s "$t/m1" "$t/m2" && cmp -s <(grep -v 'MB/s\|seconds\|thread' "$t/e1") <(grep -v 'MB/s\|seconds\|thread' "$t/e2") &&
       ! grep -q 'read-error' "$t/e2"; then
        echo "ok - threads: --max-record $mr${cb:+, chunks of $cb bytes}: -j 2 equals -j 1 ($(wc -l < "$t/m1") alerts)"
    else
        echo "not ok - threads: --max-record $mr${cb:+, chunks of $cb bytes}: -j 2 differs from -j 1"; grep 'read-error' "$t/e2" | head -3
    fi
done
for input in mixed.json cut.gz open.json envdir; do
    "$AW_BIN" scan -j 1 --rules "$C/rules/cloud" "$t/$input" > "$t/m1" 2> "$t/e1"
    grep -v 'MB/s\|seconds\|thread' "$t/e1" > "$t/d1"
    if [ "$input" = cut.gz ]; then
        [ "$(grep -c '\[read-error\]' "$t/d1")" = 1 ] && echo "ok - threads: the cut gzip file reports one read error" ||
            echo "not ok - threads: the cut gzip file should report one read error"
    fi
    # threads:chunk bytes:ranges (workers read a regular file's chunks;
    # by default from 3 threads)
    for cfg in 2:: 3:: 2:1:1 3:97: 2:4096:1 2:97:0 3:4096:0; do
        IFS=: read -r j cb rg <<< "$cfg"
        env ${cb:+AUPWATCH_CHUNK_BYTES=$cb} ${rg:+AUPWATCH_RANGES=$rg} AUPWATCH_SOLO_MAX=0 "$AW_BIN" scan -j "$j" --rules "$C/rules/cloud" "$t/$input" > "$t/m2" 2> "$t/e2"
        grep -v 'MB/s\|seconds\|thread' "$t/e2" > "$t/d2"
        if cmp -s "$t/m1" "$t/m2" && cmp -s "$t/d1" "$t/d2" && [ -s "$t/m1" ] && grep -q bad-record "$t/d1"; then
            echo "ok - threads: $input, -j $j (chunks of ${cb:-256K} bytes, ranges ${rg:-by default}) alerts and diagnostics identical to -j 1 ($(wc -l < "$t/m1") alerts)"
        else
            echo "not ok - threads: $input differs between -j 1 and -j $j (chunks of ${cb:-256K} bytes, ranges ${rg:-by default})"; diff "$t/d1" "$t/d2" | head -5
        fi
    done
done


# the acceptable-use pack reads a stateful derived field (own_side): with
# threads, workers evaluate both of its values and the committing thread
# decides it in input order, so -j 2 and -j 3 still equal -j 1
SIM=$AW_BUILD/aupwatch-sim
if [ -x "$SIM" ]; then
    "$SIM" --out "$t/sim" --seed 7 --tenants 16 --hours 1 --scale 0.02 > /dev/null 2>&1
    sh "$AW_ROOT/rules/aup/render.sh" --scale 0.02 "$AW_ROOT/rules/aup/thresholds.policy" "$t/sim/rules" > /dev/null 2>&1
    "$AW_BIN" scan -q -j 1 --rules "$t/sim/rules" "$t/sim/logs" > "$t/a1" 2>/dev/null
    for j in 2 3; do
        # -j 2: each file read whole by a worker; -j 3: 2 KB chunks
        AUPWATCH_CHUNK_BYTES=$((j == 3 ? 2000 : 262144)) AUPWATCH_SOLO_MAX=$((j == 3 ? 0 : 67108864)) \
        "$AW_BIN" scan -q -j $j --stats-json "$t/st.json" --rules "$t/sim/rules" "$t/sim/logs" > "$t/a$j" 2>/dev/null
        dec=$(sed -n 's/.*"own_side_decided_at_commit":\([0-9]*\).*/\1/p' "$t/st.json")
        thr=$(sed -n 's/.*"threads":\([0-9]*\).*/\1/p' "$t/st.json")
        if cmp -s "$t/a1" "$t/a$j" && [ -s "$t/a1" ] && [ "${dec:-0}" -gt 0 ] && [ "$thr" = "$j" ]; then
            echo "ok - threads: the pack on $j threads equals 1 thread ($(wc -l < "$t/a1") alerts, $dec own_side values decided in order)"
        else
            echo "not ok - threads: the pack on $j threads (threads=$thr, decided=$dec) differs from 1 thread"
        fi
    done
else
    echo "skip - threads with the pack: $SIM not built"
fi
