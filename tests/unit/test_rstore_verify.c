/* test_rstore_verify.c -- the redis:// store checks what it reads and
 * keeps one expiry on every key of an object: chunks and metadata
 * damaged in Redis by the test make get fail naming the key, leaving no
 * file; metadata of another format is a clear error; every key of an
 * object has the same TTL, refreshed by a put of the same content; two
 * puts of one digest at once leave one object, no stray chunks.
 * labels: redis */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_rstore_fixture.h"

#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

#define KEY "runs/r1/obj"
#define OBJ_SIZE (200 * 1024) /* 4 chunks of 64 KiB: 64+64+64+8 */

typedef struct fx {
    char prefix[64], url[512], dir[64], src[128], dst[128];
    mp_store *s;
    redisContext *c;
    char gen[64];
} fx;

static fx *fx_start(const char *query)
{
    fx *f = calloc(1, sizeof *f);
    rs_prefix(f->prefix, sizeof f->prefix);
    rs_url(f->url, sizeof f->url, f->prefix, query ? query : "chunk=64KiB");
    f->s = rs_open(f->url);
    f->c = rs_raw();
    rs_tmpdir(f->dir, sizeof f->dir);
    snprintf(f->src, sizeof f->src, "%s/src", f->dir);
    snprintf(f->dst, sizeof f->dst, "%s/out", f->dir);
    assert_int_equal(mkdir(f->dst, 0755), 0);
    rs_write_file(f->src, OBJ_SIZE, 7);
    mp_error err = {0};
    int rc = mp__store_put(f->s, KEY, f->src, RS_DL(), &err);
    if (rc) print_error("put: %s\n", err.message);
    assert_int_equal(rc, 0);
    redisReply *r = redisCommand(f->c, "HGET %s/%s gen", f->prefix, KEY);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    snprintf(f->gen, sizeof f->gen, "%s", r->str);
    freeReplyObject(r);
    return f;
}

static void fx_end(fx *f)
{
    mp__store_close(f->s);
    redisFree(f->c);
    rs_rmdir(f->dir);
    free(f);
}

static void cmd(fx *f, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(f->c, fmt, f->prefix, f->gen, arg);
    assert_non_null(r);
    assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

/* get fails with MP_EIO naming the key and saying `what`; the output
 * directory stays empty (no target, no temporary file). */
static void get_fails(fx *f, const char *what)
{
    char target[160];
    snprintf(target, sizeof target, "%s/blob", f->dst);
    mp_error err = {0};
    int rc = mp__store_get(f->s, KEY, target, RS_DL(), &err);
    if (rc != MP_EIO || !strstr(err.message, what))
        print_error("rc %d, message: %s (wanted: %s)\n", rc, err.message, what);
    assert_int_equal(rc, MP_EIO);
    assert_string_equal(err.where, KEY);
    assert_non_null(strstr(err.message, "'" KEY "'"));
    assert_non_null(strstr(err.message, what));
    assert_int_equal(rs_dir_entries(f->dst), 0);
}

static void test_intact_roundtrip(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    char target[160];
    snprintf(target, sizeof target, "%s/blob", f->dst);
    assert_int_equal(mp__store_get(f->s, KEY, target, RS_DL(), NULL), 0);
    char c[512];
    snprintf(c, sizeof c, "cmp -s '%s' '%s'", f->src, target);
    assert_int_equal(system(c), 0);
    size_t n;
    char **keys = rs_keys(f->c, f->prefix, &n);
    assert_int_equal(n, 5); /* metadata + 4 chunks */
    rs_keys_free(keys);
    fx_end(f);
}

static void test_chunk_missing(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    cmd(f, "DEL %s/.chunks/%s/2%s", "");
    get_fails(f, "chunk 2 of 4 is missing");
    /* Incomplete: exists says absent, so a producer uploads again. */
    assert_int_equal(mp__store_exists(f->s, KEY, NULL, RS_DL(), NULL), 0);
    fx_end(f);
}

static void test_chunk_altered(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    cmd(f, "SETRANGE %s/.chunks/%s/1 100 %s", "XYZ");
    get_fails(f, "sha256 of its chunks is");
    fx_end(f);
}

static void test_chunk_truncated(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    cmd(f, "SET %s/.chunks/%s/1 %s", "short");
    get_fails(f, "chunk 1 of 4 is 5 bytes long");
    fx_end(f);
}

static void test_last_chunk_short(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    cmd(f, "SET %s/.chunks/%s/3 %s", "tiny");
    get_fails(f, "its chunks hold 196612 bytes, the metadata says 204800");
    fx_end(f);
}

static void meta_set(fx *f, const char *field, const char *value)
{
    redisReply *r = redisCommand(f->c, "HSET %s/%s %s %s", f->prefix, KEY, field, value);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    freeReplyObject(r);
}

static void test_count_mismatch(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    meta_set(f, "chunks", "5");
    get_fails(f, "5 chunks cannot hold 204800 bytes");
    meta_set(f, "chunks", "3");
    get_fails(f, "its chunks hold 196608 bytes, the metadata says 204800");
    fx_end(f);
}

static void test_size_mismatch(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    meta_set(f, "size", "204801");
    get_fails(f, "its chunks hold 204800 bytes, the metadata says 204801");
    fx_end(f);
}

static void test_digest_mismatch(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    meta_set(f, "sha256", "0000000000000000000000000000000000000000000000000000000000000000");
    get_fails(f, "the metadata says 0000000000000000000000000000000000000000000000000000000000000000");
    fx_end(f);
}

/* Metadata written by another format version: get and exists refuse it
 * naming both formats; nothing is written locally. */
static void test_other_format(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    meta_set(f, "format", "modpipe.rstore/9");
    get_fails(f, "format 'modpipe.rstore/9', this modpipe reads 'modpipe.rstore/1'");
    mp_error err = {0};
    assert_int_equal(mp__store_exists(f->s, KEY, NULL, RS_DL(), &err), MP_EIO);
    assert_non_null(strstr(err.message, "modpipe.rstore/9"));
    assert_non_null(strstr(err.message, "modpipe.rstore/1"));
    assert_string_equal(err.where, KEY);
    /* A key that is not a hash at all. */
    redisReply *r = redisCommand(f->c, "SET %s/runs/r1/str x", f->prefix);
    freeReplyObject(r);
    assert_int_equal(mp__store_exists(f->s, "runs/r1/str", NULL, RS_DL(), &err), MP_EIO);
    assert_non_null(strstr(err.message, "holds a string, not object metadata"));
    fx_end(f);
}

/* PTTL of every key under the prefix into lo/hi; the count of keys. */
static size_t ttl_span(fx *f, long long *lo, long long *hi)
{
    size_t n;
    char **keys = rs_keys(f->c, f->prefix, &n);
    *lo = LLONG_MAX;
    *hi = LLONG_MIN;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = redisCommand(f->c, "PTTL %s", keys[i]);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        if (r->integer < 0) print_error("%s has no expiry (PTTL %lld)\n", keys[i], r->integer);
        if (r->integer < *lo) *lo = r->integer;
        if (r->integer > *hi) *hi = r->integer;
        freeReplyObject(r);
    }
    rs_keys_free(keys);
    return n;
}

