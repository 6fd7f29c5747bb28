/*
 * master.c -- the master side of the Redis coordinator.
 *
 * next_event never polls: sweep.lua reports the leases and workers that
 * lapsed by the server's clock (as events) and returns when the next one
 * may; the master then XREADs the events stream, BLOCKing until that
 * instant or its deadline, whichever is first. The sweep runs again only
 * once something may have lapsed (see next_sweep), not per event. Events
 * are read in batches and handed out one by one.
 */
#include "coord/class.h"
#include "coord/redis/redis_int.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XREAD_COUNT "256"

typedef struct rc_master {
    mp_coord_master base;
    rc_common c;
    char last_id[64];  /* events handed to next_event up to here */
    char await_id[64]; /* events seen by await_workers up to here */
    mp_coord_event *buf;
    size_t head, n, cap;
    /* When sweep.lua must run again: what it saw lapses at next_sweep at
     * the earliest, and a lease or liveness granted since lapses no
     * sooner than min(lease_ms, worker_timeout_ms) after it was granted. */
    int64_t next_sweep;
    int64_t min_lapse_ms; /* min(lease_ms, worker_timeout_ms) of the plan */
} rc_master;

static rc_master *downcast(mp_coord_master *m)
{
    if (m->vt != &mp__coord_redis_master_vtable)
        mp__die("coord.redis: not a redis master handle (backend %s)", m->vt->name);
    return (rc_master *)m;
}

static void check_eviction(rc_master *rm, const mp_coord_open_opts *o)
{
    if (!o->warn) return;
    const char *argv[] = {"CONFIG", "GET", "maxmemory-policy"};
    redisReply *r = NULL;
    mp_error e = {0};
    mp_strbuf line = MP_STRBUF_INIT;
    if (mp__rc_command(&rm->c, 3, argv, &r, &e) < 0)
        mp__strbuf_addf(&line,
                        "coordinator %s: cannot check maxmemory-policy (%s); unless it is "
                        "noeviction, redis may evict the run's keys and lose the run",
                        mp__redis_pool_url(rm->c.pool), e.message);
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[1]->type == REDIS_REPLY_STRING &&
             strcmp(r->element[1]->str, "noeviction") != 0)
        mp__strbuf_addf(&line,
                        "coordinator %s: maxmemory-policy is %.40s, not noeviction: redis may "
                        "evict the run's keys under memory pressure and lose the run",
                        mp__redis_pool_url(rm->c.pool), r->element[1]->str);
    freeReplyObject(r);
    if (line.len) o->warn(o->warn_data, line.buf);
    mp__strbuf_release(&line);
}

static int m_open(const mp_coord_open_opts *o, mp_coord_master **out, mp_error *err)
{
    rc_master *rm = mp__xcalloc(1, sizeof *rm);
    int rc = mp__rc_open(o, &rm->c, err);
    if (rc < 0) {
        free(rm);
        return rc;
    }
    rm->base.vt = &mp__coord_redis_master_vtable;
    snprintf(rm->last_id, sizeof rm->last_id, "0-0");
    snprintf(rm->await_id, sizeof rm->await_id, "0-0");
    check_eviction(rm, o);
    *out = &rm->base;
    return 0;
}

static void m_close(mp_coord_master *m)
{
    rc_master *rm = downcast(m);
    mp__rc_close(&rm->c, NULL);
    for (size_t i = rm->head; i < rm->n; i++)
        mp__coord_event_release(&rm->buf[i]);
    free(rm->buf);
    free(rm);
}

static int m_publish_plan(mp_coord_master *m, const mp_coord_plan *p, mp_error *err)
{
    rc_master *rm = downcast(m);
    size_t argc = 6 + 2 * p->n_modules;
    const char **argv = mp__xcalloc(argc, sizeof *argv);
    char num[4][24];
    snprintf(num[0], sizeof num[0], "%d", p->instances);
    snprintf(num[1], sizeof num[1], "%lld", (long long)p->lease_ms);
    snprintf(num[2], sizeof num[2], "%lld", (long long)p->worker_timeout_ms);
    snprintf(num[3], sizeof num[3], "%lld", (long long)p->master_timeout_ms);
    argv[0] = p->pipeline_hash;
    argv[1] = p->version;
    for (int i = 0; i < 4; i++)
        argv[2 + i] = num[i];
    for (size_t i = 0; i < p->n_modules; i++) {
        argv[6 + 2 * i] = p->modules[i].name;
        argv[7 + 2 * i] = p->modules[i].cls;
    }
    int rc = mp__rc_eval(&rm->c, &mp__rc_publish, (int)argc, argv, NULL, NULL, err);
    free(argv);
    if (rc == 0) rm->c.planned_seen = true;
    rm->min_lapse_ms =
        p->lease_ms < p->worker_timeout_ms ? p->lease_ms : p->worker_timeout_ms;
    return rc;
}

