/* test_redis_url.c -- redis:// URLs (src/redis/url.c): parsing, the
 * password's sources, the redacted form every message uses, and how
 * error replies map to MP_E* codes (src/redis/conn.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "redis/redis.h"

#include <stdlib.h>
#include <string.h>

static const char *const known[] = {"ttl", "timeout", NULL};

static void parse_ok(const char *url, mp_redis_url *u)
{
    mp_error err = {0};
    int rc = mp__redis_url_parse(url, known, u, &err);
    if (rc) print_error("%s: %s\n", url, err.message);
    assert_int_equal(rc, 0);
}

static void test_full_url(void **state)
{
    (void)state;
    unsetenv("MODPIPE_REDIS_PASSWORD");
    mp_redis_url u;
    parse_ok("redis://alice:s3cr%40t@cache.example:6380/3?ttl=2h&timeout=3s", &u);
    assert_string_equal(u.host, "cache.example");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "s3cr@t");
    assert_string_equal(u.redacted, "redis://alice:***@cache.example:6380/3?ttl=2h&timeout=3s");
    assert_string_equal(mp__redis_url_param(&u, "ttl"), "2h");
    assert_string_equal(mp__redis_url_param(&u, "timeout"), "3s");
    mp__redis_url_release(&u);
}

static void test_defaults_and_password_forms(void **state)
{
    (void)state;
    unsetenv("MODPIPE_REDIS_PASSWORD");
    mp_redis_url u;
    parse_ok("redis://localhost", &u);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_null(u.user);
    assert_null(u.password);
    assert_string_equal(u.redacted, "redis://localhost");
    assert_null(mp__redis_url_param(&u, "ttl"));
    mp__redis_url_release(&u);
    parse_ok("redis://:pw@h/", &u); /* password for the default user */
    assert_null(u.user);
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.redacted, "redis://:***@h/");
    mp__redis_url_release(&u);
    parse_ok("redis://pw@h:1", &u); /* no colon: the userinfo is a password */
    assert_null(u.user);
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.redacted, "redis://***@h:1");
    mp__redis_url_release(&u);
    parse_ok("redis://u:p@ss@h", &u); /* '@' in a password */
    assert_string_equal(u.password, "p@ss");
    assert_string_equal(u.host, "h");
    assert_string_equal(u.redacted, "redis://u:***@h");
    mp__redis_url_release(&u);
}

static void test_password_from_env(void **state)
{
    (void)state;
    setenv("MODPIPE_REDIS_PASSWORD", "from-env", 1);
    mp_redis_url u;
    parse_ok("redis://bob:@h", &u); /* ACL user, password from the environment */
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "from-env");
    assert_null(strstr(u.redacted, "from-env"));
    mp__redis_url_release(&u);
    parse_ok("redis://:url-pw@h", &u); /* the URL's wins */
    assert_string_equal(u.password, "url-pw");
    mp__redis_url_release(&u);
    unsetenv("MODPIPE_REDIS_PASSWORD");
}

static void parse_bad(const char *url, const char *want)
{
    mp_redis_url u;
    mp_error err = {0};
    assert_int_equal(mp__redis_url_parse(url, known, &u, &err), MP_EUSAGE);
    if (!strstr(err.message, want)) print_error("%s: '%s' lacks '%s'\n", url, err.message, want);
    assert_non_null(strstr(err.message, want));
    /* no message or place ever shows the password */
    assert_null(strstr(err.message, "hunter2"));
    assert_null(strstr(err.where, "hunter2"));
}

static void test_bad_urls(void **state)
{
    (void)state;
    parse_bad("http://u:hunter2@h", "not a redis:// URL");
    parse_bad("redis://u:hunter2@", "no host");
    parse_bad("redis://u:hunter2@h:0", "bad port");
    parse_bad("redis://u:hunter2@h:99999", "bad port");
    parse_bad("redis://u:hunter2@h:12ab", "bad port");
    parse_bad("redis://u:hunter2@h/x", "bad database");
    parse_bad("redis://u:hunter2%zz@h", "%-escape");
    parse_bad("redis://u:hunter2@h?tll=1h", "unknown query parameter 'tll' (known: ttl, timeout)");
    parse_bad("redis://u:hunter2@h?ttl=1h&ttl=2h", "given twice");
    parse_bad("redis://u:hunter2@h?ttl", "bad query parameter");
    mp_error err = {0};
    mp_redis_url u;
    assert_int_equal(mp__redis_url_parse("redis://h?ttl=1h", NULL, &u, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "known: none"));
}

static void test_redact(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"redis://u:hunter2@h:1/2", "redis://u:***@h:1/2"},
        {"redis://hunter2@h", "redis://***@h"},
        {"redis://h:1/hunter@2", "redis://h:1/hunter@2"}, /* '@' after the host is no userinfo */
        {"garbage:hunter2@x", "garbage:***@x"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = mp__redis_redact(cases[i][0]);
        assert_string_equal(r, cases[i][1]);
        free(r);
    }
}

static void test_reply_errors(void **state)
{
    (void)state;
    const struct {
        const char *text;
        int code;
        const char *want;
    } cases[] = {
        {"OOM command not allowed when used memory > 'maxmemory'.", MP_EIO, "out of memory"},
        {"NOPERM this user has no permissions to run the 'evalsha' command", MP_EIO,
         "lacks a permission"},
        {"WRONGTYPE Operation against a key holding the wrong kind of value", MP_EPARSE,
         "garbage"},
        {"STATE x: module is leased script: 0123, on @user_script:9.", MP_ESTATE,
         "x: module is leased"},
        {"LOST run state lost", MP_ELOST, "run state lost"},
        {"CORRUPT bad", MP_EPARSE, "bad"},
        {"EXIST e", MP_EEXIST, "e"},
        {"NOENT n", MP_ENOENT, "n"},
        {"INVAL i", MP_EINVAL, "i"},
        {"ERR user_script:3: attempt to compare nil", MP_EPARSE, "script failed"},
        {"ERR unknown command", MP_EIO, "unknown command"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mp_error err = {0};
        assert_int_equal(mp__redis_reply_error("redis://***@h", "EVALSHA", cases[i].text, &err),
                         cases[i].code);
        assert_non_null(strstr(err.message, cases[i].want));
        assert_null(strstr(err.message, " script: 0123"));
        assert_string_equal(err.where, "redis://***@h");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_url),
        cmocka_unit_test(test_defaults_and_password_forms),
        cmocka_unit_test(test_password_from_env),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_reply_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
