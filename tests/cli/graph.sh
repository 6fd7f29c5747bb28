#!/usr/bin/env bash
# graph.sh -- `modpipe graph` in its three formats: dot (the default) and
# mermaid with exact output, mermaid node ids for awkward names, and json
# of a pipeline using every key compared field by field with the reviewed
# tests/fixtures/valid/all_keys.json.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

write_shop shop.yml

dot_graph() {
    cat <<'TXT'
digraph "shop" {
  node [shape=box];
  "build";
  "docs";
  "lint";
  "package";
  "publish";
  "restore";
  "test[os=linux]";
  "test[os=macos]";
  "build" -> "test[os=linux]";
  "build" -> "test[os=macos]";
  "docs" -> "package" [style=dashed];
  "lint" -> "build" [style=dashed];
  "package" -> "publish";
  "restore" -> "build";
  "test[os=linux]" -> "package";
  "test[os=macos]" -> "package";
}
TXT
}

for form in "shop.yml" "shop.yml --format dot" "--format=dot shop.yml"; do
    # shellcheck disable=SC2086
    expect_exit 0 mp graph $form
    dot_graph | expect_stdout
    expect_no_stderr
done

# FILE defaults to ./modpipe.yml.
cp shop.yml modpipe.yml
expect_exit 0 mp graph
dot_graph | expect_stdout
rm modpipe.yml

mermaid_graph() {
    cat <<'TXT'
flowchart TD
  m_build["build"]
  m_docs["docs"]
  m_lint["lint"]
  m_package["package"]
  m_publish["publish"]
  m_restore["restore"]
  m_test_os_linux_["test[os=linux]"]
  m_test_os_macos_["test[os=macos]"]
  m_build --> m_test_os_linux_
  m_build --> m_test_os_macos_
  m_docs -.-> m_package
  m_lint -.-> m_build
  m_package --> m_publish
  m_restore --> m_build
  m_test_os_linux_ --> m_package
  m_test_os_macos_ --> m_package
TXT
}
for form in "--format mermaid" "--format=mermaid"; do
    # shellcheck disable=SC2086
    expect_exit 0 mp graph shop.yml $form
    mermaid_graph | expect_stdout
    expect_no_stderr
done

# Names Mermaid would misread: a keyword, names that sanitise to the same
# id, matrix instances with several keys; an after that repeats a
# depends_on is drawn once, solid. No name: the dot graph is "modpipe".
write odd.yml <<'YAML'
version: 1
modules:
  end:
    run: echo end
  a.b:
    run: echo
  a_b:
    depends_on: [a.b, end]
    after: [end]
    run: echo
  a-b:
    run: echo
  t:
    matrix: {os: [linux], arch: [x86_64, arm64]}
    depends_on: [a-b]
    run: echo
YAML
expect_exit 0 mp graph odd.yml --format mermaid
expect_stdout <<'TXT'
flowchart TD
  m_a_b["a-b"]
  m_a_b_2["a.b"]
  m_a_b_3["a_b"]
  m_end["end"]
  m_t_os_linux_arch_arm64_["t[os=linux,arch=arm64]"]
  m_t_os_linux_arch_x86_64_["t[os=linux,arch=x86_64]"]
  m_a_b --> m_t_os_linux_arch_arm64_
  m_a_b --> m_t_os_linux_arch_x86_64_
  m_a_b_2 --> m_a_b_3
  m_end --> m_a_b_3
TXT
expect_exit 0 mp graph odd.yml
expect_stdout <<'TXT'
digraph "modpipe" {
  node [shape=box];
  "a-b";
  "a.b";
  "a_b";
  "end";
  "t[os=linux,arch=arm64]";
  "t[os=linux,arch=x86_64]";
  "a-b" -> "t[os=linux,arch=arm64]";
  "a-b" -> "t[os=linux,arch=x86_64]";
  "a.b" -> "a_b";
  "end" -> "a_b";
}
TXT

# Escaping: DOT IDs escape '"' and '\'; Mermaid labels use entity codes
# for characters it would read as markup.
write quotes.yml <<'YAML'
version: 1
name: 'say "hi" \ there'
modules:
  t:
    matrix: {v: ['a"b', '<x>#1']}
    run: echo
YAML
expect_exit 0 mp graph quotes.yml
expect_stdout <<'TXT'
digraph "say \"hi\" \\ there" {
  node [shape=box];
  "t[v=<x>#1]";
  "t[v=a\"b]";
}
TXT
expect_exit 0 mp graph quotes.yml --format mermaid
expect_stdout <<'TXT'
flowchart TD
  m_t_v__x__1_["t[v=#lt;x#gt;#35;1]"]
  m_t_v_a_b_["t[v=a#quot;b]"]
TXT

# json: the whole model, every field, as parsed. Run from the fixture's
# directory so positions read "all_keys.yml:line:col".
cd "$FIXTURES/valid"
expect_exit 0 mp graph all_keys.yml --format json
expect_stdout <all_keys.json
expect_no_stderr
cd "$WORK"

# json is valid JSON with sorted keys and 2-space indentation.
expect_exit 0 mp graph shop.yml --format json
if command -v jq >/dev/null; then
    jq -S --indent 2 . "$OUT" | expect_stdout
fi
expect_stdout_matches '^  "modules": '

# A pipeline with problems prints no graph.
write bad.yml <<'YAML'
version: 1
modules:
  a:
    depends_on: [b]
    run: echo
YAML
for format in dot mermaid json; do
    expect_exit 2 mp graph bad.yml --format "$format"
    expect_no_stdout
    expect_stderr_matches '^modpipe: 1 problem in bad\.yml$'
done

pass
