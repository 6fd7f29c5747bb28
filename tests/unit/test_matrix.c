/* test_matrix.c -- matrix expansion (core/matrix.c via validation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core_fixture.h"

static void test_expansion_names_order_and_substitution(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new("m");
    mp_module_decl *t = fx_decl(p, "test", 10);
    fx_axis(p, t, 11, "os", "linux", "macos", NULL);
    fx_axis(p, t, 12, "cc", "gcc", "clang", "tcc", NULL);
    fx_run(p, t, "./run --os ${{ matrix.os }} --cc ${{matrix.cc}} $${{ matrix.os }}", 13);
    MP_VEC_PUSH(p->arena, &t->proto.argv, fx_str(p, "x-${{ matrix.cc }}", 13));
    fx_env(p, &t->proto.env, "OS", "${{ matrix.os }}", 14);
    t->proto.working_dir = fx_str(p, "src/${{ matrix.os }}", 15);
    fx_env(p, &t->proto.requires, "os", "${{ matrix.os }}", 16);
    mp_cond c = {.kind = MP_COND_ENV,
                 .arg = fx_str(p, "V_${{ matrix.cc }}", 17),
                 .equals = fx_str(p, "${{ matrix.os }}", 17),
                 .pos = fx_pos(17, 3)};
    MP_VEC_PUSH(p->arena, &t->proto.skip_if, c);
    MP_VEC_PUSH(p->arena, &t->proto.run_if, c);
    mp_produce pr = {.name = fx_str(p, "bin", 18), .pos = fx_pos(18, 3)};
    MP_VEC_PUSH(p->arena, &pr.paths, fx_str(p, "out/${{ matrix.os }}/**", 18));
    MP_VEC_PUSH(p->arena, &t->proto.produces, pr);
    fx_decl(p, "alpha", 1);
    fx_decl(p, "zeta", 30);

    int rc = mp_pipeline_validate(p, NULL);
    fx_dump(p);
    assert_int_equal(rc, 0);
    assert_int_equal(mp_pipeline_module_count(p), 8);
    /* sorted by name (strcmp) */
    const char *want[] = {"alpha",
                          "test[os=linux,cc=clang]",
                          "test[os=linux,cc=gcc]",
                          "test[os=linux,cc=tcc]",
                          "test[os=macos,cc=clang]",
                          "test[os=macos,cc=gcc]",
                          "test[os=macos,cc=tcc]",
                          "zeta"};
    for (size_t i = 0; i < 8; i++) {
        mp_module *m = mp_pipeline_module_at(p, i);
        assert_string_equal(mp_module_name(m), want[i]);
        assert_int_equal(m->index, i);
        assert_ptr_equal(mp__strmap_get(&p->module_by_name, want[i]), m);
    }
    mp_module *m = mp_pipeline_find(p, "test[os=macos,cc=tcc]");
    assert_non_null(m);
    assert_string_equal(m->base, "test");
    assert_int_equal(m->matrix.n, 2);
    assert_string_equal(m->matrix.v[0].key.s, "os");
    assert_string_equal(m->matrix.v[0].value.s, "macos");
    assert_string_equal(m->matrix.v[1].value.s, "tcc");
    assert_string_equal(m->run.s, "./run --os macos --cc tcc $${{ matrix.os }}");
    assert_int_equal(m->run.pos.line, 13);
    assert_string_equal(m->argv.v[0].s, "x-tcc");
    assert_string_equal(m->env.v[0].value.s, "macos");
    assert_string_equal(m->working_dir.s, "src/macos");
    assert_string_equal(m->requires.v[0].value.s, "macos");
    assert_string_equal(m->skip_if.v[0].arg.s, "V_tcc");
    assert_string_equal(m->skip_if.v[0].equals.s, "macos");
    assert_string_equal(m->run_if.v[0].arg.s, "V_tcc");
    assert_string_equal(m->produces.v[0].paths.v[0].s, "out/macos/**");
    /* a plain name with several instances finds the declaration */
    assert_ptr_equal(mp_pipeline_find(p, "test"), &t->proto);
    assert_string_equal(mp_module_name(mp_pipeline_find(p, "test")), "test");
    /* the declaration is untouched */
    assert_string_equal(t->proto.run.s,
                        "./run --os ${{ matrix.os }} --cc ${{matrix.cc}} $${{ matrix.os }}");
    assert_string_equal(t->proto.env.v[0].value.s, "${{ matrix.os }}");
    /* instances by base, in index order */
    mp_instance_list *l = mp__strmap_get(&p->instances_by_base, "test");
    assert_non_null(l);
    assert_int_equal(l->idx.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(l->idx.v[i], i + 1);
    l = mp__strmap_get(&p->instances_by_base, "alpha");
    assert_int_equal(l->idx.n, 1);
    mp_pipeline_free(p);
}

static void test_declaration_order_of_values(void **state)
{
    (void)state;
    /* names keep declaration order of axes, not alphabetical */
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *t = fx_decl(p, "b", 1);
    fx_axis(p, t, 2, "z", "2", "1", NULL);
    fx_axis(p, t, 3, "a", "x", NULL);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    assert_non_null(mp_pipeline_find(p, "b[z=2,a=x]"));
    mp_module_decl *one = fx_decl(p, "one", 9);
    fx_axis(p, one, 9, "k", "v", NULL);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    /* one instance: the plain name finds it */
    assert_string_equal(mp_module_name(mp_pipeline_find(p, "one")), "one[k=v]");
    assert_non_null(mp_pipeline_find(p, "b[z=1,a=x]"));
    assert_null(mp_pipeline_find(p, "b[a=x,z=1]"));
    mp_pipeline_free(p);
}

