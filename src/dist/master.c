/*
 * master.c -- the master loop of a distributed run (master.h).
 *
 * Threads: the caller's thread runs everything here except the master's
 * own worker, which runs on one thread started after the plan is
 * published and joined after the completion broadcast (which is what
 * makes it return). Locks: none here; the two threads share only the
 * coordinator (each through its own handle) and read-only inputs.
 *
 * Shutdown order: the scheduler is finished -> complete broadcast ->
 * own worker joined -> its handle closed -> excluded modules settled ->
 * verdict. On an early failure (plan not published) no thread was
 * started.
 */
#include "dist/master.h"
#include "core/error.h"
#include "core/sched.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "dist/caps.h"
#include "dist/proto.h"
#include "os/clock.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum mstate { M_IDLE, M_QUEUED, M_CLAIMED, M_DONE } mstate;

typedef struct mst {
    const mp_dist_master_opts *o;
    const mp_pipeline *p;
    mp_coord_master *m;
    mp_run *run;
    mp_sched *sched;
    char **cls; /* class of module i */
    mstate *state;
    mp_coord_worker_list workers;
    const char *stop_reason;
    bool cancel_sent;
    int interrupted; /* signal number */
    bool insisted;   /* a second signal: everything cancelled, completion sent */
    int infra;       /* modules failed for want of an instance or a result */
    int64_t heartbeat_ms, next_beat;
    int max_attempts;
    int64_t coord_failing_since; /* 0, or when next_event started failing */
    bool coord_gone;             /* the coordinator lost the run: decide alone */
} mst;

