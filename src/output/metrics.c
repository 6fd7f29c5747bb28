/*
 * metrics.c -- see metrics.h. Peak concurrency from timestamps is a sweep
 * over the 2n interval ends sorted by time (an end sorts before a start at
 * the same instant: a module that starts when another ends does not overlap
 * it).
 */
#include "output/metrics.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

int mp__result_ran(const mp_result *r)
{
    return r->attempts > 0 && r->started_at > 0;
}

typedef struct edge {
    int64_t t;
    int delta; /* -1 end, +1 start */
} edge;

static int edge_cmp(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->delta - y->delta;
}

static int peak_from_intervals(const mp_run *run)
{
    edge *e = mp__xcalloc(run->n ? mp__xmul(run->n, 2) : 1, sizeof(*e));
    size_t k = 0;
    for (size_t i = 0; i < run->n; i++) {
        const mp_result *r = &run->results[i];
        if (!mp__result_ran(r)) continue;
        int64_t end = r->ended_at > r->started_at ? r->ended_at : r->started_at + 1;
        e[k++] = (edge){r->started_at, +1};
        e[k++] = (edge){end, -1};
    }
    qsort(e, k, sizeof(*e), edge_cmp);
    int cur = 0, peak = 0;
    for (size_t i = 0; i < k; i++) {
        cur += e[i].delta;
        if (cur > peak) peak = cur;
    }
    free(e);
    return peak;
}

void mp__metrics_compute(const mp_run *run, mp_metrics *m)
{
    memset(m, 0, sizeof(*m));
    m->wall_ms = run->ended_at > run->started_at ? run->ended_at - run->started_at : 0;
    for (size_t i = 0; i < run->n; i++) {
        const mp_result *r = &run->results[i];
        if (r->duration_ms > 0) m->module_ms_total += r->duration_ms;
        if ((unsigned)r->status < MP_STATUS_COUNT) m->by_status[r->status]++;
    }
    if (m->wall_ms > 0)
        m->speedup = (double)((m->module_ms_total * 100 + m->wall_ms / 2) / m->wall_ms) / 100.0;
    m->peak_concurrency =
        run->peak_concurrency > 0 ? run->peak_concurrency : peak_from_intervals(run);
}
