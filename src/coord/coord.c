/*
 * coord.c -- the backend registry and the wrappers of coord.h.
 *
 * The wrappers check arguments once for every backend (a worker id
 * without '#', canonical capabilities, a result message that belongs to
 * this run, module and lease) and then call the vtable slot. Adding a
 * backend is one line in `backends` below.
 */
#include "coord/coord.h"
#include "coord/class.h"
#include "coord/memory/memory.h"
#include "coord/redis/coord_redis.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "dist/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct backend {
    const char *scheme; /* URL scheme, without ':' */
    const mp_coord_master_vtable *master;
    const mp_coord_worker_vtable *worker;
} backend;

static const backend backends[] = {
    {"memory", &mp__coord_memory_master_vtable, &mp__coord_memory_worker_vtable},
    {"redis", &mp__coord_redis_master_vtable, &mp__coord_redis_worker_vtable},
};

static const backend *backend_for(const char *url, mp_error *err)
{
    const char *colon = url ? strchr(url, ':') : NULL;
    if (colon) {
        size_t n = (size_t)(colon - url);
        for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
            if (strlen(backends[i].scheme) == n && strncmp(url, backends[i].scheme, n) == 0)
                return &backends[i];
    }
    mp_strbuf known = MP_STRBUF_INIT;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        mp__strbuf_addf(&known, "%s%s:", i ? ", " : "", backends[i].scheme);
    mp__error(err, MP_EUSAGE, "", "unknown coordinator '%.*s': known schemes are %s",
              colon ? (int)(colon - url) : 64, url ? url : "(none)", known.buf);
    mp__strbuf_release(&known);
    return NULL;
}

int mp__coord_scheme_check(const char *url, mp_error *err)
{
    return backend_for(url, err) ? 0 : MP_EUSAGE;
}

static int check_opts(const mp_coord_open_opts *o, mp_error *err)
{
    if (!o || !o->url) return mp__error(err, MP_EINVAL, "", "no coordinator URL");
    if (!o->run_id || !*o->run_id || strlen(o->run_id) > MP_COORD_RUN_ID_MAX)
        return mp__error(err, MP_EINVAL, "", "no valid run id for the coordinator");
    return 0;
}

/* ----------------------------------------------------------------- master */

int mp__coord_master_open(const mp_coord_open_opts *o, mp_coord_master **out, mp_error *err)
{
    int rc = check_opts(o, err);
    if (rc < 0) return rc;
    const backend *b = backend_for(o->url, err);
    if (!b) return MP_EUSAGE;
    rc = b->master->open(o, out, err);
    if (rc == 0) snprintf((*out)->run_id, sizeof(*out)->run_id, "%s", o->run_id);
    return rc;
}

void mp__coord_master_close(mp_coord_master *m)
{
    if (m) m->vt->close(m);
}

const char *mp__coord_master_backend(const mp_coord_master *m)
{
    return m->vt->name;
}

int mp__coord_master_publish_plan(mp_coord_master *m, const mp_coord_plan *plan, mp_error *err)
{
    if (!plan->pipeline_hash || !plan->version || plan->instances < 1 || plan->lease_ms <= 0 ||
        plan->worker_timeout_ms <= 0 || plan->master_timeout_ms <= 0 ||
        (plan->n_modules && !plan->modules))
        return mp__error(err, MP_EINVAL, "", "incomplete plan");
    for (size_t i = 0; i < plan->n_modules; i++) {
        const mp_coord_plan_module *pm = &plan->modules[i];
        if (!pm->name || !*pm->name || strlen(pm->name) >= MP_COORD_NAME_MAX)
            return mp__error(err, MP_EINVAL, "", "plan module %zu: bad name", i);
        char *canon = NULL;
        int rc = mp__coord_class_canon(pm->cls, &canon, err);
        if (rc < 0) return rc;
        bool same = strcmp(canon, pm->cls) == 0;
        free(canon);
        if (!same)
            return mp__error(err, MP_EINVAL, pm->name, "class '%s' is not canonical", pm->cls);
    }
    return m->vt->publish_plan(m, plan, err);
}

