/* test_sched.c -- the scheduler (core/sched.h): readiness, statuses and
 * reasons in stop and continue mode, order, constraints, and its cost on a
 * 100,000-module graph. A small discrete-event simulation plays the engine:
 * modules take `dur` ticks and end with `outcome`; on a stop it cancels
 * running modules that are not always_run, like the engine does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/plan.h"
#include "core/sched.h"
#include "core_fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ building */

static unsigned line_no = 1;

static mp_module_decl *mod(mp_pipeline *p, const char *name)
{
    mp_module_decl *d = fx_decl(p, name, line_no);
    line_no += 10;
    if (!d) fail_msg("duplicate %s", name);
    return d;
}

static void dep(mp_pipeline *p, mp_module_decl *d, const char *name)
{
    fx_dep(p, d, name, line_no++);
}

static void key(mp_pipeline *p, mp_module_decl *d, const char *k)
{
    MP_VEC_PUSH(p->arena, &d->proto.not_in_parallel, fx_str(p, k, line_no++));
}

static void group(mp_pipeline *p, const char *name, const char *limit)
{
    fx_env(p, &p->options.concurrency_groups, name, limit, line_no++);
}

static void validate(mp_pipeline *p)
{
    if (mp_pipeline_validate(p, NULL) < 0) {
        fx_dump(p);
        fail_msg("pipeline invalid");
    }
}

static size_t idx(mp_pipeline *p, const char *name)
{
    mp_module *m = mp_pipeline_find(p, name);
    if (!m) fail_msg("no module \"%s\"", name);
    return m->index;
}

/* ---------------------------------------------------------- simulation */

typedef struct sim {
    mp_pipeline *p;
    mp_plan plan;
    mp_sched *s;
    size_t n, slots;
    mp_status *outcome; /* reported when the module ends (default succeeded) */
    int64_t *dur;       /* ticks (default 1) */
    int64_t now;
    size_t *run; /* running modules */
    int64_t *end;
    size_t nrun;
    size_t *order; /* start order */
    size_t norder;
    int64_t *start_at, *end_at;
    const char **reason; /* from take_settled */
    int *settles;
    size_t peak;
    bool oracle; /* check that nothing startable is left waiting */
    void (*check)(struct sim *, size_t starting);
} sim;

static void sim_init(sim *x, mp_pipeline *p, const mp_filters *f, mp_on_failure on_failure,
                     size_t slots, const int64_t *expected)
{
    memset(x, 0, sizeof(*x));
    x->p = p;
    assert_int_equal(mp__plan_build(p, f, &x->plan, NULL), 0);
    x->n = p->modules.n;
    x->slots = slots;
    size_t n1 = x->n ? x->n : 1;
    x->outcome = calloc(n1, sizeof(*x->outcome));
    x->dur = calloc(n1, sizeof(*x->dur));
    x->run = calloc(n1, sizeof(*x->run));
    x->end = calloc(n1, sizeof(*x->end));
    x->order = calloc(n1, sizeof(*x->order));
    x->start_at = calloc(n1, sizeof(*x->start_at));
    x->end_at = calloc(n1, sizeof(*x->end_at));
    x->reason = calloc(n1, sizeof(*x->reason));
    x->settles = calloc(n1, sizeof(*x->settles));
    for (size_t i = 0; i < x->n; i++) {
        x->outcome[i] = MP_STATUS_SUCCEEDED;
        x->dur[i] = 1;
        x->start_at[i] = x->end_at[i] = -1;
    }
    mp_sched_opts o = {.on_failure = on_failure, .expected_ms = expected};
    x->s = mp__sched_new(p, &x->plan, &o);
    assert_non_null(x->s);
}

static void sim_release(sim *x)
{
    mp__sched_free(x->s);
    mp__plan_release(&x->plan);
    free(x->outcome);
    free(x->dur);
    free(x->run);
    free(x->end);
    free(x->order);
    free(x->start_at);
    free(x->end_at);
    free(x->reason);
    free(x->settles);
}

static void set_outcome(sim *x, const char *name, mp_status st, int64_t dur)
{
    size_t i = idx(x->p, name);
    x->outcome[i] = st;
    if (dur > 0) x->dur[i] = dur;
}

static void collect(sim *x)
{
    size_t k;
    const mp_settled *st = mp__sched_take_settled(x->s, &k);
    for (size_t j = 0; j < k; j++) {
        size_t i = st[j].module;
        assert_true(i < x->n);
        assert_int_equal(x->settles[i], 0);
        assert_int_equal(x->start_at[i], -1); /* settled modules never ran */
        assert_int_equal(mp__sched_status(x->s, i), st[j].status);
        assert_non_null(st[j].reason);
        x->settles[i]++;
        x->reason[i] = st[j].reason;
        x->end_at[i] = x->now;
    }
}

static bool satisfied(mp_status s)
{
    return s == MP_STATUS_SUCCEEDED || s == MP_STATUS_IGNORED_FAILURE;
}

/* Nothing started although slots are free: no pending module may be
 * ready and unconstrained (no lost wake-up). Exclusive modules excluded
 * from pipelines that use the oracle. */
static void check_nothing_startable(sim *x)
{
    for (size_t i = 0; i < x->n; i++) {
        const mp_module *m = x->p->modules.v[i];
        if (x->plan.entries[i].state != MP_PLAN_RUN ||
            mp__sched_status(x->s, i) != MP_STATUS_PENDING)
            continue;
        bool ready = true;
        for (size_t k = 0; k < m->deps.n && ready; k++) {
            mp_status d = mp__sched_status(x->s, m->deps.v[k]);
            ready = m->always_run ? mp__status_terminal(d) : satisfied(d);
        }
        for (size_t k = 0; k < m->afters.n && ready; k++)
            ready = x->plan.entries[m->afters.v[k]].state == MP_PLAN_EXCLUDED ||
                    mp__status_terminal(mp__sched_status(x->s, m->afters.v[k]));
        if (!ready) continue;
        size_t in_group = 0;
        long limit = -1;
        for (size_t g = 0; g < x->p->options.concurrency_groups.n; g++)
            if (m->concurrency_group.s &&
                strcmp(x->p->options.concurrency_groups.v[g].key.s, m->concurrency_group.s) == 0)
                limit = strtol(x->p->options.concurrency_groups.v[g].value.s, NULL, 10);
        bool blocked = false;
        for (size_t r = 0; r < x->nrun && !blocked; r++) {
            const mp_module *o = x->p->modules.v[x->run[r]];
            for (size_t a = 0; a < m->not_in_parallel.n; a++)
                for (size_t b = 0; b < o->not_in_parallel.n; b++)
                    if (strcmp(m->not_in_parallel.v[a].s, o->not_in_parallel.v[b].s) == 0)
                        blocked = true;
            if (m->concurrency_group.s && o->concurrency_group.s &&
                strcmp(m->concurrency_group.s, o->concurrency_group.s) == 0)
                in_group++;
        }
        if (limit >= 0 && (long)in_group >= limit) blocked = true;
        if (!blocked) fail_msg("%s is ready and unconstrained but was not started", m->name);
    }
}

