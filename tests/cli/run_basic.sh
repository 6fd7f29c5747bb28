#!/usr/bin/env bash
# run_basic.sh -- `modpipe run` end to end: success (exit 0), failure
# (exit 1), FILE defaulting to ./modpipe.yml, outputs and expressions
# between modules, the run id, the report (--report and MODPIPE_REPORT)
# agreeing with the summary, history, filters, and every usage error of
# the run options (exit 2, nothing ran) and an unusable state dir (exit 3).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID

# --help lists the run options and nothing else happens.
expect_exit 0 mp run --help
expect_stdout_matches '^usage: modpipe run \[FILE\] \[options\]$'
expect_stdout_matches '^  -j, --parallelism N '
expect_stdout_matches '^  --on-failure stop\|continue '
expect_no_stderr
# `run` is listed by the top-level help.
expect_exit 0 mp --help
expect_stdout_matches '^  run +run the pipeline on this machine$'

# ------------------------------------------------------------------ success
write ok.yml <<'YAML'
version: 1
name: ok
modules:
  a:
    run: echo from a
  b:
    depends_on: [a]
    run: echo from b
  c:
    depends_on: [a]
    run: [echo, from c]
YAML
expect_exit 0 mp run ok.yml --report r.json --progress never
expect_statuses r.json <<'TXT'
a succeeded
b succeeded
c succeeded
TXT
expect_report r.json 'r["status"]' succeeded
expect_report r.json 'r["schema"]' modpipe.report/v1
expect_report r.json 'r["pipeline"]["name"]' ok
expect_report r.json '[m[k]["exit_code"] for k in "abc"]' '[0, 0, 0]'
expect_report r.json 'm["b"]["started_at"] >= m["a"]["ended_at"]' true
# Grouped output (the default): each module's log as one block.
expect_stdout_matches '^== a \(succeeded, [0-9.]+s\) ==$'
expect_stdout_matches '^from c$'
expect_stdout_matches '^pipeline succeeded'
# Logs and history live in ./.modpipe.
expect_file_has .modpipe/logs/b.log '^from b$'
expect_report .modpipe/history.json 'sorted(r["modules"])' '["a", "b", "c"]'
# The run id is generated: local-<UTC time>-<pid>.
expect_report r.json 'r["run_id"]' "$(report_py r.json 'r["run_id"]')"
run_id=$(report_py r.json 'r["run_id"]')
[[ $run_id =~ ^local-[0-9]{8}T[0-9]{6}Z-[0-9]+$ ]] || fail "generated run id \"$run_id\""

# FILE defaults to ./modpipe.yml; MODPIPE_REPORT names the report.
cp ok.yml modpipe.yml
MODPIPE_REPORT=env.json expect_exit 0 mp run
expect_report env.json 'r["status"]' succeeded
# --report wins over MODPIPE_REPORT.
MODPIPE_REPORT=env2.json expect_exit 0 mp run --report flag.json
[ -f flag.json ] && [ ! -f env2.json ] || fail "--report must win over MODPIPE_REPORT"
rm modpipe.yml

# The live display: only when asked (stdout is not a terminal here).
write slow.yml <<'YAML'
version: 1
name: slow
modules:
  nap:
    run: sleep 0.5
YAML
expect_exit 0 mp run slow.yml --progress always
expect_stdout_matches '^modpipe  0/1 done, 0 failed, 1 running, 0 pending'
expect_stdout_matches $'\033\\[J'
expect_exit 0 mp run slow.yml
if grep -q $'\033' "$OUT"; then fail "escape sequences without a terminal (--progress auto)"; fi
expect_exit 0 mp run slow.yml --progress never --output stream
expect_stdout_matches '^\+ nap succeeded'

# ------------------------------------------------------------------ failure
write fail.yml <<'YAML'
version: 1
name: fail
modules:
  good:
    run: "true"
  bad:
    run: "echo about to fail; exit 7"
  after_bad:
    depends_on: [bad]
    run: "true"
