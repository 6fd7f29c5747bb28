/*
 * dist_run.c -- distributed runs as threads of one process over the
 * memory coordinator: a master (instance 0, which executes too) and
 * workers running real shell modules (master.h, worker.h).
 *
 * Registered once per case as "distributed.<case>" (every DIST_CASE entry
 * of the table below). Cases that start threads join them before they return.
 */
#include "dist_fixture.h"

/* Shorter than the fixture's: the silent worker must be declared dead
 * quickly. */
#undef TIMING
#define TIMING                                                                                     \
    "  distributed: {heartbeat: 100ms, worker_timeout: 600ms, registration_timeout: 5s, "          \
    "max_attempts: 3}\n"

static void run_local(fx *f, mp_on_failure of, mp_run *run)
{
    mp_engine_opts o = {.parallelism = 4,
                        .on_failure = of,
                        .workspace = f->dir,
                        .state_dir = next_state(f),
                        .run_id = "dist-test",
                        .kill_grace_ms = 300,
                        .stop_fd = -1};
    mp_error err = {0};
    if (mp__engine_run(f->p, &f->plan, &o, run, &err) != 0) fail_msg("local: %s", err.message);
}

static void run_dist(fx *f, int n, const char *const *caps, mp_on_failure of, mp_run *run)
{
    int wrc[8] = {0};
    mp_dist_threads_opts o = {.p = f->p,
                              .plan = &f->plan,
                              .instances = n,
                              .caps = caps,
                              .slots = 2,
                              .on_failure = of,
                              .run_id = "dist-test",
                              .workspace = f->dir,
                              .state_root = next_state(f),
                              .kill_grace_ms = 300,
                              .log = log_line,
                              .log_data = f};
    mp_error err = {0};
    if (mp__dist_run_threads(&o, run, wrc, &err) != 0) fail_msg("dist: %s", err.message);
    for (int i = 1; i < n; i++)
        assert_int_equal(wrc[i], 0); /* every worker saw the completion */
}

static const char *out(const mp_result *r, const char *key)
{
    for (size_t k = 0; k < r->outputs.n; k++)
        if (strcmp(r->outputs.v[k].key.s, key) == 0) return r->outputs.v[k].value.s;
    return NULL;
}

/* ---------------------------------------------------------------- cases */

static void test_success(void **state)
{
    (void)state;
    fx *f =
        fx_new("version: 1\n"
               "options:\n" TIMING "modules:\n"
               "  a: {run: 'echo v=hello >> $MODPIPE_OUTPUT'}\n"
               "  b: {depends_on: [a], run: 'echo w=${{ modules.a.outputs.v }}-$MODPIPE_DEP_A_V >> "
               "$MODPIPE_OUTPUT'}\n"
               "  c: {depends_on: [a], run: 'sleep 0.2; echo i=$MODPIPE_INSTANCE_INDEX >> "
               "$MODPIPE_OUTPUT'}\n"
               "  d: {depends_on: [a], run: 'sleep 0.2'}\n"
               "  e: {depends_on: [a], run: 'sleep 0.2'}\n"
               "  z: {depends_on: [b, c, d, e], run: 'echo s=${{ modules.b.status }} >> "
               "$MODPIPE_OUTPUT'}\n");
    mp_run run;
    run_dist(f, 3, NULL, MP_ON_FAILURE_STOP, &run);
    assert_int_equal(run.verdict, MP_STATUS_SUCCEEDED);
    const char *all[] = {"a", "b", "c", "d", "e", "z"};
    for (size_t i = 0; i < 6; i++) {
        want(f, &run, all[i], MP_STATUS_SUCCEEDED);
        const mp_result *r = R(f, &run, all[i]);
        assert_true(r->instance >= 0 && r->instance < 3);
        assert_non_null(r->worker);
        assert_int_equal(r->attempts, 1);
    }
    assert_string_equal(out(R(f, &run, "b"), "w"), "hello-hello");
    assert_string_equal(out(R(f, &run, "z"), "s"), "succeeded");
    char idx[8];
    snprintf(idx, sizeof idx, "%d", R(f, &run, "c")->instance);
    assert_string_equal(out(R(f, &run, "c"), "i"), idx);
    mp__run_release(&run);
    fx_free(f);
}

