/*
 * fn_module.c -- C-function module attempts on the engine's worker pool
 * (fn_module.h).
 *
 * Threads: up to `max` workers, each started by mp__fn_start() when a job
 * is queued and fewer workers are idle than jobs wait, and joined by
 * mp__fn_pool_free(), called by the pool's owner (the engine, once its
 * loop has ended). A worker runs jobs in queue order until the pool stops.
 *
 * Locks: one mutex per pool guards the queue, the counts and `stopping`.
 * A job's rc is written before its atomic `done` is set, without the lock;
 * the engine reads rc only once it has seen `done`. Condition variables:
 * one per worker, `wake` (it was handed a wake-up, or the pool stops),
 * and `finished`, which wakes mp__fn_join() when it has to wait for a job
 * (it counts itself in `joiners` under the lock first, and a worker that
 * sees a joiner after setting `done` broadcasts under the lock, so the
 * wake cannot be missed). The function itself runs without the lock; its
 * mp_ctx has a lock of its own.
 *
 * Waking the engine: a worker writes the notify eventfd only when it
 * moves `unseen` (jobs done since the engine last looked) from 0 to 1;
 * mp__fn_pool_rearm() sets it back to 0 just before the engine looks at
 * every job, so a job done later writes again. A burst of jobs ending
 * together costs one write and one wake-up, and none is lost: a job that
 * ends between the rearm and the look is seen by the look (and its write
 * wakes the engine once more for nothing).
 *
 * Hand-off in batches: mp__fn_start() only appends to the owner's
 * pending list; mp__fn_pool_flush(), which the owner calls before it
 * waits, moves the whole list onto the queue under the lock once, stamped
 * with the time. A worker that finishes a job takes the next queued one
 * before it sleeps.
 *
 * Who is woken (the lazy policy): a flush wakes a worker only when none
 * is awake (every thread idle); while one is awake it takes the queued
 * jobs one after the other. More workers are woken (or started, up to
 * `max`) only for a job that has waited KICK_MS in the queue: then the
 * owner's next flush (the engine's poll wakes up for it, see
 * mp__fn_pool_deadline) hands a wake-up to an idle worker or starts one,
 * and a worker that takes a job while the next one is overdue too passes
 * a wake-up on. Short functions (the common case: 100,000 no-ops) so run
 * on one worker with one wake-up per batch instead of one per job, on a
 * machine with fewer cores than workers; long ones still run `max` at
 * once, each at most KICK_MS (plus a poll's rounding) after it was handed
 * over. mp__fn_join() does not wait for the kick: it wakes or starts a
 * worker at once for a queued job. Idle workers wait on their own
 * condition, off a stack: a wake-up is handed to one worker under the
 * lock and counted (`waking`) until it is back, so no job gets two
 * workers' wake-ups.
 *
 * Shutdown order: every job done (the engine has waited for each) ->
 * stopping = 1 and every worker's `wake` signalled -> each worker empties the queue and
 * leaves its loop -> the owner joins them all -> the mutex and conditions
 * are destroyed.
 */
#include "core/fn_module.h"
#include "core/ctx.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fn_worker {
    mp_fn_pool *pool;
    pthread_cond_t wake; /* woken was set, or stopping */
    int woken;           /* handed a wake-up by wake_one() */
} fn_worker;

struct mp_fn_pool {
    pthread_mutex_t lock;
    pthread_cond_t finished; /* a job is done */
    mp_fn_run *head, *tail;  /* queued jobs, oldest first */
    size_t queued;
    /* Started, not yet handed over (the owner's thread only, no lock). */
    mp_fn_run *pend_head, *pend_tail;
    size_t pending;
    pthread_t *threads;
    fn_worker *workers; /* one per thread, by thread number */
    int *idle_stack;    /* waiting workers, not yet handed a wake-up */
    int nthreads, max, idle;
    int waking; /* handed a wake-up, not yet back under the lock */
    int start_failed; /* pthread_create failed once: no more tries */
    int stopping;
    int notify_fd;
    atomic_int joiners; /* mp__fn_join() calls waiting */
    atomic_int unseen;  /* jobs done since the last rearm */
};

