/*
 * test_summary.c -- the end-of-run summary (output/summary.h): the table
 * and its order, "-" for modules that never ran, failure details with log
 * tails, the totals from metrics.c, the verdict line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strbuf.h"
#include "output/metrics.h"
#include "output/summary.h"
#include "output_fixture.h"

#include <fcntl.h>
#include <signal.h>

#define T0 1000000

static const char *const mods[] = {"build", "lint", "test", NULL};

static void test_table_and_details(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("sum", mods);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 3400;
    run.verdict = MP_STATUS_FAILED;
    ofx_ran(&run, ofx_index(p, "build"), MP_STATUS_SUCCEEDED, 0, T0, T0 + 1200);
    mp_result *r = ofx_ran(&run, ofx_index(p, "test"), MP_STATUS_FAILED, 1, T0 + 1200, T0 + 1500);
    r->error_message = "exited with status 1";
    r->log_tail = "a\nb\nc\n";
    ofx_not_run(&run, ofx_index(p, "lint"), MP_STATUS_SKIPPED, "skip_if");

    int fd = ofx_fd();
    assert_int_equal(mp__summary_write(fd, p, &run), 0);
    char *got = ofx_slurp(fd, NULL);
    const char *want = "Module  Status     Duration  Instance  Start  End\n"
                       "test    failed     0.3s      0         +1.2s  +1.5s\n"
                       "build   succeeded  1.2s      0         +0.0s  +1.2s\n"
                       "lint    skipped    -         -         -      -\n"
                       "\n"
                       "test failed (exit 1)\n"
                       "  error: exited with status 1\n"
                       "  | a\n"
                       "  | b\n"
                       "  | c\n"
                       "\n"
                       "wall time 3.4s, module time 1.5s, speedup 0.44x, peak concurrency 1\n"
                       "pipeline failed: 1 failed, 1 succeeded, 1 skipped\n";
    if (strcmp(got, want) != 0) fail_msg("summary:\n%s--- want:\n%s", got, want);
    free(got);
    close(fd);
    ofx_run_free(&run);
    mp_pipeline_free(p);
}

static void test_order_failures_first_then_start(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "d", "e", "f", NULL};
    mp_pipeline *p = ofx_pipeline("sum", names);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 10000;
    run.peak_concurrency = 4; /* the engine's count wins */
    ofx_not_run(&run, 0, MP_STATUS_DEPENDENCY_FAILED, "dependency \"c\" failed");
    ofx_ran(&run, 1, MP_STATUS_SUCCEEDED, 0, T0 + 500, T0 + 900);
    ofx_ran(&run, 2, MP_STATUS_TIMED_OUT, -1, T0 + 3000, T0 + 9000);
    ofx_ran(&run, 3, MP_STATUS_SUCCEEDED, 0, T0 + 100, T0 + 400);
    mp_result *r = ofx_ran(&run, 4, MP_STATUS_FAILED, -1, T0 + 1000, T0 + 1100);
    r->term_signal = SIGKILL;
    r->instance = 2;
    r->worker = "w-2";
    ofx_ran(&run, 5, MP_STATUS_IGNORED_FAILURE, 3, T0 + 50, T0 + 60);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__summary_format(p, &run, &sb);
    /* e (failed, started first), c (timed out), then f, d, b by start, a */
    const char *order[] = {"\ne ", "\nc ", "\nf ", "\nd ", "\nb ", "\na "};
    const char *prev = sb.buf;
    for (size_t k = 0; k < 6; k++) {
        const char *at = strstr(sb.buf, order[k]);
        assert_non_null(at);
        assert_true(at >= prev);
        prev = at;
    }
    assert_non_null(
        strstr(sb.buf, "\ne       failed             0.1s      2 (w-2)   +1.0s  +1.1s\n"));
    assert_non_null(strstr(sb.buf, "\na       dependency_failed  -         -         -      -\n"));
    assert_non_null(strstr(sb.buf, "\ne failed (signal 9)\n"));
    assert_non_null(strstr(sb.buf, "\nc timed out\n"));
    assert_null(strstr(sb.buf, "\nf failed")); /* ignored failures have no details */
    assert_non_null(strstr(sb.buf, "peak concurrency 4\n"));
    assert_non_null(strstr(sb.buf, "pipeline succeeded: 1 failed, 1 timed_out, 1 "
                                   "dependency_failed, 1 ignored_failure, 2 succeeded\n"));
    mp__strbuf_release(&sb);
    ofx_run_free(&run);
    mp_pipeline_free(p);
}

static void test_tail_limited_and_interrupted(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("sum", mods);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 100;
    run.verdict = MP_STATUS_FAILED;
    run.interrupted_by = SIGINT;
    mp_result *r = ofx_ran(&run, 0, MP_STATUS_FAILED, 2, T0, T0 + 100);
    mp_strbuf tail = MP_STRBUF_INIT;
    for (int k = 1; k <= 30; k++)
        mp__strbuf_addf(&tail, "line %d\n", k);
    r->log_tail = tail.buf;
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__summary_format(p, &run, &sb);
    assert_int_equal(ofx_count(sb.buf, "  | "), 20);
    assert_null(strstr(sb.buf, "  | line 10\n"));
    assert_non_null(strstr(sb.buf, "  | line 11\n  | line 12\n"));
    assert_non_null(strstr(sb.buf, "  | line 30\n\n"));
    assert_non_null(strstr(sb.buf, "\npipeline interrupted by SIGINT: 1 failed, 2 pending\n"));
    mp__strbuf_release(&tail);
    mp__strbuf_release(&sb);
    ofx_run_free(&run);
    mp_pipeline_free(p);
}

