#!/usr/bin/env bash
# bad_input.sh -- hostile pipeline files: "malformed YAML, binary garbage,
# a 100 MB file, deeply nested documents, anchors/aliases bombs: clear
# error, bounded memory and time, never a crash". Each case runs
# `modpipe validate` under a wall-clock limit and, when GNU time is there,
# a peak-RSS limit; it must exit with the expected code (a signal is a
# crash: the input is kept in $MODPIPE_TEST_TMP for a reproducer) and say
# what is wrong in the expected form.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

RSS_LIMIT_MB=100
GNU_TIME=
if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    GNU_TIME=/usr/bin/time
fi
# Sanitizer builds reserve terabytes of address space (no ulimit -v) and
# use more memory and time; the limits are for the real program.
SANITIZED=0
if grep -aq __asan_init "$MODPIPE"; then
    SANITIZED=1
fi
# The limits are what a quiet machine needs with a wide margin; CI runs
# two tests at once on 2 cores, and a loaded machine stretches wall time
# (a case failed at a load average of 15), so they are scaled: a hang or a
# quadratic walk still exceeds them by far.
SLOW=3
[ "$SANITIZED" = 1 ] && SLOW=10

# bounded CODES SECONDS FILE [args...]: `modpipe validate FILE args` must
# exit with one of CODES ("2", or "0|2") within SECONDS (times $SLOW) and,
# when measurable, under RSS_LIMIT_MB. Output in $OUT/$ERR as for
# expect_exit, the exit code in $CODE.
bounded() {
    local want=$1 limit=$2 file=$3
    shift 3
    local got=0 start end ms rss=""
    start=$(date +%s%N)
    if [ -n "$GNU_TIME" ]; then
        timeout -s KILL $((limit * SLOW + 5)) "$GNU_TIME" -f %M -o "$WORK/.rss" \
            "$MODPIPE" validate "$file" "$@" >"$OUT" 2>"$ERR" || got=$?
        rss=$(tail -n 1 "$WORK/.rss")
    elif [ "$SANITIZED" = 0 ]; then
        (
            ulimit -v $((RSS_LIMIT_MB * 4 * 1024)) # address space, a looser bound
            exec timeout -s KILL $((limit * SLOW + 5)) "$MODPIPE" validate "$file" "$@"
        ) >"$OUT" 2>"$ERR" || got=$?
    else
        timeout -s KILL $((limit * SLOW + 5)) "$MODPIPE" validate "$file" "$@" \
            >"$OUT" 2>"$ERR" || got=$?
    fi
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    CHECKS=$((CHECKS + 1))
    if [ "$got" -ge 124 ]; then
        local keep
        keep="$MODPIPE_TEST_TMP/bad_input-$(basename "$file")"
        [ -f "$file" ] && cp "$file" "$keep"
        show_output
        fail "modpipe validate $file ended with status $got (crash, or killed after ${limit}s); input kept as $keep"
    fi
    case "|$want|" in
    *"|$got|"*) ;;
    *)
        show_output
        fail "expected exit $want, got $got from: modpipe validate $file $*"
        ;;
    esac
    CODE=$got
    if [ "$ms" -gt $((limit * SLOW * 1000)) ]; then
        fail "modpipe validate $file took ${ms} ms; the limit is $((limit * SLOW)) s"
    fi
    if [ -n "$rss" ] && [ "$SANITIZED" = 0 ] && [ "$rss" -gt $((RSS_LIMIT_MB * 1024)) ]; then
        fail "modpipe validate $file peaked at $((rss / 1024)) MB; the limit is $RSS_LIMIT_MB MB"
    fi
}

# rep STRING N: STRING N times (no `yes | head`: SIGPIPE under pipefail).
rep() {
    S=$1 awk -v n="$2" 'BEGIN { s = ENVIRON["S"]; for (i = 0; i < n; i++) printf "%s", s }'
}

