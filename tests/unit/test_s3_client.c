/*
 * test_s3_client.c -- the S3 client (artifacts/s3/s3_client.h) against a
 * real S3 server (s3rver, which checks SigV4 signatures): put/get/head/
 * delete, keys that need encoding (space, '+', unicode, '%'), multipart
 * with several parts in parallel, listing across pages (keys put by four
 * threads sharing one client), a missing bucket,
 * a wrong secret, missing credentials.
 *
 * labels: s3
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "artifacts/s3/s3_client.h"
#include "os/clock.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char url[1024];
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
    snprintf(url, sizeof url, "s3://%s/t%d?endpoint=%s&path_style=1&multipart_threshold=5MiB&part_size=5MiB&parallel=3",
             env("MODPIPE_TEST_S3_BUCKET"), (int)getpid(), env("MODPIPE_TEST_S3_ENDPOINT"));
    snprintf(dir, sizeof dir, "/tmp/test_s3_client.XXXXXX");
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

static void write_file(const char *path, size_t size, unsigned seed)
{
    FILE *f = fopen(path, "wb");
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

static mp_s3_client *open_client(const char *u)
{
    mp_s3_client *c = NULL;
    mp_error err = {0};
    int rc = mp__s3_client_open(&c, u, NULL, NULL, &err);
    if (rc) fail_msg("open: %s", err.message);
    return c;
}

static void roundtrip(mp_s3_client *c, const char *key, size_t size)
{
    char src[512], dst[512];
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(dst, sizeof dst, "%s/dst", dir);
    write_file(src, size, (unsigned)size);
    mp_error err = {0};
    int64_t dl = mp__deadline_in(60000);
    if (mp__s3_put_file(c, key, src, dl, &err)) fail_msg("put %s: %s", key, err.message);
    bool exists = false;
    uint64_t sz = 0;
    if (mp__s3_head(c, key, &exists, &sz, dl, &err)) fail_msg("head: %s", err.message);
    assert_true(exists);
    assert_int_equal(sz, size);
    uint64_t got = 0;
    if (mp__s3_get_file(c, key, dst, &got, dl, &err)) fail_msg("get %s: %s", key, err.message);
    assert_int_equal(got, size);
    assert_same_file(src, dst);
    unlink(dst);
}

static void test_roundtrip_keys(void **state)
{
    (void)state;
    mp_s3_client *c = open_client(url);
    const char *keys[] = {"blobs/sha256/00ff", "with space/a b", "plus+sign/c+d", "unicode/été/日本",
                          "percent%41/x", "tilde~and-dash_dot.txt", "runs/r1/meta.json"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) roundtrip(c, keys[i], 1000 + i);
    roundtrip(c, "empty", 0);
    mp__s3_client_free(c);
}

static void test_multipart(void **state)
{
    (void)state;
    mp_s3_client *c = open_client(url);
    /* 5 MiB parts: 17 MiB + 3 bytes is 4 parts, the last one short */
    roundtrip(c, "big/multi part+blob", (17u << 20) + 3);
    mp__s3_client_free(c);
}

static int collect(const char *key, uint64_t size, void *data)
{
    (void)size;
    char *buf = data;
    strcat(buf, key);
    strcat(buf, "\n");
    return 0;
}

/* Puts keys list/k<i> for i = index, index + 4, ... below 1005, on one
 * client shared by 4 threads (the client is used concurrently). */
typedef struct putter {
    mp_s3_client *c;
    const char *src;
    int index, failed;
    char msg[512];
} putter;

static void *put_keys(void *arg)
{
    putter *p = arg;
    for (int i = p->index; i < 1005 && !p->failed; i += 4) {
        char key[64];
        mp_error err = {0};
        snprintf(key, sizeof key, "list/k%04d", i);
        if (mp__s3_put_file(p->c, key, p->src, mp__deadline_in(60000), &err)) {
            p->failed = 1;
            snprintf(p->msg, sizeof p->msg, "%s", err.message);
        }
    }
    return NULL;
}

static void test_list_pages_and_delete(void **state)
{
    (void)state;
    mp_s3_client *c = open_client(url);
    char src[512];
    snprintf(src, sizeof src, "%s/small", dir);
    write_file(src, 10, 1);
    mp_error err = {0};
    /* more than one page of 1000 keys */
    putter p[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (putter){.c = c, .src = src, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, put_keys, &p[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        if (p[i].failed) fail_msg("put: %s", p[i].msg);
    int64_t dl = mp__deadline_in(60000);
    char key[64];
    static char keys[1005 * 16 + 1];
    keys[0] = '\0';
    if (mp__s3_list(c, "list/", collect, keys, dl, &err)) fail_msg("list: %s", err.message);
    char *at = keys;
    for (int i = 0; i < 1005; i++) {
        snprintf(key, sizeof key, "list/k%04d\n", i);
        assert_memory_equal(at, key, strlen(key));
        at += strlen(key);
    }
    assert_int_equal(*at, '\0');
    if (mp__s3_delete(c, "list/k0003", dl, &err)) fail_msg("delete: %s", err.message);
    if (mp__s3_delete(c, "list/k0003", dl, &err)) fail_msg("delete again: %s", err.message);
    bool exists = true;
    assert_int_equal(mp__s3_head(c, "list/k0003", &exists, NULL, dl, &err), 0);
    assert_false(exists);
    char dst[512];
    snprintf(dst, sizeof dst, "%s/missing", dir);
    assert_int_equal(mp__s3_get_file(c, "list/k0003", dst, NULL, dl, &err), MP_ENOENT);
    assert_non_null(strstr(err.message, "NoSuchKey"));
    assert_int_equal(access(dst, F_OK), -1);
    mp__s3_client_free(c);
}

static void test_missing_bucket(void **state)
{
    (void)state;
    char u[1024];
    snprintf(u, sizeof u, "s3://no-such-bucket-here?endpoint=%s", env("MODPIPE_TEST_S3_ENDPOINT"));
    mp_s3_client *c = open_client(u);
    mp_error err = {0};
    assert_int_equal(mp__s3_check_bucket(c, mp__deadline_in(20000), &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "bucket 'no-such-bucket-here' does not exist"));
    mp__s3_client_free(c);
}

static const char *bad_secret_env(const char *name, void *data)
{
    (void)data;
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0) return "not-the-secret";
    return getenv(name);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    mp_s3_client *c = NULL;
    mp_error err = {0};
    assert_int_equal(mp__s3_client_open(&c, url, bad_secret_env, NULL, &err), 0);
    assert_int_equal(mp__s3_check_bucket(c, mp__deadline_in(20000), &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "HTTP 403 SignatureDoesNotMatch"));
    assert_non_null(strstr(err.message, "AWS_SECRET_ACCESS_KEY"));
    assert_null(strstr(err.message, "not-the-secret"));
    assert_null(strstr(err.message, "attempts")); /* not retried */
    mp__s3_client_free(c);
}

static const char *no_creds_env(const char *name, void *data)
{
    (void)data;
    if (strncmp(name, "AWS_", 4) == 0) return NULL;
    return getenv(name);
}

static void test_no_credentials(void **state)
{
    (void)state;
    mp_s3_client *c = NULL;
    mp_error err = {0};
    assert_int_equal(mp__s3_client_open(&c, url, no_creds_env, NULL, &err), MP_EUSAGE);
    assert_null(c);
    assert_non_null(strstr(err.message, "AWS_ACCESS_KEY_ID"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_keys),      cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_list_pages_and_delete), cmocka_unit_test(test_missing_bucket),
        cmocka_unit_test(test_wrong_secret),        cmocka_unit_test(test_no_credentials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
