#!/usr/bin/env bash
# independent.test.sh - the decision log checked by a verifier that
# shares no code with src/tlog (c2sp_verify.py, from the C2SP and RFC
# 6962 texts alone; it accepts the log tessera wrote, first): after
# checkpoints at 1, 256, 700 and 65,793 entries (three tile levels), and
# refusing a log with one byte changed.
set -u
A=${AW_BIN:-}
if [ -z "$A" ] || [ ! -x "$A" ]; then
    echo "skip - independent verifier: aupwatch binary not built (\$AW_BIN=$A)"; exit 0
fi
PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    echo "skip - independent verifier: python3 with the cryptography module (python3-cryptography) not found"; exit 0
fi
V=$(cd "$(dirname "$0")" && pwd)/c2sp_verify.py
T=$(mktemp -d /tmp/aw-tlog-indep-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
ok() { echo "ok - $1"; }
no() { echo "not ok - $1${2:+: $2}"; }

recs() {   # FROM TO: decision records, one a line
    "$PY" - "$1" "$2" <<'PY'
import sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print('{"v":1,"case":"C-%d","action":"case_opened","scope":{"tenant":"tp_%d","service":"compute",'
          '"region":"eu-west-1"},"clause":"AUP-4.2","actors":["analyst","approver"],'
          '"time":"2026-11-30T07:00:%02dZ","evidence":["sha256:%064d"]}' % (i, i % 97, i % 60, i))
PY
}

# the verifier itself, on the log tessera (Go) wrote: it must accept it
TV=${AW_SHARED:-}/tlog/vectors/tessera_testlog.json
if [ -f "$TV" ]; then
    "$PY" - "$TV" tess <<'PY'
import json, os, sys
v = json.load(open(sys.argv[1]))
for rel, h in list(v["tiles_hex"].items()) + list(v["entry_bundles_hex"].items()):
    p = os.path.join(sys.argv[2], rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(bytes.fromhex(h))
open(os.path.join(sys.argv[2], "checkpoint"), "w").write(v["checkpoint_latest"])
open("tess.vkey", "w").write(v["log_vkey"])
PY
    out=$("$PY" "$V" tess tess.vkey 2>&1) && ok "independent verifier accepts tessera's test log (${out#c2sp_verify: })" ||
        no "independent verifier accepts tessera's test log" "$out"
else
    echo "skip - tessera's test log: ../shared/tlog/vectors absent"
fi

"$A" log init log --origin aupwatch.example/independent --key-file log.key --create-key > vkey 2>/dev/null ||
    { no "log init"; exit 0; }
from=0
for size in 1 256 700 65793; do
    recs "$from" "$size" | "$A" log append log > /dev/null 2>&1 && "$A" log checkpoint log > /dev/null 2>&1 ||
        { no "append and checkpoint to $size"; continue; }
    from=$size
    out=$("$PY" "$V" log vkey 2>&1)
    case $out in
    *"size $size:"*) ok "independent verifier at $size entries (${out#c2sp_verify: })" ;;
    *) no "independent verifier at $size entries" "$out" ;;
    esac
done
# one byte of an entry changed: the verifier refuses the log
f=log/tile/entries/005
cp "$f" saved
printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
out=$("$PY" "$V" log vkey 2>&1); rc=$?
[ $rc -eq 1 ] && [ -n "${out##*check out*}" ] && ok "independent verifier refuses a changed entry ($out)" ||
    no "independent verifier refuses a changed entry" "rc=$rc $out"
cp saved "$f"
