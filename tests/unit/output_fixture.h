/*
 * output_fixture.h -- helpers for the output sink tests: a validated
 * pipeline from module names (public API), fabricated results in a run,
 * an fd to write to (a temporary file, so output of any size never blocks)
 * and reading back what was written, and a fake monotonic clock.
 */
#ifndef MP_TEST_OUTPUT_FIXTURE_H
#define MP_TEST_OUTPUT_FIXTURE_H

#include "core/arena.h"
#include "core/engine.h"
#include "core/result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A validated pipeline with modules named by the NULL-terminated list, each
 * running "true" (indices follow name order). */
static inline mp_pipeline *ofx_pipeline(const char *name, const char *const *modules)
{
    mp_pipeline *p = mp_pipeline_new(name);
    for (size_t i = 0; modules[i]; i++)
        if (!mp_pipeline_add_module(p, modules[i], "true", NULL)) fail_msg("add %s", modules[i]);
    if (mp_pipeline_validate(p, NULL) < 0) fail_msg("pipeline invalid");
    return p;
}

static inline size_t ofx_index(mp_pipeline *p, const char *name)
{
    mp_module *m = mp_pipeline_find(p, name);
    if (!m) fail_msg("no module %s", name);
    return m->index;
}

/* A run over p's modules, every result pending; free with ofx_run_free. */
static inline void ofx_run_init(mp_run *run, const mp_pipeline *p, int64_t started_at)
{
    memset(run, 0, sizeof(*run));
    run->arena = mp__arena_new();
    run->n = p->modules.n;
    run->results = mp__arena_alloc(run->arena, (run->n ? run->n : 1) * sizeof(mp_result));
    for (size_t i = 0; i < run->n; i++)
        mp__result_init(&run->results[i]);
    run->verdict = MP_STATUS_SUCCEEDED;
    run->started_at = started_at;
    run->ended_at = started_at;
}

static inline void ofx_run_free(mp_run *run)
{
    mp__arena_free(run->arena);
    memset(run, 0, sizeof(*run));
}

/* Result i ran once from start to end (epoch ms) with this status/exit. */
static inline mp_result *ofx_ran(mp_run *run, size_t i, mp_status st, int exit_code, int64_t start,
                                 int64_t end)
{
    mp_result *r = &run->results[i];
    r->status = st;
    r->attempts = 1;
    r->exit_code = exit_code;
    r->instance = 0;
    r->started_at = start;
    r->ended_at = end;
    r->duration_ms = end - start;
    return r;
}

static inline mp_result *ofx_not_run(mp_run *run, size_t i, mp_status st, const char *why)
{
    mp_result *r = &run->results[i];
    r->status = st;
    r->skip_reason = mp__arena_strdup(run->arena, why);
    return r;
}

/* An fd on an anonymous temporary file. */
static inline int ofx_fd(void)
{
    FILE *f = tmpfile();
    if (!f) fail_msg("tmpfile");
    int fd = dup(fileno(f));
    fclose(f);
    return fd;
}

/* Everything written to fd so far (heap, NUL-terminated); *len if wanted. */
static inline char *ofx_slurp(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    char *buf = malloc((size_t)end + 1);
    ssize_t got = pread(fd, buf, (size_t)end, 0);
    if (got != end) fail_msg("pread");
    buf[end] = '\0';
    if (len) *len = (size_t)end;
    return buf;
}

/* What was written since offset *from (heap), advancing *from. */
static inline char *ofx_since(int fd, size_t *from)
{
    size_t len;
    char *all = ofx_slurp(fd, &len);
    char *s = strdup(all + *from);
    *from = len;
    free(all);
    return s;
}

static inline size_t ofx_count(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += l)
        n++;
    return n;
}

static int64_t ofx_now;
static inline int64_t ofx_clock(void)
{
    return ofx_now;
}

#endif