# problems_only FILE: every line of stderr but the last is a problem of
# FILE (file:line:col: message), and the last is the count.
problems_only() {
    local name=$1 esc
    esc=$(printf '%s' "$name" | sed 's/[.[\*^$/]/\\&/g')
    if grep -Ev "^$esc:[0-9]+:[0-9]+: [^ ]" "$ERR" | grep -Evq "^modpipe: [0-9]+ problems? in $esc( \(the first [0-9]+ are shown\))?$"; then
        show_output
        fail "stderr has lines that are neither problems of $name nor the count"
    fi
    tail -n 1 "$ERR" | grep -Eq "^modpipe: [0-9]+ problems? in $esc" || {
        show_output
        fail "stderr does not end with the problem count"
    }
}

# ---- size: a 100 MB file is refused from its size, without reading it.
head -c $((100 * 1024 * 1024)) /dev/urandom >big.yml
bounded 2 1 big.yml
expect_no_stdout
expect_stderr <<'TXT'
modpipe: big.yml: pipeline file is 104857600 bytes; the limit is 8 MiB
TXT
rm big.yml

# The same through a pipe, and an endless device: reading stops just past
# the limit. (The size printed is what was read by then.)
pipe_100mb() { { yes 'key: value' || true; } | head -c $((100 * 1024 * 1024)); }
bounded 2 2 /dev/stdin < <(pipe_100mb)
expect_stderr_matches '^modpipe: /dev/stdin: pipeline file is more than 8 MiB; the limit is 8 MiB$'
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "more than one line: $(cat "$ERR")"
bounded 2 2 /dev/zero
expect_stderr_matches '^modpipe: /dev/zero: pipeline file is more than 8 MiB; the limit is 8 MiB$'

# Just under the limit: one 7 MB line is read and parsed in time.
{ printf 'version: 1\nname: '; rep abcdefghij 700000; echo; } >long.yml
bounded 0 5 long.yml
expect_stdout_matches '^long\.yml: ok \(0 modules, hash [0-9a-f]{12}\)$'

# ---- binary garbage: one problem at the first bad byte.
printf '%b' "$(printf '\\%03o' $(seq 0 255))" >allbytes.bin
[ "$(wc -c <allbytes.bin)" -eq 256 ] || fail "allbytes.bin is not 256 bytes"
bounded 2 1 allbytes.bin
expect_stderr <<'TXT'
allbytes.bin:1:1: control characters are not allowed (byte 0x00)
modpipe: 1 problem in allbytes.bin
TXT
printf 'version: 1\nname: a\0b\nmodules: {}\n' >nul.yml
bounded 2 1 nul.yml
expect_stderr <<'TXT'
nul.yml:2:8: control characters are not allowed (byte 0x00)
modpipe: 1 problem in nul.yml
TXT
head -c $((1024 * 1024)) /dev/urandom >random.bin
bounded 2 2 random.bin
problems_only random.bin
# Garbage made of YAML's own punctuation: whatever it parses to, an
# answer in time (a few of these happen to be valid documents).
for i in $(seq 1 25); do
    head -c 65536 /dev/urandom | LC_ALL=C tr -dc '\133\135{}:,&*!|>#%@"'"'"'?a1 \n\t-' >"punct$i.yml"
    bounded "0|2" 2 "punct$i.yml"
    [ "$CODE" = 0 ] || problems_only "punct$i.yml"
done

