/*
 * test_duration.c -- mp__duration_parse / mp__duration_format
 * (core/duration.h): the accepted grammar, every refusal with its reason,
 * the 30-day ceiling and the canonical text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/duration.h"

#include <string.h>

static int64_t parse_ok(const char *s)
{
    int64_t ms = -12345;
    const char *why = NULL;
    int rc = mp__duration_parse(s, &ms, &why);
    if (rc != 0) print_error("\"%s\" refused: %s\n", s, why ? why : "(no reason)");
    assert_int_equal(rc, 0);
    return ms;
}

static const char *parse_bad(const char *s)
{
    int64_t ms = -12345;
    const char *why = NULL;
    int rc = mp__duration_parse(s, &ms, &why);
    if (rc == 0) print_error("\"%s\" accepted as %lld ms\n", s, (long long)ms);
    assert_int_equal(rc, -1);
    assert_non_null(why);
    assert_int_equal(ms, -12345); /* untouched on failure */
    return why;
}

static void test_accepts(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("0"), 0);
    assert_int_equal(parse_ok("0s"), 0);
    assert_int_equal(parse_ok("500ms"), 500);
    assert_int_equal(parse_ok("2s"), 2000);
    assert_int_equal(parse_ok("10m"), 600000);
    assert_int_equal(parse_ok("1h"), 3600000);
    assert_int_equal(parse_ok("1h30m"), 5400000);
    assert_int_equal(parse_ok("1h2m3s500ms"), 3723500);
    assert_int_equal(parse_ok("90s"), 90000);
    assert_int_equal(parse_ok("007s"), 7000);
    assert_int_equal(parse_ok("1m500ms"), 60500);
    assert_int_equal(parse_ok("720h"), 30LL * 24 * 3600 * 1000); /* exactly 30 days */
}

static void test_refuses_with_reason(void **state)
{
    (void)state;
    assert_string_equal(parse_bad(""), "empty duration");
    assert_string_equal(parse_bad("5"), "missing unit (use ms, s, m or h)");
    assert_string_equal(parse_bad("00"), "missing unit (use ms, s, m or h)");
    assert_string_equal(parse_bad("1h5"), "missing unit (use ms, s, m or h)");
    assert_string_equal(parse_bad("10x"), "unknown unit (use ms, s, m or h)");
    assert_string_equal(parse_bad("10mins"), "unknown unit (use ms, s, m or h)");
    assert_string_equal(parse_bad("10S"), "unknown unit (use ms, s, m or h)");
    assert_string_equal(parse_bad("1s1s"), "each unit may appear only once");
    assert_string_equal(parse_bad("1s1m"), "units must go from largest to smallest (h, m, s, ms)");
    assert_string_equal(parse_bad("1ms1h"), "units must go from largest to smallest (h, m, s, ms)");
    assert_string_equal(parse_bad("-5s"), "a duration has no sign");
    assert_string_equal(parse_bad("+5s"), "a duration has no sign");
    assert_string_equal(parse_bad("1.5s"), "no fractions (write 1s500ms, not 1.5s)");
    assert_string_equal(parse_bad("1 s"), "no spaces allowed");
    assert_string_equal(parse_bad(" 1s"), "no spaces allowed");
    assert_string_equal(parse_bad("s"), "a unit needs a number before it");
    assert_string_equal(parse_bad("1h!"),
                        "unexpected character (use digits followed by ms, s, m or h)");
    assert_string_equal(parse_bad("721h"), "longer than 30 days");
    assert_string_equal(parse_bad("720h1ms"), "longer than 30 days");
    assert_string_equal(parse_bad("99999999999999999999999s"), "longer than 30 days");
}

static void test_null_arguments(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(mp__duration_parse(NULL, NULL, &why), -1);
    assert_string_equal(why, "empty duration");
    assert_int_equal(mp__duration_parse("1s", NULL, NULL), 0);
    assert_int_equal(mp__duration_parse("x", NULL, NULL), -1);
}

static void check_format(int64_t ms, const char *want)
{
    char buf[64];
    mp__duration_format(ms, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_format(void **state)
{
    (void)state;
    check_format(0, "0");
    check_format(500, "500ms");
    check_format(2000, "2s");
    check_format(5400000, "1h30m");
    check_format(3723500, "1h2m3s500ms");
    check_format(60500, "1m500ms");
    check_format(100LL * 3600 * 1000, "100h");
    check_format(-1500, "-1s500ms");
}

static void test_format_round_trip(void **state)
{
    (void)state;
    const int64_t samples[] = {0,     1,       999,     1000,     59999,
                               60000, 3599999, 3600000, 86400000, 30LL * 24 * 3600 * 1000};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char buf[64];
        int64_t back = -1;
        mp__duration_format(samples[i], buf, sizeof(buf));
        assert_int_equal(mp__duration_parse(buf, &back, NULL), 0);
        assert_int_equal(back, samples[i]);
    }
}

static void test_format_small_buffer(void **state)
{
    (void)state;
    char buf[4];
    memset(buf, 'x', sizeof(buf));
    mp__duration_format(3723500, buf, sizeof(buf));
    assert_true(memchr(buf, '\0', sizeof(buf)) != NULL);
    assert_int_equal(strncmp(buf, "1h2", 3), 0);
    mp__duration_format(1000, buf, 0); /* must not write */
    mp__duration_format(1000, NULL, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),           cmocka_unit_test(test_refuses_with_reason),
        cmocka_unit_test(test_null_arguments),    cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_round_trip), cmocka_unit_test(test_format_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
