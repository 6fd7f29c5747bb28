/*
 * engine.c -- mp__engine_run: setup, the poll loop, teardown (engine.h).
 *
 * Threads: the caller's thread runs everything here. C-function modules
 * run on the engine's worker pool (fn_module.h): at most `parallelism`
 * workers, started when the first function attempts need them. Every
 * attempt is waited for before its module finishes, so when the loop ends
 * no function runs; the pool is then freed, which joins the workers.
 * Locks: none here (the workers share only the pool's queue, which has its
 * own, their jobs' mp_ctx, and the notify eventfd).
 *
 * The loop, one poll(2) per turn over: the stop fd, the notify eventfd,
 * and every active module's fds (output pipe and pidfd of an attempt or a
 * command condition). Its timeout is the nearest deadline: attempt
 * timeouts, kill grace periods, drains, retry wake-ups, condition
 * deadlines, and the 100 ms sink tick while modules run. After each wake
 * every active module is stepped (non-blocking), then new modules start
 * while fewer than `parallelism` are active.
 *
 * Who decides what runs is a driver (engine.h): the scheduler for
 * mp__engine_run (the local driver below), a distributed instance's
 * worker for mp__engine_drive. The loop also polls the driver's fd and
 * wakes at its deadline.
 *
 * Shutdown order: the loop ends when the driver says the run is finished
 * (the scheduler: every module terminal) and none is active (so every
 * process group is gone and every function has returned) -> orphans
 * re-parented to us are killed -> excluded modules are given their result
 * -> verdict -> sinks' run_finished -> the worker pool is stopped and its
 * threads joined -> the scheduler, module states and fds are freed.
 */
#include "core/engine_int.h"
#include "core/error.h"
#include "core/module_env.h"
#include "core/requirements.h"
#include "core/strmap.h"
#include "core/xalloc.h"
#include "os/clock.h"
#include "output/mask.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_KILL_GRACE_MS 10000
#define TICK_MS               100

/* ----------------------------------------------------------------- sinks */

void mp__eng_emit_started(engine *e, size_t i, int attempt)
{
    for (size_t k = 0; k < e->o->nsinks; k++) {
        const mp_sink *s = &e->o->sinks[k];
        if (s->vt->module_started) s->vt->module_started(s->data, i, attempt);
    }
}

void mp__eng_emit_finished(engine *e, size_t i)
{
    for (size_t k = 0; k < e->o->nsinks; k++) {
        const mp_sink *s = &e->o->sinks[k];
        if (s->vt->module_finished) s->vt->module_finished(s->data, i, &e->run->results[i]);
    }
}

static void emit_flush(engine *e)
{
    for (size_t k = 0; k < e->o->nsinks; k++) {
        const mp_sink *s = &e->o->sinks[k];
        if (s->vt->flush) s->vt->flush(s->data);
    }
}

static void emit_tick(engine *e, int64_t now)
{
    for (size_t k = 0; k < e->o->nsinks; k++) {
        const mp_sink *s = &e->o->sinks[k];
        if (s->vt->tick) s->vt->tick(s->data, now);
    }
}

/* ------------------------------------------------------- settle and stop */

/* Modules the scheduler ended without running. */
static void report_settled(engine *e)
{
    size_t n;
    const mp_settled *st;
    while ((st = mp__sched_take_settled(e->sched, &n)) != NULL && n > 0) {
        for (size_t k = 0; k < n; k++) {
            mp_result *r = &e->run->results[st[k].module];
            r->status = st[k].status;
            r->skip_reason = st[k].reason ? mp__arena_strdup(e->run->arena, st[k].reason) : NULL;
            mp__eng_emit_finished(e, st[k].module);
        }
    }
}

static const char *signal_text(int signo)
{
    switch (signo) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    case SIGQUIT:
        return "SIGQUIT";
    default:
        return NULL;
    }
}

/* Cancel the active modules a stop concerns: all but always_run ones, or
 * all of them (a second signal). */