/* Start what the scheduler gives, then end the running module that ends
 * first (ties: lowest index), until the scheduler says finished. */
static void sim_run(sim *x)
{
    collect(x);
    size_t guard = 0;
    while (!mp__sched_finished(x->s)) {
        assert_true(++guard < 10 * x->n + 100);
        long i;
        while (x->nrun < x->slots && (i = mp__sched_next(x->s)) >= 0) {
            size_t u = (size_t)i;
            assert_int_equal(mp__sched_status(x->s, u), MP_STATUS_RUNNING);
            assert_int_equal(x->start_at[u], -1);
            assert_int_equal(x->settles[u], 0);
            assert_int_equal(x->plan.entries[u].state, MP_PLAN_RUN);
            if (x->check) x->check(x, u);
            x->order[x->norder++] = u;
            x->start_at[u] = x->now;
            x->run[x->nrun] = u;
            x->end[x->nrun++] = x->now + x->dur[u];
            if (x->nrun > x->peak) x->peak = x->nrun;
        }
        if (x->oracle && x->nrun < x->slots) check_nothing_startable(x);
        collect(x);
        if (mp__sched_finished(x->s)) break;
        if (x->nrun == 0) fail_msg("stuck: nothing runs and the run is not finished");
        if (mp__sched_stopping(x->s)) { /* the engine cancels what runs */
            bool cancelled = false;
            for (size_t r = 0; r < x->nrun;) {
                size_t u = x->run[r];
                if (x->p->modules.v[u]->always_run) {
                    r++;
                    continue;
                }
                x->run[r] = x->run[--x->nrun];
                x->end[r] = x->end[x->nrun];
                x->end_at[u] = x->now;
                mp__sched_done(x->s, u, MP_STATUS_CANCELLED);
                collect(x);
                cancelled = true;
            }
            if (cancelled) continue;
        }
        size_t best = 0;
        for (size_t r = 1; r < x->nrun; r++)
            if (x->end[r] < x->end[best] || (x->end[r] == x->end[best] && x->run[r] < x->run[best]))
                best = r;
        size_t u = x->run[best];
        x->now = x->end[best];
        x->run[best] = x->run[--x->nrun];
        x->end[best] = x->end[x->nrun];
        x->end_at[u] = x->now;
        mp__sched_done(x->s, u, x->outcome[u]);
        collect(x);
    }
    assert_int_equal(x->nrun, 0);
    for (size_t i = 0; i < x->n; i++) {
        mp_status st = mp__sched_status(x->s, i);
        if (x->plan.entries[i].state == MP_PLAN_EXCLUDED)
            assert_int_equal(st, MP_STATUS_PENDING);
        else
            assert_true(mp__status_terminal(st));
    }
}

static void expect(sim *x, const char *name, mp_status st, const char *reason)
{
    size_t i = idx(x->p, name);
    mp_status got = mp__sched_status(x->s, i);
    if (got != st)
        fail_msg("%s: status %s, expected %s", name, mp__status_name(got), mp__status_name(st));
    if (reason) {
        if (!x->reason[i]) fail_msg("%s: no settle reason, expected \"%s\"", name, reason);
        assert_string_equal(x->reason[i], reason);
    } else if (x->reason[i]) {
        fail_msg("%s: settled (\"%s\") but expected to run", name, x->reason[i]);
    }
}

static void expect_ran(sim *x, const char *name, mp_status st)
{
    expect(x, name, st, NULL);
    assert_true(x->start_at[idx(x->p, name)] >= 0);
}

/* ------------------------------------------------------ status outcomes */

/*
 * One slot; the priorities make the order: ok, ign, sk, and what they free
 * (critical) run before bad (high), then the rest (normal/low).
 *   ok                    succeeds
 *   ign (ignore_failure)  ends ignored_failure; after_ign depends on it
 *   sk                    ends skipped (skip_if); dep_sk <- sk, dep_sk2 <- dep_sk
 *   bad                   fails; down1 <- bad, down2 <- down1
 *   cleanup (always_run)  <- down2;  post_cleanup <- cleanup
 *   other                 independent;  late_after: after [bad]
 *   both <- bad, sk       (failure beats skip)
 */
static mp_pipeline *outcome_pipeline(void)
{
    mp_pipeline *p = mp_pipeline_new("outcomes");
    mp_module_decl *d;
    mod(p, "ok")->proto.priority = MP_PRIORITY_CRITICAL;
    d = mod(p, "ign");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    d->proto.ignore_failure = true;
    d = mod(p, "after_ign");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    dep(p, d, "ign");
    mod(p, "sk")->proto.priority = MP_PRIORITY_CRITICAL;
    d = mod(p, "dep_sk");
    dep(p, d, "sk");
    d = mod(p, "dep_sk2");
    dep(p, d, "dep_sk");
    mod(p, "bad")->proto.priority = MP_PRIORITY_HIGH;
    d = mod(p, "down1");
    dep(p, d, "bad");
    d = mod(p, "down2");
    dep(p, d, "down1");
    d = mod(p, "cleanup");
    dep(p, d, "down2");
    d->proto.always_run = true;
    d = mod(p, "post_cleanup");
    dep(p, d, "cleanup");
    mod(p, "other")->proto.priority = MP_PRIORITY_LOW;
    d = mod(p, "late_after");
    fx_after(p, d, "bad", line_no++);
    d->proto.priority = MP_PRIORITY_LOW;
    d = mod(p, "both");
    dep(p, d, "bad");
    dep(p, d, "sk");
    validate(p);
    return p;
}

static void outcome_sim(sim *x, mp_pipeline *p, mp_on_failure of)
{
    sim_init(x, p, NULL, of, 1, NULL);
    set_outcome(x, "ign", MP_STATUS_IGNORED_FAILURE, 0);
    set_outcome(x, "sk", MP_STATUS_SKIPPED, 0);
    set_outcome(x, "bad", MP_STATUS_FAILED, 0);
    sim_run(x);
}

