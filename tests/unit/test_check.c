/* test_check.c -- expressions, consumes, secrets, groups, bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core_fixture.h"

static void consume(mp_pipeline *p, mp_module_decl *d, const char *name, const char *from,
                    unsigned line)
{
    mp_consume c = {.name = fx_str(p, name, line), .pos = fx_pos(line, 3), .producer = -1};
    if (from) c.from = fx_str(p, from, line + 1);
    MP_VEC_PUSH(p->arena, &d->proto.consumes, c);
}

static void produce(mp_pipeline *p, mp_module_decl *d, const char *name, unsigned line)
{
    mp_produce pr = {.name = fx_str(p, name, line), .pos = fx_pos(line, 3)};
    MP_VEC_PUSH(p->arena, &pr.paths, fx_str(p, "out/**", line));
    MP_VEC_PUSH(p->arena, &d->proto.produces, pr);
}

static void expect_only(mp_pipeline *p, const char *message, unsigned line)
{
    int rc = mp_pipeline_validate(p, NULL);
    fx_dump(p);
    assert_int_equal(rc, MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    assert_string_equal(mp_pipeline_problem(p, 0)->message, message);
    if (line) assert_int_equal(mp_pipeline_problem(p, 0)->line, line);
}

static void test_expression_references(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *b = fx_decl(p, "build", 1);
    fx_decl(p, "lint", 5);
    mp_module_decl *t = fx_decl(p, "test", 10);
    fx_dep(p, t, "build", 11);
    fx_after(p, t, "lint", 12);
    fx_run(p, t,
           "v=${{ modules.build.outputs.version }} s=${{ modules.build.status }} "
           "${{ run.id }} ${{ instance.index }}",
           13);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);

    fx_env(p, &t->proto.env, "L", "${{ modules.lint.outputs.x }}", 14);
    expect_only(p,
                "module \"test\" uses ${{ modules.lint.outputs.x }} but \"lint\" is not in its "
                "depends_on",
                14);
    t->proto.env.n = 0;
    t->proto.working_dir = fx_str(p, "${{ modules.buidl.status }}", 15);
    expect_only(p,
                "module \"test\" uses ${{ modules.buidl.status }} but \"buidl\" is not in its "
                "depends_on; did you mean \"build\"?",
                15);
    t->proto.working_dir = fx_str(p, "${{ modules.test.status }}", 15);
    expect_only(p,
                "module \"test\" uses ${{ modules.test.status }} but \"test\" is not in its "
                "depends_on",
                15);
    t->proto.working_dir = fx_str(p, "${{ nonsense }}", 15);
    expect_only(p,
                "malformed expression in module \"test\": unknown expression (use matrix.K, "
                "modules.M.outputs.K, modules.M.status, instance.index or run.id) in "
                "\"${{ nonsense }}\"",
                15);
    t->proto.working_dir.s = NULL;
    (void)b;
    mp_pipeline_free(p);
}

static void test_matrix_references(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *b = fx_decl(p, "build", 1);
    fx_axis(p, b, 2, "os", "linux", "macos", NULL);
    mp_module_decl *one = fx_decl(p, "single", 3);
    fx_axis(p, one, 4, "os", "linux", NULL);
    mp_module_decl *t = fx_decl(p, "test", 10);
    fx_axis(p, t, 11, "os", "linux", "macos", NULL);
    fx_dep(p, t, "build", 12);
    fx_dep(p, t, "single", 13);
    /* full names are fine; a one-instance matrix by plain name too */
    fx_run(p, t, "${{ modules.build[os=linux].outputs.v }} ${{ modules.single.outputs.v }}", 14);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    /* a plain name with several instances is ambiguous, reported once */
    fx_env(p, &t->proto.env, "V", "${{ modules.build.outputs.v }}", 15);
    expect_only(p,
                "module \"test\" uses ${{ modules.build.outputs.v }} but \"build\" has 2 "
                "instances; name one, e.g. \"build[os=linux]\"",
                15);
    mp_pipeline_free(p);
}

static void test_requires_and_global_env(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *t = fx_decl(p, "test", 1);
    fx_axis(p, t, 2, "os", "linux", NULL);
    fx_env(p, &t->proto.requires, "os", "${{ matrix.os }}", 3);
    fx_env(p, &p->env, "RID", "${{ run.id }}-${{ instance.index }}", 20);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    fx_env(p, &t->proto.requires, "host", "${{ run.id }}", 4);
    expect_only(p,
                "module \"test\" uses ${{ run.id }} in \"requires\", where only ${{ matrix.K }} "
                "is allowed",
                4);
    t->proto.requires.n = 1;
    fx_env(p, &p->env, "X", "${{ modules.test.status }}", 21);
    expect_only(p,
                "the pipeline's env uses ${{ modules.test.status }}, where only ${{ run.id }} and "
                "${{ instance.index }} are allowed",
                21);
    p->env.n = 1;
    fx_env(p, &p->env, "Y", "${{ matrix.os }}", 22);
    expect_only(p,
                "the pipeline's env uses ${{ matrix.os }}, where only ${{ run.id }} and "
                "${{ instance.index }} are allowed",
                22);
    mp_pipeline_free(p);
}

