#!/usr/bin/env bash
# scripts/run.sh - the main job on the embedded default: install what is
# missing, build, then run the demo: simulate a slice of a cloud region
# (AWS, Azure and GCP logs of a labelled tenant population), scan it with
# the acceptable-use rule pack, print the flagged tenants with their
# evidence and the score against the ground truth (sim/demo.sh).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
make -j"${JOBS:-2}" >/tmp/aw-build.log 2>&1 || { tail -30 /tmp/aw-build.log; exit 1; }
exec sh sim/demo.sh "$@"
