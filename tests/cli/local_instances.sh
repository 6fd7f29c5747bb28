#!/usr/bin/env bash
# local_instances.sh -- `modpipe run --local-instances N` end to end
# (DESIGN §1, docs/cli.md): a private redis-server, N-1 worker processes
# of the same binary, their output folded into the master's with the
# instance, the summary and the report saying which instance ran each
# module; Ctrl-C on the master cancels across instances; no process of the
# run is left afterwards (workers, modules, redis-server); redis-server
# missing is exit 3.
# labels: redis
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES GITHUB_RUN_ID

# Every process of a run carries this in its environment (inherited by
# the workers, the redis-server and the modules); the test's own shell
# does not.
MARK="MP_LOCAL_TEST_MARK=$$.$RANDOM"
mpm() { env "$MARK" "$MODPIPE" "$@"; }
leftovers() { # pids of processes still carrying the mark
    local p
    for p in /proc/[0-9]*; do
        tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "$MARK" && echo "${p#/proc/}"
    done
    return 0
}
expect_no_leftovers() {
    local left i
    CHECKS=$((CHECKS + 1))
    for i in $(seq 50); do # reaping is asynchronous: up to 5 s
        left=$(leftovers)
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    ps -o pid,pgid,args -p "$(echo "$left" | paste -sd,)" >&2 || true
    fail "processes of the run left behind: $left"
}

write dist.yml <<'YAML'
version: 1
name: dist
options:
  distributed: {heartbeat: 200ms, worker_timeout: 3s, registration_timeout: 20s}
modules:
  on_master:
    pin_to_master: true
    run: 'echo "master says hi"; echo i=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'
  on_one:
    requires: {instance: "1"}
    run: 'echo "one says hi"; echo i=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'
  on_two:
    requires: {instance: "2"}
    run: 'echo "two says hi"; echo i=$MODPIPE_INSTANCE_INDEX >> $MODPIPE_OUTPUT'
  join:
    depends_on: [on_one, on_two]
    run: 'echo got=${{ modules.on_one.outputs.i }}${{ modules.on_two.outputs.i }} >> $MODPIPE_OUTPUT'
YAML

# ------------------------------------------------------------- a whole run
expect_exit 0 mpm run dist.yml --local-instances 3 --report r.json
expect_report r.json 'r["status"]' succeeded
expect_report r.json 'm["on_master"]["instance"]' 0
expect_report r.json 'm["on_one"]["instance"]' 1
expect_report r.json 'm["on_two"]["instance"]' 2
expect_report r.json 'm["on_one"]["outputs"]["i"]' 1
expect_report r.json 'm["join"]["outputs"]["got"]' 12
expect_report r.json '[i["index"] for i in r["instances"]]' '[0, 1, 2]'
expect_report r.json 'all(i["hostname"] for i in r["instances"])' true
expect_report r.json 'sorted(r["instances"][1]["capabilities"])' '["arch", "os"]'
expect_report r.json 'm["on_two"]["worker"].rsplit(":", 1)[0] == r["instances"][2]["hostname"]' true
run_id=$(report_py r.json 'r["run_id"]')
[[ $run_id =~ ^local-[0-9]{8}T[0-9]{6}Z-[0-9]+$ ]] || fail "generated run id \"$run_id\""
# The workers' output is folded in, prefixed with their instance; the
# master's own modules print as in a local run.
expect_stdout_matches '^\[1\] == on_one \(succeeded, '
expect_stdout_matches '^\[1\] one says hi$'
expect_stdout_matches '^\[2\] two says hi$'
expect_stdout_matches '^master says hi$'
# The summary's Instance column.
expect_stdout_matches '^on_two +succeeded +[0-9.]+s +2 '
expect_stdout_matches '^on_master +succeeded +[0-9.]+s +0 '
expect_no_leftovers
# The workers kept their state apart.
[ -f .modpipe/instance-1/logs/on_one.log ] || fail "instance 1's log"
[ -f .modpipe/instance-2/logs/on_two.log ] || fail "instance 2's log"

