/*
 * graph.c -- step 2 of validation: dependencies -> indices, and cycles.
 *
 * A depends_on/after entry names a module by full name ("test[os=linux]",
 * or "build" for a module without matrix) or by the plain name of a
 * matrix module, which means every instance of it. Resolution is one
 * hash lookup per entry; duplicates are dropped with a per-module stamp
 * array, and an `after` that is also a dependency is dropped (the
 * dependency already orders it). deps and afters end up sorted by index;
 * dependents (reverse of deps) too.
 *
 * Cycles: Tarjan's strongly connected components over deps + afters,
 * iteratively (an explicit stack, so a 10,000-long chain is fine). Each
 * component with more than one module is one problem, printing the
 * shortest cycle through its first module by name, at the position of
 * that module's entry naming the next one. Everything is linear in
 * modules + edges.
 */
#include "core/strbuf.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Suggestions compare a name with every declared one; keep that bounded
 * on huge broken pipelines. */
#define MAX_SUGGESTIONS 32
/* A longer cycle is printed with its middle elided. */
#define CYCLE_SHOWN 16

typedef MP_VEC(size_t) idx_vec;

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return a < b ? -1 : a > b;
}

/* Modules an entry names: *one is set for a full name, else the instance
 * list of a plain name; returns 0 when the name is unknown. */
static int lookup(const mp_pipeline *p, const char *name, size_t *one, const size_t **many,
                  size_t *n)
{
    mp_module *m = mp__strmap_get(&p->module_by_name, name);
    if (m) {
        *one = m->index;
        *many = one;
        *n = 1;
        return 1;
    }
    mp_instance_list *l = mp__strmap_get(&p->instances_by_base, name);
    if (!l) return 0;
    *many = l->idx.v;
    *n = l->idx.n;
    return 1;
}

/* A close name for an unknown "base[...]" entry, among the instances of
 * base. */
static const char *suggest(const mp_pipeline *p, const char *name, size_t *budget)
{
    if (*budget == 0) return NULL;
    (*budget)--;
    const char *br = strchr(name, '[');
    if (br) {
        mp_instance_list *l = mp__strmap_getn(&p->instances_by_base, name, (size_t)(br - name));
        if (!l) return NULL;
        const char *best = NULL;
        const char **names = mp__xmalloc(mp__xmul(l->idx.n + 1, sizeof(*names)));
        for (size_t i = 0; i < l->idx.n; i++)
            names[i] = p->modules.v[l->idx.v[i]]->name;
        names[l->idx.n] = NULL;
        best = mp__suggest(name, names);
        free(names);
        return best;
    }
    return NULL;
}

static idx_vec resolve_list(mp_pipeline *p, mp_module *m, const mp_pstr_vec *entries, size_t *stamp,
                            size_t mark, int is_after, size_t *budget, const char **names)
{
    idx_vec res = {0}, *out = &res;
    for (size_t i = 0; i < entries->n; i++) {
        mp_pstr e = entries->v[i];
        if (!e.s) continue;
        size_t one;
        const size_t *many;
        size_t n;
        if (!lookup(p, e.s, &one, &many, &n)) {
            const char *what = is_after ? "runs after" : "depends on";
            const char *sug = NULL;
            if (strchr(e.s, '['))
                sug = suggest(p, e.s, budget);
            else if (*budget) {
                (*budget)--;
                sug = mp__suggest(e.s, names);
            }
            if (sug && (strcmp(sug, m->name) == 0 || strcmp(sug, m->base) == 0))
                sug = NULL; /* never suggest the module itself */
            if (is_after && !sug)
                continue; /* `after` an absent module is fine (DESIGN §2); a near
                             miss of an existing name is a typo and reported */
            if (sug)
                mp__problem(p, e.pos,
                            "module \"%s\" %s unknown module \"%s\"; did you mean \"%s\"?", m->base,
                            what, e.s, sug);
            else
                mp__problem(p, e.pos, "module \"%s\" %s unknown module \"%s\"", m->base, what, e.s);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            size_t t = many[k];
            if (t == m->index) {
                mp__problem(p, e.pos, "module \"%s\" %s itself", m->base,
                            is_after ? "runs after" : "depends on");
                continue;
            }
            if (stamp[t] == mark) continue;
            stamp[t] = mark;
            MP_VEC_PUSH(p->arena, out, t);
        }
    }
    if (out->n > 1) qsort(out->v, out->n, sizeof(*out->v), cmp_size);
    return res;
}

