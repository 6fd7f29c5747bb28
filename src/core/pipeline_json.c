/*
 * pipeline_json.c -- the JSON form of a validated pipeline (pipeline_json.h).
 *
 * Shape (every key always present; unset values as null, [], {} or -1):
 *   {schema: "modpipe.pipeline/v1", version, name,
 *    options: {parallelism, on_failure, timeout_ms, retries,
 *              concurrency_groups: {G: limit}, distributed: {heartbeat_ms,
 *              worker_timeout_ms, registration_timeout_ms, max_attempts}},
 *    env: {}, secrets: [], requirements: [condition],
 *    modules: {"<full name>": {base, matrix: {}, run, depends_on, after,
 *              deps, afters, env, working_dir, timeout_ms, retries,
 *              retry_delay_ms, produces: [{name, paths}],
 *              consumes: [{name, from, path, producer}], requires: {},
 *              skip_if, run_if, ignore_failure, always_run, pin_to_master,
 *              category, tags, priority, not_in_parallel,
 *              concurrency_group, secrets}}}
 * run is a string (shell), a list (argv), {"function": true} or null.
 * depends_on/after are as written; deps/afters are the resolved full names
 * in name order. A condition is {env, equals} | {os} | {file} | {command}.
 * not_in_parallel is true (exclusive), a list of keys, or false.
 * Objects are built in declaration order; the hash sorts keys anyway.
 *
 * How: the shape is built once, here, as a small tree in a scratch arena
 * (pipeline_tree.h; cheap: no malloc per value), from which either a
 * jansson value is made (below) or the canonical text is written directly
 * (pipeline_canon.c). Text that is not valid UTF-8 is read as Latin-1; a
 * key that is not valid UTF-8 is left out (as jansson does).
 */
#include "core/pipeline_json.h"
#include "core/pipeline_tree.h"

#include <stdlib.h>
#include <string.h>

static mp_pnode *mk(mp_ptree *t, mp_pnode_type type)
{
    mp_pnode *n = mp__arena_alloc(t->a, sizeof(*n));
    n->type = type;
    return n;
}

