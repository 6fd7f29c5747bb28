/*
 * plan.c -- filters and waves of a validated pipeline (see plan.h).
 *
 * Order of decisions, each only over modules still running:
 *   1. --module: the named modules and everything they require
 *      (transitively, depends_on) run; the rest is EXCLUDED.
 *   2. --skip-module: SKIP; then in topological order every module with a
 *      required dependency skipped this way is SKIP too (the reason names
 *      that dependency), whatever its category.
 *   3. --category / --ignore-category: SKIP by the module's own category,
 *      no cascade (a category names what to run, not what to cut off).
 * Waves: longest path over deps + afters, counting only predecessors that
 * run. Everything is linear in modules + edges.
 */
#include "core/error.h"
#include "core/plan.h"
#include "core/strbuf.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static size_t list_len(const char *const *l)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    return n;
}

/* Mark (set[i] = 1) the modules `name` means: a full name or every instance
 * of a plain name. Returns MP_EUSAGE with a suggestion when unknown. */
static int mark_named(const mp_pipeline *p, const char *name, const char *flag, unsigned char *set,
                      mp_error *err)
{
    mp_module *m = mp__strmap_get(&p->module_by_name, name);
    if (m) {
        set[m->index] = 1;
        return 0;
    }
    mp_instance_list *l = mp__strmap_get(&p->instances_by_base, name);
    if (l) {
        for (size_t i = 0; i < l->idx.n; i++)
            set[l->idx.v[i]] = 1;
        return 0;
    }
    size_t n = p->decls.n + p->modules.n;
    const char **names = mp__xmalloc(mp__xmul(n + 1, sizeof(*names)));
    size_t k = 0;
    for (size_t i = 0; i < p->decls.n; i++)
        names[k++] = p->decls.v[i]->proto.base;
    if (strchr(name, '['))
        for (size_t i = 0; i < p->modules.n; i++)
            names[k++] = p->modules.v[i]->name;
    names[k] = NULL;
    const char *sug = mp__suggest(name, names);
    int rc = sug ? mp__error(err, MP_EUSAGE, "", "%s: unknown module \"%s\"; did you mean \"%s\"?",
                             flag, name, sug)
                 : mp__error(err, MP_EUSAGE, "", "%s: unknown module \"%s\"", flag, name);
    free(names);
    return rc;
}

/* Is category c among list l? */
static int in_list(const char *c, const char *const *l)
{
    for (size_t i = 0; c && l && l[i]; i++)
        if (strcmp(c, l[i]) == 0) return 1;
    return 0;
}

/* Every category in l must be some module's. */
static int check_categories(const mp_pipeline *p, const char *const *l, const char *flag,
                            mp_error *err)
{
    for (size_t i = 0; l && l[i]; i++) {
        size_t k;
        for (k = 0; k < p->modules.n; k++) {
            const char *c = p->modules.v[k]->category.s;
            if (c && strcmp(c, l[i]) == 0) break;
        }
        if (k < p->modules.n) continue;
        const char **cats = mp__xmalloc(mp__xmul(p->modules.n + 1, sizeof(*cats)));
        size_t n = 0;
        for (k = 0; k < p->modules.n; k++)
            if (p->modules.v[k]->category.s) cats[n++] = p->modules.v[k]->category.s;
        cats[n] = NULL;
        const char *sug = mp__suggest(l[i], cats);
        int rc =
            sug ? mp__error(err, MP_EUSAGE, "",
                            "%s: no module is in category \"%s\"; did you mean \"%s\"?", flag, l[i],
                            sug)
                : mp__error(err, MP_EUSAGE, "", "%s: no module is in category \"%s\"", flag, l[i]);
        free(cats);
        return rc;
    }
    return 0;
}

/* "not in category "a"" or "not in categories "a", "b"". */
static const char *not_in_reason(mp_arena *a, const char *const *l)
{
    size_t n = list_len(l);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_adds(&sb, n == 1 ? "not in category " : "not in categories ");
    for (size_t i = 0; i < n; i++)
        mp__strbuf_addf(&sb, "%s\"%s\"", i ? ", " : "", l[i]);
    char *r = mp__arena_strndup(a, sb.buf, sb.len);
    mp__strbuf_release(&sb);
    return r;
}