YAML
# With -j1 bad starts first (it has the longer path to the end); the stop
# after its failure cancels good, which never started.
expect_exit 1 mp run fail.yml --report r.json -j1
expect_statuses r.json <<'TXT'
after_bad dependency_failed
bad failed
good cancelled
TXT
expect_report r.json 'r["status"]' failed
expect_report r.json 'm["bad"]["exit_code"]' 7
expect_report r.json 'm["bad"]["error"]["log_tail"]' 'about to fail'
expect_report r.json 'm["after_bad"]["exit_code"]' null
# The summary: failures first, and its statuses are the report's.
expect_stdout_matches '^bad +failed '
expect_stdout_matches '^pipeline failed'
summary_statuses >summary.txt
report_statuses r.json | LC_ALL=C sort | compare "summary statuses (vs report)" summary.txt

# -------------------------------------------------- outputs and expressions
write outputs.yml <<'YAML'
version: 1
name: outputs
modules:
  make-version:
    run: |
      echo "version=1.2.3" >> "$MODPIPE_OUTPUT"
      printf 'notes<<EOF\nline one\nline two\nEOF\n' >> "$MODPIPE_OUTPUT"
      echo "empty=" >> "$MODPIPE_OUTPUT"
  use:
    depends_on: [make-version]
    run: |
      echo "expr=${{ modules.make-version.outputs.version }}" > use.txt
      echo "env=$MODPIPE_DEP_MAKE_VERSION_VERSION" >> use.txt
      echo "status=${{ modules.make-version.status }}" >> use.txt
      echo "run=${{ run.id }}" >> use.txt
      echo "instance=${{ instance.index }}" >> use.txt
      echo "module=$MODPIPE_MODULE attempt=$MODPIPE_ATTEMPT ws=$MODPIPE_WORKSPACE" >> use.txt
      echo "runid=$MODPIPE_RUN_ID index=$MODPIPE_INSTANCE_INDEX" >> use.txt
      printf '%s\n' "$MODPIPE_DEP_MAKE_VERSION_NOTES" > notes.txt
YAML
MODPIPE_RUN_ID=ci-42.1 expect_exit 0 mp run outputs.yml --report r.json
expect_statuses r.json <<'TXT'
make-version succeeded
use succeeded
TXT
compare use.txt use.txt <<TXT
expr=1.2.3
env=1.2.3
status=succeeded
run=ci-42.1
instance=0
module=use attempt=1 ws=$WORK
runid=ci-42.1 index=0
TXT
compare notes.txt notes.txt <<'TXT'
line one
line two
TXT
expect_report r.json 'm["make-version"]["outputs"]' \
    '{"version": "1.2.3", "notes": "line one\nline two", "empty": ""}'
expect_report r.json 'r["run_id"]' ci-42.1

# ------------------------------------------------------------------ filters
expect_exit 0 mp run ok.yml --module b --report r.json
expect_statuses r.json <<'TXT'
a succeeded
b succeeded
c skipped
TXT
expect_report r.json 'm["c"]["skip_reason"]' 'not selected by --module'
expect_exit 0 mp run ok.yml --skip-module a --report r.json
expect_statuses r.json <<'TXT'
a skipped
b skipped
c skipped
TXT
expect_report r.json 'm["b"]["skip_reason"]' 'dependency "a" is skipped'
expect_exit 2 mp run ok.yml --module nope
expect_stderr <<'TXT'
modpipe run: --module: unknown module "nope"
TXT
expect_exit 2 mp run ok.yml --category nope
expect_stderr <<'TXT'
modpipe run: --category: no module is in category "nope"
TXT