/* Cells of every kind, their widths in columns (a UTF-8 worker id is
 * wider in bytes than on screen), ties on start broken by name, a row
 * still running (no end), a module that never ran on a known instance. */
static void test_cells_and_widths(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "d", "c", NULL};
    mp_pipeline *p = ofx_pipeline("w", names);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 61000;
    mp_result *r = ofx_ran(&run, ofx_index(p, "a"), MP_STATUS_SUCCEEDED, 0, T0, T0 + 61000);
    r->instance = 1;
    r->worker = "w\xc3\xb6rker-1";
    r = ofx_not_run(&run, ofx_index(p, "b"), MP_STATUS_CANCELLED, "run stopped");
    r->instance = 3;
    r = ofx_ran(&run, ofx_index(p, "c"), MP_STATUS_RUNNING, -1, T0 + 200, 0);
    r->duration_ms = -1;
    ofx_ran(&run, ofx_index(p, "d"), MP_STATUS_SUCCEEDED, 0, T0 + 200, T0 + 300);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__summary_format(p, &run, &sb);
    const char *want = "Module  Status     Duration  Instance      Start  End\n"
                       "a       succeeded  1m01s     1 (w\xc3\xb6rker-1)  +0.0s  +1m01s\n"
                       "c       running    -         0             +0.2s  -\n"
                       "d       succeeded  0.1s      0             +0.2s  +0.3s\n"
                       "b       cancelled  -         3             -      -\n"
                       "\n";
    if (strncmp(sb.buf, want, strlen(want)) != 0) fail_msg("summary:\n%s--- want:\n%s", sb.buf, want);
    assert_int_equal(sb.len, strlen(sb.buf));
    mp__strbuf_release(&sb);
    ofx_run_free(&run);
    mp_pipeline_free(p);
}

/* A summary larger than the write buffer: written in pieces, the file
 * holds exactly what mp__summary_format() makes; a write that fails is
 * MP_EIO. */
static void test_large_summary_written_in_pieces(void **state)
{
    (void)state;
    enum { N = 5000 };
    char **names = calloc(N + 1, sizeof(*names));
    assert_non_null(names);
    for (int k = 0; k < N; k++) {
        names[k] = malloc(16);
        snprintf(names[k], 16, "m%05d", k);
    }
    mp_pipeline *p = ofx_pipeline("big", (const char *const *)names);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 90000;
    for (size_t i = 0; i < N; i++) {
        if (i % 7 == 3)
            ofx_not_run(&run, i, MP_STATUS_SKIPPED, "x");
        else
            ofx_ran(&run, i, i % 11 == 5 ? MP_STATUS_FAILED : MP_STATUS_SUCCEEDED, 0,
                    T0 + (int64_t)(i * 37 % 2000), T0 + (int64_t)(i * 37 % 2000) + 65000);
    }
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__summary_format(p, &run, &sb);
    assert_true(sb.len > 4 * 64 * 1024);
    int fd = ofx_fd();
    assert_int_equal(mp__summary_write(fd, p, &run), 0);
    size_t len;
    char *got = ofx_slurp(fd, &len);
    assert_int_equal(len, sb.len);
    assert_memory_equal(got, sb.buf, len);
    free(got);
    close(fd);
    /* the first failed write is remembered, the rest is not attempted */
    int devnull = open("/dev/null", O_RDONLY);
    assert_true(devnull >= 0);
    assert_int_equal(mp__summary_write(devnull, p, &run), MP_EIO);
    close(devnull);
    mp__strbuf_release(&sb);
    ofx_run_free(&run);
    mp_pipeline_free(p);
    for (int k = 0; k < N; k++)
        free(names[k]);
    free(names);
}

static void test_metrics_peak_from_intervals(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "d", NULL};
    mp_pipeline *p = ofx_pipeline("m", names);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 1000;
    ofx_ran(&run, 0, MP_STATUS_SUCCEEDED, 0, T0, T0 + 500);
    ofx_ran(&run, 1, MP_STATUS_SUCCEEDED, 0, T0 + 100, T0 + 600);
    ofx_ran(&run, 2, MP_STATUS_SUCCEEDED, 0, T0 + 500, T0 + 1000); /* starts as a ends */
    ofx_not_run(&run, 3, MP_STATUS_SKIPPED, "x");
    mp_metrics m;
    mp__metrics_compute(&run, &m);
    assert_int_equal(m.peak_concurrency, 2);
    assert_int_equal(m.wall_ms, 1000);
    assert_int_equal(m.module_ms_total, 1500);
    assert_true(m.speedup == 1.5);
    assert_int_equal(m.by_status[MP_STATUS_SUCCEEDED], 3);
    assert_int_equal(m.by_status[MP_STATUS_SKIPPED], 1);
    /* a clock that went back: no negative wall time, no division by 0 */
    run.ended_at = T0 - 5;
    mp__metrics_compute(&run, &m);
    assert_int_equal(m.wall_ms, 0);
    assert_true(m.speedup == 0.0);
    ofx_run_free(&run);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_details),
        cmocka_unit_test(test_order_failures_first_then_start),
        cmocka_unit_test(test_tail_limited_and_interrupted),
        cmocka_unit_test(test_cells_and_widths),
        cmocka_unit_test(test_large_summary_written_in_pieces),
        cmocka_unit_test(test_metrics_peak_from_intervals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
