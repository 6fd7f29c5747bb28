# tests/support/services.bash -- throw-away redis-server and S3 (s3rver with
# SigV4 checks) on free loopback ports, for tests that need the real servers.
#
#   . tests/support/services.bash
#   services_start_redis      # exports MODPIPE_TEST_REDIS_URL, _PORT, _PID
#   services_start_s3         # exports MODPIPE_TEST_S3_ENDPOINT, _BUCKET, AWS_* keys
#   services_stop             # also runs from the EXIT trap
#
# The S3 server is the npm package @20minutes/s3rver@5.0.0, installed by
# `scripts/dev.sh deps` under $MODPIPE_SERVICES_DIR (default
# ~/.cache/modpipe-test-services). Functions return non-zero on failure.

: "${MODPIPE_SERVICES_DIR:=${HOME:-/root}/.cache/modpipe-test-services}"
_svc_dir=""
_svc_pids=()

_svc_log() { echo "services: $*" >&2; }

_svc_rundir() {
    [ -n "$_svc_dir" ] && [ -d "$_svc_dir" ] && return 0
    _svc_dir=$(mktemp -d "${TMPDIR:-/tmp}/modpipe-services.XXXXXX") || return 1
    trap services_stop EXIT
}

# stop one pid we started: SIGTERM, up to 5 s, then SIGKILL; always reap
_svc_kill() {
    local pid=$1 i=0
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# services_start_redis [extra redis-server args...]
# redis-server cannot pick a free port itself (--port 0 disables TCP), so try
# random ports below the ephemeral range and retry when the bind fails.
services_start_redis() {
    command -v redis-server >/dev/null || { _svc_log "redis-server not installed (scripts/dev.sh deps)"; return 1; }
    _svc_rundir || return 1
    local dir="$_svc_dir/redis.$RANDOM" port pid try i
    mkdir -p "$dir" || return 1
    for try in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
            --dir "$dir" --daemonize no --logfile "$dir/redis.log" "$@" \
            </dev/null >/dev/null 2>&1 &
        pid=$!
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            # ready = answers and is our process (another server may own the port)
            if [ "$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
                sed -n 's/^process_id:\([0-9]*\).*/\1/p')" = "$pid" ]; then
                _svc_pids+=("$pid")
                export MODPIPE_TEST_REDIS_PORT=$port MODPIPE_TEST_REDIS_PID=$pid
                export MODPIPE_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
                return 0
            fi
            sleep 0.05
        done
        _svc_kill "$pid"
    done
    _svc_log "redis-server did not start: $(tail -n 2 "$dir/redis.log" 2>/dev/null)"
    return 1
}

services_start_s3() {
    local mod="$MODPIPE_SERVICES_DIR/node_modules/@20minutes/s3rver"
    [ -d "$mod" ] || { _svc_log "$mod missing (scripts/dev.sh deps)"; return 1; }
    command -v node >/dev/null || { _svc_log "node not installed"; return 1; }
    _svc_rundir || return 1
    local dir="$_svc_dir/s3.$RANDOM" pid port="" i bucket=${MODPIPE_TEST_S3_BUCKET:-modpipe-test}
    mkdir -p "$dir/data" || return 1
    # port 0: the kernel picks, the server prints it. --openssl-legacy-provider:
    # s3rver encrypts ListObjectsV2 continuation tokens with DES.
    # shellcheck disable=SC2016
    NODE_PATH="$MODPIPE_SERVICES_DIR/node_modules" node --openssl-legacy-provider -e '
        const S3rver = require(process.argv[1]);
        new S3rver({ address: "127.0.0.1", port: 0, directory: process.argv[2], silent: true,
                     configureBuckets: [{ name: process.argv[3] }] }).run()
          .then(({ address, port }) => console.log(`S3 listening on ${address}:${port}`))
          .catch((e) => { console.error(e); process.exit(1); });
        process.on("SIGTERM", () => process.exit(0));' \
        "@20minutes/s3rver" "$dir/data" "$bucket" </dev/null >"$dir/s3.log" 2>&1 &
    pid=$!
    for i in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$dir/s3.log" | head -n 1)
        [ -n "$port" ] && curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/" && break
        port=""
        sleep 0.05
    done
    if [ -z "$port" ]; then
        _svc_log "S3 server did not start: $(tail -n 5 "$dir/s3.log")"
        _svc_kill "$pid"
        return 1
    fi
    _svc_pids+=("$pid")
    export MODPIPE_TEST_S3_PID=$pid MODPIPE_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
    export MODPIPE_TEST_S3_BUCKET=$bucket MODPIPE_TEST_S3_DATA="$dir/data"
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
    export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
}

services_stop() {
    local pid
    for pid in "${_svc_pids[@]}"; do _svc_kill "$pid"; done
    _svc_pids=()
    [ -z "$_svc_dir" ] || rm -rf "$_svc_dir"
    _svc_dir=""
}
