# common.bash -- helpers shared by the end-to-end tests in tests/cli/.
#
# Sourced (never run) by each tests/cli/<name>.sh, which ctest registers as
# cli.<name> and runs with:
#   MODPIPE             the modpipe binary under test
#   MODPIPE_SOURCE_DIR  the source tree (fixtures, examples)
#   MODPIPE_TEST_TMP    a scratch directory for temporary files
# Each script gets a fresh directory $WORK under $MODPIPE_TEST_TMP as its
# working directory, removed when it exits. A check that fails prints what
# was expected and what came, and exits 1; the script ends with `pass`.
set -euo pipefail

: "${MODPIPE:?set MODPIPE to the modpipe binary}"
: "${MODPIPE_SOURCE_DIR:?set MODPIPE_SOURCE_DIR to the source tree}"
: "${MODPIPE_TEST_TMP:?set MODPIPE_TEST_TMP to a scratch directory}"

TEST_NAME=$(basename "${BASH_SOURCE[1]}" .sh)
# shellcheck disable=SC2034 # used by the scripts that source this file
FIXTURES=$MODPIPE_SOURCE_DIR/tests/fixtures
mkdir -p "$MODPIPE_TEST_TMP"
WORK=$(mktemp -d "$MODPIPE_TEST_TMP/$TEST_NAME.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/.stdout
ERR=$WORK/.stderr
CHECKS=0
cd "$WORK"
# Tests must not depend on the caller's environment.
unset MODPIPE_LOG_LEVEL

fail() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}

show_output() {
    printf -- '--- stdout:\n' >&2
    cat "$OUT" >&2
    printf -- '--- stderr:\n' >&2
    cat "$ERR" >&2
}

# expect_exit CODE cmd [args...]: run cmd with stdout in $OUT and stderr in
# $ERR; fail unless it exits with CODE.
expect_exit() {
    local want=$1 got=0
    shift
    "$@" >"$OUT" 2>"$ERR" || got=$?
    CHECKS=$((CHECKS + 1))
    if [ "$got" != "$want" ]; then
        show_output
        fail "expected exit $want, got $got from: $*"
    fi
}

# mp ARGS...: the binary under test (for brevity).
mp() {
    "$MODPIPE" "$@"
}

compare() { # compare WHAT FILE: FILE must equal stdin exactly
    local what=$1 file=$2
    if ! diff -u --label "expected $what" --label "actual $what" - "$file" >&2; then
        show_output
        fail "$what differs (see diff above)"
    fi
}

# expect_stdout / expect_stderr: the last command's output must equal stdin.
expect_stdout() { compare stdout "$OUT"; }
expect_stderr() { compare stderr "$ERR"; }
expect_no_stdout() { compare stdout "$OUT" </dev/null; }
expect_no_stderr() { compare stderr "$ERR" </dev/null; }

# expect_stdout_matches REGEX: some line of stdout matches (grep -E).
expect_stdout_matches() {
    if ! grep -Eq -- "$1" "$OUT"; then
        show_output
        fail "no line of stdout matches /$1/"
    fi
}

# expect_stderr_matches REGEX: some line of stderr matches (grep -E).
expect_stderr_matches() {
    if ! grep -Eq -- "$1" "$ERR"; then
        show_output
        fail "no line of stderr matches /$1/"
    fi
}

# write FILE: write stdin to FILE (relative to $WORK), creating directories.
write() {
    mkdir -p "$(dirname "$1")"
    cat >"$1"
}

pass() {
    printf '%s: %d checks passed\n' "$TEST_NAME" "$CHECKS"
}

