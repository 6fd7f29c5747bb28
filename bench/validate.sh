#!/usr/bin/env bash
# bench/validate.sh -- load + validate time of generated pipelines.
#
# usage: bench/validate.sh [BUILD_DIR]   (default: build)
# Generates random DAGs of 1,000 / 10,000 / 40,000 modules (~5 edges each)
# and reports the median of 5 runs of `modpipe validate` for each, plus
# the time per module, which must stay flat as the size grows (validation
# is linear in modules + edges). Appends nothing: copy the table into
# bench/RESULTS.md with the command line.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build}
mp=$build/modpipe
[ -x "$mp" ] || { echo "bench/validate.sh: no binary at $mp (build first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median_ms() { # command... -> median wall ms of 5 runs
    local t=()
    for _ in 1 2 3 4 5; do
        local s e
        s=$(date +%s%N)
        "$@" >/dev/null
        e=$(date +%s%N)
        t+=($(( (e - s) / 1000 )))
    done
    printf '%s\n' "${t[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1/1000}'
}

printf '| modules | edges | file size | validate (median of 5) | per module |\n'
printf '|---:|---:|---:|---:|---:|\n'
for n in 1000 10000 40000; do
    f=$tmp/p$n.yml
    python3 "$here/gen_pipeline.py" "$n" --edges 5 --seed 7 > "$f"
    edges=$(grep -o 'm[0-9]*' "$f" | wc -l)
    edges=$((edges - n))
    ms=$(median_ms "$mp" validate "$f")
    per=$(awk -v ms="$ms" -v n="$n" 'BEGIN{printf "%.2f", ms*1000/n}')
    printf '| %d | %d | %s | %s ms | %s µs |\n' "$n" "$edges" "$(du -h "$f" | cut -f1)" "$ms" "$per"
done
