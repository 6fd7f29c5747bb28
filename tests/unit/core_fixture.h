/*
 * core_fixture.h -- helpers for the core unit tests: build declarations
 * directly in the model (as a loader would), with positions in a pretend
 * file "t.yml", and look problems up by text.
 */
#ifndef MP_TEST_CORE_FIXTURE_H
#define MP_TEST_CORE_FIXTURE_H

#include "core/model.h"
#include "core/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inline mp_pos fx_pos(unsigned line, unsigned col)
{
    return (mp_pos){.file = "t.yml", .line = line, .col = col};
}

static inline mp_pstr fx_str(mp_pipeline *p, const char *s, unsigned line)
{
    return (mp_pstr){.s = mp__arena_strdup(p->arena, s), .pos = fx_pos(line, 5)};
}

/* A declaration at `line` with run: "true" (shell). */
static inline mp_module_decl *fx_decl(mp_pipeline *p, const char *name, unsigned line)
{
    mp_module_decl *d = mp__decl_add(p, name, fx_pos(line, 3));
    if (d) {
        d->proto.run_kind = MP_RUN_SHELL;
        d->proto.run = fx_str(p, "true", line + 1);
    }
    return d;
}

static inline void fx_dep(mp_pipeline *p, mp_module_decl *d, const char *name, unsigned line)
{
    MP_VEC_PUSH(p->arena, &d->proto.depends_on, fx_str(p, name, line));
}

static inline void fx_after(mp_pipeline *p, mp_module_decl *d, const char *name, unsigned line)
{
    MP_VEC_PUSH(p->arena, &d->proto.after, fx_str(p, name, line));
}

static inline void fx_run(mp_pipeline *p, mp_module_decl *d, const char *run, unsigned line)
{
    d->proto.run_kind = MP_RUN_SHELL;
    d->proto.run = fx_str(p, run, line);
}

/* Matrix axis key: NULL-terminated values. */
static inline void fx_axis(mp_pipeline *p, mp_module_decl *d, unsigned line, const char *key, ...)
{
    mp_kv kv = {.key = fx_str(p, key, line), .value = {0}};
    MP_VEC_PUSH(p->arena, &d->matrix_axes, kv);
    mp_pstr_vec vals = {0};
    va_list ap;
    va_start(ap, key);
    const char *v;
    while ((v = va_arg(ap, const char *)) != NULL)
        MP_VEC_PUSH(p->arena, &vals, fx_str(p, v, line));
    va_end(ap);
    MP_VEC_PUSH(p->arena, &d->matrix_values, vals);
    d->matrix_pos = fx_pos(line, 5);
}

static inline void fx_env(mp_pipeline *p, mp_kv_vec *env, const char *k, const char *v,
                          unsigned line)
{
    mp_kv kv = {.key = fx_str(p, k, line), .value = fx_str(p, v, line)};
    MP_VEC_PUSH(p->arena, env, kv);
}

/* Index of the first problem containing `text`, or -1. */
static inline long fx_problem(const mp_pipeline *p, const char *text)
{
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++)
        if (strstr(mp_pipeline_problem(p, i)->message, text)) return (long)i;
    return -1;
}

static inline size_t fx_problems_with(const mp_pipeline *p, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++)
        if (strstr(mp_pipeline_problem(p, i)->message, text)) n++;
    return n;
}

static inline void fx_dump(const mp_pipeline *p)
{
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++) {
        const mp_problem *pr = mp_pipeline_problem(p, i);
        fprintf(stderr, "  %s:%u:%u: %s\n", pr->file, pr->line, pr->col, pr->message);
    }
}

#endif