static void cancel_active(engine *e, int all)
{
    size_t n = e->nactive;
    size_t *copy = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    memcpy(copy, e->active, n * sizeof(size_t));
    for (size_t k = 0; k < n; k++) {
        size_t i = copy[k];
        if (e->slot_of[i] < 0) continue; /* finished meanwhile */
        if (!all && e->p->modules.v[i]->always_run) continue;
        mp__eng_module_cancel(e, i, e->stop_reason);
    }
    free(copy);
}

int mp__eng_stopping(engine *e)
{
    const char *why = NULL;
    return e->drv.vt->stopping(e->drv.data, &why);
}

static void handle_stop(engine *e)
{
    const char *why = NULL;
    if (e->stop_handled || !e->drv.vt->stopping(e->drv.data, &why)) return;
    if (!e->stop_reason && why) e->stop_reason = mp__arena_strdup(e->run->arena, why);
    e->stop_handled = 1;
    cancel_active(e, 0);
}

mod_state *mp__eng_slot(engine *e, size_t i)
{
    return &e->slots[e->slot_of[i]];
}

void mp__eng_module_done(engine *e, size_t i, mp_status st)
{
    for (size_t k = 0; k < e->nactive; k++) {
        if (e->active[k] == i) {
            e->active[k] = e->active[--e->nactive];
            break;
        }
    }
    e->slots[e->slot_of[i]].phase = MOD_IDLE;
    e->free_slots[e->nfree++] = e->slot_of[i];
    e->slot_of[i] = -1;
    mp__eng_emit_finished(e, i);
    e->drv.vt->done(e->drv.data, e, i, st);
    handle_stop(e);
}

/* ------------------------------------------------- the local driver */

/* The scheduler decides (mp__engine_run); data is the engine. */
static long local_next(void *data, mp_engine *e)
{
    (void)data;
    return mp__sched_next(e->sched);
}

static void local_done(void *data, mp_engine *e, size_t i, mp_status st)
{
    (void)data;
    int was_stopping = mp__sched_stopping(e->sched);
    mp__sched_done(e->sched, i, st);
    if (!was_stopping && mp__sched_stopping(e->sched) && !e->stop_reason)
        e->stop_reason =
            mp__arena_printf(e->run->arena, "run stopped after \"%s\" %s", e->p->modules.v[i]->name,
                             st == MP_STATUS_TIMED_OUT ? "timed out" : "failed");
    report_settled(e);
}

static int local_stopping(void *data, const char **reason)
{
    engine *e = data;
    *reason = e->stop_reason;
    return mp__sched_stopping(e->sched);
}

static int local_finished(void *data)
{
    engine *e = data;
    return mp__sched_finished(e->sched);
}

static void local_wait(void *data, int *fd, int64_t *deadline)
{
    (void)data;
    *fd = -1;
    *deadline = MP_DEADLINE_NONE;
}

static void local_step(void *data, mp_engine *e)
{
    (void)data;
    report_settled(e);
}

static const mp_engine_driver_vtable local_driver = {
    .name = "local",
    .next = local_next,
    .done = local_done,
    .stopping = local_stopping,
    .finished = local_finished,
    .wait = local_wait,
    .step = local_step,
};

/* ------------------------------------------------- for other drivers */

mp_result *mp__engine_result(mp_engine *e, size_t i)
{
    return &e->run->results[i];
}

mp_arena *mp__engine_arena(mp_engine *e)
{
    return e->run->arena;
}

int mp__engine_module_active(const mp_engine *e, size_t i)
{
    return e->slot_of[i] >= 0;
}

size_t mp__engine_active_count(const mp_engine *e)
{
    return e->nactive;
}

void mp__engine_cancel_module(mp_engine *e, size_t i, const char *reason)
{
    if (mp__engine_module_active(e, i))
        mp__eng_module_cancel(e, i, mp__arena_strdup(e->run->arena, reason));
}