/* ---- cycles */

static size_t edge_count(const mp_module *m)
{
    return m->deps.n + m->afters.n;
}

static size_t edge_at(const mp_module *m, size_t k)
{
    return k < m->deps.n ? m->deps.v[k] : m->afters.v[k - m->deps.n];
}

/* Position of from's entry that names `to` (by full or plain name). */
static mp_pos entry_pos(const mp_module *from, const mp_module *to)
{
    const mp_pstr_vec *lists[2] = {&from->depends_on, &from->after};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            const char *s = lists[l]->v[i].s;
            if (s && (strcmp(s, to->name) == 0 || strcmp(s, to->base) == 0))
                return lists[l]->v[i].pos;
        }
    return from->pos;
}

/* Report the shortest cycle through `start` inside component `comp`. */
static void report_cycle(mp_pipeline *p, size_t start, const size_t *comp, size_t *parent,
                         size_t *queue)
{
    const size_t none = (size_t)-1;
    size_t head = 0, tail = 0, last = none;
    queue[tail++] = start;
    parent[start] = start;
    while (head < tail && last == none) {
        size_t u = queue[head++];
        const mp_module *m = p->modules.v[u];
        for (size_t k = 0; k < edge_count(m); k++) {
            size_t v = edge_at(m, k);
            if (comp[v] != comp[start]) continue;
            if (v == start) {
                last = u;
                break;
            }
            if (parent[v] == none) {
                parent[v] = u;
                queue[tail++] = v;
            }
        }
    }
    if (last == none) mp__die("graph: component without a cycle through its module");
    /* Walk back from last to start, then print forwards. */
    size_t len = 0;
    for (size_t v = last; v != start; v = parent[v])
        queue[len++] = v; /* queue is free again: reuse it for the path */
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_adds(&sb, p->modules.v[start]->name);
    for (size_t i = len; i-- > 0;) {
        size_t pos = len - i; /* 1-based place in the cycle */
        if (len > CYCLE_SHOWN && pos > CYCLE_SHOWN / 2 && i >= CYCLE_SHOWN / 2) {
            if (pos == CYCLE_SHOWN / 2 + 1)
                mp__strbuf_addf(&sb, " -> ... (%zu more)", len - CYCLE_SHOWN);
            continue;
        }
        mp__strbuf_addf(&sb, " -> %s", p->modules.v[queue[i]]->name);
    }
    mp__strbuf_addf(&sb, " -> %s", p->modules.v[start]->name);
    size_t next = len ? queue[len - 1] : start;
    mp__problem(p, entry_pos(p->modules.v[start], p->modules.v[next]), "dependency cycle: %s",
                sb.buf);
    mp__strbuf_release(&sb);
}

