#!/usr/bin/env bash
# usage.sh -- usage errors exit 2 with one line on stderr and nothing on
# stdout: unknown commands and options (with a did-you-mean when one is
# close), missing or empty values, extra arguments, options a command does
# not act on, and a bad MODPIPE_LOG_LEVEL.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

# usage_error ARGS... <<< "expected stderr": exit 2, no stdout.
usage_error() {
    expect_exit 2 mp "$@"
    expect_no_stdout
    expect_stderr
}

# Commands.
usage_error valdate <<'TXT'
modpipe: unknown command "valdate"; did you mean "validate"?
TXT
usage_error lsit <<'TXT'
modpipe: unknown command "lsit"; did you mean "list"?
TXT
usage_error grpah x.yml <<'TXT'
modpipe: unknown command "grpah"; did you mean "graph"?
TXT
usage_error xyzzy <<'TXT'
modpipe: unknown command "xyzzy"; "modpipe --help" lists the commands
TXT
usage_error rnu <<'TXT'
modpipe: unknown command "rnu"; did you mean "run"?
TXT
# `run` takes FILE like the others (defaulting to ./modpipe.yml).
usage_error run <<'TXT'
modpipe: cannot read "modpipe.yml": No such file or directory
TXT

# Options before the command.
usage_error --verison <<'TXT'
modpipe: unknown option "--verison"; did you mean "--version"?
TXT
usage_error --bogus <<'TXT'
modpipe: unknown option "--bogus"; "modpipe --help" lists the commands
TXT
usage_error -x <<'TXT'
modpipe: unknown option "-x"; "modpipe --help" lists the commands
TXT
usage_error --help plan <<'TXT'
modpipe: unexpected argument "plan" after "--help"
TXT

# Unknown options of a command, with suggestions.
usage_error plan --modul build <<'TXT'
modpipe plan: unknown option "--modul"; did you mean "--module"?
TXT
usage_error plan --skip-modules=build <<'TXT'
modpipe plan: unknown option "--skip-modules"; did you mean "--skip-module"?
TXT
usage_error plan --ignore-categroy test <<'TXT'
modpipe plan: unknown option "--ignore-categroy"; did you mean "--ignore-category"?
TXT
usage_error graph --fromat dot <<'TXT'
modpipe graph: unknown option "--fromat"; did you mean "--format"?
TXT
usage_error validate --quite <<'TXT'
modpipe validate: unknown option "--quite"; did you mean "--quiet"?
TXT
usage_error validate -qx <<'TXT'
modpipe validate: unknown option "-qx"; did you mean "-q"?
TXT

# Only options a command acts on are accepted: run options are not taken
# by plan, filters are not taken by graph or list, -q only by validate.
usage_error plan -j 4 <<'TXT'
modpipe plan: unknown option "-j"
TXT
usage_error plan --parallelism 4 <<'TXT'
modpipe plan: unknown option "--parallelism"
TXT
usage_error graph --module build <<'TXT'
modpipe graph: unknown option "--module"
TXT
usage_error list --format dot <<'TXT'
modpipe list: unknown option "--format"
TXT
usage_error list -q <<'TXT'
modpipe list: unknown option "-q"
TXT

# Values.
usage_error plan --module <<'TXT'
modpipe plan: option "--module" needs a value (A,B)
TXT
usage_error plan --module --skip-module build <<'TXT'
modpipe plan: option "--module" needs a value (A,B)
TXT
usage_error plan --category= <<'TXT'
modpipe plan: option "--category" needs a non-empty value
TXT
usage_error plan --module build,,test <<'TXT'
modpipe plan: empty item in "--module build,,test"; separate names with single commas
TXT
usage_error plan --skip-module build, <<'TXT'
modpipe plan: empty item in "--skip-module build,"; separate names with single commas
TXT
usage_error graph --format <<'TXT'
modpipe graph: option "--format" needs a value (dot|mermaid|json)
TXT
usage_error validate --quiet=yes <<'TXT'
modpipe validate: option "--quiet" takes no value
TXT

# Positional arguments: one FILE at most, and not empty.
usage_error validate a.yml b.yml <<'TXT'
modpipe validate: unexpected argument "b.yml" (FILE is already "a.yml")
TXT
usage_error list "" <<'TXT'
modpipe list: FILE must not be empty
TXT

# The format is checked before any file is read.
usage_error graph missing.yml --format svg <<'TXT'
modpipe graph: unknown format "svg" (use dot, mermaid or json)
TXT
usage_error graph missing.yml --format=jsn <<'TXT'
modpipe graph: unknown format "jsn"; did you mean "json"?
TXT

# MODPIPE_LOG_LEVEL is checked (it is what -q falls back to).
MODPIPE_LOG_LEVEL=loud usage_error validate missing.yml <<'TXT'
modpipe validate: invalid MODPIPE_LOG_LEVEL "loud" (use error, warn, info or debug)
TXT
MODPIPE_LOG_LEVEL=wran usage_error validate missing.yml <<'TXT'
modpipe validate: invalid MODPIPE_LOG_LEVEL "wran"; did you mean "warn"?
TXT

pass