/* stop_fd is readable. */
static void read_stop(engine *e)
{
    int signo = 0, rc;
    if (e->o->stop_read) {
        rc = e->o->stop_read(e->o->stop_data, &signo);
    } else {
        char buf[256];
        ssize_t r;
        do
            r = read(e->stop_fd, buf, sizeof(buf));
        while (r < 0 && errno == EINTR);
        rc = r > 0 ? 0 : -1;
        signo = SIGTERM; /* end of file counts as a request too, once */
    }
    if (rc < 0) e->stop_fd = -1;
    if (signo <= 0) return;
    if (!e->run->interrupted_by) e->run->interrupted_by = signo;
    if (mp__sched_stopping(e->sched)) {
        /* Asked while already stopping: always_run modules are stopped
         * too, and those that have not started never will. */
        mp__sched_abort(e->sched);
        report_settled(e);
        cancel_active(e, 1);
        return;
    }
    const char *name = signal_text(signo);
    e->stop_reason = name ? mp__arena_printf(e->run->arena, "run interrupted by %s", name)
                          : mp__arena_printf(e->run->arena, "run interrupted by signal %d", signo);
    mp__sched_stop(e->sched);
    report_settled(e);
    handle_stop(e);
}

/* ------------------------------------------------------------------ loop */

static void start_ready(engine *e)
{
    long i;
    while (e->nactive < (size_t)e->parallelism && (i = e->drv.vt->next(e->drv.data, e)) >= 0) {
        e->active[e->nactive++] = (size_t)i;
        /* A driver may run a module again (a lease it lost and claimed
         * back): every start begins from a clean state. */
        int32_t k = e->free_slots[--e->nfree];
        mod_state *s = &e->slots[k];
        mp_arena *keep = s->att_arena;
        memset(s, 0, sizeof(*s));
        s->att_arena = keep;
        s->e = e;
        s->idx = (size_t)i;
        e->slot_of[i] = k;
        mp__eng_module_begin(e, (size_t)i);
    }
}

static void drain_notify(engine *e)
{
    uint64_t v;
    while (read(e->notify_fd, &v, sizeof(v)) > 0)
        ;
    mp__fn_pool_rearm(e->fn_pool); /* every module is stepped next */
}

static void run_loop(engine *e)
{
    size_t cap = 3 + 2 * (size_t)e->parallelism;
    struct pollfd *pfd = mp__xmalloc(mp__xmul(cap, sizeof(*pfd)));
    size_t *copy = mp__xmalloc(mp__xmul((size_t)e->parallelism, sizeof(size_t)));
    int64_t next_tick = mp__clock_now_ms() + TICK_MS;
    for (;;) {
        e->drv.vt->step(e->drv.data, e);
        handle_stop(e);
        start_ready(e);
        /* Before the wait, and before this turn's functions are handed
         * to the workers: sinks write out this turn's lines. */
        emit_flush(e);
        int drv_fd = -1;
        int64_t drv_dl = MP_DEADLINE_NONE;
        e->drv.vt->wait(e->drv.data, &drv_fd, &drv_dl);
        if (e->nactive == 0) {
            if (e->drv.vt->finished(e->drv.data)) break;
            if (drv_fd < 0 && drv_dl == MP_DEADLINE_NONE)
                mp__die("engine: no module can start and none is running");
        }
        nfds_t n = 0;
        int stop_at = -1, notify_at;
        if (e->stop_fd >= 0) {
            stop_at = (int)n;
            pfd[n++] = (struct pollfd){.fd = e->stop_fd, .events = POLLIN};
        }
        notify_at = (int)n;
        pfd[n++] = (struct pollfd){.fd = e->notify_fd, .events = POLLIN};
        if (drv_fd >= 0) pfd[n++] = (struct pollfd){.fd = drv_fd, .events = POLLIN};
        /* The sink tick only while modules run: an idle worker sleeps. */
        int64_t dl = mp__deadline_min(e->nactive ? next_tick : MP_DEADLINE_NONE, drv_dl);
        for (size_t k = 0; k < e->nactive; k++) {
            int64_t d;
            n += mp__eng_module_fds(e, e->active[k], pfd + n, &d);
            dl = mp__deadline_min(dl, d);
        }
        mp__fn_pool_flush(e->fn_pool); /* this turn's new function jobs */
        dl = mp__deadline_min(dl, mp__fn_pool_deadline(e->fn_pool));
        if (poll(pfd, n, mp__deadline_poll_ms(dl)) < 0 && errno != EINTR)
            mp__die("engine: poll: %s", strerror(errno));
        if (stop_at >= 0 && pfd[stop_at].revents) read_stop(e);
        if (pfd[notify_at].revents) drain_notify(e);
        size_t na = e->nactive;
        memcpy(copy, e->active, na * sizeof(size_t));
        for (size_t k = 0; k < na; k++)
            if (e->slot_of[copy[k]] >= 0) mp__eng_module_step(e, copy[k]);
        int64_t now = mp__clock_now_ms();
        if (now >= next_tick) {
            if (e->nactive) emit_tick(e, now);
            next_tick = now + TICK_MS;
        }
    }
    free(copy);
    free(pfd);
}

