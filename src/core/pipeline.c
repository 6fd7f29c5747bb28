/*
 * pipeline.c -- the pipeline and module functions of modpipe.h.
 *
 * A pipeline is an arena plus the model of model.h. Modules added in code
 * become declarations (from_api) exactly like YAML modules; every mp_module
 * handle given out, whether a declaration (before validation) or an
 * expanded module (after), writes through to its declaration, and any
 * change makes the pipeline unvalidated again (hash NULL) until
 * mp_pipeline_validate() runs. Strings passed in are copied into the arena.
 *
 * mp_pipeline_find() by the plain name of a matrix module with several
 * instances gives its declaration (whose setters act on every instance);
 * by a full name, the expanded module; before validation, declarations.
 */
#include "core/error.h"
#include "core/model.h"
#include "core/validate.h"

#include <string.h>

#ifndef MODPIPE_VERSION
#define MODPIPE_VERSION "0.1.0"
#endif

const char *mp_version(void)
{
    return MODPIPE_VERSION;
}

mp_pipeline *mp_pipeline_new(const char *name)
{
    mp_arena *a = mp__arena_new();
    mp_pipeline *p = mp__arena_alloc(a, sizeof(*p));
    p->arena = a;
    p->diags.arena = a;
    p->version = 1;
    p->name = mp__arena_strdup(a, name);
    mp__options_init(&p->options);
    return p;
}

void mp_pipeline_free(mp_pipeline *p)
{
    if (!p) return;
    mp__strmap_release(&p->decl_by_name);
    mp__strmap_release(&p->module_by_name);
    mp__strmap_release(&p->instances_by_base);
    mp__strmap_release(&p->problem_seen);
    mp__arena_free(p->arena);
}

size_t mp_pipeline_problem_count(const mp_pipeline *p)
{
    return p ? p->diags.list.n : 0;
}

const mp_problem *mp_pipeline_problem(const mp_pipeline *p, size_t i)
{
    if (!p || i >= p->diags.list.n) return NULL;
    return &p->diags.list.v[i];
}

const char *mp_pipeline_hash(const mp_pipeline *p)
{
    return p && p->validated ? p->hash : NULL;
}

size_t mp_pipeline_module_count(const mp_pipeline *p)
{
    return p ? p->modules.n : 0;
}

mp_module *mp_pipeline_module_at(mp_pipeline *p, size_t i)
{
    if (!p || i >= p->modules.n) return NULL;
    mp_module *m = p->modules.v[i];
    if (m->decl->pipeline != p) /* validation set it: no write when read-only */
        m->decl->pipeline = p;
    return m;
}

mp_module *mp_pipeline_find(mp_pipeline *p, const char *name)
{
    if (!p || !name) return NULL;
    mp_module *m = NULL;
    if (p->modules.n) {
        m = mp__strmap_get(&p->module_by_name, name);
        if (!m) {
            mp_instance_list *l = mp__strmap_get(&p->instances_by_base, name);
            if (l && l->idx.n == 1) m = p->modules.v[l->idx.v[0]];
        }
    }
    if (!m) {
        /* Not validated yet (or added since): the declaration itself. */
        mp_module_decl *d = mp__strmap_get(&p->decl_by_name, name);
        if (d) m = &d->proto;
    }
    if (m && m->decl->pipeline != p) m->decl->pipeline = p;
    return m;
}

mp_module *mp_pipeline_add_module(mp_pipeline *p, const char *name, const char *run, mp_error *err)
{
    if (!p) {
        mp__error(err, MP_EINVAL, "", "no pipeline");
        return NULL;
    }
    if (!mp__name_valid(name)) {
        mp__error(err, MP_EINVAL, "<api>",
                  "invalid module name \"%s\": use letters, digits, \"_\", \".\" and \"-\"",
                  name ? name : "");
        return NULL;
    }
    mp_module_decl *d = mp__decl_add(p, name, mp__pos_api());
    if (!d) {
        mp__error(err, MP_EEXIST, "<api>", "duplicate module \"%s\"", name);
        return NULL;
    }
    d->from_api = true;
    d->pipeline = p;
    if (run) {
        d->proto.run_kind = MP_RUN_SHELL;
        d->proto.run.s = mp__arena_strdup(p->arena, run);
        d->proto.run.pos = mp__pos_api();
    }
    p->validated = false;
    p->hash = NULL;
    return &d->proto;
}

/* The declaration behind m and its pipeline, marked changed; NULL when m
 * did not come from a pipeline. */
static mp_module *proto_of(mp_module *m, mp_pipeline **pp)
{
    if (!m || !m->decl || !m->decl->pipeline) return NULL;
    *pp = m->decl->pipeline;
    (*pp)->validated = false;
    (*pp)->hash = NULL;
    return &m->decl->proto;
}

static mp_pstr api_str(mp_pipeline *p, const char *s)
{
    return (mp_pstr){.s = mp__arena_strdup(p->arena, s), .pos = mp__pos_api()};
}

void mp_module_set_function(mp_module *m, mp_module_fn fn, void *data)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (!d) return;
    d->run_kind = fn ? MP_RUN_FUNCTION : MP_RUN_NONE;
    d->fn = fn;
    d->fn_data = data;
    d->run = (mp_pstr){.s = NULL, .pos = mp__pos_api()};
    d->argv.n = 0;
}

void mp_module_depends_on(mp_module *m, const char *name)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (d && name) MP_VEC_PUSH(p->arena, &d->depends_on, api_str(p, name));
}

void mp_module_after(mp_module *m, const char *name)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (d && name) MP_VEC_PUSH(p->arena, &d->after, api_str(p, name));
}

void mp_module_set_category(mp_module *m, const char *category)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (d) d->category = api_str(p, category);
}

void mp_module_add_tag(mp_module *m, const char *tag)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (d && tag) MP_VEC_PUSH(p->arena, &d->tags, api_str(p, tag));
}

void mp_module_set_env(mp_module *m, const char *key, const char *value)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (!d || !key) return;
    mp_pstr v = api_str(p, value ? value : "");
    for (size_t i = 0; i < d->env.n; i++) {
        if (strcmp(d->env.v[i].key.s, key) == 0) {
            d->env.v[i].value = v;
            return;
        }
    }
    mp_kv kv = {.key = api_str(p, key), .value = v};
    MP_VEC_PUSH(p->arena, &d->env, kv);
}

void mp_module_set_timeout_ms(mp_module *m, int64_t ms)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (!d) return;
    d->timeout_ms = ms < 0 ? -1 : ms;
    d->timeout_pos = mp__pos_api();
}

void mp_module_set_retries(mp_module *m, int count, int64_t delay_ms)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (!d) return;
    d->retries = count < 0 ? -1 : count;
    d->retry_delay_ms = delay_ms < 0 ? -1 : delay_ms;
}

void mp_module_set_ignore_failure(mp_module *m, int on)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (d) d->ignore_failure = on != 0;
}

void mp_module_set_always_run(mp_module *m, int on)
{
    mp_pipeline *p;
    mp_module *d = proto_of(m, &p);
    if (d) d->always_run = on != 0;
}

const char *mp_module_name(const mp_module *m)
{
    return m ? m->name : NULL;
}
