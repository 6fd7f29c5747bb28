/*
 * load_cond.c -- conditions (`skip_if`, `run_if`) and the top-level
 * `requirements`, which share one shape: a mapping with exactly one of
 * env / os / file / command (requirements: env / file / command), plus
 * `equals` next to `env` in a condition.
 */
#include "config/load.h"

#include <string.h>

/* What a context accepts. */
typedef struct cond_rules {
    const char *const *keys; /* the kinds, then "equals" if allowed */
    size_t nkeys;
    const char *one_of; /* `"env", "os", "file" or "command"` */
    bool allow_equals;
} cond_rules;

static const char *const cond_keys[] = {"env", "os", "file", "command", "equals"};
static const cond_rules condition_rules = {cond_keys, 5, "\"env\", \"os\", \"file\" or \"command\"",
                                           true};

static const char *const req_keys[] = {"env", "file", "command"};
static const cond_rules requirement_rules = {req_keys, 3, "\"env\", \"file\" or \"command\"",
                                             false};

static bool kind_of(const char *key, const cond_rules *r, mp_cond_kind *kind)
{
    static const struct {
        const char *name;
        mp_cond_kind kind;
    } kinds[] = {{"env", MP_COND_ENV},
                 {"os", MP_COND_OS},
                 {"file", MP_COND_FILE},
                 {"command", MP_COND_COMMAND}};
    for (size_t i = 0; i < r->nkeys; i++) {
        if (strcmp(r->keys[i], key) != 0) continue;
        for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
            if (strcmp(kinds[j].name, key) == 0) {
                *kind = kinds[j].kind;
                return true;
            }
        }
    }
    return false;
}

/* One condition mapping into *out; false when it is unusable. `ctx` is
 * "a condition of module \"M\"" or "a requirement". */
static bool load_cond(mp_loader *l, const mp_ynode *n, const char *ctx, const cond_rules *r,
                      mp_cond *out)
{
    static const char *const os_names[] = {"linux", "macos", "windows", NULL};
    mp_cond c = {.pos = mp__load_pos(l, n)};
    const mp_ynode *equals_key = NULL, *kind_key = NULL;
    bool ok = true;
    for (size_t i = 0; i < n->n; i++) {
        const mp_ynode *k = n->pairs[i].key, *v = n->pairs[i].value;
        mp_cond_kind kind;
        if (r->allow_equals && strcmp(k->str, "equals") == 0) {
            equals_key = k;
            if (!mp__load_text(l, k, v, mp__load_what(l, k, ctx), &c.equals)) ok = false;
            continue;
        }
        if (!kind_of(k->str, r, &kind)) {
            mp__load_unknown_key(l, k, ctx, r->keys, r->nkeys, sizeof(r->keys[0]));
            ok = false;
            continue;
        }
        if (kind_key) {
            mp__load_problem(l, mp__load_pos(l, k), "%s must have exactly one of %s", ctx,
                             r->one_of);
            ok = false;
            continue;
        }
        kind_key = k;
        c.kind = kind;
        if (kind == MP_COND_OS) {
            int os = mp__load_choice(l, k, v, ctx, os_names, "linux, macos or windows");
            if (os < 0)
                ok = false;
            else
                c.arg = (mp_pstr){.s = os_names[os], .pos = mp__load_pos(l, v)};
        } else if (!mp__load_nonempty(l, k, v, ctx, &c.arg)) {
            ok = false;
        } else if (kind == MP_COND_ENV && !mp__load_var_name_valid(c.arg.s)) {
            mp__load_problem(l, c.arg.pos,
                             "invalid variable name \"%s\" in %s: use letters, digits and "
                             "\"_\", not starting with a digit",
                             mp__load_quote(l, c.arg.s), ctx);
            ok = false;
        }
    }
    if (!kind_key) {
        if (!ok) return false; /* an unknown or bad key was reported already */
        mp__load_problem(l, mp__load_pos(l, n), "%s must have exactly one of %s", ctx, r->one_of);
        return false;
    }
    if (equals_key && c.kind != MP_COND_ENV) {
        mp__load_problem(l, mp__load_pos(l, equals_key), "\"equals\" in %s only goes with \"env\"",
                         ctx);
        return false;
    }
    if (ok) *out = c;
    return ok;
}

void mp__load_conditions(mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                         mp_cond_vec *out)
{
    const char *cctx = mp__arena_printf(l->tmp, "a condition of %s", ctx);
    mp_cond c;
    if (val->type == MP_YT_NULL) return;
    if (val->type == MP_YT_MAP) {
        if (load_cond(l, val, cctx, &condition_rules, &c)) MP_VEC_PUSH(l->a, out, c);
        return;
    }
    if (val->type != MP_YT_LIST) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx),
                            "a condition or a list of conditions");
        return;
    }
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *it = val->items[i];
        if (it->type != MP_YT_MAP) {
            mp__load_wrong_type(
                l, it, it, mp__arena_printf(l->tmp, "an item of %s", mp__load_what(l, key, ctx)),
                "a condition mapping");
            continue;
        }
        if (load_cond(l, it, cctx, &condition_rules, &c)) MP_VEC_PUSH(l->a, out, c);
    }
}

void mp__load_requirements(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (val->type == MP_YT_NULL) return;
    if (val->type != MP_YT_LIST) {
        mp__load_wrong_type(l, key, val, "\"requirements\"", "a list of requirements");
        return;
    }
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *it = val->items[i];
        mp_requirement req;
        if (it->type != MP_YT_MAP) {
            mp__load_wrong_type(
                l, it, it, "an item of \"requirements\"",
                "a mapping such as {env: NAME}, {file: path} or {command: \"...\"}");
            continue;
        }
        if (load_cond(l, it, "a requirement", &requirement_rules, &req.cond))
            MP_VEC_PUSH(l->a, &l->p->requirements, req);
    }
}
