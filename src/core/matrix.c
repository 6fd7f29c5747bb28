/*
 * matrix.c -- step 1 of validation: declarations -> expanded modules.
 *
 * A declaration without a matrix becomes one module named like it; one
 * with a matrix becomes one module per combination of its axes (cartesian
 * product, first axis outermost, values in declaration order), named
 * `base[k=v,k2=v2]`. Each module is a copy of the declaration's proto with
 * every vector copied (so the module never shares an array with the
 * declaration) and `${{ matrix.K }}` substituted in every string a module
 * can use at run time: run, argv, env values, working_dir, requires
 * values, condition arguments, produces paths and consumes paths, and also
 * in depends_on, after and consumes.from, so an instance can name its
 * sibling (`depends_on: ["build[os=${{ matrix.os }}]"]`). Tags,
 * not_in_parallel keys and secrets are substituted too (harmless; unknown
 * keys there are not reported).
 *
 * Matrix problems (bad key, empty axis, bad or duplicate value, too many
 * combinations) make the declaration expand to no module at all, but its
 * name stays known (an empty instance list) so references to it raise no
 * second problem. Unknown matrix keys are reported once per declaration.
 * The modules are then sorted by name (strcmp) and indexed.
 */
#include "core/expr.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* GitHub Actions' limit for one matrix; enough for any real pipeline. */
#define MATRIX_MAX_COMBINATIONS 256

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int matrix_key_valid(const char *k)
{
    if (!k || !*k) return 0;
    for (; *k; k++)
        if (!key_char(*k)) return 0;
    return 1;
}

/* Values become part of instance names: no blanks, controls, "," "[" "]"
 * (they would make `base[k=v,...]` ambiguous) and no expressions. */
static int matrix_value_valid(const char *v)
{
    if (!v || !*v || strstr(v, "${{")) return 0;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c <= ' ' || c == 0x7f || c == ',' || c == '[' || c == ']') return 0;
    }
    return 1;
}

/* Check d's matrix; returns its number of combinations (1 without a
 * matrix) or 0 when it has problems (reported). */
static size_t check_matrix(mp_pipeline *p, mp_module_decl *d)
{
    const char *name = d->proto.base;
    size_t naxes = d->matrix_axes.n, combos = 1;
    int bad = 0;
    if (naxes && d->matrix_values.n != naxes) {
        mp__problem(p, d->matrix_pos, "matrix of module \"%s\": keys and value lists differ", name);
        return 0;
    }
    for (size_t i = 0; i < naxes; i++) {
        mp_pstr key = d->matrix_axes.v[i].key;
        if (!matrix_key_valid(key.s)) {
            mp__problem(p, key.pos,
                        "matrix of module \"%s\": invalid key \"%s\": use letters, digits, "
                        "\"_\" and \"-\"",
                        name, key.s ? key.s : "");
            bad = 1;
        }
        for (size_t j = 0; j < i; j++) {
            if (key.s && d->matrix_axes.v[j].key.s &&
                strcmp(key.s, d->matrix_axes.v[j].key.s) == 0) {
                mp__problem(p, key.pos, "matrix of module \"%s\": duplicate key \"%s\"", name,
                            key.s);
                bad = 1;
            }
        }
        const mp_pstr_vec *vals = &d->matrix_values.v[i];
        if (vals->n == 0) {
            mp__problem(p, key.pos, "matrix of module \"%s\": \"%s\" has no values", name,
                        key.s ? key.s : "");
            bad = 1;
        }
        for (size_t j = 0; j < vals->n; j++) {
            const char *v = vals->v[j].s;
            if (!matrix_value_valid(v)) {
                mp__problem(p, vals->v[j].pos,
                            "matrix of module \"%s\": invalid value \"%s\" for \"%s\": "
                            "no spaces, \",\", \"[\", \"]\" or expressions",
                            name, v ? v : "", key.s ? key.s : "");
                bad = 1;
                continue;
            }
            for (size_t k = 0; k < j; k++) {
                if (vals->v[k].s && strcmp(v, vals->v[k].s) == 0) {
                    mp__problem(p, vals->v[j].pos,
                                "matrix of module \"%s\": duplicate value \"%s\" for \"%s\"", name,
                                v, key.s ? key.s : "");
                    bad = 1;
                    break;
                }
            }
        }
        if (vals->n > MATRIX_MAX_COMBINATIONS || combos * vals->n > MATRIX_MAX_COMBINATIONS)
            combos = MATRIX_MAX_COMBINATIONS + 1;
        else if (vals->n)
            combos *= vals->n;
    }
    if (!bad && combos > MATRIX_MAX_COMBINATIONS) {
        mp__problem(p, d->matrix_pos,
                    "matrix of module \"%s\": too many combinations (the limit is %d)", name,
                    MATRIX_MAX_COMBINATIONS);
        bad = 1;
    }
    return bad ? 0 : combos;
}