static void test_outcomes_stop(void **state)
{
    (void)state;
    mp_pipeline *p = outcome_pipeline();
    sim x;
    outcome_sim(&x, p, MP_ON_FAILURE_STOP);
    const char *stop = "run stopped after \"bad\" failed";
    assert_true(mp__sched_stopping(x.s));
    expect_ran(&x, "ok", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "ign", MP_STATUS_IGNORED_FAILURE);
    expect_ran(&x, "after_ign", MP_STATUS_SUCCEEDED); /* ignored_failure satisfies */
    expect_ran(&x, "sk", MP_STATUS_SKIPPED);
    expect(&x, "dep_sk", MP_STATUS_SKIPPED, "dependency \"sk\" was skipped");
    expect(&x, "dep_sk2", MP_STATUS_SKIPPED, "dependency \"dep_sk\" was skipped");
    expect_ran(&x, "bad", MP_STATUS_FAILED);
    expect(&x, "down1", MP_STATUS_DEPENDENCY_FAILED, "dependency \"bad\" failed");
    expect(&x, "down2", MP_STATUS_DEPENDENCY_FAILED,
           "dependency \"down1\" did not run (upstream failure)");
    expect(&x, "both", MP_STATUS_DEPENDENCY_FAILED, "dependency \"bad\" failed");
    expect_ran(&x, "cleanup", MP_STATUS_SUCCEEDED); /* always_run, during the stop */
    expect(&x, "post_cleanup", MP_STATUS_CANCELLED, stop);
    expect(&x, "other", MP_STATUS_CANCELLED, stop);
    expect(&x, "late_after", MP_STATUS_CANCELLED, stop); /* after is not downstream */
    /* cleanup started after bad ended */
    assert_true(x.start_at[idx(p, "cleanup")] >= x.end_at[idx(p, "bad")]);
    sim_release(&x);
    mp_pipeline_free(p);
}

static void test_outcomes_continue(void **state)
{
    (void)state;
    mp_pipeline *p = outcome_pipeline();
    sim x;
    outcome_sim(&x, p, MP_ON_FAILURE_CONTINUE);
    assert_false(mp__sched_stopping(x.s));
    expect_ran(&x, "ok", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "ign", MP_STATUS_IGNORED_FAILURE);
    expect_ran(&x, "after_ign", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "sk", MP_STATUS_SKIPPED);
    expect(&x, "dep_sk", MP_STATUS_SKIPPED, "dependency \"sk\" was skipped");
    expect(&x, "dep_sk2", MP_STATUS_SKIPPED, "dependency \"dep_sk\" was skipped");
    expect_ran(&x, "bad", MP_STATUS_FAILED);
    expect(&x, "down1", MP_STATUS_DEPENDENCY_FAILED, "dependency \"bad\" failed");
    expect(&x, "down2", MP_STATUS_DEPENDENCY_FAILED,
           "dependency \"down1\" did not run (upstream failure)");
    expect(&x, "both", MP_STATUS_DEPENDENCY_FAILED, "dependency \"bad\" failed");
    expect_ran(&x, "cleanup", MP_STATUS_SUCCEEDED); /* always_run after a failure */
    expect_ran(&x, "post_cleanup", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "other", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "late_after", MP_STATUS_SUCCEEDED);
    assert_true(x.start_at[idx(p, "late_after")] >= x.end_at[idx(p, "bad")]);
    sim_release(&x);
    mp_pipeline_free(p);
}

/*
 * Two slots: slow (10 ticks) and t (times out at tick 2) run together.
 *   slow <- after_slow;  slow <- guard (always_run);  t <- t_down;  t <- t_always (always_run)
 * stop: slow is cancelled by the engine, after_slow cancelled at once,
 * guard and t_always run. continue: after_slow and guard run after slow.
 */
static mp_pipeline *timeout_pipeline(void)
{
    mp_pipeline *p = mp_pipeline_new("timeouts");
    mp_module_decl *d;
    mod(p, "slow")->proto.priority = MP_PRIORITY_HIGH;
    mod(p, "t")->proto.priority = MP_PRIORITY_HIGH;
    d = mod(p, "after_slow");
    dep(p, d, "slow");
    d = mod(p, "guard");
    dep(p, d, "slow");
    d->proto.always_run = true;
    d = mod(p, "t_down");
    dep(p, d, "t");
    d = mod(p, "t_always");
    dep(p, d, "t");
    d->proto.always_run = true;
    d = mod(p, "t_always_down");
    dep(p, d, "t_always");
    validate(p);
    return p;
}

static void test_timeout_cancel_stop(void **state)
{
    (void)state;
    mp_pipeline *p = timeout_pipeline();
    sim x;
    sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 2, NULL);
    set_outcome(&x, "slow", MP_STATUS_SUCCEEDED, 10);
    set_outcome(&x, "t", MP_STATUS_TIMED_OUT, 2);
    sim_run(&x);
    const char *stop = "run stopped after \"t\" timed out";
    expect_ran(&x, "t", MP_STATUS_TIMED_OUT);
    expect_ran(&x, "slow", MP_STATUS_CANCELLED); /* cancelled by the engine while running */
    assert_int_equal(x.end_at[idx(p, "slow")], 2);
    expect(&x, "after_slow", MP_STATUS_CANCELLED, stop);
    expect_ran(&x, "guard", MP_STATUS_SUCCEEDED);
    expect(&x, "t_down", MP_STATUS_DEPENDENCY_FAILED, "dependency \"t\" timed out");
    expect_ran(&x, "t_always", MP_STATUS_SUCCEEDED);
    /* behind an always_run module the stop cancels (it was not downstream) */
    expect(&x, "t_always_down", MP_STATUS_CANCELLED, stop);
    sim_release(&x);
    mp_pipeline_free(p);
}

static void test_timeout_continue(void **state)
{
    (void)state;
    mp_pipeline *p = timeout_pipeline();
    sim x;
    sim_init(&x, p, NULL, MP_ON_FAILURE_CONTINUE, 2, NULL);
    set_outcome(&x, "slow", MP_STATUS_SUCCEEDED, 10);
    set_outcome(&x, "t", MP_STATUS_TIMED_OUT, 2);
    sim_run(&x);
    expect_ran(&x, "t", MP_STATUS_TIMED_OUT);
    expect_ran(&x, "slow", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "after_slow", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "guard", MP_STATUS_SUCCEEDED);
    expect(&x, "t_down", MP_STATUS_DEPENDENCY_FAILED, "dependency \"t\" timed out");
    expect_ran(&x, "t_always", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "t_always_down", MP_STATUS_SUCCEEDED);
    sim_release(&x);
    mp_pipeline_free(p);
}

/* A dependency cancelled (not by a stop) and an always_run module whose
 * dependency was cancelled: driven by hand. */
static void test_cancelled_dependency(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mod(p, "a");
    dep(p, mod(p, "b"), "a");
    mp_module_decl *c = mod(p, "c");
    dep(p, c, "a");
    c->proto.always_run = true;
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched_opts o = {.on_failure = MP_ON_FAILURE_STOP};
    mp_sched *s = mp__sched_new(p, &plan, &o);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "a"));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "a"), MP_STATUS_CANCELLED);
    assert_false(mp__sched_stopping(s)); /* only failed / timed_out stop */
    size_t k;
    const mp_settled *st = mp__sched_take_settled(s, &k);
    assert_int_equal(k, 1);
    assert_int_equal(st[0].module, idx(p, "b"));
    assert_int_equal(st[0].status, MP_STATUS_DEPENDENCY_FAILED);
    assert_string_equal(st[0].reason, "dependency \"a\" was cancelled");
    assert_int_equal(mp__sched_next(s), (long)idx(p, "c"));
    assert_false(mp__sched_finished(s));
    mp__sched_done(s, idx(p, "c"), MP_STATUS_SUCCEEDED);
    assert_true(mp__sched_finished(s));
    st = mp__sched_take_settled(s, &k);
    assert_int_equal(k, 0);
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* -------------------------------------------------- plan skips, after */