static void logf_(mst *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(mst *s, const char *fmt, ...)
{
    if (!s->o->log) return;
    mp_strbuf sb = MP_STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    s->o->log(s->o->log_data, sb.buf);
    mp__strbuf_release(&sb);
}

static void beat_if_due(mst *s)
{
    if (!mp__deadline_passed(s->next_beat)) return;
    mp_error err = {0};
    if (mp__coord_master_heartbeat(s->m, &err) < 0) logf_(s, "heartbeat: %s", err.message);
    s->next_beat = mp__deadline_in(s->heartbeat_ms);
}

static long index_of(mst *s, const char *name)
{
    const mp_module *m = name ? mp__strmap_get(&s->p->module_by_name, name) : NULL;
    return m ? (long)m->index : -1;
}

/* Store module i's result (decided here) in the coordinator. */
static void settle_in_coord(mst *s, size_t i)
{
    mp_proto_msg msg = {.type = MP_PROTO_RESULT, .run_id = s->m->run_id};
    msg.u.res.module = s->p->modules.v[i]->name;
    msg.u.res.token = "master";
    msg.u.res.result = s->run->results[i];
    if (s->coord_gone) return;
    char *json = NULL;
    mp_error err = {0};
    int rc = mp__proto_encode(&msg, &json, &err);
    if (rc == 0) rc = mp__coord_master_settle(s->m, msg.u.res.module, json, &err);
    if (rc < 0) logf_(s, "cannot store the result of %s: %s", msg.u.res.module, err.message);
    free(json);
}

/* The scheduler's modules that ended without running. */
static void take_settled(mst *s)
{
    size_t n;
    const mp_settled *st;
    while ((st = mp__sched_take_settled(s->sched, &n)) != NULL && n > 0) {
        for (size_t k = 0; k < n; k++) {
            size_t i = st[k].module;
            mp_result *r = &s->run->results[i];
            r->status = st[k].status;
            r->skip_reason = st[k].reason ? mp__arena_strdup(s->run->arena, st[k].reason) : NULL;
            s->state[i] = M_DONE;
            settle_in_coord(s, i);
        }
    }
}

/* Module i (running for the scheduler) ended with its result filled. */
static void module_done(mst *s, size_t i)
{
    mp_status st = s->run->results[i].status;
    s->state[i] = M_DONE;
    bool was = mp__sched_stopping(s->sched);
    mp__sched_done(s->sched, i, st);
    if (!was && mp__sched_stopping(s->sched) && !s->stop_reason)
        s->stop_reason =
            mp__arena_printf(s->run->arena, "run stopped after \"%s\" %s", s->p->modules.v[i]->name,
                             st == MP_STATUS_TIMED_OUT ? "timed out" : "failed");
    take_settled(s);
}

/* Module i fails here, without a worker (placement, lost attempts). */
static void fail_here(mst *s, size_t i, const char *msg)
{
    mp_result *r = &s->run->results[i];
    s->infra++;
    r->status = s->p->modules.v[i]->ignore_failure ? MP_STATUS_IGNORED_FAILURE : MP_STATUS_FAILED;
    r->error_message = mp__arena_strdup(s->run->arena, msg);
    logf_(s, "%s", msg);
    settle_in_coord(s, i);
    module_done(s, i);
}

static void refresh_workers(mst *s)
{
    mp__coord_worker_list_release(&s->workers);
    mp__coord_master_await_workers(s->m, 0, 0, &s->workers, NULL);
}

/* Can a live instance run module i? If not, *why says so. */
static bool servable(mst *s, size_t i, mp_strbuf *why)
{
    char missing[256] = "";
    for (size_t k = 0; k < s->workers.n; k++)
        if (s->workers.v[k].alive &&
            mp__caps_match(s->cls[i], s->workers.v[k].capabilities, missing, sizeof missing))
            return true;
    mp__strbuf_addf(why, "no instance can run module \"%s\": it requires %s; instances present: ",
                    s->p->modules.v[i]->name, s->cls[i]);
    size_t shown = 0;
    for (size_t k = 0; k < s->workers.n; k++) {
        if (!s->workers.v[k].alive) continue;
        mp__caps_match(s->cls[i], s->workers.v[k].capabilities, missing, sizeof missing);
        mp__strbuf_addf(why, "%s%d (%s; missing %s)", shown++ ? ", " : "", s->workers.v[k].instance,
                        s->workers.v[k].capabilities, missing);
    }
    if (!shown) mp__strbuf_addf(why, "none");
    return false;
}

/* Queued modules no live instance serves any more fail. */
static void fail_stranded(mst *s)
{
    refresh_workers(s);
    for (size_t i = 0; i < s->p->modules.n; i++) {
        if (s->state[i] != M_QUEUED) continue;
        mp_strbuf why = MP_STRBUF_INIT;
        if (!servable(s, i, &why)) fail_here(s, i, why.buf);
        mp__strbuf_release(&why);
    }
}

static void start_ready(mst *s)
{
    for (;;) {
        take_settled(s);
        if (mp__sched_stopping(s->sched) && !s->cancel_sent) {
            mp_error err = {0};
            if (mp__coord_master_cancel(s->m, s->stop_reason, &err) < 0)
                logf_(s, "cancel: %s", err.message);
            s->cancel_sent = true;
            logf_(s, "%s: cancelling the modules running on the instances",
                  s->stop_reason ? s->stop_reason : "run stopped");
        }
        long i = mp__sched_next(s->sched);
        if (i < 0) return;
        mp_strbuf why = MP_STRBUF_INIT;
        mp_error err = {0};
        if (!servable(s, (size_t)i, &why)) {
            fail_here(s, (size_t)i, why.buf);
        } else if (mp__coord_master_enqueue(s->m, s->p->modules.v[i]->name, &err) < 0) {
            mp__strbuf_reset(&why);
            mp__strbuf_addf(&why, "module \"%s\" cannot be enqueued: %s", s->p->modules.v[i]->name,
                            err.message);
            fail_here(s, (size_t)i, why.buf);
        } else {
            s->state[i] = M_QUEUED;
        }
        mp__strbuf_release(&why);
    }
}

static void on_result(mst *s, const mp_coord_event *ev)
{
    long i = index_of(s, ev->module);
    if (i < 0 || s->state[i] == M_DONE || s->state[i] == M_IDLE) {
        logf_(s, "result for %s from %s ignored: %s", ev->module ? ev->module : "?",
              ev->token ? ev->token : "?",
              i < 0                     ? "the module is not in the plan"
              : s->state[i] == M_IDLE ? "the module was never assigned"
                                      : "the module's result was already applied");
        return;
    }
    char *json = NULL;
    mp_error err = {0};
    mp_proto_msg msg;
    int rc = mp__coord_master_fetch_result(s->m, ev->module, &json, &err);
    if (rc == 0) rc = mp__proto_decode(json, strlen(json), s->m->run_id, &msg, &err);
    free(json);
    if (rc < 0) {
        mp_strbuf why = MP_STRBUF_INIT;
        mp__strbuf_addf(&why, "module \"%s\": its result cannot be read: %s", ev->module,
                        err.message);
        mp_result *r = &s->run->results[i];
        r->status =
            s->p->modules.v[i]->ignore_failure ? MP_STATUS_IGNORED_FAILURE : MP_STATUS_FAILED;
        r->error_message = mp__arena_strdup(s->run->arena, why.buf);
        s->infra++;
        logf_(s, "%s", why.buf);
        mp__strbuf_release(&why);
        module_done(s, (size_t)i);
        return;
    }
    mp_result *r = &s->run->results[i];
    mp__result_copy(s->run->arena, r, &msg.u.res.result);
    mp__proto_msg_release(&msg);
    if (r->instance != 0)
        logf_(s, "%s %s on instance %d (%s), %lld ms", ev->module, mp__status_name(r->status),
              r->instance, r->worker ? r->worker : "?", (long long)r->duration_ms);
    /* Cancelled by the stop: the reason is the master's, as locally. */
    if (r->status == MP_STATUS_CANCELLED && s->stop_reason) r->skip_reason = s->stop_reason;
    module_done(s, (size_t)i);
}

static void on_expired(mst *s, const mp_coord_event *ev)
{
    long i = index_of(s, ev->module);
    if (i < 0 || s->state[i] == M_DONE) return;
    mp_coord_requeue_outcome out = MP_COORD_STALE;
    mp_error err = {0};
    if (mp__coord_master_requeue(s->m, ev->module, ev->token, s->max_attempts, "lease expired",
                                 &out, &err) < 0) {
        logf_(s, "requeue of %s: %s", ev->module, err.message);
        return;
    }
    if (out == MP_COORD_REQUEUED) {
        s->state[i] = M_QUEUED;
        logf_(s,
              "module %s: lease %s expired (its worker went silent); requeued for attempt %d of %d",
              ev->module, ev->token, ev->attempt + 1, s->max_attempts);
        fail_stranded(s);
    } else if (out == MP_COORD_EXHAUSTED) {
        mp_strbuf why = MP_STRBUF_INIT;
        mp__strbuf_addf(&why,
                        "module \"%s\" was lost with its worker %d times (max_attempts %d); "
                        "last lease %s",
                        ev->module, ev->attempt, s->max_attempts, ev->token);
        fail_here(s, (size_t)i, why.buf);
        mp__strbuf_release(&why);
    }
}

static void on_event(mst *s, const mp_coord_event *ev)
{
    switch (ev->kind) {
    case MP_COORD_EV_RESULT:
        on_result(s, ev);
        break;
    case MP_COORD_EV_LEASE_EXPIRED:
        on_expired(s, ev);
        break;
    case MP_COORD_EV_CLAIMED: {
        long i = index_of(s, ev->module);
        if (i >= 0 && s->state[i] == M_QUEUED) s->state[i] = M_CLAIMED;
        break;
    }
    case MP_COORD_EV_REJECTED:
        logf_(s, "rejected a late result for %s from %s: %s", ev->module ? ev->module : "?",
              ev->token ? ev->token : "?", ev->detail ? ev->detail : "");
        break;
    case MP_COORD_EV_WORKER_JOINED:
        logf_(s, "instance %d (%s) joined", ev->instance, ev->worker ? ev->worker : "?");
        refresh_workers(s);
        break;
    case MP_COORD_EV_WORKER_LEFT:
        logf_(s, "instance %d (%s) left: %s", ev->instance, ev->worker ? ev->worker : "?",
              ev->detail ? ev->detail : "");
        fail_stranded(s);
        break;
    }
}

/* A second interrupt: every module still queued or running ends cancelled
 * here; the completion broadcast that follows stops them on the workers. */
static void insist(mst *s)
{
    mp__sched_abort(s->sched);
    for (size_t i = 0; i < s->p->modules.n; i++) {
        if (s->state[i] != M_QUEUED && s->state[i] != M_CLAIMED) continue;
        mp_result *r = &s->run->results[i];
        r->status = MP_STATUS_CANCELLED;
        r->skip_reason = "run interrupted twice: stopped on its instance";
        if (s->state[i] == M_QUEUED) settle_in_coord(s, i); /* out of its queue */
        module_done(s, i); /* a claimed one: its worker stops it at the completion */
    }
    take_settled(s);
}

static void check_stop(mst *s)
{
    if (s->o->stop_fd < 0 || !s->o->stop_read) return;
    struct pollfd pfd = {.fd = s->o->stop_fd, .events = POLLIN};
    while (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN)) {
        int signo = 0;
        if (s->o->stop_read(s->o->stop_data, &signo) < 0 || signo <= 0) return;
        const char *name = signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
        if (!s->interrupted) {
            s->interrupted = signo;
            if (!s->stop_reason)
                s->stop_reason = mp__arena_printf(s->run->arena, "run interrupted by %s", name);
            logf_(s, "interrupted by %s: stopping the run on every instance (again to stop "
                     "always_run modules too)",
                  name);
            mp__sched_stop(s->sched);
        } else if (!s->insisted) {
            s->insisted = true;
            logf_(s, "interrupted again: stopping every module, always_run ones included");
            insist(s);
        }
    }
}

