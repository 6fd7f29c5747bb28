#!/usr/bin/env bash
# run_signals.sh -- interrupting a run: SIGINT exits 130 and SIGTERM 143,
# after the running module's whole process group is stopped (no process
# with the test's marker in its argv survives, also one that left the
# group with setsid), the always_run module has run, and the summary and
# the report are written. A second SIGINT stops the always_run module too.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

MARK=mpsig_$$_$RANDOM

# wait_for FILE: until FILE exists (10 s at most).
wait_for() {
    local i
    for i in $(seq 100); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    fail "$1 did not appear"
}

# expect_no_marker: no process with $MARK in its command line is left.
expect_no_marker() {
    CHECKS=$((CHECKS + 1))
    if pgrep -f "$MARK" >/dev/null; then
        pgrep -af "$MARK" >&2
        fail "processes of the interrupted module survived"
    fi
}

write sig.yml <<YAML
version: 1
name: sig
modules:
  long:
    run: |
      bash -c 'exec -a ${MARK}_bg sleep 1000' &
      if [ -n "\${ESCAPE:-}" ]; then setsid bash -c 'exec -a ${MARK}_setsid sleep 1000' & fi
      touch started
      bash -c 'exec -a ${MARK}_fg sleep 1000'
  after_long:
    depends_on: [long]
    run: touch ran.after_long
  other:
    after: [long]
    run: touch ran.other
  cleanup:
    depends_on: [long]
    always_run: true
    run: 'echo "cleanup saw \${{ modules.long.status }}" > ran.cleanup'
YAML

# interrupt SIGNAL: start a run, send SIGNAL once the module runs; sets
# $code to its exit code. With ESCAPE=1 in the environment, the module
# also starts a process that leaves its group (setsid) and holds its
# output pipe: it is not reached by the group kill, so the engine waits
# out the kill grace period (10 s) for the end of the output, and the
# orphan is killed after the run.
interrupt() {
    rm -f started ran.* r.json
    "$MODPIPE" run sig.yml --report r.json >"$OUT" 2>"$ERR" &
    local pid=$!
    wait_for started
    [ "$(pgrep -fc "$MARK")" -ge 3 ] || fail "the module's processes are not running"
    kill -"$1" "$pid"
    code=0
    wait "$pid" || code=$?
}

ESCAPE=1 interrupt INT
expect_eq "exit code after SIGINT" "$code" 130
expect_no_marker
expect_statuses r.json <<'TXT'
after_long cancelled
cleanup succeeded
long cancelled
other cancelled
TXT
expect_report r.json 'r["status"]' cancelled
expect_report r.json 'm["long"]["skip_reason"]' 'run interrupted by SIGINT'
compare ran.cleanup ran.cleanup <<<"cleanup saw cancelled"
[ ! -e ran.after_long ] && [ ! -e ran.other ] || fail "modules started after SIGINT"
expect_stdout_matches '^long +cancelled '
expect_stdout_matches '^pipeline interrupted by SIGINT'
summary_statuses >summary.txt
report_statuses r.json | LC_ALL=C sort | compare "summary statuses (vs report)" summary.txt

interrupt TERM
expect_eq "exit code after SIGTERM" "$code" 143
expect_no_marker
expect_statuses r.json <<'TXT'
after_long cancelled
cleanup succeeded
long cancelled
other cancelled
TXT
expect_report r.json 'm["long"]["skip_reason"]' 'run interrupted by SIGTERM'
expect_stdout_matches '^pipeline interrupted by SIGTERM'

# A second SIGINT also stops the always_run module.
write sig2.yml <<YAML
version: 1
name: sig2
modules:
  long:
    run: touch started; bash -c 'exec -a ${MARK}_long sleep 1000'
  cleanup:
    depends_on: [long]
    always_run: true
    run: touch cleanup.started; bash -c 'exec -a ${MARK}_cleanup sleep 1000'
YAML
rm -f started cleanup.started
"$MODPIPE" run sig2.yml --report r.json >"$OUT" 2>"$ERR" &
pid=$!
wait_for started
kill -INT "$pid"
wait_for cleanup.started
kill -INT "$pid"
code=0
wait "$pid" || code=$?
expect_eq "exit code after two SIGINTs" "$code" 130
expect_no_marker
expect_statuses r.json <<'TXT'
cleanup cancelled
long cancelled
TXT

# A process that left the module's group (setsid) and keeps the output
# pipe open does not hold the stop up for the grace period: once the group
# is empty the module ends, and the escaped process is killed at the end.
write escape.yml <<YAML
version: 1
name: escape
modules:
  esc:
    run: touch started; setsid bash -c 'exec -a ${MARK}_esc sleep 1000' & sleep 1000
YAML
rm -f started
"$MODPIPE" run escape.yml --report r.json >"$OUT" 2>"$ERR" &
pid=$!
wait_for started
t0=$(date +%s%N)
kill -INT "$pid"
code=0
wait "$pid" || code=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "exit code after SIGINT" "$code" 130
[ "$ms" -lt 5000 ] || fail "stopping took $ms ms (the grace period is 10 s)"
expect_no_marker
expect_statuses r.json <<'TXT'
esc cancelled
TXT

pass
