#!/usr/bin/env bash
# artifacts_basic.sh -- produces/consumes end to end with the real binary
# (DESIGN §3.6): a `**` producer, three consumers running at once get the
# same bytes and modes; the report names each artifact (name, digest,
# size, files); the blob lies in the local store under its digest and is
# not uploaded again by an identical run; zero matches fail the producer
# naming artifact and pattern; a failed module publishes nothing; a
# corrupted blob fails its consumer by digest; --artifacts selects the
# store (a bad one is exit 2); 20,000 files make one blob.
. "$(dirname "$0")/lib/common.bash"

write modpipe.yml <<'YAML'
version: 1
name: arts
options: {parallelism: 4}
modules:
  build:
    run: |
      mkdir -p out/lib/deep out/.cache
      seq 1 60000 > out/lib/big.so
      printf deep > out/lib/deep/y.so
      printf '#!/bin/sh\necho app\n' > out/app && chmod 750 out/app
      printf secret > out/lib/deep/key.so && chmod 600 out/lib/deep/key.so
      printf cache > out/.cache/c.so
      ln -sf lib/big.so out/link.so
    produces:
      - name: bins
        path: ["out/**/*.so", "out/app"]
  test:
    depends_on: [build]
    matrix: {n: [a, b, c]}
    consumes:
      - {name: bins, from: build, path: "got/${{ matrix.n }}"}
    run: test -x got/${{ matrix.n }}/out/app
YAML
expect_exit 0 mp run --report r1.json --progress never
expect_report r1.json 'm["build"]["artifacts"][0]["name"]' bins
expect_report r1.json 'm["build"]["artifacts"][0]["files"]' \
    '["out/app", "out/lib/big.so", "out/lib/deep/key.so", "out/lib/deep/y.so", "out/link.so"]'