mp_fn_pool *mp__fn_pool_new(int max, int notify_fd)
{
    mp_fn_pool *p = mp__xcalloc(1, sizeof(*p));
    p->max = max > 0 ? max : 1;
    p->notify_fd = notify_fd;
    atomic_init(&p->joiners, 0);
    atomic_init(&p->unseen, 0);
    p->threads = mp__xcalloc((size_t)p->max, sizeof(*p->threads));
    p->workers = mp__xcalloc((size_t)p->max, sizeof(*p->workers));
    p->idle_stack = mp__xcalloc((size_t)p->max, sizeof(*p->idle_stack));
    for (int k = 0; k < p->max; k++) {
        p->workers[k].pool = p;
        pthread_cond_init(&p->workers[k].wake, NULL);
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->finished, NULL);
    return p;
}

int mp__fn_pool_threads(const mp_fn_pool *p)
{
    return p ? p->nthreads : 0;
}

void mp__fn_pool_rearm(mp_fn_pool *p)
{
    if (p) atomic_store(&p->unseen, 0);
}

static void notify(int fd)
{
    uint64_t one = 1;
    ssize_t w;
    do
        w = write(fd, &one, sizeof(one));
    while (w < 0 && errno == EINTR);
}

static void *worker(void *arg);

/* Under the lock: when more jobs are queued than woken workers are coming
 * for, hand a wake-up to an idle worker and return it (the caller signals
 * it after unlocking). Each wake-up is counted until its worker is back
 * under the lock, so a job is never given two workers' wake-ups while an
 * idle worker is left asleep for another. */
static fn_worker *wake_one(mp_fn_pool *p)
{
    if (p->queued <= (size_t)p->waking || p->idle == 0) return NULL;
    fn_worker *w = &p->workers[p->idle_stack[--p->idle]];
    w->woken = 1;
    p->waking++;
    return w;
}

/* A queued job waits this long for a busy worker before another worker
 * is woken or started for it. */
#define KICK_MS 2

/* Under the lock: has the oldest queued job waited KICK_MS? */
static bool overdue(const mp_fn_pool *p, int64_t now)
{
    return p->head && now - p->head->queued_ms >= KICK_MS;
}

/* Under the lock, the owner's thread: would a kick find a worker to wake
 * or start for a queued job no wake-up is on its way for? */
static bool can_kick(const mp_fn_pool *p)
{
    return p->queued > (size_t)p->waking &&
           (p->idle > 0 || (p->nthreads < p->max && !p->start_failed));
}

/* Under the lock, the owner's thread: get one more worker onto the queue
 * -- a wake-up handed to an idle one (returned, for the caller to signal
 * after unlocking) or a new thread. */
static fn_worker *kick(mp_fn_pool *p)
{
    if (!can_kick(p)) return NULL;
    if (p->idle > 0) return wake_one(p);
    int e = pthread_create(&p->threads[p->nthreads], NULL, worker, &p->workers[p->nthreads]);
    if (e == 0)
        p->nthreads++;
    else
        p->start_failed = 1;
    return NULL;
}

static void *worker(void *arg)
{
    fn_worker *self = arg;
    mp_fn_pool *p = self->pool;
    int me = (int)(self - p->workers);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping) {
            self->woken = 0;
            p->idle_stack[p->idle++] = me;
            while (!self->woken && !p->stopping)
                pthread_cond_wait(&self->wake, &p->lock);
            if (self->woken) {
                p->waking--;
            } else { /* stopping: leave the idle stack */
                for (int k = 0; k < p->idle; k++)
                    if (p->idle_stack[k] == me) {
                        p->idle_stack[k] = p->idle_stack[--p->idle];
                        break;
                    }
            }
        }
        if (!p->head) break; /* stopping, and nothing left */
        mp_fn_run *r = p->head;
        p->head = r->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        /* The next job has waited too long for this (busy) worker: pass
         * a wake-up on to an idle one. */
        fn_worker *next = overdue(p, mp__clock_now_ms()) ? wake_one(p) : NULL;
        pthread_mutex_unlock(&p->lock);
        if (next) pthread_cond_signal(&next->wake);
        r->rc = r->fn(r->ctx, r->data);
        atomic_store(&r->done, 1); /* r is the engine's again from here */
        if (atomic_load(&p->joiners) > 0) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_broadcast(&p->finished);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_fetch_add(&p->unseen, 1) == 0) notify(p->notify_fd);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void mp__fn_pool_free(mp_fn_pool *p)
{
    if (!p) return;
    mp__fn_pool_flush(p);
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    for (int k = 0; k < p->nthreads; k++)
        pthread_cond_signal(&p->workers[k].wake);
    pthread_mutex_unlock(&p->lock);
    for (int k = 0; k < p->nthreads; k++)
        pthread_join(p->threads[k], NULL);
    pthread_cond_destroy(&p->finished);
    for (int k = 0; k < p->max; k++)
        pthread_cond_destroy(&p->workers[k].wake);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p->workers);
    free(p->idle_stack);
    free(p);
}

