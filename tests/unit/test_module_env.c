/*
 * test_module_env.c -- what a module process is given (src/core/module_env):
 * the environment layers and their order, MODPIPE_* variables,
 * MODPIPE_DEP_* names, secrets (withheld unless declared, missing ones an
 * error), expression substitution and the working directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/module_env.h"
#include "core/outputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char yaml[] =
    "version: 1\n"
    "env: {GLOBAL: g, SHARED: from-pipeline, RID: \"${{ run.id }}\"}\n"
    "secrets: [TOKEN, OTHER_SECRET]\n"
    "modules:\n"
    "  build:\n"
    "    run: make\n"
    "  test:\n"
    "    matrix: {os: [linux, macos]}\n"
    "    run: \"true\"\n"
    "  publish:\n"
    "    depends_on: [build, \"test[os=linux]\"]\n"
    "    secrets: [TOKEN]\n"
    "    env: {SHARED: from-module, VER: \"v${{ modules.build.outputs.version }}\"}\n"
    "    working_dir: \"out/${{ modules.build.outputs.dir }}\"\n"
    "    run: \"echo ${{ modules.build.outputs.version }} ${{ modules.build.status }} "
    "${{ modules.test[os=linux].status }} ${{ instance.index }} ${{ run.id }} "
    "${{ modules.build.outputs.nothing }}|$${{ literal }}\"\n";

typedef struct fx {
    mp_pipeline *p;
    mp_arena *a;
    mp_result *results;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->p = mp_pipeline_new(NULL);
    mp_error err = {0};
    int rc = mp_pipeline_load_string(f->p, yaml, sizeof(yaml) - 1, "env.yml", &err);
    if (rc == 0) rc = mp_pipeline_validate(f->p, &err);
    for (size_t i = 0; i < mp_pipeline_problem_count(f->p); i++)
        fprintf(stderr, "%s\n", mp_pipeline_problem(f->p, i)->message);
    assert_int_equal(rc, 0);
    f->a = mp__arena_new();
    size_t n = f->p->modules.n;
    f->results = calloc(n, sizeof(mp_result));
    for (size_t i = 0; i < n; i++)
        mp__result_init(&f->results[i]);
    mp_module *b = mp_pipeline_find(f->p, "build");
    f->results[b->index].status = MP_STATUS_SUCCEEDED;
    mp__outputs_set(f->a, &f->results[b->index].outputs, "version", 7, "1.2.3", 5);
    mp__outputs_set(f->a, &f->results[b->index].outputs, "dir", 3, "bin", 3);
    mp__outputs_set(f->a, &f->results[b->index].outputs, "multi-word.key", 14, "x", 1);
    mp_module *t = mp_pipeline_find(f->p, "test[os=linux]");
    f->results[t->index].status = MP_STATUS_IGNORED_FAILURE;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->results);
    mp__arena_free(f->a);
    mp_pipeline_free(f->p);
    free(f);
    return 0;
}

static char *environ_fx[] = {"PATH=/usr/bin:/bin",
                             "SHARED=from-environ",
                             "TOKEN=s3cr3t-token",
                             "OTHER_SECRET=other-value",
                             "MODPIPE_DEP_OLD_KEY=stale",
                             "MODPIPE_OUTPUT=/outer/output",
                             "NOEQUALS",
                             NULL};

static mp_module_env env_for(fx *f, const char *module)
{
    return (mp_module_env){.p = f->p,
                           .m = mp_pipeline_find(f->p, module),
                           .results = f->results,
                           .run_id = "run-42",
                           .instance_index = 3,
                           .attempt = 2,
                           .workspace = "/ws",
                           .output_path = "/state/outputs/publish.2",
                           .environ = environ_fx};
}

static const char *get(const char **envp, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    int count = 0;
    for (; *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=') {
            found = *envp + n + 1;
            count++;
        }
    assert_true(count <= 1); /* never two entries for one name */
    return found;
}

