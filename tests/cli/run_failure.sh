#!/usr/bin/env bash
# run_failure.sh -- what a failure does to the rest of the run:
# on_failure stop vs continue (every module's status in each), the
# dependency_failed cascade, ignore_failure, always_run after a failure,
# and --on-failure overriding options.on_failure both ways.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

write fail.yml <<'YAML'
version: 1
name: fail
modules:
  boom:
    run: "sleep 1; echo boom; exit 1"
  # Still running when boom fails.
  slowpoke:
    run: "sleep 4; touch ran.slowpoke"
  down1:
    depends_on: [boom]
    run: touch ran.down1
  down2:
    depends_on: [down1]
    run: touch ran.down2
  # Not downstream of the failure, but waits for slowpoke.
  indep_later:
    depends_on: [slowpoke]
    run: touch ran.indep_later
  # Only ordered after boom: never fails with it.
  ordered:
    after: [boom]
    run: touch ran.ordered
  flop:
    ignore_failure: true
    run: "echo flop; exit 2"
  after_flop:
    depends_on: [flop]
    run: touch ran.after_flop
  cleanup:
    depends_on: [down2]
    always_run: true
    run: 'date +%s%N > ran.cleanup'
YAML

# ---------------------------------------------------- on_failure: stop (default)
expect_exit 1 mp run fail.yml --report r.json -j4
expect_statuses r.json <<'TXT'
after_flop succeeded
boom failed
cleanup succeeded
down1 dependency_failed
down2 dependency_failed
flop ignored_failure
indep_later cancelled
ordered cancelled
slowpoke cancelled
TXT
expect_report r.json 'r["status"]' failed
expect_report r.json 'm["slowpoke"]["attempts"]' 1
expect_report r.json 'm["slowpoke"]["skip_reason"]' 'run stopped after "boom" failed'
expect_report r.json 'm["indep_later"]["attempts"]' 0
expect_report r.json 'm["down1"]["skip_reason"]' 'dependency "boom" failed'
expect_report r.json 'm["down2"]["skip_reason"]' 'dependency "down1" did not run (upstream failure)'
expect_report r.json 'm["flop"]["exit_code"]' 2
expect_report r.json 'm["flop"]["error"]["message"]' 'module "flop" failed: exit code 2'
# The running module was stopped, the rest never started; cleanup ran
# after the failure.
[ ! -e ran.slowpoke ] && [ ! -e ran.down1 ] && [ ! -e ran.indep_later ] && [ ! -e ran.ordered ] ||
    fail "a module ran that should not have: $(ls ran.* | tr '\n' ' ')"
expect_report r.json "int($(cat ran.cleanup)) // 1000000 >= __import__('datetime').datetime.fromisoformat(m['boom']['ended_at'].replace('Z', '+00:00')).timestamp() * 1000 - 1" true
expect_stdout_matches '^! flop failed, ignored|^== flop \(failed, ignored'
# Summary and report agree.
summary_statuses >summary.txt
report_statuses r.json | LC_ALL=C sort | compare "summary statuses (vs report)" summary.txt
rm -f ran.*

# -------------------------------------------------------- on_failure: continue
expect_exit 1 mp run fail.yml --on-failure continue --report r.json -j4
expect_statuses r.json <<'TXT'
after_flop succeeded
boom failed
cleanup succeeded
down1 dependency_failed
down2 dependency_failed
flop ignored_failure
indep_later succeeded
ordered succeeded
slowpoke succeeded
TXT
[ -e ran.slowpoke ] && [ -e ran.indep_later ] && [ -e ran.ordered ] && [ ! -e ran.down1 ] ||
    fail "continue: wrong modules ran: $(ls ran.* | tr '\n' ' ')"
rm -f ran.*

# ---------------------------------------- the file's option, and the override
sed 's/^name: fail$/name: fail\noptions:\n  on_failure: continue/' fail.yml >cont.yml
expect_exit 1 mp run cont.yml --report r.json -j4
expect_report r.json 'm["indep_later"]["status"]' succeeded
expect_exit 1 mp run cont.yml --on-failure stop --report r.json -j4
expect_report r.json 'm["indep_later"]["status"]' cancelled
expect_report r.json 'm["slowpoke"]["status"]' cancelled

# ------------------------------------------------- ignored failures pass
expect_exit 0 mp run fail.yml --module after_flop --report r.json
expect_statuses r.json <<'TXT'
after_flop succeeded
boom skipped
cleanup skipped
down1 skipped
down2 skipped
flop ignored_failure
indep_later skipped
ordered skipped
slowpoke skipped
TXT
expect_report r.json 'r["status"]' succeeded
expect_stdout_matches '^pipeline succeeded'

pass
