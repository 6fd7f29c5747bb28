#!/usr/bin/env bash
# run_history.sh -- .modpipe/history.json across runs of `modpipe run`
# (docs/engine.md, History): what is recorded, names that need JSON
# escaping, the average and run count of a second run, and a corrupt or
# truncated file ignored with a warning (the run still succeeds) and
# replaced by a good one.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset MODPIPE_PARALLELISM MODPIPE_REPORT MODPIPE_RUN_ID

write h.yml <<'YAML'
version: 1
name: hist
modules:
  a:
    run: "true"
  b:
    run: exit 3
    ignore_failure: true
  c:
    run: exit 1
  t:
    matrix: {v: ['q"uote', 'back\slash', "caf\u00e9"]}
    run: "true"
YAML
H=.modpipe/history.json
names='sorted(r["modules"])'
want='["a", "b", "t[v=back\\slash]", "t[v=caf\u00e9]", "t[v=q\"uote]"]'

# c failed: not recorded; the others are, once each.
expect_exit 1 mp run h.yml --progress never --on-failure continue
expect_report $H 'r["schema"]' modpipe.history/v1
expect_report $H "$names" "$want"
expect_report $H 'sorted(set(e["runs"] for e in r["modules"].values()))' '[1]'
expect_report $H 'all(isinstance(e["ms"], int) and e["ms"] >= 0 for e in r["modules"].values())' true
expect_no_stderr

# A second run reads it back (no warning) and counts a second run each.
expect_exit 1 mp run h.yml --progress never --on-failure continue
expect_no_stderr
expect_report $H "$names" "$want"
expect_report $H 'sorted(set(e["runs"] for e in r["modules"].values()))' '[2]'

# Entries of modules the pipeline no longer has are kept.
python3 - "$H" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["modules"]["gone"] = {"ms": 42, "runs": 7}
json.dump(r, open(sys.argv[1], "w"))
PY
expect_exit 1 mp run h.yml --progress never --on-failure continue
expect_no_stderr
expect_report $H 'r["modules"]["gone"]' '{"ms": 42, "runs": 7}'
expect_report $H 'r["modules"]["a"]["runs"]' 3

# A truncated file: a warning naming it, the run goes on, a new file.
size=$(stat -c %s $H)
truncate -s $((size / 2)) $H
expect_exit 1 mp run h.yml --progress never --on-failure continue
expect_stderr_matches "^modpipe run: warning: ignoring $WORK/\.modpipe/history\.json: line [0-9]+: "
expect_stdout_matches '^pipeline failed'
expect_report $H "$names" "$want"
expect_report $H 'sorted(set(e["runs"] for e in r["modules"].values()))' '[1]'

# Not a history at all: the same.
printf '{"schema": "modpipe.history/v2", "modules": {}}' >$H
expect_exit 1 mp run h.yml --progress never --on-failure continue
expect_stderr_matches 'warning: ignoring .*history\.json: schema is not "modpipe\.history/v1"$'
expect_report $H "$names" "$want"
pass