void mp__fn_pool_flush(mp_fn_pool *p)
{
    if (!p) return;
    int64_t now = mp__clock_now_ms();
    for (mp_fn_run *r = p->pend_head; r; r = r->next)
        r->queued_ms = now;
    pthread_mutex_lock(&p->lock);
    if (p->pend_head) {
        if (p->tail)
            p->tail->next = p->pend_head;
        else
            p->head = p->pend_head;
        p->tail = p->pend_tail;
        p->queued += p->pending;
    }
    fn_worker *w = NULL;
    if (p->head && (p->idle == p->nthreads || overdue(p, now))) w = kick(p);
    pthread_mutex_unlock(&p->lock);
    p->pend_head = p->pend_tail = NULL;
    p->pending = 0;
    /* After unlocking: a woken worker need not block on the lock again. */
    if (w) pthread_cond_signal(&w->wake);
}

int64_t mp__fn_pool_deadline(mp_fn_pool *p)
{
    if (!p) return MP_DEADLINE_NONE;
    int64_t dl = MP_DEADLINE_NONE;
    pthread_mutex_lock(&p->lock);
    if (p->head && can_kick(p)) dl = p->head->queued_ms + KICK_MS;
    pthread_mutex_unlock(&p->lock);
    return dl;
}

int mp__fn_start(mp_fn_run *r, mp_fn_pool *p, const mp_module *m, int attempt, mp_error *err)
{
    memset(r, 0, sizeof(*r));
    atomic_init(&r->done, 0);
    r->fn = m->fn;
    r->data = m->fn_data;
    r->ctx = mp__ctx_new(m->name, attempt);
    /* The first worker is started with the first job; more only by a
     * kick (nthreads changes only on this, the owner's, thread). */
    if (p->nthreads == 0) {
        pthread_mutex_lock(&p->lock);
        int e = pthread_create(&p->threads[0], NULL, worker, &p->workers[0]);
        if (e == 0) p->nthreads = 1;
        pthread_mutex_unlock(&p->lock);
        if (e != 0) {
            /* No worker will ever take it. */
            mp__ctx_free(r->ctx);
            r->ctx = NULL;
            return mp__error(err, MP_EIO, m->name, "cannot start a thread for module \"%s\": %s",
                             m->name, strerror(e));
        }
    }
    if (p->pend_tail)
        p->pend_tail->next = r;
    else
        p->pend_head = r;
    p->pend_tail = r;
    p->pending++;
    r->pool = p;
    return 0;
}

int mp__fn_done(mp_fn_run *r)
{
    return atomic_load(&r->done);
}

void mp__fn_cancel(mp_fn_run *r)
{
    mp__ctx_cancel(r->ctx);
}

int mp__fn_join(mp_fn_run *r)
{
    if (!r->pool || atomic_load(&r->done)) return r->rc;
    mp_fn_pool *p = r->pool;
    mp__fn_pool_flush(p); /* r may not be handed over yet */
    pthread_mutex_lock(&p->lock);
    /* About to block: a queued job (r among them) gets a worker now
     * rather than after the kick delay, which only the owner's loop
     * would act on. */
    fn_worker *w = p->head ? kick(p) : NULL;
    pthread_mutex_unlock(&p->lock);
    if (w) pthread_cond_signal(&w->wake);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->joiners, 1);
    while (!atomic_load(&r->done))
        pthread_cond_wait(&p->finished, &p->lock);
    atomic_fetch_sub(&p->joiners, 1);
    pthread_mutex_unlock(&p->lock);
    return r->rc;
}

void mp__fn_release(mp_fn_run *r)
{
    mp__fn_join(r);
    mp__ctx_free(r->ctx);
    r->ctx = NULL;
    r->pool = NULL;
}
