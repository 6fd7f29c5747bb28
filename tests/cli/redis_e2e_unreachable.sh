#!/usr/bin/env bash
# redis_e2e_unreachable.sh -- issue 5: the Redis coordinator cannot be
# reached when an instance starts. Exit 3, nothing ran, the message names
# the URL with its password shown as *** (docs/coordinator.md), and the
# instance gives up within the URL's connect deadline (?timeout=): a
# refused connection at once, a server that accepts and never answers
# after the deadline, for the master and for a worker alike.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES GITHUB_RUN_ID \
    MODPIPE_REDIS_PASSWORD
ms() { echo $(($(date +%s%N) / 1000000)); }
write p.yml <<'YAML'
version: 1
modules:
  a: {run: 'touch ran.txt'}
YAML

# A port nobody listens on: bind one, note it, close it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for index in 0 1; do
    url="redis://:s3cret%21pw@127.0.0.1:$port/0?timeout=2s"
    t0=$(ms)
    expect_exit 3 mp run p.yml --instances 2 --instance-index "$index" --run-id "u-$$" --coordinator "$url"
    t1=$(ms)
    expect_stderr_matches "^modpipe run: coordinator redis://:\*\*\*@127\.0\.0\.1:$port/0\?timeout=2s: cannot connect to redis: Connection refused$"
    expect_file_lacks "$ERR" s3cret
    [ $((t1 - t0)) -lt 2000 ] || fail "a refused connection took $((t1 - t0)) ms"
done

# A server that accepts connections (the kernel's backlog) and never
# answers: the deadline of 2 s applies to the handshake (AUTH).
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(60)' >mute.port &
mute=$!
trap 'kill "$mute" 2>/dev/null; rm -rf "$WORK"' EXIT
for i in $(seq 100); do [ -s mute.port ] && break; sleep 0.05; done
mport=$(cat mute.port)
[ -n "$mport" ] || fail "the silent server did not start"
for index in 0 1; do
    url="redis://alice:s3cret%21pw@127.0.0.1:$mport/0?timeout=2s"
    t0=$(ms)
    expect_exit 3 mp run p.yml --instances 2 --instance-index "$index" --run-id "m-$$" --coordinator "$url"
    t1=$(ms)
    expect_stderr_matches "^modpipe run: coordinator redis://alice:\*\*\*@127\.0\.0\.1:$mport/0\?timeout=2s: "
    expect_file_lacks "$ERR" s3cret
    # never before the deadline; late only by a margin well below it
    [ $((t1 - t0)) -ge 1900 ] && [ $((t1 - t0)) -lt 5000 ] || { show_output; fail "gave up after $((t1 - t0)) ms (timeout=2s)"; }
done
[ ! -e ran.txt ] || fail "a module ran without a coordinator"
pass
