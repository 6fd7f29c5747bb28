/*
 * dist_badinput.c -- bad input reaching the master or a worker of a
 * distributed run (issue 4): malformed, truncated, oversized and
 * foreign-run protocol messages are refused and logged and the run goes
 * on; a result for a module never assigned is refused; a duplicate result
 * is applied once; a second registration of an instance index is refused;
 * an index outside the run is refused; idle workers waiting 10 s use
 * < 1 % CPU.
 *
 * The faults are injected by coordinator handles that wrap memory ones
 * (every slot forwarded, a few altered), the shape of the silent worker
 * of dist_run.c. Registered once per case as "distributed.<case>"; cases
 * that start threads join them before they return.
 */
#include "dist_fixture.h"

/* -------------------------------------------------- bad protocol payloads */

typedef enum bad_kind { BAD_NONE, BAD_MALFORMED, BAD_TRUNCATED, BAD_OVERSIZED, BAD_FOREIGN } bad_kind;

/* A result message for `module` that is bad in the way `k` says. */
static char *bad_payload(bad_kind k, const char *run_id, const char *module)
{
    mp_proto_msg msg = {.type = MP_PROTO_RESULT, .run_id = k == BAD_FOREIGN ? "other-run" : run_id};
    msg.u.res.module = module;
    msg.u.res.token = "w1#1";
    mp__result_init(&msg.u.res.result);
    msg.u.res.result.status = MP_STATUS_SUCCEEDED;
    msg.u.res.result.instance = 1;
    char *json = NULL;
    assert_int_equal(mp__proto_encode(&msg, &json, NULL), 0);
    switch (k) {
    case BAD_MALFORMED:
        free(json);
        return strdup("{\"v\":1,\"run\":\"x\",\"type\":\"result\",\"module\":5,]");
    case BAD_TRUNCATED:
        json[strlen(json) / 2] = '\0';
        return json;
    case BAD_OVERSIZED: {
        size_t n = MP_PROTO_MAX_BYTES + 100;
        char *big = malloc(n + 1);
        memset(big, ' ', n);
        memcpy(big, json, strlen(json));
        big[n] = '\0';
        free(json);
        return big;
    }
    default:
        return json;
    }
}

static bad_kind kind_for(const char *module)
{
    if (!module) return BAD_NONE;
    if (strstr(module, "malformed")) return BAD_MALFORMED;
    if (strstr(module, "truncated")) return BAD_TRUNCATED;
    if (strstr(module, "oversized")) return BAD_OVERSIZED;
    if (strstr(module, "foreign")) return BAD_FOREIGN;
    return BAD_NONE;
}

/* ------------------------------------------------ a master that is lied to */

/* Around a memory master: injects result events for a module never
 * assigned ("later", before it is enqueued) and for one not in the plan,
 * delivers the result event of "first" twice, and replaces the stored
 * result of every module whose name says how (kind_for) by a bad one. */
typedef struct evil_m {
    mp_coord_master base;
    mp_coord_master *in;
    bool injected;
    mp_coord_event pending[4];
    int npending;
} evil_m;

static evil_m *EM(mp_coord_master *m)
{
    return (evil_m *)m;
}

static mp_coord_event ev_result(const char *module, const char *token)
{
    return (mp_coord_event){.kind = MP_COORD_EV_RESULT,
                            .instance = 1,
                            .attempt = 1,
                            .worker = strdup("w1"),
                            .module = strdup(module),
                            .token = strdup(token),
                            .status = strdup("succeeded")};
}

