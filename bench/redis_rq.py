#!/usr/bin/python3
"""redis_rq.py -- the peer of bench/dispatch.c: the same workloads with
Python RQ on the same redis-server.

usage: redis_rq.py REDIS_URL [N=2000] [W=3] [WORKER_CLASS=rq.worker.SimpleWorker]

W `rq worker` processes (SimpleWorker by default: no fork per job, RQ's
fastest mode; pass rq.worker.Worker for its default) are started and
registered before the clock starts. Then:
  chain  N no-op jobs, job i depends_on job i-1 (RQ enqueues a dependent
         when its dependency finishes): per-job overhead = started_at(i) -
         ended_at(i-1) from RQ's own timestamps (microseconds), p50/p99/max.
  wide   N independent no-op jobs: jobs/s from the first enqueue to the
         last job finished.
Redis commands per job come from INFO commandstats before/after.
"""
import os
import subprocess
import sys
import time

from redis import Redis
from rq import Queue, Worker
from rq.job import Job

url = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
w = int(sys.argv[3]) if len(sys.argv) > 3 else 3
wclass = sys.argv[4] if len(sys.argv) > 4 else "rq.worker.SimpleWorker"
here = os.path.dirname(os.path.abspath(__file__))
conn = Redis.from_url(url)


def commandstats():
    return {k[len("cmdstat_"):] if k.startswith("cmdstat_") else k: v["calls"]
            for k, v in conn.info("commandstats").items()}


def per_job(a, b, what):
    d = {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0) > 0 and k != "info"}
    total = sum(d.values())
    top = sorted(d.items(), key=lambda kv: -kv[1])[:6]
    print(f"{what}: redis commands per job: {total / n:.2f} "
          f"({' '.join(f'{k}={v / n:.2f}' for k, v in top)} ...)")


def wait_done(q, jobs, timeout):
    end = time.monotonic() + timeout
    last = jobs[-1]
    while time.monotonic() < end:
        if q.finished_job_registry.count >= len(jobs):
            return
        time.sleep(0.002)
    sys.exit(f"redis_rq: jobs not finished in {timeout} s (last: {last.get_status()})")


def run(name, chain):
    qname = f"bench-{name}-{os.getpid()}"
    q = Queue(qname, connection=conn)
    env = dict(os.environ, PYTHONPATH=here)
    procs = [subprocess.Popen(["/usr/bin/python3", "-m", "rq.cli", "worker", "-u", url,
                               "-w", wclass, "-q", "--name", f"{qname}-{i}", qname],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i in range(w)]
    try:
        end = time.monotonic() + 30
        while len([x for x in Worker.all(queue=q)]) < w:
            if time.monotonic() > end:
                sys.exit("redis_rq: workers did not register")
            time.sleep(0.05)
        a = commandstats()
        t0 = time.monotonic()
        jobs = []
        prev = None
        for i in range(n):
            prev = q.enqueue("redis_rq_jobs.noop", depends_on=prev if chain else None)
            jobs.append(prev)
        wait_done(q, jobs, 600)
        secs = time.monotonic() - t0
        b = commandstats()
        print(f"{name}: {n} jobs, {w} workers ({wclass}): {secs:.3f} s, {n / secs:.0f} jobs/s")
        if chain:
            fetched = Job.fetch_many([j.id for j in jobs], connection=conn)
            gaps = sorted((fetched[i].started_at - fetched[i - 1].ended_at).total_seconds() * 1e3
                          for i in range(1, n))
            print(f"{name}: per-job overhead p50 {gaps[(n - 1) // 2]:.3f} ms, "
                  f"p99 {gaps[(n - 1) * 99 // 100]:.3f} ms, max {gaps[-1]:.3f} ms")
        per_job(a, b, name)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


run("chain", True)
run("wide", False)
