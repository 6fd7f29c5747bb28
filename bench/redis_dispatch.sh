#!/usr/bin/env bash
# redis_dispatch.sh BUILD_DIR [N=2000] [W=3] -- dispatch over the Redis
# coordinator (bench/dispatch.c) and the same workloads with Python RQ
# (bench/redis_rq.py, SimpleWorker) on one throw-away redis-server, then
# the ratio of throughputs. BUILD_DIR is configured with -DMODPIPE_BENCH=ON
# (see bench/RESULTS.md for the exact commands).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: redis_dispatch.sh BUILD_DIR [N] [W]}
n=${2:-2000}
w=${3:-3}
. "$here/../tests/support/services.bash"
services_start_redis
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $MODPIPE_TEST_REDIS_URL; load: $(cut -d' ' -f1-3 /proc/loadavg)"
mp=$("$build/bench/dispatch" "$MODPIPE_TEST_REDIS_URL" "$n" "$w")
echo "$mp"
rq=$(/usr/bin/python3 "$here/redis_rq.py" "$MODPIPE_TEST_REDIS_URL" "$n" "$w")
echo "$rq"
rate() { sed -n "s/^$1: .* \([0-9][0-9]*\) \(modules\|jobs\)\/s$/\1/p"; }
for wl in chain wide; do
    a=$(echo "$mp" | rate "$wl")
    b=$(echo "$rq" | rate "$wl")
    awk -v w="$wl" -v a="$a" -v b="$b" 'BEGIN { printf "%s: modpipe %d modules/s, RQ %d jobs/s: %.1fx\n", w, a, b, a / b }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
