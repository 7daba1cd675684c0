#!/usr/bin/env bash
# scripts/test.sh - every test, as CI runs them (.ci/run calls this):
#   1. the whole suite with gcc -O2 (make test);
#   2. -Werror build with clang;
#   3. the whole suite again under AddressSanitizer + UBSan;
#   4. each libFuzzer target for a short, bounded time on its seeds;
#   5. the benchmarks' --quick smoke runs (not timed assertions).
# Prints one closing line "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
bash scripts/deps.sh test || exit 1
J=${JOBS:-2}
pass=0 fail=0 skip=0
tally() {   # tally NAME LOGFILE RC
    local line p f s
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    p=${p:-0} f=${f:-0} s=${s:-0}
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
    echo "== $1: ${line:-exit $3}"
}

echo "== suite (gcc)"
make -j"$J" tests >build.log 2>&1 || { cat build.log; echo "0 passed, 1 failed"; exit 1; }
make test 2>&1 | tee /tmp/aw-test.log; tally "suite (gcc)" /tmp/aw-test.log "${PIPESTATUS[0]}"

echo "== build (clang -Werror)"
if make -j"$J" CC=clang B=build-clang tests >/tmp/aw-clang.log 2>&1; then pass=$((pass + 1)); echo "ok - clang build"
else fail=$((fail + 1)); tail -30 /tmp/aw-clang.log; echo "not ok - clang build"; fi

echo "== suite (ASan + UBSan)"
make -j"$J" SAN=1 tests >/tmp/aw-san-build.log 2>&1 || { tail -30 /tmp/aw-san-build.log; fail=$((fail + 1)); }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 AW_SAN=1 \
    make SAN=1 test 2>&1 | tee /tmp/aw-san.log; tally "suite (asan+ubsan)" /tmp/aw-san.log "${PIPESTATUS[0]}"

echo "== fuzz (${FUZZ_SECONDS:-20} s per target)"
if make fuzz >/tmp/aw-fuzz-build.log 2>&1; then
    for f in build-fuzz/fuzz/fuzz_*; do
        n=$(basename "$f"); seeds=fuzz/seeds/${n#fuzz_}; corpus=$(mktemp -d)
        [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
        if "$f" -max_total_time="${FUZZ_SECONDS:-20}" -max_len=8192 -rss_limit_mb=2048 "$corpus" >/tmp/aw-$n.log 2>&1; then
            pass=$((pass + 1)); echo "ok - $n: $(grep -o 'Done [0-9]* runs' /tmp/aw-$n.log)"
        else
            fail=$((fail + 1)); echo "not ok - $n"; grep -A15 -E 'ERROR|SUMMARY' /tmp/aw-$n.log | head -40
        fi
        rm -rf "$corpus"
    done
else
    fail=$((fail + 1)); tail -30 /tmp/aw-fuzz-build.log; echo "not ok - fuzz build"
fi

echo "== bench smoke"
if [ -x bench/run.sh ]; then
    if bash bench/run.sh --quick >/tmp/aw-bench.log 2>&1; then pass=$((pass + 1)); echo "ok - bench --quick"; tail -15 /tmp/aw-bench.log
    else fail=$((fail + 1)); tail -30 /tmp/aw-bench.log; echo "not ok - bench --quick"; fi
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