static void test_environment(void **state)
{
    fx *f = *state;
    mp_module_env e = env_for(f, "publish");
    const char **envp = NULL;
    mp_error err = {0};
    assert_int_equal(mp__module_env_build(f->a, &e, &envp, &err), 0);
    assert_string_equal(get(envp, "PATH"), "/usr/bin:/bin");
    assert_string_equal(get(envp, "GLOBAL"), "g");
    assert_string_equal(get(envp, "SHARED"), "from-module"); /* module > pipeline > environ */
    assert_string_equal(get(envp, "RID"), "run-42");
    assert_string_equal(get(envp, "VER"), "v1.2.3");
    assert_string_equal(get(envp, "MODPIPE_MODULE"), "publish");
    assert_string_equal(get(envp, "MODPIPE_OUTPUT"), "/state/outputs/publish.2");
    assert_string_equal(get(envp, "MODPIPE_RUN_ID"), "run-42");
    assert_string_equal(get(envp, "MODPIPE_INSTANCE_INDEX"), "3");
    assert_string_equal(get(envp, "MODPIPE_ATTEMPT"), "2");
    assert_string_equal(get(envp, "MODPIPE_WORKSPACE"), "/ws");
    assert_string_equal(get(envp, "MODPIPE_DEP_BUILD_VERSION"), "1.2.3");
    assert_string_equal(get(envp, "MODPIPE_DEP_BUILD_DIR"), "bin");
    assert_string_equal(get(envp, "MODPIPE_DEP_BUILD_MULTI_WORD_KEY"), "x");
    assert_null(get(envp, "MODPIPE_DEP_OLD_KEY"));           /* inherited ones dropped */
    assert_string_equal(get(envp, "TOKEN"), "s3cr3t-token"); /* declared */
    assert_null(get(envp, "OTHER_SECRET"));                  /* withheld */
    assert_null(get(envp, "NOEQUALS"));
}

static void test_undeclared_secrets_withheld(void **state)
{
    fx *f = *state;
    mp_module_env e = env_for(f, "build");
    const char **envp = NULL;
    assert_int_equal(mp__module_env_build(f->a, &e, &envp, NULL), 0);
    assert_null(get(envp, "TOKEN"));
    assert_null(get(envp, "OTHER_SECRET"));
    assert_string_equal(get(envp, "SHARED"), "from-pipeline");
    assert_null(get(envp, "VER"));
}

static void test_missing_secret(void **state)
{
    fx *f = *state;
    char *bare[] = {"PATH=/bin", "TOKEN=", NULL};
    mp_module_env e = env_for(f, "publish");
    e.environ = bare;
    const char **envp = NULL;
    mp_error err = {0};
    assert_int_equal(mp__module_env_build(f->a, &e, &envp, &err), MP_ENOENT);
    assert_string_equal(err.message,
                        "secret \"TOKEN\" of module \"publish\" is not set in the environment");
}

static void test_substitution(void **state)
{
    fx *f = *state;
    mp_module_env e = env_for(f, "publish");
    const mp_module *m = e.m;
    assert_string_equal(mp__module_subst(f->a, &e, m->run.s),
                        "echo 1.2.3 succeeded ignored_failure 3 run-42 |${{ literal }}");
    assert_null(mp__module_subst(f->a, &e, NULL));
    /* A module that is not there stays as written. */
    assert_string_equal(mp__module_subst(f->a, &e, "${{ modules.nope.status }}"),
                        "${{ modules.nope.status }}");
    e.run_id = NULL;
    assert_string_equal(mp__module_subst(f->a, &e, "[${{ run.id }}]"), "[]");
}

static void test_matrix_value(void **state)
{
    fx *f = *state;
    mp_module_env e = env_for(f, "test[os=macos]");
    assert_string_equal(mp__module_subst(f->a, &e, "os=${{ matrix.os }}"), "os=macos");
    assert_string_equal(mp__module_subst(f->a, &e, "${{ matrix.none }}"), "${{ matrix.none }}");
}

static void test_workdir(void **state)
{
    fx *f = *state;
    mp_module_env e = env_for(f, "publish");
    assert_string_equal(mp__module_workdir(f->a, &e), "/ws/out/bin");
    e = env_for(f, "build");
    assert_string_equal(mp__module_workdir(f->a, &e), "/ws");
}

/* The same environment through a base made once (as the engine does) as
 * without one, for every module; one base serves modules one after
 * another. */