static int em_open(const mp_coord_open_opts *o, mp_coord_master **out, mp_error *err)
{
    (void)o, (void)out;
    return mp__error(err, MP_EINVAL, "", "opened by the test");
}
static void em_close(mp_coord_master *m)
{
    mp__coord_master_close(EM(m)->in);
    for (int i = 0; i < EM(m)->npending; i++)
        mp__coord_event_release(&EM(m)->pending[i]);
    free(m);
}
static int em_publish(mp_coord_master *m, const mp_coord_plan *p, mp_error *e)
{
    return EM(m)->in->vt->publish_plan(EM(m)->in, p, e);
}
static int em_await(mp_coord_master *m, size_t n, int64_t dl, mp_coord_worker_list *o, mp_error *e)
{
    return EM(m)->in->vt->await_workers(EM(m)->in, n, dl, o, e);
}
static int em_enqueue(mp_coord_master *m, const char *mod, mp_error *e)
{
    return EM(m)->in->vt->enqueue(EM(m)->in, mod, e);
}
static int em_next(mp_coord_master *m, int64_t dl, mp_coord_event *ev, mp_error *e)
{
    evil_m *x = EM(m);
    if (!x->injected) {
        x->injected = true;
        x->pending[x->npending++] = ev_result("later", "w1#1"); /* never assigned */
        x->pending[x->npending++] = ev_result("ghost", "w1#1"); /* not in the plan */
    }
    if (x->npending) {
        *ev = x->pending[0];
        memmove(x->pending, x->pending + 1, (size_t)--x->npending * sizeof *x->pending);
        return 0;
    }
    int rc = x->in->vt->next_event(x->in, dl, ev, e);
    if (rc == 0 && ev->kind == MP_COORD_EV_RESULT && strcmp(ev->module, "first") == 0 &&
        x->npending < 4)
        x->pending[x->npending++] = ev_result("first", ev->token); /* delivered twice */
    return rc;
}
static int em_requeue(mp_coord_master *m, const char *mod, const char *tok, int max,
                      const char *why, mp_coord_requeue_outcome *out, mp_error *e)
{
    return EM(m)->in->vt->requeue(EM(m)->in, mod, tok, max, why, out, e);
}
static int em_cancel(mp_coord_master *m, const char *why, mp_error *e)
{
    return EM(m)->in->vt->cancel(EM(m)->in, why, e);
}
static int em_complete(mp_coord_master *m, mp_error *e)
{
    return EM(m)->in->vt->complete(EM(m)->in, e);
}
static int em_heartbeat(mp_coord_master *m, mp_error *e)
{
    return EM(m)->in->vt->heartbeat(EM(m)->in, e);
}
static int em_fetch(mp_coord_master *m, const char *mod, char **json, mp_error *e)
{
    int rc = EM(m)->in->vt->fetch_result(EM(m)->in, mod, json, e);
    bad_kind k = kind_for(mod);
    if (rc == 0 && k != BAD_NONE) {
        free(*json);
        *json = bad_payload(k, m->run_id, mod);
    }
    return rc;
}
static int em_settle(mp_coord_master *m, const char *mod, const char *json, mp_error *e)
{
    return EM(m)->in->vt->settle(EM(m)->in, mod, json, e);
}

static const mp_coord_master_vtable evil_master_vt = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "evil-master",
    .open = em_open,
    .close = em_close,
    .publish_plan = em_publish,
    .await_workers = em_await,
    .enqueue = em_enqueue,
    .next_event = em_next,
    .requeue = em_requeue,
    .cancel = em_cancel,
    .complete = em_complete,
    .heartbeat = em_heartbeat,
    .fetch_result = em_fetch,
    .settle = em_settle,
};

/* ------------------------------------------------- a worker that is lied to */

/* Around a memory worker: dependency results it fetches for modules named
 * after a kind of damage come back damaged, and its first claim hands it
 * a module that is not in the pipeline. */
typedef struct evil_w {
    mp_coord_worker base;
    mp_coord_worker *in;
    bool ghost_sent;
} evil_w;

static evil_w *EW(mp_coord_worker *w)
{
    return (evil_w *)w;
}

