/*
 * test_console.c -- the console sink (output/console.h): grouped blocks
 * from log files, stream mode with held partial lines and the 64 KiB cap,
 * start/finish lines for every status, Unicode glyphs, write errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "output/console.h"
#include "output_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>

static const char *const mods[] = {"build", "lint", "test", NULL};

typedef struct fx {
    mp_pipeline *p;
    mp_run run;
    int fd;
    mp_sink sink;
    char dir[64];
} fx;

static fx *fx_new(mp_output_mode mode, const mp_console_opts *o)
{
    fx *f = calloc(1, sizeof(*f));
    f->p = ofx_pipeline("console", mods);
    ofx_run_init(&f->run, f->p, 1000000);
    f->fd = ofx_fd();
    f->sink = mp__console_sink(f->fd, mode, false, o);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mp-console-XXXXXX");
    if (!mkdtemp(f->dir)) fail_msg("mkdtemp");
    mp_run_info info = {.pipeline = f->p, .run_id = "r1", .parallelism = 2};
    f->sink.vt->run_started(f->sink.data, &info);
    return f;
}

static void fx_free(fx *f)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0) fail_msg("rm");
    mp__console_sink_free(&f->sink);
    assert_null(f->sink.data);
    close(f->fd);
    ofx_run_free(&f->run);
    mp_pipeline_free(f->p);
    free(f);
}

/* A log file with `content` for result r. */
static void fx_log(fx *f, mp_result *r, const char *name, const char *content, size_t len)
{
    char *path = mp__arena_printf(f->run.arena, "%s/%s.log", f->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    r->log_path = path;
}

static void fx_finish(fx *f, size_t i)
{
    f->sink.vt->module_finished(f->sink.data, i, &f->run.results[i]);
}

static void fx_out(fx *f, size_t i, const char *s)
{
    f->sink.vt->module_output(f->sink.data, i, s, strlen(s));
}

static void assert_output(fx *f, const char *want)
{
    char *got = ofx_slurp(f->fd, NULL);
    if (strcmp(got, want) != 0) fail_msg("output:\n%s\n--- want:\n%s", got, want);
    free(got);
}

/* ------------------------------------------------------------ grouped */

static void test_grouped_block(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_GROUPED, NULL);
    size_t b = ofx_index(f->p, "build");
    f->sink.vt->module_started(f->sink.data, b, 1);
    fx_out(f, b, "ignored in grouped mode\n");
    mp_result *r = ofx_ran(&f->run, b, MP_STATUS_SUCCEEDED, 0, 1000000, 1001200);
    fx_log(f, r, "build", "compiling\nlinking", 17);
    fx_finish(f, b);
    assert_output(f, "> build\n"
                     "== build (succeeded, 1.2s) ==\n"
                     "compiling\nlinking\n");
    fx_free(f);
}

static void test_grouped_failed_and_not_run(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_GROUPED, NULL);
    size_t t = ofx_index(f->p, "test"), l = ofx_index(f->p, "lint");
    mp_result *r = ofx_ran(&f->run, t, MP_STATUS_FAILED, 1, 1000000, 1000300);
    r->error_message = "exited with status 1";
    fx_log(f, r, "test", "FAIL: 3 != 4\n", 13);
    fx_finish(f, t);
    ofx_not_run(&f->run, l, MP_STATUS_SKIPPED, "skip_if: env SKIP_LINT is set");
    fx_finish(f, l);
    /* a module that ran but left no log file: the header alone */
    size_t b = ofx_index(f->p, "build");
    r = ofx_ran(&f->run, b, MP_STATUS_CANCELLED, -1, 1000000, 1000100);
    r->skip_reason = "run stopped";
    r->log_path = "/nonexistent/build.log";
    fx_finish(f, b);
    f->sink.vt->run_finished(f->sink.data, f->run.results, MP_STATUS_FAILED);
    assert_output(f, "== test (failed, exit 1, 0.3s) ==\n"
                     "FAIL: 3 != 4\n"
                     "error: exited with status 1\n"
                     "- lint skipped: skip_if: env SKIP_LINT is set\n"
                     "== build (cancelled, 0.1s) ==\n"
                     "cancelled: run stopped\n");
    fx_free(f);
}

