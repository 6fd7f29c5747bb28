/*
 * test_progress.c -- the live display (output/progress.h), alone and inside
 * the console sink forced into TTY mode on a non-terminal fd: what a draw
 * contains, the erase sequence, the 10-per-second redraw limit, blocks
 * never mixed with the bar, erasing at the end, width limits and fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strbuf.h"
#include "output/console.h"
#include "output/progress.h"
#include "output_fixture.h"

#include <fcntl.h>

static const char *const mods[] = {"build", "lint", "test", NULL};

/* Columns of the longest line of s (ANSI escapes excluded). */
static size_t widest_line(const char *s)
{
    size_t best = 0, cur = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '\033') {
            c++;
            if (*c == '[')
                while (c[1] && !((c[1] >= 'A' && c[1] <= 'Z') || (c[1] >= 'a' && c[1] <= 'z')))
                    c++;
            c++;
            continue;
        }
        if (*c == '\n' || *c == '\r') {
            cur = 0;
            continue;
        }
        if ((*c & 0xC0) != 0x80 && ++cur > best) best = cur;
    }
    return best;
}

static mp_progress *pg_new(const mp_pipeline *p, int width, int height, const int64_t *expected)
{
    mp_progress_opts o = {.width = width, .height = height, .clock = ofx_clock};
    mp_progress *pg = mp__progress_new(-1, &o);
    mp_run_info info = {.pipeline = p, .expected_ms = expected};
    mp__progress_run_started(pg, &info);
    return pg;
}

/* ---------------------------------------------------- the display alone */

static void test_draw_rows_and_bar(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("pg", mods);
    size_t b = ofx_index(p, "build"), t = ofx_index(p, "test"), l = ofx_index(p, "lint");
    int64_t expected[3];
    expected[b] = 1000;
    expected[t] = 4000;
    expected[l] = 0; /* unknown: 1 s */
    ofx_now = 10000;
    mp_progress *pg = pg_new(p, 80, 24, expected);
    mp_strbuf sb = MP_STRBUF_INIT;
    assert_false(mp__progress_due(pg, 10000)); /* nothing running */
    mp__progress_draw(pg, &sb, 10000);
    assert_int_equal(sb.len, 0);

    mp__progress_module_started(pg, b, 1);
    ofx_now = 11000;
    mp__progress_module_started(pg, t, 2);
    assert_true(mp__progress_due(pg, 11000));
    ofx_now = 11500;
    mp__progress_draw(pg, &sb, 11500);
    assert_true(mp__progress_drawn(pg));
    /* build ran 1.5s of 1s expected: full bar; test 0.5s of 4s: 1/8 */
    const char *want_header = "modpipe  0/3 done, 0 failed, 2 running, 1 pending  1.5s\n";
    assert_memory_equal(sb.buf, want_header, strlen(want_header));
    char bar[64];
    memset(bar, '#', 40);
    bar[40] = '\0';
    char line[200];
    snprintf(line, sizeof(line), "  build  [%s]  1.5s / 1.0s\n", bar);
    assert_non_null(strstr(sb.buf, line));
    memset(bar, '.', 40);
    memset(bar, '#', 5);
    snprintf(line, sizeof(line), "  test   [%s]  0.5s / 4.0s  #2\n", bar);
    assert_non_null(strstr(sb.buf, line));
    assert_true(strstr(sb.buf, "  build") < strstr(sb.buf, "  test")); /* start order */
    assert_int_equal(ofx_count(sb.buf, "\n"), 3);

    /* erase: up by the height drawn, clear to the end of the screen */
    mp__strbuf_reset(&sb);
    mp__progress_erase(pg, &sb);
    assert_string_equal(sb.buf, "\r\033[3A\033[J");
    assert_false(mp__progress_drawn(pg));
    mp__strbuf_reset(&sb);
    mp__progress_erase(pg, &sb); /* not drawn: nothing */
    assert_int_equal(sb.len, 0);

    /* counts after finishes */
    mp_result r;
    mp__result_init(&r);
    r.status = MP_STATUS_FAILED;
    mp__progress_module_finished(pg, b, &r);
    mp__progress_module_finished(pg, b, &r); /* twice: counted once */
    r.status = MP_STATUS_SKIPPED;
    mp__progress_module_finished(pg, l, &r); /* never ran */
    mp__progress_draw(pg, &sb, 12000);
    assert_non_null(strstr(sb.buf, "modpipe  2/3 done, 1 failed, 1 running, 0 pending  2.0s\n"));
    assert_null(strstr(sb.buf, "build"));

    mp__strbuf_release(&sb);
    mp__progress_free(pg);
    mp__progress_free(NULL);
    mp_pipeline_free(p);
}

