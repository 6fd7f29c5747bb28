/*
 * load_module.c -- the `modules` mapping of a pipeline file: one
 * mp_module_decl per entry, every module key of DESIGN §2 into its proto.
 *
 * Each module key has a handler in `module_keys`; the table is also the
 * list of candidates for "did you mean". A YAML module may omit `run`
 * (validation reports a module with no body). When a module of the same
 * name was added in code with a function body and the YAML one has no
 * `run`, the YAML settings go into that declaration: scalars replace what
 * code set, lists are appended to, the function stays.
 */
#include "config/load.h"

#include <string.h>

typedef void (*key_fn)(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                       const char *ctx);

static void key_run(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                    const char *ctx)
{
    mp_module *m = &d->proto;
    mp_pstr s;
    m->run_written = true; /* a bad value is reported here, not as "no run" */
    if (v->type == MP_YT_STRING || v->type == MP_YT_INT || v->type == MP_YT_NUMBER) {
        if (!mp__load_nonempty(l, k, v, ctx, &s)) return;
        m->run_kind = MP_RUN_SHELL;
        m->run = s;
        return;
    }
    if (v->type != MP_YT_LIST) {
        mp__load_wrong_type(l, k, v, mp__load_what(l, k, ctx),
                            "a command string or a list of strings");
        return;
    }
    if (v->n == 0) {
        mp__load_problem(l, mp__load_pos(l, v), "%s must not be empty", mp__load_what(l, k, ctx));
        return;
    }
    mp_pstr_vec argv = {0};
    size_t bad = 0;
    for (size_t i = 0; i < v->n; i++) {
        const mp_ynode *it = v->items[i];
        if (it->type == MP_YT_STRING || it->type == MP_YT_INT || it->type == MP_YT_NUMBER) {
            MP_VEC_PUSH(l->a, &argv, mp__load_keep(l, it));
            continue;
        }
        bad++;
        mp__load_wrong_type(l, it, it,
                            mp__arena_printf(l->tmp, "an item of %s", mp__load_what(l, k, ctx)),
                            "a string");
    }
    if (bad) return;
    if (!*argv.v[0].s) {
        mp__load_problem(l, argv.v[0].pos, "the program name in %s must not be empty",
                         mp__load_what(l, k, ctx));
        return;
    }
    m->run_kind = MP_RUN_ARGV;
    m->argv = argv;
}

static void key_depends_on(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                           const char *ctx)
{
    mp__load_str_list(l, k, v, ctx, "a list of module names", "a module name",
                      &d->proto.depends_on);
}

static void key_after(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                      const char *ctx)
{
    mp__load_str_list(l, k, v, ctx, "a list of module names", "a module name", &d->proto.after);
}

static void key_env(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                    const char *ctx)
{
    mp__load_env(l, k, v, ctx, &d->proto.env);
}

static void key_working_dir(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                            const char *ctx)
{
    mp__load_nonempty(l, k, v, ctx, &d->proto.working_dir);
}

static void key_timeout(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                        const char *ctx)
{
    if (mp__load_duration(l, k, v, ctx, true, &d->proto.timeout_ms))
        d->proto.timeout_pos = mp__load_pos(l, v);
}

static void key_retries(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                        const char *ctx)
{
    static const char *const keys[] = {"count", "delay"};
    mp_module *m = &d->proto;
    if (v->type == MP_YT_INT || v->type == MP_YT_NUMBER) {
        mp__load_int(l, k, v, ctx, 0, &m->retries);
        return;
    }
    if (v->type != MP_YT_MAP) {
        mp__load_wrong_type(l, k, v, mp__load_what(l, k, ctx),
                            "a whole number >= 0 or a mapping with \"count\" and \"delay\"");
        return;
    }
    const char *rctx = mp__arena_printf(l->tmp, "retries of %s", ctx);
    bool has_count = false;
    for (size_t i = 0; i < v->n; i++) {
        const mp_ynode *rk = v->pairs[i].key, *rv = v->pairs[i].value;
        if (strcmp(rk->str, "count") == 0) {
            has_count = true;
            mp__load_int(l, rk, rv, rctx, 0, &m->retries);
        } else if (strcmp(rk->str, "delay") == 0) {
            mp__load_duration(l, rk, rv, rctx, true, &m->retry_delay_ms);
        } else {
            mp__load_unknown_key(l, rk, rctx, keys, 2, sizeof(keys[0]));
        }
    }
    if (!has_count) mp__load_problem(l, mp__load_pos(l, v), "missing \"count\" in %s", rctx);
}

