/*
 * test_s3_faults.c -- the S3 client under faults, with a fault-injecting
 * proxy (tests/support/s3_fault_proxy.py) in front of a real S3 server
 * (s3rver, checking SigV4) or in place of one:
 *   - a 500 on one multipart part: that part is retried, the object is whole;
 *   - 503 SlowDown / 429 on a PUT: retried with backoff, then stored;
 *   - a GET failing every time: exactly max_attempts tries, then a message
 *     with the status, S3 code and message and the attempt count;
 *   - a part refused for good: the upload fails and is aborted
 *     (DELETE ?uploadId=<id> sent; s3rver answers 405, which is reported);
 *   - a download cut short (retried; if always cut: a clear failure, no file)
 *     and a consistent but short answer (caught by the ETag check);
 *   - an endpoint that never answers: the deadline holds;
 *   - an endpoint answering HTML or garbage: a clear MP_EPARSE error (an
 *     HTML 404 too: it is not S3 saying the key is missing).
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

#include <fcntl.h>
#include <sys/stat.h>

static char dir[256];

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fail_msg("%s is not set: run under tests/support/with-services.sh s3", name);
    return v;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_s3_faults.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *path(const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static void write_file(const char *p, size_t size, unsigned seed)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    unsigned x = seed;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16), f);
    }
    assert_int_equal(fclose(f), 0);
}

static void assert_same_file(const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    assert_int_equal(system(cmd), 0);
}

/* A client on `endpoint` with small parts so multipart is cheap. */
static mp_s3_client *client(const char *endpoint, const char *extra)
{
    char url[1024];
    snprintf(url, sizeof url,
             "s3://%s/faults-%d?endpoint=%s&path_style=1&multipart_threshold=5MiB&part_size=5MiB"
             "%s",
             env("MODPIPE_TEST_S3_BUCKET"), (int)getpid(), endpoint, extra ? extra : "");
    mp_s3_client *c = NULL;
    mp_error err = {0};
    if (mp__s3_client_open(&c, url, NULL, NULL, &err)) fail_msg("open: %s", err.message);
    return c;
}

#define S3ERR(code, msg) "<Error><Code>" code "</Code><Message>" msg "</Message></Error>"

static void test_part_500_retried(void **state)
{
    (void)state;
    s3_proxy p;
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"PUT\",\"match\":\"partNumber=2&\",\"action\":\"status\","
                   "\"status\":500,\"body\":\"" S3ERR("InternalError", "injected") "\"}]");
    mp_s3_client *c = client(p.endpoint, NULL);
    write_file(path("src"), (12u << 20) + 5, 7); /* 3 parts */
    mp_error err = {0};
    if (mp__s3_put_file(c, "blobs/sha256/part500", path("src"), mp__deadline_in(60000), &err))
        fail_msg("put: %s", err.message);
    assert_int_equal(s3_proxy_count(&p, "partNumber=2&", NULL), 2);
    assert_int_equal(s3_proxy_count(&p, "partNumber=1&", NULL), 1);
    assert_int_equal(s3_proxy_count(&p, "partNumber=3&", NULL), 1);
    assert_int_equal(s3_proxy_count(&p, "POST", "uploadId="), 1); /* complete, once */
    if (mp__s3_get_file(c, "blobs/sha256/part500", path("dst"), NULL, mp__deadline_in(60000), &err))
        fail_msg("get: %s", err.message);
    assert_same_file(path("src"), path("dst"));
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

static void test_slowdown_and_429_retried(void **state)
{
    (void)state;
    s3_proxy p;
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"PUT\",\"action\":\"status\",\"status\":503,"
                   "\"body\":\"" S3ERR("SlowDown", "Please reduce your request rate.") "\"},"
                   "{\"method\":\"PUT\",\"action\":\"status\",\"status\":429,\"body\":\"\"}]");
    mp_s3_client *c = client(p.endpoint, NULL);
    write_file(path("small"), 3000, 3);
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    if (mp__s3_put_file(c, "runs/r/slow", path("small"), mp__deadline_in(60000), &err))
        fail_msg("put: %s", err.message);
    /* two waits of at least 100 and 200 ms (half of each backoff step) */
    assert_true(mp__clock_now_ms() - t0 >= 300);
    assert_int_equal(s3_proxy_count(&p, "PUT", NULL), 3);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