static int ew_open(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err)
{
    (void)o, (void)out;
    return mp__error(err, MP_EINVAL, "", "opened by the test");
}
static void ew_close(mp_coord_worker *w)
{
    mp__coord_worker_close(EW(w)->in);
    free(w);
}
static int ew_register(mp_coord_worker *w, const mp_coord_registration *r, int64_t dl, mp_error *e)
{
    return EW(w)->in->vt->register_(EW(w)->in, r, dl, e);
}
static int ew_claim(mp_coord_worker *w, int64_t dl, mp_coord_lease *l, mp_coord_run_state *st,
                    mp_error *e)
{
    evil_w *x = EW(w);
    if (!x->ghost_sent) {
        x->ghost_sent = true;
        memset(l, 0, sizeof *l);
        snprintf(l->module, sizeof l->module, "ghost");
        snprintf(l->token, sizeof l->token, "w1#1");
        l->attempt = 1;
        *st = MP_COORD_RUN_ACTIVE;
        return 0;
    }
    return x->in->vt->claim(x->in, dl, l, st, e);
}
static int ew_renew(mp_coord_worker *w, const mp_coord_lease *l, mp_coord_renew_answer *a,
                    mp_error *e)
{
    return EW(w)->in->vt->renew(EW(w)->in, l, a, e);
}
static int ew_complete(mp_coord_worker *w, const mp_coord_lease *l, const char *st,
                       const char *js, mp_error *e)
{
    return EW(w)->in->vt->complete(EW(w)->in, l, st, js, e);
}
static int ew_fetch(mp_coord_worker *w, const char *m, char **js, mp_error *e)
{
    int rc = EW(w)->in->vt->fetch_result(EW(w)->in, m, js, e);
    bad_kind k = kind_for(m);
    if (rc == 0 && k != BAD_NONE) {
        free(*js);
        *js = bad_payload(k, w->run_id, m);
    }
    return rc;
}
static int ew_heartbeat(mp_coord_worker *w, mp_error *e)
{
    return EW(w)->in->vt->heartbeat(EW(w)->in, e);
}
static int ew_observe(mp_coord_worker *w, int64_t dl, mp_coord_run_state *st, mp_error *e)
{
    return EW(w)->in->vt->observe(EW(w)->in, dl, st, e);
}

static const mp_coord_worker_vtable evil_worker_vt = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "evil-worker",
    .open = ew_open,
    .close = ew_close,
    .register_ = ew_register,
    .claim = ew_claim,
    .renew = ew_renew,
    .complete = ew_complete,
    .fetch_result = ew_fetch,
    .heartbeat = ew_heartbeat,
    .observe = ew_observe,
};

/* ------------------------------------------------------------ run helpers */

static void wthread_start(fx *f, wthread *x, const mp_coord_open_opts *co, int index,
                          const char *id, const char *caps, bool evil)
{
    mp_coord_worker *in = NULL;
    assert_int_equal(mp__coord_worker_open(co, &in, NULL), 0);
    if (evil) {
        evil_w *s = calloc(1, sizeof *s);
        s->base.vt = &evil_worker_vt;
        snprintf(s->base.run_id, sizeof s->base.run_id, "%s", in->run_id);
        s->in = in;
        in = &s->base;
    }
    wthread_run(f, x, in, co, index, id, caps);
}

/* ---------------------------------------------------------------- cases */