static void key_produces(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                         const char *ctx)
{
    mp__load_produces(l, &d->proto, k, v, ctx);
}

static void key_consumes(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                         const char *ctx)
{
    mp__load_consumes(l, &d->proto, k, v, ctx);
}

static void key_matrix(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                       const char *ctx)
{
    mp__load_matrix(l, d, k, v, ctx);
}

static void key_requires(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                         const char *ctx)
{
    if (!mp__load_is_map(l, k, v, ctx, "a mapping of capabilities to values")) return;
    const char *where = mp__load_what(l, k, ctx);
    for (size_t i = 0; i < v->n; i++) {
        const mp_ynode *rk = v->pairs[i].key, *rv = v->pairs[i].value;
        if (!*rk->str) {
            mp__load_problem(l, mp__load_pos(l, rk), "empty capability name in %s", where);
            continue;
        }
        mp_kv kv = {.key = mp__load_keep(l, rk)};
        const char *what =
            mp__arena_printf(l->tmp, "\"%s\" in %s", mp__load_quote(l, rk->str), where);
        if (mp__load_text(l, rk, rv, what, &kv.value)) MP_VEC_PUSH(l->a, &d->proto.requires, kv);
    }
}

static void key_skip_if(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                        const char *ctx)
{
    mp__load_conditions(l, k, v, ctx, &d->proto.skip_if);
}

static void key_run_if(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                       const char *ctx)
{
    mp__load_conditions(l, k, v, ctx, &d->proto.run_if);
}

static void key_ignore_failure(mp_loader *l, mp_module_decl *d, const mp_ynode *k,
                               const mp_ynode *v, const char *ctx)
{
    mp__load_bool(l, k, v, ctx, &d->proto.ignore_failure);
}

static void key_always_run(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                           const char *ctx)
{
    mp__load_bool(l, k, v, ctx, &d->proto.always_run);
}

static void key_pin_to_master(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                              const char *ctx)
{
    mp__load_bool(l, k, v, ctx, &d->proto.pin_to_master);
}

static void key_category(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                         const char *ctx)
{
    mp__load_nonempty(l, k, v, ctx, &d->proto.category);
}

static void key_tags(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                     const char *ctx)
{
    mp__load_str_list(l, k, v, ctx, "a list of tags", "a string", &d->proto.tags);
}

static void key_priority(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                         const char *ctx)
{
    static const char *const names[] = {"low", "normal", "high", "critical", NULL};
    static const mp_priority values[] = {MP_PRIORITY_LOW, MP_PRIORITY_NORMAL, MP_PRIORITY_HIGH,
                                         MP_PRIORITY_CRITICAL};
    int c = mp__load_choice(l, k, v, ctx, names, "low, normal, high or critical");
    if (c >= 0) d->proto.priority = values[c];
}

static void key_not_in_parallel(mp_loader *l, mp_module_decl *d, const mp_ynode *k,
                                const mp_ynode *v, const char *ctx)
{
    if (v->type == MP_YT_BOOL) {
        mp__load_bool(l, k, v, ctx, &d->proto.exclusive);
        return;
    }
    mp__load_str_list(l, k, v, ctx, "true, false or a list of keys", "a string",
                      &d->proto.not_in_parallel);
}

static void key_concurrency_group(mp_loader *l, mp_module_decl *d, const mp_ynode *k,
                                  const mp_ynode *v, const char *ctx)
{
    mp__load_nonempty(l, k, v, ctx, &d->proto.concurrency_group);
}