static void test_plan_skip_and_category(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *d;
    mod(p, "build")->proto.category = fx_str(p, "build", line_no++);
    d = mod(p, "test");
    dep(p, d, "build");
    d->proto.category = fx_str(p, "test", line_no++);
    d = mod(p, "report");
    dep(p, d, "test");
    d->proto.category = fx_str(p, "test", line_no++);
    mod(p, "lint")->proto.category = fx_str(p, "test", line_no++);
    validate(p);

    /* --skip-module build: the plan cascades; reasons come through take_settled */
    const char *skip[] = {"build", NULL};
    mp_filters f = {.skip_modules = skip};
    sim x;
    sim_init(&x, p, &f, MP_ON_FAILURE_STOP, 4, NULL);
    sim_run(&x);
    expect(&x, "build", MP_STATUS_SKIPPED, "skipped by --skip-module");
    expect(&x, "test", MP_STATUS_SKIPPED, "dependency \"build\" is skipped");
    expect(&x, "report", MP_STATUS_SKIPPED, "dependency \"test\" is skipped");
    expect_ran(&x, "lint", MP_STATUS_SUCCEEDED);
    sim_release(&x);

    /* --category test: build is skipped by the filter, test still runs */
    const char *cats[] = {"test", NULL};
    mp_filters g = {.categories = cats};
    sim_init(&x, p, &g, MP_ON_FAILURE_STOP, 4, NULL);
    sim_run(&x);
    expect(&x, "build", MP_STATUS_SKIPPED, "not in category \"test\"");
    expect_ran(&x, "test", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "report", MP_STATUS_SUCCEEDED);
    expect_ran(&x, "lint", MP_STATUS_SUCCEEDED);
    sim_release(&x);
    mp_pipeline_free(p);
}

/* docs after [build]; with --module docs build is not part of the run and
 * docs does not wait for it; otherwise docs waits, whatever build ends as. */
static void test_after_excluded_and_present(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mod(p, "build");
    mp_module_decl *d = mod(p, "docs");
    fx_after(p, d, "build", line_no++);
    d->proto.priority = MP_PRIORITY_HIGH; /* would start first if it could */
    validate(p);

    const char *only[] = {"docs", NULL};
    mp_filters f = {.modules = only};
    sim x;
    sim_init(&x, p, &f, MP_ON_FAILURE_STOP, 4, NULL);
    assert_int_equal(x.plan.entries[idx(p, "build")].state, MP_PLAN_EXCLUDED);
    sim_run(&x);
    expect_ran(&x, "docs", MP_STATUS_SUCCEEDED);
    assert_int_equal(x.start_at[idx(p, "docs")], 0);
    assert_int_equal(x.start_at[idx(p, "build")], -1);
    assert_int_equal(mp__sched_status(x.s, idx(p, "build")), MP_STATUS_PENDING);
    sim_release(&x);

    sim_init(&x, p, NULL, MP_ON_FAILURE_CONTINUE, 4, NULL);
    set_outcome(&x, "build", MP_STATUS_FAILED, 3);
    sim_run(&x);
    expect_ran(&x, "build", MP_STATUS_FAILED);
    expect_ran(&x, "docs", MP_STATUS_SUCCEEDED); /* after never fails with it */
    assert_int_equal(x.start_at[idx(p, "docs")], 3);
    sim_release(&x);

    /* present but skipped by the plan: terminal at start, docs does not wait */
    const char *skip[] = {"build", NULL};
    mp_filters g = {.skip_modules = skip};
    sim_init(&x, p, &g, MP_ON_FAILURE_CONTINUE, 4, NULL);
    sim_run(&x);
    expect(&x, "build", MP_STATUS_SKIPPED, "skipped by --skip-module");
    expect_ran(&x, "docs", MP_STATUS_SUCCEEDED);
    sim_release(&x);
    mp_pipeline_free(p);
}

/* ---------------------------------------------------------------- order */

static void test_priority_one_slot(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mod(p, "a")->proto.priority = MP_PRIORITY_LOW;
    mod(p, "b")->proto.priority = MP_PRIORITY_NORMAL;
    mod(p, "c")->proto.priority = MP_PRIORITY_CRITICAL;
    mod(p, "d")->proto.priority = MP_PRIORITY_HIGH;
    mod(p, "e")->proto.priority = MP_PRIORITY_NORMAL;
    mod(p, "f")->proto.priority = MP_PRIORITY_CRITICAL;
    validate(p);
    sim x;
    sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 1, NULL);
    sim_run(&x);
    const char *want[] = {"c", "f", "d", "b", "e", "a"};
    assert_int_equal(x.norder, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(p->modules.v[x.order[i]]->name, want[i]);
    sim_release(&x);
    mp_pipeline_free(p);
}

/*
 *   a -> b -> c          (1000 each: path 3000 from a)
 *   x                    (2500)
 *   y -> z (after)       (1000 + 1000 = 2000 from y)
 *   w                    (expected unknown in a NULL array run: 1000)
 * One slot: a (3000), x (2500), b (2000) ties y (2000) -> b by name, ...
 */
static void test_critical_path(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mod(p, "a");
    dep(p, mod(p, "b"), "a");
    dep(p, mod(p, "c"), "b");
    mod(p, "w");
    mod(p, "x");
    mod(p, "y");
    fx_after(p, mod(p, "z"), "y", line_no++);
    validate(p);
    int64_t *exp = calloc(p->modules.n, sizeof(int64_t));
    for (size_t i = 0; i < p->modules.n; i++)
        exp[i] = 1000;
    exp[idx(p, "x")] = 2500;
    sim x;
    sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 1, exp);
    assert_int_equal(mp__sched_critical_ms(x.s, idx(p, "a")), 3000);
    assert_int_equal(mp__sched_critical_ms(x.s, idx(p, "b")), 2000);
    assert_int_equal(mp__sched_critical_ms(x.s, idx(p, "x")), 2500);
    assert_int_equal(mp__sched_critical_ms(x.s, idx(p, "y")), 2000);
    assert_int_equal(mp__sched_critical_ms(x.s, idx(p, "z")), 1000);
    sim_run(&x);
    const char *want[] = {"a", "x", "b", "y", "c", "w", "z"};
    assert_int_equal(x.norder, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(p->modules.v[x.order[i]]->name, want[i]);
    sim_release(&x);

    /* priority beats the critical path; NULL expected = 1000 each */
    mp_module_decl *wd = p->decls.v[3];
    assert_string_equal(wd->proto.name, "w");
    wd->proto.priority = MP_PRIORITY_HIGH;
    validate(p);
    sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 1, NULL);
    assert_int_equal(mp__sched_critical_ms(x.s, idx(p, "x")), 1000);
    sim_run(&x);
    const char *want2[] = {"w", "a", "b", "y", "c", "x", "z"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(p->modules.v[x.order[i]]->name, want2[i]);
    sim_release(&x);
    free(exp);
    mp_pipeline_free(p);
}