/* The coordinator lost the run's state (a restarted Redis without
 * persistence) or stayed unreachable for worker_timeout: nothing more can
 * be dispatched or heard. Every module queued or running fails here with
 * the reason (infrastructure failures: exit 3), the modules not started
 * end cancelled (the run is aborted), and nothing more is sent to the
 * coordinator. */
static void give_up_on_coord(mst *s, const char *why)
{
    logf_(s, "%s: failing the modules not yet ended", why);
    s->coord_gone = true;
    mp__sched_abort(s->sched);
    for (size_t i = 0; i < s->p->modules.n; i++) {
        if (s->state[i] != M_QUEUED && s->state[i] != M_CLAIMED) continue;
        mp_result *r = &s->run->results[i];
        s->infra++;
        r->status = MP_STATUS_FAILED;
        r->error_message = mp__arena_printf(s->run->arena, "coordinator: %s", why);
        module_done(s, i);
    }
    take_settled(s);
}

/* A failed next_event: the run's state is gone (MP_ELOST) -- give up at
 * once; any other error (the coordinator unreachable: its calls already
 * retry with backoff) -- give up once it has lasted worker_timeout, and
 * until then wait a little between calls instead of spinning. */
static void next_event_failed(mst *s, int rc, const mp_error *e, int64_t until)
{
    if (rc == MP_ELOST) {
        give_up_on_coord(s, e->message);
        return;
    }
    int64_t now = mp__clock_now_ms();
    if (!s->coord_failing_since) s->coord_failing_since = now;
    logf_(s, "next event: %s", e->message);
    if (now - s->coord_failing_since >= s->p->options.distributed.worker_timeout_ms) {
        give_up_on_coord(s, e->message);
        return;
    }
    int64_t pause = until - now < 200 ? until - now : 200;
    if (pause > 0) poll(NULL, 0, (int)pause);
}