digest=$(report_py r1.json 'm["build"]["artifacts"][0]["digest"]')
hex=${digest#sha256:}
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "digest $digest"
blob=.modpipe/artifacts/blobs/sha256/$hex
[ -f "$blob" ] || fail "no blob at $blob"
[ "$(sha256sum "$blob" | cut -d' ' -f1)" = "$hex" ] || fail "blob bytes do not match the digest"
expect_report r1.json 'm["build"]["artifacts"][0]["size"]' "$(stat -c %s "$blob")"
expect_report r1.json '[m["test[n=%s]" % n]["artifacts"] for n in "abc"]' '[[], [], []]'
for n in a b c; do
    # Same bytes, same modes, symlink kept; hidden .cache not matched by **.
    diff -r --no-dereference out "got/$n/out" -x .cache || fail "consumer $n differs"
    [ "$(stat -c %a "got/$n/out/app")" = 750 ] || fail "mode of app in $n"
    [ "$(stat -c %a "got/$n/out/lib/deep/key.so")" = 600 ] || fail "mode of key.so in $n"
    [ -L "got/$n/out/link.so" ] || fail "link.so in $n is not a symlink"
    [ ! -e "got/$n/out/.cache" ] || fail "hidden directory matched by ** in $n"
    CHECKS=$((CHECKS + 1))
done

# The same files again: same digest, the store already has it.
rm -rf got
expect_exit 0 mp run --report r2.json --progress never
expect_report r2.json 'm["build"]["artifacts"][0]["digest"]' "$digest"
expect_file_has .modpipe/logs/build.log "already in the store"

# A corrupted blob: the consumer fails by digest. A module between the
# two corrupts the store's copy.
write corrupt.yml <<'YAML'
version: 1
name: corrupt
modules:
  build:
    run: mkdir -p o && printf data > o/f
    produces: [{name: a, path: o/f}]
  spoil:
    depends_on: [build]
    run: for f in .modpipe/artifacts/blobs/sha256/*; do chmod u+w "$f"; printf x >> "$f"; done
  use:
    depends_on: [spoil]
    consumes: [{name: a, from: build, path: in}]
    run: cat in/o/f
YAML
rm -rf .modpipe/cache
expect_exit 1 mp run corrupt.yml --report r3.json --progress never
expect_report r3.json 'm["use"]["status"]' failed
expect_report r3.json '"is corrupt" in m["use"]["error"]["message"] and "blobs/sha256/" in m["use"]["error"]["message"]' true
[ ! -e in/o/f ] || fail "a corrupt artifact was extracted"

# Zero matches: the producer fails naming artifact and pattern; nothing
# is published and its consumer never runs.
write none.yml <<'YAML'
version: 1
name: none
modules:
  build:
    run: "true"
    produces: [{name: dist, path: ["dist/**/*.whl", "*.tar.gz"]}]
  use:
    depends_on: [build]
    consumes: [{name: dist, from: build}]
    run: "true"
YAML
expect_exit 1 mp run none.yml --report r4.json --progress never
expect_report r4.json 'm["build"]["status"]' failed
expect_report r4.json 'm["build"]["error"]["message"]' \
    "artifact 'dist' of module 'build': no file matches 'dist/**/*.whl', '*.tar.gz' in $WORK"
expect_report r4.json 'm["build"]["artifacts"]' '[]'
expect_report r4.json 'm["use"]["status"]' dependency_failed

# A module that fails publishes nothing.
write failing.yml <<'YAML'
version: 1
name: failing
modules:
  build:
    run: mkdir -p f && printf x > f/x && exit 3
    produces: [{name: f, path: f/x}]
YAML
before=$(find .modpipe/artifacts -type f | wc -l)
expect_exit 1 mp run failing.yml --report r5.json --progress never
expect_report r5.json 'm["build"]["artifacts"]' '[]'
[ "$(find .modpipe/artifacts -type f | wc -l)" = "$before" ] || fail "a failed module published"

# A producer whose failure is ignored publishes nothing: its consumer
# fails naming it.
write ignored.yml <<'YAML'
version: 1
name: ignored
modules:
  build:
    run: mkdir -p g && printf x > g/x && exit 4
    ignore_failure: true
    produces: [{name: g, path: g/x}]
  use:
    depends_on: [build]
    consumes: [{name: g, from: build}]
    run: "true"
YAML
expect_exit 1 mp run ignored.yml --report r8.json --progress never
expect_report r8.json 'm["build"]["status"]' ignored_failure
expect_report r8.json 'm["use"]["error"]["message"]' \
    "artifact 'g' from module 'build' is missing: 'build' ended ignored_failure without publishing it"

# --artifacts / MODPIPE_ARTIFACTS choose the store; bad URLs are exit 2.
expect_exit 0 mp run --artifacts "file://$WORK/shared" --report r6.json --progress never
[ -f "$WORK/shared/blobs/sha256/$hex" ] || fail "--artifacts store not used"
rm -rf "$WORK/shared"
MODPIPE_ARTIFACTS="file://$WORK/shared" expect_exit 0 mp run --progress never
[ -f "$WORK/shared/blobs/sha256/$hex" ] || fail "MODPIPE_ARTIFACTS store not used"
expect_exit 2 mp run --artifacts "ftp://x/y" --progress never
expect_stderr_matches "unknown artifact store 'ftp://x/y': known schemes are file://"
expect_exit 2 mp run --artifacts "file://relative" --progress never
expect_stderr_matches "absolute directory"

# 20,000 small files: one blob, listed whole.
write many.yml <<'YAML'
version: 1
name: many
modules:
  gen:
    run: mkdir -p m && cd m && seq -w 1 20000 | xargs touch && for i in 00001 10000 20000; do echo $i > $i; done
    produces: [{name: many, path: "m/*"}]
  use:
    depends_on: [gen]
    consumes: [{name: many, from: gen, path: back}]
    run: test "$(ls back/m | wc -l)" = 20000 && test "$(cat back/m/10000)" = 10000
YAML
expect_exit 0 mp run many.yml --artifacts "file://$WORK/many-store" --report r7.json --progress never
expect_report r7.json 'len(m["gen"]["artifacts"][0]["files"])' 20000
[ "$(find "$WORK/many-store" -type f | wc -l)" = 1 ] || fail "20,000 files made more than one blob"
pass
