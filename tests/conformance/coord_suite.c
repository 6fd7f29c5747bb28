/*
 * coord_suite.c -- the conformance suite of the coordinator interfaces
 * (coord.h): every backend must pass every case. Written against the
 * mp__coord_* calls only; the backend comes from conf_backend_under_test
 * (see coord_backend.h).
 *
 * Threads: cases that start threads join them before they return; a
 * thread only uses the handle it was given. Timing bounds are generous
 * for loaded CI machines but tight enough to catch a missed wake-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coord_backend.h"
#include "coord/coord.h"
#include "core/result.h"
#include "dist/proto.h"
#include "os/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define HASH    "3f2a-hash"
#define VERSION "0.1.0"
#define MAXW    16

typedef struct fx {
    void *run;
    char run_id[64];
    mp_coord_open_opts o;
    mp_coord_master *m;
    mp_coord_worker *w[MAXW];
    int nw;
} fx;

typedef struct plan_spec {
    const char *const *mods; /* "name" or "name|class" */
    size_t n;
    int instances;
    int64_t lease_ms, worker_timeout_ms, master_timeout_ms;
} plan_spec;

static int run_seq;

static fx *fx_start(const plan_spec *ps)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->run_id, sizeof f->run_id, "conf-%d-%d", (int)getpid(), ++run_seq);
    f->run = conf_backend_under_test.run_new(f->run_id);
    conf_backend_under_test.run_opts(f->run, f->run_id, &f->o);
    mp_error err = {0};
    int rc = mp__coord_master_open(&f->o, &f->m, &err);
    if (rc) print_error("master open: %s\n", err.message);
    assert_int_equal(rc, 0);
    mp_coord_plan_module *pm = calloc(ps->n + 1, sizeof *pm);
    char **names = calloc(ps->n + 1, sizeof *names);
    for (size_t i = 0; i < ps->n; i++) {
        names[i] = strdup(ps->mods[i]);
        char *bar = strchr(names[i], '|');
        pm[i].name = names[i];
        pm[i].cls = bar ? bar + 1 : "";
        if (bar) *bar = '\0';
    }
    mp_coord_plan plan = {
        .pipeline_hash = HASH,
        .version = VERSION,
        .instances = ps->instances ? ps->instances : MAXW,
        .lease_ms = ps->lease_ms ? ps->lease_ms : 60000,
        .worker_timeout_ms = ps->worker_timeout_ms ? ps->worker_timeout_ms : 60000,
        .master_timeout_ms = ps->master_timeout_ms ? ps->master_timeout_ms : 60000,
        .n_modules = ps->n,
        .modules = pm};
    rc = mp__coord_master_publish_plan(f->m, &plan, &err);
    if (rc) print_error("publish: %s\n", err.message);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < ps->n; i++)
        free(names[i]);
    free(names);
    free(pm);
    return f;
}

static void fx_end(fx *f)
{
    for (int i = 0; i < f->nw; i++)
        mp__coord_worker_close(f->w[i]);
    mp__coord_master_close(f->m);
    conf_backend_under_test.run_free(f->run);
    free(f);
}

static int try_worker(fx *f, int instance, const char *id, const char *caps, const char *hash,
                      const char *version, mp_coord_worker **out, mp_error *err)
{
    mp_coord_worker *w = NULL;
    int rc = mp__coord_worker_open(&f->o, &w, err);
    assert_int_equal(rc, 0);
    mp_coord_registration reg = {.instance = instance,
                                 .worker = id,
                                 .capabilities = caps,
                                 .slots = 2,
                                 .pipeline_hash = hash,
                                 .version = version};
    rc = mp__coord_worker_register(w, &reg, mp__deadline_in(2000), err);
    f->w[f->nw++] = w; /* closed by fx_end either way */
    *out = w;
    return rc;
}

static mp_coord_worker *worker(fx *f, int instance, const char *caps)
{
    char id[32];
    snprintf(id, sizeof id, "w%d", instance);
    mp_error err = {0};
    mp_coord_worker *w = NULL;
    int rc = try_worker(f, instance, id, caps, HASH, VERSION, &w, &err);
    if (rc) print_error("register %s: %s\n", id, err.message);
    assert_int_equal(rc, 0);
    return w;
}

