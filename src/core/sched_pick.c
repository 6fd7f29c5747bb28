/*
 * sched_pick.c -- which ready module starts next: the ready heaps and the
 * constraints (not_in_parallel keys, exclusive modules, concurrency
 * groups). See sched_int.h for resources and classes.
 *
 * mp__sched_next pops the best ready module (rank = priority, critical
 * path; ties by index). If a resource it needs is full it waits in its
 * class, the class is parked on that resource, and the next ready module
 * is tried, so a blocked module never holds back lower ones. Parked
 * modules are looked at again only when the resource they are parked on
 * frees a unit: the best parked class is woken and its best member goes
 * back to the ready heap. If that member then finds another full resource
 * (a class with several resources), its class parks there and the next
 * class of the freed resource is woken, until the resource is full again
 * or nobody waits: so nothing is forgotten while a resource has room.
 * When a woken member starts, the next member of its class is put back on
 * the ready heap once (a group may have room for several).
 *
 * Cost: every step is a heap operation, O(log n); nothing is re-scanned.
 * A module is parked about once per time it is blocked; a release wakes
 * at most one class per class parked on that resource, and only classes
 * (distinct constraint sets, a handful in real pipelines), never the
 * modules behind them, move between resources. So a decision costs
 * O(log n) amortised, times the number of distinct constraint sets that
 * contend for the same resources.
 *
 * Exclusive modules (not_in_parallel: true) wait in their own heap. When
 * the best of them ranks above the best ordinary ready module, nothing
 * else starts: the running modules drain and it starts alone (a writer-
 * preferring lock, so it cannot starve behind a stream of lower-ranked
 * modules). While it runs nothing starts. When it ranks below, ordinary
 * modules start ahead of it.
 */
#include "core/sched_int.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t parse_limit(const char *v)
{
    char *end;
    if (!v) return 1;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < 1) return 1; /* the loader rejects these */
    return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

static size_t res_id(mp_strmap *map, const char *name, uint32_t cap, mp_sched *s, size_t *capres)
{
    void *v = mp__strmap_get(map, name);
    if (v) return (size_t)((uintptr_t)v - 1);
    if (s->nres == *capres) {
        *capres = *capres ? 2 * *capres : 8;
        s->rs = mp__xrealloc(s->rs, mp__xmul(*capres, sizeof(*s->rs)));
    }
    memset(&s->rs[s->nres], 0, sizeof(*s->rs));
    s->rs[s->nres].cap = cap;
    mp__strmap_put(map, name, (void *)(uintptr_t)(s->nres + 1));
    return s->nres++;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Class of module i from its (sorted) resource list. */
static uint32_t class_of(mp_sched *s, size_t i, mp_strmap *classes, size_t *capcl)
{
    size_t from = s->res_off[i], to = s->res_off[i + 1];
    if (from == to) return SCHED_NO_CLASS;
    qsort(s->res + from, to - from, sizeof(uint32_t), cmp_u32);
    mp_strbuf sb = MP_STRBUF_INIT;
    for (size_t k = from; k < to; k++)
        mp__strbuf_addf(&sb, "%u,", (unsigned)s->res[k]);
    void *v = mp__strmap_get(classes, sb.buf);
    if (!v) {
        if (s->ncl == *capcl) {
            *capcl = *capcl ? 2 * *capcl : 8;
            s->cl = mp__xrealloc(s->cl, mp__xmul(*capcl, sizeof(*s->cl)));
        }
        memset(&s->cl[s->ncl], 0, sizeof(*s->cl));
        s->cl[s->ncl].state = CLS_IDLE;
        v = (void *)(uintptr_t)(++s->ncl);
        mp__strmap_put(classes, mp__arena_strndup(s->arena, sb.buf, sb.len), v);
    }
    mp__strbuf_release(&sb);
    return (uint32_t)((uintptr_t)v - 1);
}

void mp__sched_build_resources(mp_sched *s)
{
    const mp_pipeline *p = s->p;
    size_t n = s->n, capres = 0, capcl = 0, total = 0;
    mp_strmap keys = MP_STRMAP_INIT, groups = MP_STRMAP_INIT, limits = MP_STRMAP_INIT;
    mp_strmap classes = MP_STRMAP_INIT;
    for (size_t g = 0; g < p->options.concurrency_groups.n; g++) {
        const mp_kv *kv = &p->options.concurrency_groups.v[g];
        if (kv->key.s) mp__strmap_put(&limits, kv->key.s, (void *)kv);
    }
    for (size_t i = 0; i < n; i++)
        total += p->modules.v[i]->not_in_parallel.n + 1;
    s->res_off = mp__xcalloc(n + 1, sizeof(size_t));
    s->res = mp__xmalloc(mp__xmul(total ? total : 1, sizeof(uint32_t)));
    s->cls = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(uint32_t)));
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const mp_module *m = p->modules.v[i];
        s->res_off[i] = at;
        s->cls[i] = SCHED_NO_CLASS;
        if (!(s->mod[i].flags & SF_IN)) continue;
        for (size_t k = 0; k < m->not_in_parallel.n; k++) {
            const char *key = m->not_in_parallel.v[k].s;
            if (!key) continue;
            size_t id = res_id(&keys, key, 1, s, &capres), d;
            for (d = s->res_off[i]; d < at && s->res[d] != id; d++)
                ;
            if (d == at) s->res[at++] = (uint32_t)id;
        }
        const mp_kv *g =
            m->concurrency_group.s ? mp__strmap_get(&limits, m->concurrency_group.s) : NULL;
        if (g) /* an undeclared group is a validation error; unlimited here */
            s->res[at++] = (uint32_t)res_id(&groups, g->key.s, parse_limit(g->value.s), s, &capres);
        s->res_off[i + 1] = at;
        s->cls[i] = class_of(s, i, &classes, &capcl);
    }
    s->res_off[n] = at;
    mp__strmap_release(&keys);
    mp__strmap_release(&groups);
    mp__strmap_release(&limits);
    mp__strmap_release(&classes);
}

