/*
 * worker.c -- a worker of a distributed run (worker.h): the engine driven
 * by claims from the coordinator.
 *
 * Threads and locks:
 *   - the caller's thread runs the engine's loop (mp__engine_drive) with
 *     this file's driver: it starts claimed modules, heartbeats, renews
 *     leases, observes the run and reports results;
 *   - one claimer thread, started by the driver's first step and joined
 *     by mp__dist_worker_run, blocks in mp__coord_worker_claim (deadline:
 *     one heartbeat) while fewer than `slots` leases are held, and hands
 *     each lease to the loop through `pending` and an eventfd the loop
 *     polls. While every slot is held it waits on `cv` (woken by the loop
 *     when a module finishes, or at shutdown).
 *   `mu` guards pending, held, quit and what the claimer saw (claim_state,
 *   claim_rc); everything else belongs to the loop's thread.
 *
 * Shutdown order: the engine's loop ends (no module active, and the run
 * completed, the master was lost, or this worker failed) -> quit set and
 * cv broadcast -> the claimer returns (at once when it waits for a slot,
 * or within its claim deadline) -> joined -> eventfd closed. A lease
 * still pending then (claimed while the loop was ending) is not run; its
 * lease lapses and the master requeues it.
 */
#include "dist/worker.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "dist/proto.h"
#include "os/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct lease_rec {
    bool held; /* module i runs (or ran) here under `lease` */
    bool lost; /* do not report: lease lost, master lost, or this worker failed */
    mp_coord_lease lease;
} lease_rec;

typedef struct wk {
    const mp_dist_worker_opts *o;
    mp_coord_worker *cw;
    int slots;
    int efd;
    int wait_fd; /* efd, or an epoll set of efd and the stop fd */
    bool has_stop;
    int interrupted; /* signal number once interrupted */
    pthread_t claimer;
    bool claimer_started;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Guarded by mu. */
    mp_coord_lease *pending; /* claimed, not started; at most `slots` */
    size_t npending;
    int held; /* leases held: pending + running */
    bool quit;
    mp_coord_run_state claim_state; /* not ACTIVE once the claimer stopped for it */
    int claim_rc;
    mp_error claim_err;

    /* The loop's. */
    lease_rec *by_mod; /* by module index */
    bool cancelled, completed, master_lost;
    int fatal_rc;
    mp_error fatal;
    int64_t next_beat;
} wk;

static void logf_(wk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(wk *w, const char *fmt, ...)
{
    if (!w->o->log) return;
    mp_strbuf sb = MP_STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    w->o->log(w->o->log_data, sb.buf);
    mp__strbuf_release(&sb);
}

static void notify(wk *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->efd, &one, sizeof one);
    (void)r; /* a full counter still wakes the loop */
}

/* ---------------------------------------------------------------- claimer */