static void test_expiry_on_every_key(void **state)
{
    (void)state;
    fx *f = fx_start("chunk=64KiB&ttl=1h");
    long long lo, hi;
    assert_int_equal(ttl_span(f, &lo, &hi), 5);
    assert_true(lo > 3600000 - 60000); /* every key: about 1 h, none without expiry */
    assert_true(hi <= 3600000);
    assert_true(hi - lo < 30000);
    /* Age every key, then put the same content: the object is kept (same
     * upload id), every key's expiry is back to about 1 h. */
    size_t n;
    char **keys = rs_keys(f->c, f->prefix, &n);
    for (size_t i = 0; i < n; i++) freeReplyObject(redisCommand(f->c, "PEXPIRE %s 5000", keys[i]));
    rs_keys_free(keys);
    assert_int_equal(mp__store_put(f->s, KEY, f->src, RS_DL(), NULL), 0);
    assert_int_equal(ttl_span(f, &lo, &hi), 5);
    assert_true(lo > 3600000 - 60000);
    redisReply *r = redisCommand(f->c, "HGET %s/%s gen", f->prefix, KEY);
    assert_string_equal(r->str, f->gen);
    freeReplyObject(r);
    /* Other content replaces the object; the old chunks are gone. */
    rs_write_file(f->src, 70 * 1024, 8);
    assert_int_equal(mp__store_put(f->s, KEY, f->src, RS_DL(), NULL), 0);
    assert_int_equal(ttl_span(f, &lo, &hi), 3); /* metadata + 2 chunks */
    assert_true(lo > 3600000 - 60000);
    fx_end(f);
}

/* Several processes' worth of puts of one digest at once. */
typedef struct putter {
    fx *f;
    int rc;
} putter;

static void *put_same(void *arg)
{
    putter *p = arg;
    p->rc = mp__store_put(p->f->s, KEY, p->f->src, RS_DL(), NULL);
    return NULL;
}

static void test_same_digest_concurrently(void **state)
{
    (void)state;
    fx *f = fx_start(NULL);
    mp__store_delete(f->s, KEY, RS_DL(), NULL);
    enum { N = 4 };
    pthread_t t[N];
    putter p[N];
    for (int i = 0; i < N; i++) {
        p[i] = (putter){.f = f};
        assert_int_equal(pthread_create(&t[i], NULL, put_same, &p[i]), 0);
    }
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) assert_int_equal(p[i].rc, 0);
    size_t n;
    char **keys = rs_keys(f->c, f->prefix, &n);
    assert_int_equal(n, 5); /* one object: metadata + 4 chunks, no stray upload */
    rs_keys_free(keys);
    uint64_t size = 0;
    assert_int_equal(mp__store_exists(f->s, KEY, &size, RS_DL(), NULL), 1);
    assert_int_equal(size, OBJ_SIZE);
    fx_end(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact_roundtrip),   cmocka_unit_test(test_chunk_missing),
        cmocka_unit_test(test_chunk_altered),      cmocka_unit_test(test_chunk_truncated),
        cmocka_unit_test(test_last_chunk_short),   cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_size_mismatch),      cmocka_unit_test(test_digest_mismatch),
        cmocka_unit_test(test_other_format),       cmocka_unit_test(test_expiry_on_every_key),
        cmocka_unit_test(test_same_digest_concurrently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
