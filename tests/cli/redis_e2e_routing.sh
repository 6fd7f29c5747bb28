#!/usr/bin/env bash
# redis_e2e_routing.sh -- issue 5, separate processes over a real
# redis-server: a master and 3 workers with different capabilities
# (--capability). Each module ends on an instance offering what it
# requires; matrix instances are placed by their own requires; a
# pin_to_master module runs on instance 0. Then on_failure: stop on the
# master cancels a module running on another instance: its status is
# cancelled and its process is gone.
# labels: redis
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES GITHUB_RUN_ID
: "${MODPIPE_TEST_REDIS_URL:?run under tests/support/with-services.sh redis}"
export MODPIPE_COORDINATOR=$MODPIPE_TEST_REDIS_URL
ms() { echo $(($(date +%s%N) / 1000000)); }
wait_file() { # wait_file FILE: up to 20 s
    local i
    for i in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.1; done
    fail "$1 never appeared"
}
PIDS=()
: >"$OUT"; : >"$ERR"
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
wait_ok() { # wait_ok PID WANT WHAT
    local got=0
    wait "$1" || got=$?
    [ "$got" = "$2" ] || { cat ./*.err >&2; fail "$3 exited $got, expected $2"; }
}

# ------------------------------------------------------------ routing
# Worker 1: os=linux-a, gpu=yes; worker 2: os=macos-a; worker 3:
# os=linux-a, label=big, label=huge. Every module records where it ran.
write route.yml <<'YAML'
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 3s, registration_timeout: 20s}
modules:
  train: {requires: {gpu: "yes"}, run: 'echo at=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'}
  mac: {requires: {os: macos-a}, run: 'echo at=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'}
  big: {requires: {label: big, os: linux-a}, run: 'echo at=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'}
  huge: {requires: {label: huge}, run: 'echo at=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'}
  test:
    matrix: {os: [linux-a, macos-a]}
    requires: {os: "${{ matrix.os }}"}
    run: 'echo at=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'
  publish:
    depends_on: [train, mac, big, huge, test]
    pin_to_master: true
    run: 'echo at=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'
YAML
id="route-$$"
"$MODPIPE" run route.yml --instances 4 --run-id "$id" --report r.json >m.out 2>m.err &
m=$!
"$MODPIPE" run route.yml --instances 4 --instance-index 1 --run-id "$id" \
    --capability os=linux-a --capability gpu=yes >w1.out 2>w1.err &
w1=$!
"$MODPIPE" run route.yml --instances 4 --instance-index 2 --run-id "$id" \
    --capability os=macos-a >w2.out 2>w2.err &
w2=$!
"$MODPIPE" run route.yml --instances 4 --instance-index 3 --run-id "$id" \
    --capability os=linux-a --capability label=big --capability label=huge >w3.out 2>w3.err &
w3=$!
PIDS+=("$m" "$w1" "$w2" "$w3")
wait_ok "$m" 0 master
wait_ok "$w1" 0 "worker 1"
wait_ok "$w2" 0 "worker 2"
wait_ok "$w3" 0 "worker 3"
expect_report r.json 'r["status"]' succeeded
expect_report r.json 'len(m)' 7
expect_report r.json '{k: v["instance"] for k, v in sorted(m.items()) if k != "test[os=linux-a]"}' \
    '{"big": 3, "huge": 3, "mac": 2, "publish": 0, "test[os=macos-a]": 2, "train": 1}'
# os=linux-a: workers 1 and 3 both offer it
expect_report r.json 'm["test[os=linux-a]"]["instance"] in (1, 3)' true
expect_report r.json 'all(v["outputs"]["at"] == str(v["instance"]) for v in m.values())' true
expect_report r.json '{k: v["attempts"] for k, v in sorted(m.items())}' \
    '{"big": 1, "huge": 1, "mac": 1, "publish": 1, "test[os=linux-a]": 1, "test[os=macos-a]": 1, "train": 1}'
expect_report r.json 'r["instances"][2]["capabilities"]["os"]' macos-a

# ------------------------------------ on_failure: stop across instances
write stop.yml <<YAML
version: 1
options:
  on_failure: stop
  distributed: {heartbeat: 200ms, worker_timeout: 3s, registration_timeout: 20s}
modules:
  remote: {requires: {instance: "1"}, run: 'echo \$\$ > remote.pid; sleep 34.$$'}
  breaker: {pin_to_master: true, run: 'while [ ! -e remote.pid ]; do sleep 0.1; done; exit 5'}
  later: {depends_on: [remote], run: 'touch later.ran'}
YAML
id="stop-$$"
"$MODPIPE" run stop.yml --instances 2 --run-id "$id" --report s.json >m.out 2>m.err &
m=$!
"$MODPIPE" run stop.yml --instances 2 --instance-index 1 --run-id "$id" >w1.out 2>w1.err &
w1=$!
PIDS+=("$m" "$w1")
wait_file remote.pid
rpid=$(cat remote.pid)
t0=$(ms)
wait_ok "$m" 1 master
t1=$(ms)
wait_ok "$w1" 0 "worker 1"
# cancel broadcast + a heartbeat + the engine's kill grace (10 s), with room
[ $((t1 - t0)) -lt 16000 ] || fail "the stop took $((t1 - t0)) ms"
expect_report s.json 'r["status"]' failed
expect_report s.json 'm["breaker"]["status"]' failed
expect_report s.json 'm["breaker"]["exit_code"]' 5
expect_report s.json 'm["breaker"]["instance"]' 0
expect_report s.json 'm["remote"]["status"]' cancelled
expect_report s.json 'm["remote"]["instance"]' 1
expect_report s.json 'm["later"]["status"] in ("cancelled", "dependency_failed")' true
[ ! -e later.ran ] || fail "a module ran after the stop"
CHECKS=$((CHECKS + 1))
for i in $(seq 50); do
    kill -0 "$rpid" 2>/dev/null || pgrep -f "sleep 34\.$$" >/dev/null || break
    sleep 0.1
done
if kill -0 "$rpid" 2>/dev/null || pgrep -f "sleep 34\.$$" >/dev/null; then
    fail "the cancelled module's processes are left: $(pgrep -af "sleep 34\.$$")"
fi
pass
