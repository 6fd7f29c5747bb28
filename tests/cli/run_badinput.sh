#!/usr/bin/env bash
# run_badinput.sh -- modules that misbehave and pipelines that cannot run:
# a command that does not exist (shell line and argv), a missing
# working_dir, malformed lines in $MODPIPE_OUTPUT, binary output (kept
# byte for byte), 50 MB printed fast and a 50 MB line that never ends
# (modpipe's memory stays bounded: peak RSS from /usr/bin/time or /proc),
# and unmet requirements (exit 2, nothing ran).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

write bad.yml <<'YAML'
version: 1
name: bad
modules:
  missing_shell:
    run: no_such_command_mp42 --flag
  missing_argv:
    run: [no_such_command_mp43, --flag]
  no_dir:
    working_dir: does/not/exist
    run: touch ran.no_dir
  outputs:
    run: |
      echo "good=1" >> "$MODPIPE_OUTPUT"
      echo "this line has no equals sign" >> "$MODPIPE_OUTPUT"
      echo "=novalue" >> "$MODPIPE_OUTPUT"
      printf 'block<<END\nnever closed\n' >> "$MODPIPE_OUTPUT"
  binary:
    run: head -c 200000 /dev/urandom > bin.dat && cat bin.dat
YAML
expect_exit 1 mp run bad.yml --on-failure continue --report r.json -j2
expect_statuses r.json <<'TXT'
binary succeeded
missing_argv failed
missing_shell failed
no_dir failed
outputs succeeded
TXT
expect_report r.json 'm["missing_shell"]["error"]["message"]' \
    'module "missing_shell" failed: command not found (exit code 127): no_such_command_mp42 --flag'
expect_report r.json 'm["missing_shell"]["exit_code"]' 127
expect_report r.json '"missing_argv" in m["missing_argv"]["error"]["message"] and "no_such_command_mp43" in m["missing_argv"]["error"]["message"]' true
expect_report r.json '"no_dir" in m["no_dir"]["error"]["message"] and "does/not/exist" in m["no_dir"]["error"]["message"]' true
[ ! -e ran.no_dir ] || fail "no_dir ran somewhere else"
# Good output lines are kept, bad ones reported in the log and the result.
expect_report r.json 'm["outputs"]["outputs"]["good"]' 1
expect_report r.json 'm["outputs"]["error"]["message"] is not None' true
expect_file_has .modpipe/logs/outputs.log '^modpipe: '
# Binary output reaches the log unchanged.
cmp bin.dat .modpipe/logs/binary.log || fail "the log of binary output differs from what it printed"
CHECKS=$((CHECKS + 1))

# ----------------------------------------------------- flood: bounded memory
write flood.yml <<'YAML'
version: 1
name: flood
modules:
  lines:
    run: yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 50000000
  one_line:
    run: head -c 50000000 /dev/zero | tr '\0' x
YAML

# peak_rss_kb ARGS...: run modpipe with stdout into flood.out, stderr into
# $ERR; its peak RSS in kB goes to $rss, the exit code to $code. Under
# AddressSanitizer freed memory is held in a quarantine (256 MB by default)
# that would count as RSS: it is turned off for these runs.
peak_rss_kb() {
    local ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
    export ASAN_OPTIONS
    code=0
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o rss.txt "$MODPIPE" "$@" >flood.out 2>"$ERR" || code=$?
        rss=$(tail -n 1 rss.txt)
    else
        "$MODPIPE" "$@" >flood.out 2>"$ERR" &
        local pid=$! peak=0 v
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$v" ] && peak=$v
            sleep 0.05
        done
        wait "$pid" || code=$?
        rss=$peak
    fi
}

for mode in grouped stream; do
    rm -rf .modpipe
    peak_rss_kb run flood.yml --output "$mode" --report r.json -j2
    expect_eq "exit code ($mode)" "$code" 0
    expect_statuses r.json <<'TXT'
lines succeeded
one_line succeeded
TXT
    [ "$rss" -lt 40000 ] || fail "--output $mode: peak RSS ${rss} kB for 100 MB of output"
    CHECKS=$((CHECKS + 1))
    expect_eq "size of lines.log" "$(stat -c %s .modpipe/logs/lines.log)" 50000000
    expect_eq "size of one_line.log" "$(stat -c %s .modpipe/logs/one_line.log)" 50000000
    size=$(stat -c %s flood.out)
    [ "$size" -ge 100000000 ] || fail "--output $mode printed only $size bytes"
    echo "--output $mode: peak RSS ${rss} kB" >&2
done
# Stream output cuts the endless line into bounded pieces.
expect_file_has flood.out '^\[one_line\] x+ \[line continues\]$'
rm -f flood.out

# ------------------------------------------------ requirements unmet: exit 2
write req.yml <<'YAML'
version: 1
name: req
requirements:
  - env: MP_TEST_NEEDED_VAR
  - file: needed.txt
  - command: "exit 1"
modules:
  a:
    run: touch ran.a
YAML
rm -rf .modpipe
expect_exit 2 mp run req.yml --report r4.json
expect_stderr_matches '^modpipe run: req\.yml:[0-9]+:[0-9]+: requirement not met: .*MP_TEST_NEEDED_VAR.*needed\.txt.*exit 1'
expect_stderr_matches '^modpipe run: nothing ran$'
expect_no_stdout
[ ! -e ran.a ] && [ ! -e r4.json ] && [ ! -d .modpipe/logs/a.log ] || fail "something ran"
# Met, they let the run go.
touch needed.txt
write req2.yml <<'YAML'
version: 1
name: req2
requirements:
  - env: MP_TEST_NEEDED_VAR
  - file: needed.txt
  - command: "test -f needed.txt"
modules:
  a:
    run: touch ran.a
YAML
MP_TEST_NEEDED_VAR=1 expect_exit 0 mp run req2.yml
[ -e ran.a ] || fail "requirements met but the module did not run"

pass
