/*
 * test_cli_main.c -- mp_main() called by a program with its own pipeline
 * (what tests/cli/ cannot reach through the modpipe binary, whose
 * pipeline starts empty): modules added in code are used as they are when
 * no FILE is given and there is no ./modpipe.yml; a FILE or ./modpipe.yml
 * is loaded into the same pipeline; messages carry the program's name.
 *
 * Each test runs in a fresh temporary directory and captures stdout and
 * stderr of mp_main() in files.
 */
#include "modpipe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct captured {
    int rc;
    char out[8192];
    char err[8192];
} captured;

static void slurp(int fd, char *buf, size_t size)
{
    size_t n = 0;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    buf[n] = '\0';
}

/* mp_main(p, argv...) with stdout and stderr captured. */
static void run_main(captured *c, mp_pipeline *p, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, p);
    for (char *a; argc < 15 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    char out_path[] = "out.XXXXXX", err_path[] = "err.XXXXXX";
    int out = mkstemp(out_path), err = mkstemp(err_path);
    assert_true(out >= 0 && err >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    c->rc = mp_main(p, argc, argv);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    slurp(out, c->out, sizeof(c->out));
    slurp(err, c->err, sizeof(c->err));
    close(out);
    close(err);
    unlink(out_path);
    unlink(err_path);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char dir[64];
static char oldcwd[4096];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mp_cli_main.XXXXXX");
    if (!mkdtemp(dir) || !getcwd(oldcwd, sizeof(oldcwd)) || chdir(dir) < 0) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink("modpipe.yml");
    unlink("other.yml");
    if (chdir(oldcwd) < 0) return -1;
    return rmdir(dir);
}

static mp_pipeline *code_pipeline(void)
{
    mp_pipeline *p = mp_pipeline_new("release");
    mp_module *stamp = mp_pipeline_add_module(p, "stamp", "echo stamp", NULL);
    mp_module *sign = mp_pipeline_add_module(p, "sign", "echo sign", NULL);
    assert_non_null(stamp);
    assert_non_null(sign);
    mp_module_depends_on(sign, "stamp");
    mp_module_set_category(sign, "release");
    mp_module_add_tag(sign, "slow");
    return p;
}

static void test_code_pipeline_without_file(void **state)
{
    (void)state;
    mp_pipeline *p = code_pipeline();
    captured c;
    run_main(&c, p, "./release", "list", NULL);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.out, "Module  Category  Tags  Depends on\n"
                               "sign    release   slow  stamp\n"
                               "stamp   -         -     -\n");
    assert_string_equal(c.err, "");
    mp_pipeline_free(p);
}

static void test_code_pipeline_validate_names_it(void **state)
{
    (void)state;
    mp_pipeline *p = code_pipeline();
    captured c;
    run_main(&c, p, "release", "validate", NULL);
    assert_int_equal(c.rc, 0);
    assert_true(strncmp(c.out, "release: ok (2 modules, hash ", 29) == 0);
    assert_int_equal(strlen(c.out), 29 + 12 + 2);
    mp_pipeline_free(p);
}

static void test_default_file_is_loaded_into_code_pipeline(void **state)
{
    (void)state;
    write_file("modpipe.yml", "version: 1\n"
                              "modules:\n"
                              "  build:\n"
                              "    run: make\n"
                              "  stamp2:\n"
                              "    depends_on: [build, stamp]\n"
                              "    run: echo\n");
    mp_pipeline *p = code_pipeline();
    captured c;
    run_main(&c, p, "release", "list", NULL);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.out, "Module  Category  Tags  Depends on\n"
                               "build   -         -     -\n"
                               "sign    release   slow  stamp\n"
                               "stamp   -         -     -\n"
                               "stamp2  -         -     build, stamp\n");
    mp_pipeline_free(p);
}

static void test_named_file_is_loaded_into_code_pipeline(void **state)
{
    (void)state;
    write_file("other.yml", "version: 1\nmodules:\n  sign:\n    category: x\n    run: echo\n");
    mp_pipeline *p = code_pipeline();
    captured c;
    run_main(&c, p, "release", "validate", "other.yml", NULL);
    /* "sign" is declared in code with a run: the file may not redeclare it. */
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.out, "");
    assert_string_equal(c.err, "other.yml:3:3: duplicate module \"sign\" (first defined in code)\n"
                               "release: 1 problem in other.yml\n");
    mp_pipeline_free(p);
}

static int body(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 0;
}

static void test_file_completes_a_code_module(void **state)
{
    (void)state;
    /* A C body in code, its settings in the file (mp_pipeline_load_file). */
    write_file("modpipe.yml", "version: 1\n"
                              "modules:\n"
                              "  stamp:\n"
                              "    category: release\n"
                              "    tags: [fast]\n");
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_module *stamp = mp_pipeline_add_module(p, "stamp", NULL, NULL);
    mp_module_set_function(stamp, body, NULL);
    captured c;
    run_main(&c, p, "modpipe", "list", NULL);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.out, "Module  Category  Tags  Depends on\n"
                               "stamp   release   fast  -\n");
    mp_pipeline_free(p);
}

static void test_empty_pipeline_needs_a_file(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    captured c;
    run_main(&c, p, "/usr/local/bin/modpipe", "plan", NULL);
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.out, "");
    assert_string_equal(c.err, "modpipe: cannot read \"modpipe.yml\": No such file or directory\n");
    mp_pipeline_free(p);
}

static void test_null_pipeline_and_program_name(void **state)
{
    (void)state;
    captured c;
    run_main(&c, NULL, "/opt/bin/release", "--version", NULL);
    assert_int_equal(c.rc, 0);
    char want[64];
    snprintf(want, sizeof(want), "modpipe %s\n", mp_version());
    assert_string_equal(c.out, want);

    run_main(&c, NULL, "/opt/bin/release", "valdate", NULL);
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err,
                        "release: unknown command \"valdate\"; did you mean \"validate\"?\n");

    run_main(&c, NULL, "release", NULL);
    assert_int_equal(c.rc, 2);
    assert_true(strncmp(c.err, "usage: release <command> [FILE] [options]\n", 42) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_code_pipeline_without_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_pipeline_validate_names_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_file_is_loaded_into_code_pipeline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_named_file_is_loaded_into_code_pipeline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_completes_a_code_module, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_pipeline_needs_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_pipeline_and_program_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