static void test_routing(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n  on_failure: continue\n" TIMING "modules:\n"
                   "  gpu: {requires: {gpu: 'yes'}, run: 'true'}\n"
                   "  pinned: {pin_to_master: true, run: 'true'}\n"
                   "  t:\n"
                   "    matrix: {os: [linux, macos]}\n"
                   "    requires: {os: '${{ matrix.os }}'}\n"
                   "    run: 'echo os=${{ matrix.os }} >> $MODPIPE_OUTPUT'\n"
                   "  sparc: {requires: {arch: sparc}, run: 'true'}\n"
                   "  after_sparc: {depends_on: [sparc], run: 'true'}\n");
    const char *caps[] = {"os=linux", "os=linux,gpu=no", "os=macos,gpu=yes"};
    for (int round = 0; round < 2; round++) {
        mp_run run;
        run_dist(f, 3, caps, MP_ON_FAILURE_CONTINUE, &run);
        want(f, &run, "gpu", MP_STATUS_SUCCEEDED);
        assert_int_equal(R(f, &run, "gpu")->instance, 2);
        want(f, &run, "pinned", MP_STATUS_SUCCEEDED);
        assert_int_equal(R(f, &run, "pinned")->instance, 0);
        want(f, &run, "t[os=macos]", MP_STATUS_SUCCEEDED);
        assert_int_equal(R(f, &run, "t[os=macos]")->instance, 2);
        want(f, &run, "t[os=linux]", MP_STATUS_SUCCEEDED);
        int li = R(f, &run, "t[os=linux]")->instance;
        assert_true(li == 0 || li == 1);
        assert_string_equal(out(R(f, &run, "t[os=macos]"), "os"), "macos");
        want(f, &run, "sparc", MP_STATUS_FAILED);
        const char *msg = R(f, &run, "sparc")->error_message;
        assert_non_null(msg);
        assert_non_null(strstr(msg, "arch=sparc"));
        assert_non_null(strstr(msg, "instances present: 0 ("));
        assert_non_null(strstr(msg, "2 (gpu=yes,instance=2,os=macos"));
        want(f, &run, "after_sparc", MP_STATUS_DEPENDENCY_FAILED);
        assert_int_equal(run.verdict, MP_STATUS_FAILED);
        mp__run_release(&run);
    }
    fx_free(f);
}

