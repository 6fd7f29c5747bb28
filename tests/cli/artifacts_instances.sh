#!/usr/bin/env bash
# artifacts_instances.sh -- artifacts across the instances of a
# distributed run (DESIGN §3.6): with --local-instances 3 a producer on the
# master and consumers required on instances 1 and 2 (worker processes):
# the digest travels in the result message, the workers fetch the blob
# from the shared store and get identical bytes and modes; the default
# store works too (the workers are handed it); a distributed run whose
# modules move artifacts without --artifacts is a configuration error
# (exit 2, before any coordinator is contacted).
# labels: redis
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES MODPIPE_ARTIFACTS \
    GITHUB_RUN_ID

write modpipe.yml <<'YAML'
version: 1
name: art-instances
modules:
  build:
    pin_to_master: true
    run: mkdir -p out/deep && seq 1 5000 > out/a.txt && printf x > out/deep/b && chmod 640 out/deep/b
    produces: [{name: bins, path: "out/**"}]
  test:
    depends_on: [build]
    matrix: {i: ["1", "2"]}
    requires: {instance: "${{ matrix.i }}"}
    consumes: [{name: bins, from: build, path: "got/${{ matrix.i }}"}]
    run: >-
      test "$MODPIPE_INSTANCE_INDEX" = ${{ matrix.i }} &&
      diff -r out got/${{ matrix.i }}/out &&
      test "$(stat -c %a got/${{ matrix.i }}/out/deep/b)" = 640
YAML

# A shared store named with --artifacts.
expect_exit 0 mp run --local-instances 3 --artifacts "file://$WORK/shared" --report r1.json \
    --progress never
expect_report r1.json '[(x["module"], x["status"], x["instance"]) for x in r["modules"]]' \
    '[["build", "succeeded", 0], ["test[i=1]", "succeeded", 1], ["test[i=2]", "succeeded", 2]]'
digest=$(report_py r1.json 'm["build"]["artifacts"][0]["digest"]')
[ -f "$WORK/shared/blobs/sha256/${digest#sha256:}" ] || fail "no blob in the shared store"
[ -f ".modpipe/cache/sha256/${digest#sha256:}" ] || fail "the workers did not fetch into the cache"

# The default store: the workers are handed the master's.
rm -rf got .modpipe
expect_exit 0 mp run --local-instances 3 --report r2.json --progress never
expect_report r2.json '[x["status"] for x in r["modules"]]' '["succeeded", "succeeded", "succeeded"]'
[ -f ".modpipe/artifacts/blobs/sha256/${digest#sha256:}" ] || fail "no blob in the default store"

# Several machines without a shared store: refused up front.
expect_exit 2 mp run --instances 2 --instance-index 0 --coordinator redis://127.0.0.1:1 \
    --run-id art-x --progress never
expect_stderr_matches "a distributed run needs a store every instance reaches: give --artifacts URL"
pass
