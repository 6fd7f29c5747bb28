/*
 * test_s3_interop.c -- what modpipe's s3:// store writes, the AWS CLI
 * (/usr/bin/aws, v2) reads byte for byte, and the other way round, on a
 * real S3 server (s3rver, checking SigV4): a small blob and a multipart
 * one stored under blobs/sha256/<hex> by modpipe, fetched with
 * `aws s3 cp` and checked with sha256sum; objects uploaded with
 * `aws s3 cp` (one of them multipart by the CLI) fetched by modpipe and
 * listed by it.
 *
 * labels: s3
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "artifacts/store.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], url[1024], prefix[64];

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fail_msg("%s is not set: run under tests/support/with-services.sh s3", name);
    return v;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_s3_interop.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(prefix, sizeof prefix, "interop-%d", (int)getpid());
    snprintf(url, sizeof url,
             "s3://%s/%s?endpoint=%s&path_style=1&multipart_threshold=5MiB&part_size=5MiB",
             env("MODPIPE_TEST_S3_BUCKET"), prefix, env("MODPIPE_TEST_S3_ENDPOINT"));
    /* the CLI must not read a developer's ~/.aws */
    setenv("AWS_CONFIG_FILE", "/nonexistent/modpipe-test", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/modpipe-test", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_PAGER", "", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0) fail_msg("command failed (%d): %s", rc, cmd);
}

static void sha256_of(const char *path, char hex[65])
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%64s", hex), 1);
    pclose(f);
}

static mp_store *open_store(void)
{
    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = url, .deadline = mp__deadline_in(30000)};
    if (mp__store_open(&o, &s, &err)) fail_msg("open: %s", err.message);
    assert_string_equal(mp__store_backend(s), "s3");
    return s;
}

/* modpipe stores a blob; the AWS CLI reads it back; sha256sum agrees. */
static void test_modpipe_to_aws(void **state)
{
    (void)state;
    mp_store *s = open_store();
    const unsigned sizes[] = {1234, (13u << 20) + 11}; /* single PUT, 3 parts */
    for (int i = 0; i < 2; i++) {
        char src[300], out[300], hex[65], again[65], key[100];
        snprintf(src, sizeof src, "%s/blob%d", dir, i);
        snprintf(out, sizeof out, "%s/aws%d", dir, i);
        sh("head -c %u /dev/urandom > '%s'", sizes[i], src);
        sha256_of(src, hex);
        assert_int_equal(mp__store_blob_key(hex, key, sizeof key), 0);
        mp_error err = {0};
        if (mp__store_put(s, key, src, mp__deadline_in(60000), &err)) fail_msg("put: %s", err.message);
        sh("/usr/bin/aws --endpoint-url '%s' s3 cp --only-show-errors 's3://%s/%s/%s' '%s'",
           env("MODPIPE_TEST_S3_ENDPOINT"), env("MODPIPE_TEST_S3_BUCKET"), prefix, key, out);
        sh("cmp -s '%s' '%s'", src, out);
        sha256_of(out, again);
        assert_string_equal(hex, again);
    }
    mp__store_close(s);
}

/* The AWS CLI uploads (a 20 MiB file goes multipart with its default
 * 8 MiB chunks); modpipe gets the bytes back and lists the keys. */
static void test_aws_to_modpipe(void **state)
{
    (void)state;
    const unsigned sizes[] = {777, 20u << 20};
    for (int i = 0; i < 2; i++) {
        char src[300];
        snprintf(src, sizeof src, "%s/cli%d", dir, i);
        sh("head -c %u /dev/urandom > '%s'", sizes[i], src);
        sh("/usr/bin/aws --endpoint-url '%s' s3 cp --only-show-errors '%s' 's3://%s/%s/runs/r1/cli%d'",
           env("MODPIPE_TEST_S3_ENDPOINT"), src, env("MODPIPE_TEST_S3_BUCKET"), prefix, i);
    }
    mp_store *s = open_store();
    for (int i = 0; i < 2; i++) {
        char key[64], src[300], got[300];
        snprintf(key, sizeof key, "runs/r1/cli%d", i);
        snprintf(src, sizeof src, "%s/cli%d", dir, i);
        snprintf(got, sizeof got, "%s/got%d", dir, i);
        mp_error err = {0};
        uint64_t size = 0;
        assert_int_equal(mp__store_exists(s, key, &size, mp__deadline_in(30000), &err), 1);
        assert_int_equal(size, sizes[i]);
        if (mp__store_get(s, key, got, mp__deadline_in(60000), &err)) fail_msg("get: %s", err.message);
        sh("cmp -s '%s' '%s'", src, got);
    }
    mp_store_list l = {0};
    mp_error err = {0};
    assert_int_equal(mp__store_list(s, "runs/r1/", mp__deadline_in(30000), &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.keys[0], "runs/r1/cli0");
    assert_string_equal(l.keys[1], "runs/r1/cli1");
    mp__store_list_release(&l);
    mp__store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modpipe_to_aws),
        cmocka_unit_test(test_aws_to_modpipe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
