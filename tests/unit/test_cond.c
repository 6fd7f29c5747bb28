/*
 * test_cond.c -- conditions (src/core/cond): env/os/file evaluation, the
 * reasons shown to users, the watched {command: ...} check (success,
 * failure, deadline with its process group killed, a command that cannot
 * start), and the pipeline's requirements (src/core/requirements).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/cond.h"
#include "core/requirements.h"
#include "os/clock.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *env_fixture[] = {"SET=yes", "EMPTY=", "MODE=fast", NULL};

static void test_env(void **state)
{
    (void)state;
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "SET", NULL, NULL, env_fixture), 1);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "EMPTY", NULL, NULL, env_fixture), 0);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "UNSET", NULL, NULL, env_fixture), 0);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "SE", NULL, NULL, env_fixture), 0);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "MODE", "fast", NULL, env_fixture), 1);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "MODE", "slow", NULL, env_fixture), 0);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "EMPTY", "", NULL, env_fixture), 1);
    assert_int_equal(mp__cond_eval(MP_COND_ENV, "UNSET", "", NULL, env_fixture), 0);
}

static void test_os_file(void **state)
{
    (void)state;
    assert_int_equal(mp__cond_eval(MP_COND_OS, mp__cond_os_name(), NULL, NULL, NULL), 1);
    assert_int_equal(mp__cond_eval(MP_COND_OS, "windows", NULL, NULL, NULL), 0);
    assert_int_equal(mp__cond_eval(MP_COND_FILE, "/etc/passwd", NULL, "/nowhere", NULL), 1);
    assert_int_equal(mp__cond_eval(MP_COND_FILE, "passwd", NULL, "/etc", NULL), 1);
    assert_int_equal(mp__cond_eval(MP_COND_FILE, "no-such-file", NULL, "/etc", NULL), 0);
    assert_int_equal(mp__cond_eval(MP_COND_FILE, "", NULL, "/etc", NULL), 0);
    assert_int_equal(mp__cond_eval(MP_COND_COMMAND, "true", NULL, NULL, NULL), MP_EINVAL);
}

static void test_reasons(void **state)
{
    (void)state;
    mp_arena *a = mp__arena_new();
    assert_string_equal(mp__cond_reason(a, MP_COND_ENV, "SKIP_TESTS", NULL, 1, NULL),
                        "skip_if env \"SKIP_TESTS\" is set");
    assert_string_equal(mp__cond_reason(a, MP_COND_ENV, "REF", "main", 1, NULL),
                        "skip_if env \"REF\" equals \"main\"");
    assert_string_equal(mp__cond_reason(a, MP_COND_ENV, "REF", "main", 0, NULL),
                        "run_if env \"REF\" does not equal \"main\"");
    assert_string_equal(mp__cond_reason(a, MP_COND_ENV, "X", NULL, 0, NULL),
                        "run_if env \"X\" is not set");
    assert_string_equal(mp__cond_reason(a, MP_COND_OS, "macos", NULL, 0, "this is linux"),
                        "run_if os is not \"macos\" (this is linux)");
    assert_string_equal(mp__cond_reason(a, MP_COND_OS, "linux", NULL, 1, NULL),
                        "skip_if os is \"linux\"");
    assert_string_equal(mp__cond_reason(a, MP_COND_FILE, "a.txt", NULL, 1, NULL),
                        "skip_if file \"a.txt\" exists");
    assert_string_equal(mp__cond_reason(a, MP_COND_FILE, "a.txt", NULL, 0, NULL),
                        "run_if file \"a.txt\" does not exist");
    assert_string_equal(mp__cond_reason(a, MP_COND_COMMAND, "test -d x", NULL, 0, "exit code 1"),
                        "run_if command \"test -d x\" failed (exit code 1)");
    assert_string_equal(mp__cond_reason(a, MP_COND_COMMAND, "true", NULL, 1, NULL),
                        "skip_if command \"true\" succeeded");
    char longcmd[200];
    memset(longcmd, 'c', sizeof(longcmd) - 1);
    longcmd[sizeof(longcmd) - 1] = '\0';
    const char *r = mp__cond_reason(a, MP_COND_COMMAND, longcmd, NULL, 1, NULL);
    assert_true(strlen(r) < 120);
    assert_non_null(strstr(r, "...\" succeeded"));
    mp__arena_free(a);
}

static void test_command_run(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(mp__cmd_check_run("exit 0", "/", 5000, why, sizeof(why)), 1);
    assert_string_equal(why, "");
    assert_int_equal(mp__cmd_check_run("exit 3", "/", 5000, why, sizeof(why)), 0);
    assert_string_equal(why, "exit code 3");
    assert_int_equal(mp__cmd_check_run("test -d etc", "/", 5000, why, sizeof(why)), 1);
    /* Lots of output must not block it (read and dropped). */
    assert_int_equal(
        mp__cmd_check_run("head -c 3000000 /dev/zero; exit 0", "/", 10000, why, sizeof(why)), 1);
    /* A working directory that does not exist: false, says why. */
    assert_int_equal(mp__cmd_check_run("true", "/no/such/dir", 5000, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "cannot start"));
    assert_non_null(strstr(why, "/no/such/dir"));
}

