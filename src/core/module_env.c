/*
 * module_env.c -- a module's environment, working directory and resolved
 * strings (see module_env.h).
 *
 * The environment is assembled as a list of "K=V" strings plus a map from
 * name to position, so an override replaces in place and the order stays
 * that of first appearance: O(total variables). The base (made once per
 * run) holds the run-wide list, its name map and the positions of the six
 * MODPIPE_* variables; a module's list starts as a copy of the base's
 * pointers, and a name that is not in the base's map is looked for among
 * the module's own additions (linearly while they are few, then through a
 * map of its own).
 */
#include "core/module_env.h"
#include "core/error.h"
#include "core/expr.h"
#include "core/strmap.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ expressions */

static const mp_module *find_module(const mp_pipeline *p, const char *name, size_t len)
{
    const mp_module *t = mp__strmap_getn(&p->module_by_name, name, len);
    if (t) return t;
    const mp_instance_list *l = mp__strmap_getn(&p->instances_by_base, name, len);
    if (l && l->idx.n == 1) return p->modules.v[l->idx.v[0]];
    return NULL;
}

static int resolve(const mp_expr *x, mp_strbuf *sb, void *data)
{
    const mp_module_env *e = data;
    switch (x->kind) {
    case MP_EXPR_MATRIX:
        for (size_t i = 0; i < e->m->matrix.n; i++) {
            const char *k = e->m->matrix.v[i].key.s;
            if (strlen(k) == x->key_len && memcmp(k, x->key, x->key_len) == 0) {
                mp__strbuf_adds(sb, e->m->matrix.v[i].value.s);
                return 0;
            }
        }
        return -1;
    case MP_EXPR_OUTPUT:
    case MP_EXPR_STATUS: {
        const mp_module *t = find_module(e->p, x->module, x->module_len);
        if (!t) return -1;
        const mp_result *r = &e->results[t->index];
        if (x->kind == MP_EXPR_STATUS) {
            mp__strbuf_adds(sb, mp__status_name(r->status));
            return 0;
        }
        for (size_t i = 0; i < r->outputs.n; i++) {
            const char *k = r->outputs.v[i].key.s;
            if (strlen(k) == x->key_len && memcmp(k, x->key, x->key_len) == 0) {
                mp__strbuf_adds(sb, r->outputs.v[i].value.s);
                break;
            }
        }
        return 0;
    }
    case MP_EXPR_INSTANCE_INDEX:
        mp__strbuf_addf(sb, "%d", e->instance_index);
        return 0;
    case MP_EXPR_RUN_ID:
        mp__strbuf_adds(sb, e->run_id ? e->run_id : "");
        return 0;
    }
    return -1;
}

char *mp__module_subst(mp_arena *a, const mp_module_env *e, const char *s)
{
    if (!s) return NULL;
    return mp__expr_substitute(a, s, resolve, (void *)e, 1);
}

/* ------------------------------------------------------------ environment */

/* The MODPIPE_* variables every module gets, in the order they are set. */
enum { MPV_MODULE, MPV_OUTPUT, MPV_RUN_ID, MPV_INSTANCE_INDEX, MPV_ATTEMPT, MPV_WORKSPACE, MPV_N };
static const char *const mpv_names[MPV_N] = {
    "MODPIPE_MODULE",         "MODPIPE_OUTPUT",  "MODPIPE_RUN_ID",
    "MODPIPE_INSTANCE_INDEX", "MODPIPE_ATTEMPT", "MODPIPE_WORKSPACE",
};

struct mp_env_base {
    const char **v; /* "K=V", n of them */
    size_t n;
    mp_strmap idx;                /* name -> position + 1 */
    size_t mpv_pos[MPV_N];        /* where each MODPIPE_* variable goes */
    const char *mpv_fixed[MPV_N]; /* run-wide ones formatted ("K=V"), else NULL */
    const size_t *env_expr;       /* pipeline env entries with expressions, */
    size_t nenv_expr;             /* by index into p->env */
};

/* A list being built: a base's, or a module's on top of one. */
typedef struct envlist {
    mp_arena *a;
    const char **v;
    size_t n, cap;
    const mp_strmap *base_idx; /* NULL while building the base itself */
    size_t own_from;           /* entries from here on are not the base's */
    mp_strmap idx;             /* name -> position + 1 of own entries, once many */
    int idx_on;
} envlist;

