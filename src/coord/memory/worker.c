/*
 * worker.c -- the worker side of the in-memory coordinator.
 *
 * A claim blocks on every class the worker serves at once: it looks at
 * the heads of its queues (most specific class first) under the hub's
 * lock and otherwise sleeps on cv_worker until an enqueue, a broadcast,
 * the master's liveness lapse or its deadline. Nothing is taken and put
 * back.
 */
#include "coord/class.h"
#include "coord/memory/memory_int.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem_worker_handle {
    mp_coord_worker base;
    mp_coord_memory_hub *h;
    long idx; /* into h->workers; -1 until registered */
} mem_worker_handle;

static mem_worker_handle *downcast(mp_coord_worker *w)
{
    if (w->vt != &mp__coord_memory_worker_vtable)
        mp__die("coord.memory: not a memory worker handle (backend %s)", w->vt->name);
    return (mem_worker_handle *)w;
}

static int w_open(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err)
{
    int rc = mp__mem_join(o->memory_hub, o->run_id, false, err);
    if (rc < 0) return rc;
    mem_worker_handle *wh = mp__xcalloc(1, sizeof *wh);
    wh->base.vt = &mp__coord_memory_worker_vtable;
    wh->h = o->memory_hub;
    wh->idx = -1;
    *out = &wh->base;
    return 0;
}

static void w_close(mp_coord_worker *w)
{
    mem_worker_handle *wh = downcast(w);
    mp_coord_memory_hub *h = wh->h;
    pthread_mutex_lock(&h->mu);
    if (wh->idx >= 0 && h->workers[wh->idx].alive) {
        mem_worker *mw = &h->workers[wh->idx];
        mw->alive = false;
        mp__mem_event(h, MP_COORD_EV_WORKER_LEFT, mw->instance, 0, mw->id, NULL, NULL, NULL,
                      "closed its connection");
    }
    pthread_mutex_unlock(&h->mu);
    mp__mem_leave(h, false);
    free(wh);
}

/* Does class a go before class b in a claim: most specific (most pairs)
 * first, then by name. */
static bool before(const mem_class *a, const mem_class *b)
{
    return a->size != b->size ? a->size > b->size : strcmp(a->name, b->name) < 0;
}

/* The classes `mw` serves, in claim order (insertion sort: few classes). */
static void compute_serves(mp_coord_memory_hub *h, mem_worker *mw)
{
    for (size_t c = 0; c < h->n_classes; c++) {
        if (!mp__coord_class_served(h->classes[c].name, mw->caps)) continue;
        size_t j = mw->n_serves++;
        while (j > 0 && before(&h->classes[c], &h->classes[mw->serves[j - 1]])) {
            mw->serves[j] = mw->serves[j - 1];
            j--;
        }
        mw->serves[j] = c;
    }
}

static int check_registration(mp_coord_memory_hub *h, const mp_coord_registration *r, mp_error *err)
{
    if (strcmp(r->pipeline_hash, h->hash) != 0)
        return mp__error(err, MP_EINVAL, r->worker,
                         "refused: pipeline hash %.80s differs from the master's %.80s",
                         r->pipeline_hash, h->hash);
    if (strcmp(r->version, h->version) != 0)
        return mp__error(err, MP_EINVAL, r->worker,
                         "refused: modpipe version %.40s differs from the master's %.40s",
                         r->version, h->version);
    if (r->instance >= h->instances)
        return mp__error(err, MP_EINVAL, r->worker, "refused: instance index %d outside 0..%d",
                         r->instance, h->instances - 1);
    for (size_t i = 0; i < h->n_workers; i++) {
        const mem_worker *o = &h->workers[i];
        if (o->alive && o->instance == r->instance)
            return mp__error(err, MP_EEXIST, r->worker,
                             "refused: instance index %d is already registered by %s", r->instance,
                             o->id);
        if (o->alive && strcmp(o->id, r->worker) == 0)
            return mp__error(err, MP_EEXIST, r->worker, "refused: worker id already registered");
    }
    return 0;
}

