#!/usr/bin/env bash
# redis_warning.sh -- a Redis coordinator whose maxmemory-policy may evict
# the run's keys (DESIGN §3.5) is used, with a warning on stderr naming
# the policy and the URL; with noeviction there
# is no warning. The test starts its own redis-server with allkeys-lru.
# labels: redis
. "$(dirname "$0")/lib/common.bash"
. "$MODPIPE_SOURCE_DIR/tests/support/services.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES MODPIPE_ARTIFACTS GITHUB_RUN_ID

write modpipe.yml <<'YAML'
version: 1
name: warn
options:
  distributed: {heartbeat: 200ms, worker_timeout: 2s, registration_timeout: 1s}
modules:
  a:
    run: echo a
YAML

# The run's own server (from with-services.sh) is noeviction: no warning.
expect_exit 0 mp run --instances 2 --instance-index 0 --coordinator "$MODPIPE_TEST_REDIS_URL" \
    --run-id "quiet-$$" --progress never
if grep -q "maxmemory-policy" "$ERR"; then show_output; fail "a warning with noeviction"; fi
CHECKS=$((CHECKS + 1))

services_start_redis --maxmemory-policy allkeys-lru || fail "no redis-server"
url="redis://127.0.0.1:$MODPIPE_TEST_REDIS_PORT/0"
expect_exit 0 mp run --instances 2 --instance-index 0 --coordinator "$url" \
    --run-id "lru-$$" --progress never
expect_stderr_matches "warning: coordinator redis://127\.0\.0\.1:$MODPIPE_TEST_REDIS_PORT/0: .*maxmemory-policy.*allkeys-lru"
services_stop
pass