static void test_rate_limit(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("pg", mods);
    ofx_now = 0;
    mp_progress *pg = pg_new(p, 80, 24, NULL);
    mp__progress_module_started(pg, 0, 1);
    mp_strbuf sb = MP_STRBUF_INIT;
    int draws = 0;
    for (int64_t now = 0; now < 1000; now += 7) {
        if (!mp__progress_due(pg, now)) continue;
        mp__progress_erase(pg, &sb);
        mp__progress_draw(pg, &sb, now);
        draws++;
    }
    assert_int_equal(draws, 10); /* 0, 105, 203, ... : at most every 100 ms */
    mp__strbuf_release(&sb);
    mp__progress_free(pg);
    mp_pipeline_free(p);
}

static void test_width_and_row_limits(void **state)
{
    (void)state;
    const char *many[40];
    char names[39][80];
    for (int k = 0; k < 39; k++) {
        snprintf(names[k], sizeof(names[k]), "module-with-a-rather-long-name-number-%02d", k);
        many[k] = names[k];
    }
    many[39] = NULL;
    mp_pipeline *p = ofx_pipeline("pg", many);
    ofx_now = 0;
    for (int width = 8; width <= 120; width += 7) {
        mp_progress *pg = pg_new(p, width, 8, NULL);
        for (size_t i = 0; i < 39; i++)
            mp__progress_module_started(pg, i, 1);
        mp_strbuf sb = MP_STRBUF_INIT;
        mp__progress_draw(pg, &sb, 5000);
        assert_true(widest_line(sb.buf) <= (size_t)width - 1);
        /* height 8: header, 5 rows, "... and 34 more" */
        assert_int_equal(ofx_count(sb.buf, "\n"), 7);
        if (width >= 30) assert_non_null(strstr(sb.buf, "  ... and 34 more\n"));
        mp__strbuf_reset(&sb);
        mp__progress_erase(pg, &sb);
        assert_string_equal(sb.buf, "\r\033[7A\033[J");
        mp__strbuf_release(&sb);
        mp__progress_free(pg);
    }
    /* fd not a terminal, no size given: 80 columns */
    int fd = ofx_fd();
    mp_progress_opts o = {.clock = ofx_clock};
    mp_progress *pg = mp__progress_new(fd, &o);
    mp_run_info info = {.pipeline = p};
    mp__progress_run_started(pg, &info);
    mp__progress_module_started(pg, 0, 1);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__progress_draw(pg, &sb, 100);
    mp_progress *pg80 = pg_new(p, 80, 24, NULL);
    mp__progress_module_started(pg80, 0, 1);
    mp_strbuf sb80 = MP_STRBUF_INIT;
    mp__progress_draw(pg80, &sb80, 100);
    assert_string_equal(sb.buf, sb80.buf);
    mp__strbuf_release(&sb80);
    mp__progress_free(pg80);
    mp__strbuf_release(&sb);
    mp__progress_free(pg);
    close(fd);
    mp_pipeline_free(p);
}

static void test_unicode_bar(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("pg", mods);
    ofx_now = 0;
    mp_progress_opts o = {.unicode = true, .width = 60, .height = 10, .clock = ofx_clock};
    mp_progress *pg = mp__progress_new(-1, &o);
    mp_run_info info = {.pipeline = p};
    mp__progress_run_started(pg, &info);
    mp__progress_module_started(pg, 0, 1);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__progress_draw(pg, &sb, 500);
    assert_non_null(strstr(sb.buf, "\xe2\x96\x88\xe2\x96\x91")); /* full then empty */
    assert_true(widest_line(sb.buf) <= 59);
    mp__strbuf_release(&sb);
    mp__progress_free(pg);
    mp_pipeline_free(p);
}

/* ------------------------------------------- inside the console (TTY forced) */