/* The table: distributed statuses and outputs equal the local ones. */
static const struct table_row {
    const char *name;
    mp_on_failure of;
    const char *yaml;
} table[] = {
    {"ignore_failure and always_run, continue", MP_ON_FAILURE_CONTINUE,
     "  a: {run: 'echo v=1 >> $MODPIPE_OUTPUT'}\n"
     "  bad: {run: 'exit 3', ignore_failure: true}\n"
     "  b: {depends_on: [a, bad], run: 'echo got=${{ modules.a.outputs.v }}-${{ "
     "modules.bad.status }} >> $MODPIPE_OUTPUT'}\n"
     "  f: {run: 'exit 1'}\n"
     "  g: {depends_on: [f], run: 'true'}\n"
     "  h: {depends_on: [g], run: 'true'}\n"
     "  cleanup: {depends_on: [g], always_run: true, run: 'echo st=${{ modules.g.status }} >> "
     "$MODPIPE_OUTPUT'}\n"
     "  free: {run: 'echo x=y >> $MODPIPE_OUTPUT'}\n"},
    {"on_failure stop", MP_ON_FAILURE_STOP,
     "  f: {run: 'sleep 0.3; exit 1'}\n"
     "  long: {run: 'sleep 5'}\n"
     "  next: {depends_on: [long], run: 'true'}\n"
     "  later: {depends_on: [f], run: 'true'}\n"
     "  cleanup: {depends_on: [long], always_run: true, run: 'echo st=${{ modules.long.status }} "
     ">> $MODPIPE_OUTPUT'}\n"},
    {"skips and conditions", MP_ON_FAILURE_CONTINUE,
     "  s: {skip_if: [{command: 'true'}], run: 'true'}\n"
     "  after_s: {depends_on: [s], run: 'true'}\n"
     "  r: {run_if: [{file: nonexistent-file}], run: 'true'}\n"
     "  k: {skip_if: [{command: 'false'}], run: 'echo ok=1 >> $MODPIPE_OUTPUT'}\n"
     "  always: {depends_on: [s], always_run: true, run: 'echo st=${{ modules.s.status }} >> "
     "$MODPIPE_OUTPUT'}\n"},
    {"matrix and outputs across instances", MP_ON_FAILURE_STOP,
     "  m:\n"
     "    matrix: {k: [x, y, z]}\n"
     "    run: 'echo k=${{ matrix.k }} >> $MODPIPE_OUTPUT'\n"
     "  join: {depends_on: [m], run: 'echo all=$MODPIPE_DEP_M_K_X__K$MODPIPE_DEP_M_K_Y__K >> "
     "$MODPIPE_OUTPUT'}\n"
     "  timeout: {run: 'sleep 3', timeout: 200ms, ignore_failure: true}\n"
     "  dep_t: {depends_on: [timeout], run: 'echo t=${{ modules.timeout.status }} >> "
     "$MODPIPE_OUTPUT'}\n"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof table / sizeof table[0]; t++) {
        char yaml[4096];
        snprintf(yaml, sizeof yaml, "version: 1\noptions:\n" TIMING "modules:\n%s", table[t].yaml);
        fx *f = fx_new(yaml);
        mp_run local, dist;
        run_local(f, table[t].of, &local);
        run_dist(f, 3, NULL, table[t].of, &dist);
        print_message("table: %s\n", table[t].name);
        for (size_t i = 0; i < f->p->modules.n; i++) {
            const mp_result *a = &local.results[i], *b = &dist.results[i];
            const char *name = f->p->modules.v[i]->name;
            print_message("  %-20s local %-18s dist %-18s (instance %d)\n", name,
                          mp__status_name(a->status), mp__status_name(b->status), b->instance);
            if (a->status != b->status) fail_msg("%s: %s: statuses differ", table[t].name, name);
            assert_int_equal(a->outputs.n, b->outputs.n);
            for (size_t k = 0; k < a->outputs.n; k++) {
                assert_string_equal(a->outputs.v[k].key.s, b->outputs.v[k].key.s);
                assert_string_equal(a->outputs.v[k].value.s, b->outputs.v[k].value.s);
            }
        }
        assert_int_equal(local.verdict, dist.verdict);
        mp__run_release(&local);
        mp__run_release(&dist);
        fx_free(f);
    }
}

/* ------------------------------------------------------- fault injection */

/* A worker handle around a memory one that goes silent once it claims
 * attempt 1 of module "slow": its heartbeats and renewals are lost, its
 * claims wait without reaching the coordinator (a partition), but its
 * result still arrives -- late. */
typedef struct silent_w {
    mp_coord_worker base;
    mp_coord_worker *in;
    bool silent;
} silent_w;

static const mp_coord_worker_vtable silent_vt;

static silent_w *S(mp_coord_worker *w)
{
    return (silent_w *)w;
}

static int s_open(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err)
{
    (void)o, (void)out;
    return mp__error(err, MP_EINVAL, "", "opened by the test");
}
static void s_close(mp_coord_worker *w)
{
    mp__coord_worker_close(S(w)->in);
    free(w);
}
static int s_register(mp_coord_worker *w, const mp_coord_registration *r, int64_t dl, mp_error *e)
{
    return S(w)->in->vt->register_(S(w)->in, r, dl, e);
}
static int s_claim(mp_coord_worker *w, int64_t dl, mp_coord_lease *l, mp_coord_run_state *st,
                   mp_error *e)
{
    silent_w *s = S(w);
    if (s->silent) { /* partitioned: only the end of the run gets through */
        int rc = mp__coord_worker_observe(s->in, dl, st, e);
        if (rc == 0 && (*st == MP_COORD_RUN_COMPLETED || *st == MP_COORD_RUN_MASTER_LOST)) return 0;
        *st = MP_COORD_RUN_ACTIVE;
        return MP_ETIMEDOUT;
    }
    int rc = s->in->vt->claim(s->in, dl, l, st, e);
    if (rc == 0 && *st == MP_COORD_RUN_ACTIVE && strcmp(l->module, "slow") == 0 && l->attempt == 1)
        s->silent = true;
    return rc;
}
static int s_renew(mp_coord_worker *w, const mp_coord_lease *l, mp_coord_renew_answer *a,
                   mp_error *e)
{
    if (S(w)->silent) {
        *a = MP_COORD_RENEW_OK; /* lost on the way; the worker thinks it renewed */
        return 0;
    }
    return S(w)->in->vt->renew(S(w)->in, l, a, e);
}
static int s_complete(mp_coord_worker *w, const mp_coord_lease *l, const char *st, const char *js,
                      mp_error *e)
{
    return S(w)->in->vt->complete(S(w)->in, l, st, js, e);
}
static int s_fetch(mp_coord_worker *w, const char *m, char **js, mp_error *e)
{
    return S(w)->in->vt->fetch_result(S(w)->in, m, js, e);
}
static int s_heartbeat(mp_coord_worker *w, mp_error *e)
{
    return S(w)->silent ? 0 : S(w)->in->vt->heartbeat(S(w)->in, e);
}
static int s_observe(mp_coord_worker *w, int64_t dl, mp_coord_run_state *st, mp_error *e)
{
    return S(w)->in->vt->observe(S(w)->in, dl, st, e);
}

