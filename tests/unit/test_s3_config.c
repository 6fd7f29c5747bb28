/*
 * test_s3_config.c -- the s3:// URL, the AWS environment and the request
 * URLs SigV4 signs (artifacts/s3/s3_config.h, s3_url.h): options and their
 * refusals, credentials and region precedence, addressing style, key and
 * query encoding, backoff bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "artifacts/s3/s3_config.h"
#include "artifacts/s3/s3_retry.h"
#include "artifacts/s3/s3_url.h"

#include <stdlib.h>
#include <string.h>

static const char *fake_env(const char *name, void *data)
{
    for (const char *const *e = data; *e; e++) {
        size_t n = strlen(name);
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    }
    return NULL;
}

static const char *const CREDS[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SeCrEt",
                                    NULL};

static void parse_ok(mp_s3_config *c, const char *url, const char *const *env)
{
    mp_error err = {0};
    int rc = mp__s3_config_parse(c, url, fake_env, (void *)env, &err);
    if (rc) fail_msg("%s: %s", url, err.message);
}

static void parse_bad(const char *url, const char *const *env, const char *want)
{
    mp_s3_config c;
    mp_error err = {0};
    int rc = mp__s3_config_parse(&c, url, fake_env, (void *)env, &err);
    if (rc != MP_EUSAGE || !strstr(err.message, want))
        fail_msg("%s: rc %d '%s' (wanted '%s')", url, rc, err.message, want);
    assert_null(strstr(err.message, "SeCrEt"));
}

static void test_defaults_and_options(void **state)
{
    (void)state;
    mp_s3_config c;
    parse_ok(&c, "s3://my-bucket", CREDS);
    assert_string_equal(c.bucket, "my-bucket");
    assert_string_equal(c.prefix, "");
    assert_string_equal(c.region, "us-east-1");
    assert_string_equal(c.endpoint, "https://s3.us-east-1.amazonaws.com");
    assert_false(c.path_style);
    assert_int_equal(c.multipart_threshold, MP_S3_DEFAULT_THRESHOLD);
    assert_int_equal(c.part_size, MP_S3_DEFAULT_PART_SIZE);
    assert_int_equal(c.parallel, MP_S3_DEFAULT_PARALLEL);
    assert_int_equal(c.max_attempts, MP_S3_DEFAULT_MAX_ATTEMPTS);
    assert_string_equal(c.display, "s3://my-bucket");
    assert_null(c.token);
    char *u = mp__s3_request_url(&c, "a/b c", NULL);
    assert_string_equal(u, "https://my-bucket.s3.us-east-1.amazonaws.com/a/b%20c");
    free(u);
    mp__s3_config_release(&c);

    parse_ok(&c,
             "s3://b.with.dots/some/prefix/?endpoint=http%3A%2F%2F127.0.0.1%3A9000%2F&region=eu-west-3"
             "&multipart_threshold=64MiB&part_size=8M&parallel=7&max_attempts=2",
             CREDS);
    assert_string_equal(c.prefix, "some/prefix");
    assert_string_equal(c.endpoint, "http://127.0.0.1:9000");
    assert_string_equal(c.region, "eu-west-3");
    assert_true(c.path_style); /* IP endpoint */
    assert_int_equal(c.multipart_threshold, 64ull << 20);
    assert_int_equal(c.part_size, 8ull << 20);
    assert_int_equal(c.parallel, 7);
    assert_int_equal(c.max_attempts, 2);
    assert_string_equal(c.display, "s3://b.with.dots/some/prefix");
    char *k = mp__s3_config_object_key(&c, "blobs/sha256/ab");
    assert_string_equal(k, "some/prefix/blobs/sha256/ab");
    free(k);
    mp__s3_config_release(&c);

    /* dots in the bucket: path style even on AWS; path_style=0 wins */
    parse_ok(&c, "s3://b.with.dots", CREDS);
    assert_true(c.path_style);
    mp__s3_config_release(&c);
    parse_ok(&c, "s3://bucket?endpoint=http://localhost:9000&path_style=0", CREDS);
    assert_false(c.path_style);
    mp__s3_config_release(&c);
    parse_ok(&c, "s3://bucket?endpoint=https://minio.example.com&path_style=1", CREDS);
    assert_true(c.path_style);
    u = mp__s3_request_url(&c, NULL, NULL);
    assert_string_equal(u, "https://minio.example.com/bucket");
    free(u);
    mp__s3_config_release(&c);
}

static void test_environment(void **state)
{
    (void)state;
    mp_s3_config c;
    const char *env[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SeCrEt",
                         "AWS_SESSION_TOKEN=TOK", "AWS_REGION=ap-south-1",
                         "AWS_DEFAULT_REGION=eu-north-1", NULL};
    parse_ok(&c, "s3://bucket", env);
    assert_string_equal(c.region, "ap-south-1");
    assert_string_equal(c.token, "TOK");
    assert_string_equal(c.key_id, "AKID");
    assert_string_equal(c.secret, "SeCrEt");
    mp__s3_config_release(&c);
    const char *env2[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SeCrEt",
                          "AWS_DEFAULT_REGION=eu-north-1", NULL};
    parse_ok(&c, "s3://bucket", env2);
    assert_string_equal(c.region, "eu-north-1");
    mp__s3_config_release(&c);
    parse_ok(&c, "s3://bucket?region=us-west-2", env);
    assert_string_equal(c.region, "us-west-2");
    mp__s3_config_release(&c);

    const char *none[] = {NULL};
    parse_bad("s3://bucket", none, "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    const char *half[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=", NULL};
    parse_bad("s3://bucket", half, "AWS_SECRET_ACCESS_KEY");
}

