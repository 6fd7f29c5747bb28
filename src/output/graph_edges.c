/*
 * graph_edges.c -- the edge list shared by the DOT and Mermaid writers
 * (see graph_format.h).
 */
#include "output/graph_format.h"

#include "core/xalloc.h"

#include <stdlib.h>

static int cmp_edge(const void *a, const void *b)
{
    const mp_graph_edge *x = a, *y = b;
    if (x->from != y->from) return x->from < y->from ? -1 : 1;
    if (x->to != y->to) return x->to < y->to ? -1 : 1;
    return (int)x->optional - (int)y->optional;
}

static bool has_dep(const mp_module *m, size_t idx)
{
    for (size_t i = 0; i < m->deps.n; i++)
        if (m->deps.v[i] == idx) return true;
    return false;
}

mp_graph_edge *mp__graph_edges(const mp_pipeline *p, size_t *n)
{
    size_t total = 0;
    for (size_t i = 0; i < p->modules.n; i++)
        total += p->modules.v[i]->deps.n + p->modules.v[i]->afters.n;
    *n = 0;
    if (total == 0) return NULL;
    mp_graph_edge *e = mp__xmalloc(mp__xmul(total, sizeof(*e)));
    for (size_t i = 0; i < p->modules.n; i++) {
        const mp_module *m = p->modules.v[i];
        for (size_t k = 0; k < m->deps.n; k++)
            e[(*n)++] = (mp_graph_edge){.from = m->deps.v[k], .to = i, .optional = false};
        for (size_t k = 0; k < m->afters.n; k++)
            if (!has_dep(m, m->afters.v[k]))
                e[(*n)++] = (mp_graph_edge){.from = m->afters.v[k], .to = i, .optional = true};
    }
    qsort(e, *n, sizeof(*e), cmp_edge);
    return e;
}
