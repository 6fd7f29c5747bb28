/* test_api.c -- the public pipeline/module/ctx API and validation speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ctx.h"
#include "core/strbuf.h"
#include "core_fixture.h"
#include "modpipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static int body(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 0;
}

static void test_build_and_validate(void **state)
{
    (void)state;
    assert_string_equal(mp_version(), "0.1.0");
    mp_pipeline *p = mp_pipeline_new("demo");
    mp_error err = {0};
    mp_module *b = mp_pipeline_add_module(p, "build", "make", &err);
    assert_non_null(b);
    assert_string_equal(mp_module_name(b), "build");
    mp_module *s = mp_pipeline_add_module(p, "stamp", NULL, &err);
    mp_module_set_function(s, body, NULL);
    mp_module_depends_on(s, "build");
    mp_module_after(s, "lint");
    mp_pipeline_add_module(p, "lint", "true", NULL);
    mp_module_set_category(s, "release");
    mp_module_add_tag(s, "slow");
    mp_module_set_env(s, "A", "1");
    mp_module_set_env(s, "A", "2");
    mp_module_set_timeout_ms(s, 1500);
    mp_module_set_retries(s, 2, 100);
    mp_module_set_ignore_failure(s, 1);
    mp_module_set_always_run(s, 1);

    assert_null(mp_pipeline_add_module(p, "build", NULL, &err));
    assert_int_equal(err.code, MP_EEXIST);
    assert_string_equal(err.message, "duplicate module \"build\"");
    assert_null(mp_pipeline_add_module(p, "a b", NULL, &err));
    assert_int_equal(err.code, MP_EINVAL);
    assert_string_equal(err.message,
                        "invalid module name \"a b\": use letters, digits, \"_\", \".\" and \"-\"");
    assert_null(mp_pipeline_add_module(p, "", NULL, &err));
    assert_null(mp_pipeline_add_module(p, NULL, NULL, &err));

    assert_int_equal(mp_pipeline_module_count(p), 0);
    assert_null(mp_pipeline_hash(p));
    /* before validation, find gives the declaration */
    assert_ptr_equal(mp_pipeline_find(p, "stamp"), s);

    assert_int_equal(mp_pipeline_validate(p, &err), 0);
    assert_int_equal(mp_pipeline_problem_count(p), 0);
    assert_null(mp_pipeline_problem(p, 0));
    assert_int_equal(mp_pipeline_module_count(p), 3);
    assert_string_equal(mp_module_name(mp_pipeline_module_at(p, 0)), "build");
    assert_string_equal(mp_module_name(mp_pipeline_module_at(p, 2)), "stamp");
    assert_null(mp_pipeline_module_at(p, 3));
    const char *h = mp_pipeline_hash(p);
    assert_non_null(h);
    assert_int_equal(strlen(h), 64);

    mp_module *m = mp_pipeline_find(p, "stamp");
    assert_ptr_not_equal(m, s);
    assert_int_equal(m->run_kind, MP_RUN_FUNCTION);
    assert_ptr_equal(m->fn, body);
    assert_int_equal(m->deps.n, 1);
    assert_int_equal(m->afters.n, 1);
    assert_string_equal(m->category.s, "release");
    assert_string_equal(m->tags.v[0].s, "slow");
    assert_int_equal(m->env.n, 1);
    assert_string_equal(m->env.v[0].value.s, "2");
    assert_int_equal(m->timeout_ms, 1500);
    assert_int_equal(m->retries, 2);
    assert_int_equal(m->retry_delay_ms, 100);
    assert_true(m->ignore_failure);
    assert_true(m->always_run);
    assert_string_equal(m->pos.file, "<api>");
    assert_null(mp_pipeline_find(p, "nope"));

    /* a change makes it unvalidated; adding a module too */
    mp_module_set_env(m, "B", "x");
    assert_null(mp_pipeline_hash(p));
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    assert_string_not_equal(mp_pipeline_hash(p), h);
    mp_pipeline_free(p);
    mp_pipeline_free(NULL);
}