static const mp_coord_worker_vtable silent_vt = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "silent",
    .open = s_open,
    .close = s_close,
    .register_ = s_register,
    .claim = s_claim,
    .renew = s_renew,
    .complete = s_complete,
    .fetch_result = s_fetch,
    .heartbeat = s_heartbeat,
    .observe = s_observe,
};

static void wthread_start(fx *f, wthread *x, const mp_coord_open_opts *co, int index,
                          const char *caps, bool silent)
{
    mp_coord_worker *in = NULL;
    assert_int_equal(mp__coord_worker_open(co, &in, NULL), 0);
    if (silent) {
        silent_w *s = calloc(1, sizeof *s);
        s->base.vt = &silent_vt;
        snprintf(s->base.run_id, sizeof s->base.run_id, "%s", in->run_id);
        s->in = in;
        x->w = &s->base;
    } else {
        x->w = in;
    }
    char id[32];
    snprintf(id, sizeof id, "w%d", index);
    wthread_run(f, x, x->w, co, index, id, caps);
}

static void test_silent_worker(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  slow: {requires: {role: a}, run: 'sleep 1; echo by=$MODPIPE_INSTANCE_INDEX "
                   ">> $MODPIPE_OUTPUT'}\n"
                   "  after: {depends_on: [slow], run: 'echo got=${{ modules.slow.outputs.by }} >> "
                   "$MODPIPE_OUTPUT'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "silent-run", .memory_hub = hub};
    mp_coord_master *m = NULL;
    assert_int_equal(mp__coord_master_open(&co, &m, NULL), 0);
    wthread w[3] = {0};
    wthread_start(f, &w[1], &co, 1, "role=a", true);
    wthread_start(f, &w[2], &co, 2, "role=a", true);
    mp_dist_master_opts mo = {.p = f->p,
                              .plan = &f->plan,
                              .instances = 3,
                              .on_failure = MP_ON_FAILURE_STOP,
                              .version = "test",
                              .coord = co,
                              .log = log_line,
                              .log_data = f};
    mo.self = (mp_dist_worker_opts){.engine = {.parallelism = 2,
                                               .workspace = f->dir,
                                               .state_dir = next_state(f),
                                               .run_id = co.run_id,
                                               .kill_grace_ms = 300,
                                               .stop_fd = -1,
                                               .keep_children = 1},
                                    .worker_id = "w0"};
    mp_run run;
    mp_error err = {0};
    assert_int_equal(mp__dist_master_run(m, &mo, &run, &err), 0);
    for (int i = 1; i < 3; i++)
        pthread_join(w[i].t, NULL);
    /* Exactly one worker went silent; the other ran "slow" again. */
    int silent = S(w[1].w)->silent ? 1 : 2, other = 3 - silent;
    assert_false(S(w[other].w)->silent);
    want(f, &run, "slow", MP_STATUS_SUCCEEDED);
    want(f, &run, "after", MP_STATUS_SUCCEEDED);
    assert_int_equal(R(f, &run, "slow")->instance, other);
    assert_int_equal(R(f, &run, "slow")->attempts, 2);
    char by[8];
    snprintf(by, sizeof by, "%d", other);
    assert_string_equal(out(R(f, &run, "slow"), "by"), by);
    assert_string_equal(out(R(f, &run, "after"), "got"), by);
    /* The silent worker's late result was refused and the master logged it. */
    assert_int_equal(log_count(f, "requeued for attempt 2 of 3"), 1);
    assert_int_equal(log_count(f, "rejected a late result for slow"), 1);
    assert_int_equal(w[other].rc, 0);
    assert_int_equal(w[silent].rc, 0);
    mp__run_release(&run);
    for (int i = 1; i < 3; i++)
        mp__coord_worker_close(w[i].w);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    fx_free(f);
}

/* The master publishes, sees a module claimed, and disappears: workers
 * stop the module and return MP_ELOST promptly. */
static void test_master_lost(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  long: {run: 'sleep 30'}\n"
                   "  other: {run: 'sleep 30'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "lost-run", .memory_hub = hub};
    mp_coord_master *m = NULL;
    assert_int_equal(mp__coord_master_open(&co, &m, NULL), 0);
    mp_coord_plan_module pm[] = {{"long", ""}, {"other", ""}};
    mp_coord_plan plan = {.pipeline_hash = f->p->hash,
                          .version = "test",
                          .instances = 3,
                          .lease_ms = 600,
                          .worker_timeout_ms = 600,
                          .master_timeout_ms = 600,
                          .n_modules = 2,
                          .modules = pm};
    assert_int_equal(mp__coord_master_publish_plan(m, &plan, NULL), 0);
    wthread w[3] = {0};
    wthread_start(f, &w[1], &co, 1, NULL, false);
    wthread_start(f, &w[2], &co, 2, NULL, false);
    assert_int_equal(mp__coord_master_enqueue(m, "long", NULL), 0);
    assert_int_equal(mp__coord_master_enqueue(m, "other", NULL), 0);
    int claimed = 0;
    int64_t until = mp__deadline_in(3000);
    while (claimed < 2 && !mp__deadline_passed(until)) {
        mp_coord_event ev;
        if (mp__coord_master_next_event(m, mp__deadline_in(100), &ev, NULL) == 0) {
            claimed += ev.kind == MP_COORD_EV_CLAIMED;
            mp__coord_event_release(&ev);
        }
        mp__coord_master_heartbeat(m, NULL);
    }
    assert_int_equal(claimed, 2);
    usleep(300 * 1000); /* the modules run; then the master is gone */
    int64_t gone = mp__clock_now_ms();
    for (int i = 1; i < 3; i++) {
        pthread_join(w[i].t, NULL);
        assert_int_equal(w[i].rc, MP_ELOST);
        assert_non_null(strstr(w[i].err.message, "master lost"));
        /* liveness 600 ms + one heartbeat + kill grace 300 ms, with room */
        assert_true(w[i].ended_at - gone < 2500);
    }
    for (int i = 1; i < 3; i++)
        mp__coord_worker_close(w[i].w);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    fx_free(f);
}

/* Idle instances while one module runs 2 s: no busy loop anywhere. */
static void test_idle_cpu(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n"
                   "  distributed: {heartbeat: 2s, worker_timeout: 15s, registration_timeout: 5s}\n"
                   "modules:\n"
                   "  one: {run: 'sleep 2'}\n");
    int64_t c0 = cpu_us(), t0 = mp__clock_now_ms();
    mp_run run;
    run_dist(f, 4, NULL, MP_ON_FAILURE_STOP, &run);
    int64_t used = cpu_us() - c0, wall = (mp__clock_now_ms() - t0) * 1000;
    print_message("idle: %lld us cpu over %lld us\n", (long long)used, (long long)wall);
    want(f, &run, "one", MP_STATUS_SUCCEEDED);
    assert_true(wall >= 1900000);
    assert_true(used * 50 < wall); /* < 2 % for 4 instances, the module's spawn included */
    mp__run_release(&run);
    fx_free(f);
}

/* ----------------------------------------------------------------- runner */


static const struct CMUnitTest cases[] = {
    DIST_CASE(success),       DIST_CASE(routing),     DIST_CASE(table),
    DIST_CASE(silent_worker), DIST_CASE(master_lost), DIST_CASE(idle_cpu),
};

int main(int argc, char **argv)
{
    return dist_main("distributed", cases, sizeof cases / sizeof cases[0], argc, argv);
}