/* Wait for every instance up to registration_timeout, heartbeating. */
static void await_instances(mst *s)
{
    const mp_distributed_options *d = &s->p->options.distributed;
    int64_t until = mp__deadline_in(d->registration_timeout_ms);
    for (;;) {
        mp__coord_worker_list_release(&s->workers);
        int64_t wait_until = mp__deadline_min(until, s->next_beat);
        if (s->o->stop_fd >= 0 && s->o->stop_read)
            wait_until = mp__deadline_min(wait_until, mp__deadline_in(MP_DIST_MASTER_STOP_CHECK_MS));
        int rc = mp__coord_master_await_workers(s->m, (size_t)s->o->instances, wait_until,
                                                &s->workers, NULL);
        beat_if_due(s);
        check_stop(s);
        if (rc == 0 || mp__deadline_passed(until) || s->interrupted) break;
    }
    mp_strbuf missing = MP_STRBUF_INIT;
    for (int k = 0; k < s->o->instances; k++) {
        bool here = false;
        for (size_t j = 0; j < s->workers.n; j++)
            here = here || (s->workers.v[j].instance == k && s->workers.v[j].alive);
        if (!here) mp__strbuf_addf(&missing, "%s%d", missing.len ? ", " : "", k);
    }
    if (missing.len)
        logf_(s, "registration_timeout passed; going on without instance(s) %s", missing.buf);
    mp__strbuf_release(&missing);
}