#define OWN_LINEAR_MAX 16

static const char *entry_name_end(const char *entry)
{
    return strchr(entry, '=');
}

/* Position + 1 of name among the own entries, 0 when absent. */
static size_t own_find(envlist *l, const char *name, size_t nlen)
{
    if (l->idx_on) return (size_t)(uintptr_t)mp__strmap_getn(&l->idx, name, nlen);
    for (size_t k = l->own_from; k < l->n; k++) {
        const char *eq = entry_name_end(l->v[k]);
        if ((size_t)(eq - l->v[k]) == nlen && memcmp(l->v[k], name, nlen) == 0) return k + 1;
    }
    return 0;
}

static void own_index(envlist *l, size_t pos)
{
    const char *e = l->v[pos];
    size_t nlen = (size_t)(entry_name_end(e) - e);
    mp__strmap_put(&l->idx, mp__arena_strndup(l->a, e, nlen), (void *)(uintptr_t)(pos + 1));
}

static void push(envlist *l, const char *entry)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        const char **v = mp__arena_alloc(l->a, cap * sizeof(*v));
        if (l->n) memcpy(v, l->v, l->n * sizeof(*v));
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = entry;
}

/* Set the "K=V" entry whose name is entry[0, nlen). */
static void env_put(envlist *l, const char *entry, size_t nlen)
{
    uintptr_t at = l->base_idx ? (uintptr_t)mp__strmap_getn(l->base_idx, entry, nlen) : 0;
    if (!at) at = own_find(l, entry, nlen);
    if (at) {
        l->v[at - 1] = entry;
        return;
    }
    push(l, entry);
    if (l->idx_on) {
        own_index(l, l->n - 1);
    } else if (l->n - l->own_from > OWN_LINEAR_MAX) {
        for (size_t k = l->own_from; k < l->n; k++)
            own_index(l, k);
        l->idx_on = 1;
    }
}

static void env_set(envlist *l, const char *name, size_t nlen, const char *value)
{
    env_put(l, mp__arena_printf(l->a, "%.*s=%s", (int)nlen, name, value), nlen);
}

static void env_sets(envlist *l, const char *name, const char *value)
{
    env_set(l, name, strlen(name), value);
}

const char *mp__environ_get(char *const *environ, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static int declares(const mp_pstr_vec *v, const char *name, size_t len)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->v[i].s) == len && memcmp(v->v[i].s, name, len) == 0) return 1;
    return 0;
}

char *mp__env_name_part(mp_arena *a, const char *s)
{
    char *r = mp__arena_strdup(a, s);
    for (char *c = r; *c; c++) {
        unsigned char u = (unsigned char)*c;
        *c = isalnum(u) && u < 0x80 ? (char)toupper(u) : '_';
    }
    return r;
}

mp_env_base *mp__env_base_new(mp_arena *a, const mp_module_env *e)
{
    const mp_pipeline *p = e->p;
    mp_env_base *b = mp__arena_alloc(a, sizeof(*b));
    envlist l = {.a = a, .idx = MP_STRMAP_INIT};
    l.idx_on = 1; /* the base is indexed from the first entry */

    for (char *const *v = e->environ; v && *v; v++) {
        const char *eq = strchr(*v, '=');
        if (!eq || eq == *v) continue;
        size_t nlen = (size_t)(eq - *v);
        if (nlen > 12 && memcmp(*v, "MODPIPE_DEP_", 12) == 0) continue;
        /* Secrets reach only the modules that declare them (step 5). */
        if (declares(&p->secrets, *v, nlen)) continue;
        env_put(&l, *v, nlen);
    }
    size_t *expr = mp__arena_alloc(a, (p->env.n ? p->env.n : 1) * sizeof(*expr));
    for (size_t i = 0; i < p->env.n; i++) {
        const char *val = p->env.v[i].value.s ? p->env.v[i].value.s : "";
        if (strstr(val, "${{"))
            expr[b->nenv_expr++] = i;
        else
            env_sets(&l, p->env.v[i].key.s, val);
    }
    b->env_expr = expr;
    char num[32];
    snprintf(num, sizeof(num), "%d", e->instance_index);
    const char *fixed[MPV_N] = {[MPV_RUN_ID] = e->run_id ? e->run_id : "",
                                [MPV_INSTANCE_INDEX] = num,
                                [MPV_WORKSPACE] = e->workspace ? e->workspace : ""};
    for (int k = 0; k < MPV_N; k++) {
        size_t nlen = strlen(mpv_names[k]);
        const char *entry = mp__arena_printf(a, "%s=%s", mpv_names[k], fixed[k] ? fixed[k] : "");
        env_put(&l, entry, nlen);
        b->mpv_pos[k] = (size_t)(uintptr_t)mp__strmap_getn(&l.idx, mpv_names[k], nlen) - 1;
        b->mpv_fixed[k] = fixed[k] ? entry : NULL;
    }
    b->v = l.v;
    b->n = l.n;
    b->idx = l.idx;
    return b;
}

