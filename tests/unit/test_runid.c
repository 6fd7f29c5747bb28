/*
 * test_runid.c -- the run-id resolver (dist/runid.h): precedence flag >
 * MODPIPE_RUN_ID > CI variables in DESIGN §3.2's order > error, empty
 * variables as unset, character and length checks, CI sanitising.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dist/runid.h"

#include <string.h>

/* A fake environment: "NAME=value" strings, NULL-terminated. */
static const char *fake_env(const char *name, void *data)
{
    const char *const *e = data;
    size_t n = strlen(name);
    for (; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static const char *resolve(const char *flag, const char *const *env, const char **source)
{
    static char out[MP_RUN_ID_MAX + 1];
    mp_error err = {0};
    int rc = mp__runid_resolve(flag, fake_env, (void *)env, out, source, &err);
    if (rc) print_error("resolve: %s\n", err.message);
    assert_int_equal(rc, 0);
    return out;
}

static const char *const ALL[] = {
    "MODPIPE_RUN_ID=mine",     "GITHUB_RUN_ID=42",       "GITHUB_RUN_ATTEMPT=3",
    "CI_PIPELINE_ID=gl7",      "BUILD_BUILDID=az8",      "BUILDKITE_BUILD_ID=bk9",
    "CIRCLE_WORKFLOW_ID=cc10", "BUILD_TAG=jenkins-x-11", NULL};

static void test_precedence(void **state)
{
    (void)state;
    const char *src = NULL;
    assert_string_equal(resolve("flag-1", ALL, &src), "flag-1");
    assert_string_equal(src, "--run-id");
    assert_string_equal(resolve(NULL, ALL, &src), "mine");
    assert_string_equal(src, "MODPIPE_RUN_ID");
    /* Drop the first variable each round: the next in order wins. */
    const char *want[] = {"42-3", "gl7", "az8", "bk9", "cc10", "jenkins-x-11"};
    const char *const *env = ALL + 1;
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(resolve(NULL, env, NULL), want[i]);
        env += i == 0 ? 2 : 1; /* GitHub is two variables */
    }
}

static void test_github_and_empty(void **state)
{
    (void)state;
    const char *gh1[] = {"GITHUB_RUN_ID=77", NULL};
    assert_string_equal(resolve(NULL, gh1, NULL), "77-1");
    const char *empty[] = {"MODPIPE_RUN_ID=", "CI_PIPELINE_ID=", "BUILD_TAG=j-1", NULL};
    const char *src = NULL;
    assert_string_equal(resolve(NULL, empty, &src), "j-1");
    assert_non_null(strstr(src, "Jenkins"));
}

static void test_none_is_an_error(void **state)
{
    (void)state;
    const char *none[] = {"HOME=/root", "GIT_COMMIT=abcdef", NULL};
    char out[MP_RUN_ID_MAX + 1];
    mp_error err = {0};
    assert_int_equal(mp__runid_resolve(NULL, fake_env, (void *)none, out, NULL, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "--run-id"));
    assert_non_null(strstr(err.message, "MODPIPE_RUN_ID"));
}

static void test_checks(void **state)
{
    (void)state;
    char out[MP_RUN_ID_MAX + 1];
    mp_error err = {0};
    const char *none[] = {NULL};
    assert_int_equal(mp__runid_check("a.b:c@d+e=f-g_9", NULL), 0);
    const char *bad[] = {"", "has space", "brace{x}", "new\nline", "slash/x", "q\"uote"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mp__runid_check(bad[i], NULL), MP_EINVAL);
        if (*bad[i]) {
            assert_int_equal(mp__runid_resolve(bad[i], fake_env, (void *)none, out, NULL, &err),
                             MP_EUSAGE);
            assert_non_null(strstr(err.message, "--run-id"));
        }
    }
    char long_id[MP_RUN_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[MP_RUN_ID_MAX + 1] = '\0';
    assert_int_equal(mp__runid_check(long_id, NULL), MP_EINVAL);
    long_id[MP_RUN_ID_MAX] = '\0';
    assert_int_equal(mp__runid_check(long_id, NULL), 0);
    /* CI values are sanitised the same way on every instance. */
    const char *jenkins[] = {"BUILD_TAG=jenkins-my job/x-12", NULL};
    assert_string_equal(resolve(NULL, jenkins, NULL), "jenkins-my_job_x-12");
    /* An explicit MODPIPE_RUN_ID is not sanitised: refused. */
    const char *env_bad[] = {"MODPIPE_RUN_ID=a b", NULL};
    assert_int_equal(mp__runid_resolve(NULL, fake_env, (void *)env_bad, out, NULL, &err),
                     MP_EUSAGE);
    assert_non_null(strstr(err.message, "MODPIPE_RUN_ID"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_github_and_empty),
        cmocka_unit_test(test_none_is_an_error),
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
