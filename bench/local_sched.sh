#!/usr/bin/env bash
# bench/local_sched.sh -- local scheduling overhead of `modpipe run` against
# ninja and make, measured in the same run (DESIGN §6).
#
# usage: bench/local_sched.sh [BUILD_DIR] [RUNS]   (default: build, 3)
#
# For 1,000 and 5,000 modules in three shapes -- wide (no dependencies),
# chain (each module depends on the previous one) and a random DAG (up to 5
# dependencies each, bench/gen_pipeline.py) -- every module runs `true`.
# The same graph is written as a build.ninja (a rule running `true`, one
# edge per module, outputs never created so every edge runs) and a
# Makefile (.PHONY targets running `true`). Each tool runs it with 2 jobs:
#   modpipe run FILE -j2 --progress never --output grouped
#   ninja -j2        make -j2
# Wall time and peak RSS come from /usr/bin/time; the median of RUNS runs
# is reported, with the ratios modpipe/ninja and modpipe/make. modpipe is
# measured twice:
#   cold  every run starts without a state dir (.modpipe), as on a fresh
#         CI checkout (`true` prints nothing and writes no outputs, so no
#         log or $MODPIPE_OUTPUT file is created);
#   warm  the state dir of the previous run is there (history.json gives
#         expected durations; log and output files left by an older run
#         are removed), as when running again in a working copy.
# Output goes to /dev/null for every tool.
#
# Goals: wall time <= 1.2x ninja; peak RSS <= 30 MB at 5,000 modules.
# Prints a Markdown table; copy it into bench/RESULTS.md with the command.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build}
runs=${2:-3}
mp=$(cd "$build" && pwd)/modpipe
[ -x "$mp" ] || { echo "bench/local_sched.sh: no binary at $mp (build first)" >&2; exit 2; }
for tool in ninja make python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || {
        echo "bench/local_sched.sh: $tool is missing (apt-get install ninja-build make time)" >&2
        exit 2
    }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# peers YAML DIR: write DIR/build.ninja and DIR/Makefile for the pipeline.
peers() {
    python3 - "$1" "$2" <<'PY'
import re, sys
src, out = sys.argv[1], sys.argv[2]
mods, deps, cur = [], {}, None
for line in open(src):
    m = re.match(r"^  (m\d+):$", line)
    if m:
        cur = m.group(1); mods.append(cur); deps[cur] = []
        continue
    m = re.match(r"^    depends_on: \[(.*)\]$", line)
    if m and cur:
        deps[cur] = [d.strip() for d in m.group(1).split(",") if d.strip()]
with open(out + "/build.ninja", "w") as f:
    f.write("rule t\n  command = true\n\n")
    for n in mods:
        f.write("build %s: t%s\n" % (n, "".join(" " + d for d in deps[n])))
    f.write("build all: phony %s\ndefault all\n" % " ".join(mods))
with open(out + "/Makefile", "w") as f:
    f.write(".PHONY: all %s\nall: %s\n" % (" ".join(mods), " ".join(mods)))
    for n in mods:
        f.write("%s:%s\n\t@true\n" % (n, "".join(" " + d for d in deps[n])))
PY
}

# timed DIR CMD...: run CMD in DIR once; print "seconds peak_kb".
timed() {
    local dir=$1
    shift
    (cd "$dir" && /usr/bin/time -f '%e %M' -o "$tmp/t1" "$@" >/dev/null 2>"$tmp/err") || {
        echo "bench/local_sched.sh: failed in $dir: $*" >&2
        cat "$tmp/err" >&2
        exit 1
    }
    tail -n 1 "$tmp/t1"
}

# median FILE: median of the first column; max of the second.
median() {
    sort -n "$1" | awk '{t[NR]=$1; if ($2 > m) m=$2}
        END {printf "%.3f %d\n", t[int((NR+1)/2)], m}'
}

printf '| modules | shape | modpipe warm | modpipe cold | ninja | make | warm/ninja | cold/ninja | warm/make | cold/make | modpipe peak RSS |\n'
printf '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in 1000 5000; do
    for shape in wide chain dag; do
        d=$tmp/$shape$n
        mkdir -p "$d"
        python3 "$here/gen_pipeline.py" "$n" --shape "$shape" --edges 5 --seed 7 >"$d/modpipe.yml"
        peers "$d/modpipe.yml" "$d"
        run=("$mp" run modpipe.yml -j2 --progress never --output grouped)
        # Interleaved, so that a change in machine load hits every tool alike.
        timed "$d" "${run[@]}" >/dev/null # leaves the state dir for "warm"
        : >"$tmp/warm"; : >"$tmp/cold"; : >"$tmp/ninja"; : >"$tmp/make"
        for _ in $(seq "$runs"); do
            timed "$d" "${run[@]}" >>"$tmp/warm"
            cp -r "$d" "$d.cold" && rm -rf "$d.cold/.modpipe"
            timed "$d.cold" "${run[@]}" >>"$tmp/cold"
            rm -rf "$d.cold"
            timed "$d" ninja -j2 >>"$tmp/ninja"
            timed "$d" make -j2 >>"$tmp/make"
        done
        read -r warm_s warm_kb < <(median "$tmp/warm")
        read -r cold_s cold_kb < <(median "$tmp/cold")
        read -r nj_s _ < <(median "$tmp/ninja")
        read -r mk_s _ < <(median "$tmp/make")
        kb=$((warm_kb > cold_kb ? warm_kb : cold_kb))
        awk -v n="$n" -v shape="$shape" -v w="$warm_s" -v c="$cold_s" -v nj="$nj_s" -v mk="$mk_s" \
            -v kb="$kb" 'function r(a, b) { return b > 0 ? a / b : 0 }
            BEGIN {printf "| %d | %s | %.2f s | %.2f s | %.2f s | %.2f s | %.2fx | %.2fx | %.2fx | %.2fx | %.1f MB |\n",
                   n, shape, w, c, nj, mk, r(w, nj), r(c, nj), r(w, mk), r(c, mk), kb / 1024}'
    done
done
