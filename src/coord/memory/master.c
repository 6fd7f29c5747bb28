/*
 * master.c -- the master side of the in-memory coordinator.
 *
 * next_event never polls: it sweeps for leases past their deadline and
 * workers past their silence limit, and otherwise sleeps on cv_master
 * until the earliest of those instants or the caller's deadline.
 */
#include "coord/class.h"
#include "coord/memory/memory_int.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem_master {
    mp_coord_master base;
    mp_coord_memory_hub *h;
} mem_master;

static mem_master *downcast(mp_coord_master *m)
{
    if (m->vt != &mp__coord_memory_master_vtable)
        mp__die("coord.memory: not a memory master handle (backend %s)", m->vt->name);
    return (mem_master *)m;
}

static int m_open(const mp_coord_open_opts *o, mp_coord_master **out, mp_error *err)
{
    int rc = mp__mem_join(o->memory_hub, o->run_id, true, err);
    if (rc < 0) return rc;
    mem_master *mm = mp__xcalloc(1, sizeof *mm);
    mm->base.vt = &mp__coord_memory_master_vtable;
    mm->h = o->memory_hub;
    *out = &mm->base;
    return 0;
}

static void m_close(mp_coord_master *m)
{
    mem_master *mm = downcast(m);
    mp__mem_leave(mm->h, true);
    free(mm);
}

static size_t class_index(mp_coord_memory_hub *h, const char *cls)
{
    for (size_t i = 0; i < h->n_classes; i++)
        if (strcmp(h->classes[i].name, cls) == 0) return i;
    h->classes[h->n_classes] =
        (mem_class){.name = mp__xstrdup(cls), .size = mp__coord_class_size(cls)};
    return h->n_classes++;
}

static int m_publish_plan(mp_coord_master *m, const mp_coord_plan *p, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    if (h->planned) {
        rc = mp__error(err, MP_EEXIST, h->run_id, "the plan of this run is already published");
        goto out;
    }
    for (size_t i = 0; i < p->n_modules; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->modules[i].name, p->modules[j].name) == 0) {
                rc = mp__error(err, MP_EINVAL, p->modules[i].name, "module twice in the plan");
                goto out;
            }
    h->hash = mp__xstrdup(p->pipeline_hash);
    h->version = mp__xstrdup(p->version);
    h->instances = p->instances;
    h->lease_ms = p->lease_ms;
    h->worker_timeout_ms = p->worker_timeout_ms;
    h->master_timeout_ms = p->master_timeout_ms;
    h->mods = mp__xcalloc(p->n_modules ? p->n_modules : 1, sizeof *h->mods);
    h->classes = mp__xcalloc(p->n_modules ? p->n_modules : 1, sizeof *h->classes);
    for (size_t i = 0; i < p->n_modules; i++) {
        h->mods[i].name = mp__xstrdup(p->modules[i].name);
        h->mods[i].cls = class_index(h, p->modules[i].cls);
    }
    h->n_mods = p->n_modules;
    h->planned = true;
    h->master_alive_until = mp__clock_now_ms() + h->master_timeout_ms;
    pthread_cond_broadcast(&h->cv_worker);
out:
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static size_t alive_workers(mp_coord_memory_hub *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_workers; i++)
        n += h->workers[i].alive;
    return n;
}

static int by_instance(const void *a, const void *b)
{
    const mp_coord_worker_info *x = a, *y = b;
    return (x->instance > y->instance) - (x->instance < y->instance);
}

static int m_await_workers(mp_coord_master *m, size_t count, int64_t deadline,
                           mp_coord_worker_list *out, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (alive_workers(h) < count) {
        if (mp__deadline_passed(deadline)) {
            rc = mp__error(err, MP_ETIMEDOUT, h->run_id, "%zu of %zu workers registered",
                           alive_workers(h), count);
            break;
        }
        mp__mem_wait(h, &h->cv_master, deadline);
    }
    out->v = mp__xcalloc(h->n_workers ? h->n_workers : 1, sizeof *out->v);
    for (size_t i = 0; i < h->n_workers; i++) {
        const mem_worker *w = &h->workers[i];
        out->v[out->n++] = (mp_coord_worker_info){.instance = w->instance,
                                                  .worker = mp__xstrdup(w->id),
                                                  .capabilities = mp__xstrdup(w->caps),
                                                  .slots = w->slots,
                                                  .alive = w->alive};
    }
    pthread_mutex_unlock(&h->mu);
    qsort(out->v, out->n, sizeof *out->v, by_instance);
    return rc;
}

