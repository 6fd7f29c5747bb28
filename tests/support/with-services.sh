#!/usr/bin/env bash
# with-services.sh SERVICE... -- COMMAND [ARGS...]
# Starts each SERVICE (redis, s3) on a free loopback port, runs COMMAND with
# MODPIPE_TEST_REDIS_URL / MODPIPE_TEST_S3_* in its environment, stops them
# afterwards and exits with COMMAND's status. Used by ctest for the tests of
# the Redis coordinator and the remote artifact stores.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/services.bash"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
    redis) services_start_redis || exit 1 ;;
    s3) services_start_s3 || exit 1 ;;
    *) echo "with-services.sh: unknown service '$1' (redis, s3)" >&2; exit 2 ;;
    esac
    shift
done
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: with-services.sh SERVICE... -- COMMAND" >&2; exit 2; }
"$@"
rc=$?
services_stop
exit "$rc"