/* ---------------------------------------------------------- constraints */

static bool share_key(const mp_module *a, const mp_module *b)
{
    for (size_t i = 0; i < a->not_in_parallel.n; i++)
        for (size_t j = 0; j < b->not_in_parallel.n; j++)
            if (strcmp(a->not_in_parallel.v[i].s, b->not_in_parallel.v[j].s) == 0) return true;
    return false;
}

static void check_constraints(sim *x, size_t u)
{
    const mp_module *m = x->p->modules.v[u];
    size_t same_group = 1;
    if (m->exclusive && x->nrun) fail_msg("exclusive %s started while others run", m->name);
    for (size_t r = 0; r < x->nrun; r++) {
        const mp_module *o = x->p->modules.v[x->run[r]];
        if (o->exclusive) fail_msg("%s started while exclusive %s runs", m->name, o->name);
        if (share_key(m, o)) fail_msg("%s and %s share a key and overlap", m->name, o->name);
        if (m->concurrency_group.s && o->concurrency_group.s &&
            strcmp(m->concurrency_group.s, o->concurrency_group.s) == 0)
            same_group++;
    }
    if (m->concurrency_group.s) {
        for (size_t g = 0; g < x->p->options.concurrency_groups.n; g++) {
            const mp_kv *kv = &x->p->options.concurrency_groups.v[g];
            if (strcmp(kv->key.s, m->concurrency_group.s) == 0 &&
                same_group > (size_t)strtol(kv->value.s, NULL, 10))
                fail_msg("group %s over its limit (%zu)", kv->key.s, same_group);
        }
    }
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_not_in_parallel(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20; round++) {
        mp_pipeline *p = mp_pipeline_new(NULL);
        const char *keys[] = {"db", "net", "disk"};
        char name[32];
        for (int i = 0; i < 40; i++) {
            snprintf(name, sizeof(name), "m%02d", i);
            mp_module_decl *d = mod(p, name);
            uint64_t r = rnd();
            if (r % 3) key(p, d, keys[(r >> 8) % 3]);
            if ((r >> 16) % 4 == 0) key(p, d, keys[(r >> 24) % 3]); /* maybe a duplicate */
            d->proto.priority = (mp_priority)((r >> 32) % 4);
            if (i > 3 && (r >> 40) % 3 == 0) {
                snprintf(name, sizeof(name), "m%02d", (int)((r >> 44) % (uint64_t)i));
                dep(p, d, name);
            }
        }
        validate(p);
        sim x;
        sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 8, NULL);
        x.check = check_constraints;
        x.oracle = true;
        for (size_t i = 0; i < x.n; i++)
            x.dur[i] = 1 + (int64_t)(rnd() % 7);
        sim_run(&x);
        for (size_t i = 0; i < x.n; i++)
            assert_int_equal(mp__sched_status(x.s, i), MP_STATUS_SUCCEEDED);
        assert_true(x.peak > 1);
        /* and, checked against the finished schedule, no two holders of a key overlap */
        for (size_t i = 0; i < x.n; i++)
            for (size_t j = i + 1; j < x.n; j++)
                if (share_key(p->modules.v[i], p->modules.v[j]))
                    assert_true(x.end_at[i] <= x.start_at[j] || x.end_at[j] <= x.start_at[i]);
        sim_release(&x);
        mp_pipeline_free(p);
    }
}

static void test_exclusive_runs_alone(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    char name[32];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "m%02d", i);
        mod(p, name);
    }
    mp_module_decl *e = mod(p, "migrate");
    e->proto.exclusive = true;
    dep(p, e, "m00");
    mp_module_decl *e2 = mod(p, "vacuum");
    e2->proto.exclusive = true;
    e2->proto.priority = MP_PRIORITY_LOW;
    dep(p, mod(p, "z_after_migrate"), "migrate");
    validate(p);
    sim x;
    sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 4, NULL);
    x.check = check_constraints;
    for (size_t i = 0; i < x.n; i++)
        x.dur[i] = 1 + (int64_t)(i % 3);
    sim_run(&x);
    size_t mi = idx(p, "migrate"), vi = idx(p, "vacuum");
    for (size_t i = 0; i < x.n; i++) {
        assert_int_equal(mp__sched_status(x.s, i), MP_STATUS_SUCCEEDED);
        if (i == mi || i == vi) continue;
        assert_true(x.end_at[i] <= x.start_at[mi] || x.start_at[i] >= x.end_at[mi]);
        assert_true(x.end_at[i] <= x.start_at[vi] || x.start_at[i] >= x.end_at[vi]);
    }
    /* migrate (critical path 2000) outranks the ready 1000s: they wait for it */
    assert_true(x.peak > 1);
    assert_true(x.start_at[mi] < x.start_at[idx(p, "m11")]);
    /* vacuum (low) runs once nothing ranks above it */
    assert_int_equal(x.order[x.norder - 1], vi);
    sim_release(&x);
    mp_pipeline_free(p);
}

static void test_concurrency_group(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    group(p, "db", "2");
    group(p, "one", "1");
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "g%02d", i);
        mp_module_decl *d = mod(p, name);
        d->proto.concurrency_group = fx_str(p, i < 7 ? "db" : "one", line_no++);
        d->proto.priority = MP_PRIORITY_HIGH;
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "free%d", i);
        mod(p, name);
    }
    validate(p);
    sim x;
    sim_init(&x, p, NULL, MP_ON_FAILURE_STOP, 8, NULL);
    x.check = check_constraints;
    x.oracle = true;
    for (size_t i = 0; i < x.n; i++)
        x.dur[i] = 2;
    sim_run(&x);
    /* at tick 0: two of db, one of "one", and five free modules fill 8 slots */
    size_t db0 = 0, one0 = 0, free0 = 0;
    for (size_t i = 0; i < x.n; i++) {
        if (x.start_at[i] != 0) continue;
        const char *g = p->modules.v[i]->concurrency_group.s;
        if (!g)
            free0++;
        else if (strcmp(g, "db") == 0)
            db0++;
        else
            one0++;
    }
    assert_int_equal(db0, 2);
    assert_int_equal(one0, 1);
    assert_int_equal(free0, 5);
    /* 7 db modules two at a time, 2 ticks each: the last starts at tick 6 */
    int64_t last = 0;
    for (size_t i = 0; i < x.n; i++)
        if (p->modules.v[i]->concurrency_group.s &&
            strcmp(p->modules.v[i]->concurrency_group.s, "db") == 0 && x.start_at[i] > last)
            last = x.start_at[i];
    assert_int_equal(last, 6);
    sim_release(&x);
    mp_pipeline_free(p);
}

/* A blocked module does not hold back lower ones, and starts as soon as
 * its resource frees. Driven by hand. */