/* ----------------------------------------------------------------- setup */

static int mkdir_p(const char *path, mp_error *err)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%s", path);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return mp__error(err, MP_EIO, path, "path too long: %s", path);
    for (char *c = buf + 1;; c++) {
        if (*c == '/' || *c == '\0') {
            char keep = *c;
            *c = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return mp__error(err, MP_EIO, buf, "cannot create directory %s: %s", buf,
                                 strerror(errno));
            *c = keep;
            if (!keep) break;
        }
    }
    if (access(path, W_OK | X_OK) < 0)
        return mp__error(err, MP_EIO, path, "state directory %s is not writable: %s", path,
                         strerror(errno));
    return 0;
}

/* Mark the modules that have a file in dir already: "<log name>.log"
 * (STALE_LOG) or "<log name>.<attempt>" (STALE_OUT). One readdir per run
 * instead of an unlink per module; when dir cannot be read, every module
 * is marked. */
static void scan_stale(engine *e, const char *dir, uint8_t bit, mp_strmap *by_name)
{
    DIR *d = opendir(dir);
    if (!d) {
        for (size_t i = 0; i < e->run->n; i++)
            e->stale[i] |= bit;
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name, *dot = strrchr(name, '.');
        if (!dot || dot == name) continue;
        if (bit == STALE_LOG ? strcmp(dot, ".log") != 0
                             : !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
            continue;
        if (!by_name->n)
            for (size_t i = 0; i < e->run->n; i++)
                mp__strmap_put(by_name, e->log_names[i], (void *)(uintptr_t)(i + 1));
        uintptr_t at = (uintptr_t)mp__strmap_getn(by_name, name, (size_t)(dot - name));
        if (at) e->stale[at - 1] |= bit;
    }
    closedir(d);
}

/* A masker for the pipeline's secrets when the caller gave none. */
static mp_masker *own_masker(const mp_pipeline *p)
{
    if (!p->secrets.n) return NULL;
    mp_masker *m = mp__masker_new();
    for (size_t i = 0; i < p->secrets.n; i++) {
        const char *v = mp__environ_get(environ, p->secrets.v[i].s);
        if (v && *v) mp__masker_add(m, p->secrets.v[i].s, v, NULL);
    }
    return m;
}

/* modpipe's environment as the run starts, copied: a C module calling
 * setenv() on its thread must not change (or free) what later modules
 * are given. */
static char **environ_snapshot(mp_arena *a)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **v = mp__arena_alloc(a, (n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = mp__arena_strdup(a, environ[i]);
    v[n] = NULL;
    return v;
}

static int parallelism_of(const mp_engine_opts *o)
{
    if (o->parallelism > 0) return o->parallelism;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

/* Modules outside the run (plan EXCLUDED) are reported skipped with the
 * plan's reason in the results (never to sinks as module_finished). */
static void settle_excluded(engine *e)
{
    for (size_t i = 0; i < e->run->n; i++) {
        mp_result *r = &e->run->results[i];
        if (e->plan->entries[i].state != MP_PLAN_EXCLUDED || r->status != MP_STATUS_PENDING)
            continue;
        r->status = MP_STATUS_SKIPPED;
        const char *why = e->plan->entries[i].reason;
        r->skip_reason = mp__arena_strdup(e->run->arena, why ? why : "not part of the run");
    }
}

static mp_status verdict_of(const mp_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        if (mp__status_is_failure(run->results[i].status)) return MP_STATUS_FAILED;
    return MP_STATUS_SUCCEEDED;
}

/* Artifacts (produces/consumes) are moved by the artifact manager the
 * caller hands in (o->artifacts). Without one, running such a pipeline
 * would silently skip what the file asks for: refused up front. */
static int refuse_artifacts(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o,
                            mp_error *err)
{
    if (o->artifacts) return 0;
    for (size_t i = 0; i < p->modules.n; i++) {
        const mp_module *m = p->modules.v[i];
        if (plan->entries[i].state != MP_PLAN_RUN) continue;
        if (m->produces.n || m->consumes.n) {
            const char *what = m->produces.n ? "produces" : "consumes";
            mp_pos pos = m->produces.n ? m->produces.v[0].pos : m->consumes.v[0].pos;
            char where[256];
            snprintf(where, sizeof(where), "%s:%u:%u", pos.file, pos.line, pos.col);
            return mp__error(err, MP_EINVALID, where,
                             "module \"%s\" %s artifacts, and this run has no artifact "
                             "store; remove \"%s\" or skip the module",
                             m->name, what, what);
        }
    }
    return 0;
}

static int engine_run(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o,
                      const mp_engine_driver *d, mp_run *run, mp_error *err)
{
    memset(run, 0, sizeof(*run));
    if (!p || !plan || !o) return mp__error(err, MP_EINVAL, "", "engine: missing argument");
    if (d && o->stop_fd >= 0)
        return mp__error(err, MP_EINVAL, "", "engine: a driver stops the run, not a stop fd");
    if (!p->validated || plan->n != p->modules.n)
        return mp__error(err, MP_ESTATE, "", "engine: pipeline not validated or plan mismatch");
    char cwd[4096];
    int rc0;
    const char *ws = o->workspace;
    if (!ws) {
        if (!getcwd(cwd, sizeof(cwd)))
            return mp__error(err, MP_EIO, "", "cannot get the working directory: %s",
                             strerror(errno));
        ws = cwd;
    }
    if (ws[0] != '/')
        return mp__error(err, MP_EINVAL, ws, "workspace must be an absolute path: %s", ws);

    if ((rc0 = refuse_artifacts(p, plan, o, err)) < 0) return rc0;

    mp_arena *arena = mp__arena_new();
    const char *state = o->state_dir ? mp__arena_strdup(arena, o->state_dir)
                                     : mp__arena_printf(arena, "%s/.modpipe", ws);
    const char *logs = mp__arena_printf(arena, "%s/logs", state);
    const char *outs = mp__arena_printf(arena, "%s/outputs", state);
    int rc;
    if ((rc = mkdir_p(logs, err)) < 0 || (rc = mkdir_p(outs, err)) < 0 ||
        (rc = mp__requirements_check(p, ws, environ, err)) < 0) {
        mp__arena_free(arena);
        return rc;
    }
    int nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (nfd < 0) {
        mp__arena_free(arena);
        return mp__error(err, MP_EIO, "", "eventfd: %s", strerror(errno));
    }
    /* Failing to become subreaper only loses orphan tracking: go on. */
    mp__process_become_subreaper(NULL);

    engine e = {0};
    mp_masker *own = o->masker ? NULL : own_masker(p);
    e.p = p;
    e.plan = plan;
    e.o = o;
    e.run = run;
    e.parallelism = parallelism_of(o);
    e.grace_ms = o->kill_grace_ms > 0 ? o->kill_grace_ms : DEFAULT_KILL_GRACE_MS;
    e.workspace = mp__arena_strdup(arena, ws);
    e.logs_dir = logs;
    e.outputs_dir = outs;
    e.masker = o->masker ? o->masker : own;
    e.environ = environ_snapshot(arena);
    mp_module_env base_of = {.p = p,
                             .run_id = o->run_id,
                             .instance_index = o->instance_index,
                             .workspace = e.workspace,
                             .environ = e.environ};
    e.env_base = mp__env_base_new(arena, &base_of);
    e.notify_fd = nfd;
    e.stop_fd = o->stop_fd;
    e.scratch = (mp_strbuf)MP_STRBUF_INIT;
    e.rng = (uint64_t)mp__clock_now_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^
            (uint64_t)(uintptr_t)&e;
    if (!e.rng) e.rng = 1;

    run->arena = arena;
    run->n = p->modules.n;
    run->results = mp__arena_alloc(arena, (run->n ? run->n : 1) * sizeof(mp_result));
    for (size_t i = 0; i < run->n; i++)
        mp__result_init(&run->results[i]);
    e.log_names = mp__log_names(p, arena);
    e.stale = mp__xcalloc(run->n ? run->n : 1, 1);
    mp_strmap by_name = MP_STRMAP_INIT;
    scan_stale(&e, logs, STALE_LOG, &by_name);
    scan_stale(&e, outs, STALE_OUT, &by_name);
    mp__strmap_release(&by_name);
    e.slots = mp__xcalloc((size_t)e.parallelism, sizeof(mod_state));
    e.free_slots = mp__xmalloc(mp__xmul((size_t)e.parallelism, sizeof(int32_t)));
    for (int k = 0; k < e.parallelism; k++)
        e.free_slots[e.nfree++] = e.parallelism - 1 - k;
    e.slot_of = mp__xmalloc(mp__xmul(run->n ? run->n : 1, sizeof(int32_t)));
    for (size_t i = 0; i < run->n; i++)
        e.slot_of[i] = -1;
    e.active = mp__xmalloc(mp__xmul((size_t)e.parallelism, sizeof(size_t)));
    if (d) {
        e.drv = *d;
    } else {
        mp_sched_opts so = {.on_failure = o->on_failure, .expected_ms = o->expected_ms};
        e.sched = mp__sched_new(p, plan, &so);
        e.drv = (mp_engine_driver){&local_driver, &e};
    }

    run->started_at = mp__clock_wall_ms();
    mp_run_info info = {.pipeline = p,
                        .run_id = o->run_id,
                        .instance_index = o->instance_index,
                        .parallelism = e.parallelism,
                        .started_at = run->started_at,
                        .expected_ms = o->expected_ms,
                        .flushes = 1};
    for (size_t k = 0; k < o->nsinks; k++)
        if (o->sinks[k].vt->run_started) o->sinks[k].vt->run_started(o->sinks[k].data, &info);

    run_loop(&e);

    if (!o->keep_children) mp__process_kill_orphans(e.grace_ms, NULL);
    settle_excluded(&e);
    run->verdict = verdict_of(run);
    run->ended_at = mp__clock_wall_ms();
    for (size_t k = 0; k < o->nsinks; k++)
        if (o->sinks[k].vt->run_finished)
            o->sinks[k].vt->run_finished(o->sinks[k].data, run->results, run->verdict);

    mp__fn_pool_free(e.fn_pool);
    mp__env_base_release(e.env_base);
    mp__sched_free(e.sched);
    for (int k = 0; k < e.parallelism; k++)
        mp__arena_free(e.slots[k].att_arena);
    free(e.slots);
    free(e.free_slots);
    free(e.slot_of);
    free(e.stale);
    free(e.active);
    mp__strbuf_release(&e.scratch);
    mp__masker_free(own);
    close(nfd);
    return 0;
}

int mp__engine_run(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o, mp_run *run,
                   mp_error *err)
{
    return engine_run(p, plan, o, NULL, run, err);
}

int mp__engine_drive(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o,
                     const mp_engine_driver *d, mp_run *run, mp_error *err)
{
    if (!d || !d->vt) return mp__error(err, MP_EINVAL, "", "engine: no driver");
    return engine_run(p, plan, o, d, run, err);
}

void mp__run_release(mp_run *run)
{
    if (!run) return;
    mp__arena_free(run->arena);
    memset(run, 0, sizeof(*run));
}
