#!/usr/bin/env python3
"""gen_pipeline.py -- generate a random-DAG pipeline file for benchmarks.

usage: gen_pipeline.py N [--edges E] [--seed S] [--shape dag|chain|wide] > pipeline.yml

Module i depends on up to E modules chosen among 0..i-1 (dag), on i-1
(chain), or on nothing (wide). Every module runs `true`. The output is
deterministic for a given seed.
"""
import argparse
import random
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--edges", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=["dag", "chain", "wide"], default="dag")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    out = sys.stdout
    out.write("version: 1\nname: bench-%s-%d\nmodules:\n" % (a.shape, a.n))
    for i in range(a.n):
        if a.shape == "chain":
            deps = [i - 1] if i else []
        elif a.shape == "wide":
            deps = []
        else:
            deps = sorted(set(rnd.randrange(i) for _ in range(min(a.edges, i)))) if i else []
        out.write("  m%d:\n    run: \"true\"\n" % i)
        if deps:
            out.write("    depends_on: [%s]\n" % ", ".join("m%d" % d for d in deps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