static int w_register(mp_coord_worker *w, const mp_coord_registration *r, int64_t deadline,
                      mp_error *err)
{
    mem_worker_handle *wh = downcast(w);
    mp_coord_memory_hub *h = wh->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->planned && !mp__deadline_passed(deadline))
        mp__mem_wait(h, &h->cv_worker, deadline);
    if (wh->idx >= 0)
        rc = mp__error(err, MP_EEXIST, r->worker, "this handle is already registered");
    else if (!h->planned)
        rc = mp__error(err, MP_ETIMEDOUT, r->worker, "the master published no plan in time");
    else
        rc = check_registration(h, r, err);
    if (rc == 0) {
        if (h->n_workers == h->cap_workers) {
            h->cap_workers = h->cap_workers ? 2 * h->cap_workers : 8;
            h->workers = mp__xrealloc(h->workers, mp__xmul(h->cap_workers, sizeof *h->workers));
        }
        mem_worker *mw = &h->workers[h->n_workers];
        *mw = (mem_worker){.instance = r->instance,
                           .id = mp__xstrdup(r->worker),
                           .caps = mp__xstrdup(r->capabilities),
                           .slots = r->slots,
                           .serves = mp__xcalloc(h->n_classes + 1, sizeof(size_t)),
                           .alive_until = mp__clock_now_ms() + h->worker_timeout_ms,
                           .alive = true};
        compute_serves(h, mw);
        wh->idx = (long)h->n_workers++;
        mp__mem_event(h, MP_COORD_EV_WORKER_JOINED, mw->instance, 0, mw->id, NULL, NULL, NULL,
                      mw->caps);
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* The registered, live worker of this handle, or an error. */
static int me(mem_worker_handle *wh, mem_worker **out, mp_error *err)
{
    if (wh->idx < 0) return mp__error(err, MP_ESTATE, wh->h->run_id, "worker not registered");
    mem_worker *mw = &wh->h->workers[wh->idx];
    if (!mw->alive)
        return mp__error(err, MP_ESTATE, mw->id, "worker was declared gone by the coordinator");
    *out = mw;
    return 0;
}

static mem_module *pop_served(mp_coord_memory_hub *h, const mem_worker *mw)
{
    for (size_t i = 0; i < mw->n_serves; i++) {
        mem_class *c = &h->classes[mw->serves[i]];
        mem_module *m = c->head;
        if (m) {
            c->head = m->qnext;
            if (!c->head) c->tail = NULL;
            m->qnext = NULL;
            return m;
        }
    }
    return NULL;
}

static int w_claim(mp_coord_worker *w, int64_t deadline, mp_coord_lease *lease,
                   mp_coord_run_state *state, mp_error *err)
{
    mem_worker_handle *wh = downcast(w);
    mp_coord_memory_hub *h = wh->h;
    mem_worker *mw = NULL;
    pthread_mutex_lock(&h->mu);
    int rc = me(wh, &mw, err);
    while (rc == 0) {
        int64_t now = mp__clock_now_ms();
        *state = mp__mem_run_state(h, now);
        /* A cancelled run is stopping, not over: always_run modules the
         * master still enqueues are served (coord.h). */
        if (*state == MP_COORD_RUN_CANCELLED) *state = MP_COORD_RUN_ACTIVE;
        if (*state != MP_COORD_RUN_ACTIVE) break;
        mem_module *m = pop_served(h, mw);
        if (m) {
            m->attempt++;
            m->state = MEM_LEASED;
            m->expiry_reported = false;
            m->lease_deadline = now + h->lease_ms;
            snprintf(m->token, sizeof m->token, "%s#%d", mw->id, m->attempt);
            snprintf(lease->module, sizeof lease->module, "%s", m->name);
            snprintf(lease->token, sizeof lease->token, "%s", m->token);
            lease->attempt = m->attempt;
            mp__mem_event(h, MP_COORD_EV_CLAIMED, mw->instance, m->attempt, mw->id, m->name,
                          m->token, NULL, NULL);
            break;
        }
        if (mp__deadline_passed(deadline)) {
            rc = mp__error(err, MP_ETIMEDOUT, mw->id, "nothing to claim");
            break;
        }
        mp__mem_wait(h, &h->cv_worker, mp__deadline_min(deadline, h->master_alive_until));
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int w_renew(mp_coord_worker *w, const mp_coord_lease *lease, mp_coord_renew_answer *answer,
                   mp_error *err)
{
    mem_worker_handle *wh = downcast(w);
    mp_coord_memory_hub *h = wh->h;
    (void)err;
    pthread_mutex_lock(&h->mu);
    mem_module *m = mp__mem_module(h, lease->module);
    if (!m || m->state != MEM_LEASED || strcmp(m->token, lease->token) != 0) {
        *answer = MP_COORD_RENEW_LOST;
    } else {
        /* Extended in both cases: an always_run module keeps running
         * through a cancel (coord.h). */
        m->lease_deadline = mp__clock_now_ms() + h->lease_ms;
        m->expiry_reported = false;
        *answer = h->cancelled || h->completed ? MP_COORD_RENEW_CANCEL : MP_COORD_RENEW_OK;
    }
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static int w_complete(mp_coord_worker *w, const mp_coord_lease *lease, const char *status,
                      const char *result_json, mp_error *err)
{
    mem_worker_handle *wh = downcast(w);
    mp_coord_memory_hub *h = wh->h;
    int rc = 0;
    char why[256] = "";
    pthread_mutex_lock(&h->mu);
    mem_module *m = mp__mem_module(h, lease->module);
    if (!m)
        snprintf(why, sizeof why, "module not in the plan");
    else if (m->state == MEM_DONE)
        snprintf(why, sizeof why, "module already has a result");
    else if (m->state != MEM_LEASED)
        snprintf(why, sizeof why, "module is not leased");
    else if (strcmp(m->token, lease->token) != 0)
        snprintf(why, sizeof why, "lease is now held by %.200s", m->token);
    if (why[0]) {
        rc = mp__error(err, MP_ESTATE, lease->module, "stale result from %s rejected: %s",
                       lease->token, why);
        mp__mem_event(h, MP_COORD_EV_REJECTED, -1, lease->attempt, NULL, lease->module,
                      lease->token, status, why);
    } else {
        const mem_worker *mw = wh->idx >= 0 ? &h->workers[wh->idx] : NULL;
        m->state = MEM_DONE;
        m->result = mp__xstrdup(result_json);
        mp__mem_event(h, MP_COORD_EV_RESULT, mw ? mw->instance : -1, m->attempt, mw ? mw->id : NULL,
                      m->name, m->token, status, NULL);
        m->token[0] = '\0';
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int w_fetch_result(mp_coord_worker *w, const char *module, char **json, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(w)->h;
    pthread_mutex_lock(&h->mu);
    int rc = mp__mem_fetch(h, module, json, err);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int w_heartbeat(mp_coord_worker *w, mp_error *err)
{
    mem_worker_handle *wh = downcast(w);
    mp_coord_memory_hub *h = wh->h;
    mem_worker *mw = NULL;
    pthread_mutex_lock(&h->mu);
    int rc = me(wh, &mw, err);
    if (rc == 0) mw->alive_until = mp__clock_now_ms() + h->worker_timeout_ms;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int w_observe(mp_coord_worker *w, int64_t deadline, mp_coord_run_state *state, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(w)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    if (!h->planned) rc = mp__error(err, MP_ESTATE, h->run_id, "no plan published yet");
    while (rc == 0) {
        *state = mp__mem_run_state(h, mp__clock_now_ms());
        if (*state != MP_COORD_RUN_ACTIVE || mp__deadline_passed(deadline)) break;
        mp__mem_wait(h, &h->cv_worker, mp__deadline_min(deadline, h->master_alive_until));
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

const mp_coord_worker_vtable mp__coord_memory_worker_vtable = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "memory",
    .open = w_open,
    .close = w_close,
    .register_ = w_register,
    .claim = w_claim,
    .renew = w_renew,
    .complete = w_complete,
    .fetch_result = w_fetch_result,
    .heartbeat = w_heartbeat,
    .observe = w_observe,
};