void mp__sched_release_resources(mp_sched *s)
{
    for (size_t r = 0; r < s->nres; r++)
        mp__sheap_release(&s->rs[r].wait);
    for (size_t c = 0; c < s->ncl; c++)
        mp__sheap_release(&s->cl[c].wait);
    free(s->rs);
    free(s->cl);
    free(s->cls);
    free(s->res_off);
    free(s->res);
}

void mp__sched_push_ready(mp_sched *s, size_t i)
{
    mp__sheap_push((s->mod[i].flags & SF_EXCL) ? &s->excl : &s->ready, s->rank[i], i);
}

/* Drop settled modules from the top of h; true if a live one is left. */
static bool live_top(const mp_sched *s, mp_sheap *h)
{
    while (h->n && s->mod[h->v[0].idx].status != MP_STATUS_PENDING)
        mp__sheap_pop(h);
    return h->n > 0;
}

/* Class c has no member in the ready heap any more: put its best waiting
 * member there (woken from nothing), or make it idle. */
static void recheck(mp_sched *s, size_t c)
{
    sched_class *k = &s->cl[c];
    if (!live_top(s, &k->wait)) {
        k->state = CLS_IDLE;
        return;
    }
    k->rep = mp__sheap_pop(&k->wait).idx;
    k->state = CLS_WOKEN;
    mp__sheap_push(&s->ready, s->rank[k->rep], k->rep);
}

/* Wake parked classes of r while r has room. */
static void wake(mp_sched *s, size_t r)
{
    sched_res *rs = &s->rs[r];
    while (rs->wait.n && rs->used + rs->woken < rs->cap) {
        mp_sheap_item e = mp__sheap_pop(&rs->wait);
        sched_class *k = &s->cl[s->cls[e.idx]];
        if (k->state != CLS_PARKED || k->res != r || k->head != e.idx) continue; /* stale */
        if (!live_top(s, &k->wait)) {
            k->state = CLS_IDLE;
            continue;
        }
        k->rep = mp__sheap_pop(&k->wait).idx;
        k->state = CLS_WOKEN;
        s->woken_from[k->rep] = (long)r;
        rs->woken++;
        mp__sheap_push(&s->ready, s->rank[k->rep], k->rep);
    }
}