typedef struct self_thread {
    const mp_dist_master_opts *o;
    mp_dist_worker_opts wo;
    mp_run run;
    int rc;
    mp_error err;
} self_thread;

static void *self_main(void *arg)
{
    self_thread *t = arg;
    mp_coord_worker *w = NULL;
    t->rc = mp__coord_worker_open(&t->o->coord, &w, &t->err);
    if (t->rc == 0) t->rc = mp__dist_worker_run(w, &t->wo, &t->run, &t->err);
    mp__coord_worker_close(w);
    return NULL;
}

static int publish(mst *s, mp_error *err)
{
    const mp_pipeline *p = s->p;
    const mp_distributed_options *d = &p->options.distributed;
    size_t n = p->modules.n;
    mp_coord_plan_module *pm = mp__xcalloc(n ? n : 1, sizeof *pm);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = mp__caps_module_class(p->modules.v[i], &s->cls[i], err);
        pm[i] = (mp_coord_plan_module){.name = p->modules.v[i]->name, .cls = s->cls[i]};
    }
    mp_coord_plan plan = {.pipeline_hash = p->hash,
                          .version = s->o->version,
                          .instances = s->o->instances,
                          .lease_ms = d->worker_timeout_ms,
                          .worker_timeout_ms = d->worker_timeout_ms,
                          .master_timeout_ms = d->worker_timeout_ms,
                          .n_modules = n,
                          .modules = pm};
    if (rc == 0) rc = mp__coord_master_publish_plan(s->m, &plan, err);
    free(pm);
    return rc;
}

