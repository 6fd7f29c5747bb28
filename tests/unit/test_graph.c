/* test_graph.c -- dependency resolution, cycles and topological order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core_fixture.h"

#include <stdlib.h>

static size_t idx(mp_pipeline *p, const char *name)
{
    mp_module *m = mp_pipeline_find(p, name);
    if (!m) fail_msg("no module \"%s\"", name);
    return m->index;
}

static void test_resolve_base_full_dedupe(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *t = fx_decl(p, "test", 1);
    fx_axis(p, t, 2, "os", "linux", "macos", NULL);
    fx_decl(p, "build", 5);
    fx_decl(p, "lint", 6);
    mp_module_decl *pub = fx_decl(p, "publish", 10);
    fx_dep(p, pub, "test", 11);
    fx_dep(p, pub, "test[os=linux]", 12); /* duplicate of one instance */
    fx_dep(p, pub, "build", 13);
    fx_dep(p, pub, "build", 14);
    fx_after(p, pub, "build", 15); /* already a dependency */
    fx_after(p, pub, "lint", 16);
    fx_after(p, pub, "lint", 17);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    mp_module *m = mp_pipeline_find(p, "publish");
    assert_int_equal(m->deps.n, 3);
    /* sorted by index = by name */
    assert_int_equal(m->deps.v[0], idx(p, "build"));
    assert_int_equal(m->deps.v[1], idx(p, "test[os=linux]"));
    assert_int_equal(m->deps.v[2], idx(p, "test[os=macos]"));
    assert_int_equal(m->afters.n, 1);
    assert_int_equal(m->afters.v[0], idx(p, "lint"));
    mp_module *b = mp_pipeline_find(p, "build");
    assert_int_equal(b->dependents.n, 1);
    assert_int_equal(b->dependents.v[0], m->index);
    mp_module *lint = mp_pipeline_find(p, "lint");
    assert_int_equal(lint->dependents.n, 0); /* after is not a dependency */
    mp_pipeline_free(p);
}

static void test_unknown_and_self(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    fx_decl(p, "build", 1);
    mp_module_decl *t = fx_decl(p, "test", 10);
    fx_axis(p, t, 11, "os", "linux", "macos", NULL);
    fx_dep(p, t, "biuld", 12);
    fx_dep(p, t, "test", 13); /* every instance of itself: includes itself */
    fx_after(p, t, "nothing-like-it", 14); /* absent: fine */
    fx_after(p, t, "biuld", 15);           /* near miss: a typo */
    mp_module_decl *u = fx_decl(p, "use", 20);
    fx_dep(p, u, "test[os=linx]", 21);
    fx_dep(p, u, "use", 22);
    assert_int_equal(mp_pipeline_validate(p, NULL), MP_EINVALID);
    fx_dump(p);
    /* matrix instances share one report per problem */
    assert_int_equal(mp_pipeline_problem_count(p), 6);
    assert_string_equal(
        mp_pipeline_problem(p, 0)->message,
        "module \"test\" depends on unknown module \"biuld\"; did you mean \"build\"?");
    assert_int_equal(mp_pipeline_problem(p, 0)->line, 12);
    assert_string_equal(mp_pipeline_problem(p, 1)->message, "module \"test\" depends on itself");
    /* instances of one matrix depend on each other: that is a cycle too */
    assert_string_equal(mp_pipeline_problem(p, 2)->message,
                        "dependency cycle: test[os=linux] -> test[os=macos] -> test[os=linux]");
    assert_int_equal(mp_pipeline_problem(p, 2)->line, 13);
    assert_string_equal(mp_pipeline_problem(p, 3)->message,
                        "module \"test\" runs after unknown module \"biuld\"; did you mean \"build\"?");
    assert_string_equal(mp_pipeline_problem(p, 4)->message,
                        "module \"use\" depends on unknown module \"test[os=linx]\"; did you mean "
                        "\"test[os=linux]\"?");
    assert_string_equal(mp_pipeline_problem(p, 5)->message, "module \"use\" depends on itself");
    mp_pipeline_free(p);
}

static void test_cycle_message_and_position(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *a = fx_decl(p, "a", 1);
    mp_module_decl *b = fx_decl(p, "b", 10);
    mp_module_decl *c = fx_decl(p, "c", 20);
    fx_decl(p, "ok", 30);
    fx_dep(p, a, "ok", 2);
    fx_dep(p, a, "b", 3);
    fx_dep(p, b, "c", 11);
    fx_after(p, c, "a", 21);
    /* a second, separate cycle */
    mp_module_decl *x = fx_decl(p, "x", 40);
    mp_module_decl *y = fx_decl(p, "y", 50);
    fx_dep(p, y, "x", 51);
    fx_dep(p, x, "y", 41);
    assert_int_equal(mp_pipeline_validate(p, NULL), MP_EINVALID);
    fx_dump(p);
    assert_int_equal(mp_pipeline_problem_count(p), 2);
    const mp_problem *pr = mp_pipeline_problem(p, 0);
    assert_string_equal(pr->message, "dependency cycle: a -> b -> c -> a");
    assert_int_equal(pr->line, 3); /* a's entry naming b */
    pr = mp_pipeline_problem(p, 1);
    assert_string_equal(pr->message, "dependency cycle: x -> y -> x");
    assert_int_equal(pr->line, 41);
    assert_null(mp_pipeline_hash(p));
    mp_pipeline_free(p);
}

static void test_long_chain_and_long_cycle(void **state)
{
    (void)state;
    enum { N = 10000 };
    mp_pipeline *p = mp_pipeline_new(NULL);
    char name[32], dep[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "m%05d", i);
        mp_module_decl *d = fx_decl(p, name, (unsigned)i + 1);
        if (i) {
            snprintf(dep, sizeof(dep), "m%05d", i - 1);
            fx_dep(p, d, dep, (unsigned)i + 1);
        }
    }
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    size_t *order = malloc(N * sizeof(size_t));
    assert_int_equal(mp__graph_topo(p, order), 0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(order[i], i);
    /* close the chain: one 10,000-long cycle, found without recursion */
    mp_module_decl *first = p->decls.v[0];
    fx_dep(p, first, "m09999", 1);
    assert_int_equal(mp_pipeline_validate(p, NULL), MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    const char *msg = mp_pipeline_problem(p, 0)->message;
    assert_non_null(strstr(msg, "dependency cycle: m00000 -> m09999 -> m09998"));
    assert_non_null(strstr(msg, "(9983 more)"));
    assert_non_null(strstr(msg, "m00001 -> m00000"));
    assert_int_equal(mp__graph_topo(p, order), -1);
    free(order);
    mp_pipeline_free(p);
}

static void test_topo_respects_after(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *a = fx_decl(p, "a", 1);
    fx_decl(p, "b", 2);
    mp_module_decl *c = fx_decl(p, "c", 3);
    fx_after(p, a, "c", 4);
    fx_dep(p, c, "b", 5);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    size_t order[3];
    assert_int_equal(mp__graph_topo(p, order), 0);
    size_t pos[3];
    for (size_t i = 0; i < 3; i++)
        pos[order[i]] = i;
    assert_true(pos[idx(p, "b")] < pos[idx(p, "c")]);
    assert_true(pos[idx(p, "c")] < pos[idx(p, "a")]);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_base_full_dedupe),
        cmocka_unit_test(test_unknown_and_self),
        cmocka_unit_test(test_cycle_message_and_position),
        cmocka_unit_test(test_long_chain_and_long_cycle),
        cmocka_unit_test(test_topo_respects_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