static void test_blocked_does_not_block(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    group(p, "g", "1");
    mp_module_decl *d = mod(p, "holder");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    key(p, d, "k");
    d = mod(p, "waits_key");
    d->proto.priority = MP_PRIORITY_HIGH;
    key(p, d, "k");
    d = mod(p, "g_holder");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    d->proto.concurrency_group = fx_str(p, "g", line_no++);
    d = mod(p, "waits_group");
    d->proto.priority = MP_PRIORITY_HIGH;
    d->proto.concurrency_group = fx_str(p, "g", line_no++);
    mod(p, "low")->proto.priority = MP_PRIORITY_LOW;
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched *s = mp__sched_new(p, &plan, NULL);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "g_holder"));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "holder"));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "low"));
    assert_int_equal(mp__sched_next(s), -1);
    assert_int_equal(mp__sched_status(s, idx(p, "waits_key")), MP_STATUS_PENDING);
    mp__sched_done(s, idx(p, "holder"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "waits_key"));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "g_holder"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "waits_group"));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "waits_group"), MP_STATUS_SUCCEEDED);
    mp__sched_done(s, idx(p, "low"), MP_STATUS_SUCCEEDED);
    assert_false(mp__sched_finished(s));
    mp__sched_done(s, idx(p, "waits_key"), MP_STATUS_SUCCEEDED);
    assert_true(mp__sched_finished(s));
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* Several units of a group free before the engine asks again: every
 * waiting member that fits starts, not just one per class. */
static void test_group_frees_several(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    group(p, "g", "3");
    char name[32];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "g%d", i);
        mod(p, name)->proto.concurrency_group = fx_str(p, "g", line_no++);
    }
    mp_module_decl *d = mod(p, "kg"); /* another class on the same group */
    d->proto.concurrency_group = fx_str(p, "g", line_no++);
    key(p, d, "k");
    d->proto.priority = MP_PRIORITY_LOW;
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched *s = mp__sched_new(p, &plan, NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mp__sched_next(s), (long)idx(p, (const char *[]){"g0", "g1", "g2"}[i]));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "g0"), MP_STATUS_SUCCEEDED);
    mp__sched_done(s, idx(p, "g1"), MP_STATUS_SUCCEEDED);
    mp__sched_done(s, idx(p, "g2"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "g3"));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "g4"));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "g5"));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "g4"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "kg"));
    mp__sched_done(s, idx(p, "g3"), MP_STATUS_SUCCEEDED);
    mp__sched_done(s, idx(p, "g5"), MP_STATUS_SUCCEEDED);
    mp__sched_done(s, idx(p, "kg"), MP_STATUS_SUCCEEDED);
    assert_true(mp__sched_finished(s));
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* Parked modules keep their order when a better one joins a waiting
 * class, and a stop does not strand an always_run module behind a
 * cancelled one. Driven by hand. */
static void test_parked_order_and_stop(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *d = mod(p, "h");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    key(p, d, "k");
    mod(p, "pre")->proto.priority = MP_PRIORITY_HIGH;
    d = mod(p, "a_high");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    key(p, d, "k");
    dep(p, d, "pre");
    d = mod(p, "a_low");
    d->proto.priority = MP_PRIORITY_LOW;
    key(p, d, "k");
    d = mod(p, "b"); /* another class waiting on k */
    key(p, d, "k");
    key(p, d, "k2");
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched *s = mp__sched_new(p, &plan, NULL);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "h"));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "pre"));
    assert_int_equal(mp__sched_next(s), -1); /* b and a_low wait for k */
    mp__sched_done(s, idx(p, "pre"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), -1); /* a_high waits for k too */
    mp__sched_done(s, idx(p, "h"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "a_high"));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "a_high"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "b"));
    mp__sched_done(s, idx(p, "b"), MP_STATUS_SUCCEEDED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "a_low"));
    mp__sched_done(s, idx(p, "a_low"), MP_STATUS_SUCCEEDED);
    assert_true(mp__sched_finished(s));
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);

    /* x woken from k when the stop comes; y (always_run) waits behind it */
    p = mp_pipeline_new(NULL);
    d = mod(p, "h");
    d->proto.priority = MP_PRIORITY_CRITICAL;
    key(p, d, "k");
    key(p, mod(p, "x"), "k");
    d = mod(p, "y");
    d->proto.always_run = true;
    d->proto.priority = MP_PRIORITY_LOW;
    key(p, d, "k");
    validate(p);
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    s = mp__sched_new(p, &plan, NULL);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "h"));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_done(s, idx(p, "h"), MP_STATUS_SUCCEEDED);
    mp__sched_stop(s);
    assert_int_equal(mp__sched_status(s, idx(p, "x")), MP_STATUS_CANCELLED);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "y"));
    mp__sched_done(s, idx(p, "y"), MP_STATUS_SUCCEEDED);
    assert_true(mp__sched_finished(s));
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* Modules with several keys and groups at once, random graphs: nothing is
 * lost (the oracle: whenever slots are free, no pending module is ready
 * and unconstrained) and no constraint is broken. */
static void test_constraint_stress(void **state)
{
    (void)state;
    rng_state = 12345;
    for (int round = 0; round < 30; round++) {
        mp_pipeline *p = mp_pipeline_new(NULL);
        group(p, "g1", "2");
        group(p, "g2", "3");
        const char *keys[] = {"a", "b", "c", "d"};
        char name[32];
        for (int i = 0; i < 60; i++) {
            snprintf(name, sizeof(name), "m%02d", i);
            mp_module_decl *d = mod(p, name);
            uint64_t r = rnd();
            for (int k = 0; k < 4; k++)
                if ((r >> (k * 4)) % 4 == 0) key(p, d, keys[k]);
            if ((r >> 20) % 3 == 1) d->proto.concurrency_group = fx_str(p, "g1", line_no++);
            if ((r >> 20) % 3 == 2) d->proto.concurrency_group = fx_str(p, "g2", line_no++);
            d->proto.priority = (mp_priority)((r >> 24) % 4);
            for (int k = 0; k < 2 && i > 0; k++)
                if ((r >> (30 + k * 8)) % 4 == 0) {
                    snprintf(name, sizeof(name), "m%02d", (int)((r >> (34 + k * 8)) % (uint64_t)i));
                    if ((r >> (31 + k)) & 1)
                        dep(p, d, name);
                    else
                        fx_after(p, d, name, line_no++);
                }
        }
        validate(p);
        sim x;
        sim_init(&x, p, NULL, MP_ON_FAILURE_CONTINUE, 1 + (size_t)(rnd() % 10), NULL);
        x.check = check_constraints;
        x.oracle = true;
        for (size_t i = 0; i < x.n; i++)
            x.dur[i] = 1 + (int64_t)(rnd() % 5);
        sim_run(&x);
        for (size_t i = 0; i < x.n; i++)
            assert_int_equal(mp__sched_status(x.s, i), MP_STATUS_SUCCEEDED);
        sim_release(&x);

        /* the same with failures, always_run modules and both modes:
         * nothing stuck, nothing startable left waiting, constraints kept */
        for (size_t i = 0; i < p->decls.n; i++)
            p->decls.v[i]->proto.always_run = rnd() % 8 == 0;
        validate(p);
        for (int mode = 0; mode < 2; mode++) {
            sim_init(&x, p, NULL, mode ? MP_ON_FAILURE_STOP : MP_ON_FAILURE_CONTINUE,
                     1 + (size_t)(rnd() % 10), NULL);
            x.check = check_constraints;
            x.oracle = true;
            for (size_t i = 0; i < x.n; i++) {
                x.dur[i] = 1 + (int64_t)(rnd() % 5);
                uint64_t r = rnd() % 20;
                x.outcome[i] = r == 0   ? MP_STATUS_FAILED
                               : r == 1 ? MP_STATUS_SKIPPED
                                        : MP_STATUS_SUCCEEDED;
            }
            sim_run(&x);
            for (size_t i = 0; i < x.n; i++) {
                mp_status st = mp__sched_status(x.s, i);
                if (x.start_at[i] < 0) {
                    assert_true(st == MP_STATUS_SKIPPED || st == MP_STATUS_DEPENDENCY_FAILED ||
                                st == MP_STATUS_CANCELLED);
                    assert_false(p->modules.v[i]->always_run); /* always_run always ran */
                }
            }
            sim_release(&x);
        }
        mp_pipeline_free(p);
    }
}

