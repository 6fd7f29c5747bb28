#!/usr/bin/env bash
# dist_processes.sh -- instances of one distributed run as separate
# `modpipe run --instances N --instance-index I --coordinator redis://...`
# processes over a real redis-server (DESIGN §1, §3; docs/cli.md): worker
# exit codes (0 when the run finished, 2 refused registration, 3 no plan
# in time or master lost, 143 on SIGTERM after stopping and reporting its
# modules), the master's report naming the instance of each module.
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
no_sleepers() { # no `sleep 30` of this test is left
    CHECKS=$((CHECKS + 1))
    local i
    for i in $(seq 50); do
        pgrep -f "sleep 3[01]\.$$" >/dev/null || return 0
        sleep 0.1
    done
    fail "module processes left: $(pgrep -af "sleep 3[01]\.$$")"
}

# ------------------------------------------- a worker with no master comes
write alone.yml <<'YAML'
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 1s}
modules:
  a: {run: 'touch ran.txt'}
YAML
t0=$(ms)
expect_exit 3 mp run alone.yml --instances 2 --instance-index 1 --run-id "alone-$$"
t1=$(ms)
expect_stderr_matches "^modpipe run: instance 1: no master published the plan of run alone-$$ within registration_timeout \(1000 ms\)"
[ ! -e ran.txt ] || fail "a module ran without a master"
[ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -lt 8000 ] || fail "gave up after $((t1 - t0)) ms"

# ---------------------------- master + 2 workers; a second worker 1 refused
write run.yml <<YAML
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 20s}
modules:
  first: {requires: {instance: "1"}, run: 'touch first.started; sleep 1; echo by=\$MODPIPE_INSTANCE_INDEX >> \$MODPIPE_OUTPUT'}
  second: {requires: {instance: "2"}, run: 'echo by=\$MODPIPE_INSTANCE_INDEX >> \$MODPIPE_OUTPUT'}
  last: {depends_on: [first, second], pin_to_master: true, run: 'echo got=\${{ modules.first.outputs.by }}\${{ modules.second.outputs.by }} >> \$MODPIPE_OUTPUT'}
YAML
id="run-$$"
"$MODPIPE" run run.yml --instances 3 --instance-index 0 --run-id "$id" --report m.json >m.out 2>m.err &
m=$!
"$MODPIPE" run run.yml --instances 3 --instance-index 1 --run-id "$id" --capability team=red >w1.out 2>w1.err &
w1=$!
"$MODPIPE" run run.yml --instances 3 --instance-index 2 --run-id "$id" >w2.out 2>w2.err &
w2=$!
wait_file first.started
expect_exit 2 mp run run.yml --instances 3 --instance-index 1 --run-id "$id"
expect_stderr_matches '^modpipe run: instance 1: .*already registered'
for p in $m $w1 $w2; do
    got=0
    wait "$p" || got=$?
    [ "$got" = 0 ] || { cat m.err w1.err w2.err >&2; fail "instance pid $p exited $got"; }
done
expect_report m.json 'r["status"]' succeeded
expect_report m.json 'm["first"]["instance"]' 1
expect_report m.json 'm["second"]["instance"]' 2
expect_report m.json 'm["last"]["instance"]' 0
expect_report m.json 'm["last"]["outputs"]["got"]' 12
expect_report m.json '[i["index"] for i in r["instances"]]' '[0, 1, 2]'
expect_report m.json 'r["instances"][1]["capabilities"]["team"]' red
expect_report m.json 'r["run_id"]' "$id"
grep -Eq '^first +succeeded +[0-9.]+s +1 ' m.out || { cat m.out >&2; fail "summary: first on 1"; }
grep -q '^== first (succeeded' w1.out || { cat w1.out >&2; fail "worker 1 printed its module"; }

# ------------------------------------------------ SIGTERM to one worker
write term.yml <<YAML
version: 1
options:
  on_failure: continue
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 20s}
modules:
  victim: {requires: {instance: "1"}, run: 'touch victim.started; sleep 30.$$'}
  after: {depends_on: [victim], run: 'true'}
  other: {pin_to_master: true, run: 'sleep 1'}
YAML
id="term-$$"
"$MODPIPE" run term.yml --instances 2 --run-id "$id" --report t.json >m.out 2>m.err &
m=$!
"$MODPIPE" run term.yml --instances 2 --instance-index 1 --run-id "$id" >w1.out 2>w1.err &
w1=$!
wait_file victim.started
t0=$(ms)
kill -TERM "$w1"
got=0
wait "$w1" || got=$?
t1=$(ms)
[ "$got" = 143 ] || { cat w1.out w1.err >&2; fail "worker exited $got after SIGTERM, expected 143"; }
[ $((t1 - t0)) -lt 8000 ] || fail "worker took $((t1 - t0)) ms to stop"
grep -q 'interrupted by SIGTERM: stopping the modules running here' w1.err || { cat w1.err >&2; fail "worker message"; }
got=0
wait "$m" || got=$?
[ "$got" = 1 ] || { cat m.out m.err >&2; fail "master exited $got, expected 1"; }
expect_report t.json 'm["victim"]["status"]' cancelled
expect_report t.json 'm["victim"]["skip_reason"]' "the worker was interrupted by SIGTERM"
expect_report t.json 'm["after"]["status"]' dependency_failed
expect_report t.json 'm["other"]["status"]' succeeded
no_sleepers

# ---------------------------------------------------- the master is lost
write lost.yml <<YAML
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 1500ms, registration_timeout: 20s}
modules:
  long: {requires: {instance: "1"}, run: 'touch long.started; sleep 31.$$'}
YAML
id="lost-$$"
"$MODPIPE" run lost.yml --instances 2 --run-id "$id" >m.out 2>m.err &
m=$!
"$MODPIPE" run lost.yml --instances 2 --instance-index 1 --run-id "$id" >w1.out 2>w1.err &
w1=$!
wait_file long.started
kill -KILL "$m"
wait "$m" 2>/dev/null || true
t0=$(ms)
got=0
wait "$w1" || got=$?
t1=$(ms)
[ "$got" = 3 ] || { cat w1.out w1.err >&2; fail "worker exited $got after losing its master, expected 3"; }
grep -q 'master lost' w1.err || { cat w1.err >&2; fail "no 'master lost' message"; }
# liveness 1.5 s + a heartbeat + the kill grace of its module, with room
[ $((t1 - t0)) -lt 15000 ] || fail "the worker noticed after $((t1 - t0)) ms"
no_sleepers
pass
