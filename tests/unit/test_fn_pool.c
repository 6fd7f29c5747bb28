/* test_fn_pool.c -- the worker pool of C-function modules
 * (core/fn_module.h) and its lazy wake-up policy: a burst of short jobs,
 * jobs that can only finish together (so they must run at the same time:
 * the owner's kick after the wait deadline starts more workers), a join
 * that gets a worker at once for a job queued behind a busy one, and no
 * more threads than `max`. The test plays the engine: it polls the notify
 * eventfd until mp__fn_pool_deadline() and flushes every turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fn_module.h"
#include "modpipe.h"
#include "os/clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000 /* how long a test function waits for the others */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int arrived, released;

static void reset(void)
{
    pthread_mutex_lock(&mu);
    arrived = released = 0;
    pthread_mutex_unlock(&mu);
}

/* Wait under mu until pred() or WAIT_MS; returns pred(). */
static int wait_for(int (*pred)(void *), void *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    int ok;
    while (!(ok = pred(arg)))
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) break;
    return pred(arg);
}

static int all_arrived(void *arg)
{
    return arrived >= *(int *)arg;
}

/* Returns 0 once `*data` functions have arrived, 1 if they did not
 * within WAIT_MS: they only succeed when they run at the same time. */
static int fn_rendezvous(mp_ctx *ctx, void *data)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    arrived++;
    pthread_cond_broadcast(&cv);
    int ok = wait_for(all_arrived, data);
    pthread_mutex_unlock(&mu);
    return ok ? 0 : 1;
}

static int is_released(void *arg)
{
    (void)arg;
    return released;
}

/* Arrives, then blocks until released (or WAIT_MS: returns 1). */
static int fn_block(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    pthread_mutex_lock(&mu);
    arrived++;
    pthread_cond_broadcast(&cv);
    int ok = wait_for(is_released, NULL);
    pthread_mutex_unlock(&mu);
    return ok ? 0 : 1;
}

static atomic_int calls;

static int fn_count(mp_ctx *ctx, void *data)
{
    (void)ctx;
    atomic_fetch_add(&calls, 1);
    return (int)(intptr_t)data;
}

static mp_module *module(mp_pipeline *p, const char *name, mp_module_fn fn, void *data)
{
    mp_module *m = mp_pipeline_add_module(p, name, NULL, NULL);
    assert_non_null(m);
    mp_module_set_function(m, fn, data);
    return m;
}

/* The engine's loop: flush, poll the notify fd until the pool's deadline
 * (or 100 ms), rearm, until every run is done or `limit_ms` passed.
 * Returns 1 when all are done. */
static int drive(mp_fn_pool *pool, int nfd, mp_fn_run *runs, size_t n, int64_t limit_ms)
{
    int64_t end = mp__deadline_in(limit_ms);
    for (;;) {
        size_t done = 0;
        for (size_t k = 0; k < n; k++)
            done += (size_t)mp__fn_done(&runs[k]);
        if (done == n) return 1;
        if (mp__deadline_passed(end)) return 0;
        mp__fn_pool_flush(pool);
        int64_t dl = mp__deadline_min(mp__fn_pool_deadline(pool), mp__deadline_in(100));
        struct pollfd pfd = {.fd = nfd, .events = POLLIN};
        assert_true(poll(&pfd, 1, mp__deadline_poll_ms(dl)) >= 0 || errno == EINTR);
        uint64_t v;
        while (read(nfd, &v, sizeof(v)) > 0)
            ;
        mp__fn_pool_rearm(pool);
    }
}

