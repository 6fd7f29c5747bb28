/* test_store.c -- the store registry and helpers of artifacts/store.h:
 * key rules, key builders, URL redaction, refusing bad URLs. (What every
 * backend does with keys is the conformance suite's, store_suite.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "artifacts/store.h"
#include "os/clock.h"

#include <string.h>

static void test_key_rules(void **state)
{
    (void)state;
    const char *good[] = {"a", "blobs/sha256/ab", "runs/r-1_2.x/a.b", "A/b-c/_d", "a.", "x..y"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(mp__store_key_valid(good[i]));
    const char *bad[] = {"", "/a", "a/", "a//b", ".", "..", "../a", "a/./b", ".a", "a/.b",
                         "a b", "a?b", "a%2f", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mp__store_key_valid(bad[i]));
    assert_false(mp__store_key_valid(NULL));
}

static void test_key_builders(void **state)
{
    (void)state;
    char k[MP_STORE_BLOB_KEY_SIZE];
    const char *hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_int_equal(mp__store_blob_key(hex, k, sizeof k), 0);
    assert_string_equal(k, "blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(mp__store_blob_key("E3B0", k, sizeof k), MP_EINVAL);
    assert_int_equal(mp__store_blob_key(hex, k, 10), MP_EINVAL);
    char r[128];
    assert_int_equal(mp__store_run_key("gh-12-1", "artifacts/build.json", r, sizeof r), 0);
    assert_string_equal(r, "runs/gh-12-1/artifacts/build.json");
    assert_int_equal(mp__store_run_key("../x", "a", r, sizeof r), MP_EINVAL);
    assert_int_equal(mp__store_run_key("x", "a", r, 6), MP_EINVAL);
}

static void test_redact(void **state)
{
    (void)state;
    char b[256];
    mp__store_redact_url("redis://user:s3cr@t@host:6379/2", b, sizeof b);
    assert_string_equal(b, "redis://user:***@host:6379/2");
    mp__store_redact_url("redis://:pw@h", b, sizeof b);
    assert_string_equal(b, "redis://:***@h");
    /* redis://x@h: x is a password (redis/redis.h), never shown */
    mp__store_redact_url("redis://secret@h/0", b, sizeof b);
    assert_string_equal(b, "redis://***@h/0");
    mp__store_redact_url("s3://user@h/0", b, sizeof b);
    assert_string_equal(b, "s3://user@h/0");
    mp__store_redact_url("s3://b/p?endpoint=http://x:9000&secret=abc&region=eu&session_token=t",
                         b, sizeof b);
    assert_string_equal(b, "s3://b/p?endpoint=http://x:9000&secret=***&region=eu&session_token=***");
    mp__store_redact_url("file:///tmp/x", b, sizeof b);
    assert_string_equal(b, "file:///tmp/x");
}

static void test_open_refusals(void **state)
{
    (void)state;
    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = "ftp://x", .deadline = mp__deadline_in(10000)};
    assert_int_equal(mp__store_open(&o, &s, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "file://"));
    assert_null(s);
    o.url = "nosuch://u:hunter2@h";
    memset(&err, 0, sizeof err);
    int rc = mp__store_open(&o, &s, &err);
    assert_true(rc < 0);
    assert_null(strstr(err.message, "hunter2"));
    assert_null(strstr(err.where, "hunter2"));
    const char *bad[] = {"file://relative/dir", "file:///tmp/x?y=1", "file:///tmp/a%20b", "file:",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.url = bad[i];
        assert_true(mp__store_open(&o, &s, &err) < 0);
        assert_null(s);
    }
    o.url = "file:///tmp";
    o.deadline = MP_DEADLINE_NONE;
    assert_int_equal(mp__store_open(&o, &s, &err), MP_EINVAL);
    /* A file where the directory should be. */
    o.url = "file:///dev/null/store";
    o.deadline = mp__deadline_in(10000);
    assert_int_equal(mp__store_open(&o, &s, &err), MP_EIO);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test(test_key_builders),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_open_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