int mp__coord_master_await_workers(mp_coord_master *m, size_t count, int64_t deadline,
                                   mp_coord_worker_list *out, mp_error *err)
{
    memset(out, 0, sizeof *out);
    return m->vt->await_workers(m, count, deadline, out, err);
}

int mp__coord_master_enqueue(mp_coord_master *m, const char *module, mp_error *err)
{
    return m->vt->enqueue(m, module, err);
}

int mp__coord_master_next_event(mp_coord_master *m, int64_t deadline, mp_coord_event *ev,
                                mp_error *err)
{
    memset(ev, 0, sizeof *ev);
    return m->vt->next_event(m, deadline, ev, err);
}

int mp__coord_master_requeue(mp_coord_master *m, const char *module, const char *token,
                             int max_attempts, const char *reason, mp_coord_requeue_outcome *out,
                             mp_error *err)
{
    if (max_attempts < 1)
        return mp__error(err, MP_EINVAL, module, "max_attempts must be at least 1");
    return m->vt->requeue(m, module, token, max_attempts, reason ? reason : "requeued", out, err);
}

int mp__coord_master_settle(mp_coord_master *m, const char *module, const char *result_json,
                            mp_error *err)
{
    mp_proto_msg msg;
    int rc = mp__proto_decode(result_json, strlen(result_json), m->run_id, &msg, err);
    if (rc < 0) return rc;
    if (msg.type != MP_PROTO_RESULT)
        rc = mp__error(err, MP_EINVAL, module, "%s message where a result was expected",
                       mp__proto_type_name(msg.type));
    else if (strcmp(msg.u.res.module, module) != 0)
        rc = mp__error(err, MP_EINVAL, module, "result is for module '%.200s'", msg.u.res.module);
    if (rc == 0) rc = m->vt->settle(m, module, result_json, err);
    mp__proto_msg_release(&msg);
    return rc;
}

int mp__coord_master_cancel(mp_coord_master *m, const char *reason, mp_error *err)
{
    return m->vt->cancel(m, reason ? reason : "cancelled", err);
}

int mp__coord_master_complete(mp_coord_master *m, mp_error *err)
{
    return m->vt->complete(m, err);
}

int mp__coord_master_heartbeat(mp_coord_master *m, mp_error *err)
{
    return m->vt->heartbeat(m, err);
}

int mp__coord_master_fetch_result(mp_coord_master *m, const char *module, char **json,
                                  mp_error *err)
{
    *json = NULL;
    return m->vt->fetch_result(m, module, json, err);
}

/* ----------------------------------------------------------------- worker */

int mp__coord_worker_open(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err)
{
    int rc = check_opts(o, err);
    if (rc < 0) return rc;
    const backend *b = backend_for(o->url, err);
    if (!b) return MP_EUSAGE;
    rc = b->worker->open(o, out, err);
    if (rc == 0) snprintf((*out)->run_id, sizeof(*out)->run_id, "%s", o->run_id);
    return rc;
}

void mp__coord_worker_close(mp_coord_worker *w)
{
    if (w) w->vt->close(w);
}

const char *mp__coord_worker_backend(const mp_coord_worker *w)
{
    return w->vt->name;
}