static void test_problems_and_revalidation(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    /* a problem a loader recorded before validation survives it */
    mp__diag_add(&p->diags, fx_pos(99, 1), "unknown key \"x\" in the pipeline");
    mp_module *a = mp_pipeline_add_module(p, "a", NULL, NULL); /* no run */
    mp_module_depends_on(a, "ghost");
    mp_error err = {0};
    assert_int_equal(mp_pipeline_validate(p, &err), MP_EINVALID);
    assert_int_equal(err.code, MP_EINVALID);
    assert_string_equal(err.message, "3 problems in pipeline");
    assert_int_equal(mp_pipeline_problem_count(p), 3);
    /* sorted by position: "<api>" sorts before "t.yml" */
    assert_string_equal(mp_pipeline_problem(p, 0)->file, "<api>");
    assert_string_equal(mp_pipeline_problem(p, 2)->message, "unknown key \"x\" in the pipeline");

    /* validating again does not duplicate; fixing a problem removes it */
    assert_int_equal(mp_pipeline_validate(p, &err), MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 3);
    mp_module_set_function(a, body, NULL);
    assert_int_equal(mp_pipeline_validate(p, &err), MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 2);
    /* problems added between validations are kept */
    mp__diag_add(&p->diags, fx_pos(100, 1), "late problem");
    mp_pipeline_add_module(p, "ghost", "true", NULL);
    assert_int_equal(mp_pipeline_validate(p, &err), MP_EINVALID);
    assert_string_equal(err.message, "2 problems in pipeline");
    assert_int_equal(fx_problem(p, "late problem"), 1);
    assert_null(mp_pipeline_hash(p));
    mp_pipeline_free(p);

    p = mp_pipeline_new(NULL);
    mp_pipeline_add_module(p, "x", NULL, NULL);
    assert_int_equal(mp_pipeline_validate(p, &err), MP_EINVALID);
    assert_string_equal(err.message, "1 problem in pipeline");
    assert_string_equal(err.where, "<api>:0:0");
    mp_pipeline_free(p);
}

/* ---- through the YAML loader */

static void test_yaml_end_to_end(void **state)
{
    (void)state;
    static const char good[] = "version: 1\n"
                               "name: y\n"
                               "modules:\n"
                               "  build:\n"
                               "    matrix: {os: [linux, macos]}\n"
                               "    run: make OS=${{ matrix.os }}\n"
                               "    produces: [{name: bin, path: out}]\n"
                               "  test:\n"
                               "    depends_on: [\"build[os=linux]\"]\n"
                               "    consumes: [{name: bin}]\n"
                               "    run: echo ${{ modules.build[os=linux].outputs.v }}\n";
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    assert_int_equal(mp_pipeline_load_string(p, good, sizeof(good) - 1, "good.yml", &err), 0);
    int rc = mp_pipeline_validate(p, &err);
    fx_dump(p);
    assert_int_equal(rc, 0);
    assert_int_equal(mp_pipeline_module_count(p), 3);
    mp_module *m = mp_pipeline_find(p, "build[os=macos]");
    assert_non_null(m);
    assert_string_equal(m->run.s, "make OS=macos");
    mp_module *t = mp_pipeline_find(p, "test");
    assert_int_equal(t->consumes.v[0].producer,
                     (long)mp_pipeline_find(p, "build[os=linux]")->index);
    mp_pipeline_free(p);

    static const char bad[] = "version: 1\n"
                              "modules:\n"
                              "  a:\n"
                              "    depends_on: [c]\n"
                              "    run: echo ${{ matrix.os }}\n"
                              "  b:\n"
                              "    depends_on: [a]\n"
                              "    run: \"true\"\n"
                              "  c:\n"
                              "    depends_on: [b, biuld]\n"
                              "    run: \"true\"\n";
    p = mp_pipeline_new(NULL);
    assert_int_equal(mp_pipeline_load_string(p, bad, sizeof(bad) - 1, "bad.yml", &err), 0);
    assert_int_equal(mp_pipeline_validate(p, &err), MP_EINVALID);
    fx_dump(p);
    assert_int_equal(mp_pipeline_problem_count(p), 3);
    const mp_problem *pr = mp_pipeline_problem(p, 0);
    assert_string_equal(pr->file, "bad.yml");
    assert_int_equal(pr->line, 4);
    assert_string_equal(pr->message, "dependency cycle: a -> c -> b -> a");
    pr = mp_pipeline_problem(p, 1);
    assert_int_equal(pr->line, 5);
    assert_string_equal(pr->message, "module \"a\" uses ${{ matrix.os }} but has no matrix");
    pr = mp_pipeline_problem(p, 2);
    assert_int_equal(pr->line, 10);
    assert_string_equal(pr->message, "module \"c\" depends on unknown module \"biuld\"");
    assert_int_equal(pr->col, 21);
    mp_pipeline_free(p);
}

/* ---- ctx */

