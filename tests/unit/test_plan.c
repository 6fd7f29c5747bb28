/* test_plan.c -- filters, skip reasons and waves (core/plan.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/plan.h"
#include "core_fixture.h"

/*
 *   restore <- build <- test[os=linux|macos] <- publish <- cleanup(always_run)
 *   lint (category check), docs (category docs) after build
 */
static mp_pipeline *sample(void)
{
    mp_pipeline *p = mp_pipeline_new("plan");
    fx_decl(p, "restore", 1);
    mp_module_decl *b = fx_decl(p, "build", 10);
    fx_dep(p, b, "restore", 11);
    b->proto.category = fx_str(p, "build", 12);
    mp_module_decl *t = fx_decl(p, "test", 20);
    fx_axis(p, t, 21, "os", "linux", "macos", NULL);
    fx_dep(p, t, "build", 22);
    t->proto.category = fx_str(p, "test", 23);
    mp_module_decl *pub = fx_decl(p, "publish", 30);
    fx_dep(p, pub, "test", 31);
    mp_module_decl *c = fx_decl(p, "cleanup", 40);
    fx_dep(p, c, "publish", 41);
    c->proto.always_run = true;
    mp_module_decl *l = fx_decl(p, "lint", 50);
    l->proto.category = fx_str(p, "check", 51);
    mp_module_decl *d = fx_decl(p, "docs", 60);
    fx_after(p, d, "build", 61);
    d->proto.category = fx_str(p, "docs", 62);
    if (mp_pipeline_validate(p, NULL) < 0) {
        fx_dump(p);
        fail_msg("sample pipeline invalid");
    }
    return p;
}

static const mp_plan_entry *entry(mp_pipeline *p, const mp_plan *plan, const char *name)
{
    mp_module *m = mp_pipeline_find(p, name);
    if (!m) fail_msg("no module %s", name);
    return &plan->entries[m->index];
}

static void test_no_filters_waves(void **state)
{
    (void)state;
    mp_pipeline *p = sample();
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), 0);
    assert_int_equal(plan.n, 8);
    assert_int_equal(plan.waves, 5);
    assert_int_equal(entry(p, &plan, "restore")->wave, 0);
    assert_int_equal(entry(p, &plan, "lint")->wave, 0);
    assert_int_equal(entry(p, &plan, "build")->wave, 1);
    assert_int_equal(entry(p, &plan, "docs")->wave, 2); /* after counts */
    assert_int_equal(entry(p, &plan, "test[os=linux]")->wave, 2);
    assert_int_equal(entry(p, &plan, "publish")->wave, 3);
    assert_int_equal(entry(p, &plan, "cleanup")->wave, 4);
    for (size_t i = 0; i < plan.n; i++)
        assert_int_equal(plan.entries[i].state, MP_PLAN_RUN);
    /* order: by wave, then name */
    const char *want[] = {"lint",           "restore",        "build",   "docs",
                          "test[os=linux]", "test[os=macos]", "publish", "cleanup"};
    for (size_t i = 0; i < plan.n; i++)
        assert_string_equal(p->modules.v[plan.order[i]]->name, want[i]);
    mp__plan_release(&plan);
    mp_pipeline_free(p);
}

static void test_module_filter(void **state)
{
    (void)state;
    mp_pipeline *p = sample();
    mp_plan plan;
    const char *mods[] = {"test[os=macos]", NULL};
    mp_filters f = {.modules = mods};
    assert_int_equal(mp__plan_build(p, &f, &plan, NULL), 0);
    assert_int_equal(entry(p, &plan, "test[os=macos]")->state, MP_PLAN_RUN);
    assert_int_equal(entry(p, &plan, "build")->state, MP_PLAN_RUN);
    assert_int_equal(entry(p, &plan, "restore")->state, MP_PLAN_RUN);
    assert_int_equal(entry(p, &plan, "test[os=linux]")->state, MP_PLAN_EXCLUDED);
    assert_string_equal(entry(p, &plan, "publish")->reason, "not selected by --module");
    assert_int_equal(entry(p, &plan, "lint")->state, MP_PLAN_EXCLUDED);
    assert_int_equal(entry(p, &plan, "docs")->state, MP_PLAN_EXCLUDED);
    assert_int_equal(plan.waves, 3);
    assert_int_equal(entry(p, &plan, "test[os=macos]")->wave, 2);
    mp__plan_release(&plan);

    const char *bad[] = {"biuld", NULL};
    f.modules = bad;
    mp_error err = {0};
    assert_int_equal(mp__plan_build(p, &f, &plan, &err), MP_EUSAGE);
    assert_string_equal(err.message, "--module: unknown module \"biuld\"; did you mean \"build\"?");
    mp_pipeline_free(p);
}