void mp__env_base_release(mp_env_base *b)
{
    if (b) mp__strmap_release(&b->idx);
}

int mp__module_env_build(mp_arena *a, const mp_module_env *e, const char ***envp, mp_error *err)
{
    const mp_pipeline *p = e->p;
    const mp_module *m = e->m;
    mp_env_base *tmp = e->base ? NULL : mp__env_base_new(a, e);
    const mp_env_base *b = e->base ? e->base : tmp;
    size_t extra = m->env.n + b->nenv_expr + m->secrets.n + 16;
    envlist l = {.a = a, .n = b->n, .cap = b->n + extra, .base_idx = &b->idx, .own_from = b->n};
    l.v = mp__arena_alloc(a, l.cap * sizeof(*l.v));
    memcpy(l.v, b->v, b->n * sizeof(*l.v));

    for (size_t k = 0; k < b->nenv_expr; k++) {
        const mp_kv *kv = &p->env.v[b->env_expr[k]];
        env_sets(&l, kv->key.s, mp__module_subst(a, e, kv->value.s));
    }
    for (size_t i = 0; i < m->env.n; i++)
        env_sets(&l, m->env.v[i].key.s, mp__module_subst(a, e, m->env.v[i].value.s));

    /* The MODPIPE_* variables have their places in the base: whatever the
     * env entries put there is replaced, as when they were set after. */
    const char *own[MPV_N] = {
        [MPV_MODULE] = m->name, [MPV_OUTPUT] = e->output_path ? e->output_path : ""};
    char num[32];
    snprintf(num, sizeof(num), "%d", e->attempt);
    own[MPV_ATTEMPT] = num;
    for (int k = 0; k < MPV_N; k++)
        l.v[b->mpv_pos[k]] =
            b->mpv_fixed[k] ? b->mpv_fixed[k]
                            : mp__arena_printf(a, "%s=%s", mpv_names[k], own[k] ? own[k] : "");

    for (size_t d = 0; d < m->deps.n; d++) {
        size_t di = m->deps.v[d];
        const mp_result *r = &e->results[di];
        if (!r->outputs.n) continue;
        const char *dn = mp__env_name_part(a, p->modules.v[di]->name);
        for (size_t k = 0; k < r->outputs.n; k++) {
            const char *kn = mp__env_name_part(a, r->outputs.v[k].key.s);
            env_sets(&l, mp__arena_printf(a, "MODPIPE_DEP_%s_%s", dn, kn), r->outputs.v[k].value.s);
        }
    }

    int rc = 0;
    for (size_t i = 0; i < m->secrets.n; i++) {
        const char *name = m->secrets.v[i].s;
        const char *val = mp__environ_get(e->environ, name);
        if (!val || !*val) {
            rc = mp__error(err, MP_ENOENT, name,
                           "secret \"%s\" of module \"%s\" is not set in the environment", name,
                           m->name);
            break;
        }
        env_sets(&l, name, val);
    }
    mp__strmap_release(&l.idx);
    mp__env_base_release(tmp);
    if (rc < 0) return rc;
    push(&l, NULL);
    *envp = l.v;
    return 0;
}

const char *mp__module_workdir(mp_arena *a, const mp_module_env *e)
{
    const char *wd = mp__module_subst(a, e, e->m->working_dir.s);
    if (!wd || !*wd) return e->workspace;
    if (wd[0] == '/') return wd;
    return mp__arena_printf(a, "%s/%s", e->workspace, wd);
}
