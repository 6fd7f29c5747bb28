#!/usr/bin/env bash
# bench/validate.sh -- load + validate time of generated pipelines.
#
# usage: bench/validate.sh [BUILD_DIR] [--instructions]
#        (BUILD_DIR defaults to build; use a Release build)
# Generates pipelines with bench/gen_pipeline.py -- random DAGs of 1,000 /
# 10,000 / 40,000 / 80,000 modules (~5 edges each), a 10,000-module chain
# and 10,000 independent modules -- and reports the median wall time of 5
# runs of `modpipe validate` for each, the time per module, which must
# stay flat as the size grows (validation is linear in modules + edges),
# and the peak RSS (GNU time, when installed). The first row is a
# one-module file: the fixed cost of starting the program. Wall time on a
# shared machine is noisy; --instructions adds the instructions executed
# per module (valgrind's callgrind, start-up subtracted), which are not.
# Appends nothing: copy the tables into bench/RESULTS.md with the command.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build}
instructions=0
[ "${2:-}" = --instructions ] && instructions=1
mp=$build/modpipe
[ -x "$mp" ] || { echo "bench/validate.sh: no binary at $mp (build first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gnu_time=
if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then gnu_time=/usr/bin/time; fi

median_ms() { # command... -> median wall ms of 5 runs
    local t=()
    for _ in 1 2 3 4 5; do
        local s e
        s=$(date +%s%N)
        "$@" >/dev/null
        e=$(date +%s%N)
        t+=($(((e - s) / 1000)))
    done
    printf '%s\n' "${t[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1/1000}'
}

peak_rss() { # command... -> peak RSS of one run, "-" without GNU time
    if [ -z "$gnu_time" ]; then
        printf -- '-'
        return
    fi
    "$gnu_time" -f %M -o "$tmp/rss" "$@" >/dev/null
    awk '{printf "%.1f MB", $1/1024}' "$tmp/rss"
}

gen() { # shape modules edges-per-module -> file name
    local f=$tmp/$1$2.yml
    [ -f "$f" ] || python3 "$here/gen_pipeline.py" "$2" --shape "$1" --edges "$3" --seed 7 >"$f"
    printf '%s' "$f"
}

instr() { # file -> instructions executed by `modpipe validate -q file`
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$mp" validate -q "$1" 2>&1 |
        awk '/Collected :/ {print $NF}'
}

row() { # shape modules edges-per-module
    local shape=$1 n=$2 e=$3 f
    f=$(gen "$shape" "$n" "$e")
    "$mp" validate -q "$f" || { echo "bench/validate.sh: $f does not validate" >&2; exit 1; }
    local edges ms per
    edges=$(($(grep -oE '\bm[0-9]+\b' "$f" | wc -l) - n))
    ms=$(median_ms "$mp" validate "$f")
    per=$(awk -v ms="$ms" -v n="$n" 'BEGIN{printf "%.2f", ms*1000/n}')
    printf '| %s | %d | %d | %s | %s ms | %s µs | %s |\n' "$shape" "$n" "$edges" \
        "$(du -h "$f" | cut -f1)" "$ms" "$per" "$(peak_rss "$mp" validate "$f")"
}

printf '| shape | modules | edges | file size | validate (median of 5) | per module | peak RSS |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
row wide 1 0
for n in 1000 10000 40000 80000; do
    row dag "$n" 5
done
row chain 10000 1
row wide 10000 0

[ "$instructions" = 1 ] || exit 0
command -v valgrind >/dev/null || { echo "bench/validate.sh: --instructions needs valgrind" >&2; exit 2; }
base=$(instr "$(gen wide 1 0)")
printf '\nInstructions (callgrind), start-up (%s, the one-module file) subtracted:\n\n' "$base"
printf '| shape | modules | instructions | per module |\n'
printf '|---|---:|---:|---:|\n'
while read -r shape n e; do
    total=$(instr "$(gen "$shape" "$n" "$e")")
    printf '| %s | %d | %s | %s |\n' "$shape" "$n" "$total" "$(((total - base) / n))"
done <<'SPECS'
dag 1000 5
dag 10000 5
dag 40000 5
dag 80000 5
chain 10000 1
wide 10000 0
SPECS
