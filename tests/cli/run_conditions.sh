#!/usr/bin/env bash
# run_conditions.sh -- skip_if and run_if for every condition kind (env,
# env with equals, os, file, command), each both ways, the skip reasons
# naming the condition, and the skip cascade along depends_on (from
# skip_if and from --skip-module), never along `after`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

write cond.yml <<'YAML'
version: 1
name: cond
modules:
  # skip_if: any true condition skips.
  si_env_set:
    skip_if: {env: COND_SET}
    run: touch ran.si_env_set
  si_env_unset:
    skip_if: {env: COND_UNSET}
    run: touch ran.si_env_unset
  si_env_empty:
    skip_if: {env: COND_EMPTY}
    run: touch ran.si_env_empty
  si_equals_yes:
    skip_if: {env: COND_SET, equals: "yes"}
    run: touch ran.si_equals_yes
  si_equals_no:
    skip_if: {env: COND_SET, equals: "no"}
    run: touch ran.si_equals_no
  si_os_linux:
    skip_if: {os: linux}
    run: touch ran.si_os_linux
  si_os_windows:
    skip_if: {os: windows}
    run: touch ran.si_os_windows
  si_file_there:
    skip_if: {file: marker.txt}
    run: touch ran.si_file_there
  si_file_missing:
    skip_if: {file: missing.txt}
    run: touch ran.si_file_missing
  si_cmd_true:
    skip_if: {command: "test -f marker.txt"}
    run: touch ran.si_cmd_true
  si_cmd_false:
    skip_if: {command: "exit 3"}
    run: touch ran.si_cmd_false
  si_any:
    skip_if: [{env: COND_UNSET}, {file: marker.txt}]
    run: touch ran.si_any
  # run_if: all must be true.
  ri_env_set:
    run_if: {env: COND_SET}
    run: touch ran.ri_env_set
  ri_env_unset:
    run_if: {env: COND_UNSET}
    run: touch ran.ri_env_unset
  ri_equals_yes:
    run_if: {env: COND_SET, equals: "yes"}
    run: touch ran.ri_equals_yes
  ri_equals_no:
    run_if: {env: COND_SET, equals: "no"}
    run: touch ran.ri_equals_no
  ri_os_linux:
    run_if: {os: linux}
    run: touch ran.ri_os_linux
  ri_os_macos:
    run_if: {os: macos}
    run: touch ran.ri_os_macos
  ri_file_there:
    run_if: {file: marker.txt}
    run: touch ran.ri_file_there
  ri_file_missing:
    run_if: {file: missing.txt}
    run: touch ran.ri_file_missing
  ri_cmd_true:
    run_if: {command: "true"}
    run: touch ran.ri_cmd_true
  ri_cmd_false:
    run_if: {command: "false"}
    run: touch ran.ri_cmd_false
  ri_all:
    run_if: [{env: COND_SET}, {os: linux}, {file: missing.txt}]
    run: touch ran.ri_all
  # Cascade: skipped by a condition, so its dependents are skipped too;
  # an `after` is only ordering and still runs.
  cascade_dep:
    depends_on: [si_env_set]
    run: touch ran.cascade_dep
  cascade_dep2:
    depends_on: [cascade_dep]
    run: touch ran.cascade_dep2
  cascade_after:
    after: [si_env_set]
    run: touch ran.cascade_after
YAML
touch marker.txt
COND_SET=yes COND_EMPTY= expect_exit 0 mp run cond.yml --report r.json -j2
expect_statuses r.json <<'TXT'
cascade_after succeeded
cascade_dep skipped
cascade_dep2 skipped
ri_all skipped
ri_cmd_false skipped
ri_cmd_true succeeded
ri_env_set succeeded
ri_env_unset skipped
ri_equals_no skipped
ri_equals_yes succeeded
ri_file_missing skipped
ri_file_there succeeded
ri_os_linux succeeded
ri_os_macos skipped
si_any skipped
si_cmd_false succeeded
si_cmd_true skipped
si_env_empty succeeded
si_env_set skipped
si_env_unset succeeded
si_equals_no succeeded
si_equals_yes skipped
si_file_missing succeeded
si_file_there skipped
si_os_linux skipped
si_os_windows succeeded
TXT
# Exactly the modules that succeeded left their mark.
ls ran.* | sed "s/^ran\.//" | LC_ALL=C sort >modules_that_ran.out
report_py r.json '"\n".join(sorted(k for k in m if m[k]["status"] == "succeeded"))' |
    compare "modules that ran" modules_that_ran.out
# Skipped modules never started and say why, naming the condition.
expect_report r.json '{k: m[k]["attempts"] for k in m if m[k]["status"] == "skipped"} == {k: 0 for k in m if m[k]["status"] == "skipped"}' true
report_py r.json '"\n".join(k + ": " + m[k]["skip_reason"] for k in m if m[k]["status"] == "skipped")' >reasons.txt
compare "skip reasons" reasons.txt <<'TXT'
cascade_dep: dependency "si_env_set" was skipped
cascade_dep2: dependency "cascade_dep" was skipped
ri_all: run_if file "missing.txt" does not exist
ri_cmd_false: run_if command "false" failed (exit code 1)
ri_env_unset: run_if env "COND_UNSET" is not set
ri_equals_no: run_if env "COND_SET" does not equal "no"
ri_file_missing: run_if file "missing.txt" does not exist
ri_os_macos: run_if os is not "macos" (this is linux)
si_any: skip_if file "marker.txt" exists
si_cmd_true: skip_if command "test -f marker.txt" succeeded
si_env_set: skip_if env "COND_SET" is set
si_equals_yes: skip_if env "COND_SET" equals "yes"
si_file_there: skip_if file "marker.txt" exists
si_os_linux: skip_if os is "linux"
TXT

# ------------------------------------------- --skip-module cascades the same
write skip.yml <<'YAML'
version: 1
name: skip
modules:
  a:
    run: touch ran.a
  b:
    depends_on: [a]
    run: touch ran.b
  c:
    depends_on: [b]
    run: touch ran.c
  d:
    after: [a]
    run: touch ran.d
  e:
    run: touch ran.e
YAML
rm -f ran.*
expect_exit 0 mp run skip.yml --skip-module a --report r.json
expect_statuses r.json <<'TXT'
a skipped
b skipped
c skipped
d succeeded
e succeeded
TXT
expect_report r.json 'm["a"]["skip_reason"]' 'skipped by --skip-module'
expect_report r.json 'm["c"]["skip_reason"]' 'dependency "b" is skipped'
[ ! -e ran.a ] && [ ! -e ran.b ] && [ ! -e ran.c ] && [ -e ran.d ] && [ -e ran.e ] ||
    fail "skipped modules ran (or others did not): $(ls ran.* | tr '\n' ' ')"
expect_stdout_matches '^- c skipped: dependency "b" is skipped$'

pass
