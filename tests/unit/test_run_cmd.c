/*
 * test_run_cmd.c -- the parts of `modpipe run` the end-to-end scripts
 * (tests/cli/run_*.sh) cannot reach through the binary: option resolution
 * against a given environment (run_opts.h), the signal watch
 * (os/signals.h: a signal becomes a readable fd and the mask is restored
 * afterwards), and mp_main(p, "run") over C-function modules added in code.
 */
#include "cli/args.h"
#include "cli/run_opts.h"
#include "core/model.h"
#include "os/signals.h"
#include "modpipe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The run command's options, as in cmd_run.c (only names and kinds matter). */
static const mp_opt_spec specs[] = {
    {"parallelism", 'j', MP_OPT_VALUE, "N", ""},
    {"module", 0, MP_OPT_LIST, "A,B", ""},
    {"skip-module", 0, MP_OPT_LIST, "A,B", ""},
    {"category", 0, MP_OPT_LIST, "X,Y", ""},
    {"ignore-category", 0, MP_OPT_LIST, "X,Y", ""},
    {"on-failure", 0, MP_OPT_VALUE, "stop|continue", ""},
    {"report", 0, MP_OPT_VALUE, "FILE", ""},
    {"artifacts", 0, MP_OPT_VALUE, "URL", ""},
    {"progress", 0, MP_OPT_VALUE, "auto|always|never", ""},
    {"output", 0, MP_OPT_VALUE, "grouped|stream", ""},
    {"instances", 0, MP_OPT_VALUE, "N", ""},
    {"instance-index", 0, MP_OPT_VALUE, "I", ""},
    {"coordinator", 0, MP_OPT_VALUE, "URL", ""},
    {"run-id", 0, MP_OPT_VALUE, "ID", ""},
    {"capability", 0, MP_OPT_LIST, "K=V", ""},
    {"local-instances", 0, MP_OPT_VALUE, "N", ""},
    {"verbose", 'v', MP_OPT_FLAG, NULL, ""},
    {"quiet", 'q', MP_OPT_FLAG, NULL, ""},
    {0},
};

/* Resolve argv (NULL-terminated) against env; returns the code. */
static int resolve(char **argv, char **env, mp_run_opts *o, mp_arena *arena, mp_error *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    mp_args a;
    int rc = mp__args_parse(&a, specs, argc, argv, err);
    if (rc == 0) rc = mp__run_opts_resolve(&a, env, 1700000000123, 4242, arena, o, err);
    /* Values point into argv or the arena; the args arena may go. */
    if (rc == 0) memset(&o->filters, 0, sizeof(o->filters));
    mp__args_release(&a);
    return rc;
}