/* Is pid a live process (not gone, not a zombie)? */
static int alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void test_command_timeout(void **state)
{
    (void)state;
    char pidfile[] = "/tmp/mp-cond-XXXXXX";
    int fd = mkstemp(pidfile);
    assert_true(fd >= 0);
    close(fd);
    char cmd[256];
    /* A background child and a foreground sleep: both must be gone after. */
    snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; sleep 30", pidfile);
    int64_t t0 = mp__clock_now_ms();
    char why[256];
    assert_int_equal(mp__cmd_check_run(cmd, "/", 300, why, sizeof(why)), 0);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 300);
    assert_true(took < 5000);
    assert_string_equal(why, "timed out after 300 ms");
    FILE *f = fopen(pidfile, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    unlink(pidfile);
    assert_true(pid > 0);
    assert_false(alive(pid));
}

static void test_command_async(void **state)
{
    (void)state;
    mp_cmd_check c;
    mp__cmd_check_start(&c, "sleep 0.2; exit 1", "/", NULL, 5000);
    assert_false(c.done);
    struct pollfd pfd[2];
    assert_true(mp__cmd_check_fds(&c, pfd) >= 1);
    int steps = 0;
    while (!mp__cmd_check_step(&c)) {
        size_t n = mp__cmd_check_fds(&c, pfd);
        poll(pfd, n, mp__deadline_poll_ms(mp__cmd_check_deadline(&c)));
        steps++;
    }
    assert_true(steps < 20); /* woken by the process, not by polling */
    assert_false(c.ok);
    assert_string_equal(c.why, "exit code 1");
    assert_int_equal(mp__cmd_check_fds(&c, pfd), 0);
    mp__cmd_check_release(&c);
    mp__cmd_check_release(&c); /* twice is harmless */
}

static mp_pipeline *load(const char *yaml)
{
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    int rc = mp_pipeline_load_string(p, yaml, strlen(yaml), "req.yml", &err);
    if (rc == 0) rc = mp_pipeline_validate(p, &err);
    if (rc != 0) fail_msg("load: %s", err.message);
    return p;
}

static void test_requirements(void **state)
{
    (void)state;
    char *envv[] = {"HAVE=1", NULL};
    mp_pipeline *p = load("version: 1\n"
                          "requirements:\n"
                          "  - env: HAVE\n"
                          "  - file: etc/passwd\n"
                          "  - command: \"exit 0\"\n"
                          "modules:\n"
                          "  a: {run: \"true\"}\n");
    mp_error err = {0};
    assert_int_equal(mp__requirements_check(p, "/", envv, &err), 0);
    mp_pipeline_free(p);

    p = load("version: 1\n"
             "requirements:\n"
             "  - env: HAVE\n"
             "  - env: MISSING_TOKEN\n"
             "  - file: no/such/file\n"
             "  - command: \"exit 4\"\n"
             "modules:\n"
             "  a: {run: \"true\"}\n");
    assert_int_equal(mp__requirements_check(p, "/", envv, &err), MP_EINVALID);
    assert_int_equal(err.code, MP_EINVALID);
    assert_string_equal(err.message, "requirement not met: env \"MISSING_TOKEN\" is not set; "
                                     "file \"no/such/file\" does not exist; "
                                     "command \"exit 4\" failed (exit code 4)");
    assert_string_equal(err.where, "req.yml:4:5");
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_os_file),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_command_run),
        cmocka_unit_test(test_command_timeout),
        cmocka_unit_test(test_command_async),
        cmocka_unit_test(test_requirements),
    };
    mp__process_become_subreaper(NULL); /* as modpipe does */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