/* ------------------------------------------------------------- signals */

/*
 *   a fails (continue mode); b <- a, c;  c runs long;  d waits for c;
 *   e (always_run) <- c;  f independent, queued (one slot busy)
 */
static void test_signal_stop(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *d;
    mod(p, "a")->proto.priority = MP_PRIORITY_CRITICAL;
    mod(p, "c")->proto.priority = MP_PRIORITY_HIGH;
    d = mod(p, "b");
    dep(p, d, "a");
    dep(p, d, "c");
    dep(p, mod(p, "d"), "c");
    d = mod(p, "e");
    dep(p, d, "c");
    d->proto.always_run = true;
    mod(p, "f")->proto.priority = MP_PRIORITY_LOW;
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched_opts o = {.on_failure = MP_ON_FAILURE_CONTINUE};
    mp_sched *s = mp__sched_new(p, &plan, &o);
    size_t a = idx(p, "a"), c = idx(p, "c");
    assert_int_equal(mp__sched_next(s), (long)a);
    assert_int_equal(mp__sched_next(s), (long)c);
    mp__sched_done(s, a, MP_STATUS_FAILED);
    assert_false(mp__sched_stopping(s));
    size_t k;
    mp__sched_take_settled(s, &k);
    assert_int_equal(k, 0); /* b still waits for c */

    mp__sched_stop(s);
    assert_true(mp__sched_stopping(s));
    const mp_settled *st = mp__sched_take_settled(s, &k);
    assert_int_equal(k, 3);
    const char *want_reason[3] = {0};
    mp_status want_status[3] = {0};
    for (size_t j = 0; j < k; j++) {
        const char *n = p->modules.v[st[j].module]->name;
        size_t w = strcmp(n, "b") == 0 ? 0 : strcmp(n, "d") == 0 ? 1 : 2;
        assert_true(w < 2 || strcmp(n, "f") == 0);
        want_status[w] = st[j].status;
        want_reason[w] = st[j].reason;
    }
    assert_int_equal(want_status[0], MP_STATUS_DEPENDENCY_FAILED);
    assert_string_equal(want_reason[0], "dependency \"a\" failed");
    assert_int_equal(want_status[1], MP_STATUS_CANCELLED);
    assert_string_equal(want_reason[1], "run interrupted");
    assert_int_equal(want_status[2], MP_STATUS_CANCELLED);
    assert_string_equal(want_reason[2], "run interrupted");
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_stop(s); /* twice is harmless */
    mp__sched_take_settled(s, &k);
    assert_int_equal(k, 0);
    mp__sched_done(s, c, MP_STATUS_CANCELLED); /* the engine stopped it */
    assert_false(mp__sched_finished(s));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "e")); /* always_run still runs */
    mp__sched_done(s, idx(p, "e"), MP_STATUS_SUCCEEDED);
    assert_true(mp__sched_finished(s));
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* A second request: always_run modules that have not started are
 * cancelled too; one already running is the engine's to stop. */
