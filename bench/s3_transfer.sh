#!/usr/bin/env bash
# bench/s3_transfer.sh -- upload and download of one big blob through the
# s3:// artifact store against the AWS CLI v2 (/usr/bin/aws), on the same
# S3 server in the same run (DESIGN §6).
#
# usage: bench/s3_transfer.sh [BUILD_DIR] [SIZE_MIB] [RUNS]
#        (default: build-rel, 1024, 3; BUILD_DIR configured with
#        -DMODPIPE_BENCH=ON so that BUILD_DIR/bench/s3_transfer exists)
#
# Starts a throw-away s3rver (tests/support/services.bash; it checks SigV4),
# writes SIZE_MIB of random bytes, then RUNS times, alternating who goes
# first:
#   modpipe put   s3_transfer put s3://BUCKET/bench?endpoint=...&path_style=1 blobs/sha256/<hex> FILE
#   aws put       aws --endpoint-url ... s3 cp FILE s3://BUCKET/bench-aws/blob
#   modpipe get   s3_transfer get ... blobs/sha256/<hex> OUT
#   aws get       aws --endpoint-url ... s3 cp s3://BUCKET/bench-aws/blob OUT
# Both use their defaults (modpipe: 16 MiB parts, 4 in flight; aws: 8 MiB
# chunks, 10 in flight). Wall time and peak RSS of each process come from
# /usr/bin/time; the first download of each tool is checked with sha256sum.
# Prints the medians, the throughput ratio modpipe/aws (>= 1.0: modpipe is
# as fast or faster) and modpipe's peak RSS, as a Markdown table to copy
# into bench/RESULTS.md with the command.
#
# Goals: modpipe >= 1.0x the AWS CLI's throughput both ways; modpipe's peak
# RSS <= 64 MB.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build-rel}
size_mib=${2:-1024}
runs=${3:-3}
bin=$build/bench/s3_transfer
aws=/usr/bin/aws
[ -x "$bin" ] || { echo "s3_transfer.sh: $bin missing (configure with -DMODPIPE_BENCH=ON)" >&2; exit 2; }
[ -x "$aws" ] || { echo "s3_transfer.sh: $aws missing (scripts/dev.sh deps)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "s3_transfer.sh: /usr/bin/time missing (apt install time)" >&2; exit 2; }

# shellcheck source=../tests/support/services.bash
. "$here/../tests/support/services.bash"
services_start_s3 || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/modpipe-s3bench.XXXXXX")
trap 'services_stop; rm -rf "$work"' EXIT
export AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_PAGER=""

ep=$MODPIPE_TEST_S3_ENDPOINT
bucket=$MODPIPE_TEST_S3_BUCKET
url="s3://$bucket/bench?endpoint=$ep&path_style=1"
src=$work/blob
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$src"
hex=$(sha256sum "$src" | cut -d' ' -f1)
key=blobs/sha256/$hex

# timed NAME CMD...: appends "seconds maxrss_kb" to $work/NAME
timed() {
    local name=$1
    shift
    /usr/bin/time -o "$work/t" -f "%e %M" "$@" >/dev/null
    cat "$work/t" >>"$work/$name"
}
check() { # check FILE: the download is the blob
    [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$hex" ] || { echo "s3_transfer.sh: $1 differs" >&2; exit 1; }
}

for run in $(seq 1 "$runs"); do
    order="mp aws"
    [ $((run % 2)) -eq 0 ] && order="aws mp"
    for who in $order; do
        if [ "$who" = mp ]; then
            timed mp_put "$bin" put "$url" "$key" "$src"
        else
            timed aws_put "$aws" --endpoint-url "$ep" s3 cp --only-show-errors "$src" "s3://$bucket/bench-aws/blob"
        fi
    done
    for who in $order; do
        rm -f "$work/out"
        if [ "$who" = mp ]; then
            timed mp_get "$bin" get "$url" "$key" "$work/out"
        else
            timed aws_get "$aws" --endpoint-url "$ep" s3 cp --only-show-errors "s3://$bucket/bench-aws/blob" "$work/out"
        fi
        [ "$run" -eq 1 ] && check "$work/out"
    done
    rm -f "$work/out"
done

median() { # median COLUMN FILE
    cut -d' ' -f"$1" "$2" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
mib=$size_mib
printf '| direction | modpipe (median of %d) | aws s3 cp | modpipe MiB/s | aws MiB/s | ratio (throughput) | modpipe peak RSS | aws peak RSS |\n' "$runs"
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for dir in put get; do
    mt=$(median 1 "$work/mp_$dir") at=$(median 1 "$work/aws_$dir")
    mr=$(cut -d' ' -f2 "$work/mp_$dir" | sort -n | tail -n 1)
    ar=$(cut -d' ' -f2 "$work/aws_$dir" | sort -n | tail -n 1)
    awk -v d="$dir" -v mt="$mt" -v at="$at" -v mr="$mr" -v ar="$ar" -v mib="$mib" 'BEGIN {
        printf "| %s %d MiB | %.2f s | %.2f s | %.0f | %.0f | %.2fx | %.1f MB | %.1f MB |\n",
            (d == "put" ? "upload" : "download"), mib, mt, at, mib / mt, mib / at, at / mt,
            mr / 1024, ar / 1024 }'
done
echo
echo "all runs (seconds, peak RSS KB):"
for f in mp_put aws_put mp_get aws_get; do printf '  %-8s %s\n' "$f" "$(tr '\n' ';' <"$work/$f")"; done
