#!/usr/bin/env bash
# s3_instances.sh -- a distributed run whose artifacts travel through S3
# (issue 7): `modpipe run --local-instances 3 --artifacts s3://...` (a
# private redis-server as coordinator, s3rver checking SigV4 as the store;
# labels: s3). The producer runs on the master (pin_to_master); each
# consumer is routed to one worker by `requires: {instance: N}`; they get
# the producer's files byte for byte, with their modes, from the store
# (the blob is under the digest the report names, readable by the AWS CLI).
# labels: s3
. "$(dirname "$0")/lib/common.bash"
: "${MODPIPE_TEST_S3_ENDPOINT:?run under tests/support/with-services.sh s3}"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID MODPIPE_INSTANCES \
    MODPIPE_INSTANCE_INDEX MODPIPE_COORDINATOR MODPIPE_CAPABILITIES MODPIPE_ARTIFACTS GITHUB_RUN_ID
export AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_PAGER=""
ep=$MODPIPE_TEST_S3_ENDPOINT
bucket=$MODPIPE_TEST_S3_BUCKET
prefix="instances-$$"
store="s3://$bucket/$prefix?endpoint=$ep&path_style=1"

write modpipe.yml <<'YAML'
version: 1
name: s3instances
options: {parallelism: 2}
modules:
  build:
    pin_to_master: true
    run: |
      mkdir -p out/sub/deep
      seq 1 100000 > out/sub/deep/data.txt
      printf '#!/bin/sh\necho app\n' > out/app
      chmod 751 out/app
      ln -s sub/deep/data.txt out/link
    produces: [{name: bins, path: "out/**"}]
  test:
    depends_on: [build]
    matrix: {n: ["1", "2"]}
    requires: {instance: "${{ matrix.n }}"}
    consumes: [{name: bins, from: build, path: "got/${{ matrix.n }}"}]
    run: |
      d=got/${{ matrix.n }}/out
      cmp $d/sub/deep/data.txt out/sub/deep/data.txt
      test "$(stat -c %a $d/app)" = 751
      test "$(readlink $d/link)" = sub/deep/data.txt
      test "$($d/app)" = app
YAML
expect_exit 0 "$MODPIPE" run --local-instances 3 --artifacts "$store" --report r.json --progress never
expect_statuses r.json <<'EOF2'
build succeeded
test[n=1] succeeded
test[n=2] succeeded
EOF2
expect_report r.json 'm["build"]["instance"]' 0
expect_report r.json 'm["test[n=1]"]["instance"]' 1
expect_report r.json 'm["test[n=2]"]["instance"]' 2
digest=$(report_py r.json 'm["build"]["artifacts"][0]["digest"]')
hex=${digest#sha256:}
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "digest '$digest'"
/usr/bin/aws --endpoint-url "$ep" s3 cp --only-show-errors \
    "s3://$bucket/$prefix/blobs/sha256/$hex" blob.tzst || fail "aws s3 cp of the blob failed"
[ "$(sha256sum blob.tzst | cut -d' ' -f1)" = "$hex" ] || fail "the blob's bytes do not match its digest"
CHECKS=$((CHECKS + 1))

# Without a shared store a distributed run that moves artifacts is refused.
expect_exit 2 "$MODPIPE" run --instances 2 --instance-index 0 --coordinator redis://127.0.0.1:1 \
    --run-id x1 --progress never
expect_stderr_matches "artifacts"
pass
