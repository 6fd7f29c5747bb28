/*
 * hub.c -- the in-memory hub: creation, joining, waiting, events, queues.
 *
 * Threads: none are started here. The hub's one mutex guards all state;
 * waits use pthread_cond_timedwait on CLOCK_MONOTONIC (the clock of
 * os/clock.h), so a deadline is the same number everywhere. Shutdown
 * order: the owner joins every thread using a handle, closes the handles,
 * then frees the hub.
 */
#include "coord/memory/memory_int.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

mp_coord_memory_hub *mp__coord_memory_hub_new(void)
{
    mp_coord_memory_hub *h = mp__xcalloc(1, sizeof *h);
    pthread_condattr_t ca;
    if (pthread_mutex_init(&h->mu, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&h->cv_worker, &ca) != 0 || pthread_cond_init(&h->cv_master, &ca) != 0)
        mp__die("coord.memory: cannot initialise the hub's mutex and conditions");
    pthread_condattr_destroy(&ca);
    return h;
}

void mp__coord_memory_hub_free(mp_coord_memory_hub *h)
{
    if (!h) return;
    if (h->handles) mp__die("coord.memory: hub freed with %d handle(s) open", h->handles);
    for (size_t i = 0; i < h->n_mods; i++) {
        free(h->mods[i].name);
        free(h->mods[i].result);
    }
    for (size_t i = 0; i < h->n_classes; i++)
        free(h->classes[i].name);
    for (size_t i = 0; i < h->n_workers; i++) {
        free(h->workers[i].id);
        free(h->workers[i].caps);
        free(h->workers[i].serves);
    }
    for (size_t i = h->ev_head; i < h->n_events; i++)
        mp__coord_event_release(&h->events[i]);
    free(h->mods);
    free(h->classes);
    free(h->workers);
    free(h->events);
    free(h->hash);
    free(h->version);
    pthread_cond_destroy(&h->cv_worker);
    pthread_cond_destroy(&h->cv_master);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int mp__mem_join(mp_coord_memory_hub *h, const char *run_id, bool master, mp_error *err)
{
    if (!h)
        return mp__error(err, MP_EINVAL,
                         "memory:", "the memory: coordinator needs a hub (in-process only)");
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    if (h->run_id[0] && strcmp(h->run_id, run_id) != 0)
        rc = mp__error(err, MP_EINVAL,
                       "memory:", "hub belongs to run '%s', refused a handle of run '%.128s'",
                       h->run_id, run_id);
    else if (master && h->master_open)
        rc = mp__error(err, MP_EEXIST, "memory:", "a master is already connected to this run");
    if (rc == 0) {
        snprintf(h->run_id, sizeof h->run_id, "%s", run_id);
        h->handles++;
        if (master) h->master_open = true;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void mp__mem_leave(mp_coord_memory_hub *h, bool master)
{
    pthread_mutex_lock(&h->mu);
    h->handles--;
    if (master) h->master_open = false;
    pthread_mutex_unlock(&h->mu);
}

void mp__mem_wait(mp_coord_memory_hub *h, pthread_cond_t *cv, int64_t deadline)
{
    if (deadline == MP_DEADLINE_NONE) {
        pthread_cond_wait(cv, &h->mu);
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
                          .tv_nsec = (long)(deadline % 1000) * 1000000L};
    int rc = pthread_cond_timedwait(cv, &h->mu, &ts);
    if (rc != 0 && rc != ETIMEDOUT)
        mp__die("coord.memory: pthread_cond_timedwait: %s", strerror(rc));
}

static char *dup_or_null(const char *s)
{
    return s ? mp__xstrdup(s) : NULL;
}

void mp__mem_event(mp_coord_memory_hub *h, mp_coord_event_kind kind, int instance, int attempt,
                   const char *worker, const char *module, const char *token, const char *status,
                   const char *detail)
{
    if (h->ev_head > 0 && h->ev_head == h->n_events) h->ev_head = h->n_events = 0;
    if (h->n_events == h->cap_events) {
        if (h->ev_head > 0) { /* compact before growing */
            memmove(h->events, h->events + h->ev_head,
                    (h->n_events - h->ev_head) * sizeof *h->events);
            h->n_events -= h->ev_head;
            h->ev_head = 0;
        }
        if (h->n_events == h->cap_events) {
            h->cap_events = h->cap_events ? 2 * h->cap_events : 16;
            h->events = mp__xrealloc(h->events, mp__xmul(h->cap_events, sizeof *h->events));
        }
    }
    mp_coord_event *ev = &h->events[h->n_events++];
    *ev = (mp_coord_event){.kind = kind,
                           .instance = instance,
                           .attempt = attempt,
                           .worker = dup_or_null(worker),
                           .module = dup_or_null(module),
                           .token = dup_or_null(token),
                           .status = dup_or_null(status),
                           .detail = dup_or_null(detail)};
    pthread_cond_broadcast(&h->cv_master);
}

mem_module *mp__mem_module(mp_coord_memory_hub *h, const char *name)
{
    for (size_t i = 0; name && i < h->n_mods; i++)
        if (strcmp(h->mods[i].name, name) == 0) return &h->mods[i];
    return NULL;
}

int mp__mem_fetch(mp_coord_memory_hub *h, const char *module, char **json, mp_error *err)
{
    mem_module *m = mp__mem_module(h, module);
    if (!m || !m->result)
        return mp__error(err, MP_ENOENT, module ? module : "",
                         m ? "no result stored yet" : "module not in the plan");
    *json = mp__xstrdup(m->result);
    return 0;
}

mp_coord_run_state mp__mem_run_state(mp_coord_memory_hub *h, int64_t now)
{
    if (h->completed) return MP_COORD_RUN_COMPLETED;
    if (h->planned && now >= h->master_alive_until) return MP_COORD_RUN_MASTER_LOST;
    if (h->cancelled) return MP_COORD_RUN_CANCELLED;
    return MP_COORD_RUN_ACTIVE;
}

void mp__mem_queue_push(mp_coord_memory_hub *h, mem_module *m, bool front)
{
    mem_class *c = &h->classes[m->cls];
    m->state = MEM_QUEUED;
    m->qnext = NULL;
    if (!c->head) {
        c->head = c->tail = m;
    } else if (front) {
        m->qnext = c->head;
        c->head = m;
    } else {
        c->tail->qnext = m;
        c->tail = m;
    }
    pthread_cond_broadcast(&h->cv_worker);
}
