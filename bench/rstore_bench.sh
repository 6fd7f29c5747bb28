#!/usr/bin/env bash
# bench/rstore_bench.sh -- the redis:// artifact store's put/get throughput
# for one large object against redis-benchmark's SET/GET of values of the
# chunk size on the same server, in one run (DESIGN §6), with modpipe's
# peak RSS.
#
# usage: bench/rstore_bench.sh [BUILD_DIR] [SIZE_MIB] [CHUNK_MIB]
#        (defaults: build-rel, 512, 4; BUILD_DIR configured with
#        -DCMAKE_BUILD_TYPE=Release -DMODPIPE_BENCH=ON, target rstore_bench)
#
# Starts its own redis-server on a free loopback port (no persistence),
# runs rstore_bench (put, get, put of the same blob again: the kept-object
# path, which still uploads then drops the chunks), then redis-benchmark
# with one connection, one command at a time (what the store does):
#   redis-benchmark -d <chunk bytes> -n <SIZE/CHUNK> -c 1 -P 1 -t set -r 1000000000
#     (distinct keys: the server allocates new memory, as for chunks)
#   redis-benchmark -d <chunk bytes> -n <SIZE/CHUNK> -c 1 -P 1 -t set,get
#     (one key overwritten, then read back)
# Prints a Markdown table for bench/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build-rel}
mib=${2:-512}
chunk=${3:-4}
bin=$build/bench/rstore_bench
[ -x "$bin" ] || { echo "rstore_bench.sh: no $bin (build target rstore_bench)" >&2; exit 2; }
command -v redis-benchmark >/dev/null || { echo "rstore_bench.sh: redis-benchmark missing" >&2; exit 2; }
. "$here/../tests/support/services.bash"
services_start_redis || exit 1
port=$MODPIPE_TEST_REDIS_PORT
tmp=$(mktemp -d)
trap 'services_stop; rm -rf "$tmp"' EXIT

url="redis://127.0.0.1:$port/0?prefix=bench&chunk=${chunk}MiB&max_size=$((mib + 1))MiB&ttl=1h"
out=$("$bin" "$url" "$mib" "$tmp")
echo "$out" >&2
n=$((mib / chunk))
bytes=$((chunk * 1024 * 1024))
rb() { # extra args -> "set MiB/s|get MiB/s"
    redis-benchmark -h 127.0.0.1 -p "$port" -d "$bytes" -n "$n" -c 1 -P 1 --csv "$@" |
        awk -F'"' -v c="$chunk" '$2=="SET"{s=$4*c} $2=="GET"{g=$4*c} END{printf "%.1f|%.1f", s, g}'
}
redis-cli -p "$port" flushall >/dev/null
rbd=$(rb -t set -r 1000000000) # distinct keys: new memory, as the store's chunks
redis-cli -p "$port" flushall >/dev/null
rb1=$(rb -t set,get)           # one key overwritten, then read
field() { echo "$out" | awk -v w="$1" -v f="$2" '$1==w{print $f}'; }
echo
echo "| what | MiB/s | time | peak RSS of modpipe |"
echo "|---|---:|---:|---:|"
echo "| modpipe put, ${mib} MiB in ${chunk} MiB chunks | $(field put 6) | $(field put 4) s | $(field put 9) MiB |"
echo "| modpipe get (verified, fsync'ed, renamed) | $(field get 6) | $(field get 4) s | $(field get 9) MiB |"
echo "| modpipe put of the same blob again | $(field put-again 6) | $(field put-again 4) s | $(field put-again 9) MiB |"
echo "| redis-benchmark SET, distinct keys (-r) | ${rbd%|*} | | |"
echo "| redis-benchmark SET, one key overwritten | ${rb1%|*} | | |"
echo "| redis-benchmark GET | ${rb1#*|} | | |"
echo
echo "put/SET(distinct keys): $(awk -v a="$(field put 6)" -v b="${rbd%|*}" 'BEGIN{printf "%.2f", a/b}')x," \
     "get/GET: $(awk -v a="$(field get 6)" -v b="${rb1#*|}" 'BEGIN{printf "%.2f", a/b}')x;" \
     "RSS after the file was written: $(echo "$out" | awk '$1=="file"{print $5}') MiB"
