/*
 * check.c -- step 3 of validation: everything else about each module.
 *
 *   - expressions, in every string used at run time (run, argv, env
 *     values, working_dir, condition arguments, produces and consumes
 *     paths): malformed ones; `modules.M` must name a module among the
 *     module's resolved depends_on, by full name or by a plain name with
 *     one instance (a plain name with several is ambiguous: its outputs
 *     and its status are those of one module); requires values may only
 *     hold matrix expressions (placement is decided before anything runs);
 *     the pipeline's env only run.id and instance.index. Matrix
 *     expressions were substituted or reported by matrix.c.
 *   - consumes: the producer must be upstream, i.e. reachable through
 *     depends_on (transitively: its result is final before the consumer
 *     starts). With `from`, that module (one instance) must produce the
 *     artifact; without, exactly one upstream module may. The producer's
 *     index is stored in mp_consume.producer. Upstream sets are found by a
 *     walk over the consumer's ancestors, only for consumers.
 *   - a body (run, argv or function), declared secrets and concurrency
 *     groups, and each artifact name produced once per module.
 * Messages name the declared module, so the instances of a matrix share
 * one report (mp__problem drops repeats).
 */
#include "core/expr.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct checker {
    mp_pipeline *p;
    size_t *mark;     /* per module: stamp of the current module's deps */
    size_t *upstream; /* per module: stamp of the current consumer's ancestors */
    size_t *stack;
    mp_strmap secrets, groups;
} checker;

enum field { F_RUNTIME, F_REQUIRES, F_GLOBAL_ENV };

/* "${{ modules.D.outputs.K }}" and friends, canonically spaced. */
static void describe(const mp_expr *e, char *buf, size_t size)
{
    switch (e->kind) {
    case MP_EXPR_MATRIX:
        snprintf(buf, size, "${{ matrix.%.*s }}", (int)e->key_len, e->key);
        break;
    case MP_EXPR_OUTPUT:
        snprintf(buf, size, "${{ modules.%.*s.outputs.%.*s }}", (int)e->module_len, e->module,
                 (int)e->key_len, e->key);
        break;
    case MP_EXPR_STATUS:
        snprintf(buf, size, "${{ modules.%.*s.status }}", (int)e->module_len, e->module);
        break;
    case MP_EXPR_INSTANCE_INDEX:
        snprintf(buf, size, "${{ instance.index }}");
        break;
    case MP_EXPR_RUN_ID:
        snprintf(buf, size, "${{ run.id }}");
        break;
    }
}

static void malformed(checker *c, const char *who, mp_pos pos, const char *s, const mp_expr *e,
                      const char *why)
{
    size_t len = e->end - e->start;
    int cut = len > 60;
    mp__problem(c->p, pos, "malformed expression in %s: %s in \"%.*s%s\"", who, why,
                (int)(cut ? 60 : len), s + e->start, cut ? "..." : "");
}

/* A modules.M reference of module m. */
static void check_module_ref(checker *c, const mp_module *m, mp_pos pos, const mp_expr *e)
{
    mp_pipeline *p = c->p;
    char text[512];
    describe(e, text, sizeof(text));
    char *name = mp__arena_strndup(p->arena, e->module, e->module_len);
    const mp_module *t = mp__strmap_get(&p->module_by_name, name);
    if (!t) {
        mp_instance_list *l = mp__strmap_get(&p->instances_by_base, name);
        if (l && l->idx.n > 1) {
            mp__problem(p, pos,
                        "module \"%s\" uses %s but \"%s\" has %zu instances; name one, e.g. "
                        "\"%s\"",
                        m->base, text, name, l->idx.n, p->modules.v[l->idx.v[0]]->name);
            return;
        }
        if (l && l->idx.n == 0) return; /* its matrix is broken, already reported */
        if (l) t = p->modules.v[l->idx.v[0]];
    }
    if (t && c->mark[t->index] == m->index + 1) return;
    /* Suggest a dependency only for a name that is no module at all (a
     * typo); for an existing module the fix is to add it to depends_on. */
    const char *sug = NULL;
    if (!t && m->depends_on.n)
        sug = mp__suggestv(name, &m->depends_on.v[0].s, m->depends_on.n, sizeof(mp_pstr));
    if (sug && !mp__strmap_get(&p->module_by_name, sug) &&
        !mp__strmap_get(&p->instances_by_base, sug))
        sug = NULL; /* never suggest a dependency that is itself unknown */
    if (sug && strcmp(sug, name) != 0)
        mp__problem(p, pos,
                    "module \"%s\" uses %s but \"%s\" is not in its depends_on; did you "
                    "mean \"%s\"?",
                    m->base, text, name, sug);
    else
        mp__problem(p, pos, "module \"%s\" uses %s but \"%s\" is not in its depends_on", m->base,
                    text, name);
}

