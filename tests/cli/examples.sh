#!/usr/bin/env bash
# examples.sh -- examples/modpipe.yml stays valid and says what
# examples/README.md says it does: 14 modules, the list, and the plan.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

cd "$MODPIPE_SOURCE_DIR/examples"
expect_exit 0 mp validate
expect_no_stderr
expect_stdout_matches '^modpipe\.yml: ok \(14 modules, hash [0-9a-f]{12}\)$'

expect_exit 0 mp list
expect_stdout <<'TXT'
Module                     Category  Tags         Depends on
build                      build     -            restore, version
lint                       check     fast         -
migrate                    database  -            build
notify                     release   -            publish
package                    release   -            build, unit-tests[suite=api], unit-tests[suite=storage], unit-tests[suite=ui]
publish                    release   -            build, migrate, package
restore                    build     -            -
seed-data                  database  -            migrate
smoke-e2e                  test      slow, flaky  build
unit-tests[suite=api]      test      slow         build
unit-tests[suite=storage]  test      slow         build
unit-tests[suite=ui]       test      slow         build
vacuum                     database  -            -
version                    build     fast         -
TXT

expect_exit 0 mp plan
expect_no_stderr
expect_stdout <<'TXT'
wave 1:
  lint
  restore
  version
wave 2:
  build
wave 3:
  migrate
  smoke-e2e
  unit-tests[suite=api]
  unit-tests[suite=storage]
  unit-tests[suite=ui]
wave 4:
  package
  seed-data
wave 5:
  publish                    (pinned to the master)
  vacuum
wave 6:
  notify
TXT

expect_exit 0 mp plan --skip-module migrate
expect_stdout <<'TXT'
wave 1:
  lint
  restore
  vacuum
  version
wave 2:
  build
wave 3:
  smoke-e2e
  unit-tests[suite=api]
  unit-tests[suite=storage]
  unit-tests[suite=ui]
wave 4:
  package
skipped:
  migrate                    (skipped by --skip-module)
  notify                     (dependency "publish" is skipped)
  publish                    (dependency "migrate" is skipped)
  seed-data                  (dependency "migrate" is skipped)
TXT

for format in dot mermaid json; do
    expect_exit 0 mp graph --format "$format"
    expect_no_stderr
done

pass