static void find_cycles(mp_pipeline *p)
{
    size_t n = p->modules.n;
    const size_t none = (size_t)-1;
    size_t *index = mp__xmalloc(mp__xmul(n, sizeof(size_t)));
    size_t *low = mp__xmalloc(mp__xmul(n, sizeof(size_t)));
    size_t *comp = mp__xmalloc(mp__xmul(n, sizeof(size_t)));
    size_t *stack = mp__xmalloc(mp__xmul(n, sizeof(size_t))); /* Tarjan's stack */
    size_t *call = mp__xmalloc(mp__xmul(n, sizeof(size_t)));  /* DFS: node */
    size_t *iter = mp__xmalloc(mp__xmul(n, sizeof(size_t)));  /* DFS: next edge */
    unsigned char *on = mp__xcalloc(n ? n : 1, 1);
    size_t counter = 0, sp = 0, ncomp = 0;
    for (size_t i = 0; i < n; i++)
        index[i] = comp[i] = none;

    for (size_t root = 0; root < n; root++) {
        if (index[root] != none) continue;
        size_t depth = 0;
        call[depth] = root;
        iter[depth] = 0;
        index[root] = low[root] = counter++;
        stack[sp++] = root;
        on[root] = 1;
        while (depth != none) {
            size_t u = call[depth];
            const mp_module *m = p->modules.v[u];
            if (iter[depth] < edge_count(m)) {
                size_t v = edge_at(m, iter[depth]++);
                if (index[v] == none) {
                    index[v] = low[v] = counter++;
                    stack[sp++] = v;
                    on[v] = 1;
                    depth++;
                    call[depth] = v;
                    iter[depth] = 0;
                } else if (on[v] && index[v] < low[u]) {
                    low[u] = index[v];
                }
                continue;
            }
            if (low[u] == index[u]) {
                size_t w;
                do {
                    w = stack[--sp];
                    on[w] = 0;
                    comp[w] = ncomp;
                } while (w != u);
                ncomp++;
            }
            depth = depth ? depth - 1 : none;
            if (depth != none && low[u] < low[call[depth]]) low[call[depth]] = low[u];
        }
    }

    /* Components of two or more, by their first module (lowest index). */
    size_t *size = mp__xcalloc(ncomp ? ncomp : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        size[comp[i]]++;
    size_t *parent = index, *queue = low; /* reused */
    for (size_t i = 0; i < n; i++)
        parent[i] = none;
    for (size_t i = 0; i < n; i++) {
        if (size[comp[i]] < 2) continue;
        size[comp[i]] = 0; /* report once */
        report_cycle(p, i, comp, parent, queue);
    }
    free(size);
    free(index);
    free(low);
    free(comp);
    free(stack);
    free(call);
    free(iter);
    free(on);
}

size_t mp__graph_resolve(mp_pipeline *p)
{
    size_t before = p->diags.list.n + p->diags.dropped;
    size_t n = p->modules.n;
    size_t *stamp_dep = mp__xcalloc(n ? n : 1, sizeof(size_t));
    size_t *stamp_after = mp__xcalloc(n ? n : 1, sizeof(size_t));
    const char **names = mp__xmalloc(mp__xmul(p->decls.n + 1, sizeof(*names)));
    for (size_t i = 0; i < p->decls.n; i++)
        names[i] = p->decls.v[i]->proto.base;
    names[p->decls.n] = NULL;
    size_t budget = MAX_SUGGESTIONS;

    for (size_t i = 0; i < n; i++) {
        mp_module *m = p->modules.v[i];
        idx_vec deps = resolve_list(p, m, &m->depends_on, stamp_dep, i + 1, 0, &budget, names);
        m->deps.v = deps.v;
        m->deps.n = deps.n;
        m->deps.cap = deps.cap;
        /* An `after` that is also a dependency adds nothing. */
        for (size_t k = 0; k < m->deps.n; k++)
            stamp_after[m->deps.v[k]] = i + 1;
        idx_vec afters = resolve_list(p, m, &m->after, stamp_after, i + 1, 1, &budget, names);
        m->afters.v = afters.v;
        m->afters.n = afters.n;
        m->afters.cap = afters.cap;
        m->dependents.n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        mp_module *m = p->modules.v[i];
        for (size_t k = 0; k < m->deps.n; k++)
            MP_VEC_PUSH(p->arena, &p->modules.v[m->deps.v[k]]->dependents, i);
    }
    free(names);
    free(stamp_dep);
    free(stamp_after);
    find_cycles(p);
    return p->diags.list.n + p->diags.dropped - before;
}

int mp__graph_topo(const mp_pipeline *p, size_t *order)
{
    size_t n = p->modules.n;
    size_t *indeg = mp__xcalloc(n ? n : 1, sizeof(size_t));
    size_t *start = mp__xcalloc(n + 1, sizeof(size_t)); /* reverse edges, CSR */
    size_t edges = 0;
    for (size_t i = 0; i < n; i++) {
        const mp_module *m = p->modules.v[i];
        indeg[i] = edge_count(m);
        for (size_t k = 0; k < edge_count(m); k++)
            start[edge_at(m, k) + 1]++;
        edges += edge_count(m);
    }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    size_t *rev = mp__xmalloc(mp__xmul(edges ? edges : 1, sizeof(size_t)));
    size_t *fill = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    if (n) memcpy(fill, start, n * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        const mp_module *m = p->modules.v[i];
        for (size_t k = 0; k < edge_count(m); k++)
            rev[fill[edge_at(m, k)]++] = i;
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0) order[tail++] = i;
    while (head < tail) {
        size_t u = order[head++];
        for (size_t k = start[u]; k < start[u + 1]; k++)
            if (--indeg[rev[k]] == 0) order[tail++] = rev[k];
    }
    free(indeg);
    free(start);
    free(rev);
    free(fill);
    return tail == n ? 0 : -1;
}
