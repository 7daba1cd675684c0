#!/usr/bin/env bash
# scripts/run.sh - the main job on the embedded default: install what is
# missing, build, then run the demo (scripts/demo.sh).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
make -j"${JOBS:-2}" >/tmp/aw-build.log 2>&1 || { tail -30 /tmp/aw-build.log; exit 1; }
exec bash scripts/demo.sh "$@"
