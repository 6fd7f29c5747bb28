#!/usr/bin/env bash
# plan.sh -- `modpipe plan`: waves in order with placement notes, then the
# skipped and excluded modules with their reasons, for each filter
# (--module, --skip-module, --category, --ignore-category), their cascades
# along depends_on (not along after), combinations, the option forms
# (repeated, comma lists, matrix instance names), and filter errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

write_shop shop.yml

# plan_is ARGS... <<< "expected stdout": exit 0, nothing on stderr.
plan_is() {
    expect_exit 0 mp plan shop.yml "$@"
    expect_no_stderr
    expect_stdout
}

plan_is <<'TXT'
wave 1:
  docs
  lint
  restore
wave 2:
  build
wave 3:
  test[os=linux]  (needs os=linux)
  test[os=macos]  (needs os=macos)
wave 4:
  package
wave 5:
  publish         (pinned to the master)
TXT

# FILE defaults to ./modpipe.yml.
cp shop.yml modpipe.yml
expect_exit 0 mp plan --skip-module docs
expect_stdout_matches '^  docs            \(skipped by --skip-module\)$'
rm modpipe.yml

# --skip-module cascades along depends_on, transitively, naming the direct
# dependency that is skipped; lint (only an `after` of build) still runs.
plan_is --skip-module build <<'TXT'
wave 1:
  docs
  lint
  restore
skipped:
  build           (skipped by --skip-module)
  package         (dependency "test[os=linux]" is skipped)
  publish         (dependency "package" is skipped)
  test[os=linux]  (dependency "build" is skipped)
  test[os=macos]  (dependency "build" is skipped)
TXT

# Skipping what others only run `after` does not cascade.
plan_is --skip-module lint,docs <<'TXT'
wave 1:
  restore
wave 2:
  build
wave 3:
  test[os=linux]  (needs os=linux)
  test[os=macos]  (needs os=macos)
wave 4:
  package
wave 5:
  publish         (pinned to the master)
skipped:
  docs            (skipped by --skip-module)
  lint            (skipped by --skip-module)
TXT

# One matrix instance (its name holds "[", "=" ...) or all of them.
plan_is --skip-module "test[os=linux]" <<'TXT'
wave 1:
  docs
  lint
  restore
wave 2:
  build
wave 3:
  test[os=macos]  (needs os=macos)
skipped:
  package         (dependency "test[os=linux]" is skipped)
  publish         (dependency "package" is skipped)
  test[os=linux]  (skipped by --skip-module)
TXT
plan_is --skip-module test <<'TXT'
wave 1:
  docs
  lint
  restore
wave 2:
  build
skipped:
  package         (dependency "test[os=linux]" is skipped)
  publish         (dependency "package" is skipped)
  test[os=linux]  (skipped by --skip-module)
  test[os=macos]  (skipped by --skip-module)
TXT

# --module: the named modules and what they require; the rest is excluded
# (an `after` is not required: lint and docs are left out).
package_only() {
    cat <<'TXT'
wave 1:
  restore
wave 2:
  build
wave 3:
  test[os=linux]  (needs os=linux)
  test[os=macos]  (needs os=macos)
wave 4:
  package
excluded:
  docs            (not selected by --module)
  lint            (not selected by --module)
  publish         (not selected by --module)
TXT
}
package_only | plan_is --module package
package_only | plan_is --module=package

# Repeated and comma-separated forms are the same list.
both() {
    cat <<'TXT'
wave 1:
  docs
  lint
wave 2:
  build
excluded:
  package         (not selected by --module)
  publish         (not selected by --module)
  restore         (not selected by --module)
  test[os=linux]  (not selected by --module)
  test[os=macos]  (not selected by --module)
TXT
}
write flat.yml <<'YAML'
version: 1
modules:
  a:
    run: echo
  b:
    run: echo
  c:
    depends_on: [a]
    run: echo
YAML
flat_ab() {
    cat <<'TXT'
wave 1:
  a
  b
excluded:
  c  (not selected by --module)
TXT
}
for form in "--module a,b" "--module a --module b" "--module=b,a"; do
    # shellcheck disable=SC2086
    expect_exit 0 mp plan flat.yml $form
    flat_ab | expect_stdout
