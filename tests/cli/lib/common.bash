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