static int build(const mp_pipeline *p, const mp_filters *f, mp_plan *plan, mp_error *err)
{
    size_t n = p->modules.n;
    mp_arena *a = plan->arena;
    unsigned char *set = mp__arena_alloc(a, n ? n : 1);
    unsigned char *cascade = mp__arena_alloc(a, n ? n : 1);
    size_t *topo = mp__arena_alloc(a, (n ? n : 1) * sizeof(size_t));
    if (mp__graph_topo(p, topo) < 0)
        return mp__error(err, MP_ESTATE, "", "the pipeline has a dependency cycle");

    /* 1. --module */
    if (f && list_len(f->modules)) {
        for (size_t i = 0; f->modules[i]; i++)
            if (mark_named(p, f->modules[i], "--module", set, err) < 0) return MP_EUSAGE;
        /* Reverse topological order: dependents before their deps. */
        for (size_t k = n; k-- > 0;) {
            const mp_module *m = p->modules.v[topo[k]];
            if (!set[m->index]) continue;
            for (size_t j = 0; j < m->deps.n; j++)
                set[m->deps.v[j]] = 1;
        }
        for (size_t i = 0; i < n; i++)
            if (!set[i]) {
                plan->entries[i].state = MP_PLAN_EXCLUDED;
                plan->entries[i].reason = "not selected by --module";
            }
    }

    /* Category filters are checked before anything is decided by them. */
    if (f && check_categories(p, f->categories, "--category", err) < 0) return MP_EUSAGE;
    if (f && check_categories(p, f->ignore_categories, "--ignore-category", err) < 0)
        return MP_EUSAGE;

    /* 2. --skip-module, cascading along depends_on */
    if (f && list_len(f->skip_modules)) {
        memset(set, 0, n ? n : 1);
        for (size_t i = 0; f->skip_modules[i]; i++)
            if (mark_named(p, f->skip_modules[i], "--skip-module", set, err) < 0) return MP_EUSAGE;
        for (size_t k = 0; k < n; k++) {
            size_t i = topo[k];
            mp_plan_entry *e = &plan->entries[i];
            if (e->state == MP_PLAN_EXCLUDED) continue;
            if (set[i]) {
                e->state = MP_PLAN_SKIP;
                e->reason = "skipped by --skip-module";
                cascade[i] = 1;
                continue;
            }
            const mp_module *m = p->modules.v[i];
            for (size_t j = 0; j < m->deps.n; j++) {
                if (cascade[m->deps.v[j]]) {
                    e->state = MP_PLAN_SKIP;
                    e->reason = mp__arena_printf(a, "dependency \"%s\" is skipped",
                                                 p->modules.v[m->deps.v[j]]->name);
                    cascade[i] = 1;
                    break;
                }
            }
        }
    }

    /* 3. categories */
    if (f && (list_len(f->categories) || list_len(f->ignore_categories))) {
        const char *not_in = list_len(f->categories) ? not_in_reason(a, f->categories) : NULL;
        for (size_t i = 0; i < n; i++) {
            mp_plan_entry *e = &plan->entries[i];
            const char *c = p->modules.v[i]->category.s;
            if (e->state != MP_PLAN_RUN) continue;
            if (not_in && !in_list(c, f->categories)) {
                e->state = MP_PLAN_SKIP;
                e->reason = not_in;
            } else if (in_list(c, f->ignore_categories)) {
                e->state = MP_PLAN_SKIP;
                e->reason = mp__arena_printf(a, "category \"%s\" is ignored", c);
            }
        }
    }

    /* Waves: longest path from running predecessors. */
    unsigned maxw = 0;
    int any = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = topo[k];
        const mp_module *m = p->modules.v[i];
        unsigned w = 0;
        for (size_t j = 0; j < m->deps.n + m->afters.n; j++) {
            size_t d = j < m->deps.n ? m->deps.v[j] : m->afters.v[j - m->deps.n];
            if (plan->entries[d].state == MP_PLAN_RUN && plan->entries[d].wave + 1 > w)
                w = plan->entries[d].wave + 1;
        }
        plan->entries[i].wave = w;
        if (plan->entries[i].state == MP_PLAN_RUN) {
            any = 1;
            if (w > maxw) maxw = w;
        }
    }
    plan->waves = any ? maxw + 1 : 0;

    /* Order by (wave, name): a counting sort keeps name (index) order. */
    unsigned top = 0;
    for (size_t i = 0; i < n; i++)
        if (plan->entries[i].wave > top) top = plan->entries[i].wave;
    size_t *count = mp__xcalloc((size_t)top + 2, sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        count[plan->entries[i].wave + 1]++;
    for (unsigned w = 0; w <= top; w++)
        count[w + 1] += count[w];
    for (size_t i = 0; i < n; i++)
        plan->order[count[plan->entries[i].wave]++] = i;
    free(count);
    return 0;
}

int mp__plan_build(const mp_pipeline *p, const mp_filters *f, mp_plan *plan, mp_error *err)
{
    memset(plan, 0, sizeof(*plan));
    if (!p || !p->validated) return mp__error(err, MP_ESTATE, "", "the pipeline is not validated");
    size_t n = p->modules.n;
    plan->arena = mp__arena_new();
    plan->n = n;
    plan->entries = mp__arena_alloc(plan->arena, (n ? n : 1) * sizeof(*plan->entries));
    plan->order = mp__arena_alloc(plan->arena, (n ? n : 1) * sizeof(*plan->order));
    for (size_t i = 0; i < n; i++)
        plan->entries[i].state = MP_PLAN_RUN;
    int rc = build(p, f, plan, err);
    if (rc < 0) {
        mp__plan_release(plan);
        return rc;
    }
    return 0;
}

void mp__plan_release(mp_plan *plan)
{
    if (!plan) return;
    mp__arena_free(plan->arena);
    memset(plan, 0, sizeof(*plan));
}