static void test_parse_parallelism(void **state)
{
    (void)state;
    int v = 0;
    assert_int_equal(mp__run_parse_parallelism("1", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(mp__run_parse_parallelism("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(mp__run_parse_parallelism("007", &v), 0);
    assert_int_equal(v, 7);
    const char *bad[] = {"0",    "-1", "", "4x", " 4", "4 ", "+4", "4097", "99999999999999999999",
                         "0x10", "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mp__run_parse_parallelism(bad[i], &v), MP_EUSAGE);
    assert_int_equal(mp__run_parse_parallelism(NULL, &v), MP_EUSAGE);
}

static void test_run_id_valid(void **state)
{
    (void)state;
    assert_true(mp__run_id_valid("1234-1"));
    assert_true(mp__run_id_valid("local-20231114T221320Z-42"));
    assert_true(mp__run_id_valid("jenkins-job:7@host+x=y.z_w"));
    assert_false(mp__run_id_valid(""));
    assert_false(mp__run_id_valid(NULL));
    assert_false(mp__run_id_valid("a b"));
    assert_false(mp__run_id_valid("a{b}"));
    assert_false(mp__run_id_valid("a/b"));
    char longid[MP_RUN_MAX_RUN_ID + 2];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[MP_RUN_MAX_RUN_ID] = '\0';
    assert_true(mp__run_id_valid(longid));
    longid[MP_RUN_MAX_RUN_ID] = 'a';
    longid[MP_RUN_MAX_RUN_ID + 1] = '\0';
    assert_false(mp__run_id_valid(longid));
}

static void test_resolve_defaults(void **state)
{
    (void)state;
    mp_arena *arena = mp__arena_new();
    mp_run_opts o;
    mp_error err = {0};
    char *argv[] = {NULL};
    char *env[] = {NULL};
    assert_int_equal(resolve(argv, env, &o, arena, &err), 0);
    assert_int_equal(o.parallelism, 0); /* left to the pipeline */
    assert_null(o.report);
    assert_int_equal(o.progress, MP_PROGRESS_AUTO);
    assert_int_equal(o.output, MP_OUTPUT_GROUPED);
    assert_int_equal(o.log_level, MP_LOG_INFO);
    assert_true(o.run_id_generated);
    /* 1700000000123 ms = 2023-11-14 22:13:20 UTC. */
    assert_string_equal(o.run_id, "local-20231114T221320Z-4242");

    mp_pipeline *p = mp_pipeline_new("x");
    p->options.parallelism = 6;
    p->options.on_failure = MP_ON_FAILURE_CONTINUE;
    mp__run_opts_finish(&o, p);
    assert_int_equal(o.parallelism, 6);
    assert_string_equal(o.parallelism_from, "options.parallelism");
    assert_int_equal(o.on_failure, MP_ON_FAILURE_CONTINUE);
    p->options.parallelism = 0;
    o.parallelism = 0;
    mp__run_opts_finish(&o, p);
    assert_true(o.parallelism >= 1);
    assert_string_equal(o.parallelism_from, "CPUs");
    mp_pipeline_free(p);
    mp__arena_free(arena);
}

static void test_resolve_precedence(void **state)
{
    (void)state;
    mp_arena *arena = mp__arena_new();
    mp_run_opts o;
    mp_error err = {0};
    char *env[] = {"MODPIPE_PARALLELISM=3", "MODPIPE_REPORT=env.json", "MODPIPE_RUN_ID=ci-9",
                   "MODPIPE_ARTIFACTS=file:///env/store", NULL};
    char *argv1[] = {NULL};
    assert_int_equal(resolve(argv1, env, &o, arena, &err), 0);
    assert_int_equal(o.parallelism, 3);
    assert_string_equal(o.parallelism_from, "MODPIPE_PARALLELISM");
    assert_string_equal(o.report, "env.json");
    assert_string_equal(o.run_id, "ci-9");
    assert_false(o.run_id_generated);
    assert_string_equal(o.artifacts, "file:///env/store");

    char *argv2[] = {"-j",       "5",          "--report", "flag.json", "-q",     "--on-failure",
                     "continue", "--progress", "never",    "--output",  "stream", "--artifacts",
                     "file:///flag/store", NULL};
    assert_int_equal(resolve(argv2, env, &o, arena, &err), 0);
    assert_string_equal(o.artifacts, "file:///flag/store");
    assert_int_equal(o.parallelism, 5);
    assert_string_equal(o.parallelism_from, "--parallelism");
    assert_string_equal(o.report, "flag.json");
    assert_int_equal(o.log_level, MP_LOG_WARN);
    assert_int_equal(o.on_failure, MP_ON_FAILURE_CONTINUE);
    assert_true(o.on_failure_given);
    assert_int_equal(o.progress, MP_PROGRESS_NEVER);
    assert_int_equal(o.output, MP_OUTPUT_STREAM);
    /* --on-failure wins over the file's option. */
    mp_pipeline *p = mp_pipeline_new("x");
    p->options.on_failure = MP_ON_FAILURE_STOP;
    mp__run_opts_finish(&o, p);
    assert_int_equal(o.on_failure, MP_ON_FAILURE_CONTINUE);
    assert_int_equal(o.parallelism, 5);
    mp_pipeline_free(p);

    /* Empty variables count as unset. */
    char *empty[] = {"MODPIPE_PARALLELISM=", "MODPIPE_REPORT=", "MODPIPE_RUN_ID=",
                     "MODPIPE_ARTIFACTS=", NULL};
    assert_int_equal(resolve(argv1, empty, &o, arena, &err), 0);
    assert_int_equal(o.parallelism, 0);
    assert_null(o.report);
    assert_null(o.artifacts);
    assert_true(o.run_id_generated);
    mp__arena_free(arena);
}

static void test_resolve_errors(void **state)
{
    (void)state;
    mp_arena *arena = mp__arena_new();
    mp_run_opts o;
    mp_error err = {0};
    char *noenv[] = {NULL};
    char *a1[] = {"-j", "0", NULL};
    assert_int_equal(resolve(a1, noenv, &o, arena, &err), MP_EUSAGE);
    assert_string_equal(err.message, "invalid value \"0\" for --parallelism (use a whole number "
                                     "from 1 to 4096)");
    char *badenv[] = {"MODPIPE_PARALLELISM=lots", NULL};
    assert_int_equal(resolve((char *[]){NULL}, badenv, &o, arena, &err), MP_EUSAGE);
    assert_string_equal(err.message, "invalid value \"lots\" for MODPIPE_PARALLELISM (use a "
                                     "whole number from 1 to 4096)");
    char *a2[] = {"--on-failure", "contineu", NULL};
    assert_int_equal(resolve(a2, noenv, &o, arena, &err), MP_EUSAGE);
    assert_string_equal(err.message,
                        "invalid value \"contineu\" for --on-failure; did you mean \"continue\"?");
    char *a3[] = {"--progress", "xyz", NULL};
    assert_int_equal(resolve(a3, noenv, &o, arena, &err), MP_EUSAGE);
    assert_string_equal(err.message,
                        "invalid value \"xyz\" for --progress (use auto, always or never)");
    char *badid[] = {"MODPIPE_RUN_ID=a/b", NULL};
    assert_int_equal(resolve((char *[]){NULL}, badid, &o, arena, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "invalid MODPIPE_RUN_ID \"a/b\""));
    mp__arena_free(arena);
}

static void test_sigwatch(void **state)
{
    (void)state;
    sigset_t before, during, after;
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    assert_false(sigismember(&before, SIGINT));

    mp_sigwatch w;
    mp_error err = {0};
    assert_int_equal(mp__sigwatch_start(&w, &err), 0);
    assert_true(w.fd >= 0);
    pthread_sigmask(SIG_SETMASK, NULL, &during);
    assert_true(sigismember(&during, SIGINT));
    assert_true(sigismember(&during, SIGTERM));
    assert_true(sigismember(&during, SIGHUP));
    assert_true(fcntl(w.fd, F_GETFD) & FD_CLOEXEC);

    int signo = -1;
    assert_int_equal(mp__sigwatch_read(&w, &signo), 0);
    assert_int_equal(signo, 0); /* nothing pending */

    /* A signal is now a readable fd, not death. */
    kill(getpid(), SIGTERM);
    struct pollfd pfd = {.fd = w.fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_int_equal(mp__sigwatch_read(&w, &signo), 0);
    assert_int_equal(signo, SIGTERM);

    /* SIGPIPE is ignored meanwhile: writing to a closed pipe is EPIPE. */
    int pp[2];
    assert_int_equal(pipe(pp), 0);
    close(pp[0]);
    assert_int_equal(write(pp[1], "x", 1), -1);
    close(pp[1]);

    /* Pending signals are taken off the queue by stop(), not delivered. */
    kill(getpid(), SIGINT);
    mp__sigwatch_stop(&w);
    assert_int_equal(w.pending, 1);
    assert_int_equal(w.fd, -1);
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    assert_false(sigismember(&after, SIGINT));
    mp__sigwatch_stop(&w); /* twice is harmless */
    mp__sigwatch_stop(NULL);
    assert_int_equal(mp__signal_exit_code(SIGINT), 130);
    assert_int_equal(mp__signal_exit_code(SIGTERM), 143);
}

/* ---------------------------------------------- mp_main(p, "run") with C code */

static int set_answer(mp_ctx *ctx, void *data)
{
    (void)data;
    return mp_ctx_set_output(ctx, "answer", "42") < 0;
}

static int check_answer(mp_ctx *ctx, void *data)
{
    (void)ctx;
    int *seen = data;
    const char *v = getenv("NEVER_SET_BY_TEST");
    *seen = v == NULL;
    return 0;
}

static int fail_fn(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 3;
}

static int quiet_main(mp_pipeline *p, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    int rc = mp_main(p, argc, argv);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(devnull);
    return rc;
}

static void test_main_run_functions(void **state)
{
    (void)state;
    char dir[] = "/tmp/mp_run_cmd.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char old[4096];
    assert_non_null(getcwd(old, sizeof(old)));
    assert_int_equal(chdir(dir), 0);

    mp_pipeline *p = mp_pipeline_new("code");
    int seen = 0;
    mp_module *a = mp_pipeline_add_module(p, "produce", NULL, NULL);
    mp_module_set_function(a, set_answer, NULL);
    mp_module *b = mp_pipeline_add_module(p, "consume", NULL, NULL);
    mp_module_set_function(b, check_answer, &seen);
    mp_module_depends_on(b, "produce");
    char *argv[] = {"prog", "run", "--report", "r.json", "-j", "2", NULL};
    assert_int_equal(quiet_main(p, argv), 0);
    assert_int_equal(seen, 1);
    FILE *f = fopen("r.json", "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "\"answer\": \"42\""));
    assert_non_null(strstr(buf, "\"status\": \"succeeded\""));

    /* A failing function fails the run: exit 1. */
    mp_module *c = mp_pipeline_add_module(p, "broken", NULL, NULL);
    mp_module_set_function(c, fail_fn, NULL);
    char *argv2[] = {"prog", "run", NULL};
    assert_int_equal(quiet_main(p, argv2), 1);
    mp_pipeline_free(p);

    /* The signal mask is as it was after mp_main. */
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    assert_false(sigismember(&now, SIGINT));

    assert_int_equal(chdir(old), 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_parallelism),  cmocka_unit_test(test_run_id_valid),
        cmocka_unit_test(test_resolve_defaults),   cmocka_unit_test(test_resolve_precedence),
        cmocka_unit_test(test_resolve_errors),     cmocka_unit_test(test_sigwatch),
        cmocka_unit_test(test_main_run_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