static void *setter(void *arg)
{
    mp_ctx *c = arg;
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i % 50);
        assert_int_equal(mp_ctx_set_output(c, key, "v"), 0);
    }
    return NULL;
}

static void collect(const char *key, const char *value, void *data)
{
    mp_strbuf *sb = data;
    mp__strbuf_addf(sb, "%s=%s;", key, value);
}

static void test_ctx(void **state)
{
    (void)state;
    mp_ctx *c = mp__ctx_new("test[os=linux]", 2);
    assert_string_equal(mp_ctx_module(c), "test[os=linux]");
    assert_int_equal(mp_ctx_attempt(c), 2);
    assert_int_equal(mp_ctx_cancelled(c), 0);
    mp__ctx_cancel(c);
    assert_int_not_equal(mp_ctx_cancelled(c), 0);

    assert_int_equal(mp_ctx_set_output(c, "version", "1.2"), 0);
    assert_int_equal(mp_ctx_set_output(c, "a-b_C9", "x"), 0);
    assert_int_equal(mp_ctx_set_output(c, "version", "1.3"), 0); /* replaces */
    assert_int_equal(mp_ctx_set_output(c, "empty", NULL), 0);
    assert_int_equal(mp_ctx_set_output(c, "bad key", "x"), MP_EINVAL);
    assert_int_equal(mp_ctx_set_output(c, "", "x"), MP_EINVAL);
    assert_int_equal(mp_ctx_set_output(c, NULL, "x"), MP_EINVAL);
    assert_int_equal(mp_ctx_set_output(c, "a.b", "x"), MP_EINVAL);
    assert_int_equal(mp_ctx_set_output(NULL, "a", "x"), MP_EINVAL);
    mp_strbuf sb = MP_STRBUF_INIT;
    assert_int_equal(mp__ctx_outputs(c, collect, &sb), 3);
    assert_string_equal(sb.buf, "version=1.3;a-b_C9=x;empty=;");
    mp__strbuf_release(&sb);

    char *big = malloc(MP_CTX_OUTPUT_LIMIT + 1);
    memset(big, 'x', MP_CTX_OUTPUT_LIMIT);
    big[MP_CTX_OUTPUT_LIMIT] = '\0';
    assert_int_equal(mp_ctx_set_output(c, "big", big), MP_ETOOBIG);
    free(big);
    mp__ctx_free(c);
    mp__ctx_free(NULL);

    /* concurrent setters */
    c = mp__ctx_new(NULL, 1);
    assert_string_equal(mp_ctx_module(c), "");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, setter, c);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(mp__ctx_outputs(c, NULL, NULL), 50);
    mp__ctx_free(c);
}

/* ---- speed: validation is linear */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_validate_10000_modules(void **state)
{
    (void)state;
    enum { N = 10000, EDGES = 5 };
    mp_pipeline *p = mp_pipeline_new("big");
    char name[32], dep[32], run[64];
    srand(42);
    /* declared in reverse, so sorting has work to do */
    for (int i = N - 1; i >= 0; i--) {
        snprintf(name, sizeof(name), "mod%05d", i);
        snprintf(run, sizeof(run), "echo %d ${{ run.id }}", i);
        mp_module *m = mp_pipeline_add_module(p, name, run, NULL);
        assert_non_null(m);
        for (int k = 0; k < EDGES && i > 0; k++) {
            snprintf(dep, sizeof(dep), "mod%05d", rand() % i); /* only lower: a DAG */
            mp_module_depends_on(m, dep);
        }
        mp_module_set_env(m, "I", name);
    }
    double t0 = now();
    int rc = mp_pipeline_validate(p, NULL);
    double t1 = now();
    fx_dump(p);
    assert_int_equal(rc, 0);
    assert_int_equal(mp_pipeline_module_count(p), N);
    print_message("validated %d modules (~%d edges each) in %.3f s\n", N, EDGES, t1 - t0);
    /* ~0.2 s in a release build; the bound only catches a quadratic walk
     * (sanitizers on a loaded machine are 10-25x slower). */
    assert_true(t1 - t0 < (MODPIPE_TEST_SANITIZED ? 30.0 : 2.0));
    size_t *order = malloc(N * sizeof(size_t));
    assert_int_equal(mp__graph_topo(p, order), 0);
    free(order);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_validate),
        cmocka_unit_test(test_problems_and_revalidation),
        cmocka_unit_test(test_yaml_end_to_end),
        cmocka_unit_test(test_ctx),
        cmocka_unit_test(test_validate_10000_modules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