static void check_str(checker *c, const mp_module *m, mp_pstr s, enum field f)
{
    if (!s.s || !strstr(s.s, "${{")) return;
    char who[600];
    if (m)
        snprintf(who, sizeof(who), "module \"%s\"", m->base);
    else
        snprintf(who, sizeof(who), "the pipeline's env");
    size_t off = 0;
    mp_expr e;
    const char *why;
    int rc;
    while ((rc = mp__expr_next(s.s, &off, &e, &why)) != 0) {
        if (rc < 0) {
            malformed(c, who, s.pos, s.s, &e, why);
            continue;
        }
        if (e.kind == MP_EXPR_MATRIX && f != F_GLOBAL_ENV)
            continue; /* matrix.c substituted it or reported it */
        char text[512];
        describe(&e, text, sizeof(text));
        if (f == F_REQUIRES) {
            mp__problem(c->p, s.pos,
                        "module \"%s\" uses %s in \"requires\", where only ${{ matrix.K }} "
                        "is allowed",
                        m->base, text);
        } else if (f == F_GLOBAL_ENV) {
            if (e.kind != MP_EXPR_RUN_ID && e.kind != MP_EXPR_INSTANCE_INDEX)
                mp__problem(c->p, s.pos,
                            "the pipeline's env uses %s, where only ${{ run.id }} and "
                            "${{ instance.index }} are allowed",
                            text);
        } else if (e.kind == MP_EXPR_OUTPUT || e.kind == MP_EXPR_STATUS) {
            check_module_ref(c, m, s.pos, &e);
        }
    }
}

static void check_strs(checker *c, const mp_module *m, const mp_pstr_vec *v, enum field f)
{
    for (size_t i = 0; i < v->n; i++)
        check_str(c, m, v->v[i], f);
}

static void check_conds(checker *c, const mp_module *m, const mp_cond_vec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        check_str(c, m, v->v[i].arg, F_RUNTIME);
        check_str(c, m, v->v[i].equals, F_RUNTIME);
    }
}

static void check_expressions(checker *c, const mp_module *m)
{
    for (size_t k = 0; k < m->deps.n; k++)
        c->mark[m->deps.v[k]] = m->index + 1;
    check_str(c, m, m->run, F_RUNTIME);
    check_strs(c, m, &m->argv, F_RUNTIME);
    for (size_t i = 0; i < m->env.n; i++)
        check_str(c, m, m->env.v[i].value, F_RUNTIME);
    check_str(c, m, m->working_dir, F_RUNTIME);
    check_conds(c, m, &m->skip_if);
    check_conds(c, m, &m->run_if);
    for (size_t i = 0; i < m->produces.n; i++)
        check_strs(c, m, &m->produces.v[i].paths, F_RUNTIME);
    for (size_t i = 0; i < m->consumes.n; i++)
        check_str(c, m, m->consumes.v[i].path, F_RUNTIME);
    for (size_t i = 0; i < m->requires.n; i++)
        check_str(c, m, m->requires.v[i].value, F_REQUIRES);
}

/* ---- consumes */

typedef MP_VEC(size_t) idx_vec;

/* Stamp every module upstream of m (through deps) in c->upstream and list
 * those that produce anything in *producers. */
static void mark_upstream(checker *c, const mp_module *m, idx_vec *producers)
{
    size_t stamp = m->index + 1, sp = 0;
    c->stack[sp++] = m->index;
    while (sp) {
        const mp_module *u = c->p->modules.v[c->stack[--sp]];
        for (size_t k = 0; k < u->deps.n; k++) {
            size_t v = u->deps.v[k];
            if (c->upstream[v] == stamp) continue;
            c->upstream[v] = stamp;
            c->stack[sp++] = v;
            if (c->p->modules.v[v]->produces.n) MP_VEC_PUSH(c->p->arena, producers, v);
        }
    }
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return a < b ? -1 : a > b;
}

static int produces(const mp_module *m, const char *artifact)
{
    for (size_t i = 0; i < m->produces.n; i++)
        if (m->produces.v[i].name.s && strcmp(m->produces.v[i].name.s, artifact) == 0) return 1;
    return 0;
}

static void check_consume_from(checker *c, const mp_module *m, mp_consume *co)
{
    mp_pipeline *p = c->p;
    const char *from = co->from.s, *art = co->name.s;
    const mp_module *t = mp__strmap_get(&p->module_by_name, from);
    if (!t) {
        mp_instance_list *l = mp__strmap_get(&p->instances_by_base, from);
        if (!l) {
            mp__problem(p, co->from.pos,
                        "module \"%s\" consumes artifact \"%s\" from unknown module \"%s\"",
                        m->base, art, from);
            return;
        }
        if (l->idx.n == 0) return; /* broken matrix, reported */
        if (l->idx.n > 1) {
            mp__problem(p, co->from.pos,
                        "module \"%s\" consumes artifact \"%s\" from \"%s\", which has %zu "
                        "instances; name one, e.g. \"%s\"",
                        m->base, art, from, l->idx.n, p->modules.v[l->idx.v[0]]->name);
            return;
        }
        t = p->modules.v[l->idx.v[0]];
    }
    if (c->upstream[t->index] != m->index + 1) {
        mp__problem(p, co->from.pos,
                    "module \"%s\" consumes artifact \"%s\" from \"%s\", which is not among its "
                    "dependencies",
                    m->base, art, from);
        return;
    }
    if (!produces(t, art)) {
        mp__problem(p, co->from.pos,
                    "module \"%s\" consumes artifact \"%s\" from \"%s\", which produces no "
                    "artifact named \"%s\"",
                    m->base, art, from, art);
        return;
    }
    co->producer = (long)t->index;
}