/* XREAD from *cursor (advanced), blocking up to block_ms (0: not at all). */
static int xread(rc_master *rm, char *cursor, size_t size, int64_t block_ms, redisReply **out,
                 mp_error *err)
{
    char key[sizeof rm->c.prefix + 8], blk[24];
    mp__rc_key(&rm->c, "events", key, sizeof key);
    snprintf(blk, sizeof blk, "%lld", (long long)block_ms);
    const char *argv[] = {"XREAD", "COUNT", XREAD_COUNT, "BLOCK", blk, "STREAMS", key, cursor};
    const char *nb[] = {"XREAD", "COUNT", XREAD_COUNT, "STREAMS", key, cursor};
    int64_t dl = mp__deadline_in(block_ms + rm->c.timeout_ms);
    mp_redis *conn = NULL;
    *out = NULL;
    int rc = mp__redis_pool_get(rm->c.pool, dl, &conn, err);
    if (rc < 0) return rc;
    rc = block_ms > 0 ? mp__redis_command(conn, dl, 8, argv, NULL, out, err)
                      : mp__redis_command(conn, dl, 6, nb, NULL, out, err);
    mp__redis_pool_put(rm->c.pool, conn);
    if (rc < 0) return rc;
    redisReply *r = *out;
    /* [[stream, [[id, [f, v, ...]], ...]]] or nil */
    if (r->type == REDIS_REPLY_NIL) return 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
        r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        *out = NULL;
        return mp__error(err, MP_EPARSE, key, "unexpected XREAD reply");
    }
    redisReply *entries = r->element[0]->element[1];
    if (entries->elements) {
        redisReply *last = entries->element[entries->elements - 1];
        if (last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
            last->element[0]->type == REDIS_REPLY_STRING)
            snprintf(cursor, size, "%s", last->element[0]->str);
    }
    return 0;
}

static const struct {
    const char *name;
    mp_coord_event_kind kind;
} kinds[] = {
    {"worker_joined", MP_COORD_EV_WORKER_JOINED}, {"worker_left", MP_COORD_EV_WORKER_LEFT},
    {"claimed", MP_COORD_EV_CLAIMED},             {"result", MP_COORD_EV_RESULT},
    {"lease_expired", MP_COORD_EV_LEASE_EXPIRED}, {"rejected", MP_COORD_EV_REJECTED},
};

static bool to_int(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < -1 || v > 1000000000) return false;
    *out = (int)v;
    return true;
}

/* One stream entry [id, [f, v, ...]] into ev. */
static int parse_event(rc_master *rm, const redisReply *e, mp_coord_event *ev, mp_error *err)
{
    char key[sizeof rm->c.prefix + 8];
    mp__rc_key(&rm->c, "events", key, sizeof key);
    const char *id = e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
                             e->element[0]->type == REDIS_REPLY_STRING
                         ? e->element[0]->str
                         : "?";
    const redisReply *f = e->type == REDIS_REPLY_ARRAY && e->elements == 2 ? e->element[1] : NULL;
    *ev = (mp_coord_event){.instance = -1};
    const char *v = NULL, *kind = NULL;
    bool ok = f && f->type == REDIS_REPLY_ARRAY && f->elements % 2 == 0;
    for (size_t i = 0; ok && i < f->elements; i += 2) {
        const redisReply *name = f->element[i], *val = f->element[i + 1];
        if (name->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING || name->len != 1) {
            ok = false;
            break;
        }
        switch (name->str[0]) {
        case 'v': v = val->str; break;
        case 'k': kind = val->str; break;
        case 'i': ok = to_int(val->str, &ev->instance); break;
        case 'a': ok = to_int(val->str, &ev->attempt); break;
        case 'w': free(ev->worker); ev->worker = mp__xstrdup(val->str); break;
        case 'm': free(ev->module); ev->module = mp__xstrdup(val->str); break;
        case 't': free(ev->token); ev->token = mp__xstrdup(val->str); break;
        case 's': free(ev->status); ev->status = mp__xstrdup(val->str); break;
        case 'd': free(ev->detail); ev->detail = mp__xstrdup(val->str); break;
        default: ok = false;
        }
    }
    if (ok && v && strcmp(v, MP_COORD_REDIS_PROTO) != 0) {
        mp__coord_event_release(ev);
        return mp__error(err, MP_EPARSE, key,
                         "event %s was written by coordinator protocol %.20s, this modpipe "
                         "speaks protocol %s",
                         id, v, MP_COORD_REDIS_PROTO);
    }
    size_t k = 0;
    while (ok && kind && k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].name, kind))
        k++;
    if (!ok || !v || !kind || k == sizeof kinds / sizeof kinds[0]) {
        mp__coord_event_release(ev);
        return mp__error(err, MP_EPARSE, key,
                         "event %s is not a coordinator event (garbage in the run's keys)", id);
    }
    ev->kind = kinds[k].kind;
    return 0;
}