/* ---- unknown matrix keys, checked on the declaration */

static void check_keys_in(mp_pipeline *p, mp_module_decl *d, mp_pstr s)
{
    if (!s.s || !strstr(s.s, "${{")) return;
    size_t off = 0;
    mp_expr e;
    const char *why;
    int rc;
    while ((rc = mp__expr_next(s.s, &off, &e, &why)) != 0) {
        if (rc < 0 || e.kind != MP_EXPR_MATRIX) continue;
        size_t i, naxes = d->matrix_axes.n;
        for (i = 0; i < naxes; i++) {
            const char *k = d->matrix_axes.v[i].key.s;
            if (k && strlen(k) == e.key_len && memcmp(k, e.key, e.key_len) == 0) break;
        }
        if (i < naxes) continue;
        if (!naxes) {
            mp__problem(p, s.pos, "module \"%s\" uses ${{ matrix.%.*s }} but has no matrix",
                        d->proto.base, (int)e.key_len, e.key);
            continue;
        }
        char *key = mp__arena_strndup(p->arena, e.key, e.key_len);
        const char *sug =
            mp__suggestv(key, &d->matrix_axes.v[0].key.s, naxes, sizeof(d->matrix_axes.v[0]));
        if (sug)
            mp__problem(p, s.pos,
                        "module \"%s\" uses ${{ matrix.%s }} but has no matrix key \"%s\"; "
                        "did you mean \"%s\"?",
                        d->proto.base, key, key, sug);
        else
            mp__problem(p, s.pos,
                        "module \"%s\" uses ${{ matrix.%s }} but has no matrix key \"%s\"",
                        d->proto.base, key, key);
    }
}

static void check_keys_vec(mp_pipeline *p, mp_module_decl *d, const mp_pstr_vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        check_keys_in(p, d, v->v[i]);
}

static void check_keys_conds(mp_pipeline *p, mp_module_decl *d, const mp_cond_vec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        check_keys_in(p, d, v->v[i].arg);
        check_keys_in(p, d, v->v[i].equals);
    }
}

static void check_keys(mp_pipeline *p, mp_module_decl *d)
{
    const mp_module *m = &d->proto;
    check_keys_in(p, d, m->run);
    check_keys_vec(p, d, &m->argv);
    for (size_t i = 0; i < m->env.n; i++)
        check_keys_in(p, d, m->env.v[i].value);
    check_keys_in(p, d, m->working_dir);
    for (size_t i = 0; i < m->requires.n; i++)
        check_keys_in(p, d, m->requires.v[i].value);
    check_keys_conds(p, d, &m->skip_if);
    check_keys_conds(p, d, &m->run_if);
    for (size_t i = 0; i < m->produces.n; i++)
        check_keys_vec(p, d, &m->produces.v[i].paths);
    for (size_t i = 0; i < m->consumes.n; i++) {
        check_keys_in(p, d, m->consumes.v[i].from);
        check_keys_in(p, d, m->consumes.v[i].path);
    }
    check_keys_vec(p, d, &m->depends_on);
    check_keys_vec(p, d, &m->after);
}