int mp__dist_master_run(mp_coord_master *m, const mp_dist_master_opts *o, mp_run *run,
                        mp_error *err)
{
    memset(run, 0, sizeof *run);
    const mp_pipeline *p = o->p;
    if (!p || !p->validated || !o->plan || o->plan->n != p->modules.n || o->instances < 1 ||
        !o->version)
        return mp__error(err, MP_EINVAL, "", "dist.master: incomplete options");
    const mp_distributed_options *d = &p->options.distributed;
    size_t n = p->modules.n;
    mst s = {.o = o, .p = p, .m = m, .run = run};
    s.heartbeat_ms = d->heartbeat_ms;
    s.max_attempts = d->max_attempts > 0 ? d->max_attempts : 1;
    s.cls = mp__xcalloc(n ? n : 1, sizeof *s.cls);
    s.state = mp__xcalloc(n ? n : 1, sizeof *s.state);
    int rc = publish(&s, err);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(s.cls[i]);
        free(s.cls);
        free(s.state);
        return rc;
    }
    s.next_beat = mp__deadline_in(s.heartbeat_ms);

    self_thread self = {.o = o, .wo = o->self};
    self.wo.p = p;
    self.wo.plan = o->plan;
    self.wo.version = o->version;
    self.wo.heartbeat_ms = s.heartbeat_ms;
    self.wo.register_deadline = mp__deadline_in(d->registration_timeout_ms);
    self.wo.engine.instance_index = 0;
    if (!self.wo.log) {
        self.wo.log = o->log;
        self.wo.log_data = o->log_data;
    }
    pthread_t self_tid;
    if (pthread_create(&self_tid, NULL, self_main, &self) != 0)
        mp__die("dist.master: cannot start the master's own worker");

    run->arena = mp__arena_new();
    run->n = n;
    run->results = mp__arena_alloc(run->arena, (n ? n : 1) * sizeof(mp_result));
    for (size_t i = 0; i < n; i++)
        mp__result_init(&run->results[i]);
    run->started_at = mp__clock_wall_ms();

    mp_sched_opts so = {.on_failure = o->on_failure};
    s.sched = mp__sched_new(p, o->plan, &so);
    await_instances(&s);
    bool watch = o->stop_fd >= 0 && o->stop_read;
    for (;;) {
        check_stop(&s);
        start_ready(&s);
        if (mp__sched_finished(s.sched)) break;
        mp_coord_event ev;
        mp_error e2 = {0};
        int64_t until = s.next_beat;
        if (watch) until = mp__deadline_min(until, mp__deadline_in(MP_DIST_MASTER_STOP_CHECK_MS));
        int r = mp__coord_master_next_event(m, until, &ev, &e2);
        if (r == 0) {
            s.coord_failing_since = 0;
            on_event(&s, &ev);
            mp__coord_event_release(&ev);
        } else if (r != MP_ETIMEDOUT) {
            next_event_failed(&s, r, &e2, until);
            if (s.coord_gone) break;
            continue;
        } else {
            s.coord_failing_since = 0;
        }
        beat_if_due(&s);
    }

    mp_error e3 = {0};
    if (mp__coord_master_complete(m, &e3) < 0) logf_(&s, "complete: %s", e3.message);
    pthread_join(self_tid, NULL);
    if (self.rc < 0) logf_(&s, "the master's own worker: %s", self.err.message);
    if (self.rc == 0 || self.rc == MP_ELOST) mp__run_release(&self.run);

    for (size_t i = 0; i < n; i++) {
        mp_result *r = &run->results[i];
        if (o->plan->entries[i].state == MP_PLAN_EXCLUDED && r->status == MP_STATUS_PENDING) {
            r->status = MP_STATUS_SKIPPED;
            const char *why = o->plan->entries[i].reason;
            r->skip_reason = mp__arena_strdup(run->arena, why ? why : "not part of the run");
        }
    }
    run->verdict = MP_STATUS_SUCCEEDED;
    for (size_t i = 0; i < n; i++)
        if (mp__status_is_failure(run->results[i].status)) run->verdict = MP_STATUS_FAILED;
    run->ended_at = mp__clock_wall_ms();
    run->interrupted_by = s.interrupted;
    if (o->infra_failures) *o->infra_failures = s.infra;
    if (o->workers_out) {
        refresh_workers(&s);
        *o->workers_out = s.workers;
        s.workers = (mp_coord_worker_list){0};
    }

    mp__sched_free(s.sched);
    mp__coord_worker_list_release(&s.workers);
    for (size_t i = 0; i < n; i++)
        free(s.cls[i]);
    free(s.cls);
    free(s.state);
    return 0;
}
