#!/usr/bin/env bash
# tests/run.sh - run every test and print one closing line
# "N passed, N failed, N skipped".
#
# Two kinds of tests:
#   tests/<module>/test_*.c  cmocka binaries, built into $B/tests/...
#   tests/<module>/*.test.sh shell tests; each prints TAP-style lines
#                            "ok - name", "not ok - name",
#                            "skip - name: reason".
# Tests that need ../shared skip with a message when it is absent.
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export AW_ROOT=$ROOT AW_BIN=$ROOT/$B/aupwatch AW_BUILD=$ROOT/$B
export AW_SHARED=${AW_SHARED:-$(cd "$ROOT/../shared" 2>/dev/null && pwd || echo "$ROOT/../shared")}
pass=0 fail=0 skip=0
failed_names=()

for t in $(cd "$ROOT" && ls tests/*/test_*.c 2>/dev/null | sort); do
    bin=$ROOT/$B/${t%.c}
    name=${t%.c}
    out=$(cd "$ROOT" && "$bin" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0} f=${f:-0} s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
    if [ "$f" -ne 0 ]; then
        failed_names+=("$name"); printf '%s\n' "$out" | grep -E 'FAIL|ERROR|error|Assert|Sanitizer|runtime error' | head -30
    fi
    printf '%-44s %4d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
done

for t in $(cd "$ROOT" && ls tests/*/*.test.sh 2>/dev/null | sort); do
    out=$(cd "$ROOT" && bash "$t" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | grep -c '^ok - ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok - ')
    s=$(printf '%s\n' "$out" | grep -c '^skip - ')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$t exited $rc"; fi
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
    if [ "$f" -ne 0 ]; then
        failed_names+=("$t"); printf '%s\n' "$out" | grep -v '^ok - ' | head -40
    fi
    printf '%s\n' "$out" | grep '^skip - ' | head -5
    printf '%-44s %4d passed %3d failed %3d skipped\n' "$t" "$p" "$f" "$s"
done

if [ ${#failed_names[@]} -gt 0 ]; then
    echo "failing: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
