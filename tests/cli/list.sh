#!/usr/bin/env bash
# list.sh -- `modpipe list`: one row per expanded module, sorted by name,
# with category, tags and resolved required dependencies.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

write_shop shop.yml
expect_exit 0 mp list shop.yml
expect_no_stderr
expect_stdout <<'TXT'
Module          Category  Tags           Depends on
build           build     -              restore
docs            docs      fast           -
lint            check     fast           -
package         release   -              test[os=linux], test[os=macos]
publish         release   -              package
restore         build     -              -
test[os=linux]  test      slow, nightly  build
test[os=macos]  test      slow, nightly  build
TXT

# FILE defaults to ./modpipe.yml.
cp shop.yml modpipe.yml
expect_exit 0 mp list
expect_stdout_matches '^test\[os=macos\]  test      slow, nightly  build$'

# Columns widen with their longest cell; a dependency on one instance.
write wide.yml <<'YAML'
version: 1
modules:
  a-rather-long-module-name:
    category: integration-tests
    run: echo
  b:
    depends_on: ["m[k=2]", a-rather-long-module-name]
    run: echo
  m:
    matrix: {k: [1, 2]}
    run: echo
YAML
expect_exit 0 mp list wide.yml
expect_stdout <<'TXT'
Module                     Category           Tags  Depends on
a-rather-long-module-name  integration-tests  -     -
b                          -                  -     a-rather-long-module-name, m[k=2]
m[k=1]                     -                  -     -
m[k=2]                     -                  -     -
TXT

# Output that cannot be written is an error, not a silent success.
if [ -w /dev/full ]; then
    # shellcheck disable=SC2016 # $0 is expanded by the inner shell
    expect_exit 2 sh -c '"$0" list shop.yml >/dev/full' "$MODPIPE"
    expect_stderr <<'TXT'
modpipe: cannot write to standard output: No space left on device
TXT
fi

# An invalid pipeline lists nothing.
write bad.yml <<'YAML'
version: 1
modules:
  a:
    depends_on: [a]
    run: echo
YAML
expect_exit 2 mp list bad.yml
expect_no_stdout
expect_stderr_matches '^modpipe: 1 problem in bad\.yml$'

pass
