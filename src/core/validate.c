/*
 * validate.c -- mp_pipeline_validate(): the steps of validate.h in order.
 *
 * Validation may run again after the pipeline changed: it drops what the
 * previous run derived (expanded modules, maps, hash, its own problems)
 * and keeps the problems recorded by others (the loaders), including any
 * recorded since. Problems are sorted by position at the end; the hash is
 * computed only for a pipeline without problems.
 */
#include "core/error.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mp__problem(mp_pipeline *p, mp_pos pos, const char *fmt, ...)
{
    size_t limit = p->diags.limit ? p->diags.limit : 1000;
    if (p->diags.list.n >= limit) { /* full: count it, keep nothing */
        p->diags.dropped++;
        return 0;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *key = mp__arena_printf(p->arena, "%s:%u:%u:%s", pos.file ? pos.file : "<api>", pos.line,
                                 pos.col, msg);
    if (mp__strmap_get(&p->problem_seen, key)) return 0;
    mp__strmap_put(&p->problem_seen, key, key);
    mp__diag_add(&p->diags, pos, "%s", msg);
    return 1;
}

/* Put p->diags back to what it was before the previous validation, plus
 * whatever was added after it, and forget everything it derived. */
static void reset(mp_pipeline *p)
{
    if (p->validate_ran) {
        MP_VEC(mp_problem) keep = {0};
        for (size_t i = 0; i < p->pre_problems.n; i++)
            MP_VEC_PUSH(p->arena, &keep, p->pre_problems.v[i]);
        for (size_t i = p->validate_end; i < p->diags.list.n; i++)
            MP_VEC_PUSH(p->arena, &keep, p->diags.list.v[i]);
        p->diags.list.v = keep.v;
        p->diags.list.n = keep.n;
        p->diags.list.cap = keep.cap;
        p->diags.dropped = p->pre_dropped;
    }
    p->pre_problems.v = NULL;
    p->pre_problems.n = p->pre_problems.cap = 0;
    for (size_t i = 0; i < p->diags.list.n; i++)
        MP_VEC_PUSH(p->arena, &p->pre_problems, p->diags.list.v[i]);
    p->pre_dropped = p->diags.dropped;

    mp__strmap_release(&p->problem_seen);
    mp__strmap_release(&p->module_by_name);
    mp__strmap_release(&p->instances_by_base);
    p->modules.v = NULL;
    p->modules.n = p->modules.cap = 0;
    p->hash = NULL;
    p->validated = false;
}

int mp_pipeline_validate(mp_pipeline *p, mp_error *err)
{
    if (!p) return mp__error(err, MP_EINVAL, "", "no pipeline");
    reset(p);
    mp__matrix_expand(p);
    mp__graph_resolve(p);
    mp__check_modules(p);
    mp__diag_sort(&p->diags);
    p->validate_end = p->diags.list.n;
    p->validate_ran = true;
    mp__strmap_release(&p->problem_seen);

    size_t total = p->diags.list.n + p->diags.dropped;
    if (total) {
        const mp_problem *first = &p->diags.list.v[0];
        char where[256];
        snprintf(where, sizeof(where), "%s:%u:%u", first->file, first->line, first->col);
        return mp__error(err, MP_EINVALID, where, "%zu problem%s in pipeline", total,
                         total == 1 ? "" : "s");
    }
    mp__pipeline_hash(p);
    p->validated = true;
    return 0;
}