/* The master is handed bad results and stray result events. */
static void test_bad_master_input(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  first: {run: 'echo ran >> first.txt'}\n"
                   "  later: {depends_on: [first], run: 'echo ran >> later.txt'}\n"
                   "  r_malformed: {run: 'true'}\n"
                   "  r_truncated: {run: 'true'}\n"
                   "  r_oversized: {run: 'true'}\n"
                   "  r_foreign: {run: 'true'}\n"
                   "  fine: {depends_on: [later], run: 'true'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "bad-master", .memory_hub = hub};
    mp_coord_master *in = NULL;
    assert_int_equal(mp__coord_master_open(&co, &in, NULL), 0);
    evil_m *em = calloc(1, sizeof *em);
    em->base.vt = &evil_master_vt;
    snprintf(em->base.run_id, sizeof em->base.run_id, "%s", in->run_id);
    em->in = in;
    wthread w = {0};
    wthread_start(f, &w, &co, 1, "w1", NULL, false);
    mp_dist_master_opts mo = master_opts(f, &co, 2);
    int infra = 0;
    mo.infra_failures = &infra;
    mp_run run;
    mp_error err = {0};
    assert_int_equal(mp__dist_master_run(&em->base, &mo, &run, &err), 0);
    pthread_join(w.t, NULL);
    assert_int_equal(w.rc, 0);

    /* Stray results: refused, logged, nothing applied. */
    assert_int_equal(log_count(f, "result for later from w1#1 ignored: the module was never assigned"),
                     1);
    assert_int_equal(log_count(f, "result for ghost from w1#1 ignored: the module is not in the plan"), 1);
    /* The duplicate of first's result is refused; first ran and counted once. */
    assert_int_equal(log_count(f, "result for first from"), 1);
    assert_int_equal(log_count(f, "ignored: the module's result was already applied"), 1);
    want(f, &run, "first", MP_STATUS_SUCCEEDED);
    assert_int_equal(lines_of(f, "first.txt"), 1);
    /* "later" ran for real, after first, once. */
    want(f, &run, "later", MP_STATUS_SUCCEEDED);
    assert_int_equal(lines_of(f, "later.txt"), 1);
    /* Each bad payload: refused with its reason, logged; the module fails. */
    struct {
        const char *module, *reason;
    } bad[] = {{"r_malformed", "cannot be read"},
               {"r_truncated", "cannot be read"},
               {"r_oversized", "cannot be read"},
               {"r_foreign", "other-run"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        want(f, &run, bad[i].module, MP_STATUS_FAILED);
        const mp_result *r = R(f, &run, bad[i].module);
        if (!has(r->error_message, bad[i].reason))
            fail_msg("%s: %s", bad[i].module, r->error_message ? r->error_message : "(none)");
        char line[128];
        snprintf(line, sizeof line, "module \"%s\": its result cannot be read", bad[i].module);
        assert_int_equal(log_count(f, line), 1);
    }
    assert_true(has(R(f, &run, "r_oversized")->error_message, "bytes"));
    assert_int_equal(infra, 4);
    /* The run went on: what does not depend on the bad ones succeeded. */
    want(f, &run, "fine", MP_STATUS_SUCCEEDED);
    mp__run_release(&run);
    mp__coord_worker_close(w.w);
    mp__coord_master_close(&em->base);
    mp__coord_memory_hub_free(hub);
    fx_free(f);
}

/* A worker is handed a module that is not in its pipeline and damaged
 * dependency results. */
static void test_bad_worker_input(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  p_malformed: {requires: {role: good}, run: 'true'}\n"
                   "  p_truncated: {requires: {role: good}, run: 'true'}\n"
                   "  p_oversized: {requires: {role: good}, run: 'true'}\n"
                   "  p_foreign: {requires: {role: good}, run: 'true'}\n"
                   "  c1: {depends_on: [p_malformed], requires: {role: evil}, run: 'touch c1'}\n"
                   "  c2: {depends_on: [p_truncated], requires: {role: evil}, run: 'touch c2'}\n"
                   "  c3: {depends_on: [p_oversized], requires: {role: evil}, run: 'touch c3'}\n"
                   "  c4: {depends_on: [p_foreign], requires: {role: evil}, run: 'touch c4'}\n"
                   "  solid: {requires: {role: evil}, run: 'touch solid'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "bad-worker", .memory_hub = hub};
    mp_coord_master *m = NULL;
    assert_int_equal(mp__coord_master_open(&co, &m, NULL), 0);
    wthread w[3] = {0};
    wthread_start(f, &w[1], &co, 1, "w1", "role=evil", true);
    wthread_start(f, &w[2], &co, 2, "w2", "role=good", false);
    mp_dist_master_opts mo = master_opts(f, &co, 3);
    mp_run run;
    mp_error err = {0};
    assert_int_equal(mp__dist_master_run(m, &mo, &run, &err), 0);
    for (int i = 1; i < 3; i++) {
        pthread_join(w[i].t, NULL);
        assert_int_equal(w[i].rc, 0);
    }
    /* The foreign module: refused by the worker, logged; its report is
     * refused by the coordinator (not in the plan) and logged too. */
    assert_int_equal(log_count(f, "module \"ghost\" is not in this instance's pipeline"), 1);
    assert_int_equal(log_count(f, "result of ghost"), 1);
    const char *cs[] = {"c1", "c2", "c3", "c4"};
    const char *why[] = {"p_malformed", "p_truncated", "p_oversized", "other-run"};
    for (size_t i = 0; i < 4; i++) {
        want(f, &run, cs[i], MP_STATUS_FAILED);
        const mp_result *r = R(f, &run, cs[i]);
        if (!has(r->error_message, "cannot start: no result of its dependency") ||
            !has(r->error_message, why[i]))
            fail_msg("%s: %s", cs[i], r->error_message ? r->error_message : "(none)");
        assert_int_equal(r->instance, 1);
        char path[160];
        snprintf(path, sizeof path, "%s/%s", f->dir, cs[i]);
        assert_int_not_equal(access(path, F_OK), 0); /* never started */
    }
    want(f, &run, "p_malformed", MP_STATUS_SUCCEEDED);
    want(f, &run, "solid", MP_STATUS_SUCCEEDED); /* the worker went on */
    mp__run_release(&run);
    for (int i = 1; i < 3; i++)
        mp__coord_worker_close(w[i].w);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    fx_free(f);
}

/* Two workers claim the same index: the second is refused (MP_EEXIST)
 * and the run goes on with the first; an index outside the run is
 * refused (MP_EINVAL). */
static void test_double_registration(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  one: {requires: {role: w}, run: 'sleep 0.3'}\n"
                   "  two: {requires: {role: w}, run: 'sleep 0.3'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "twice", .memory_hub = hub};
    mp_coord_master *m = NULL;
    assert_int_equal(mp__coord_master_open(&co, &m, NULL), 0);
    wthread w[4] = {0};
    wthread_start(f, &w[1], &co, 1, "first-1", "role=w", false);
    wthread_start(f, &w[2], &co, 1, "second-1", "role=w", false);
    wthread_start(f, &w[3], &co, 2, "outside-2", "role=w", false);
    mp_dist_master_opts mo = master_opts(f, &co, 2);
    mp_run run;
    mp_error err = {0};
    assert_int_equal(mp__dist_master_run(m, &mo, &run, &err), 0);
    for (int i = 1; i < 4; i++)
        pthread_join(w[i].t, NULL);
    int ok = 0, refused = 0;
    for (int i = 1; i < 3; i++) {
        if (w[i].rc == 0) ok++;
        if (w[i].rc == MP_EEXIST) {
            refused++;
            assert_true(has(w[i].err.message, "1"));
        }
    }
    assert_int_equal(ok, 1);
    assert_int_equal(refused, 1);
    assert_int_equal(w[3].rc, MP_EINVAL);
    print_message("refused: %s | %s\n", w[w[1].rc ? 1 : 2].err.message, w[3].err.message);
    want(f, &run, "one", MP_STATUS_SUCCEEDED);
    want(f, &run, "two", MP_STATUS_SUCCEEDED);
    int winner = w[1].rc == 0 ? 1 : 2;
    assert_string_equal(R(f, &run, "one")->worker, w[winner].id);
    assert_string_equal(R(f, &run, "two")->worker, w[winner].id);
    mp__run_release(&run);
    for (int i = 1; i < 4; i++)
        mp__coord_worker_close(w[i].w);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    fx_free(f);
}

/* Three idle workers and the master's own worker wait 10 s while one
 * module runs on a pinned worker: the whole process, master loop
 * included, stays under 1 % of one CPU. */
static void test_idle_cpu_10s(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n"
                   "  distributed: {heartbeat: 2s, worker_timeout: 15s, registration_timeout: 5s}\n"
                   "modules:\n"
                   "  one: {requires: {role: busy}, run: 'sleep 10'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "idle10", .memory_hub = hub};
    mp_coord_master *m = NULL;
    assert_int_equal(mp__coord_master_open(&co, &m, NULL), 0);
    wthread w[4] = {0};
    wthread_start(f, &w[1], &co, 1, "w1", "role=busy", false);
    wthread_start(f, &w[2], &co, 2, "w2", NULL, false);
    wthread_start(f, &w[3], &co, 3, "w3", NULL, false);
    mp_dist_master_opts mo = master_opts(f, &co, 4);
    int64_t c0 = cpu_us(), t0 = mp__clock_now_ms();
    mp_run run;
    mp_error err = {0};
    assert_int_equal(mp__dist_master_run(m, &mo, &run, &err), 0);
    for (int i = 1; i < 4; i++)
        pthread_join(w[i].t, NULL);
    int64_t used = cpu_us() - c0, wall = (mp__clock_now_ms() - t0) * 1000;
    print_message("idle 10 s: %lld us cpu over %lld us (%.3f %%)\n", (long long)used,
                  (long long)wall, 100.0 * (double)used / (double)wall);
    want(f, &run, "one", MP_STATUS_SUCCEEDED);
    assert_true(wall >= 9900000);
    assert_true(used * 100 < wall); /* < 1 %, the module's spawn included */
    mp__run_release(&run);
    for (int i = 1; i < 4; i++)
        mp__coord_worker_close(w[i].w);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    fx_free(f);
}

/* ----------------------------------------------------------------- runner */

static const struct CMUnitTest cases[] = {
    DIST_CASE(bad_master_input),
    DIST_CASE(bad_worker_input),
    DIST_CASE(double_registration),
    DIST_CASE(idle_cpu_10s),
};

int main(int argc, char **argv)
{
    return dist_main("distributed.badinput", cases, sizeof cases / sizeof cases[0], argc, argv);
}
