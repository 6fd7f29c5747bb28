/*
 * fn_module.h -- attempts of C-function modules (MP_RUN_FUNCTION), run on
 * a pool of worker threads the engine owns for the length of one run.
 *
 *   mp_fn_pool *pool = mp__fn_pool_new(parallelism, notify_fd);
 *   mp__fn_start(&r, pool, m, attempt, err);   pending; a worker calls m->fn
 *   mp__fn_pool_flush(pool);                   hands the pending jobs over
 *   loop: poll(notify_fd) ...; if (mp__fn_done(&r)) rc = mp__fn_join(&r);
 *   mp__fn_release(&r);                        frees the context
 *   mp__fn_pool_free(pool);                    at the end of the run
 *
 * Threads: the pool starts its first worker with the first job, and more,
 * up to `max` (the run's parallelism: no more functions than that are
 * ever in flight), only when a queued job has waited a few milliseconds
 * for the busy ones (fn_module.c: the lazy policy). The owner must wake
 * up by mp__fn_pool_deadline() and flush then, so a queued job never
 * waits for long while a worker could take it. A worker calls the module's function with a fresh mp_ctx (ctx.h),
 * stores the return value, sets `done` and writes 1 to the notify eventfd
 * so the engine's poll wakes up (unless a write since the owner's last
 * mp__fn_pool_rearm() wakes it already); then it takes the next job or
 * waits. mp__fn_pool_free() is the owner's join: the workers finish the
 * jobs still queued or running, then they stop and are joined.
 *
 * Cancellation (timeout or a stopping run) is cooperative: mp__fn_cancel()
 * makes mp_ctx_cancelled() true, and the engine waits for the function to
 * return. A function that ignores cancellation is waited for however long
 * it takes -- a thread cannot be killed safely -- and mp__engine_run()
 * does not return before it has.
 *
 * Ownership: an mp_fn_run is caller-owned and must not move from start
 * until it is done (a worker holds a pointer to it); the pool only queues
 * it. A worker reads a job's fn, data and ctx while it runs it, writes rc,
 * then sets `done`, and never touches the job after that.
 */
#ifndef MP_CORE_FN_MODULE_H
#define MP_CORE_FN_MODULE_H

#include "core/model.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct mp_fn_pool mp_fn_pool;

typedef struct mp_fn_run {
    struct mp_fn_run *next; /* in the pool's queue */
    mp_fn_pool *pool;       /* NULL before start */
    mp_ctx *ctx;
    mp_module_fn fn;
    void *data;
    int64_t queued_ms; /* when it was handed over (monotonic) */
    atomic_int done;   /* the function returned; rc is valid */
    int rc;          /* its return value */
} mp_fn_run;

/* A pool of at most max (>= 1) workers that write notify_fd (an eventfd)
 * after each job. No thread is started before the first job. */
mp_fn_pool *mp__fn_pool_new(int max, int notify_fd);
/* Wait for every job, stop and join the workers, free. NULL-safe. */
void mp__fn_pool_free(mp_fn_pool *p);
/* Workers started so far. */
int mp__fn_pool_threads(const mp_fn_pool *p);
/* The owner is about to look at every job (after reading notify_fd): a
 * job that ends from now on writes notify_fd again. NULL-safe. */
void mp__fn_pool_rearm(mp_fn_pool *p);

/* Hand every job started since the last flush to the workers at once
 * (one lock, at most one wake-up), and wake or start one more worker when
 * the oldest queued job has waited too long. The owner must call it
 * before it waits for a job; mp__fn_join() and mp__fn_pool_free() call
 * it. NULL-safe. */
void mp__fn_pool_flush(mp_fn_pool *p);
/* When the owner, if it waits, must wake up and flush again (a queued job
 * is due another worker then), or MP_DEADLINE_NONE. Call it after the
 * flush before each wait. NULL-safe. */
int64_t mp__fn_pool_deadline(mp_fn_pool *p);

/* Start attempt `attempt` of module m (which must be MP_RUN_FUNCTION): it
 * is pending until the owner's next mp__fn_pool_flush(). The owner's
 * thread only. Returns 0 or MP_EIO (no worker could be started; nothing
 * to release). */
int mp__fn_start(mp_fn_run *r, mp_fn_pool *pool, const mp_module *m, int attempt, mp_error *err);
/* Has the function returned? */
int mp__fn_done(mp_fn_run *r);
/* Ask it to stop (mp_ctx_cancelled() turns true). */
void mp__fn_cancel(mp_fn_run *r);
/* Wait until the function has returned (blocks only when it has not) and
 * return its value. Outputs stay readable in r->ctx until release. */
int mp__fn_join(mp_fn_run *r);
/* Join, then free the context. Safe on a zeroed mp_fn_run. */
void mp__fn_release(mp_fn_run *r);

#endif