static void test_abort(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mod(p, "a")->proto.priority = MP_PRIORITY_HIGH;
    mp_module_decl *d = mod(p, "b");
    d->proto.always_run = true;
    d->proto.priority = MP_PRIORITY_CRITICAL;
    d = mod(p, "c");
    dep(p, d, "a");
    d->proto.always_run = true;
    dep(p, mod(p, "e"), "a");
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched *s = mp__sched_new(p, &plan, NULL);
    assert_int_equal(mp__sched_next(s), (long)idx(p, "b"));
    assert_int_equal(mp__sched_next(s), (long)idx(p, "a"));
    mp__sched_done(s, idx(p, "a"), MP_STATUS_FAILED); /* stops; c (always_run) ready */
    size_t k;
    const mp_settled *st = mp__sched_take_settled(s, &k);
    assert_int_equal(k, 1);
    assert_int_equal(st[0].module, idx(p, "e"));
    mp__sched_abort(s);
    st = mp__sched_take_settled(s, &k);
    assert_int_equal(k, 1);
    assert_int_equal(st[0].module, idx(p, "c"));
    assert_int_equal(st[0].status, MP_STATUS_CANCELLED);
    assert_string_equal(st[0].reason, "run interrupted");
    assert_int_equal(mp__sched_next(s), -1);
    assert_false(mp__sched_finished(s)); /* b still runs */
    mp__sched_done(s, idx(p, "b"), MP_STATUS_CANCELLED);
    assert_true(mp__sched_finished(s));
    mp__sched_abort(s); /* harmless when nothing waits */
    mp__sched_free(s);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* ---------------------------------------------------------------- misc */

static void test_status_helpers(void **state)
{
    (void)state;
    assert_string_equal(mp__status_name(MP_STATUS_DEPENDENCY_FAILED), "dependency_failed");
    assert_string_equal(mp__status_name(MP_STATUS_IGNORED_FAILURE), "ignored_failure");
    assert_string_equal(mp__status_name(MP_STATUS_TIMED_OUT), "timed_out");
    assert_false(mp__status_terminal(MP_STATUS_PENDING));
    assert_false(mp__status_terminal(MP_STATUS_RUNNING));
    assert_true(mp__status_terminal(MP_STATUS_CANCELLED));
    assert_true(mp__status_satisfies(MP_STATUS_IGNORED_FAILURE));
    assert_false(mp__status_satisfies(MP_STATUS_SKIPPED));
    assert_true(mp__status_is_failure(MP_STATUS_TIMED_OUT));
    assert_false(mp__status_is_failure(MP_STATUS_IGNORED_FAILURE));
    assert_false(mp__status_is_failure(MP_STATUS_SKIPPED));
    mp_result r;
    mp__result_init(&r);
    assert_int_equal(r.status, MP_STATUS_PENDING);
    assert_int_equal(r.exit_code, -1);
    assert_int_equal(r.instance, -1);
    assert_null(r.skip_reason);
}

static void test_empty_pipeline(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    mp_sched *s = mp__sched_new(p, &plan, NULL);
    assert_true(mp__sched_finished(s));
    assert_int_equal(mp__sched_next(s), -1);
    mp__sched_free(s);
    mp__sched_free(NULL);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* --------------------------------------------------------------- scale */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_100k_linear(void **state)
{
    (void)state;
    enum { N = 100000, EDGES = 5, SLOTS = 16 };
    rng_state = 0xdecafbadull;
    double t0 = now_s();
    mp_pipeline *p = mp_pipeline_new("big");
    char name[32];
    size_t edges = 0;
    for (size_t i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "m%06zu", i);
        mp_module_decl *d = mp__decl_add(p, name, fx_pos(1, 1));
        d->proto.run_kind = MP_RUN_SHELL;
        d->proto.run = (mp_pstr){.s = "true"};
        d->proto.priority = (mp_priority)(rnd() % 4);
        for (int k = 0; k < EDGES && i > 0; k++) {
            /* mostly near (a wide graph), sometimes far back (long paths) */
            size_t j = rnd() % 4 ? i - 1 - rnd() % (i < 2000 ? i : 2000) : rnd() % i;
            snprintf(name, sizeof(name), "m%06zu", j);
            MP_VEC_PUSH(p->arena, &d->proto.depends_on,
                        ((mp_pstr){.s = mp__arena_strdup(p->arena, name)}));
            edges++;
        }
    }
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    double t1 = now_s();

    size_t *ring = malloc(SLOTS * sizeof(size_t));
    size_t head = 0, count = 0, started = 0;
    mp_sched_opts o = {.on_failure = MP_ON_FAILURE_STOP};
    mp_sched *s = mp__sched_new(p, &plan, &o);
    while (!mp__sched_finished(s)) {
        long i;
        while (count < SLOTS && (i = mp__sched_next(s)) >= 0) {
            ring[(head + count++) % SLOTS] = (size_t)i;
            started++;
        }
        assert_true(count > 0);
        size_t u = ring[head];
        head = (head + 1) % SLOTS;
        count--;
        mp__sched_done(s, u, MP_STATUS_SUCCEEDED);
        size_t k;
        mp__sched_take_settled(s, &k);
        assert_int_equal(k, 0);
    }
    double t2 = now_s();
    assert_int_equal(started, N);
    for (size_t i = 0; i < N; i += 997)
        assert_int_equal(mp__sched_status(s, i), MP_STATUS_SUCCEEDED);
    printf("sched 100k: %d modules, %zu edges (before dedupe): build+validate+plan %.3f s, "
           "sched new+drive %.3f s\n",
           N, edges, t1 - t0, t2 - t1);
    /* Linear takes well under a second plain; the bounds are wide for
     * sanitizers on a loaded machine, and still far below what a
     * quadratic walk over 100,000 modules would take. */
    assert_true(t2 - t1 < 10.0);

    /* the same graph where an early module fails: one stop walk */
    mp__sched_free(s);
    s = mp__sched_new(p, &plan, &o);
    double t3 = now_s();
    long first = mp__sched_next(s);
    assert_true(first >= 0);
    mp__sched_done(s, (size_t)first, MP_STATUS_FAILED);
    size_t k;
    mp__sched_take_settled(s, &k);
    assert_int_equal(k, N - 1);
    assert_true(mp__sched_finished(s));
    double t4 = now_s();
    printf("sched 100k: stop after the first failure settled %zu modules in %.3f s\n", k, t4 - t3);
    assert_true(t4 - t3 < 10.0);
    mp__sched_free(s);
    free(ring);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

/* 100,000 independent modules sharing 10 keys and one group of 8 over 64
 * slots: parking and waking stay O(log n) per decision (a re-scan of the
 * parked modules would be quadratic here). */
static void test_100k_constrained(void **state)
{
    (void)state;
    enum { N = 100000, SLOTS = 64 };
    mp_pipeline *p = mp_pipeline_new("big");
    group(p, "pool", "8");
    char name[32];
    const char *pool = "pool";
    const char *keys[10] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"};
    for (size_t i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "m%06zu", i);
        mp_module_decl *d = mp__decl_add(p, name, fx_pos(1, 1));
        d->proto.run_kind = MP_RUN_SHELL;
        d->proto.run = (mp_pstr){.s = "true"};
        if (i % 2) MP_VEC_PUSH(p->arena, &d->proto.not_in_parallel, ((mp_pstr){.s = keys[i % 10]}));
        if (i % 3 == 0) d->proto.concurrency_group = (mp_pstr){.s = pool};
    }
    validate(p);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    size_t *ring = malloc(SLOTS * sizeof(size_t));
    size_t head = 0, count = 0, started = 0, peak = 0;
    double t0 = now_s();
    mp_sched *s = mp__sched_new(p, &plan, NULL);
    while (!mp__sched_finished(s)) {
        long i;
        while (count < SLOTS && (i = mp__sched_next(s)) >= 0) {
            ring[(head + count++) % SLOTS] = (size_t)i;
            started++;
        }
        if (count > peak) peak = count;
        assert_true(count > 0);
        size_t u = ring[head];
        head = (head + 1) % SLOTS;
        count--;
        mp__sched_done(s, u, MP_STATUS_SUCCEEDED);
    }
    double t1 = now_s();
    assert_int_equal(started, N);
    assert_int_equal(peak, SLOTS);
    printf("sched 100k constrained: new+drive %.3f s\n", t1 - t0);
    assert_true(t1 - t0 < 10.0); /* wide: see above */
    mp__sched_free(s);
    free(ring);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcomes_stop),
        cmocka_unit_test(test_outcomes_continue),
        cmocka_unit_test(test_timeout_cancel_stop),
        cmocka_unit_test(test_timeout_continue),
        cmocka_unit_test(test_cancelled_dependency),
        cmocka_unit_test(test_plan_skip_and_category),
        cmocka_unit_test(test_after_excluded_and_present),
        cmocka_unit_test(test_priority_one_slot),
        cmocka_unit_test(test_critical_path),
        cmocka_unit_test(test_not_in_parallel),
        cmocka_unit_test(test_exclusive_runs_alone),
        cmocka_unit_test(test_concurrency_group),
        cmocka_unit_test(test_blocked_does_not_block),
        cmocka_unit_test(test_group_frees_several),
        cmocka_unit_test(test_parked_order_and_stop),
        cmocka_unit_test(test_constraint_stress),
        cmocka_unit_test(test_signal_stop),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_status_helpers),
        cmocka_unit_test(test_empty_pipeline),
        cmocka_unit_test(test_100k_linear),
        cmocka_unit_test(test_100k_constrained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
