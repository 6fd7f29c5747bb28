/*
 * module_env.c -- a module's environment, working directory and resolved
 * strings (see module_env.h).
 *
 * The environment is assembled as a list of "K=V" strings plus a map from
 * name to position, so an override replaces in place and the order stays
 * that of first appearance: O(total variables).
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

typedef struct envlist {
    mp_arena *a;
    MP_VEC(const char *) v;
    mp_strmap idx; /* name -> position + 1 */
} envlist;

static void env_set(envlist *l, const char *name, size_t nlen, const char *value)
{
    char *entry = mp__arena_printf(l->a, "%.*s=%s", (int)nlen, name, value);
    uintptr_t at = (uintptr_t)mp__strmap_getn(&l->idx, name, nlen);
    if (at) {
        l->v.v[at - 1] = entry;
        return;
    }
    MP_VEC_PUSH(l->a, &l->v, entry);
    mp__strmap_put(&l->idx, mp__arena_strndup(l->a, name, nlen), (void *)(uintptr_t)l->v.n);
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

int mp__module_env_build(mp_arena *a, const mp_module_env *e, const char ***envp, mp_error *err)
{
    const mp_pipeline *p = e->p;
    const mp_module *m = e->m;
    envlist l = {.a = a, .v = {0}, .idx = MP_STRMAP_INIT};

    for (char *const *v = e->environ; v && *v; v++) {
        const char *eq = strchr(*v, '=');
        if (!eq || eq == *v) continue;
        size_t nlen = (size_t)(eq - *v);
        if (nlen > 12 && memcmp(*v, "MODPIPE_DEP_", 12) == 0) continue;
        if (declares(&p->secrets, *v, nlen) && !declares(&m->secrets, *v, nlen)) continue;
        env_set(&l, *v, nlen, eq + 1);
    }
    for (size_t i = 0; i < p->env.n; i++)
        env_sets(&l, p->env.v[i].key.s, mp__module_subst(a, e, p->env.v[i].value.s));
    for (size_t i = 0; i < m->env.n; i++)
        env_sets(&l, m->env.v[i].key.s, mp__module_subst(a, e, m->env.v[i].value.s));

    env_sets(&l, "MODPIPE_MODULE", m->name);
    env_sets(&l, "MODPIPE_OUTPUT", e->output_path ? e->output_path : "");
    env_sets(&l, "MODPIPE_RUN_ID", e->run_id ? e->run_id : "");
    env_sets(&l, "MODPIPE_INSTANCE_INDEX", mp__arena_printf(a, "%d", e->instance_index));
    env_sets(&l, "MODPIPE_ATTEMPT", mp__arena_printf(a, "%d", e->attempt));
    env_sets(&l, "MODPIPE_WORKSPACE", e->workspace ? e->workspace : "");

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
    if (rc < 0) return rc;
    const char **out = mp__arena_alloc(a, (l.v.n + 1) * sizeof(*out));
    for (size_t i = 0; i < l.v.n; i++)
        out[i] = l.v.v[i];
    out[l.v.n] = NULL;
    *envp = out;
    return 0;
}

const char *mp__module_workdir(mp_arena *a, const mp_module_env *e)
{
    const char *wd = mp__module_subst(a, e, e->m->working_dir.s);
    if (!wd || !*wd) return e->workspace;
    if (wd[0] == '/') return wd;
    return mp__arena_printf(a, "%s/%s", e->workspace, wd);
}