static int fill_buffer(rc_master *rm, redisReply *r, mp_error *err)
{
    if (!r || r->type == REDIS_REPLY_NIL) return 0;
    redisReply *entries = r->element[0]->element[1];
    if (rm->head == rm->n) rm->head = rm->n = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        if (rm->n == rm->cap) {
            rm->cap = rm->cap ? 2 * rm->cap : 64;
            rm->buf = mp__xrealloc(rm->buf, mp__xmul(rm->cap, sizeof *rm->buf));
        }
        int rc = parse_event(rm, entries->element[i], &rm->buf[rm->n], err);
        if (rc < 0) return rc;
        rm->n++;
    }
    return 0;
}

static int m_next_event(mp_coord_master *m, int64_t deadline, mp_coord_event *ev, mp_error *err)
{
    rc_master *rm = downcast(m);
    for (;;) {
        if (rm->head < rm->n) {
            *ev = rm->buf[rm->head++];
            return 0;
        }
        redisReply *r = NULL;
        int rc = 0;
        int64_t now = mp__clock_now_ms();
        if (now >= rm->next_sweep || rm->min_lapse_ms <= 0) {
            rc = mp__rc_eval(&rm->c, &mp__rc_sweep, 0, NULL, NULL, &r, err);
            if (rc < 0) return rc;
            long long next = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
            freeReplyObject(r);
            r = NULL;
            rm->next_sweep = now + (next >= 0 && next < rm->min_lapse_ms ? next : rm->min_lapse_ms);
        }
        int64_t block = mp__deadline_remaining_ms(deadline);
        if (rm->next_sweep - now + 1 < block) block = rm->next_sweep - now + 1;
        if (block < 0) block = 0;
        rc = xread(rm, rm->last_id, sizeof rm->last_id, block, &r, err);
        if (rc == 0) rc = fill_buffer(rm, r, err);
        freeReplyObject(r);
        if (rc < 0) return rc;
        if (rm->head == rm->n && mp__deadline_passed(deadline))
            return mp__error(err, MP_ETIMEDOUT, rm->c.prefix, "no coordinator event");
    }
}

static int by_instance(const void *a, const void *b)
{
    const mp_coord_worker_info *x = a, *y = b;
    return (x->instance > y->instance) - (x->instance < y->instance);
}

/* Every registration (workers.lua); returns how many are alive. */
static int list_workers(rc_master *rm, mp_coord_worker_list *out, size_t *alive, mp_error *err)
{
    redisReply *r = NULL;
    int rc = mp__rc_eval(&rm->c, &mp__rc_workers, 0, NULL, NULL, &r, err);
    if (rc < 0) return rc;
    mp__coord_worker_list_release(out);
    *alive = 0;
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return mp__error(err, MP_EPARSE, rm->c.prefix, "script workers: unexpected reply");
    }
    out->v = mp__xcalloc(r->elements / 3 + 1, sizeof *out->v);
    for (size_t i = 0; rc == 0 && i + 3 <= r->elements; i += 3) {
        const redisReply *id = r->element[i], *info = r->element[i + 1], *al = r->element[i + 2];
        int inst = 0, slots = 0, used = 0;
        if (id->type != REDIS_REPLY_STRING || info->type != REDIS_REPLY_STRING ||
            al->type != REDIS_REPLY_INTEGER ||
            sscanf(info->str, "%d %d %n", &inst, &slots, &used) != 2) {
            rc = mp__error(err, MP_EPARSE, rm->c.prefix,
                           "the registrations in %sworkers are garbage", rm->c.prefix);
            break;
        }
        out->v[out->n++] = (mp_coord_worker_info){.instance = inst,
                                                  .worker = mp__xstrdup(id->str),
                                                  .capabilities = mp__xstrdup(info->str + used),
                                                  .slots = slots,
                                                  .alive = al->integer == 1};
        *alive += al->integer == 1;
    }
    freeReplyObject(r);
    qsort(out->v, out->n, sizeof *out->v, by_instance);
    return rc;
}

