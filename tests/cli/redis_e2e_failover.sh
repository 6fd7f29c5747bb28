#!/usr/bin/env bash
# redis_e2e_failover.sh -- issue 5, over a real redis-server: a worker
# killed with SIGKILL in the middle of a module loses its lease; after
# worker_timeout the master requeues the module, which re-runs on the
# other worker with attempts 2, and the run succeeds (DESIGN §2,
# docs/distributed.md "lease_expired"). Also: a worker started with a
# different pipeline (another pipeline hash) is refused with exit 2,
# naming both hashes, and the run goes on without it.
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
cleanup() { # never leave an instance or a module of this test behind
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    pkill -KILL -f "sleep 3[0-9]\.$$" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# ------------------------------------------- a worker killed mid-module
# Both workers offer pool=w; `job` goes to whichever claims it first. The
# first attempt records its instance and sleeps; that worker is killed.
write kill.yml <<YAML
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 20s, max_attempts: 3}
modules:
  job:
    requires: {pool: w}
    run: |
      echo \$MODPIPE_INSTANCE_INDEX >> job.instances
      if [ ! -e job.first ]; then touch job.first; sleep 33.$$; fi
      echo by=\$MODPIPE_INSTANCE_INDEX >> \$MODPIPE_OUTPUT
  tail: {depends_on: [job], pin_to_master: true, run: 'echo got=\${{ modules.job.outputs.by }} >> \$MODPIPE_OUTPUT'}
YAML
id="kill-$$"
"$MODPIPE" run kill.yml --instances 3 --run-id "$id" --report k.json >m.out 2>m.err &
m=$!
PIDS+=("$m")
"$MODPIPE" run kill.yml --instances 3 --instance-index 1 --run-id "$id" --capability pool=w >w1.out 2>w1.err &
w1=$!
"$MODPIPE" run kill.yml --instances 3 --instance-index 2 --run-id "$id" --capability pool=w >w2.out 2>w2.err &
w2=$!
PIDS+=("$w1" "$w2")
wait_file job.first
first=$(head -n 1 job.instances)
case $first in
1) victim=$w1 survivor=$w2 other=2 ;;
2) victim=$w2 survivor=$w1 other=1 ;;
*) fail "job's first attempt ran on instance \"$first\"" ;;
esac
# The first attempt's `sleep`: after SIGKILL its worker cannot stop it
# (it outlives the worker today: see the cleanup).
sleeper=$(pgrep -f "sleep 33\.$$" | head -n 1) || fail "the first attempt's sleep is not running"
t0=$(ms)
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
got=0
wait "$m" || got=$?
t1=$(ms)
[ "$got" = 0 ] || { cat m.out m.err w1.err w2.err >&2; fail "master exited $got, expected 0"; }
got=0
wait "$survivor" || got=$?
[ "$got" = 0 ] || { cat w1.err w2.err >&2; fail "surviving worker exited $got"; }
# worker_timeout (2 s) + a heartbeat + the re-run, with a wide margin.
[ $((t1 - t0)) -ge 1500 ] || fail "the module re-ran after $((t1 - t0)) ms, before the lease (2 s) lapsed"
[ $((t1 - t0)) -lt 20000 ] || fail "the run ended $((t1 - t0)) ms after the kill"
expect_report k.json 'r["status"]' succeeded
expect_report k.json 'm["job"]["status"]' succeeded
expect_report k.json 'm["job"]["attempts"]' 2
expect_report k.json 'm["job"]["instance"]' "$other"
expect_report k.json 'm["job"]["outputs"]["by"]' "$other"
expect_report k.json 'm["tail"]["instance"]' 0
expect_report k.json 'm["tail"]["outputs"]["got"]' "$other"
expect_eq "instances that ran job" "$(paste -sd, job.instances)" "$first,$other"
kill -KILL "$sleeper" 2>/dev/null || true

# ----------------------------------- a worker of another pipeline version
write v1.yml <<YAML
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 5s}
modules:
  a: {requires: {instance: "1"}, run: 'touch a.started; sleep 2'}
YAML
write v2.yml <<YAML
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 5s}
modules:
  a: {requires: {instance: "1"}, run: 'touch a.started; sleep 3'}
YAML
id="ver-$$"
"$MODPIPE" run v1.yml --instances 3 --run-id "$id" --report v.json >m.out 2>m.err &
m=$!
"$MODPIPE" run v1.yml --instances 3 --instance-index 1 --run-id "$id" >w1.out 2>w1.err &
w1=$!
PIDS+=("$m" "$w1")
wait_file a.started
expect_exit 2 mp run v2.yml --instances 3 --instance-index 2 --run-id "$id"
expect_stderr_matches "^modpipe run: instance 2: .*refused: pipeline hash [0-9a-f]+ differs from the master's [0-9a-f]+"
h_w=$(sed -n "s/.*pipeline hash \([0-9a-f]*\) differs from the master's \([0-9a-f]*\).*/\1/p" "$ERR")
h_m=$(sed -n "s/.*pipeline hash \([0-9a-f]*\) differs from the master's \([0-9a-f]*\).*/\2/p" "$ERR")
[ -n "$h_w" ] && [ "$h_w" != "$h_m" ] || { show_output; fail "the two hashes named are \"$h_w\" and \"$h_m\""; }
for p in $m $w1; do
    got=0
    wait "$p" || got=$?
    [ "$got" = 0 ] || { cat m.err w1.err >&2; fail "instance pid $p exited $got"; }
done
expect_report v.json 'r["status"]' succeeded
expect_report v.json 'm["a"]["instance"]' 1
expect_report v.json 'm["a"]["attempts"]' 1
pass
