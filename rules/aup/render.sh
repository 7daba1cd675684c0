#!/bin/sh
# rules/aup/render.sh - render the acceptable-use pack with a policy file.
#
#   sh rules/aup/render.sh [--scale X] POLICY OUTDIR
#
# Copies every rule of rules/aup/{aws,azure,gcp} to OUTDIR, replacing the
# number on each line marked `# policy: NAME` with NAME's value in POLICY
# (flat "name: value" lines: rules/aup/thresholds.policy, not a *.yml
# file so that scanning rules/aup never takes it for a rule) times X (default 1, rounded,
# at least 1). Rules stay standard Sigma; only numbers change.
set -eu
scale=1
if [ "${1:-}" = "--scale" ]; then scale=$2; shift 2; fi
[ $# -eq 2 ] || { echo "usage: render.sh [--scale X] POLICY OUTDIR" >&2; exit 2; }
policy=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
for d in aws azure gcp; do
    mkdir -p "$out/$d"
    for f in "$here/$d"/*.yml; do
        awk -v scale="$scale" -v policy="$policy" '
            BEGIN {
                while ((getline line < policy) > 0) {
                    if (line ~ /^[a-z_]+:[ ]*[0-9]+/) {
                        split(line, kv, ":"); v = kv[2]; sub(/#.*/, "", v); gsub(/ /, "", v)
                        pol[kv[1]] = v
                    }
                }
            }
            /# policy: [a-z_]+/ {
                name = $0; sub(/.*# policy: /, "", name); sub(/[^a-z_].*/, "", name)
                if (!(name in pol)) { print "render.sh: no policy value " name > "/dev/stderr"; exit 2 }
                v = int(pol[name] * scale + 0.5); if (v < 1) v = 1
                sub(/: *[0-9]+ *#/, ": " v "  #")
            }
            { print }' "$f" > "$out/$d/$(basename "$f")"
    done
done