static int m_await_workers(mp_coord_master *m, size_t count, int64_t deadline,
                           mp_coord_worker_list *out, mp_error *err)
{
    rc_master *rm = downcast(m);
    for (;;) {
        size_t alive = 0;
        int rc = list_workers(rm, out, &alive, err);
        if (rc < 0) return rc;
        if (alive >= count) return 0;
        int64_t block = mp__deadline_remaining_ms(deadline);
        if (block <= 0)
            return mp__error(err, MP_ETIMEDOUT, rm->c.prefix, "%zu of %zu workers registered",
                             alive, count);
        redisReply *r = NULL;
        rc = xread(rm, rm->await_id, sizeof rm->await_id, block, &r, err);
        freeReplyObject(r);
        if (rc < 0) return rc;
    }
}

static int simple(rc_master *rm, mp_redis_script *s, int argc, const char *const *argv,
                  mp_error *err)
{
    return mp__rc_eval(&rm->c, s, argc, argv, NULL, NULL, err);
}

static int m_enqueue(mp_coord_master *m, const char *module, mp_error *err)
{
    const char *argv[] = {module};
    return simple(downcast(m), &mp__rc_enqueue, 1, argv, err);
}

static int m_requeue(mp_coord_master *m, const char *module, const char *token, int max_attempts,
                     const char *reason, mp_coord_requeue_outcome *out, mp_error *err)
{
    rc_master *rm = downcast(m);
    char max[16];
    snprintf(max, sizeof max, "%d", max_attempts);
    const char *argv[] = {module, token ? token : "", max, reason};
    redisReply *r = NULL;
    int rc = mp__rc_eval(&rm->c, &mp__rc_requeue, 4, argv, NULL, &r, err);
    if (rc < 0) return rc;
    if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "requeued") == 0)
        *out = MP_COORD_REQUEUED;
    else if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "exhausted") == 0)
        *out = MP_COORD_EXHAUSTED;
    else if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "stale") == 0)
        *out = MP_COORD_STALE;
    else
        rc = mp__error(err, MP_EPARSE, module, "script requeue: unexpected reply");
    freeReplyObject(r);
    return rc;
}

static int m_settle(mp_coord_master *m, const char *module, const char *result_json,
                    mp_error *err)
{
    mp_strbuf v = MP_STRBUF_INIT;
    mp__strbuf_addf(&v, "%s\n%s", MP_COORD_REDIS_PROTO, result_json);
    const char *argv[] = {module, v.buf};
    size_t lens[] = {strlen(module), v.len};
    int rc = mp__rc_eval(&downcast(m)->c, &mp__rc_settle, 2, argv, lens, NULL, err);
    mp__strbuf_release(&v);
    return rc;
}

static int m_cancel(mp_coord_master *m, const char *reason, mp_error *err)
{
    const char *argv[] = {"cancel", reason};
    return simple(downcast(m), &mp__rc_broadcast, 2, argv, err);
}

static int m_complete(mp_coord_master *m, mp_error *err)
{
    const char *argv[] = {"complete", "complete"};
    return simple(downcast(m), &mp__rc_broadcast, 2, argv, err);
}

static int m_heartbeat(mp_coord_master *m, mp_error *err)
{
    rc_master *rm = downcast(m);
    if (!rm->c.planned_seen)
        return mp__error(err, MP_ESTATE, rm->c.prefix, "heartbeat before the plan is published");
    return simple(rm, &mp__rc_mheartbeat, 0, NULL, err);
}

static int m_fetch_result(mp_coord_master *m, const char *module, char **json, mp_error *err)
{
    return mp__rc_fetch(&downcast(m)->c, module, json, err);
}

const mp_coord_master_vtable mp__coord_redis_master_vtable = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "redis",
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