static void test_unknown_matrix_key(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *t = fx_decl(p, "test", 1);
    fx_axis(p, t, 2, "os", "linux", "macos", NULL);
    fx_run(p, t, "echo ${{ matrix.oss }}", 3);
    fx_env(p, &t->proto.env, "A", "${{ matrix.arch }}", 4);
    mp_module_decl *b = fx_decl(p, "build", 10);
    fx_run(p, b, "echo ${{ matrix.os }}", 11);
    assert_int_equal(mp_pipeline_validate(p, NULL), MP_EINVALID);
    fx_dump(p);
    assert_int_equal(mp_pipeline_problem_count(p), 3);
    const mp_problem *pr = mp_pipeline_problem(p, 0);
    assert_string_equal(pr->message, "module \"test\" uses ${{ matrix.oss }} but has no matrix "
                                     "key \"oss\"; did you mean \"os\"?");
    assert_string_equal(pr->file, "t.yml");
    assert_int_equal(pr->line, 3);
    assert_string_equal(mp_pipeline_problem(p, 1)->message,
                        "module \"test\" uses ${{ matrix.arch }} but has no matrix key \"arch\"");
    assert_string_equal(mp_pipeline_problem(p, 2)->message,
                        "module \"build\" uses ${{ matrix.os }} but has no matrix");
    assert_null(mp_pipeline_hash(p));
    mp_pipeline_free(p);
}

static void test_bad_matrix(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *a = fx_decl(p, "a", 1);
    fx_axis(p, a, 2, "os", NULL); /* empty */
    mp_module_decl *b = fx_decl(p, "b", 10);
    fx_axis(p, b, 11, "os", "linux", "linux", NULL);
    mp_module_decl *c = fx_decl(p, "c", 20);
    fx_axis(p, c, 21, "o s", "x", NULL);
    mp_module_decl *d = fx_decl(p, "d", 30);
    fx_axis(p, d, 31, "v", "a,b", NULL);
    mp_module_decl *e = fx_decl(p, "e", 40);
    fx_axis(p, e, 41, "k1", "1", "2", "3", "4", "5", "6", "7", "8", NULL);
    fx_axis(p, e, 42, "k2", "1", "2", "3", "4", "5", "6", "7", "8", NULL);
    fx_axis(p, e, 43, "k3", "1", "2", "3", "4", "5", NULL); /* 320 > 256 */
    mp_module_decl *u = fx_decl(p, "user", 50);
    fx_dep(p, u, "a", 51); /* no second problem: "a" is known, just empty */
    assert_int_equal(mp_pipeline_validate(p, NULL), MP_EINVALID);
    fx_dump(p);
    assert_int_equal(mp_pipeline_problem_count(p), 5);
    assert_string_equal(mp_pipeline_problem(p, 0)->message,
                        "matrix of module \"a\": \"os\" has no values");
    assert_string_equal(mp_pipeline_problem(p, 1)->message,
                        "matrix of module \"b\": duplicate value \"linux\" for \"os\"");
    assert_true(strstr(mp_pipeline_problem(p, 2)->message, "matrix of module \"c\": invalid key"));
    assert_true(strstr(mp_pipeline_problem(p, 3)->message,
                       "matrix of module \"d\": invalid value \"a,b\""));
    assert_true(strstr(mp_pipeline_problem(p, 4)->message,
                       "matrix of module \"e\": too many combinations"));
    /* broken matrices expand to nothing */
    assert_int_equal(mp_pipeline_module_count(p), 1);
    mp_pipeline_free(p);
}

static void test_depends_on_sibling_instance(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *b = fx_decl(p, "build", 1);
    fx_axis(p, b, 2, "os", "linux", "macos", NULL);
    mp_module_decl *t = fx_decl(p, "test", 10);
    fx_axis(p, t, 11, "os", "linux", "macos", NULL);
    fx_dep(p, t, "build[os=${{ matrix.os }}]", 12);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    mp_module *tl = mp_pipeline_find(p, "test[os=linux]");
    mp_module *bl = mp_pipeline_find(p, "build[os=linux]");
    assert_int_equal(tl->deps.n, 1);
    assert_int_equal(tl->deps.v[0], bl->index);
    mp_pipeline_free(p);
}

static void test_no_matrix_copies_vectors(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module_decl *b = fx_decl(p, "build", 1);
    fx_env(p, &b->proto.env, "A", "1", 2);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    mp_module *m = mp_pipeline_find(p, "build");
    assert_ptr_not_equal(m, &b->proto);
    assert_ptr_not_equal(m->env.v, b->proto.env.v);
    /* a setter on the expanded module changes the declaration, not it */
    mp_module_set_env(m, "A", "2");
    assert_string_equal(m->env.v[0].value.s, "1");
    assert_string_equal(b->proto.env.v[0].value.s, "2");
    assert_null(mp_pipeline_hash(p));
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    assert_string_equal(mp_pipeline_find(p, "build")->env.v[0].value.s, "2");
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansion_names_order_and_substitution),
        cmocka_unit_test(test_declaration_order_of_values),
        cmocka_unit_test(test_unknown_matrix_key),
        cmocka_unit_test(test_bad_matrix),
        cmocka_unit_test(test_depends_on_sibling_instance),
        cmocka_unit_test(test_no_matrix_copies_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
