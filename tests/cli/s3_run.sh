#!/usr/bin/env bash
# s3_run.sh -- `modpipe run --artifacts s3://...` end to end against a real
# S3 server (s3rver, checking SigV4; labels: s3): a producer's blob lands
# under <prefix>/blobs/sha256/<hex>, where the AWS CLI reads the same bytes
# (sha256sum = the digest); three consumers get it back; a second run
# finds it already stored; a missing bucket, a wrong secret and missing
# credentials fail before anything runs, with messages that name the
# bucket / the variable and never show the secret.
# labels: s3
. "$(dirname "$0")/lib/common.bash"
: "${MODPIPE_TEST_S3_ENDPOINT:?run under tests/support/with-services.sh s3}"
export AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_PAGER=""
ep=$MODPIPE_TEST_S3_ENDPOINT
bucket=$MODPIPE_TEST_S3_BUCKET
prefix="run-$$"
store="s3://$bucket/$prefix?endpoint=$ep&path_style=1"

write modpipe.yml <<'YAML'
version: 1
name: s3run
options: {parallelism: 4}
modules:
  build:
    run: mkdir -p out && seq 1 200000 > out/data.txt && printf app > out/app
    produces: [{name: bins, path: "out/*"}]
  test:
    depends_on: [build]
    matrix: {n: [a, b, c]}
    consumes: [{name: bins, from: build, path: "got/${{ matrix.n }}"}]
    run: cmp got/${{ matrix.n }}/out/data.txt out/data.txt
YAML
expect_exit 0 mp run --artifacts "$store" --report r1.json --progress never
digest=$(report_py r1.json 'm["build"]["artifacts"][0]["digest"]')
hex=${digest#sha256:}
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "digest $digest"
/usr/bin/aws --endpoint-url "$ep" s3 cp --only-show-errors "s3://$bucket/$prefix/blobs/sha256/$hex" blob.tzst \
    || fail "aws s3 cp of the blob failed"
[ "$(sha256sum blob.tzst | cut -d' ' -f1)" = "$hex" ] || fail "the blob's bytes do not match its digest"
CHECKS=$((CHECKS + 1))
expect_statuses r1.json <<'EOF2'
build succeeded
test[n=a] succeeded
test[n=b] succeeded
test[n=c] succeeded
EOF2

# Again: the store has the blob already.
rm -rf got .modpipe/cache
expect_exit 0 mp run --artifacts "$store" --report r2.json --progress never
expect_report r2.json 'm["build"]["artifacts"][0]["digest"]' "$digest"
expect_file_has .modpipe/logs/build.log "already in the store"

# Bad stores fail before anything runs; secrets are never shown.
expect_exit 2 mp run --artifacts "s3://no-such-bucket-x?endpoint=$ep" --progress never
expect_stderr_matches "bucket 'no-such-bucket-x' does not exist"
AWS_SECRET_ACCESS_KEY=wrong-secret-value expect_exit 2 mp run --artifacts "$store" --progress never
expect_stderr_matches "HTTP 403 SignatureDoesNotMatch"
if grep -q wrong-secret-value "$ERR" "$OUT"; then fail "the secret was printed"; fi
(unset AWS_ACCESS_KEY_ID; expect_exit 2 mp run --artifacts "$store" --progress never) || exit 1
expect_stderr_matches "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
pass