static bool worker_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > MP_COORD_WORKER_ID_MAX) return false;
    for (const char *p = id; *p; p++)
        if (!(strchr("_.:/@-", *p) || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

int mp__coord_worker_register(mp_coord_worker *w, const mp_coord_registration *reg,
                              int64_t deadline, mp_error *err)
{
    if (!worker_id_ok(reg->worker))
        return mp__error(err, MP_EINVAL, "", "bad worker id '%.160s': [A-Za-z0-9_.:/@-]{1,%d}",
                         reg->worker ? reg->worker : "", MP_COORD_WORKER_ID_MAX);
    if (reg->slots < 1 || reg->instance < 0 || !reg->pipeline_hash || !reg->version)
        return mp__error(err, MP_EINVAL, reg->worker, "incomplete registration");
    mp_strbuf caps = MP_STRBUF_INIT;
    mp__strbuf_addf(&caps, "%s%sinstance=%d", reg->capabilities ? reg->capabilities : "",
                    reg->capabilities && *reg->capabilities ? "," : "", reg->instance);
    char *canon = NULL;
    int rc = mp__coord_class_canon(caps.buf, &canon, err);
    mp__strbuf_release(&caps);
    if (rc < 0) return rc;
    mp_coord_registration r = *reg;
    r.capabilities = canon;
    rc = w->vt->register_(w, &r, deadline, err);
    free(canon);
    return rc;
}

int mp__coord_worker_claim(mp_coord_worker *w, int64_t deadline, mp_coord_lease *lease,
                           mp_coord_run_state *state, mp_error *err)
{
    memset(lease, 0, sizeof *lease);
    *state = MP_COORD_RUN_ACTIVE;
    return w->vt->claim(w, deadline, lease, state, err);
}

int mp__coord_worker_renew(mp_coord_worker *w, const mp_coord_lease *lease,
                           mp_coord_renew_answer *answer, mp_error *err)
{
    return w->vt->renew(w, lease, answer, err);
}

int mp__coord_worker_complete(mp_coord_worker *w, const mp_coord_lease *lease,
                              const char *result_json, mp_error *err)
{
    mp_proto_msg msg;
    int rc = mp__proto_decode(result_json, strlen(result_json), w->run_id, &msg, err);
    if (rc < 0) return rc;
    if (msg.type != MP_PROTO_RESULT)
        rc = mp__error(err, MP_EINVAL, lease->module, "%s message where a result was expected",
                       mp__proto_type_name(msg.type));
    else if (strcmp(msg.u.res.module, lease->module) != 0)
        rc = mp__error(err, MP_EINVAL, lease->module, "result is for module '%.200s'",
                       msg.u.res.module);
    else if (strcmp(msg.u.res.token, lease->token) != 0)
        rc = mp__error(err, MP_EINVAL, lease->module,
                       "result carries token '%.160s', the lease is '%s'", msg.u.res.token,
                       lease->token);
    if (rc == 0)
        rc = w->vt->complete(w, lease, mp__status_name(msg.u.res.result.status), result_json, err);
    mp__proto_msg_release(&msg);
    return rc;
}

int mp__coord_worker_fetch_result(mp_coord_worker *w, const char *module, char **json,
                                  mp_error *err)
{
    *json = NULL;
    return w->vt->fetch_result(w, module, json, err);
}

int mp__coord_worker_heartbeat(mp_coord_worker *w, mp_error *err)
{
    return w->vt->heartbeat(w, err);
}

int mp__coord_worker_observe(mp_coord_worker *w, int64_t deadline, mp_coord_run_state *state,
                             mp_error *err)
{
    *state = MP_COORD_RUN_ACTIVE;
    return w->vt->observe(w, deadline, state, err);
}

/* ----------------------------------------------------------------- values */

void mp__coord_worker_list_release(mp_coord_worker_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].worker);
        free(l->v[i].capabilities);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

void mp__coord_event_release(mp_coord_event *ev)
{
    if (!ev) return;
    free(ev->worker);
    free(ev->module);
    free(ev->token);
    free(ev->status);
    free(ev->detail);
    memset(ev, 0, sizeof *ev);
}

const char *mp__coord_event_kind_name(mp_coord_event_kind k)
{
    switch (k) {
    case MP_COORD_EV_WORKER_JOINED:
        return "worker_joined";
    case MP_COORD_EV_WORKER_LEFT:
        return "worker_left";
    case MP_COORD_EV_CLAIMED:
        return "claimed";
    case MP_COORD_EV_RESULT:
        return "result";
    case MP_COORD_EV_LEASE_EXPIRED:
        return "lease_expired";
    case MP_COORD_EV_REJECTED:
        return "rejected";
    }
    return "unknown";
}

const char *mp__coord_run_state_name(mp_coord_run_state s)
{
    switch (s) {
    case MP_COORD_RUN_ACTIVE:
        return "active";
    case MP_COORD_RUN_CANCELLED:
        return "cancelled";
    case MP_COORD_RUN_COMPLETED:
        return "completed";
    case MP_COORD_RUN_MASTER_LOST:
        return "master lost";
    }
    return "unknown";
}
