#!/usr/bin/env bash
# dist_speedup.sh BUILD_DIR [MODULES=200] [SLEEP=0.2] -- distribution speedup
# (issue 5 (c)): MODULES independent modules each `sleep SLEEP`, run with
# `modpipe run --local-instances N -j 1` (one slot per instance: a master +
# N-1 worker processes over a private redis-server) for N = 1, 2, 4, 8.
# Prints wall time and efficiency = ideal wall (MODULES*SLEEP/N) / measured
# wall; the goal is >= 90 % at 8.
set -euo pipefail
build=$(cd "${1:?usage: dist_speedup.sh BUILD_DIR [MODULES] [SLEEP]}" && pwd)
n=${2:-200}
sl=${3:-0.2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 -c "
import sys
n, sl = int(sys.argv[1]), sys.argv[2]
print('version: 1\nname: sleepers\nmodules:')
for i in range(n): print(f'  s{i:03d}:\n    run: sleep {sl}')" "$n" "$sl" >modpipe.yml
echo "$n modules x sleep $sl, -j 1 per instance; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| instances | wall | ideal | efficiency |\n|---:|---:|---:|---:|\n'
for inst in 1 2 4 8; do
    rm -rf .modpipe
    t0=$(date +%s%N)
    "$build/modpipe" run --local-instances "$inst" -j 1 --progress never >out.log 2>&1 ||
        { tail -n 20 out.log >&2; echo "run with $inst instances failed" >&2; exit 1; }
    t1=$(date +%s%N)
    awk -v w=$(((t1 - t0) / 1000000)) -v n="$n" -v s="$sl" -v i="$inst" 'BEGIN {
        ideal = n * s / i; printf "| %d | %.2f s | %.2f s | %.1f %% |\n", i, w / 1000, ideal, 100 * ideal / (w / 1000) }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