static void test_short_jobs_in_a_burst(void **state)
{
    (void)state;
    enum { N = 2000, MAX = 8 };
    int nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(nfd >= 0);
    mp_pipeline *p = mp_pipeline_new("pool");
    mp_fn_pool *pool = mp__fn_pool_new(MAX, nfd);
    assert_int_equal(mp__fn_pool_threads(pool), 0); /* none before the first job */
    mp_fn_run *runs = calloc(N, sizeof(*runs));
    assert_non_null(runs);
    atomic_store(&calls, 0);
    for (int k = 0; k < N; k++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", k);
        mp_module *m = module(p, name, fn_count, (void *)(intptr_t)(k % 100));
        assert_int_equal(mp__fn_start(&runs[k], pool, m, 1, NULL), 0);
    }
    assert_true(drive(pool, nfd, runs, N, WAIT_MS));
    for (int k = 0; k < N; k++) {
        assert_int_equal(mp__fn_join(&runs[k]), k % 100);
        mp__fn_release(&runs[k]);
    }
    assert_int_equal(atomic_load(&calls), N);
    assert_true(mp__fn_pool_threads(pool) >= 1 && mp__fn_pool_threads(pool) <= MAX);
    mp__fn_pool_free(pool);
    free(runs);
    mp_pipeline_free(p);
    close(nfd);
}

/* `max` jobs that can only finish together, handed over in one batch:
 * one worker is woken for the batch, the others come from the owner's
 * kicks once the queued jobs have waited. */
static void test_long_jobs_run_at_once(void **state)
{
    (void)state;
    enum { MAX = 4 };
    int nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(nfd >= 0);
    mp_pipeline *p = mp_pipeline_new("pool");
    mp_fn_pool *pool = mp__fn_pool_new(MAX, nfd);
    static int want = MAX;
    reset();
    mp_fn_run runs[MAX];
    for (int k = 0; k < MAX; k++) {
        char name[16];
        snprintf(name, sizeof(name), "r%d", k);
        assert_int_equal(mp__fn_start(&runs[k], pool, module(p, name, fn_rendezvous, &want), 1,
                                      NULL),
                         0);
    }
    assert_true(drive(pool, nfd, runs, MAX, 2 * WAIT_MS));
    for (int k = 0; k < MAX; k++) {
        if (mp__fn_join(&runs[k]) != 0) fail_msg("job %d did not meet the others", k);
        mp__fn_release(&runs[k]);
    }
    assert_int_equal(mp__fn_pool_threads(pool), MAX);
    mp__fn_pool_free(pool);
    mp_pipeline_free(p);
    close(nfd);
}

/* A job queued behind a busy worker, then joined by an owner that does
 * not flush again: the join gets it a worker of its own at once. */
static void test_join_does_not_wait_for_the_kick(void **state)
{
    (void)state;
    int nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(nfd >= 0);
    mp_pipeline *p = mp_pipeline_new("pool");
    mp_fn_pool *pool = mp__fn_pool_new(2, nfd);
    reset();
    mp_fn_run a, b;
    assert_int_equal(mp__fn_start(&a, pool, module(p, "a", fn_block, NULL), 1, NULL), 0);
    mp__fn_pool_flush(pool);
    static int one = 1;
    pthread_mutex_lock(&mu);
    int a_runs = wait_for(all_arrived, &one);
    pthread_mutex_unlock(&mu);
    assert_true(a_runs);
    atomic_store(&calls, 0);
    assert_int_equal(mp__fn_start(&b, pool, module(p, "b", fn_count, (void *)7), 1, NULL), 0);
    assert_int_equal(mp__fn_join(&b), 7);
    pthread_mutex_lock(&mu);
    int a_still_blocked = !released;
    released = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    assert_true(a_still_blocked);
    assert_int_equal(mp__fn_join(&a), 0); /* it was released, not timed out */
    assert_int_equal(mp__fn_pool_threads(pool), 2);
    mp__fn_release(&a);
    mp__fn_release(&b);
    mp__fn_pool_free(pool);
    mp_pipeline_free(p);
    close(nfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_jobs_in_a_burst),
        cmocka_unit_test(test_long_jobs_run_at_once),
        cmocka_unit_test(test_join_does_not_wait_for_the_kick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
