/* test_rstore_limits.c -- the redis:// store's URL options and limits:
 * max_size refuses a file before anything is written; chunk, ttl,
 * prefix and max_size are checked; unknown query keys are refused; the
 * size syntax; list walks SCAN pages and returns only object keys.
 * labels: redis */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "artifacts/redis/rstore_int.h"
#include "test_rstore_fixture.h"

static void test_max_size(void **state)
{
    (void)state;
    char prefix[64], url[512], dir[64], big[128], fits[128];
    rs_prefix(prefix, sizeof prefix);
    rs_url(url, sizeof url, prefix, "chunk=64KiB&max_size=100KiB");
    mp_store *s = rs_open(url);
    redisContext *c = rs_raw();
    rs_tmpdir(dir, sizeof dir);
    snprintf(big, sizeof big, "%s/big", dir);
    snprintf(fits, sizeof fits, "%s/fits", dir);
    rs_write_file(big, 100 * 1024 + 1, 1);
    rs_write_file(fits, 100 * 1024, 2);
    mp_error err = {0};
    assert_int_equal(mp__store_put(s, "runs/r/big", big, RS_DL(), &err), MP_EINVAL);
    assert_string_equal(err.where, "runs/r/big");
    assert_non_null(strstr(err.message, "is 102401 bytes, over the store's max_size of 102400"));
    size_t n;
    char **keys = rs_keys(c, prefix, &n);
    assert_int_equal(n, 0); /* not one chunk was written */
    rs_keys_free(keys);
    assert_int_equal(mp__store_put(s, "runs/r/fits", fits, RS_DL(), &err), 0);
    keys = rs_keys(c, prefix, &n);
    assert_int_equal(n, 3); /* metadata + 2 chunks */
    rs_keys_free(keys);
    mp__store_close(s);
    redisFree(c);
    rs_rmdir(dir);
}

static void refused(const char *query, const char *what)
{
    char url[512];
    snprintf(url, sizeof url, "%s?%s", rs_server(), query);
    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = url, .deadline = RS_DL()};
    int rc = mp__store_open(&o, &s, &err);
    if (rc != MP_EUSAGE || !strstr(err.message, what))
        print_error("%s: rc %d, %s (wanted: %s)\n", query, rc, err.message, what);
    assert_int_equal(rc, MP_EUSAGE);
    assert_null(s);
    assert_non_null(strstr(err.message, what));
}

static void test_bad_options(void **state)
{
    (void)state;
    refused("prefix=a&colour=blue",
            "unknown query parameter 'colour' (known: prefix, ttl, chunk, max_size)");
    refused("chunk=4MB", "bad chunk '4MB'");
    refused("chunk=1KiB", "from 64KiB to 256MiB");
    refused("chunk=512MiB", "from 64KiB to 256MiB");
    refused("ttl=5", "bad ttl '5'");
    refused("ttl=500ms", "below the minimum of 1s");
    refused("max_size=lots", "bad max_size 'lots'");
    refused("prefix=a//b", "bad prefix 'a//b'");
    refused("prefix=a*", "bad prefix 'a*'");
    refused("prefix=/a", "bad prefix '/a'");
    refused("ttl=1h&ttl=2h", "given twice");
}

static void test_size_syntax(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(mp__rstore_parse_size("4MiB", &v), 0);
    assert_int_equal(v, 4u << 20);
    assert_int_equal(mp__rstore_parse_size("512KiB", &v), 0);
    assert_int_equal(v, 512u << 10);
    assert_int_equal(mp__rstore_parse_size("2GiB", &v), 0);
    assert_int_equal(v, 2ULL << 30);
    assert_int_equal(mp__rstore_parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(mp__rstore_parse_size("10B", &v), 0);
    assert_int_equal(v, 10);
    const char *bad[] = {"", "MiB", "-1", "1.5MiB", "4mb", "4 MiB", "99999999999999999999",
                         "17179869184GiB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mp__rstore_parse_size(bad[i], &v), -1);
}

/* More objects than one SCAN page holds; chunk keys and foreign keys
 * under the prefix are never listed. */
static void test_list_pages(void **state)
{
    (void)state;
    char prefix[64], url[512], dir[64], src[128];
    rs_prefix(prefix, sizeof prefix);
    rs_url(url, sizeof url, prefix, "chunk=64KiB");
    mp_store *s = rs_open(url);
    rs_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/x", dir);
    rs_write_file(src, 100, 3);
    enum { N = 2500 };
    for (int i = 0; i < N; i++) {
        char key[64];
        snprintf(key, sizeof key, "runs/r/k%05d", i);
        assert_int_equal(mp__store_put(s, key, src, RS_DL(), NULL), 0);
    }
    redisContext *c = rs_raw();
    freeReplyObject(redisCommand(c, "SET %s/runs/r/astring x", prefix));
    freeReplyObject(redisCommand(c, "HSET %s/runs/r/.hidden a b", prefix));
    mp_store_list l = {0};
    assert_int_equal(mp__store_list(s, "runs/", RS_DL(), &l, NULL), 0);
    assert_int_equal(l.n, N);
    assert_string_equal(l.keys[0], "runs/r/k00000");
    assert_string_equal(l.keys[N - 1], "runs/r/k02499");
    for (size_t i = 1; i < l.n; i++) assert_true(strcmp(l.keys[i - 1], l.keys[i]) < 0);
    mp__store_list_release(&l);
    assert_int_equal(mp__store_list(s, "", RS_DL(), &l, NULL), 0);
    assert_int_equal(l.n, N);
    mp__store_list_release(&l);
    size_t n;
    char **keys = rs_keys(c, prefix, &n);
    for (size_t i = 0; i < n; i++) freeReplyObject(redisCommand(c, "DEL %s", keys[i]));
    rs_keys_free(keys);
    redisFree(c);
    mp__store_close(s);
    rs_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_size),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_size_syntax),
        cmocka_unit_test(test_list_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
