#!/usr/bin/env bash
# help.sh -- `modpipe --help`, `modpipe help [command]`, `<command> --help`
# and `-h`: every command's usage, exit 0 on stdout; no arguments at all is
# a usage error (the overview on stderr, exit 2).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

top_help() {
    cat <<'TXT'
usage: modpipe <command> [FILE] [options]

commands:
  run       run the pipeline on this machine
  validate  check the pipeline file and print every problem
  plan      show the waves a run would execute and what it would skip
  graph     print the module graph as dot, mermaid or json
  list      list the modules with category, tags and dependencies
  version   print the version of modpipe

FILE defaults to ./modpipe.yml.
"modpipe <command> --help" shows the options of a command.
"modpipe --version" prints the version.
TXT
}

for form in --help -h help "help --help" "help -h"; do
    # shellcheck disable=SC2086 # split the form on purpose
    expect_exit 0 mp $form
    top_help | expect_stdout
    expect_no_stderr
done

expect_exit 2 mp
expect_no_stdout
top_help | expect_stderr

validate_help() {
    cat <<'TXT'
usage: modpipe validate [FILE] [-q]

check the pipeline file and print every problem

Loads FILE, expands matrices and checks the whole graph. Every problem is
printed as file:line:column: message; the exit code is 0 when the pipeline
is valid and 2 when it is not. With -q, or MODPIPE_LOG_LEVEL=warn or error,
nothing is printed for a valid pipeline.

options:
  -q, --quiet  print nothing when the pipeline is valid
  -h, --help   show this help

FILE defaults to ./modpipe.yml.
TXT
}

plan_help() {
    cat <<'TXT'
usage: modpipe plan [FILE] [options]

show the waves a run would execute and what it would skip

Nothing runs. Modules are listed wave by wave: a module is in the wave after
the last of its dependencies. Then come the modules the run would skip and
those left out by the filters, each with the reason. Filter options may be
repeated and take comma-separated names; a filter naming an unknown module
or a category no module has is an error.

options:
  --module A,B           only these modules and the modules they depend on
  --skip-module A,B      mark these modules skipped (and, in turn, what depends on them)
  --category X,Y         only modules in these categories
  --ignore-category X,Y  leave out modules in these categories
  -h, --help             show this help

FILE defaults to ./modpipe.yml.
TXT
}

graph_help() {
    cat <<'TXT'
usage: modpipe graph [FILE] [--format dot|mermaid|json]

print the module graph as dot, mermaid or json

Prints every module after matrix expansion. In dot and mermaid an arrow goes
from a module to the modules that wait for it: solid for depends_on, dashed
for after. json is the whole pipeline as parsed and validated, with the
position of every module.

options:
  --format dot|mermaid|json  output format (default: dot)
  -h, --help                 show this help

FILE defaults to ./modpipe.yml.
TXT
}

list_help() {
    cat <<'TXT'
usage: modpipe list [FILE]

list the modules with category, tags and dependencies

options:
  -h, --help  show this help

FILE defaults to ./modpipe.yml.
TXT
}

version_help() {
    cat <<'TXT'
usage: modpipe version

print the version of modpipe

options:
  -h, --help  show this help
TXT
}

for cmd in validate plan graph list version; do
    # Every spelling, and --help after other arguments: nothing is loaded.
    for form in "$cmd --help" "$cmd -h" "help $cmd" "$cmd missing.yml --help"; do
        # shellcheck disable=SC2086
        expect_exit 0 mp $form
        "${cmd}_help" | expect_stdout
        expect_no_stderr
    done
done
expect_exit 0 mp plan --module build --help
plan_help | expect_stdout
# Help wins over a mistake on the same line; after "--" it is a FILE.
expect_exit 0 mp plan --modul --help
plan_help | expect_stdout
expect_exit 2 mp list -- --help
expect_stderr <<'TXT'
modpipe: cannot read "--help": No such file or directory
TXT

# help of something that is not a command
expect_exit 2 mp help valdate
expect_no_stdout
expect_stderr <<'TXT'
modpipe: unknown command "valdate"; did you mean "validate"?
TXT
expect_exit 2 mp help plan graph
expect_stderr <<'TXT'
modpipe help: unexpected argument "graph"
TXT

pass