# ---- alias bombs: a billion laughs stops at the node limit.
cp "$FIXTURES/invalid/yaml_alias_bomb.yml" bomb.yml
bounded 2 2 bomb.yml
sed 's/^yaml_alias_bomb\.yml:/bomb.yml:/' "$FIXTURES/invalid/yaml_alias_bomb.expected" >bomb.expected
echo 'modpipe: 1 problem in bomb.yml' >>bomb.expected
expect_stderr <bomb.expected
# Wide: a million aliases of a small list (past the limit), and twenty
# merges of a 2,000-key mapping (80,000 aliased keys and values, within it: the
# unknown keys of base and of m are counted).
{
    echo 'version: 1'
    echo 'x: &x [a, b, c, d, e, f, g, h, i, j]'
    printf 'y: ['
    rep '*x, ' 1000000
    echo '*x]'
} >wide.yml
bounded 2 3 wide.yml
expect_stderr_matches '^wide\.yml:3:[0-9]+: aliases expand to more than [0-9]+ nodes \(alias bomb\?\)$'
{
    echo 'version: 1'
    echo 'modules:'
    printf '  base: &a {run: x'
    for i in $(seq 1 2000); do printf ', k%d: 1' "$i"; done
    echo '}'
    printf '  m: {run: x, <<: ['
    rep '*a, ' 19
    echo '*a]}'
} >merge.yml
bounded 2 3 merge.yml
problems_only merge.yml
expect_stderr_matches '^modpipe: 4000 problems in merge\.yml \(the first 1000 are shown\)$'

# ---- nesting 10,000 deep: flow lists, flow mappings; block mappings as
# deep as the size limit allows (3,000).
{ printf 'version: 1\nx: '; rep '[' 10000; rep ']' 10000; echo; } >deep_list.yml
bounded 2 2 deep_list.yml
expect_stderr <<'TXT'
deep_list.yml:2:67: document nests deeper than 64 levels
modpipe: 1 problem in deep_list.yml
TXT
{ printf 'version: 1\nx: '; rep '{a: ' 10000; printf 1; rep '}' 10000; echo; } >deep_map.yml
bounded 2 2 deep_map.yml
expect_stderr <<'TXT'
deep_map.yml:2:256: document nests deeper than 64 levels
modpipe: 1 problem in deep_map.yml
TXT
awk 'BEGIN { print "version: 1"; print "x:"; for (i = 1; i <= 3000; i++) printf "%" i "s%s\n", "", "a:" }' >deep_block.yml
bounded 2 2 deep_block.yml
expect_stderr <<'TXT'
deep_block.yml:66:65: document nests deeper than 64 levels
modpipe: 1 problem in deep_block.yml
TXT

# ---- many problems: counted, the first 1000 printed.
awk 'BEGIN { print "version: 1"; for (i = 0; i < 200000; i++) printf "k%d: 1\n", i }' >keys.yml
bounded 2 5 keys.yml
problems_only keys.yml
[ "$(wc -l <"$ERR")" -eq 1001 ] || fail "expected 1000 problems and the count, got $(wc -l <"$ERR") lines"
expect_stderr_matches '^modpipe: 200000 problems in keys\.yml \(the first 1000 are shown\)$'

# ---- malformed YAML: the parser's problem at its place.
printf 'version: 1\nmodules:\n  a: {run: "echo\n' >unterminated.yml
bounded 2 1 unterminated.yml
problems_only unterminated.yml
[ "$(wc -l <"$ERR")" -eq 2 ] || fail "expected one problem: $(cat "$ERR")"

# ---- nothing to read: empty and blank files. They hold no module; the
# answer is either "ok (0 modules ...)" or one problem, never a crash.
: >empty.yml
printf '\n\n   \n# only a comment\n' >blank.yml
printf -- '---\n...\n' >markers.yml
for f in empty.yml blank.yml markers.yml; do
    bounded "0|2" 1 "$f"
    if [ "$CODE" = 0 ]; then
        expect_stdout_matches "^${f//./\\.}: ok \(0 modules, hash [0-9a-f]{12}\)$"
    else
        problems_only "$f"
        [ "$(wc -l <"$ERR")" -eq 2 ] || fail "$f: expected one problem: $(cat "$ERR")"
    fi
done

# ---- not a file.
mkdir adir
bounded 2 1 adir
expect_stderr <<'TXT'
modpipe: cannot read "adir": Is a directory
TXT

pass