static void test_grouped_big_log(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_GROUPED, NULL);
    size_t b = ofx_index(f->p, "build");
    /* 3 MiB of numbered lines, plus one 1.5 MiB line without a newline */
    size_t cap = 5u << 20, len = 0;
    char *log = malloc(cap);
    for (int k = 0; len < (3u << 20); k++)
        len += (size_t)snprintf(log + len, cap - len, "line %d of a long log\n", k);
    memset(log + len, 'z', 3u << 19);
    len += 3u << 19;
    mp_result *r = ofx_ran(&f->run, b, MP_STATUS_SUCCEEDED, 0, 1000000, 1002000);
    fx_log(f, r, "build", log, len);
    fx_finish(f, b);
    size_t got_len;
    char *got = ofx_slurp(f->fd, &got_len);
    const char *hdr = "== build (succeeded, 2.0s) ==\n";
    assert_int_equal(got_len, strlen(hdr) + len + 1);
    assert_memory_equal(got, hdr, strlen(hdr));
    assert_memory_equal(got + strlen(hdr), log, len);
    assert_int_equal(got[got_len - 1], '\n');
    free(got);
    free(log);
    fx_free(f);
}

/* ------------------------------------------------------------- stream */

static void test_stream_lines(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_STREAM, NULL);
    size_t b = ofx_index(f->p, "build"), t = ofx_index(f->p, "test");
    f->sink.vt->module_started(f->sink.data, b, 1);
    f->sink.vt->module_started(f->sink.data, t, 1);
    fx_out(f, b, "hel");
    fx_out(f, t, "x\n\ny\n");
    fx_out(f, b, "lo\nwor");
    fx_out(f, b, "ld");
    ofx_ran(&f->run, b, MP_STATUS_SUCCEEDED, 0, 1000000, 1001200);
    fx_finish(f, b);
    fx_out(f, t, "tail without newline");
    mp_result *r = ofx_ran(&f->run, t, MP_STATUS_TIMED_OUT, -1, 1000000, 1010000);
    r->error_message = "timed out after 10s";
    fx_finish(f, t);
    assert_output(f, "> build\n"
                     "> test\n"
                     "[test] x\n"
                     "[test] \n"
                     "[test] y\n"
                     "[build] hello\n"
                     "[build] world\n"
                     "+ build succeeded 1.2s\n"
                     "[test] tail without newline\n"
                     "x test timed out 10.0s: timed out after 10s\n");
    fx_free(f);
}

static void test_stream_retry_flushes(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_STREAM, NULL);
    size_t b = ofx_index(f->p, "build");
    f->sink.vt->module_started(f->sink.data, b, 1);
    fx_out(f, b, "partial");
    f->sink.vt->module_started(f->sink.data, b, 2);
    fx_out(f, b, "again\n");
    mp_result *r = ofx_ran(&f->run, b, MP_STATUS_SUCCEEDED, 0, 1000000, 1003000);
    r->attempts = 2;
    fx_finish(f, b);
    assert_output(f, "> build\n"
                     "[build] partial\n"
                     "> build (attempt 2)\n"
                     "[build] again\n"
                     "+ build succeeded 3.0s after 2 attempts\n");
    fx_free(f);
}

static void test_stream_long_line_capped(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_STREAM, NULL);
    size_t b = ofx_index(f->p, "build");
    char chunk[10000];
    memset(chunk, 'a', sizeof(chunk));
    size_t fed = 0;
    for (int k = 0; k < 20; k++) { /* 200000 bytes, never a newline */
        f->sink.vt->module_output(f->sink.data, b, chunk, sizeof(chunk));
        fed += sizeof(chunk);
    }
    char *got = ofx_slurp(f->fd, NULL);
    assert_int_equal(ofx_count(got, " [line continues]\n"), fed / MP_CONSOLE_MAX_LINE);
    free(got);
    f->sink.vt->run_finished(f->sink.data, f->run.results, MP_STATUS_SUCCEEDED);
    got = ofx_slurp(f->fd, NULL);
    /* every line is bounded; all bytes arrived */
    size_t as = 0, lines = 0;
    for (char *s = got, *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
        assert_true((size_t)(nl - s) <= strlen("[build] ") + MP_CONSOLE_MAX_LINE + 20);
        assert_memory_equal(s, "[build] ", 8);
        lines++;
    }
    for (char *s = got; *s; s++)
        as += *s == 'a';
    assert_int_equal(as, fed);
    assert_int_equal(lines, fed / MP_CONSOLE_MAX_LINE + 1);
    free(got);
    fx_free(f);
}