static void test_console_tty_grouped(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("pg", mods);
    size_t b = ofx_index(p, "build"), t = ofx_index(p, "test");
    int fd = ofx_fd();
    ofx_now = 1000;
    mp_console_opts o = {.width = 70, .height = 20, .clock = ofx_clock};
    mp_sink s = mp__console_sink(fd, MP_OUTPUT_GROUPED, true, &o);
    mp_run_info info = {.pipeline = p};
    s.vt->run_started(s.data, &info);
    size_t at = 0;

    /* starts print nothing: the display shows them at the next tick */
    s.vt->module_started(s.data, b, 1);
    s.vt->module_started(s.data, t, 1);
    char *got = ofx_since(fd, &at);
    assert_string_equal(got, "");
    free(got);

    s.vt->tick(s.data, 1000);
    got = ofx_since(fd, &at);
    assert_null(strstr(got, "\033[")); /* first draw: nothing to erase */
    assert_non_null(strstr(got, "2 running"));
    assert_int_equal(ofx_count(got, "\n"), 3);
    free(got);

    s.vt->tick(s.data, 1050); /* too soon */
    got = ofx_since(fd, &at);
    assert_string_equal(got, "");
    free(got);

    s.vt->tick(s.data, 1100);
    got = ofx_since(fd, &at);
    assert_memory_equal(got, "\r\033[3A\033[J", 8);
    assert_non_null(strstr(got, "0.1s / 1.0s"));
    free(got);

    /* a block: erase, the block, and no redraw (budget spent 30 ms ago) */
    ofx_now = 1130;
    mp_run run;
    ofx_run_init(&run, p, 1);
    ofx_ran(&run, b, MP_STATUS_SUCCEEDED, 0, 1000, 2200);
    s.vt->module_finished(s.data, b, &run.results[b]);
    got = ofx_since(fd, &at);
    assert_string_equal(got, "\r\033[3A\033[J== build (succeeded, 1.2s) ==\n");
    free(got);

    /* the next tick redraws below the block, now with one row */
    s.vt->tick(s.data, 1200);
    got = ofx_since(fd, &at);
    assert_null(strstr(got, "\033[")); /* area was already erased */
    assert_non_null(strstr(got, "1/3 done, 0 failed, 1 running, 1 pending"));
    assert_int_equal(ofx_count(got, "\n"), 2);
    free(got);

    /* a block when the budget allows: erase + block + redraw in one piece */
    ofx_now = 1400;
    ofx_not_run(&run, ofx_index(p, "lint"), MP_STATUS_SKIPPED, "because");
    s.vt->module_finished(s.data, ofx_index(p, "lint"), &run.results[ofx_index(p, "lint")]);
    got = ofx_since(fd, &at);
    const char *want = "\r\033[2A\033[J- lint skipped: because\nmodpipe  2/3 done";
    assert_memory_equal(got, want, strlen(want));
    free(got);

    /* the end erases the display */
    ofx_ran(&run, t, MP_STATUS_SUCCEEDED, 0, 1000, 2200);
    ofx_now = 1450;
    s.vt->module_finished(s.data, t, &run.results[t]);
    got = ofx_since(fd, &at);
    assert_string_equal(got, "\r\033[2A\033[J== test (succeeded, 1.2s) ==\n");
    free(got);
    s.vt->tick(s.data, 1600); /* nothing running: no draw */
    s.vt->run_finished(s.data, run.results, MP_STATUS_SUCCEEDED);
    got = ofx_since(fd, &at);
    assert_string_equal(got, "");
    free(got);

    ofx_run_free(&run);
    mp__console_sink_free(&s);
    close(fd);
    mp_pipeline_free(p);
}

static void test_console_tty_stream_finish_erases(void **state)
{
    (void)state;
    mp_pipeline *p = ofx_pipeline("pg", mods);
    int fd = ofx_fd();
    ofx_now = 0;
    mp_console_opts o = {.width = 70, .height = 20, .clock = ofx_clock};
    mp_sink s = mp__console_sink(fd, MP_OUTPUT_STREAM, true, &o);
    mp_run_info info = {.pipeline = p};
    s.vt->run_started(s.data, &info);
    s.vt->module_started(s.data, 0, 1);
    s.vt->tick(s.data, 0);
    size_t at = 0;
    free(ofx_since(fd, &at));
    /* output lines above the area; redraw only when due */
    ofx_now = 50;
    s.vt->module_output(s.data, 0, "one\ntw", 6);
    char *got = ofx_since(fd, &at);
    assert_string_equal(got, "\r\033[2A\033[J[build] one\n");
    free(got);
    ofx_now = 150;
    s.vt->module_output(s.data, 0, "o\n", 2);
    got = ofx_since(fd, &at);
    const char *want = "[build] two\nmodpipe  0/3 done";
    assert_memory_equal(got, want, strlen(want));
    free(got);
    /* run_finished erases what is on screen and nothing else */
    s.vt->run_finished(s.data, NULL, MP_STATUS_CANCELLED);
    got = ofx_since(fd, &at);
    assert_string_equal(got, "\r\033[2A\033[J");
    free(got);
    mp__console_sink_free(&s);
    close(fd);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draw_rows_and_bar),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_width_and_row_limits),
        cmocka_unit_test(test_unicode_bar),
        cmocka_unit_test(test_console_tty_grouped),
        cmocka_unit_test(test_console_tty_stream_finish_erases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