static void test_skip_module_cascades(void **state)
{
    (void)state;
    mp_pipeline *p = sample();
    mp_plan plan;
    const char *skip[] = {"build", NULL};
    mp_filters f = {.skip_modules = skip};
    assert_int_equal(mp__plan_build(p, &f, &plan, NULL), 0);
    assert_int_equal(entry(p, &plan, "restore")->state, MP_PLAN_RUN);
    assert_int_equal(entry(p, &plan, "build")->state, MP_PLAN_SKIP);
    assert_string_equal(entry(p, &plan, "build")->reason, "skipped by --skip-module");
    assert_string_equal(entry(p, &plan, "test[os=linux]")->reason,
                        "dependency \"build\" is skipped");
    assert_string_equal(entry(p, &plan, "publish")->reason,
                        "dependency \"test[os=linux]\" is skipped");
    /* always_run does not beat an explicit filter */
    assert_int_equal(entry(p, &plan, "cleanup")->state, MP_PLAN_SKIP);
    assert_string_equal(entry(p, &plan, "cleanup")->reason, "dependency \"publish\" is skipped");
    /* after is not a required dependency: docs still runs, in wave 0 now */
    assert_int_equal(entry(p, &plan, "docs")->state, MP_PLAN_RUN);
    assert_int_equal(entry(p, &plan, "docs")->wave, 0);
    assert_int_equal(plan.waves, 1);
    mp__plan_release(&plan);

    const char *bad[] = {"test[os=linx]", NULL};
    f.skip_modules = bad;
    mp_error err = {0};
    assert_int_equal(mp__plan_build(p, &f, &plan, &err), MP_EUSAGE);
    assert_string_equal(err.message,
                        "--skip-module: unknown module \"test[os=linx]\"; did you mean "
                        "\"test[os=linux]\"?");
    mp_pipeline_free(p);
}

static void test_categories(void **state)
{
    (void)state;
    mp_pipeline *p = sample();
    mp_plan plan;
    const char *cats[] = {"test", NULL};
    mp_filters f = {.categories = cats};
    assert_int_equal(mp__plan_build(p, &f, &plan, NULL), 0);
    assert_int_equal(entry(p, &plan, "test[os=linux]")->state, MP_PLAN_RUN);
    assert_int_equal(entry(p, &plan, "build")->state, MP_PLAN_SKIP);
    assert_string_equal(entry(p, &plan, "build")->reason, "not in category \"test\"");
    assert_string_equal(entry(p, &plan, "restore")->reason, "not in category \"test\"");
    assert_int_equal(entry(p, &plan, "cleanup")->state, MP_PLAN_SKIP); /* always_run too */
    /* no cascade from category skips; the tests are now wave 0 */
    assert_int_equal(entry(p, &plan, "test[os=linux]")->wave, 0);
    assert_int_equal(plan.waves, 1);
    mp__plan_release(&plan);

    const char *two[] = {"test", "docs", NULL};
    f.categories = two;
    assert_int_equal(mp__plan_build(p, &f, &plan, NULL), 0);
    assert_int_equal(entry(p, &plan, "docs")->state, MP_PLAN_RUN);
    assert_string_equal(entry(p, &plan, "lint")->reason, "not in categories \"test\", \"docs\"");
    mp__plan_release(&plan);

    const char *ign[] = {"check", NULL};
    mp_filters g = {.ignore_categories = ign};
    assert_int_equal(mp__plan_build(p, &g, &plan, NULL), 0);
    assert_string_equal(entry(p, &plan, "lint")->reason, "category \"check\" is ignored");
    assert_int_equal(entry(p, &plan, "build")->state, MP_PLAN_RUN);
    mp__plan_release(&plan);

    const char *none[] = {"tset", NULL};
    f.categories = none;
    mp_error err = {0};
    assert_int_equal(mp__plan_build(p, &f, &plan, &err), MP_EUSAGE);
    assert_string_equal(err.message,
                        "--category: no module is in category \"tset\"; did you mean \"test\"?");
    g.ignore_categories = none;
    assert_int_equal(mp__plan_build(p, &g, &plan, &err), MP_EUSAGE);
    mp_pipeline_free(p);
}

static void test_needs_validation(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    fx_decl(p, "a", 1);
    mp_plan plan;
    assert_int_equal(mp__plan_build(p, NULL, &plan, NULL), MP_ESTATE);
    mp__plan_release(&plan); /* nothing to release, still safe */
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_filters_waves),     cmocka_unit_test(test_module_filter),
        cmocka_unit_test(test_skip_module_cascades), cmocka_unit_test(test_categories),
        cmocka_unit_test(test_needs_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
