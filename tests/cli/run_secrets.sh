#!/usr/bin/env bash
# run_secrets.sh -- secret values never leave modpipe unmasked: not in the
# state dir (.modpipe: logs, outputs, history), the console (grouped and stream output), the
# summary (log tails of failed modules), nor the report (log tails, error
# messages, outputs) -- also when a module prints a secret in two pieces
# that arrive in separate pipe reads, and in its base64 form. A secret too
# short to mask is refused before anything runs (exit 2).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

TOKEN='tok-3f9a7c1e5b2d'     # 16 bytes
PASSWORD='correct horse battery staple'
B64=$(printf '%s' "$TOKEN" | base64)

write secrets.yml <<'YAML'
version: 1
name: secrets
secrets: [TOKEN, PASSWORD, UNSET_SECRET]
modules:
  whole:
    secrets: [TOKEN, PASSWORD]
    run: |
      echo "token is $TOKEN"
      echo "password: $PASSWORD."
      printf '%s' "$TOKEN" | base64
      echo "out=before-$TOKEN-after" >> "$MODPIPE_OUTPUT"
  split:
    secrets: [TOKEN]
    run: |
      first=$(printf '%s' "$TOKEN" | cut -c1-8)
      rest=$(printf '%s' "$TOKEN" | cut -c9-)
      printf 'split: %s' "$first"
      sleep 0.2
      printf '%s end\n' "$rest"
  fails:
    secrets: [TOKEN]
    run: |
      echo "about to fail with $TOKEN"
      exit 3
  # Declares no secret: it does not get the value at all.
  undeclared:
    run: 'echo "undeclared sees [${TOKEN:-}]"'
YAML

# no_secret PATH...: none of the paths (files or directories) holds a secret.
no_secret() {
    local p
    for p in "$@"; do
        expect_file_lacks "$p" "$TOKEN"
        expect_file_lacks "$p" "$PASSWORD"
        expect_file_lacks "$p" "$B64"
        expect_file_lacks "$p" "tok-3f9a"  # the first half alone: no partial leak
    done
}

export TOKEN PASSWORD
expect_exit 1 mp run secrets.yml --on-failure continue --report r.json -j4
expect_statuses r.json <<'TXT'
fails failed
split succeeded
undeclared succeeded
whole succeeded
TXT
no_secret "$OUT" "$ERR" .modpipe r.json
# What was masked shows as ***.
expect_file_has .modpipe/logs/whole.log '^token is \*\*\*$'
expect_file_has .modpipe/logs/whole.log '^password: \*\*\*\.$'
expect_file_has .modpipe/logs/whole.log '^\*\*\*$'
expect_file_has .modpipe/logs/split.log '^split: \*\*\* end$'
expect_file_has .modpipe/logs/undeclared.log '^undeclared sees \[\]$'
expect_stdout_matches '^token is \*\*\*$'
expect_stdout_matches '^split: \*\*\* end$'
# The summary shows the failed module's log tail, masked.
expect_stdout_matches '^  \| about to fail with \*\*\*$'
expect_report r.json 'm["fails"]["error"]["log_tail"]' 'about to fail with ***'
expect_report r.json 'm["whole"]["outputs"]["out"]' 'before-***-after'

# Stream output is masked too, with the split secret held back until it is
# complete.
expect_exit 1 mp run secrets.yml --on-failure continue --output stream --report r2.json -j4
no_secret "$OUT" "$ERR" .modpipe r2.json
expect_stdout_matches '^\[split\] split: \*\*\* end$'
expect_stdout_matches '^\[whole\] token is \*\*\*$'

# A secret that is not set is simply not masked (nothing to mask); one too
# short to be masked safely stops everything before it starts.
rm -rf .modpipe
TOKEN=abc expect_exit 2 mp run secrets.yml --report r3.json
expect_stderr <<'TXT'
modpipe run: secret "TOKEN" is shorter than 4 characters and cannot be masked safely
TXT
expect_file_lacks "$ERR" abc
[ ! -e .modpipe ] && [ ! -e r3.json ] || fail "something ran with a secret too short to mask"

pass
