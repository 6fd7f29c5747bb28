#!/usr/bin/env bash
# dist_flags.sh -- the distributed options of `modpipe run` (DESIGN §1,
# docs/cli.md "Distributed runs"): every configuration error exits 2
# with a clear message before anything runs, with flags and with their
# environment variables; passwords in URLs are never printed.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES GITHUB_RUN_ID \
    CI_PIPELINE_ID BUILD_BUILDID BUILDKITE_BUILD_ID CIRCLE_WORKFLOW_ID BUILD_TAG

write touch.yml <<'YAML'
version: 1
modules:
  a: {run: 'touch ran.txt'}
YAML

usage_error() { # usage_error "expected stderr" ARGS...
    local want=$1
    shift
    rm -rf .modpipe ran.txt
    expect_exit 2 "$@"
    expect_stderr <<<"$want"
    expect_no_stdout
    [ ! -e ran.txt ] && [ ! -e .modpipe ] || fail "something ran for: $*"
}

# --help shows the distributed options.
expect_exit 0 mp run --help
for o in '--instances N' '--instance-index I' '--coordinator URL' '--run-id ID' \
    '--capability K=V' '--local-instances N'; do
    expect_stdout_matches "^  $o "
done

# instances > 1 without a coordinator (flag and env).
need='needs a coordinator: pass --coordinator redis://host:port or set MODPIPE_COORDINATOR (or run --local-instances N on one machine)'
usage_error "modpipe run: a distributed run (--instances 2) $need" mp run touch.yml --instances 2
MODPIPE_INSTANCES=3 usage_error "modpipe run: a distributed run (MODPIPE_INSTANCES 3) $need" \
    mp run touch.yml

# memory: is in-process only (DESIGN §7.9).
mem='is in-process only: instances in other processes would never meet; use redis://host:port (or --local-instances N on one machine)'
usage_error "modpipe run: coordinator \"memory:\" (--coordinator) $mem" \
    mp run touch.yml --instances 2 --coordinator memory: --run-id r1
MODPIPE_COORDINATOR=memory: usage_error "modpipe run: coordinator \"memory:\" (MODPIPE_COORDINATOR) $mem" \
    mp run touch.yml --instances 2 --run-id r1
usage_error "modpipe run: coordinator \"memory:\" (--coordinator) $mem" \
    mp run touch.yml --local-instances 2 --coordinator memory:

# Unknown scheme: the known ones are listed; the password is never shown.
rm -rf .modpipe
expect_exit 2 mp run touch.yml --instances 2 --coordinator 'zmq+tcp://u:s3cret@h:1' --run-id r1
expect_stderr_matches '^modpipe run: --coordinator "zmq\+tcp://u:\*\*\*@h:1": unknown coordinator .zmq\+tcp.: known schemes are .*memory:'
grep -q s3cret "$ERR" "$OUT" && fail "the password was printed"
expect_exit 2 env MODPIPE_COORDINATOR='nope://:pw-x@h' MODPIPE_RUN_ID=r1 "$MODPIPE" run touch.yml --instances 2
expect_stderr_matches '^modpipe run: MODPIPE_COORDINATOR "nope://:\*\*\*@h": unknown coordinator'
grep -q pw-x "$ERR" "$OUT" && fail "the password was printed"

# Index out of range, negative or malformed values.
usage_error 'modpipe run: instance index 2 (--instance-index) is outside the run'"'"'s instances 0..1 (--instances 2)' \
    mp run touch.yml --instances 2 --instance-index 2
MODPIPE_INSTANCES=2 MODPIPE_INSTANCE_INDEX=5 usage_error \
    'modpipe run: instance index 5 (MODPIPE_INSTANCE_INDEX) is outside the run'"'"'s instances 0..1 (MODPIPE_INSTANCES 2)' \
    mp run touch.yml
usage_error 'modpipe run: instance index 1 (--instance-index) is outside the run'"'"'s instances 0..0 (--instances 1)' \
    mp run touch.yml --instance-index 1
usage_error 'modpipe run: invalid value "-1" for --instances (use a whole number from 1 to 1024)' \
    mp run touch.yml --instances=-1
usage_error 'modpipe run: invalid value "-2" for MODPIPE_INSTANCE_INDEX (use a whole number from 0 to 1023)' \
    env MODPIPE_INSTANCE_INDEX=-2 "$MODPIPE" run touch.yml
usage_error 'modpipe run: invalid value "0" for --instances (use a whole number from 1 to 1024)' \
    mp run touch.yml --instances 0
usage_error 'modpipe run: invalid value "two" for MODPIPE_INSTANCES (use a whole number from 1 to 1024)' \
    env MODPIPE_INSTANCES=two "$MODPIPE" run touch.yml
usage_error 'modpipe run: invalid value "-3" for --local-instances (use a whole number from 1 to 64)' \
    mp run touch.yml --local-instances=-3
usage_error 'modpipe run: invalid value "65" for --local-instances (use a whole number from 1 to 64)' \
    mp run touch.yml --local-instances 65

# A distributed instance needs a run id (every instance the same; checked
# before the coordinator); a given one must be valid.
usage_error 'modpipe run: no run id: pass --run-id or set MODPIPE_RUN_ID (the same value on every instance of the run)' \
    mp run touch.yml --instances 2 --instance-index 1 --coordinator nope://h
usage_error 'modpipe run: invalid --run-id "a b" (use 1 to 128 characters of letters, digits and ._:+=@-)' \
    mp run touch.yml --run-id 'a b'
usage_error 'modpipe run: invalid MODPIPE_RUN_ID "x/y" (use 1 to 128 characters of letters, digits and ._:+=@-)' \
    env MODPIPE_RUN_ID=x/y "$MODPIPE" run touch.yml

# Options that would do nothing in a local run are refused, not ignored.
usage_error 'modpipe run: --coordinator is set but this is a local run: pass --instances N (N > 1) for a distributed run, or unset it' \
    mp run touch.yml --coordinator nope://h
usage_error 'modpipe run: --capability places modules among instances: it needs a distributed run (--instances N with N > 1, or --local-instances N)' \
    mp run touch.yml --capability gpu=1
usage_error 'modpipe run: --local-instances starts every instance itself: it cannot be combined with --instances or --instance-index' \
    mp run touch.yml --local-instances 2 --instances 2
# A bad capability pair is named.
rm -rf .modpipe
expect_exit 2 mp run touch.yml --local-instances 2 --capability 'gpu'
expect_stderr_matches '^modpipe run: .*gpu'
expect_exit 2 env MODPIPE_CAPABILITIES='=x' "$MODPIPE" run touch.yml
expect_stderr_matches '^modpipe run: .*=x'

# The run id of a local run: --run-id, else the CI's, else generated.
rm -rf .modpipe
expect_exit 0 mp run touch.yml --run-id given-1 -v
expect_stderr_matches '^modpipe run: run id given-1, '
expect_exit 0 env GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=2 "$MODPIPE" run touch.yml -v
expect_stderr_matches '^modpipe run: run id 77-2 \(GitHub Actions'
expect_exit 0 mp run touch.yml -v
expect_stderr_matches '^modpipe run: run id local-[0-9T]+Z-[0-9]+ \(generated\), '
pass