static void test_retries_exhausted(void **state)
{
    (void)state;
    s3_proxy p;
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"GET\",\"times\":-1,\"action\":\"status\",\"status\":500,"
                   "\"body\":\"" S3ERR("InternalError", "We encountered an internal error.") "\"}]");
    mp_s3_client *c = client(p.endpoint, "&max_attempts=3");
    mp_error err = {0};
    assert_int_equal(mp__s3_get_file(c, "runs/r/x", path("never"), NULL, mp__deadline_in(60000), &err),
                     MP_EIO);
    assert_non_null(strstr(err.message, "GET s3://"));
    assert_non_null(strstr(err.message, "HTTP 500 InternalError: We encountered an internal error."));
    assert_non_null(strstr(err.message, "(gave up after 3 attempts)"));
    assert_int_equal(s3_proxy_count(&p, "GET", NULL), 3);
    assert_int_equal(access(path("never"), F_OK), -1);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

static void test_failed_multipart_is_aborted(void **state)
{
    (void)state;
    s3_proxy p;
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"PUT\",\"match\":\"partNumber=2&\",\"times\":-1,"
                   "\"action\":\"status\",\"status\":403,"
                   "\"body\":\"" S3ERR("AccessDenied", "Access Denied") "\"}]");
    mp_s3_client *c = client(p.endpoint, NULL);
    write_file(path("src"), (11u << 20), 9);
    mp_error err = {0};
    assert_int_equal(mp__s3_put_file(c, "blobs/sha256/aborted", path("src"), mp__deadline_in(60000),
                                     &err),
                     MP_EIO);
    assert_non_null(strstr(err.message, "part 2 of 3"));
    assert_non_null(strstr(err.message, "HTTP 403 AccessDenied: Access Denied"));
    /* the abort went out for the upload (s3rver does not implement it: 405) */
    assert_int_equal(s3_proxy_count(&p, "DELETE", "uploadId="), 1);
    assert_int_equal(s3_proxy_count(&p, "POST", "uploadId="), 0); /* never completed */
    assert_non_null(strstr(err.message, "could not be aborted: DELETE (abort multipart upload)"));
    bool exists = true;
    assert_int_equal(mp__s3_head(c, "blobs/sha256/aborted", &exists, NULL, mp__deadline_in(20000),
                                 &err),
                     0);
    assert_false(exists);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

static void test_truncated_download(void **state)
{
    (void)state;
    mp_s3_client *direct = client(env("MODPIPE_TEST_S3_ENDPOINT"), NULL);
    write_file(path("obj"), 200000, 5);
    mp_error err = {0};
    if (mp__s3_put_file(direct, "runs/r/obj", path("obj"), mp__deadline_in(60000), &err))
        fail_msg("put: %s", err.message);
    mp__s3_client_free(direct);

    /* cut once: the retry gets it whole */
    s3_proxy p;
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"GET\",\"action\":\"truncate\",\"bytes\":1000}]");
    mp_s3_client *c = client(p.endpoint, NULL);
    if (mp__s3_get_file(c, "runs/r/obj", path("got"), NULL, mp__deadline_in(60000), &err))
        fail_msg("get: %s", err.message);
    assert_same_file(path("obj"), path("got"));
    assert_int_equal(s3_proxy_count(&p, "GET", NULL), 2);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);

    /* cut every time: a failure saying so, no file left */
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"GET\",\"times\":-1,\"action\":\"truncate\",\"bytes\":1000}]");
    c = client(p.endpoint, "&max_attempts=2");
    assert_int_equal(mp__s3_get_file(c, "runs/r/obj", path("cut"), NULL, mp__deadline_in(60000), &err),
                     MP_EIO);
    assert_non_null(strstr(err.message, "transfer cut short"));
    assert_non_null(strstr(err.message, "got 1000 of 200000 bytes"));
    assert_non_null(strstr(err.message, "(gave up after 2 attempts)"));
    assert_int_equal(access(path("cut"), F_OK), -1);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);

    /* a short answer that says it is short: the ETag (MD5) check fails it */
    s3_proxy_start(&p, env("MODPIPE_TEST_S3_ENDPOINT"),
                   "[{\"method\":\"GET\",\"times\":-1,\"action\":\"shorten\",\"bytes\":1000}]");
    c = client(p.endpoint, "&max_attempts=2");
    assert_int_equal(mp__s3_get_file(c, "runs/r/obj", path("short"), NULL, mp__deadline_in(60000), &err),
                     MP_EIO);
    assert_non_null(strstr(err.message, "the 1000 bytes received do not match the object's ETag"));
    assert_int_equal(access(path("short"), F_OK), -1);
    /* nothing else left in the directory either (no temporary file) */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep s3tmp)\"", dir);
    assert_int_equal(system(cmd), 0);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