# ------------------------------------------------------ usage errors, exit 2
# Each leaves nothing behind: the pipeline's module would create ran.txt.
write touch.yml <<'YAML'
version: 1
name: touch
modules:
  t:
    run: touch ran.txt
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
range='(use a whole number from 1 to 4096)'
usage_error "modpipe run: invalid value \"0\" for --parallelism $range" mp run touch.yml -j 0
usage_error "modpipe run: invalid value \"-1\" for --parallelism $range" mp run touch.yml --parallelism=-1
usage_error "modpipe run: invalid value \"-1\" for --parallelism $range" mp run touch.yml -j-1
usage_error 'modpipe run: option "-j" needs a value (N)' mp run touch.yml -j -1
usage_error "modpipe run: invalid value \"four\" for --parallelism $range" \
    mp run touch.yml --parallelism four
usage_error "modpipe run: invalid value \"4x\" for --parallelism $range" mp run touch.yml -j4x
usage_error "modpipe run: invalid value \"5000\" for --parallelism $range" mp run touch.yml -j5000
MODPIPE_PARALLELISM=0 usage_error \
    "modpipe run: invalid value \"0\" for MODPIPE_PARALLELISM $range" mp run touch.yml
MODPIPE_PARALLELISM=-3 usage_error \
    "modpipe run: invalid value \"-3\" for MODPIPE_PARALLELISM $range" mp run touch.yml
# The flag wins over the environment (a bad environment value is then unused).
MODPIPE_PARALLELISM=junk expect_exit 0 mp run touch.yml -j 1
usage_error 'modpipe run: invalid value "halt" for --on-failure (use stop or continue)' \
    mp run touch.yml --on-failure halt
usage_error 'modpipe run: invalid value "stpo" for --on-failure; did you mean "stop"?' \
    mp run touch.yml --on-failure stpo
usage_error 'modpipe run: invalid value "sometimes" for --progress (use auto, always or never)' \
    mp run touch.yml --progress sometimes
usage_error 'modpipe run: invalid value "grouper" for --output; did you mean "grouped"?' \
    mp run touch.yml --output grouper
# The distributed options and their errors: tests/cli/dist_flags.sh.
usage_error 'modpipe run: options "-q" and "-v" cannot be used together' mp run touch.yml -q -v
MODPIPE_LOG_LEVEL=loud usage_error \
    'modpipe run: invalid MODPIPE_LOG_LEVEL "loud" (use error, warn, info or debug)' \
    mp run touch.yml
MODPIPE_RUN_ID='a b' usage_error \
    'modpipe run: invalid MODPIPE_RUN_ID "a b" (use 1 to 128 characters of letters, digits and ._:+=@-)' \
    mp run touch.yml
usage_error 'modpipe: cannot read "missing.yml": No such file or directory' mp run missing.yml
usage_error 'modpipe run: cannot write the report to "no/such/dir/r.json": no/such/dir: No such file or directory' \
    mp run touch.yml --report no/such/dir/r.json
mkdir adir
usage_error 'modpipe run: cannot write the report to "adir": it is a directory' \
    mp run touch.yml --report adir

# -v tells the run id, parallelism and where it came from.
MODPIPE_RUN_ID=v-1 expect_exit 0 mp run touch.yml -v -j 3
expect_stderr_matches '^modpipe run: run id v-1, 1 modules, parallelism 3 \(--parallelism\), on_failure stop$'
MODPIPE_PARALLELISM=2 expect_exit 0 mp run touch.yml -v
expect_stderr_matches 'parallelism 2 \(MODPIPE_PARALLELISM\)'
# Without -v modpipe itself says nothing on stderr.
expect_exit 0 mp run touch.yml
expect_no_stderr

# ------------------------------------------------ state dir unusable, exit 3
rm -rf .modpipe ran.txt
echo "not a directory" >.modpipe
expect_exit 3 mp run touch.yml
expect_stderr_matches '^modpipe run: cannot create directory .*/\.modpipe: File exists$|^modpipe run: .*\.modpipe.*'
[ ! -e ran.txt ] || fail "a module ran although the state dir is unusable"
rm -f .modpipe

pass