int mp__utf8_valid(const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    const unsigned char *end = c + strlen(s);
    while (c < end) {
        if (end - c >= 8) { /* ASCII eight bytes at a time */
            uint64_t w;
            memcpy(&w, c, 8);
            if (!(w & 0x8080808080808080ull)) {
                c += 8;
                continue;
            }
        }
        if (*c < 0x80) {
            c++;
            continue;
        }
        int len;
        uint32_t cp;
        if (*c >= 0xc2 && *c <= 0xdf) {
            len = 2;
            cp = *c & 0x1f;
        } else if (*c >= 0xe0 && *c <= 0xef) {
            len = 3;
            cp = *c & 0x0f;
        } else if (*c >= 0xf0 && *c <= 0xf4) {
            len = 4;
            cp = *c & 0x07;
        } else {
            return 0;
        }
        for (int k = 1; k < len; k++) {
            if ((c[k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (c[k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        c += len;
    }
    return 1;
}

/* s as valid UTF-8: itself, or its bytes read as Latin-1. */
static const char *as_utf8(mp_ptree *t, const char *s)
{
    if (mp__utf8_valid(s)) return s;
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        n += *c < 0x80 ? 1 : 2;
    char *u = mp__arena_alloc(t->a, n + 1), *o = u;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x80) {
            *o++ = (char)*c;
        } else {
            *o++ = (char)(0xc0 | (*c >> 6));
            *o++ = (char)(0x80 | (*c & 0x3f));
        }
    }
    *o = '\0';
    return u;
}

static mp_pnode *str(mp_ptree *t, const char *s)
{
    if (!s) return mk(t, MP_PN_NULL);
    mp_pnode *n = mk(t, MP_PN_STR);
    n->u.s = as_utf8(t, s);
    return n;
}

static mp_pnode *integer(mp_ptree *t, int64_t i)
{
    mp_pnode *n = mk(t, MP_PN_INT);
    n->u.i = i;
    return n;
}

static mp_pnode *boolean(mp_ptree *t, int b)
{
    mp_pnode *n = mk(t, MP_PN_BOOL);
    n->u.i = b != 0;
    return n;
}

static void grow(mp_ptree *t, mp_pnode *c)
{
    if (c->n < c->cap) return;
    unsigned ncap = c->cap ? c->cap * 2 : 4;
    mp_pnode **items = mp__arena_alloc(t->a, ncap * sizeof(*items));
    if (c->n) memcpy(items, c->u.c.items, c->n * sizeof(*items));
    c->u.c.items = items;
    if (c->type == MP_PN_OBJ) {
        const char **keys = mp__arena_alloc(t->a, ncap * sizeof(*keys));
        if (c->n) memcpy(keys, c->u.c.keys, c->n * sizeof(*keys));
        c->u.c.keys = keys;
    }
    c->cap = ncap;
}

static void push(mp_ptree *t, mp_pnode *arr, mp_pnode *item)
{
    grow(t, arr);
    arr->u.c.items[arr->n++] = item;
}

/* Add key: value; key is a literal of ours (ASCII). */
static void set(mp_ptree *t, mp_pnode *obj, const char *key, mp_pnode *value)
{
    grow(t, obj);
    obj->u.c.keys[obj->n] = key;
    obj->u.c.items[obj->n++] = value;
}

/* The same with a key from the pipeline: one that is not valid UTF-8 is
 * dropped, as jansson does. */
static void set_user(mp_ptree *t, mp_pnode *obj, const char *key, mp_pnode *value)
{
    if (key && mp__utf8_valid(key)) set(t, obj, key, value);
}

/* ---- the pipeline as a tree */

static mp_pnode *pstr_list(mp_ptree *t, const mp_pstr_vec *v)
{
    mp_pnode *a = mk(t, MP_PN_ARR);
    for (size_t i = 0; i < v->n; i++)
        push(t, a, str(t, v->v[i].s));
    return a;
}

static mp_pnode *kv_object(mp_ptree *t, const mp_kv_vec *v)
{
    mp_pnode *o = mk(t, MP_PN_OBJ);
    for (size_t i = 0; i < v->n; i++)
        set_user(t, o, v->v[i].key.s, str(t, v->v[i].value.s));
    return o;
}

static mp_pnode *cond_node(mp_ptree *t, const mp_cond *c)
{
    mp_pnode *o = mk(t, MP_PN_OBJ);
    switch (c->kind) {
    case MP_COND_ENV:
        set(t, o, "env", str(t, c->arg.s));
        set(t, o, "equals", str(t, c->equals.s));
        break;
    case MP_COND_OS:
        set(t, o, "os", str(t, c->arg.s));
        break;
    case MP_COND_FILE:
        set(t, o, "file", str(t, c->arg.s));
        break;
    case MP_COND_COMMAND:
        set(t, o, "command", str(t, c->arg.s));
        break;
    }
    return o;
}

static mp_pnode *cond_list(mp_ptree *t, const mp_cond_vec *v)
{
    mp_pnode *a = mk(t, MP_PN_ARR);
    for (size_t i = 0; i < v->n; i++)
        push(t, a, cond_node(t, &v->v[i]));
    return a;
}

static const char *priority_name(mp_priority pr)
{
    switch (pr) {
    case MP_PRIORITY_LOW:
        return "low";
    case MP_PRIORITY_NORMAL:
        return "normal";
    case MP_PRIORITY_HIGH:
        return "high";
    case MP_PRIORITY_CRITICAL:
        return "critical";
    }
    return "normal";
}

static mp_pnode *run_node(mp_ptree *t, const mp_module *m)
{
    switch (m->run_kind) {
    case MP_RUN_SHELL:
        return str(t, m->run.s);
    case MP_RUN_ARGV:
        return pstr_list(t, &m->argv);
    case MP_RUN_FUNCTION: {
        mp_pnode *o = mk(t, MP_PN_OBJ);
        set(t, o, "function", boolean(t, 1));
        return o;
    }
    case MP_RUN_NONE:
        break;
    }
    return mk(t, MP_PN_NULL);
}

static mp_pnode *index_names(mp_ptree *t, const size_t *idx, size_t n)
{
    mp_pnode *a = mk(t, MP_PN_ARR);
    for (size_t i = 0; i < n; i++)
        push(t, a, str(t, t->p->modules.v[idx[i]]->name));
    return a;
}

mp_pnode *mp__ptree_module(mp_ptree *t, const mp_module *m, int with_positions)
{
    const mp_pipeline *p = t->p;
    mp_pnode *o = mk(t, MP_PN_OBJ);
    set(t, o, "base", str(t, m->base));
    set(t, o, "matrix", kv_object(t, &m->matrix));
    set(t, o, "run", run_node(t, m));
    set(t, o, "depends_on", pstr_list(t, &m->depends_on));
    set(t, o, "after", pstr_list(t, &m->after));
    set(t, o, "deps", index_names(t, m->deps.v, m->deps.n));
    set(t, o, "afters", index_names(t, m->afters.v, m->afters.n));
    set(t, o, "env", kv_object(t, &m->env));
    set(t, o, "working_dir", str(t, m->working_dir.s));
    set(t, o, "timeout_ms", integer(t, m->timeout_ms));
    set(t, o, "retries", integer(t, m->retries));
    set(t, o, "retry_delay_ms", integer(t, m->retry_delay_ms));

    mp_pnode *prods = mk(t, MP_PN_ARR);
    for (size_t i = 0; i < m->produces.n; i++) {
        const mp_produce *pr = &m->produces.v[i];
        mp_pnode *po = mk(t, MP_PN_OBJ);
        set(t, po, "name", str(t, pr->name.s));
        set(t, po, "paths", pstr_list(t, &pr->paths));
        push(t, prods, po);
    }
    set(t, o, "produces", prods);

    mp_pnode *cons = mk(t, MP_PN_ARR);
    for (size_t i = 0; i < m->consumes.n; i++) {
        const mp_consume *co = &m->consumes.v[i];
        mp_pnode *cj = mk(t, MP_PN_OBJ);
        set(t, cj, "name", str(t, co->name.s));
        set(t, cj, "from", str(t, co->from.s));
        set(t, cj, "path", str(t, co->path.s));
        set(t, cj, "producer",
            co->producer >= 0 && (size_t)co->producer < p->modules.n
                ? str(t, p->modules.v[co->producer]->name)
                : mk(t, MP_PN_NULL));
        push(t, cons, cj);
    }
    set(t, o, "consumes", cons);

    set(t, o, "requires", kv_object(t, &m->requires));
    set(t, o, "skip_if", cond_list(t, &m->skip_if));
    set(t, o, "run_if", cond_list(t, &m->run_if));
    set(t, o, "ignore_failure", boolean(t, m->ignore_failure));
    set(t, o, "always_run", boolean(t, m->always_run));
    set(t, o, "pin_to_master", boolean(t, m->pin_to_master));
    set(t, o, "category", str(t, m->category.s));
    set(t, o, "tags", pstr_list(t, &m->tags));
    set(t, o, "priority", str(t, priority_name(m->priority)));
    set(t, o, "not_in_parallel",
        m->exclusive           ? boolean(t, 1)
        : m->not_in_parallel.n ? pstr_list(t, &m->not_in_parallel)
                               : boolean(t, 0));
    set(t, o, "concurrency_group", str(t, m->concurrency_group.s));
    set(t, o, "secrets", pstr_list(t, &m->secrets));
    if (with_positions)
        set(t, o, "pos",
            str(t, mp__arena_printf(t->a, "%s:%u:%u", m->pos.file ? m->pos.file : "<api>",
                                    m->pos.line, m->pos.col)));
    return o;
}

static mp_pnode *options_node(mp_ptree *t, const mp_options *opt)
{
    mp_pnode *o = mk(t, MP_PN_OBJ);
    set(t, o, "parallelism", integer(t, opt->parallelism));
    set(t, o, "on_failure",
        str(t, opt->on_failure == MP_ON_FAILURE_CONTINUE ? "continue" : "stop"));
    set(t, o, "timeout_ms", integer(t, opt->timeout_ms));
    set(t, o, "retries", integer(t, opt->retries));
    mp_pnode *groups = mk(t, MP_PN_OBJ);
    for (size_t i = 0; i < opt->concurrency_groups.n; i++) {
        const mp_kv *kv = &opt->concurrency_groups.v[i];
        char *end = NULL;
        long long lim = kv->value.s ? strtoll(kv->value.s, &end, 10) : 0;
        int numeric = kv->value.s && end != kv->value.s && *end == '\0';
        set_user(t, groups, kv->key.s, numeric ? integer(t, lim) : str(t, kv->value.s));
    }
    set(t, o, "concurrency_groups", groups);
    mp_pnode *d = mk(t, MP_PN_OBJ);
    set(t, d, "heartbeat_ms", integer(t, opt->distributed.heartbeat_ms));
    set(t, d, "worker_timeout_ms", integer(t, opt->distributed.worker_timeout_ms));
    set(t, d, "registration_timeout_ms", integer(t, opt->distributed.registration_timeout_ms));
    set(t, d, "max_attempts", integer(t, opt->distributed.max_attempts));
    set(t, o, "distributed", d);
    return o;
}

mp_pnode *mp__ptree_pipeline(mp_ptree *t, int with_positions, int lazy_modules)
{
    const mp_pipeline *p = t->p;
    mp_pnode *root = mk(t, MP_PN_OBJ);
    set(t, root, "schema", str(t, "modpipe.pipeline/v1"));
    set(t, root, "version", integer(t, p->version));
    set(t, root, "name", str(t, p->name));
    set(t, root, "options", options_node(t, &p->options));
    set(t, root, "env", kv_object(t, &p->env));
    set(t, root, "secrets", pstr_list(t, &p->secrets));
    mp_pnode *reqs = mk(t, MP_PN_ARR);
    for (size_t i = 0; i < p->requirements.n; i++)
        push(t, reqs, cond_node(t, &p->requirements.v[i].cond));
    set(t, root, "requirements", reqs);
    mp_pnode *mods = mk(t, lazy_modules ? MP_PN_MODULES : MP_PN_OBJ);
    for (size_t i = 0; i < p->modules.n && !lazy_modules; i++)
        set_user(t, mods, p->modules.v[i]->name,
                 mp__ptree_module(t, p->modules.v[i], with_positions));
    set(t, root, "modules", mods);
    return root;
}

/* ---- tree -> jansson */

static json_t *to_jansson(const mp_pnode *n)
{
    switch (n->type) {
    case MP_PN_NULL:
        return json_null();
    case MP_PN_BOOL:
        return json_boolean(n->u.i);
    case MP_PN_INT:
        return json_integer((json_int_t)n->u.i);
    case MP_PN_STR:
        return json_string(n->u.s);
    case MP_PN_ARR: {
        json_t *a = json_array();
        for (unsigned i = 0; i < n->n; i++)
            json_array_append_new(a, to_jansson(n->u.c.items[i]));
        return a;
    }
    case MP_PN_MODULES: /* only built for the writer */
        break;
    case MP_PN_OBJ: {
        json_t *o = json_object();
        for (unsigned i = 0; i < n->n; i++)
            json_object_set_new(o, n->u.c.keys[i], to_jansson(n->u.c.items[i]));
        return o;
    }
    }
    return json_null();
}

json_t *mp__pipeline_to_json(const mp_pipeline *p, int with_positions)
{
    mp_ptree t = {.a = mp__arena_new(), .p = p};
    json_t *j = to_jansson(mp__ptree_pipeline(&t, with_positions, 0));
    mp__arena_free(t.a);
    return j;
}