static void test_no_answer_deadline(void **state)
{
    (void)state;
    s3_proxy p;
    s3_proxy_start(&p, NULL, "[{\"times\":-1,\"action\":\"hang\"}]");
    mp_s3_client *c = client(p.endpoint, NULL);
    mp_error err = {0};
    bool exists;
    int64_t t0 = mp__clock_now_ms();
    assert_int_equal(mp__s3_head(c, "runs/r/x", &exists, NULL, mp__deadline_in(1500), &err),
                     MP_ETIMEDOUT);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 1400); /* never early */
    assert_true(took < 1500 + 5000);
    assert_non_null(strstr(err.message, "HEAD s3://"));
    assert_non_null(strstr(err.message, "deadline"));
    write_file(path("small"), 100, 1);
    t0 = mp__clock_now_ms();
    assert_int_equal(mp__s3_put_file(c, "runs/r/x", path("small"), mp__deadline_in(1500), &err),
                     MP_ETIMEDOUT);
    assert_true(mp__clock_now_ms() - t0 < 1500 + 5000);
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

static void test_html_and_garbage(void **state)
{
    (void)state;
    s3_proxy p;
    s3_proxy_start(&p, NULL,
                   "[{\"match\":\"html200\",\"times\":-1,\"action\":\"status\",\"status\":200,"
                   "\"content_type\":\"text/html\",\"body\":\"<!DOCTYPE html><html><body>Welcome "
                   "to nginx!</body></html>\"},"
                   "{\"match\":\"garbage\",\"times\":-1,\"action\":\"status\",\"status\":200,"
                   "\"body\":\"<ListBucketResult><Contents><Key>a</Contents>\"},"
                   "{\"match\":\"html404\",\"times\":-1,\"action\":\"status\",\"status\":404,"
                   "\"content_type\":\"text/html\",\"body\":\"<html><h1>Not Found</h1></html>\"},"
                   "{\"match\":\"html502\",\"times\":-1,\"action\":\"status\",\"status\":502,"
                   "\"content_type\":\"text/html\",\"body\":\"<html>Bad Gateway</html>\"}]");
    mp_s3_client *c = client(p.endpoint, "&max_attempts=2");
    mp_error err = {0};
    int64_t dl = mp__deadline_in(30000);
    assert_int_equal(mp__s3_list(c, "html200/", NULL, NULL, dl, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "this looks like an HTML page, not an S3 response"));
    assert_int_equal(mp__s3_list(c, "garbage/", NULL, NULL, dl, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "malformed XML in the S3 response"));
    /* an HTML 404 is not S3 saying "no such key": not reported as missing */
    assert_int_equal(mp__s3_get_file(c, "html404", path("x"), NULL, dl, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "HTTP 404 with an HTML page, not an S3 error"));
    assert_int_equal(mp__s3_get_file(c, "html502", path("x"), NULL, dl, &err), MP_EIO);
    assert_non_null(strstr(err.message, "HTTP 502 with an HTML page"));
    assert_non_null(strstr(err.message, "(gave up after 2 attempts)"));
    mp__s3_client_free(c);
    s3_proxy_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part_500_retried),
        cmocka_unit_test(test_slowdown_and_429_retried),
        cmocka_unit_test(test_retries_exhausted),
        cmocka_unit_test(test_failed_multipart_is_aborted),
        cmocka_unit_test(test_truncated_download),
        cmocka_unit_test(test_no_answer_deadline),
        cmocka_unit_test(test_html_and_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
