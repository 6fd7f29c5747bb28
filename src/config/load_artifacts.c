/*
 * load_artifacts.c -- `produces` and `consumes` of a module: lists of
 * mappings naming artifacts (DESIGN §3.6). Artifact names follow the
 * module-name rule ([A-Za-z0-9_.-]+) since they become store keys; whether
 * a consumed artifact is produced upstream is checked by validation.
 */
#include "config/load.h"

#include <string.h>

static const char *const produce_keys[] = {"name", "path"};
static const char *const consume_keys[] = {"name", "from", "path"};

/* Check the list shape; returns false when there is nothing to load. */
static bool entries_ok(mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                       const char *expected)
{
    if (val->type == MP_YT_NULL) return false;
    if (val->type != MP_YT_LIST) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), expected);
        return false;
    }
    return true;
}

static bool entry_is_map(mp_loader *l, const mp_ynode *key, const mp_ynode *it, const char *ctx)
{
    if (it->type == MP_YT_MAP) return true;
    mp__load_wrong_type(l, it, it,
                        mp__arena_printf(l->tmp, "an item of %s", mp__load_what(l, key, ctx)),
                        "a mapping");
    return false;
}

static bool artifact_name(mp_loader *l, const mp_ynode *k, const mp_ynode *v, const char *ectx,
                          mp_pstr *out)
{
    mp_pstr s;
    if (!mp__load_str(l, k, v, ectx, &s)) return false;
    if (!mp__name_valid(s.s)) {
        mp__load_problem(l, s.pos,
                         "invalid artifact name \"%s\": use letters, digits, \"_\", \".\" and "
                         "\"-\"",
                         mp__load_quote(l, s.s));
        return false;
    }
    *out = s;
    return true;
}

static bool load_paths(mp_loader *l, const mp_ynode *k, const mp_ynode *v, const char *ectx,
                       mp_pstr_vec *out)
{
    mp_pstr_vec paths = {0};
    size_t before = l->p->diags.list.n + l->p->diags.dropped;
    mp__load_str_list(l, k, v, ectx, "a path pattern or a list of them", "a path pattern", &paths);
    if (l->p->diags.list.n + l->p->diags.dropped != before) return false;
    if (paths.n == 0) {
        mp__load_problem(l, mp__load_vpos(l, k, v), "%s must not be empty",
                         mp__load_what(l, k, ectx));
        return false;
    }
    for (size_t i = 0; i < paths.n; i++) {
        if (!*paths.v[i].s) {
            mp__load_problem(l, paths.v[i].pos, "a path in %s must not be empty",
                             mp__load_what(l, k, ectx));
            return false;
        }
    }
    *out = paths;
    return true;
}

void mp__load_produces(mp_loader *l, mp_module *m, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx)
{
    if (!entries_ok(l, key, val, ctx, "a list of {name, path} entries")) return;
    const char *ectx = mp__arena_printf(l->tmp, "a produces entry of %s", ctx);
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *it = val->items[i];
        if (!entry_is_map(l, key, it, ctx)) continue;
        mp_produce pr = {.pos = mp__load_pos(l, it)};
        bool ok = true, has_name = false, has_path = false;
        for (size_t j = 0; j < it->n; j++) {
            const mp_ynode *k = it->pairs[j].key, *v = it->pairs[j].value;
            if (strcmp(k->str, "name") == 0) {
                has_name = true;
                ok = artifact_name(l, k, v, ectx, &pr.name) && ok;
            } else if (strcmp(k->str, "path") == 0) {
                has_path = true;
                ok = load_paths(l, k, v, ectx, &pr.paths) && ok;
            } else {
                mp__load_unknown_key(l, k, ectx, produce_keys, 2, sizeof(produce_keys[0]));
                ok = false;
            }
        }
        if (!has_name) mp__load_problem(l, pr.pos, "missing \"name\" in %s", ectx);
        if (!has_path) mp__load_problem(l, pr.pos, "missing \"path\" in %s", ectx);
        ok = ok && has_name && has_path;
        if (ok) MP_VEC_PUSH(l->a, &m->produces, pr);
    }
}

void mp__load_consumes(mp_loader *l, mp_module *m, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx)
{
    if (!entries_ok(l, key, val, ctx, "a list of {name, from, path} entries")) return;
    const char *ectx = mp__arena_printf(l->tmp, "a consumes entry of %s", ctx);
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *it = val->items[i];
        if (!entry_is_map(l, key, it, ctx)) continue;
        mp_consume c = {.pos = mp__load_pos(l, it), .producer = -1};
        bool ok = true, has_name = false;
        for (size_t j = 0; j < it->n; j++) {
            const mp_ynode *k = it->pairs[j].key, *v = it->pairs[j].value;
            if (strcmp(k->str, "name") == 0) {
                has_name = true;
                ok = artifact_name(l, k, v, ectx, &c.name) && ok;
            } else if (strcmp(k->str, "from") == 0) {
                ok = mp__load_nonempty(l, k, v, ectx, &c.from) && ok;
            } else if (strcmp(k->str, "path") == 0) {
                ok = mp__load_nonempty(l, k, v, ectx, &c.path) && ok;
            } else {
                mp__load_unknown_key(l, k, ectx, consume_keys, 3, sizeof(consume_keys[0]));
                ok = false;
            }
        }
        if (!has_name) {
            mp__load_problem(l, c.pos, "missing \"name\" in %s", ectx);
            ok = false;
        }
        if (ok) MP_VEC_PUSH(l->a, &m->consumes, c);
    }
}
