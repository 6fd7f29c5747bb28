#!/usr/bin/env bash
# version.sh -- `modpipe version` and `modpipe --version` print
# "modpipe <version>" (the CMake project version) and exit 0.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

want=$(sed -n 's/^project(modpipe VERSION \([0-9.]*\).*/\1/p' "$MODPIPE_SOURCE_DIR/CMakeLists.txt")
[ -n "$want" ] || fail "no project version in CMakeLists.txt"

for form in version --version; do
    expect_exit 0 mp "$form"
    printf 'modpipe %s\n' "$want" | expect_stdout
    expect_no_stderr
done

expect_exit 2 mp version modpipe.yml
expect_no_stdout
expect_stderr <<'TXT'
modpipe version: unexpected argument "modpipe.yml"
TXT
expect_exit 2 mp --version --help
expect_stderr <<'TXT'
modpipe: unexpected argument "--help" after "--version"
TXT
expect_exit 2 mp version --verbose
expect_stderr <<'TXT'
modpipe version: unknown option "--verbose"
TXT

pass