static void test_refusals(void **state)
{
    (void)state;
    parse_bad("file:///x", CREDS, "not an s3:// URL");
    parse_bad("s3://", CREDS, "bad bucket name");
    parse_bad("s3://ab", CREDS, "bad bucket name");
    parse_bad("s3://Upper", CREDS, "bad bucket name");
    parse_bad("s3://under_score", CREDS, "bad bucket name");
    parse_bad("s3://-dash", CREDS, "bad bucket name");
    parse_bad("s3://a..b", CREDS, "bad bucket name");
    parse_bad("s3://bucket?nope=1", CREDS, "unknown option 'nope'");
    parse_bad("s3://bucket?region", CREDS, "has no value");
    parse_bad("s3://bucket?endpoint=ftp://x", CREDS, "http:// or https://");
    parse_bad("s3://bucket?endpoint=http://", CREDS, "no host");
    parse_bad("s3://bucket?path_style=yes", CREDS, "path_style must be 0 or 1");
    parse_bad("s3://bucket?part_size=1MiB", CREDS, "between 5MiB and 5GiB");
    parse_bad("s3://bucket?part_size=lots", CREDS, "bad size");
    parse_bad("s3://bucket?multipart_threshold=6GiB", CREDS, "above 5GiB");
    parse_bad("s3://bucket?parallel=0", CREDS, "parallel must be 1..64");
    parse_bad("s3://bucket?parallel=65", CREDS, "parallel must be 1..64");
    parse_bad("s3://bucket?max_attempts=x", CREDS, "max_attempts");
    parse_bad("s3://bucket?region=a%2Fb", CREDS, "bad region");
    parse_bad("s3://bucket/a//b", CREDS, "empty path segment");
    parse_bad("s3://bucket/a%zz", CREDS, "%-escape");
    parse_bad("s3://bucket#frag", CREDS, "fragment");
}

static void test_encoding(void **state)
{
    (void)state;
    mp_s3_config c;
    parse_ok(&c, "s3://bkt?endpoint=http://h:1/base&path_style=1", CREDS);
    char *u = mp__s3_request_url(&c, "dir/a b+c/\xc3\xa9%~._-!*'()", NULL);
    assert_string_equal(u, "http://h:1/base/bkt/dir/a%20b%2Bc/%C3%A9%25~._-%21%2A%27%28%29");
    free(u);
    /* sorted by name, '/' and '=' encoded in values, empty value kept */
    mp_s3_query q = {0};
    mp__s3_query_add(&q, "uploads", "");
    mp__s3_query_add(&q, "prefix", "a/b c");
    mp__s3_query_add(&q, "continuation-token", "x+y/z=");
    mp__s3_query_add(&q, "list-type", "2");
    u = mp__s3_request_url(&c, NULL, &q);
    assert_string_equal(u, "http://h:1/base/bkt?continuation-token=x%2By%2Fz%3D&list-type=2"
                           "&prefix=a%2Fb%20c&uploads=");
    free(u);
    mp__s3_config_release(&c);

    char *d = mp__s3_pct_decode("a%20b+c%2B", 10, true);
    assert_string_equal(d, "a b c+");
    free(d);
    d = mp__s3_pct_decode("a+b", 3, false);
    assert_string_equal(d, "a+b");
    free(d);
    assert_null(mp__s3_pct_decode("%2", 2, false));
    assert_null(mp__s3_pct_decode("%00", 3, false));
    assert_null(mp__s3_pct_decode("%g1", 3, false));

    uint64_t sz = 0;
    assert_int_equal(mp__s3_parse_size("16MiB", &sz), 0);
    assert_int_equal(sz, 16ull << 20);
    assert_int_equal(mp__s3_parse_size("1g", &sz), 0);
    assert_int_equal(sz, 1ull << 30);
    assert_int_equal(mp__s3_parse_size("100", &sz), 0);
    assert_int_equal(sz, 100);
    assert_int_not_equal(mp__s3_parse_size("-1", &sz), 0);
    assert_int_not_equal(mp__s3_parse_size("1T", &sz), 0);
    assert_int_not_equal(mp__s3_parse_size("1Mx", &sz), 0);
}

static void test_backoff(void **state)
{
    (void)state;
    for (uint64_t rnd = 0; rnd < 1000; rnd += 7) {
        int64_t a1 = mp__s3_backoff_ms(1, rnd), a3 = mp__s3_backoff_ms(3, rnd);
        int64_t a10 = mp__s3_backoff_ms(10, rnd);
        assert_true(a1 >= 100 && a1 <= 200);
        assert_true(a3 >= 400 && a3 <= 800);
        assert_true(a10 >= 2500 && a10 <= 5000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_options),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
