/*
 * fuzz_load.c -- libFuzzer target: any bytes through the YAML loader and
 * validation (also after loader problems, as the CLI does) and, when they
 * are valid, JSON rendering and planning. The loader must report a problem
 * or succeed, never crash, leak or hang; and these must hold:
 *   - problems come sorted by file, line and column, each with a message;
 *   - validating again gives the same problems;
 *   - the same bytes loaded into a fresh pipeline give the same problems
 *     and, when valid, the same hash (nothing depends on uninitialised
 *     memory or addresses).
 * A broken invariant aborts, so libFuzzer saves the input.
 *
 * Seeds: tests/fuzz/corpus/ and the fixtures in tests/fixtures/.
 */
#include "core/pipeline_json.h"
#include "core/plan.h"
#include "modpipe.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what)
{
    fprintf(stderr, "fuzz_load: invariant broken: %s\n", what);
    abort();
}

/* Load and validate as `modpipe validate` does; returns validate's code
 * (or the load error when the input was refused outright). */
static int load(mp_pipeline *p, const uint8_t *data, size_t size)
{
    mp_error err = {0};
    int rc = mp_pipeline_load_string(p, (const char *)data, size, "fuzz.yml", &err);
    if (rc != 0 && rc != MP_EINVALID) return rc;
    int vrc = mp_pipeline_validate(p, &err);
    return rc ? rc : vrc;
}

static void check_sorted(const mp_pipeline *p)
{
    const mp_problem *prev = NULL;
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++) {
        const mp_problem *pr = mp_pipeline_problem(p, i);
        if (!pr || !pr->file || !pr->message || !*pr->message) broken("empty problem");
        if (prev) {
            int c = strcmp(prev->file, pr->file);
            if (c > 0 || (c == 0 && (prev->line > pr->line ||
                                     (prev->line == pr->line && prev->col > pr->col))))
                broken("problems out of order");
        }
        prev = pr;
    }
    if (mp_pipeline_problem(p, mp_pipeline_problem_count(p)) != NULL)
        broken("problem past the end");
}

static int same_problems(const mp_pipeline *a, const mp_pipeline *b)
{
    size_t n = mp_pipeline_problem_count(a);
    if (n != mp_pipeline_problem_count(b)) return 0;
    for (size_t i = 0; i < n; i++) {
        const mp_problem *x = mp_pipeline_problem(a, i), *y = mp_pipeline_problem(b, i);
        if (x->line != y->line || x->col != y->col || strcmp(x->file, y->file) != 0 ||
            strcmp(x->message, y->message) != 0)
            return 0;
    }
    return 1;
}

/* A copy of p's problems, for comparing with a later validation. */
static mp_pipeline *snapshot(const uint8_t *data, size_t size)
{
    mp_pipeline *q = mp_pipeline_new(NULL);
    (void)load(q, data, size);
    return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_pipeline *p = mp_pipeline_new(NULL);
    int rc = load(p, data, size);
    check_sorted(p);

    mp_pipeline *q = snapshot(data, size);
    if (!same_problems(p, q)) broken("a fresh load gives other problems");
    if (rc == 0) {
        const char *h1 = mp_pipeline_hash(p), *h2 = mp_pipeline_hash(q);
        if (!h1 || !h2 || strcmp(h1, h2) != 0) broken("a fresh load gives another hash");
    }

    /* Validate p again: the same problems (loader's kept, its own redone). */
    mp_error err = {0};
    int again = mp_pipeline_validate(p, &err);
    if ((again == 0) != (rc == 0)) broken("validating again changes the verdict");
    if (!same_problems(p, q)) broken("validating again gives other problems");

    if (rc == 0) {
        json_t *j = mp__pipeline_to_json(p, 1);
        if (!j) broken("no JSON for a valid pipeline");
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text) broken("JSON does not serialise");
        free(text);
        json_decref(j);
        mp_plan plan;
        mp_filters none = {0};
        if (mp__plan_build(p, &none, &plan, &err) == 0) mp__plan_release(&plan);
    }
    mp_pipeline_free(q);
    mp_pipeline_free(p);
    return 0;
}