static void test_stream_cap_exact_and_in_one_chunk(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_STREAM, NULL);
    size_t b = ofx_index(f->p, "build");
    size_t big = 3 * MP_CONSOLE_MAX_LINE + 10;
    char *buf = malloc(big + 1);
    memset(buf, 'b', big);
    /* exactly the cap, then its newline: one cut piece, no empty line */
    f->sink.vt->module_output(f->sink.data, b, buf, MP_CONSOLE_MAX_LINE);
    fx_out(f, b, "\nnext\n");
    /* a long line inside one chunk is cut too */
    buf[big] = '\n';
    f->sink.vt->module_output(f->sink.data, b, buf, big + 1);
    size_t len;
    char *got = ofx_slurp(f->fd, &len);
    assert_int_equal(ofx_count(got, " [line continues]\n"), 4);
    assert_int_equal(ofx_count(got, "\n"), 1 + 1 + 3 + 1);
    assert_null(strstr(got, "[build] \n"));
    assert_non_null(strstr(got, " [line continues]\n[build] next\n[build] bbb"));
    const char *want_end = "[build] bbbbbbbbbb\n";
    assert_string_equal(got + len - strlen(want_end), want_end);
    free(got);
    free(buf);
    fx_free(f);
}

/* ------------------------------------------------------- finish lines */

static void test_finish_line_forms(void **state)
{
    (void)state;
    fx *f = fx_new(MP_OUTPUT_STREAM, NULL);
    size_t b = ofx_index(f->p, "build"), l = ofx_index(f->p, "lint"), t = ofx_index(f->p, "test");
    mp_result *r = ofx_ran(&f->run, t, MP_STATUS_IGNORED_FAILURE, 2, 1000000, 1000300);
    fx_finish(f, t);
    r = ofx_ran(&f->run, b, MP_STATUS_FAILED, -1, 1000000, 1000400);
    r->term_signal = 9;
    fx_finish(f, b);
    ofx_not_run(&f->run, l, MP_STATUS_DEPENDENCY_FAILED, "dependency \"build\" failed");
    fx_finish(f, l);
    assert_output(f, "! test failed, ignored (exit 2) 0.3s\n"
                     "x build failed (signal 9) 0.4s\n"
                     "- lint dependency failed: dependency \"build\" failed\n");
    fx_free(f);
}

static void test_unicode_glyphs(void **state)
{
    (void)state;
    mp_console_opts o = {.unicode = true};
    fx *f = fx_new(MP_OUTPUT_GROUPED, &o);
    size_t b = ofx_index(f->p, "build"), l = ofx_index(f->p, "lint");
    f->sink.vt->module_started(f->sink.data, b, 1);
    ofx_ran(&f->run, b, MP_STATUS_SUCCEEDED, 0, 1000000, 1001200);
    fx_finish(f, b);
    ofx_not_run(&f->run, l, MP_STATUS_SKIPPED, "not in category \"x\"");
    fx_finish(f, l);
    assert_output(f, "\xe2\x96\xb6 build\n"
                     "\xe2\x94\x80\xe2\x94\x80 build (succeeded, 1.2s) \xe2\x94\x80\xe2\x94\x80\n"
                     "\xe2\x97\x8b lint skipped: not in category \"x\"\n");
    fx_free(f);
}

static void test_write_error_sticks(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    mp_pipeline *p = ofx_pipeline("console", mods);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    mp_sink s = mp__console_sink(fds[1], MP_OUTPUT_GROUPED, false, NULL);
    mp_run_info info = {.pipeline = p};
    s.vt->run_started(s.data, &info);
    assert_int_equal(mp__console_sink_error(&s), 0);
    s.vt->module_started(s.data, 0, 1);
    assert_int_equal(mp__console_sink_error(&s), EPIPE);
    s.vt->module_started(s.data, 1, 1); /* nothing more is tried */
    assert_int_equal(mp__console_sink_error(&s), EPIPE);
    mp__console_sink_free(&s);
    mp__console_sink_free(&s); /* NULL data: nothing */
    mp__console_sink_free(NULL);
    close(fds[1]);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouped_block),
        cmocka_unit_test(test_grouped_failed_and_not_run),
        cmocka_unit_test(test_grouped_big_log),
        cmocka_unit_test(test_stream_lines),
        cmocka_unit_test(test_stream_retry_flushes),
        cmocka_unit_test(test_stream_long_line_capped),
        cmocka_unit_test(test_stream_cap_exact_and_in_one_chunk),
        cmocka_unit_test(test_finish_line_forms),
        cmocka_unit_test(test_unicode_glyphs),
        cmocka_unit_test(test_write_error_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
