/*
 * load_matrix.c -- the `matrix` of a module: axes (keys in declaration
 * order) with their values, into mp_module_decl.matrix_axes/matrix_values.
 *
 * Checked here, where the positions are: keys are [A-Za-z0-9_-]+, each
 * axis is a non-empty list of scalars without repeats, and the product of
 * the axis sizes is at most MAX_COMBINATIONS. Expansion itself is done by
 * validation (core/validate.h). A matrix with too many combinations is
 * dropped so that nothing downstream ever tries to expand it.
 */
#include "config/load.h"

#include <stdint.h>
#include <string.h>

#define MAX_COMBINATIONS 256

static bool axis_key_valid(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

/* The values of one axis; false when none is usable. */
static bool load_axis(mp_loader *l, const char *mctx, const mp_ynode *k, const mp_ynode *v,
                      mp_pstr_vec *out)
{
    const char *axis = mp__load_quote(l, k->str);
    if (v->type != MP_YT_LIST) {
        mp__load_problem(l, mp__load_vpos(l, k, v), "%s: \"%s\" must be a list of values, not %s",
                         mctx, axis, mp__ytype_name(v->type));
        return false;
    }
    if (v->n == 0) {
        mp__load_problem(l, mp__load_pos(l, v), "%s: \"%s\" has no values", mctx, axis);
        return false;
    }
    mp_strmap seen = MP_STRMAP_INIT;
    for (size_t i = 0; i < v->n; i++) {
        const mp_ynode *it = v->items[i];
        if (!mp__ynode_is_scalar(it) || it->type == MP_YT_NULL) {
            mp__load_problem(l, mp__load_pos(l, it),
                             "%s: a value of \"%s\" must be a string, number or boolean, not %s",
                             mctx, axis, mp__ytype_name(it->type));
            continue;
        }
        const mp_ynode *first = mp__strmap_get(&seen, it->str);
        if (first) {
            mp__load_problem(l, mp__load_pos(l, it),
                             "%s: duplicate value \"%s\" for \"%s\" (first at line %u)", mctx,
                             mp__load_quote(l, it->str), axis, first->line);
            continue;
        }
        mp__strmap_put(&seen, it->str, (void *)it);
        MP_VEC_PUSH(l->a, out, mp__load_keep(l, it));
    }
    mp__strmap_release(&seen);
    return out->n > 0;
}

void mp__load_matrix(mp_loader *l, mp_module_decl *d, const mp_ynode *key, const mp_ynode *val,
                     const char *ctx)
{
    if (!mp__load_is_map(l, key, val, ctx, "a mapping of keys to lists of values")) return;
    const char *mctx = mp__arena_printf(l->tmp, "matrix of %s", ctx);
    d->matrix_pos = mp__load_pos(l, val);
    memset(&d->matrix_axes, 0, sizeof(d->matrix_axes));
    memset(&d->matrix_values, 0, sizeof(d->matrix_values));
    if (val->n == 0) {
        mp__load_problem(l, mp__load_pos(l, val), "%s: no keys", mctx);
        return;
    }
    uint64_t combos = 1;
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        if (!axis_key_valid(k->str)) {
            mp__load_problem(l, mp__load_pos(l, k),
                             "%s: invalid key \"%s\": use letters, digits, \"_\" and \"-\"", mctx,
                             mp__load_quote(l, k->str));
            continue;
        }
        mp_pstr_vec values = {0};
        if (!load_axis(l, mctx, k, v, &values)) continue;
        mp_kv axis = {
            .key = mp__load_keep(l, k),
            .value = {.s = "", .pos = mp__load_pos(l, v)},
        };
        MP_VEC_PUSH(l->a, &d->matrix_axes, axis);
        MP_VEC_PUSH(l->a, &d->matrix_values, values);
        combos = combos > UINT32_MAX / values.n ? UINT64_MAX : combos * values.n;
    }
    if (combos > MAX_COMBINATIONS) {
        if (combos == UINT64_MAX)
            mp__load_problem(l, d->matrix_pos, "%s: too many combinations; the limit is %d", mctx,
                             MAX_COMBINATIONS);
        else
            mp__load_problem(l, d->matrix_pos, "%s: %llu combinations; the limit is %d", mctx,
                             (unsigned long long)combos, MAX_COMBINATIONS);
        memset(&d->matrix_axes, 0, sizeof(d->matrix_axes));
        memset(&d->matrix_values, 0, sizeof(d->matrix_values));
    }
}