static int m_enqueue(mp_coord_master *m, const char *module, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    mem_module *mod = mp__mem_module(h, module);
    if (!mod)
        rc = mp__error(err, MP_ENOENT, module ? module : "", "module not in the plan");
    else if (h->completed)
        rc = mp__error(err, MP_ESTATE, module, "the run is complete");
    else if (mod->state != MEM_IDLE)
        rc = mp__error(err, MP_ESTATE, module, "already enqueued");
    else
        mp__mem_queue_push(h, mod, false);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* Report what lapsed by `now`; return the next instant something will. */
static int64_t sweep(mp_coord_memory_hub *h, int64_t now)
{
    int64_t next = MP_DEADLINE_NONE;
    for (size_t i = 0; i < h->n_mods; i++) {
        mem_module *m = &h->mods[i];
        if (m->state != MEM_LEASED || m->expiry_reported) continue;
        if (m->lease_deadline <= now) {
            m->expiry_reported = true;
            mp__mem_event(h, MP_COORD_EV_LEASE_EXPIRED, -1, m->attempt, NULL, m->name, m->token,
                          NULL, "lease expired");
        } else {
            next = mp__deadline_min(next, m->lease_deadline);
        }
    }
    for (size_t i = 0; i < h->n_workers; i++) {
        mem_worker *w = &h->workers[i];
        if (!w->alive) continue;
        if (w->alive_until <= now) {
            char why[96];
            snprintf(why, sizeof why, "silent for %lld ms", (long long)h->worker_timeout_ms);
            w->alive = false;
            mp__mem_event(h, MP_COORD_EV_WORKER_LEFT, w->instance, 0, w->id, NULL, NULL, NULL, why);
        } else {
            next = mp__deadline_min(next, w->alive_until);
        }
    }
    return next;
}

static int m_next_event(mp_coord_master *m, int64_t deadline, mp_coord_event *ev, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        int64_t next = sweep(h, mp__clock_now_ms());
        if (h->ev_head < h->n_events) {
            *ev = h->events[h->ev_head++];
            break;
        }
        if (mp__deadline_passed(deadline)) {
            rc = mp__error(err, MP_ETIMEDOUT, h->run_id, "no coordinator event");
            break;
        }
        mp__mem_wait(h, &h->cv_master, mp__deadline_min(deadline, next));
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int m_requeue(mp_coord_master *m, const char *module, const char *token, int max_attempts,
                     const char *reason, mp_coord_requeue_outcome *out, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    (void)reason; /* the master logs why; memory keeps no history of it */
    pthread_mutex_lock(&h->mu);
    mem_module *mod = mp__mem_module(h, module);
    if (!mod)
        rc = mp__error(err, MP_ENOENT, module ? module : "", "module not in the plan");
    else if (mod->state != MEM_LEASED || !token || strcmp(mod->token, token) != 0)
        *out = MP_COORD_STALE;
    else if (mod->attempt >= max_attempts) {
        mod->state = MEM_EXHAUSTED;
        mod->token[0] = '\0';
        *out = MP_COORD_EXHAUSTED;
    } else {
        mod->token[0] = '\0';
        mp__mem_queue_push(h, mod, true);
        *out = MP_COORD_REQUEUED;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* Take m out of its class queue (it is there: MEM_QUEUED). */
static void queue_remove(mp_coord_memory_hub *h, mem_module *m)
{
    mem_class *c = &h->classes[m->cls];
    mem_module **pp = &c->head, *prev = NULL;
    while (*pp && *pp != m) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp) return;
    *pp = m->qnext;
    if (c->tail == m) c->tail = prev;
    m->qnext = NULL;
}

static int m_settle(mp_coord_master *m, const char *module, const char *result_json,
                    mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    mem_module *mod = mp__mem_module(h, module);
    if (!mod)
        rc = mp__error(err, MP_ENOENT, module ? module : "", "module not in the plan");
    else if (mod->state == MEM_LEASED || mod->state == MEM_DONE)
        rc = mp__error(err, MP_ESTATE, module, "module is %s",
                       mod->state == MEM_DONE ? "already done" : "leased");
    else {
        if (mod->state == MEM_QUEUED) queue_remove(h, mod);
        mod->state = MEM_DONE;
        mod->token[0] = '\0';
        mod->result = mp__xstrdup(result_json);
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int m_cancel(mp_coord_master *m, const char *reason, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    (void)reason;
    pthread_mutex_lock(&h->mu);
    if (h->completed) rc = mp__error(err, MP_ESTATE, h->run_id, "cannot cancel a completed run");
    h->cancelled = h->cancelled || rc == 0;
    pthread_cond_broadcast(&h->cv_worker);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int m_complete(mp_coord_master *m, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    (void)err;
    pthread_mutex_lock(&h->mu);
    h->completed = true;
    pthread_cond_broadcast(&h->cv_worker);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static int m_heartbeat(mp_coord_master *m, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    if (!h->planned)
        rc = mp__error(err, MP_ESTATE, h->run_id, "heartbeat before the plan is published");
    else
        h->master_alive_until = mp__clock_now_ms() + h->master_timeout_ms;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int m_fetch_result(mp_coord_master *m, const char *module, char **json, mp_error *err)
{
    mp_coord_memory_hub *h = downcast(m)->h;
    pthread_mutex_lock(&h->mu);
    int rc = mp__mem_fetch(h, module, json, err);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

const mp_coord_master_vtable mp__coord_memory_master_vtable = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "memory",
    .open = m_open,
    .close = m_close,
    .publish_plan = m_publish_plan,
    .await_workers = m_await_workers,
    .enqueue = m_enqueue,
    .next_event = m_next_event,
    .requeue = m_requeue,
    .cancel = m_cancel,
    .complete = m_complete,
    .heartbeat = m_heartbeat,
    .fetch_result = m_fetch_result,
    .settle = m_settle,
};