/* ---- expansion */

typedef struct combo {
    const mp_module_decl *d;
    const size_t *pick; /* value index per axis */
} combo;

static int resolve_matrix(const mp_expr *e, mp_strbuf *sb, void *data)
{
    const combo *c = data;
    if (e->kind != MP_EXPR_MATRIX) return -1;
    for (size_t i = 0; i < c->d->matrix_axes.n; i++) {
        const char *k = c->d->matrix_axes.v[i].key.s;
        if (strlen(k) == e->key_len && memcmp(k, e->key, e->key_len) == 0) {
            mp__strbuf_adds(sb, c->d->matrix_values.v[i].v[c->pick[i]].s);
            return 0;
        }
    }
    return -1;
}

static mp_pstr sub(mp_arena *a, mp_pstr s, combo *c)
{
    if (s.s && c->d->matrix_axes.n && strstr(s.s, "${{"))
        s.s = mp__expr_substitute(a, s.s, resolve_matrix, c, 0);
    return s;
}

static void copy_strs(mp_arena *a, mp_pstr_vec *v, combo *c)
{
    mp_pstr_vec src = *v;
    memset(v, 0, sizeof(*v));
    for (size_t i = 0; i < src.n; i++)
        MP_VEC_PUSH(a, v, sub(a, src.v[i], c));
}

static void copy_kvs(mp_arena *a, mp_kv_vec *v, combo *c)
{
    mp_kv_vec src = *v;
    memset(v, 0, sizeof(*v));
    for (size_t i = 0; i < src.n; i++) {
        mp_kv kv = {.key = src.v[i].key, .value = sub(a, src.v[i].value, c)};
        MP_VEC_PUSH(a, v, kv);
    }
}

static void copy_conds(mp_arena *a, mp_cond_vec *v, combo *c)
{
    mp_cond_vec src = *v;
    memset(v, 0, sizeof(*v));
    for (size_t i = 0; i < src.n; i++) {
        mp_cond k = src.v[i];
        k.arg = sub(a, k.arg, c);
        k.equals = sub(a, k.equals, c);
        MP_VEC_PUSH(a, v, k);
    }
}

static mp_module *instantiate(mp_pipeline *p, combo *c)
{
    mp_arena *a = p->arena;
    const mp_module_decl *d = c->d;
    mp_module *m = mp__arena_alloc(a, sizeof(*m));
    *m = d->proto;
    m->decl = (mp_module_decl *)d;
    memset(&m->matrix, 0, sizeof(m->matrix));
    memset(&m->deps, 0, sizeof(m->deps));
    memset(&m->afters, 0, sizeof(m->afters));
    memset(&m->dependents, 0, sizeof(m->dependents));
    m->index = 0;

    if (d->matrix_axes.n) {
        mp_strbuf sb = MP_STRBUF_INIT;
        mp__strbuf_adds(&sb, d->proto.base);
        mp__strbuf_addch(&sb, '[');
        for (size_t i = 0; i < d->matrix_axes.n; i++) {
            mp_kv kv = {.key = d->matrix_axes.v[i].key,
                        .value = d->matrix_values.v[i].v[c->pick[i]]};
            MP_VEC_PUSH(a, &m->matrix, kv);
            mp__strbuf_addf(&sb, "%s%s=%s", i ? "," : "", kv.key.s, kv.value.s);
        }
        mp__strbuf_addch(&sb, ']');
        m->name = mp__arena_strndup(a, sb.buf, sb.len);
        mp__strbuf_release(&sb);
    }

    m->run = sub(a, m->run, c);
    copy_strs(a, &m->argv, c);
    copy_strs(a, &m->depends_on, c);
    copy_strs(a, &m->after, c);
    copy_kvs(a, &m->env, c);
    m->working_dir = sub(a, m->working_dir, c);
    mp_produce_vec prods = m->produces;
    memset(&m->produces, 0, sizeof(m->produces));
    for (size_t i = 0; i < prods.n; i++) {
        mp_produce pr = prods.v[i];
        copy_strs(a, &pr.paths, c);
        MP_VEC_PUSH(a, &m->produces, pr);
    }
    mp_consume_vec cons = m->consumes;
    memset(&m->consumes, 0, sizeof(m->consumes));
    for (size_t i = 0; i < cons.n; i++) {
        mp_consume co = cons.v[i];
        co.from = sub(a, co.from, c);
        co.path = sub(a, co.path, c);
        co.producer = -1;
        MP_VEC_PUSH(a, &m->consumes, co);
    }
    copy_kvs(a, &m->requires, c);
    copy_conds(a, &m->skip_if, c);
    copy_conds(a, &m->run_if, c);
    copy_strs(a, &m->tags, c);
    copy_strs(a, &m->not_in_parallel, c);
    copy_strs(a, &m->secrets, c);
    return m;
}