static void test_shared_base(void **state)
{
    fx *f = *state;
    mp_module_env be = env_for(f, "build");
    mp_env_base *base = mp__env_base_new(f->a, &be);
    const char *mods[] = {"build", "publish", "test[os=linux]", "publish", "build"};
    for (size_t k = 0; k < sizeof(mods) / sizeof(mods[0]); k++) {
        mp_module_env e = env_for(f, mods[k]);
        const char **plain = NULL, **based = NULL;
        assert_int_equal(mp__module_env_build(f->a, &e, &plain, NULL), 0);
        e.base = base;
        assert_int_equal(mp__module_env_build(f->a, &e, &based, NULL), 0);
        size_t np = 0, nb = 0;
        while (plain[np])
            np++;
        while (based[nb])
            nb++;
        assert_int_equal(np, nb);
        for (size_t i = 0; i < np; i++) {
            const char *eq = strchr(plain[i], '=');
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(eq - plain[i]), plain[i]);
            assert_string_equal(get(based, name), eq + 1);
        }
    }
    mp__env_base_release(base);
}

/* A module's env cannot replace the MODPIPE_* variables; many dependency
 * outputs (past the linear search of a module's own names) each get one
 * entry, the last value of a repeated name winning. */
static void test_own_variables(void **state)
{
    (void)state;
    static const char y[] = "version: 1\n"
                            "modules:\n"
                            "  dep: {run: \"true\"}\n"
                            "  m:\n"
                            "    depends_on: [dep]\n"
                            "    env: {MODPIPE_MODULE: nope, MODPIPE_RUN_ID: nope, PATH: /x}\n"
                            "    run: \"true\"\n";
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    assert_int_equal(mp_pipeline_load_string(p, y, sizeof(y) - 1, "own.yml", &err), 0);
    assert_int_equal(mp_pipeline_validate(p, &err), 0);
    mp_arena *a = mp__arena_new();
    mp_result *res = calloc(p->modules.n, sizeof(mp_result));
    for (size_t i = 0; i < p->modules.n; i++)
        mp__result_init(&res[i]);
    mp_result *d = &res[mp_pipeline_find(p, "dep")->index];
    d->status = MP_STATUS_SUCCEEDED;
    for (int k = 0; k < 40; k++) {
        char key[16], val[16];
        snprintf(key, sizeof(key), "k%d", k);
        snprintf(val, sizeof(val), "v%d", k);
        mp__outputs_set(a, &d->outputs, key, strlen(key), val, strlen(val));
    }
    /* "a-b" and "a_b" are one variable name: the later output wins. */
    mp__outputs_set(a, &d->outputs, "a-b", 3, "first", 5);
    mp__outputs_set(a, &d->outputs, "a_b", 3, "second", 6);
    mp_module_env e = {.p = p,
                       .m = mp_pipeline_find(p, "m"),
                       .results = res,
                       .run_id = "r1",
                       .attempt = 1,
                       .workspace = "/ws",
                       .output_path = "/o",
                       .environ = environ_fx};
    mp_env_base *base = mp__env_base_new(a, &e);
    e.base = base;
    const char **envp = NULL;
    assert_int_equal(mp__module_env_build(a, &e, &envp, NULL), 0);
    assert_string_equal(get(envp, "MODPIPE_MODULE"), "m");
    assert_string_equal(get(envp, "MODPIPE_RUN_ID"), "r1");
    assert_string_equal(get(envp, "PATH"), "/x");
    assert_string_equal(get(envp, "MODPIPE_DEP_DEP_K0"), "v0");
    assert_string_equal(get(envp, "MODPIPE_DEP_DEP_K39"), "v39");
    assert_string_equal(get(envp, "MODPIPE_DEP_DEP_A_B"), "second");
    assert_null(get(envp, "MODPIPE_DEP_OLD_KEY"));
    mp__env_base_release(base);
    free(res);
    mp__arena_free(a);
    mp_pipeline_free(p);
}

static void test_name_part(void **state)
{
    fx *f = *state;
    assert_string_equal(mp__env_name_part(f->a, "test[os=linux,arch=x86_64]"),
                        "TEST_OS_LINUX_ARCH_X86_64_");
    assert_string_equal(mp__env_name_part(f->a, "my-mod.v2"), "MY_MOD_V2");
    assert_string_equal(mp__env_name_part(f->a, "caf\xc3\xa9"), "CAF__");
    assert_string_equal(mp__environ_get(environ_fx, "TOKEN"), "s3cr3t-token");
    assert_null(mp__environ_get(environ_fx, "TOK"));
    assert_null(mp__environ_get(NULL, "TOKEN"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undeclared_secrets_withheld, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_substitution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matrix_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workdir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_base, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_variables, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
