"""redis_rq_jobs.py -- the job RQ's workers run in bench/redis_rq.py (a
module of its own so the workers can import it)."""


def noop():
    return None