static int cmp_module(const void *x, const void *y)
{
    const mp_module *a = *(const mp_module *const *)x, *b = *(const mp_module *const *)y;
    return strcmp(a->name, b->name);
}

static void report_duplicate(mp_pipeline *p, const mp_module *first, const mp_module *dup)
{
    if (first->pos.line && strcmp(first->pos.file, dup->pos.file) == 0)
        mp__problem(p, dup->pos, "duplicate module \"%s\" (first defined at line %u)", dup->name,
                    first->pos.line);
    else
        mp__problem(p, dup->pos, "duplicate module \"%s\" (first defined at %s:%u:%u)", dup->name,
                    first->pos.file, first->pos.line, first->pos.col);
}

size_t mp__matrix_expand(mp_pipeline *p)
{
    size_t before = p->diags.list.n + p->diags.dropped;
    mp_arena *a = p->arena;
    MP_VEC(mp_module *) all = {0};
    MP_VEC(mp_instance_list *) lists = {0};

    for (size_t di = 0; di < p->decls.n; di++) {
        mp_module_decl *d = p->decls.v[di];
        d->pipeline = p;
        d->proto.decl = d;
        mp_instance_list *l = mp__arena_alloc(a, sizeof(*l));
        MP_VEC_PUSH(a, &lists, l);
        size_t combos = check_matrix(p, d);
        check_keys(p, d);
        size_t naxes = d->matrix_axes.n;
        size_t *pick = mp__arena_alloc(a, (naxes ? naxes : 1) * sizeof(*pick));
        combo c = {.d = d, .pick = pick};
        for (size_t k = 0; k < combos; k++) {
            /* Mixed radix, last axis fastest: declaration order. */
            size_t rest = k;
            for (size_t i = naxes; i-- > 0;) {
                size_t nv = d->matrix_values.v[i].n;
                pick[i] = rest % nv;
                rest /= nv;
            }
            MP_VEC_PUSH(a, &all, instantiate(p, &c));
        }
    }

    if (all.n > 1) qsort(all.v, all.n, sizeof(*all.v), cmp_module);
    for (size_t i = 0; i < all.n; i++) {
        mp_module *m = all.v[i];
        if (p->modules.n && strcmp(p->modules.v[p->modules.n - 1]->name, m->name) == 0) {
            report_duplicate(p, p->modules.v[p->modules.n - 1], m);
            continue;
        }
        m->index = p->modules.n;
        MP_VEC_PUSH(a, &p->modules, m);
        mp__strmap_put(&p->module_by_name, m->name, m);
    }
    for (size_t di = 0; di < p->decls.n; di++)
        mp__strmap_put(&p->instances_by_base, p->decls.v[di]->proto.base, lists.v[di]);
    for (size_t i = 0; i < p->modules.n; i++) {
        mp_module *m = p->modules.v[i];
        mp_instance_list *l = mp__strmap_get(&p->instances_by_base, m->base);
        if (l) MP_VEC_PUSH(a, &l->idx, i);
    }
    return p->diags.list.n + p->diags.dropped - before;
}