static void key_secrets(mp_loader *l, mp_module_decl *d, const mp_ynode *k, const mp_ynode *v,
                        const char *ctx)
{
    mp__load_secrets(l, k, v, ctx, &d->proto.secrets);
}

static const struct module_key {
    const char *name;
    key_fn fn;
} module_keys[] = {
    {"run", key_run},
    {"depends_on", key_depends_on},
    {"after", key_after},
    {"env", key_env},
    {"working_dir", key_working_dir},
    {"timeout", key_timeout},
    {"retries", key_retries},
    {"produces", key_produces},
    {"consumes", key_consumes},
    {"matrix", key_matrix},
    {"requires", key_requires},
    {"skip_if", key_skip_if},
    {"run_if", key_run_if},
    {"ignore_failure", key_ignore_failure},
    {"always_run", key_always_run},
    {"pin_to_master", key_pin_to_master},
    {"category", key_category},
    {"tags", key_tags},
    {"priority", key_priority},
    {"not_in_parallel", key_not_in_parallel},
    {"concurrency_group", key_concurrency_group},
    {"secrets", key_secrets},
};
#define NKEYS (sizeof(module_keys) / sizeof(module_keys[0]))

static void load_module(mp_loader *l, mp_module_decl *d, const mp_ynode *val)
{
    const char *ctx = mp__arena_printf(l->tmp, "module \"%s\"", d->proto.base);
    if (val->type == MP_YT_NULL) return;
    if (val->type != MP_YT_MAP) {
        mp__load_problem(l, mp__load_pos(l, val), "%s must be a mapping, not %s", ctx,
                         mp__ytype_name(val->type));
        d->proto.run_written = true; /* reported: no "has no run" on top */
        return;
    }
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        size_t j = 0;
        while (j < NKEYS && strcmp(module_keys[j].name, k->str) != 0)
            j++;
        if (j < NKEYS)
            module_keys[j].fn(l, d, k, v, ctx);
        else
            mp__load_unknown_key(l, k, ctx, &module_keys[0].name, NKEYS, sizeof(module_keys[0]));
    }
}

/* The declaration a YAML module `name` goes into, or NULL (problem
 * recorded) when the name is taken. */
static mp_module_decl *decl_for(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    mp_pipeline *p = l->p;
    const char *name = key->str;
    mp_pos pos = mp__load_pos(l, key);
    mp_module_decl *old = mp__strmap_get(&p->decl_by_name, name);
    if (!old) {
        mp_module_decl *d = mp__decl_add(p, name, pos);
        d->pipeline = p;
        return d;
    }
    bool has_run = mp__ynode_get(val, "run") != NULL;
    if (old->from_api && old->proto.run_kind == MP_RUN_FUNCTION && !has_run) {
        old->proto.pos = pos;
        return old;
    }
    if (old->from_api && old->proto.run_kind == MP_RUN_FUNCTION)
        mp__load_problem(l, pos,
                         "module \"%s\" has a function body in code and cannot also have a "
                         "\"run\" in the file",
                         name);
    else if (old->from_api || !old->proto.pos.file)
        mp__load_problem(l, pos, "duplicate module \"%s\" (first defined in code)", name);
    else if (strcmp(old->proto.pos.file, l->file) == 0)
        mp__load_problem(l, pos, "duplicate module \"%s\" (first defined at line %u)", name,
                         old->proto.pos.line);
    else
        mp__load_problem(l, pos, "duplicate module \"%s\" (first defined at %s:%u)", name,
                         mp__load_quote(l, old->proto.pos.file), old->proto.pos.line);
    return NULL;
}

void mp__load_modules(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (!mp__load_is_map(l, key, val, NULL, "a mapping of module names to modules")) return;
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        if (!mp__name_valid(k->str)) {
            mp__load_problem(l, mp__load_pos(l, k),
                             "invalid module name \"%s\": use letters, digits, \"_\", \".\" and "
                             "\"-\"",
                             mp__load_quote(l, k->str));
            continue;
        }
        mp_module_decl *d = decl_for(l, k, v);
        if (d) load_module(l, d, v);
    }
}