/* Module i leaves the ready heap (starts, parks or settles): if it was
 * woken from a resource, that unit is no longer reserved for it. */
static void unwake(mp_sched *s, size_t i)
{
    if (s->woken_from[i] < 0) return;
    size_t r = (size_t)s->woken_from[i];
    s->woken_from[i] = -1;
    s->rs[r].woken--;
    wake(s, r);
}

static bool is_rep(const mp_sched *s, size_t i)
{
    uint32_t c = s->cls[i];
    return c != SCHED_NO_CLASS && s->cl[c].state == CLS_WOKEN && s->cl[c].rep == i;
}

void mp__sched_forget(mp_sched *s, size_t i)
{
    unwake(s, i);
    if (is_rep(s, i)) recheck(s, s->cls[i]);
}

void mp__sched_free_held(mp_sched *s, size_t i)
{
    for (size_t k = s->res_off[i]; k < s->res_off[i + 1]; k++) {
        s->rs[s->res[k]].used--;
        wake(s, s->res[k]);
    }
    s->running--;
    if (s->mod[i].flags & SF_EXCL) s->excl_running = false;
}

static void start(mp_sched *s, size_t i)
{
    for (size_t k = s->res_off[i]; k < s->res_off[i + 1]; k++)
        s->rs[s->res[k]].used++;
    s->mod[i].status = MP_STATUS_RUNNING;
    s->running++;
    if (s->mod[i].flags & SF_EXCL) s->excl_running = true;
    bool rep = is_rep(s, i);
    unwake(s, i);
    if (rep) recheck(s, s->cls[i]); /* the group may have room for the next one */
}

/* Ready module i cannot start: full resource r blocks it. */
static void park(mp_sched *s, size_t i, size_t r)
{
    size_t c = s->cls[i];
    sched_class *k = &s->cl[c];
    mp__sheap_push(&k->wait, s->rank[i], i);
    if (k->state == CLS_PARKED) {
        /* the class waits already; a better member re-keys it (the old
         * entry goes stale) */
        mp_sheap_item mine = {s->rank[i], i}, head = {s->rank[k->head], k->head};
        if (mp__sheap_before(mine, head)) {
            k->head = i;
            mp__sheap_push(&s->rs[k->res].wait, s->rank[i], i);
        }
    } else if (k->state == CLS_IDLE || k->rep == i) {
        live_top(s, &k->wait);
        k->state = CLS_PARKED;
        k->res = r;
        k->head = k->wait.v[0].idx;
        mp__sheap_push(&s->rs[r].wait, k->wait.v[0].key, k->head);
    }
    /* else: the class's representative is in the ready heap; it decides */
    unwake(s, i);
}

/* A full resource i needs, or -1. */
static long blocker(const mp_sched *s, size_t i)
{
    for (size_t k = s->res_off[i]; k < s->res_off[i + 1]; k++) {
        const sched_res *r = &s->rs[s->res[k]];
        if (r->used >= r->cap) return (long)s->res[k];
    }
    return -1;
}

long mp__sched_next(mp_sched *s)
{
    for (;;) {
        if (s->excl_running) return -1;
        bool c = live_top(s, &s->ready), x = live_top(s, &s->excl);
        if (!c && !x) return -1;
        if (x && (!c || mp__sheap_before(s->excl.v[0], s->ready.v[0]))) {
            if (s->running) return -1; /* drain, then it runs alone */
            size_t i = mp__sheap_pop(&s->excl).idx;
            start(s, i);
            return (long)i;
        }
        size_t i = mp__sheap_pop(&s->ready).idx;
        long r = blocker(s, i);
        if (r < 0) {
            start(s, i);
            return (long)i;
        }
        park(s, i, (size_t)r);
    }
}