static void check_consumes(checker *c, const mp_module *m)
{
    mp_pipeline *p = c->p;
    if (!m->consumes.n) return;
    idx_vec up = {0};
    mark_upstream(c, m, &up);
    if (up.n > 1) qsort(up.v, up.n, sizeof(*up.v), cmp_size); /* name order, for messages */
    for (size_t i = 0; i < m->consumes.n; i++) {
        mp_consume *co = &m->consumes.v[i];
        co->producer = -1;
        if (!co->name.s) continue;
        if (co->from.s) {
            check_consume_from(c, m, co);
            continue;
        }
        size_t found = 0, first = 0, second = 0;
        for (size_t k = 0; k < up.n; k++) {
            if (!produces(p->modules.v[up.v[k]], co->name.s)) continue;
            if (found == 0)
                first = up.v[k];
            else if (found == 1)
                second = up.v[k];
            found++;
        }
        if (found == 0)
            mp__problem(p, co->pos,
                        "module \"%s\" consumes artifact \"%s\" but no module it depends on "
                        "produces it",
                        m->base, co->name.s);
        else if (found > 1)
            mp__problem(p, co->pos,
                        "module \"%s\" consumes artifact \"%s\", which %zu modules it depends on "
                        "produce (\"%s\", \"%s\"%s); name one with \"from\"",
                        m->base, co->name.s, found, p->modules.v[first]->name,
                        p->modules.v[second]->name, found > 2 ? ", ..." : "");
        else
            co->producer = (long)first;
    }
}

/* ---- the rest */

static void check_module(checker *c, mp_module *m)
{
    mp_pipeline *p = c->p;
    if (!m->run_written && (m->run_kind == MP_RUN_NONE || (m->run_kind == MP_RUN_SHELL && !m->run.s) ||
        (m->run_kind == MP_RUN_FUNCTION && !m->fn) || (m->run_kind == MP_RUN_ARGV && !m->argv.n)))
        mp__problem(p, m->pos, "module \"%s\" has no \"run\"", m->base);
    for (size_t i = 0; i < m->secrets.n; i++) {
        mp_pstr s = m->secrets.v[i];
        if (s.s && !mp__strmap_get(&c->secrets, s.s))
            mp__problem(p, s.pos,
                        "module \"%s\" uses secret \"%s\", which is not declared in the "
                        "top-level \"secrets\"",
                        m->base, s.s);
    }
    if (m->concurrency_group.s && !mp__strmap_get(&c->groups, m->concurrency_group.s))
        mp__problem(p, m->concurrency_group.pos,
                    "module \"%s\" uses concurrency group \"%s\", which is not declared in "
                    "options.concurrency_groups",
                    m->base, m->concurrency_group.s);
    for (size_t i = 0; i < m->produces.n; i++)
        for (size_t j = 0; j < i; j++)
            if (m->produces.v[i].name.s && m->produces.v[j].name.s &&
                strcmp(m->produces.v[i].name.s, m->produces.v[j].name.s) == 0) {
                mp__problem(p, m->produces.v[i].name.pos,
                            "module \"%s\" produces artifact \"%s\" twice", m->base,
                            m->produces.v[i].name.s);
                break;
            }
    check_expressions(c, m);
    check_consumes(c, m);
}

size_t mp__check_modules(mp_pipeline *p)
{
    size_t before = p->diags.list.n + p->diags.dropped;
    size_t n = p->modules.n;
    checker c = {.p = p};
    c.mark = mp__xcalloc(n ? n : 1, sizeof(size_t));
    c.upstream = mp__xcalloc(n ? n : 1, sizeof(size_t));
    c.stack = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    for (size_t i = 0; i < p->secrets.n; i++)
        if (p->secrets.v[i].s)
            mp__strmap_put(&c.secrets, p->secrets.v[i].s, (void *)p->secrets.v[i].s);
    for (size_t i = 0; i < p->options.concurrency_groups.n; i++) {
        const char *g = p->options.concurrency_groups.v[i].key.s;
        if (g) mp__strmap_put(&c.groups, g, (void *)g);
    }
    for (size_t i = 0; i < p->env.n; i++)
        check_str(&c, NULL, p->env.v[i].value, F_GLOBAL_ENV);
    for (size_t i = 0; i < n; i++)
        check_module(&c, p->modules.v[i]);
    mp__strmap_release(&c.secrets);
    mp__strmap_release(&c.groups);
    free(c.mark);
    free(c.upstream);
    free(c.stack);
    return p->diags.list.n + p->diags.dropped - before;
}
