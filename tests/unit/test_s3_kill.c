/*
 * test_s3_kill.c -- the S3 server dies in the middle of a multipart upload
 * (SIGKILL, sent by the fault proxy when part 3 of 4 arrives): the client
 * retries that part until its attempts are used up, then fails with a
 * message saying what failed, how often it was tried and that the upload
 * could not be aborted -- and no object exists under the blob's digest
 * key (checked in the dead server's data directory).
 *
 * labels: s3
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../support/s3_proxy.h"
#include "artifacts/s3/s3_client.h"
#include "os/clock.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fail_msg("%s is not set: run under tests/support/with-services.sh s3", name);
    return v;
}

static void test_server_killed_mid_upload(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_s3_kill.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char src[300], cmd[1024];
    snprintf(src, sizeof src, "%s/blob", dir);
    snprintf(cmd, sizeof cmd, "head -c %u /dev/urandom > '%s'", (16u << 20) + 100, src);
    assert_int_equal(system(cmd), 0);
    /* the blob's digest, as the artifact manager would name it */
    char hex[65] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", src);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%64s", hex), 1);
    pclose(f);
    char key[100];
    snprintf(key, sizeof key, "blobs/sha256/%s", hex);

    char rules[256];
    snprintf(rules, sizeof rules,
             "[{\"method\":\"PUT\",\"match\":\"partNumber=3&\",\"action\":\"kill\",\"pid\":%s}]",
             env("MODPIPE_TEST_S3_PID"));
    s3_proxy p;
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"), rules);
    char url[1024];
    snprintf(url, sizeof url,
             "s3://%s/kill?endpoint=%s&path_style=1&multipart_threshold=5MiB&part_size=5MiB"
             "&parallel=1&max_attempts=4",
             env("MODPIPE_TEST_S3_BUCKET"), p.endpoint);
    mp_s3_client *c = NULL;
    mp_error err = {0};
    if (mp__s3_client_open(&c, url, NULL, NULL, &err)) fail_msg("open: %s", err.message);
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__s3_put_file(c, key, src, mp__deadline_in(60000), &err);
    int64_t took = mp__clock_now_ms() - t0;
    print_message("put: rc %d after %lld ms: %s\n", rc, (long long)took, err.message);
    assert_int_equal(rc, MP_EIO);
    assert_non_null(strstr(err.message, "PUT (part 3 of 4)"));
    assert_non_null(strstr(err.message, key));
    assert_non_null(strstr(err.message, "(gave up after 4 attempts)"));
    assert_non_null(strstr(err.message, "could not be aborted"));
    assert_true(took < 30000);
    /* part 3 was tried 4 times (the first one killed the server) */
    assert_int_equal(s3_proxy_count(&p, "partNumber=3&", NULL), 4);
    assert_int_equal(s3_proxy_count(&p, "partNumber=4&", NULL), 0);
    assert_int_equal(s3_proxy_count(&p, "POST", "uploadId="), 0);
    /* nothing under the digest: s3rver keeps objects as <key>._S3rver_object */
    char obj[1200];
    snprintf(obj, sizeof obj, "%s/%s/kill/%s._S3rver_object", env("MODPIPE_TEST_S3_DATA"),
             env("MODPIPE_TEST_S3_BUCKET"), key);
    assert_int_equal(access(obj, F_OK), -1);
    /* ...while the uploaded parts are where s3rver keeps them (the test
     * looks in the right place) */
    snprintf(cmd, sizeof cmd, "find '%s/%s' -path '*uploads*' -name 1 | grep -q .",
             env("MODPIPE_TEST_S3_DATA"), env("MODPIPE_TEST_S3_BUCKET"));
    assert_int_equal(system(cmd), 0);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_killed_mid_upload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
