#!/usr/bin/env bash
# redis_e2e_restart.sh -- the coordinator's redis-server killed and
# restarted empty (no persistence) in the middle of a run (DESIGN §3.4,
# "nothing waits forever"): the master sees the run's state is gone, fails
# the modules not yet ended with a message saying so and exits 3, within a
# bound; the worker exits with an infrastructure failure too; no module
# process is left. The test starts its own redis-server (labels: redis
# gives the wrapper's; this one is killed and restarted on its port).
# labels: redis
. "$(dirname "$0")/lib/common.bash"
. "$MODPIPE_SOURCE_DIR/tests/support/services.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES MODPIPE_ARTIFACTS GITHUB_RUN_ID

services_start_redis || fail "no redis-server"
port=$MODPIPE_TEST_REDIS_PORT
url="redis://127.0.0.1:$port/0?timeout=2s"
tag="restart.$$"

write modpipe.yml <<YAML
version: 1
name: restart
options:
  distributed: {heartbeat: 200ms, worker_timeout: 3s, registration_timeout: 20s}
modules:
  a:
    requires: {instance: "1"}
    run: touch started && sleep 8.$$ && echo done
  b:
    depends_on: [a]
    run: echo b
YAML

t0=$(date +%s)
"$MODPIPE" run --instances 2 --instance-index 1 --coordinator "$url" --run-id "$tag" \
    --progress never >worker.out 2>worker.err &
wpid=$!
"$MODPIPE" run --instances 2 --instance-index 0 --coordinator "$url" --run-id "$tag" \
    --progress never --report r.json >master.out 2>master.err &
mpid=$!
for _ in $(seq 200); do [ -e started ] && break; sleep 0.1; done
[ -e started ] || fail "module a never started"
# Kill the server and bring an empty one back on the same port.
kill -KILL "$MODPIPE_TEST_REDIS_PID"
sleep 1
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize no --logfile /dev/null </dev/null >/dev/null 2>&1 &
rpid=$!
# (replaces the EXIT traps of common.bash and services.bash: does their work too)
cleanup() {
    kill -KILL "$rpid" "${mpid:-}" "${wpid:-}" 2>/dev/null || true
    pkill -f "sleep 8.$$" 2>/dev/null || true
    services_stop || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Both end within a bound (worker_timeout 3 s + the 2 s call timeout +
# margin for a loaded machine), never hang.
deadline=$(($(date +%s) + 40))
while kill -0 "$mpid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
kill -0 "$mpid" 2>/dev/null && { cat master.err >&2; fail "the master still runs 40 s after the restart"; }
mrc=0
wait "$mpid" || mrc=$?
while kill -0 "$wpid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
kill -0 "$wpid" 2>/dev/null && { cat worker.err >&2; fail "the worker still runs 40 s after the restart"; }
wrc=0
wait "$wpid" || wrc=$?
CHECKS=$((CHECKS + 1))
[ "$mrc" = 3 ] || { cat master.err >&2; fail "master exit $mrc, expected 3"; }
[ "$wrc" = 3 ] || { cat worker.err >&2; fail "worker exit $wrc, expected 3"; }
CHECKS=$((CHECKS + 2))
grep -q "run state lost" master.err || { cat master.err >&2; fail "the master does not say the run state was lost"; }
[ "$(wc -l <master.err)" -lt 200 ] || fail "the master's stderr has $(wc -l <master.err) lines (a loop?)"
CHECKS=$((CHECKS + 2))
expect_statuses r.json <<'EOF2'
a failed
b cancelled
EOF2
expect_report r.json 'm["a"]["error"]["message"][:12]' "coordinator:"
for _ in $(seq 50); do pgrep -f "sleep 8.$$" >/dev/null || break; sleep 0.2; done
if pgrep -f "sleep 8.$$" >/dev/null; then fail "module process left: $(pgrep -af "sleep 8.$$")"; fi
CHECKS=$((CHECKS + 1))
echo "ended $(($(date +%s) - t0)) s after the start"
pass