static void *claimer_main(void *arg)
{
    wk *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        if (w->held >= w->slots) {
            pthread_cond_wait(&w->cv, &w->mu); /* a slot frees, or quit */
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        mp_coord_lease l;
        mp_coord_run_state st;
        mp_error err = {0};
        int rc = mp__coord_worker_claim(w->cw, mp__deadline_in(w->o->heartbeat_ms), &l, &st, &err);
        pthread_mutex_lock(&w->mu);
        if (rc == MP_ETIMEDOUT) continue;
        if (rc < 0) {
            w->claim_rc = rc;
            w->claim_err = err;
            break;
        }
        if (st != MP_COORD_RUN_ACTIVE) {
            w->claim_state = st;
            break;
        }
        w->pending[w->npending++] = l;
        w->held++;
        notify(w);
    }
    notify(w);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void release_slot(wk *w)
{
    pthread_mutex_lock(&w->mu);
    w->held--;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---------------------------------------------------------------- reports */

static void report(wk *w, const mp_coord_lease *l, const mp_result *r)
{
    mp_proto_msg msg = {.type = MP_PROTO_RESULT, .run_id = w->o->engine.run_id};
    msg.u.res.module = l->module;
    msg.u.res.token = l->token;
    msg.u.res.result = *r;
    if (r->attempts > 0) msg.u.res.result.attempts = r->attempts + l->attempt - 1;
    msg.u.res.result.worker = w->o->worker_id;
    char *json = NULL;
    mp_error err = {0};
    int rc = mp__proto_encode(&msg, &json, &err);
    if (rc == 0) rc = mp__coord_worker_complete(w->cw, l, json, &err);
    free(json);
    if (rc == MP_ESTATE)
        logf_(w, "result of %s refused by the coordinator: %s", l->module, err.message);
    else if (rc < 0)
        logf_(w, "cannot report the result of %s: %s", l->module, err.message);
}

/* A claimed module that cannot start here (unknown to this pipeline, a
 * dependency result missing): reported failed with `why`. */
static void report_unrun(wk *w, const mp_coord_lease *l, const mp_module *m, const char *why)
{
    mp_result r;
    mp__result_init(&r);
    r.status = m && m->ignore_failure ? MP_STATUS_IGNORED_FAILURE : MP_STATUS_FAILED;
    r.instance = w->o->engine.instance_index;
    r.error_message = why;
    logf_(w, "%s", why);
    report(w, l, &r);
}

/* Fetch the results of m's dependencies into the engine's results. */
static int seed_deps(wk *w, mp_engine *e, const mp_module *m, mp_strbuf *why)
{
    const mp_pipeline *p = w->o->p;
    for (size_t k = 0; k < m->deps.n; k++) {
        const mp_module *d = p->modules.v[m->deps.v[k]];
        char *json = NULL;
        mp_error err = {0};
        mp_proto_msg msg;
        int rc = mp__coord_worker_fetch_result(w->cw, d->name, &json, &err);
        if (rc == 0) rc = mp__proto_decode(json, strlen(json), w->o->engine.run_id, &msg, &err);
        free(json);
        if (rc == 0 && (msg.type != MP_PROTO_RESULT || strcmp(msg.u.res.module, d->name) != 0)) {
            mp__proto_msg_release(&msg);
            rc = mp__error(&err, MP_EPARSE, d->name, "stored result is not %s's", d->name);
        }
        if (rc < 0) {
            mp__strbuf_addf(why,
                            "module \"%s\" cannot start: no result of its dependency \"%s\": %s",
                            m->name, d->name, err.message);
            return rc;
        }
        mp__result_copy(mp__engine_arena(e), mp__engine_result(e, d->index), &msg.u.res.result);
        mp__proto_msg_release(&msg);
    }
    return 0;
}

/* ----------------------------------------------------------------- driver */

/* Stop every active module and report none of them. */
static void abandon_all(wk *w, mp_engine *e, const char *reason)
{
    for (size_t i = 0; i < w->o->p->modules.n; i++) {
        if (!w->by_mod[i].held) continue;
        w->by_mod[i].lost = true;
        mp__engine_cancel_module(e, i, reason);
    }
}

static void beat(wk *w, mp_engine *e)
{
    mp_error err = {0};
    int rc = mp__coord_worker_heartbeat(w->cw, &err);
    if (rc < 0 && !w->fatal_rc) {
        w->fatal_rc = rc;
        w->fatal = err;
        logf_(w, "heartbeat refused: %s", err.message);
        abandon_all(w, e, "this worker lost its place in the run");
        return;
    }
    for (size_t i = 0; i < w->o->p->modules.n; i++) {
        lease_rec *lr = &w->by_mod[i];
        if (!lr->held || lr->lost) continue;
        mp_coord_renew_answer a = MP_COORD_RENEW_OK;
        if (mp__coord_worker_renew(w->cw, &lr->lease, &a, &err) < 0) {
            logf_(w, "cannot renew the lease of %s: %s", lr->lease.module, err.message);
            continue;
        }
        if (a == MP_COORD_RENEW_LOST) {
            lr->lost = true;
            logf_(w, "lease %s of %s lost: stopping it, its result will not be reported",
                  lr->lease.token, lr->lease.module);
            mp__engine_cancel_module(e, i, "its lease was lost to another instance");
        } else if (a == MP_COORD_RENEW_CANCEL) {
            w->cancelled = true;
        }
    }
    mp_coord_run_state st = MP_COORD_RUN_ACTIVE;
    if (mp__coord_worker_observe(w->cw, 0, &st, &err) == 0) {
        if (st == MP_COORD_RUN_CANCELLED) w->cancelled = true;
        if (st == MP_COORD_RUN_COMPLETED) w->completed = true;
        if (st == MP_COORD_RUN_MASTER_LOST && !w->master_lost) {
            w->master_lost = true;
            abandon_all(w, e, "the master was lost");
        }
    }
}

/* A signal to this worker's process: stop its modules, report them
 * cancelled (d_done), claim nothing more. */
static void check_stop(wk *w, mp_engine *e)
{
    if (!w->has_stop) return;
    struct pollfd pfd = {.fd = w->o->stop_fd, .events = POLLIN};
    while (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN)) {
        int signo = 0;
        if (w->o->stop_read(w->o->stop_data, &signo) < 0) {
            w->has_stop = false;
            return;
        }
        if (signo <= 0) return;
        if (w->interrupted) continue;
        w->interrupted = signo;
        const char *name = signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
        logf_(w, "interrupted by %s: stopping the modules running here", name);
        char reason[64];
        snprintf(reason, sizeof reason, "the worker was interrupted by %s", name);
        for (size_t i = 0; i < w->o->p->modules.n; i++)
            if (w->by_mod[i].held && !w->by_mod[i].lost)
                mp__engine_cancel_module(e, i, mp__arena_strdup(mp__engine_arena(e), reason));
        pthread_mutex_lock(&w->mu);
        w->quit = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

static void d_step(void *data, mp_engine *e)
{
    wk *w = data;
    check_stop(w, e);
    if (!w->claimer_started) {
        if (pthread_create(&w->claimer, NULL, claimer_main, w) != 0)
            mp__die("dist.worker: cannot start the claimer thread");
        w->claimer_started = true;
    }
    uint64_t v;
    while (read(w->efd, &v, sizeof v) > 0)
        ;
    pthread_mutex_lock(&w->mu);
    mp_coord_run_state st = w->claim_state;
    int crc = w->claim_rc;
    mp_error cerr = w->claim_err;
    pthread_mutex_unlock(&w->mu);
    if (st == MP_COORD_RUN_COMPLETED) w->completed = true;
    if (st == MP_COORD_RUN_MASTER_LOST && !w->master_lost) {
        w->master_lost = true;
        abandon_all(w, e, "the master was lost");
    }
    if (crc < 0 && !w->fatal_rc) {
        w->fatal_rc = crc;
        w->fatal = cerr;
        logf_(w, "claim failed: %s", cerr.message);
        abandon_all(w, e, "this worker lost its place in the run");
    }
    if (w->completed) abandon_all(w, e, "the run completed");
    if (!mp__deadline_passed(w->next_beat)) return;
    w->next_beat = mp__deadline_in(w->o->heartbeat_ms);
    beat(w, e);
}

static long d_next(void *data, mp_engine *e)
{
    wk *w = data;
    const mp_pipeline *p = w->o->p;
    for (;;) {
        if (w->master_lost || w->completed || w->fatal_rc) return -1;
        pthread_mutex_lock(&w->mu);
        if (w->interrupted) w->quit = true; /* claim nothing more */
        if (w->npending == 0) {
            pthread_mutex_unlock(&w->mu);
            return -1;
        }
        mp_coord_lease l = w->pending[0];
        mp_module *m = mp__strmap_get(&p->module_by_name, l.module);
        if (m && mp__engine_module_active(e, m->index)) {
            /* Our own earlier lease of it still stops: start after it. */
            pthread_mutex_unlock(&w->mu);
            return -1;
        }
        memmove(w->pending, w->pending + 1, --w->npending * sizeof *w->pending);
        pthread_mutex_unlock(&w->mu);
        mp_strbuf why = MP_STRBUF_INIT;
        if (!m)
            mp__strbuf_addf(&why, "module \"%s\" is not in this instance's pipeline", l.module);
        else
            seed_deps(w, e, m, &why);
        if (why.len) {
            report_unrun(w, &l, m, why.buf);
            mp__strbuf_release(&why);
            release_slot(w);
            continue;
        }
        mp__strbuf_release(&why);
        if (w->interrupted || (w->cancelled && !m->always_run)) {
            /* Claimed just before the run stopped: it does not start,
             * as the scheduler starts nothing but always_run then. */
            mp_result r;
            mp__result_init(&r);
            r.status = MP_STATUS_CANCELLED;
            r.skip_reason = w->interrupted ? "the worker was interrupted before it started"
                                           : "run cancelled by the master";
            report(w, &l, &r);
            release_slot(w);
            continue;
        }
        mp__result_init(mp__engine_result(e, m->index));
        w->by_mod[m->index] = (lease_rec){.held = true, .lease = l};
        return (long)m->index;
    }
}

static void d_done(void *data, mp_engine *e, size_t i, mp_status st)
{
    wk *w = data;
    lease_rec *lr = &w->by_mod[i];
    (void)st;
    if (!lr->held) return;
    mp_result *r = mp__engine_result(e, i);
    r->worker = mp__arena_strdup(mp__engine_arena(e), w->o->worker_id);
    if (!lr->lost) report(w, &lr->lease, r);
    lr->held = false;
    release_slot(w);
}

static int d_stopping(void *data, const char **reason)
{
    wk *w = data;
    *reason = w->master_lost   ? "the master was lost"
              : w->interrupted ? "the worker was interrupted"
                               : "run cancelled by the master";
    return w->cancelled || w->master_lost || w->completed || w->fatal_rc || w->interrupted;
}

static int d_finished(void *data)
{
    wk *w = data;
    if (w->interrupted) { /* report what was claimed and not started, then end */
        pthread_mutex_lock(&w->mu);
        size_t left = w->npending;
        pthread_mutex_unlock(&w->mu);
        return left == 0;
    }
    return w->master_lost || w->completed || w->fatal_rc;
}

static void d_wait(void *data, int *fd, int64_t *deadline)
{
    wk *w = data;
    *fd = w->wait_fd;
    *deadline = w->next_beat;
}

static const mp_engine_driver_vtable worker_driver = {
    .name = "worker",
    .next = d_next,
    .done = d_done,
    .stopping = d_stopping,
    .finished = d_finished,
    .wait = d_wait,
    .step = d_step,
};

/* ------------------------------------------------------------------- run */

int mp__dist_worker_run(mp_coord_worker *cw, const mp_dist_worker_opts *o, mp_run *run,
                        mp_error *err)
{
    memset(run, 0, sizeof *run);
    if (!o->p || !o->plan || !o->worker_id || o->heartbeat_ms <= 0 || o->engine.stop_fd >= 0)
        return mp__error(err, MP_EINVAL, "", "dist.worker: incomplete options");
    int slots = o->engine.parallelism;
    if (slots <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        slots = c > 0 ? (int)c : 1;
    }
    mp_coord_registration reg = {.instance = o->engine.instance_index,
                                 .worker = o->worker_id,
                                 .capabilities = o->capabilities,
                                 .slots = slots,
                                 .pipeline_hash = o->p->hash,
                                 .version = o->version};
    int rc = mp__coord_worker_register(cw, &reg, o->register_deadline, err);
    if (rc < 0) return rc;

    wk w = {.o = o, .cw = cw, .slots = slots};
    w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w.efd < 0) return mp__error(err, MP_EIO, "", "eventfd: %s", strerror(errno));
    w.wait_fd = w.efd;
    if (o->stop_read && o->stop_fd >= 0) { /* one fd for the loop: efd or a signal */
        w.wait_fd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event a = {.events = EPOLLIN}, b = {.events = EPOLLIN};
        if (w.wait_fd < 0 || epoll_ctl(w.wait_fd, EPOLL_CTL_ADD, w.efd, &a) < 0 ||
            epoll_ctl(w.wait_fd, EPOLL_CTL_ADD, o->stop_fd, &b) < 0) {
            int e = errno;
            if (w.wait_fd >= 0) close(w.wait_fd);
            close(w.efd);
            return mp__error(err, MP_EIO, "", "epoll: %s", strerror(e));
        }
        w.has_stop = true;
    }
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.pending = mp__xcalloc((size_t)slots, sizeof *w.pending);
    w.by_mod = mp__xcalloc(o->p->modules.n ? o->p->modules.n : 1, sizeof *w.by_mod);
    w.next_beat = mp__deadline_in(o->heartbeat_ms);

    mp_engine_opts eo = o->engine;
    eo.parallelism = slots;
    mp_engine_driver d = {&worker_driver, &w};
    rc = mp__engine_drive(o->p, o->plan, &eo, &d, run, err);

    pthread_mutex_lock(&w.mu);
    w.quit = true;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    if (w.claimer_started) pthread_join(w.claimer, NULL);
    if (w.wait_fd != w.efd) close(w.wait_fd);
    close(w.efd);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    free(w.pending);
    free(w.by_mod);
    if (rc < 0) return rc;
    run->interrupted_by = w.interrupted;
    if (w.master_lost)
        return mp__error(err, MP_ELOST, o->worker_id,
                         "master lost: the master of run %s stopped renewing its liveness",
                         o->engine.run_id ? o->engine.run_id : "");
    if (w.fatal_rc) {
        if (err) *err = w.fatal;
        mp__run_release(run);
        return w.fatal_rc;
    }
    return 0;
}