# write_shop FILE: the pipeline most tests share. Its graph:
#   restore -> build -> test[os=linux], test[os=macos] -> package -> publish
#   lint ..> build, docs ..> package (after)
write_shop() {
    write "$1" <<'YAML'
version: 1
name: shop
modules:
  restore:
    category: build
    run: echo restore
  lint:
    category: check
    tags: [fast]
    run: echo lint
  build:
    depends_on: [restore]
    after: [lint]
    category: build
    run: echo build
  test:
    depends_on: [build]
    matrix: {os: [linux, macos]}
    requires: {os: "${{ matrix.os }}"}
    category: test
    tags: [slow, nightly]
    run: echo test ${{ matrix.os }}
  package:
    depends_on: [test]
    after: [docs]
    category: release
    run: echo package
  publish:
    depends_on: [package]
    pin_to_master: true
    category: release
    run: echo publish
  docs:
    category: docs
    tags: [fast]
    run: echo docs
YAML
}

# ---------------------------------------------------------------- run tests
# Helpers for tests/cli/run_*.sh, which run real pipelines and read the
# JSON report (--report) with python3.

# report_statuses REPORT: "module status" per module, in report order.
report_statuses() {
    python3 -c '
import json, sys
for m in json.load(open(sys.argv[1]))["modules"]:
    print(m["module"], m["status"])' "$1"
}

# expect_statuses REPORT <<< "module status" lines: the report holds
# exactly these modules (in pipeline order, i.e. sorted by name) with
# exactly these statuses.
expect_statuses() {
    CHECKS=$((CHECKS + 1))
    report_statuses "$1" >"$WORK/.statuses"
    compare "module statuses in $1" "$WORK/.statuses"
}

# report_py FILE EXPR: print the Python expression EXPR evaluated with
# r = the JSON document in FILE and, for a run report, m = {module name:
# result}. Strings print bare, anything else as JSON.
report_py() {
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
mods = r.get("modules") if isinstance(r, dict) else None
m = {x["module"]: x for x in mods} if isinstance(mods, list) else {}
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

# expect_report REPORT EXPR WANT: report_py REPORT EXPR must print WANT.
expect_report() {
    local got
    CHECKS=$((CHECKS + 1))
    got=$(report_py "$1" "$2")
    if [ "$got" != "$3" ]; then
        show_output
        fail "report $1: $2 is $got, expected $3"
    fi
}

# expect_file_has FILE REGEX / expect_file_lacks FILE FIXED: grep a file.
expect_file_has() {
    CHECKS=$((CHECKS + 1))
    grep -Eq -- "$2" "$1" || { show_output; fail "$1 has no line matching /$2/"; }
}
expect_file_lacks() {
    CHECKS=$((CHECKS + 1))
    if grep -rFq -- "$2" "$1"; then
        grep -rnF -- "$2" "$1" >&2 || true
        fail "$1 contains \"$2\""
    fi
}

# A module body that records when it ran: `$(stamp NAME FILE)` expands to
# shell that appends "NAME start_ns end_ns" to FILE around a sleep of S.
stamp() { # stamp NAME FILE SECONDS
    printf 's=$(date +%%s%%N); sleep %s; e=$(date +%%s%%N); echo "%s $s $e" >> %s' "$3" "$1" "$2"
}

# max_overlap FILE [NAME...]: the largest number of intervals in FILE (lines
# "name start end") that overlap at one instant, counting only the named
# modules (all when none is named).
max_overlap() {
    python3 -c '
import sys
names = set(sys.argv[2:])
ev = []
for line in open(sys.argv[1]):
    n, s, e = line.split()
    if names and n not in names: continue
    ev.append((int(s), 1)); ev.append((int(e), -1))
ev.sort(key=lambda x: (x[0], x[1]))
cur = best = 0
for _, d in ev:
    cur += d; best = max(best, cur)
print(best)' "$@"
}

# expect_eq WHAT GOT WANT
expect_eq() {
    CHECKS=$((CHECKS + 1))
    [ "$2" = "$3" ] || { show_output; fail "$1: got \"$2\", expected \"$3\""; }
}

# summary_statuses: "module status" for each row of the summary table in
# $OUT (the lines after the "Module  Status ..." header up to the first
# empty line), sorted by module.
summary_statuses() {
    awk '/^Module +Status +Duration/ {t=1; next} t && /^$/ {exit} t {print $1, $2}' "$OUT" | LC_ALL=C sort
}
