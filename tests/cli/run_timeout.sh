#!/usr/bin/env bash
# run_timeout.sh -- per-attempt timeouts kill the module's whole process
# group (every pid it started is gone afterwards), and retries: a module
# that fails once then succeeds, one that exhausts its retries, and a
# timed-out attempt that is retried.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

# expect_gone PIDFILE: none of the pids in the file is alive.
expect_gone() {
    local pid
    CHECKS=$((CHECKS + 1))
    [ -s "$1" ] || fail "$1 is empty: the module did not record its pids"
    while read -r pid; do
        if kill -0 "$pid" 2>/dev/null; then
            ps -o pid,pgid,stat,args -p "$pid" >&2 || true
            fail "process $pid (from $1) is still alive"
        fi
    done <"$1"
}

write timeout.yml <<'YAML'
version: 1
name: timeout
modules:
  hang:
    timeout: 1s
    run: |
      sleep 1000 & echo $! >> hang.pids
      sh -c 'sleep 1000 & echo $! >> hang.pids; sleep 1000' & echo $! >> hang.pids
      echo $$ >> hang.pids
      echo started
      sleep 1000
  # Ignores SIGTERM: killed with SIGKILL after the grace period.
  stubborn:
    timeout: 1s
    run: |
      trap '' TERM
      sleep 1000 & echo $! >> stubborn.pids
      echo $$ >> stubborn.pids
      while :; do sleep 1; done
  after_hang:
    depends_on: [hang]
    run: "true"
  quick:
    timeout: 10s
    run: "true"
YAML
start=$(date +%s)
expect_exit 1 mp run timeout.yml --on-failure continue --report r.json -j4
elapsed=$(($(date +%s) - start))
expect_statuses r.json <<'TXT'
after_hang dependency_failed
hang timed_out
quick succeeded
stubborn timed_out
TXT
expect_report r.json 'm["hang"]["error"]["message"]' 'module "hang" timed out after 1000 ms'
expect_report r.json 'm["hang"]["attempts"]' 1
expect_report r.json 'm["hang"]["exit_code"]' null
expect_report r.json '900 <= m["hang"]["duration_ms"] < 5000' true
expect_gone hang.pids
expect_gone stubborn.pids
expect_file_has .modpipe/logs/hang.log '^started$'
expect_file_has .modpipe/logs/hang.log 'timed out after 1000 ms'
# stubborn ignores SIGTERM: it waits out the grace period (10 s), then dies.
[ "$elapsed" -lt 60 ] || fail "the run took ${elapsed}s"

# ----------------------------------------------------------------- retries
write retry.yml <<'YAML'
version: 1
name: retry
modules:
  # Fails on its first attempt, succeeds on the second.
  flaky:
    retries: {count: 3, delay: 100ms}
    run: |
      echo "attempt $MODPIPE_ATTEMPT"
      echo "$MODPIPE_ATTEMPT $(date +%s%N)" >> flaky.attempts
      [ "$MODPIPE_ATTEMPT" -ge 2 ]
  # Always fails: 1 + 2 attempts, then failed.
  hopeless:
    retries: {count: 2, delay: 50ms}
    run: |
      echo "hopeless attempt $MODPIPE_ATTEMPT"
      echo "$MODPIPE_ATTEMPT" >> hopeless.attempts
      exit 5
  # The plain form: retries: N.
  plain:
    retries: 1
    run: '[ "$MODPIPE_ATTEMPT" = 2 ]'
  # A timed-out attempt is retried too.
  slow_once:
    timeout: 1s
    retries: {count: 1, delay: 10ms}
    run: |
      if [ "$MODPIPE_ATTEMPT" = 1 ]; then sleep 1000; fi
      echo done
  needs_flaky:
    depends_on: [flaky]
    run: "true"
  needs_hopeless:
    depends_on: [hopeless]
    run: "true"
YAML
expect_exit 1 mp run retry.yml --on-failure continue --report r.json -j4
expect_statuses r.json <<'TXT'
flaky succeeded
hopeless failed
needs_flaky succeeded
needs_hopeless dependency_failed
plain succeeded
slow_once succeeded
TXT
expect_report r.json 'm["flaky"]["attempts"]' 2
expect_report r.json 'm["hopeless"]["attempts"]' 3
expect_report r.json 'm["hopeless"]["exit_code"]' 5
expect_report r.json 'm["plain"]["attempts"]' 2
expect_report r.json 'm["slow_once"]["attempts"]' 2
expect_report r.json 'm["hopeless"]["error"]["message"]' \
    'module "hopeless" failed: exit code 5 (attempt 3 of 3)'
compare hopeless.attempts hopeless.attempts <<'TXT'
1
2
3
TXT
# The retry waited for its delay (100 ms, +-20% jitter).
gap=$(awk 'NR==1 {a=$2} NR==2 {printf "%d", ($2 - a) / 1000000}' flaky.attempts)
[ "$gap" -ge 80 ] || fail "flaky was retried after ${gap} ms (delay 100 ms)"
# The log keeps every attempt, with a marker line between them.
expect_file_has .modpipe/logs/flaky.log '^attempt 1$'
expect_file_has .modpipe/logs/flaky.log '^--- attempt 2 ---$'
expect_file_has .modpipe/logs/flaky.log '^attempt 2$'
expect_stdout_matches '^> flaky \(attempt 2\)$'

pass
