#!/usr/bin/env bash
# validate.sh -- `modpipe validate`: the ok line (module count, hash), -q
# and MODPIPE_LOG_LEVEL, the default ./modpipe.yml, unreadable files, and
# invalid pipelines: every problem of the file and of the graph at once,
# sorted, as file:line:col: message, then the count, exit 2 -- the same for
# every command that loads a pipeline.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

HASH='[0-9a-f]{12}'

write_shop shop.yml
expect_exit 0 mp validate shop.yml
expect_no_stderr
expect_stdout_matches "^shop\.yml: ok \(8 modules, hash $HASH\)$"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "more than one line: $(cat "$OUT")"
shop_line=$(cat "$OUT")

write one.yml <<'YAML'
version: 1
modules:
  only:
    run: echo
YAML
expect_exit 0 mp validate one.yml
expect_stdout_matches "^one\.yml: ok \(1 module, hash $HASH\)$"

# Positions and the ok line name the file as given.
write sub/dir/p.yml <shop.yml
expect_exit 0 mp validate sub/dir/p.yml
expect_stdout_matches "^sub/dir/p\.yml: ok \(8 modules, hash $HASH\)$"
expect_exit 0 mp validate -- sub/dir/p.yml
expect_stdout_matches "^sub/dir/p\.yml: ok "
write ./-odd.yml <shop.yml
expect_exit 0 mp validate -- -odd.yml
expect_stdout_matches "^-odd\.yml: ok "

# FILE defaults to ./modpipe.yml.
cp shop.yml modpipe.yml
expect_exit 0 mp validate
expect_stdout_matches "^modpipe\.yml: ok \(8 modules, hash $HASH\)$"

# -q and the log level: nothing on success; problems are always printed.
for quiet in "-q" "--quiet"; do
    expect_exit 0 mp validate shop.yml "$quiet"
    expect_no_stdout
    expect_no_stderr
done
for level in warn error; do
    MODPIPE_LOG_LEVEL=$level expect_exit 0 mp validate shop.yml
    expect_no_stdout
done
for level in info debug ""; do
    MODPIPE_LOG_LEVEL=$level expect_exit 0 mp validate shop.yml
    printf '%s\n' "$shop_line" | expect_stdout
done

# The hash does not depend on key order, comments or quoting; it changes
# with the pipeline.
write reordered.yml <<'YAML'
# the shop pipeline, written differently
name: "shop"
version: 1
modules:
  docs: {run: echo docs, tags: [fast], category: docs}
  publish:
    run: echo publish   # last step
    category: release
    pin_to_master: true
    depends_on: [package]
  package:
    run: "echo package"
    after: [docs]
    depends_on: [test]
    category: release
  test:
    run: echo test ${{ matrix.os }}
    tags: [slow, nightly]
    category: test
    requires: {os: "${{ matrix.os }}"}
    matrix: {os: [linux, macos]}
    depends_on: [build]
  build:
    category: build
    run: echo build
    after: [lint]
    depends_on: [restore]
  lint: {run: echo lint, category: check, tags: [fast]}
  restore: {run: echo restore, category: build}
YAML
expect_exit 0 mp validate reordered.yml
[ "$(sed 's/^[^:]*: //' "$OUT")" = "${shop_line#shop.yml: }" ] ||
    fail "hash changed with formatting: $(cat "$OUT") vs $shop_line"
sed 's/echo docs/echo documentation/' reordered.yml >changed.yml
expect_exit 0 mp validate changed.yml
[ "$(sed 's/^[^:]*: //' "$OUT")" != "${shop_line#shop.yml: }" ] ||
    fail "hash did not change with the pipeline: $(cat "$OUT")"

# Files that cannot be read.
expect_exit 2 mp validate nope.yml
expect_no_stdout
expect_stderr <<'TXT'
modpipe: cannot read "nope.yml": No such file or directory
TXT
mkdir adir
expect_exit 2 mp validate adir
expect_stderr <<'TXT'
modpipe: cannot read "adir": Is a directory
TXT
expect_exit 2 mp validate shop.yml/x.yml
expect_stderr <<'TXT'
modpipe: cannot read "shop.yml/x.yml": Not a directory
TXT
if [ "$(id -u)" -ne 0 ]; then # root reads anything
    cp shop.yml locked.yml
    chmod 000 locked.yml
    expect_exit 2 mp validate locked.yml
    expect_stderr <<'TXT'
modpipe: cannot read "locked.yml": Permission denied
TXT
fi
head -c 9000000 /dev/zero | tr '\0' '#' >big.yml
expect_exit 2 mp validate big.yml
expect_stderr <<'TXT'
modpipe: big.yml: pipeline file is 9000000 bytes; the limit is 8 MiB
TXT
# No FILE and no ./modpipe.yml.
mkdir empty
(cd empty && expect_exit 2 mp validate && expect_stderr <<'TXT'
modpipe: cannot read "modpipe.yml": No such file or directory
TXT
)

# An invalid pipeline: the loader's problems (unknown key, bad duration)
# and the graph's (unknown dependency, cycle, expression) together, sorted
# by position, then the count.
write bad.yml <<'YAML'
version: 1
modules:
  restore:
    run: echo
  build:
    dependson: [restore]
    run: make
    timeout: 10x
  test:
    depends_on: [biuld]
    run: echo ${{ modules.restore.outputs.dir }}
  a:
    depends_on: [b]
    run: echo
  b:
    depends_on: [a]
    run: echo
YAML
bad_problems() {
    cat <<'TXT'
bad.yml:6:5: unknown key "dependson" in module "build"; did you mean "depends_on"?
bad.yml:8:14: invalid duration "10x" for "timeout": unknown unit (use ms, s, m or h)
bad.yml:10:18: module "test" depends on unknown module "biuld"; did you mean "build"?
bad.yml:11:10: module "test" uses ${{ modules.restore.outputs.dir }} but "restore" is not in its depends_on
bad.yml:13:18: dependency cycle: a -> b -> a
modpipe: 5 problems in bad.yml
TXT
}
expect_exit 2 mp validate bad.yml
expect_no_stdout
bad_problems | expect_stderr
# -q does not hide problems.
expect_exit 2 mp validate -q bad.yml
bad_problems | expect_stderr
# Every command that loads a pipeline reports them the same way.
for cmd in list plan graph "graph --format json" "plan --module build"; do
    # shellcheck disable=SC2086
    expect_exit 2 mp $cmd bad.yml
    expect_no_stdout
    bad_problems | expect_stderr
done

# A YAML syntax error has the parser's position.
printf 'version: 1\nmodules:\n  a: [\n' >syntax.yml
expect_exit 2 mp validate syntax.yml
expect_stderr <<'TXT'
syntax.yml:4:1: did not find expected node content (while parsing a flow node at line 4)
modpipe: 1 problem in syntax.yml
TXT

pass