static void test_consumes(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *build = fx_decl(p, "build", 1);
    produce(p, build, "bin", 2);
    mp_module_decl *mid = fx_decl(p, "mid", 10);
    fx_dep(p, mid, "build", 11);
    mp_module_decl *other = fx_decl(p, "other", 20);
    produce(p, other, "bin", 21);
    produce(p, other, "docs", 22);
    mp_module_decl *t = fx_decl(p, "test", 30);
    fx_dep(p, t, "mid", 31);
    consume(p, t, "bin", NULL, 32);    /* transitive producer */
    consume(p, t, "bin", "build", 34); /* explicit, transitive */
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    mp_module *tm = mp_pipeline_find(p, "test");
    size_t bi = mp_pipeline_find(p, "build")->index;
    assert_int_equal(tm->consumes.v[0].producer, (long)bi);
    assert_int_equal(tm->consumes.v[1].producer, (long)bi);

    /* from a module that is not upstream */
    t->proto.consumes.v[1].from = fx_str(p, "other", 35);
    expect_only(p,
                "module \"test\" consumes artifact \"bin\" from \"other\", which is not among its "
                "dependencies",
                35);
    /* from an upstream module that does not produce it */
    t->proto.consumes.v[1].from = fx_str(p, "mid", 35);
    expect_only(p,
                "module \"test\" consumes artifact \"bin\" from \"mid\", which produces no "
                "artifact named \"bin\"",
                35);
    t->proto.consumes.n = 1;
    /* nobody upstream produces docs */
    consume(p, t, "docs", NULL, 36);
    expect_only(p,
                "module \"test\" consumes artifact \"docs\" but no module it depends on produces "
                "it",
                36);
    t->proto.consumes.n = 1;
    /* two upstream producers: ambiguous without "from" */
    fx_dep(p, t, "other", 33);
    expect_only(p,
                "module \"test\" consumes artifact \"bin\", which 2 modules it depends on produce "
                "(\"build\", \"other\"); name one with \"from\"",
                32);
    t->proto.consumes.v[0].from = fx_str(p, "other", 33);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    assert_int_equal(mp_pipeline_find(p, "test")->consumes.v[0].producer,
                     (long)mp_pipeline_find(p, "other")->index);
    /* after does not make a module upstream */
    t->proto.depends_on.n = 1;
    fx_after(p, t, "other", 37);
    expect_only(p,
                "module \"test\" consumes artifact \"bin\" from \"other\", which is not among its "
                "dependencies",
                33);
    mp_pipeline_free(p);
}

static void test_consumes_from_matrix(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *b = fx_decl(p, "build", 1);
    fx_axis(p, b, 2, "os", "linux", "macos", NULL);
    produce(p, b, "bin", 3);
    mp_module_decl *t = fx_decl(p, "test", 10);
    fx_axis(p, t, 11, "os", "linux", "macos", NULL);
    fx_dep(p, t, "build[os=${{ matrix.os }}]", 12);
    consume(p, t, "bin", NULL, 13);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    assert_int_equal(mp_pipeline_find(p, "test[os=macos]")->consumes.v[0].producer,
                     (long)mp_pipeline_find(p, "build[os=macos]")->index);
    t->proto.consumes.v[0].from = fx_str(p, "build", 14);
    expect_only(p,
                "module \"test\" consumes artifact \"bin\" from \"build\", which has 2 instances; "
                "name one, e.g. \"build[os=linux]\"",
                14);
    mp_pipeline_free(p);
}

static void test_secrets_groups_run(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    MP_VEC_PUSH(p->arena, &p->secrets, fx_str(p, "NPM_TOKEN", 1));
    fx_env(p, &p->options.concurrency_groups, "db", "1", 2);
    mp_module_decl *m = fx_decl(p, "publish", 10);
    MP_VEC_PUSH(p->arena, &m->proto.secrets, fx_str(p, "NPM_TOKEN", 11));
    m->proto.concurrency_group = fx_str(p, "db", 12);
    MP_VEC_PUSH(p->arena, &m->proto.not_in_parallel, fx_str(p, "anything", 13));
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);

    MP_VEC_PUSH(p->arena, &m->proto.secrets, fx_str(p, "GH_TOKEN", 14));
    expect_only(p,
                "module \"publish\" uses secret \"GH_TOKEN\", which is not declared in the "
                "top-level \"secrets\"",
                14);
    m->proto.secrets.n = 1;
    m->proto.concurrency_group = fx_str(p, "network", 12);
    expect_only(p,
                "module \"publish\" uses concurrency group \"network\", which is not declared in "
                "options.concurrency_groups",
                12);
    m->proto.concurrency_group.s = NULL;
    m->proto.run_kind = MP_RUN_NONE;
    expect_only(p, "module \"publish\" has no \"run\"", 10);
    mp_pipeline_free(p);
}

static void test_matrix_problems_reported_once(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *t = fx_decl(p, "test", 1);
    fx_axis(p, t, 2, "os", "a", "b", "c", NULL);
    t->proto.run_kind = MP_RUN_NONE;
    fx_env(p, &t->proto.env, "X", "${{ modules.nope.status }} ${{ bad", 3);
    assert_int_equal(mp_pipeline_validate(p, NULL), MP_EINVALID);
    fx_dump(p);
    assert_int_equal(mp_pipeline_problem_count(p), 3);
    assert_int_equal(fx_problems_with(p, "has no \"run\""), 1);
    assert_int_equal(fx_problems_with(p, "\"nope\" is not in its depends_on"), 1);
    assert_int_equal(fx_problems_with(p, "malformed expression in module \"test\": unterminated"),
                     1);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expression_references),
        cmocka_unit_test(test_matrix_references),
        cmocka_unit_test(test_requires_and_global_env),
        cmocka_unit_test(test_consumes),
        cmocka_unit_test(test_consumes_from_matrix),
        cmocka_unit_test(test_secrets_groups_run),
        cmocka_unit_test(test_matrix_problems_reported_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
