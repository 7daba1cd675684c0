#!/usr/bin/env bash
# cli.test.sh - `aupwatch log` and `aupwatch verify` end to end: init,
# append, checkpoint, proof, verify with a monitor state file, exit codes,
# tamper detection naming the file, and the tessera log read as is.
set -u
A=${AW_BIN:-}
if [ -z "$A" ] || [ ! -x "$A" ]; then
    echo "skip - tlog cli: aupwatch binary not built (\$AW_BIN=$A)"
    exit 0
fi
T=$(mktemp -d /tmp/aw-tlog-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
ok() { echo "ok - $1"; }
no() { echo "not ok - $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else no "$name"; fi; }

rec() {
    printf '{"v":1,"case":"C-%s","action":"%s","scope":{"tenant":"tp_%s","service":"compute","region":"eu-west-1"},"clause":"AUP-4.2","actors":["analyst","approver"],"time":"2026-11-30T07:00:%02dZ","evidence":["sha256:%064d"]}\n' "$1" "$2" "$1" $(( $1 % 60 )) "$1"
}

"$A" log --help | grep -q "log init" && ok "log --help" || no "log --help"
"$A" verify --help | grep -q "verify" && ok "verify --help" || no "verify --help"
"$A" log init 2>/dev/null; [ $? -eq 2 ] && ok "usage error exits 2" || no "usage error exits 2"

"$A" log init log --origin aupwatch.example/decisions --key-file log.key --create-key \
    --checkpoint-every 50 > vkey 2>/dev/null
[ $? -eq 0 ] && grep -q '^aupwatch.example/decisions+[0-9a-f]\{8\}+' vkey && ok "init prints the verifier key" || no "init prints the verifier key"
[ "$(stat -c %a log.key)" = 600 ] && ok "key file mode 0600" || no "key file mode 0600"

# 300 decisions in 3 batches (JSON lines), one single record
for i in $(seq 1 100); do rec $i case_opened; done > b1
for i in $(seq 101 200); do rec $i suspension_requested; done > b2
for i in $(seq 201 299); do rec $i suspension_applied; done > b3
"$A" log append log < b1 > idx1 2>/dev/null && "$A" log append log < b2 >/dev/null 2>&1 &&
    "$A" log append log < b3 >/dev/null 2>&1 && rec 300 suspension_lifted | "$A" log append log > idx4 2>/dev/null
[ $? -eq 0 ] && [ "$(head -1 idx1)" = 0 ] && [ "$(cat idx4)" = 299 ] && ok "append batches, indexes printed" || no "append batches"
printf '{"v":1,"name":"Alice"}\n' | "$A" log append log >/dev/null 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "unknown or repeated key" err && ok "record with personal data refused" || no "record refused" "rc=$rc"
# malformed JSON: the batch is refused whole, naming the line
for bad in '{"v":1,' '[1,2' '{"v":1 "case":"x"}' '{"v":1,"case":"C-1",}'; do
    { rec 301 case_opened; printf '%s\n' "$bad"; rec 302 case_opened; } | "$A" log append log >/dev/null 2>err; rc=$?
    [ $rc -eq 1 ] && grep -q '<stdin>:2: json: ' err && ok "malformed record refused: $bad" || no "malformed record: $bad" "rc=$rc $(cat err)"
done
"$A" log checkpoint log > cp 2>/dev/null && sed -n 2p cp | grep -qx 300 && ok "checkpoint at 300" || no "checkpoint at 300"

"$A" verify log --key vkey --state mon.state > out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "size 300" out && ok "verify log, state created" || no "verify log" "$(cat out)"
"$A" log proof log --index 123 > p.proof 2>/dev/null
"$A" verify --key vkey --proof p.proof > out 2>&1 && grep -q '"case":"C-124"' out && ok "proof verifies offline, carries the record" || no "proof verifies" "$(cat out)"
rec 124 case_dismissed | tr -d '\n' > wrong.json
"$A" verify --key vkey --proof p.proof --entry wrong.json > out 2>&1; [ $? -eq 1 ] && grep -q FAILED out && ok "proof with the wrong entry fails (exit 1)" || no "wrong entry"
# --checkpoint-every 50 published a checkpoint after the first batch (100)
"$A" log proof log --index 10 --size 100 > p100.proof 2>/dev/null &&
    grep -qx 100 p100.proof && "$A" verify --key vkey --proof p100.proof >/dev/null 2>&1 && ok "proof bound to an older checkpoint" || no "proof at size 100"
"$A" log proof log --index 10 --size 51 >/dev/null 2>&1; [ $? -ne 0 ] && ok "no proof for an unpublished size" || no "unpublished size"

# grow; the monitor proves consistency with what it trusted
for i in $(seq 301 600); do rec $i case_dismissed; done | "$A" log append log >/dev/null 2>&1
"$A" log checkpoint log >/dev/null 2>&1
"$A" verify log --key vkey --state mon.state > out 2>&1 && grep -q "trusted checkpoint of size 300" out && ok "monitor: consistent with trusted 300" || no "monitor" "$(cat out)"

cp -r log log.bak
# tamper: one byte in a tile, a bundle and the checkpoint, each named
for f in tile/0/001 tile/entries/000 tile/entries/002.p/88 tile/1/000.p/2 checkpoint; do
    cp -r log.bak t1 && printf 'Z' | dd of="t1/$f" bs=1 seek=40 conv=notrunc 2>/dev/null
    "$A" verify t1 --key vkey > out 2>&1; rc=$?
    [ $rc -eq 1 ] && grep -q "$f" out && ok "tamper $f detected and named" || no "tamper $f" "rc=$rc $(cat out)"
    rm -rf t1
done
cp log.bak/checkpoint saved.cp
# rollback of the published checkpoint is seen by the monitor
for i in $(seq 601 610); do rec $i case_opened; done | "$A" log append log >/dev/null 2>&1
"$A" log checkpoint log >/dev/null 2>&1
"$A" verify log --key vkey --state mon.state >/dev/null 2>&1
cp saved.cp log/checkpoint
"$A" verify log --key vkey --state mon.state > out 2>&1; [ $? -eq 1 ] && grep -q "went backwards" out && ok "rollback detected by the monitor" || no "rollback" "$(cat out)"

"$A" verify nonexistent --key vkey >/dev/null 2>&1; [ $? -eq 2 ] && ok "missing log exits 2" || no "missing log exits 2"

# the tessera test log, served files saved to disk, verified as is
V=${AW_SHARED:-}/tlog/vectors
if [ -f "$V/tessera_testlog.json" ] && command -v python3 >/dev/null; then
    python3 - "$V/tessera_testlog.json" tess <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]
for group in ("tiles_hex", "entry_bundles_hex"):
    for p, h in d[group].items():
        os.makedirs(os.path.dirname(os.path.join(out, p)), exist_ok=True)
        open(os.path.join(out, p), "wb").write(bytes.fromhex(h))
open(os.path.join(out, "checkpoint"), "w").write(d["checkpoint_latest"])
open(os.path.join(out, "vkey"), "w").write(d["log_vkey"] + "\n")
PY
    "$A" verify tess --key tess/vkey > out 2>&1 && grep -q "size 15" out && ok "tessera log verified as is" || no "tessera log" "$(cat out)"
else
    echo "skip - tessera log via cli: vectors or python3 absent"
fi
exit 0
