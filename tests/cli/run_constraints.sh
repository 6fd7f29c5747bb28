#!/usr/bin/env bash
# run_constraints.sh -- what may run together, checked from the times the
# modules themselves record (date +%s%N before and after a sleep):
# not_in_parallel keys never overlap, an exclusive module
# (`not_in_parallel: true`) runs alone, a concurrency group never exceeds
# its limit (and reaches it), and with -j1 modules start in priority order,
# then by critical path, then by name.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

# overlaps_with FILE NAME: how many other intervals overlap NAME's.
overlaps_with() {
    python3 -c '
import sys
iv = {}
for line in open(sys.argv[1]):
    n, s, e = line.split(); iv[n] = (int(s), int(e))
s0, e0 = iv[sys.argv[2]]
print(sum(1 for n, (s, e) in iv.items() if n != sys.argv[2] and s < e0 and s0 < e))' "$1" "$2"
}

# ------------------------------------------------ not_in_parallel and exclusive
{
    printf 'version: 1\nname: nip\nmodules:\n'
    for i in 1 2 3; do
        printf '  db%d:\n    not_in_parallel: [db]\n    run: %s\n' "$i" "'$(stamp db$i t.log 0.4)'"
    done
    # Shares "cache" with db3 only: may overlap db1 and db2, never db3.
    printf '  cache:\n    not_in_parallel: [cache]\n    run: %s\n' "'$(stamp cache t.log 0.4)'"
    printf '  db3x:\n    not_in_parallel: [db, cache]\n    run: %s\n' "'$(stamp db3x t.log 0.4)'"
    for i in 1 2 3; do
        printf '  free%d:\n    run: %s\n' "$i" "'$(stamp free$i t.log 0.4)'"
    done
    printf '  alone:\n    not_in_parallel: true\n    run: %s\n' "'$(stamp alone t.log 0.4)'"
} >nip.yml
expect_exit 0 mp run nip.yml -j 8 --report r.json
expect_statuses r.json <<'TXT'
alone succeeded
cache succeeded
db1 succeeded
db2 succeeded
db3 succeeded
db3x succeeded
free1 succeeded
free2 succeeded
free3 succeeded
TXT
expect_eq "max overlap of the db modules" "$(max_overlap t.log db1 db2 db3 db3x)" 1
expect_eq "max overlap of cache and db3x" "$(max_overlap t.log cache db3x)" 1
expect_eq "modules running together with the exclusive one" "$(overlaps_with t.log alone)" 0
# Parallelism was real: something did overlap.
o=$(max_overlap t.log)
[ "$o" -ge 3 ] || fail "at most $o modules ran at once with -j 8"

# --------------------------------------------------------- concurrency groups
{
    printf 'version: 1\nname: groups\noptions:\n  concurrency_groups: {net: 2, disk: 1}\nmodules:\n'
    for i in 1 2 3 4 5; do
        printf '  net%d:\n    concurrency_group: net\n    run: %s\n' "$i" "'$(stamp net$i g.log 0.3)'"
    done
    for i in 1 2 3; do
        printf '  disk%d:\n    concurrency_group: disk\n    run: %s\n' "$i" "'$(stamp disk$i g.log 0.3)'"
    done
} >groups.yml
expect_exit 0 mp run groups.yml -j 8 --report r.json
expect_statuses r.json <<'TXT'
disk1 succeeded
disk2 succeeded
disk3 succeeded
net1 succeeded
net2 succeeded
net3 succeeded
net4 succeeded
net5 succeeded
TXT
expect_eq "max concurrency in group net (limit 2)" "$(max_overlap g.log net1 net2 net3 net4 net5)" 2
expect_eq "max concurrency in group disk (limit 1)" "$(max_overlap g.log disk1 disk2 disk3)" 1
o=$(max_overlap g.log)
[ "$o" -ge 3 ] || fail "groups: at most $o modules ran at once (net 2 + disk 1 = 3 expected)"

# ---------------------------------------------------------- priority with -j1
write prio.yml <<'YAML'
version: 1
name: prio
modules:
  a_low:
    priority: low
    run: echo a_low >> order.txt
  b_normal:
    run: echo b_normal >> order.txt
  c_high:
    priority: high
    run: echo c_high >> order.txt
  d_critical:
    priority: critical
    run: echo d_critical >> order.txt
  e_normal:
    priority: normal
    run: echo e_normal >> order.txt
  # Same priority as b_normal and e_normal, but with a longer path after it:
  # the critical path puts it first among them.
  f_normal_chain:
    run: echo f_normal_chain >> order.txt
  g_tail:
    depends_on: [f_normal_chain]
    priority: low
    run: echo g_tail >> order.txt
YAML
expect_exit 0 mp run prio.yml -j1 --report r.json
compare "start order with -j1" order.txt <<'TXT'
d_critical
c_high
f_normal_chain
b_normal
e_normal
a_low
g_tail
TXT
expect_report r.json '[m[k]["status"] for k in sorted(m)]' \
    '["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded"]'
expect_report r.json 'r["metrics"]["peak_concurrency"]' 1

pass