# The example pipeline (the README's demo) spread over 3 instances, in a
# copy of examples/ (the run writes into its workspace).
cp -r "$MODPIPE_SOURCE_DIR/examples" ex
(cd ex && mpm run --local-instances 3 --report ../ex.json) >"$OUT" 2>"$ERR" || {
    show_output
    fail "the example failed on 3 local instances"
}
expect_report ex.json 'r["status"]' succeeded
expect_report ex.json 'len(m)' 14
expect_report ex.json 'len({x["instance"] for x in m.values() if x["status"] == "succeeded"}) > 1' true
expect_no_leftovers

# A failing module: the master's verdict is the exit code, workers end 0.
write fail.yml <<'YAML'
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 3s, registration_timeout: 20s}
modules:
  bad: {requires: {instance: "1"}, run: 'echo broken; exit 4'}
  after: {depends_on: [bad], run: 'true'}
YAML
expect_exit 1 mpm run fail.yml --local-instances 2 --report f.json
expect_report f.json 'm["bad"]["exit_code"]' 4
expect_report f.json 'm["bad"]["instance"]' 1
expect_report f.json 'm["after"]["status"]' dependency_failed
if grep -q 'instance 1 ended with' "$ERR"; then fail "a worker exited non-zero"; fi
expect_no_leftovers

# ------------------------------------------------------------ interrupted
write long.yml <<'YAML'
version: 1
options:
  distributed: {heartbeat: 200ms, worker_timeout: 3s, registration_timeout: 20s}
modules:
  m0: {pin_to_master: true, run: 'touch started0; sleep 30'}
  m1: {requires: {instance: "1"}, run: 'touch started1; sleep 30'}
  m2: {requires: {instance: "2"}, run: 'touch started2; exec sleep 30'}
  cleanup: {depends_on: [m1], always_run: true, run: 'touch cleaned'}
YAML
rm -f started0 started1 started2 cleaned
env "$MARK" "$MODPIPE" run long.yml --local-instances 3 --report l.json >"$OUT" 2>"$ERR" &
pid=$!
for i in $(seq 200); do
    [ -e started0 ] && [ -e started1 ] && [ -e started2 ] && break
    sleep 0.1
done
[ -e started0 ] && [ -e started1 ] && [ -e started2 ] || { show_output; fail "modules did not start"; }
t0=$(date +%s%N)
kill -INT "$pid"
got=0
wait "$pid" || got=$?
t1=$(date +%s%N)
[ "$got" = 130 ] || { show_output; fail "exit $got after SIGINT, expected 130"; }
# Cancel broadcast + 200 ms heartbeat + the engine's 10 s grace at most.
[ $(((t1 - t0) / 1000000)) -lt 15000 ] || fail "SIGINT took $(((t1 - t0) / 1000000)) ms"
expect_report l.json 'r["status"]' cancelled
expect_report l.json '[m[x]["status"] for x in ("m0", "m1", "m2")]' '["cancelled", "cancelled", "cancelled"]'
expect_report l.json 'm["m2"]["instance"]' 2
expect_report l.json 'm["cleanup"]["status"]' succeeded
[ -e cleaned ] || fail "the always_run module did not run"
expect_stderr_matches 'interrupted by SIGINT: stopping the run on every instance'
expect_no_leftovers

# ---------------------------------------------------- redis-server missing
mkdir -p nobin
expect_exit 3 env PATH="$WORK/nobin" "$MARK" "$MODPIPE" run dist.yml --local-instances 2
expect_stderr <<'EOF2'
modpipe run: redis-server is not installed (not found in PATH): --local-instances starts a private one for the run; install it (Debian: apt-get install redis-server) or pass --coordinator redis://host:port
modpipe run: nothing ran
EOF2
expect_no_leftovers
pass