done

# A matrix instance name with several keys stays one item in a comma list.
write multi.yml <<'YAML'
version: 1
modules:
  t:
    matrix: {os: [linux, macos], arch: [x86_64, arm64]}
    run: echo
  u:
    run: echo
YAML
expect_exit 0 mp plan multi.yml --skip-module "t[os=linux,arch=arm64],u"
expect_stdout <<'TXT'
wave 1:
  t[os=linux,arch=x86_64]
  t[os=macos,arch=arm64]
  t[os=macos,arch=x86_64]
skipped:
  t[os=linux,arch=arm64]   (skipped by --skip-module)
  u                        (skipped by --skip-module)
TXT

# --module and --skip-module together: the skip cascades inside the
# selection.
plan_is --module package --skip-module "test[os=macos]" <<'TXT'
wave 1:
  restore
wave 2:
  build
wave 3:
  test[os=linux]  (needs os=linux)
skipped:
  package         (dependency "test[os=macos]" is skipped)
  test[os=macos]  (skipped by --skip-module)
excluded:
  docs            (not selected by --module)
  lint            (not selected by --module)
  publish         (not selected by --module)
TXT

# --category keeps modules of the category; the others are skipped and do
# not take their dependents with them.
plan_is --category test <<'TXT'
wave 1:
  test[os=linux]  (needs os=linux)
  test[os=macos]  (needs os=macos)
skipped:
  build           (not in category "test")
  docs            (not in category "test")
  lint            (not in category "test")
  package         (not in category "test")
  publish         (not in category "test")
  restore         (not in category "test")
TXT
# Waves count only modules that run: package no longer waits for the tests.
plan_is --category build,release <<'TXT'
wave 1:
  package
  restore
wave 2:
  build
  publish         (pinned to the master)
skipped:
  docs            (not in categories "build", "release")
  lint            (not in categories "build", "release")
  test[os=linux]  (not in categories "build", "release")
  test[os=macos]  (not in categories "build", "release")
TXT

plan_is --ignore-category docs --ignore-category check <<'TXT'
wave 1:
  restore
wave 2:
  build
wave 3:
  test[os=linux]  (needs os=linux)
  test[os=macos]  (needs os=macos)
wave 4:
  package
wave 5:
  publish         (pinned to the master)
skipped:
  docs            (category "docs" is ignored)
  lint            (category "check" is ignored)
TXT

# Everything filtered away.
plan_is --module docs --skip-module docs <<'TXT'
nothing to run
skipped:
  docs            (skipped by --skip-module)
excluded:
  build           (not selected by --module)
  lint            (not selected by --module)
  package         (not selected by --module)
  publish         (not selected by --module)
  restore         (not selected by --module)
  test[os=linux]  (not selected by --module)
  test[os=macos]  (not selected by --module)
TXT

# Filter errors: exit 2, one line, nothing on stdout.
filter_error() {
    expect_exit 2 mp plan shop.yml "$@"
    expect_no_stdout
    expect_stderr
}
filter_error --module biuld <<'TXT'
modpipe plan: --module: unknown module "biuld"; did you mean "build"?
TXT
filter_error --skip-module "test[os=windows]" <<'TXT'
modpipe plan: --skip-module: unknown module "test[os=windows]"; did you mean "test"?
TXT
filter_error --category nope <<'TXT'
modpipe plan: --category: no module is in category "nope"
TXT
filter_error --ignore-category tset <<'TXT'
modpipe plan: --ignore-category: no module is in category "tset"; did you mean "test"?
TXT

# An invalid pipeline is reported before any filter is looked at.
write bad.yml <<'YAML'
version: 1
modules:
  restore:
    run: echo
  build:
    depends_on: [restroe]
    run: echo
YAML
expect_exit 2 mp plan bad.yml --module zzz
expect_no_stdout
expect_stderr <<'TXT'
bad.yml:6:18: module "build" depends on unknown module "restroe"; did you mean "restore"?
modpipe: 1 problem in bad.yml
TXT

pass