static void enqueue(fx *f, const char *module)
{
    mp_error err = {0};
    int rc = mp__coord_master_enqueue(f->m, module, &err);
    if (rc) print_error("enqueue %s: %s\n", module, err.message);
    assert_int_equal(rc, 0);
}

/* Claim within ms; the claimed module's name must be `want` (NULL: any). */
static void claim(mp_coord_worker *w, int64_t ms, const char *want, mp_coord_lease *l)
{
    mp_coord_run_state st;
    mp_error err = {0};
    int rc = mp__coord_worker_claim(w, mp__deadline_in(ms), l, &st, &err);
    if (rc) print_error("claim: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(st, MP_COORD_RUN_ACTIVE);
    if (want) assert_string_equal(l->module, want);
}

static void claim_nothing(mp_coord_worker *w, int64_t ms)
{
    mp_coord_lease l;
    mp_coord_run_state st;
    int rc = mp__coord_worker_claim(w, mp__deadline_in(ms), &l, &st, NULL);
    if (rc == 0)
        print_error("unexpected claim of %s (state %s)\n", l.module, mp__coord_run_state_name(st));
    assert_int_equal(rc, MP_ETIMEDOUT);
}

static char *result_for(const char *run_id, const char *module, const char *token,
                        const char *worker_id)
{
    mp_proto_msg msg = {.type = MP_PROTO_RESULT, .run_id = run_id};
    msg.u.res.module = module;
    msg.u.res.token = token;
    mp__result_init(&msg.u.res.result);
    msg.u.res.result.status = MP_STATUS_SUCCEEDED;
    msg.u.res.result.attempts = 1;
    msg.u.res.result.exit_code = 0;
    msg.u.res.result.worker = worker_id;
    char *json = NULL;
    assert_int_equal(mp__proto_encode(&msg, &json, NULL), 0);
    return json;
}

static int complete(fx *f, mp_coord_worker *w, const mp_coord_lease *l, const char *wid,
                    mp_error *err)
{
    char *json = result_for(f->run_id, l->module, l->token, wid);
    int rc = mp__coord_worker_complete(w, l, json, err);
    free(json);
    return rc;
}

/* The next event of `kind` within ms, skipping others. */
static void next_of(fx *f, mp_coord_event_kind kind, int64_t ms, mp_coord_event *ev)
{
    int64_t dl = mp__deadline_in(ms);
    for (;;) {
        mp_error err = {0};
        int rc = mp__coord_master_next_event(f->m, dl, ev, &err);
        if (rc) print_error("waiting for %s: %s\n", mp__coord_event_kind_name(kind), err.message);
        assert_int_equal(rc, 0);
        if (ev->kind == kind) return;
        mp__coord_event_release(ev);
    }
}

/* ------------------------------------------------------------------ cases */

#define NMOD 200
#define NTHR 8

typedef struct claimer {
    fx *f;
    mp_coord_worker *w;
    char id[16];
    int claimed;
    _Atomic int *seen; /* per module index */
    mp_coord_run_state end;
} claimer;

static void *claim_loop(void *arg)
{
    claimer *c = arg;
    for (;;) {
        mp_coord_lease l;
        mp_coord_run_state st;
        int rc = mp__coord_worker_claim(c->w, mp__deadline_in(10000), &l, &st, NULL);
        if (rc != 0 || st != MP_COORD_RUN_ACTIVE) {
            c->end = rc ? MP_COORD_RUN_ACTIVE : st;
            return NULL;
        }
        atomic_fetch_add(&c->seen[atoi(l.module + 1)], 1);
        c->claimed++;
        if (complete(c->f, c->w, &l, c->id, NULL) != 0)
            atomic_fetch_add(&c->seen[atoi(l.module + 1)], 100); /* flagged below */
    }
}

static void test_claim_exclusive(void **state)
{
    (void)state;
    static char names[NMOD][16];
    const char *mods[NMOD];
    for (int i = 0; i < NMOD; i++) {
        snprintf(names[i], sizeof names[i], "m%03d", i);
        mods[i] = names[i];
    }
    plan_spec ps = {mods, NMOD, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    _Atomic int seen[NMOD];
    for (int i = 0; i < NMOD; i++)
        atomic_init(&seen[i], 0);
    claimer c[NTHR];
    pthread_t t[NTHR];
    for (int i = 0; i < NTHR; i++) {
        c[i] = (claimer){.f = f, .w = worker(f, i + 1, ""), .seen = seen};
        snprintf(c[i].id, sizeof c[i].id, "w%d", i + 1);
        assert_int_equal(pthread_create(&t[i], NULL, claim_loop, &c[i]), 0);
    }
    for (int i = 0; i < NMOD; i++)
        enqueue(f, mods[i]);
    int results = 0;
    while (results < NMOD) {
        mp_coord_event ev;
        next_of(f, MP_COORD_EV_RESULT, 10000, &ev);
        results++;
        mp__coord_event_release(&ev);
    }
    assert_int_equal(mp__coord_master_complete(f->m, NULL), 0);
    int total = 0;
    for (int i = 0; i < NTHR; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(c[i].end, MP_COORD_RUN_COMPLETED);
        total += c[i].claimed;
    }
    for (int i = 0; i < NMOD; i++)
        assert_int_equal(atomic_load(&seen[i]), 1);
    assert_int_equal(total, NMOD);
    fx_end(f);
}

static void test_fifo_within_class(void **state)
{
    (void)state;
    const char *mods[] = {"d|os=linux", "a|os=linux", "c|os=linux", "b|os=linux", "z"};
    plan_spec ps = {mods, 5, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w = worker(f, 1, "os=linux");
    const char *order[] = {"c", "a", "d", "b"};
    for (int i = 0; i < 4; i++)
        enqueue(f, order[i]);
    mp_coord_lease l;
    for (int i = 0; i < 4; i++)
        claim(w, 1000, order[i], &l);
    claim_nothing(w, 50);
    fx_end(f);
}

static void test_capability_routing(void **state)
{
    (void)state;
    const char *mods[] = {"lin|os=linux", "gpu|label=gpu,os=linux", "mac|os=macos", "any",
                          "pinned|instance=0"};
    plan_spec ps = {mods, 5, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *master_side = worker(f, 0, "os=linux");
    mp_coord_worker *cpu = worker(f, 1, "OS=Linux");            /* case-insensitive */
    mp_coord_worker *gpu = worker(f, 2, "os=linux, label=GPU"); /* order-insensitive */
    enqueue(f, "gpu");
    enqueue(f, "mac");
    enqueue(f, "pinned");
    mp_coord_lease l;
    claim_nothing(cpu, 100); /* gpu, mac and pinned are not its classes */
    claim(gpu, 1000, "gpu", &l);
    claim_nothing(gpu, 50);
    enqueue(f, "lin");
    enqueue(f, "any");
    claim(gpu, 1000, "lin", &l); /* os=linux before "": more specific first */
    claim(cpu, 1000, "any", &l);
    claim_nothing(cpu, 50);
    claim(master_side, 1000, "pinned", &l);
    claim_nothing(master_side, 50); /* mac stays: nobody serves it */
    fx_end(f);
}

static void test_lease_expiry_requeue(void **state)
{
    (void)state;
    const char *mods[] = {"x", "y"};
    plan_spec ps = {mods, 2, 0, 150, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w1 = worker(f, 1, ""), *w2 = worker(f, 2, "");
    enqueue(f, "x");
    enqueue(f, "y");
    mp_coord_lease l1, l2;
    claim(w1, 1000, "x", &l1);
    assert_int_equal(l1.attempt, 1);
    assert_string_equal(l1.token, "w1#1");
    int64_t t0 = mp__clock_now_ms();
    mp_coord_event ev;
    next_of(f, MP_COORD_EV_LEASE_EXPIRED, 2000, &ev);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 120 && took < 1500);
    assert_string_equal(ev.module, "x");
    assert_string_equal(ev.token, "w1#1");
    mp_coord_requeue_outcome out;
    assert_int_equal(mp__coord_master_requeue(f->m, "x", ev.token, 3, "lease expired", &out, NULL),
                     0);
    assert_int_equal(out, MP_COORD_REQUEUED);
    /* The same token again is stale: the CAS already happened. */
    assert_int_equal(mp__coord_master_requeue(f->m, "x", ev.token, 3, "again", &out, NULL), 0);
    assert_int_equal(out, MP_COORD_STALE);
    mp__coord_event_release(&ev);
    claim(w2, 1000, "x", &l2); /* front of the queue, before y */
    assert_int_equal(l2.attempt, 2);
    assert_string_equal(l2.token, "w2#2");
    /* Exhausted: attempt 2 of at most 2 expires. */
    next_of(f, MP_COORD_EV_LEASE_EXPIRED, 2000, &ev);
    assert_string_equal(ev.token, "w2#2");
    assert_int_equal(mp__coord_master_requeue(f->m, "x", ev.token, 2, "lease expired", &out, NULL),
                     0);
    assert_int_equal(out, MP_COORD_EXHAUSTED);
    mp__coord_event_release(&ev);
    claim(w1, 1000, "y", &l1);
    fx_end(f);
}

static void test_fencing(void **state)
{
    (void)state;
    const char *mods[] = {"x"};
    plan_spec ps = {mods, 1, 0, 100, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *old = worker(f, 1, ""), *new = worker(f, 2, "");
    enqueue(f, "x");
    mp_coord_lease lo, ln;
    claim(old, 1000, "x", &lo);
    mp_coord_event ev;
    next_of(f, MP_COORD_EV_LEASE_EXPIRED, 2000, &ev);
    mp_coord_requeue_outcome out;
    mp__coord_master_requeue(f->m, "x", ev.token, 3, "lease expired", &out, NULL);
    assert_int_equal(out, MP_COORD_REQUEUED);
    mp__coord_event_release(&ev);
    claim(new, 1000, "x", &ln);
    mp_error err = {0};
    assert_int_equal(complete(f, old, &lo, "w1", &err), MP_ESTATE); /* late, old holder */
    assert_non_null(strstr(err.message, "w1#1"));
    next_of(f, MP_COORD_EV_REJECTED, 1000, &ev);
    assert_string_equal(ev.token, "w1#1");
    mp__coord_event_release(&ev);
    assert_int_equal(complete(f, new, &ln, "w2", &err), 0);
    next_of(f, MP_COORD_EV_RESULT, 1000, &ev);
    assert_string_equal(ev.token, "w2#2");
    assert_string_equal(ev.status, "succeeded");
    assert_int_equal(ev.instance, 2);
    mp__coord_event_release(&ev);
    assert_int_equal(complete(f, new, &ln, "w2", &err), MP_ESTATE); /* never twice */
    assert_int_equal(complete(f, old, &lo, "w1", &err), MP_ESTATE);
    char *json = NULL;
    assert_int_equal(mp__coord_master_fetch_result(f->m, "x", &json, NULL), 0);
    mp_proto_msg msg;
    assert_int_equal(mp__proto_decode(json, strlen(json), f->run_id, &msg, NULL), 0);
    assert_string_equal(msg.u.res.token, "w2#2");
    assert_string_equal(msg.u.res.result.worker, "w2");
    mp__proto_msg_release(&msg);
    free(json);
    assert_int_equal(mp__coord_worker_fetch_result(old, "x", &json, NULL), 0);
    free(json);
    /* A second requeue after the result is stale, the result stays. */
    mp__coord_master_requeue(f->m, "x", "w2#2", 3, "late", &out, NULL);
    assert_int_equal(out, MP_COORD_STALE);
    fx_end(f);
}

static void test_renew_lost_cancel(void **state)
{
    (void)state;
    const char *mods[] = {"x", "y"};
    plan_spec ps = {mods, 2, 0, 150, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w = worker(f, 1, "");
    enqueue(f, "x");
    mp_coord_lease l;
    mp_coord_renew_answer a;
    claim(w, 1000, "x", &l);
    for (int i = 0; i < 4; i++) { /* renewing keeps the lease past lease_ms */
        assert_int_equal(mp__coord_worker_renew(w, &l, &a, NULL), 0);
        assert_int_equal(a, MP_COORD_RENEW_OK);
        mp_coord_event ev;
        int rc = mp__coord_master_next_event(f->m, mp__deadline_in(100), &ev, NULL);
        if (rc == 0) {
            assert_int_not_equal(ev.kind, MP_COORD_EV_LEASE_EXPIRED);
            mp__coord_event_release(&ev);
        }
    }
    mp_coord_event ev;
    next_of(f, MP_COORD_EV_LEASE_EXPIRED, 2000, &ev);
    mp_coord_requeue_outcome out;
    mp__coord_master_requeue(f->m, "x", ev.token, 3, "lease expired", &out, NULL);
    mp__coord_event_release(&ev);
    assert_int_equal(mp__coord_worker_renew(w, &l, &a, NULL), 0);
    assert_int_equal(a, MP_COORD_RENEW_LOST);
    claim(w, 1000, "x", &l);
    assert_int_equal(mp__coord_master_cancel(f->m, "on_failure stop", NULL), 0);
    assert_int_equal(mp__coord_worker_renew(w, &l, &a, NULL), 0);
    assert_int_equal(a, MP_COORD_RENEW_CANCEL);
    fx_end(f);
}

typedef struct waiter {
    mp_coord_worker *w;
    bool observe;
    int rc;
    mp_coord_run_state st;
    int64_t woke_at;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *x = arg;
    mp_coord_lease l;
    if (x->observe)
        x->rc = mp__coord_worker_observe(x->w, mp__deadline_in(10000), &x->st, NULL);
    else
        x->rc = mp__coord_worker_claim(x->w, mp__deadline_in(10000), &l, &x->st, NULL);
    x->woke_at = mp__clock_now_ms();
    return NULL;
}

/* Block 4 claimers and an observer, broadcast, check every one that
 * should wake does within 300 ms with state `want`. complete wakes them
 * all; cancel wakes the observer only (a cancelled run is stopping, not
 * over): the claimers go on waiting and get what is enqueued after the
 * cancel (always_run modules, coord.h). */
static void broadcast_wakes(bool cancel, mp_coord_run_state want)
{
    const char *mods[] = {"x", "a1", "a2", "a3", "a4"};
    plan_spec ps = {mods, 5, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    waiter x[5];
    pthread_t t[5];
    for (int i = 0; i < 5; i++) {
        x[i] = (waiter){.w = worker(f, i + 1, ""), .observe = i == 4};
        assert_int_equal(pthread_create(&t[i], NULL, wait_thread, &x[i]), 0);
    }
    mp_coord_event ev;
    int rc = mp__coord_master_next_event(f->m, mp__deadline_in(150), &ev, NULL);
    while (rc == 0) { /* drain joins; gives the threads time to block */
        mp__coord_event_release(&ev);
        rc = mp__coord_master_next_event(f->m, mp__deadline_in(150), &ev, NULL);
    }
    int64_t t0 = mp__clock_now_ms();
    if (cancel) {
        assert_int_equal(mp__coord_master_cancel(f->m, "interrupted", NULL), 0);
        pthread_join(t[4], NULL); /* the observer sees it */
        assert_int_equal(x[4].rc, 0);
        assert_int_equal(x[4].st, MP_COORD_RUN_CANCELLED);
        assert_true(x[4].woke_at - t0 < 1000); /* long before its 10 s deadline */
        usleep(100 * 1000); /* the claimers stay blocked ... */
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_tryjoin_np(t[i], NULL), EBUSY);
        const char *always[] = {"a1", "a2", "a3", "a4"};
        for (int i = 0; i < 4; i++) /* ... and get what is still enqueued */
            enqueue(f, always[i]);
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(x[i].rc, 0);
            assert_int_equal(x[i].st, MP_COORD_RUN_ACTIVE);
        }
        mp_coord_run_state st;
        assert_int_equal(mp__coord_worker_observe(x[0].w, mp__deadline_in(5000), &st, NULL), 0);
        assert_int_equal(st, want);
        fx_end(f);
        return;
    }
    assert_int_equal(mp__coord_master_complete(f->m, NULL), 0);
    for (int i = 0; i < 5; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(x[i].rc, 0);
        assert_int_equal(x[i].st, want);
        assert_true(x[i].woke_at - t0 < 1000); /* long before its 10 s deadline */
    }
    /* Later calls answer at once; nothing can be enqueued any more. */
    mp_coord_lease l;
    mp_coord_run_state st;
    assert_int_equal(mp__coord_worker_claim(x[0].w, mp__deadline_in(5000), &l, &st, NULL), 0);
    assert_int_equal(st, want);
    assert_int_equal(mp__coord_master_enqueue(f->m, "x", NULL), MP_ESTATE);
    fx_end(f);
}

/* The master settles modules it decided itself: a queued one leaves its
 * queue, a result is stored for workers to fetch, a leased or finished
 * one is refused, a foreign result too. */
static void test_settle(void **state)
{
    (void)state;
    const char *mods[] = {"q", "s", "l"};
    plan_spec ps = {mods, 3, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w = worker(f, 1, "");
    enqueue(f, "q");
    enqueue(f, "l");
    char *js = result_for(f->run_id, "q", "master", "master");
    assert_int_equal(mp__coord_master_settle(f->m, "q", js, NULL), 0);
    assert_int_equal(mp__coord_master_settle(f->m, "q", js, NULL), MP_ESTATE);
    assert_int_equal(mp__coord_master_settle(f->m, "s", js, NULL), MP_EINVAL); /* for q */
    free(js);
    js = result_for(f->run_id, "s", "master", "master");
    assert_int_equal(mp__coord_master_settle(f->m, "s", js, NULL), 0);
    free(js);
    mp_coord_lease l;
    claim(w, 1000, "l", &l); /* q left its queue */
    js = result_for(f->run_id, "l", "master", "master");
    assert_int_equal(mp__coord_master_settle(f->m, "l", js, NULL), MP_ESTATE);
    free(js);
    js = result_for("another-run", "x", "master", "master");
    assert_int_equal(mp__coord_master_settle(f->m, "x", js, NULL), MP_EINVAL);
    free(js);
    char *json = NULL;
    assert_int_equal(mp__coord_worker_fetch_result(w, "s", &json, NULL), 0);
    assert_non_null(strstr(json, "\"s\""));
    free(json);
    fx_end(f);
}

static void test_cancel_wakes_claimers(void **state)
{
    (void)state;
    broadcast_wakes(true, MP_COORD_RUN_CANCELLED);
}

static void test_complete_wakes_all(void **state)
{
    (void)state;
    broadcast_wakes(false, MP_COORD_RUN_COMPLETED);
}

static void assert_took_200(int64_t t0)
{
    /* Never before the deadline; after it within a margin that a loaded
     * CI machine running under sanitizers still meets (a call that ignored
     * its deadline would block for the test's whole timeout). */
    int64_t took = mp__clock_now_ms() - t0;
    if (took < 195 || took > 1000)
        print_error("took %lld ms, wanted 200 (at most 1000)\n", (long long)took);
    assert_true(took >= 195 && took <= 1000);
}

static void test_deadlines_honoured(void **state)
{
    (void)state;
    const char *mods[] = {"x"};
    plan_spec ps = {mods, 1, 2, 0, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w = worker(f, 1, "");
    mp_coord_event ev;
    next_of(f, MP_COORD_EV_WORKER_JOINED, 1000, &ev);
    mp__coord_event_release(&ev);
    int64_t t0 = mp__clock_now_ms();
    claim_nothing(w, 200);
    assert_took_200(t0);
    t0 = mp__clock_now_ms();
    assert_int_equal(mp__coord_master_next_event(f->m, mp__deadline_in(200), &ev, NULL),
                     MP_ETIMEDOUT);
    assert_took_200(t0);
    t0 = mp__clock_now_ms();
    mp_coord_run_state st;
    assert_int_equal(mp__coord_worker_observe(w, mp__deadline_in(200), &st, NULL), 0);
    assert_int_equal(st, MP_COORD_RUN_ACTIVE);
    assert_took_200(t0);
    t0 = mp__clock_now_ms();
    mp_coord_worker_list wl;
    assert_int_equal(mp__coord_master_await_workers(f->m, 2, mp__deadline_in(200), &wl, NULL),
                     MP_ETIMEDOUT);
    assert_took_200(t0);
    assert_int_equal(wl.n, 1); /* who is present, to name who is missing */
    assert_int_equal(wl.v[0].instance, 1);
    assert_string_equal(wl.v[0].capabilities, "instance=1");
    mp__coord_worker_list_release(&wl);
    /* A deadline already passed does not block. */
    t0 = mp__clock_now_ms();
    claim_nothing(w, 0);
    assert_true(mp__clock_now_ms() - t0 < 50);
    fx_end(f);
}

static void test_registration_refused(void **state)
{
    (void)state;
    const char *mods[] = {"x"};
    plan_spec ps = {mods, 1, 3, 0, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w;
    mp_error err = {0};
    assert_int_equal(try_worker(f, 1, "a", "", "other-hash", VERSION, &w, &err), MP_EINVAL);
    assert_non_null(strstr(err.message, "other-hash"));
    assert_non_null(strstr(err.message, HASH));
    assert_int_equal(try_worker(f, 1, "b", "", HASH, "9.9.9", &w, &err), MP_EINVAL);
    assert_non_null(strstr(err.message, "9.9.9"));
    assert_non_null(strstr(err.message, VERSION));
    assert_int_equal(try_worker(f, 3, "c", "", HASH, VERSION, &w, &err), MP_EINVAL);
    assert_int_equal(try_worker(f, 1, "d", "", HASH, VERSION, &w, &err), 0);
    assert_int_equal(try_worker(f, 1, "e", "", HASH, VERSION, &w, &err), MP_EEXIST);
    assert_non_null(strstr(err.message, "instance index 1"));
    assert_int_equal(try_worker(f, 2, "d", "", HASH, VERSION, &w, &err), MP_EEXIST);
    assert_int_equal(try_worker(f, 2, "bad#id", "", HASH, VERSION, &w, &err), MP_EINVAL);
    mp_coord_worker_list wl;
    assert_int_equal(mp__coord_master_await_workers(f->m, 1, mp__deadline_in(0), &wl, NULL), 0);
    assert_int_equal(wl.n, 1);
    assert_string_equal(wl.v[0].worker, "d");
    mp__coord_worker_list_release(&wl);
    fx_end(f);
}

static void test_foreign_and_bad_results(void **state)
{
    (void)state;
    const char *mods[] = {"x", "never"};
    plan_spec ps = {mods, 2, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *w = worker(f, 1, "");
    enqueue(f, "x");
    mp_coord_lease l;
    claim(w, 1000, "x", &l);
    mp_error err = {0};
    char *json = result_for("another-run", "x", l.token, "w1");
    assert_int_equal(mp__coord_worker_complete(w, &l, json, &err), MP_EINVAL);
    assert_non_null(strstr(err.message, "another-run"));
    assert_non_null(strstr(err.message, f->run_id));
    free(json);
    assert_int_equal(mp__coord_worker_complete(w, &l, "{\"v\":1,\"run\":", &err), MP_EPARSE);
    json = result_for(f->run_id, "never", l.token, "w1"); /* other module than leased */
    assert_int_equal(mp__coord_worker_complete(w, &l, json, &err), MP_EINVAL);
    free(json);
    mp_coord_lease fake = {.module = "never", .token = "w1#1", .attempt = 1};
    json = result_for(f->run_id, "never", "w1#1", "w1"); /* never assigned */
    assert_int_equal(mp__coord_worker_complete(w, &fake, json, &err), MP_ESTATE);
    free(json);
    char *stored = NULL;
    assert_int_equal(mp__coord_master_fetch_result(f->m, "x", &stored, NULL), MP_ENOENT);
    assert_int_equal(complete(f, w, &l, "w1", &err), 0); /* the run goes on */
    assert_int_equal(mp__coord_master_fetch_result(f->m, "x", &stored, NULL), 0);
    free(stored);
    fx_end(f);
}

static void test_master_lost(void **state)
{
    (void)state;
    const char *mods[] = {"x"};
    plan_spec ps = {mods, 1, 0, 0, 0, 600};
    fx *f = fx_start(&ps);
    mp_coord_worker *w = worker(f, 1, "");
    mp_coord_run_state st;
    /* Heartbeats keep it alive past 600 ms. A 100 ms wait may end up to
     * one server tick late (redis times blocked commands out at its hz,
     * 10 by default), hence the margin between heartbeats. */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(mp__coord_master_heartbeat(f->m, NULL), 0);
        assert_int_equal(mp__coord_worker_observe(w, mp__deadline_in(100), &st, NULL), 0);
        assert_int_equal(st, MP_COORD_RUN_ACTIVE);
    }
    int64_t t0 = mp__clock_now_ms();
    mp_coord_lease l;
    assert_int_equal(mp__coord_worker_claim(w, mp__deadline_in(5000), &l, &st, NULL), 0);
    assert_int_equal(st, MP_COORD_RUN_MASTER_LOST);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 300 && took < 2500);
    fx_end(f);
}

static void test_worker_left(void **state)
{
    (void)state;
    const char *mods[] = {"x"};
    plan_spec ps = {mods, 1, 0, 0, 200, 0};
    fx *f = fx_start(&ps);
    mp_coord_worker *silent = worker(f, 1, ""), *chatty = worker(f, 2, "");
    (void)silent;
    mp_coord_event ev;
    int64_t t0 = mp__clock_now_ms();
    int64_t dl = mp__deadline_in(2000);
    for (;;) { /* chatty heartbeats every 50 ms; only silent leaves */
        mp__coord_worker_heartbeat(chatty, NULL);
        int rc =
            mp__coord_master_next_event(f->m, mp__deadline_min(dl, mp__deadline_in(50)), &ev, NULL);
        assert_false(mp__deadline_passed(dl));
        if (rc == 0 && ev.kind == MP_COORD_EV_WORKER_LEFT) break;
        if (rc == 0) mp__coord_event_release(&ev);
    }
    assert_int_equal(ev.instance, 1);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 150 && took < 1500);
    mp__coord_event_release(&ev);
    assert_int_equal(mp__coord_worker_heartbeat(silent, NULL), MP_ESTATE);
    mp__coord_worker_close(chatty);
    f->w[--f->nw] = NULL;
    next_of(f, MP_COORD_EV_WORKER_LEFT, 1000, &ev);
    assert_int_equal(ev.instance, 2);
    mp__coord_event_release(&ev);
    fx_end(f);
}

typedef struct idle_arg {
    mp_coord_worker *w;
    int rc;
} idle_arg;

static void *idle_claim(void *arg)
{
    idle_arg *a = arg;
    mp_coord_lease l;
    mp_coord_run_state st;
    a->rc = mp__coord_worker_claim(a->w, mp__deadline_in(2000), &l, &st, NULL);
    return NULL;
}

static int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static void test_idle_claim_no_cpu(void **state)
{
    (void)state;
    const char *mods[] = {"x|os=nowhere"};
    plan_spec ps = {mods, 1, 0, 0, 0, 0};
    fx *f = fx_start(&ps);
    idle_arg arg = {worker(f, 1, "os=linux"), 0};
    enqueue(f, "x"); /* queued, but not in a class this worker serves */
    int64_t c0 = cpu_us(), t0 = mp__clock_now_ms();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, idle_claim, &arg), 0);
    mp_coord_event ev;
    int rc;
    int64_t dl = t0 + 2000; /* the master idles in next_event meanwhile */
    while ((rc = mp__coord_master_next_event(f->m, dl, &ev, NULL)) == 0)
        mp__coord_event_release(&ev);
    assert_int_equal(rc, MP_ETIMEDOUT);
    pthread_join(t, NULL);
    int64_t used = cpu_us() - c0, wall = (mp__clock_now_ms() - t0) * 1000;
    print_message("idle: %lld us cpu over %lld us\n", (long long)used, (long long)wall);
    assert_int_equal(arg.rc, MP_ETIMEDOUT);
    assert_true(wall >= 1900000);
    assert_true(used * 100 < wall); /* < 1 % */
    fx_end(f);
}

/* ----------------------------------------------------------------- runner */

#define CONF_CASE(name) cmocka_unit_test(test_##name)

static const struct CMUnitTest cases[] = {
    CONF_CASE(claim_exclusive),
    CONF_CASE(fifo_within_class),
    CONF_CASE(capability_routing),
    CONF_CASE(lease_expiry_requeue),
    CONF_CASE(fencing),
    CONF_CASE(renew_lost_cancel),
    CONF_CASE(cancel_wakes_claimers),
    CONF_CASE(settle),
    CONF_CASE(complete_wakes_all),
    CONF_CASE(deadlines_honoured),
    CONF_CASE(registration_refused),
    CONF_CASE(foreign_and_bad_results),
    CONF_CASE(master_lost),
    CONF_CASE(worker_left),
    CONF_CASE(idle_claim_no_cpu),
};

int conf_main(int argc, char **argv)
{
    if (argc > 1) {
        char filter[128];
        snprintf(filter, sizeof filter, "test_%s", argv[1]);
        size_t i = 0;
        while (i < sizeof cases / sizeof cases[0] && strcmp(cases[i].name, filter) != 0)
            i++;
        if (i == sizeof cases / sizeof cases[0]) {
            fprintf(stderr, "no conformance case '%s'\n", argv[1]);
            return 2;
        }
        cmocka_set_test_filter(filter);
    }
    return cmocka_run_group_tests_name(conf_backend_under_test.name, cases, NULL, NULL);
}
