/*
 * store_suite.c -- the conformance suite of the artifact store interface
 * (artifacts/store.h): every backend must pass every case. Written against
 * the mp__store_* calls only; the backend comes from
 * store_backend_under_test (see store_backend.h).
 *
 * Threads: the concurrency case starts threads and joins them before it
 * returns; every thread shares the one handle (store.h: handles are
 * thread-safe).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "artifacts/store.h"
#include "os/clock.h"
#include "store_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DL() mp__deadline_in(60000)

typedef struct fx {
    char *url;
    mp_store *s;
    char dir[64]; /* local scratch directory */
} fx;

static fx *fx_start(void)
{
    fx *f = calloc(1, sizeof *f);
    f->url = store_backend_under_test.url_new();
    mp_store_open_opts o = {.url = f->url, .deadline = DL()};
    mp_error err = {0};
    int rc = mp__store_open(&o, &f->s, &err);
    if (rc) print_error("open %s: %s\n", f->url, err.message);
    assert_int_equal(rc, 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/mp-store-local-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    return f;
}

static void fx_end(fx *f)
{
    mp__store_close(f->s);
    store_backend_under_test.url_free(f->url);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static char *local(fx *f, const char *name)
{
    static __thread char buf[8][256];
    static __thread int i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", f->dir, name);
    return p;
}

/* A file of n bytes: fill < 0 means pseudo-random bytes seeded by n. */
static void write_file(const char *path, size_t n, int fill)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    uint32_t x = (uint32_t)n * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        fputc(fill >= 0 ? fill : (int)(x >> 16) & 0xff, fp);
    }
    assert_int_equal(fclose(fp), 0);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + len, 1, cap - len, fp)) > 0) {
        len += r;
        if (len == cap) b = realloc(b, cap *= 2);
    }
    fclose(fp);
    *n = len;
    return b;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = read_file(a, &na), *y = read_file(b, &nb);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
}

static void put_ok(fx *f, const char *key, const char *path)
{
    mp_error err = {0};
    int rc = mp__store_put(f->s, key, path, DL(), &err);
    if (rc) print_error("put %s: %s\n", key, err.message);
    assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------------ cases */

/* put then get gives the same bytes: empty, small, several MiB. */
static void test_put_get_roundtrip(void **state)
{
    (void)state;
    fx *f = fx_start();
    const size_t sizes[] = {0, 1, 4096, 3 * 1024 * 1024 + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char key[64], src[32], dst[32];
        snprintf(key, sizeof key, "runs/r1/obj-%zu", i);
        snprintf(src, sizeof src, "src%zu", i);
        snprintf(dst, sizeof dst, "dst%zu", i);
        write_file(local(f, src), sizes[i], -1);
        put_ok(f, key, local(f, src));
        mp_error err = {0};
        int rc = mp__store_get(f->s, key, local(f, dst), DL(), &err);
        if (rc) print_error("get %s: %s\n", key, err.message);
        assert_int_equal(rc, 0);
        assert_same_file(local(f, src), local(f, dst));
    }
    fx_end(f);
}

/* A missing key: MP_ENOENT naming the key; the target is not created,
 * and an existing target keeps its content. */
static void test_get_missing(void **state)
{
    (void)state;
    fx *f = fx_start();
    mp_error err = {0};
    assert_int_equal(mp__store_get(f->s, "blobs/sha256/none", local(f, "t"), DL(), &err),
                     MP_ENOENT);
    assert_string_equal(err.where, "blobs/sha256/none");
    assert_int_equal(access(local(f, "t"), F_OK), -1);
    write_file(local(f, "keep"), 100, 'k');
    write_file(local(f, "keep.orig"), 100, 'k');
    assert_int_equal(mp__store_get(f->s, "a/b", local(f, "keep"), DL(), &err), MP_ENOENT);
    assert_same_file(local(f, "keep"), local(f, "keep.orig"));
    fx_end(f);
}

/* put on an existing key replaces the object. */
static void test_put_replaces(void **state)
{
    (void)state;
    fx *f = fx_start();
    write_file(local(f, "a"), 5000, 'a');
    write_file(local(f, "b"), 300, 'b');
    put_ok(f, "runs/x/k", local(f, "a"));
    put_ok(f, "runs/x/k", local(f, "b"));
    assert_int_equal(mp__store_get(f->s, "runs/x/k", local(f, "out"), DL(), NULL), 0);
    assert_same_file(local(f, "b"), local(f, "out"));
    fx_end(f);
}

/* exists answers 0/1 with the size; delete is idempotent. */
static void test_exists_delete(void **state)
{
    (void)state;
    fx *f = fx_start();
    uint64_t size = 12345;
    assert_int_equal(mp__store_exists(f->s, "runs/r/e", &size, DL(), NULL), 0);
    write_file(local(f, "e"), 777, 'e');
    put_ok(f, "runs/r/e", local(f, "e"));
    assert_int_equal(mp__store_exists(f->s, "runs/r/e", &size, DL(), NULL), 1);
    assert_int_equal(size, 777);
    assert_int_equal(mp__store_exists(f->s, "runs/r/e", NULL, DL(), NULL), 1);
    assert_int_equal(mp__store_delete(f->s, "runs/r/e", DL(), NULL), 0);
    assert_int_equal(mp__store_exists(f->s, "runs/r/e", &size, DL(), NULL), 0);
    assert_int_equal(mp__store_delete(f->s, "runs/r/e", DL(), NULL), 0);
    assert_int_equal(mp__store_delete(f->s, "never/was", DL(), NULL), 0);
    mp_error err = {0};
    assert_int_equal(mp__store_get(f->s, "runs/r/e", local(f, "o"), DL(), &err), MP_ENOENT);
    fx_end(f);
}

/* list: every key under a prefix, any depth, sorted, nothing else. */
static void test_list_prefix(void **state)
{
    (void)state;
    fx *f = fx_start();
    char blob[MP_STORE_BLOB_KEY_SIZE];
    assert_int_equal(mp__store_blob_key("0123456789abcdef0123456789abcdef0123456789abcdef01234567"
                                        "89abcdef",
                                        blob, sizeof blob),
                     0);
    const char *keys[] = {"runs/r1/z", "runs/r1/sub/b", "runs/r1/a", "runs/r10/c",
                          "runs/r2/c", blob};
    write_file(local(f, "x"), 10, 'x');
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) put_ok(f, keys[i], local(f, "x"));

    mp_store_list l = {0};
    assert_int_equal(mp__store_list(f->s, "runs/r1/", DL(), &l, NULL), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], "runs/r1/a");
    assert_string_equal(l.keys[1], "runs/r1/sub/b");
    assert_string_equal(l.keys[2], "runs/r1/z");
    mp__store_list_release(&l);

    assert_int_equal(mp__store_list(f->s, "", DL(), &l, NULL), 0);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.keys[0], blob);
    for (size_t i = 1; i < l.n; i++) assert_true(strcmp(l.keys[i - 1], l.keys[i]) < 0);
    mp__store_list_release(&l);

    assert_int_equal(mp__store_list(f->s, "blobs/sha256/", DL(), &l, NULL), 0);
    assert_int_equal(l.n, 1);
    mp__store_list_release(&l);
    assert_int_equal(mp__store_list(f->s, "nothing/here/", DL(), &l, NULL), 0);
    assert_int_equal(l.n, 0);
    assert_null(l.keys);

    mp_error err = {0};
    assert_int_equal(mp__store_list(f->s, "runs/r1", DL(), &l, &err), MP_EINVAL);
    assert_int_equal(mp__store_list(f->s, "/runs/", DL(), &l, &err), MP_EINVAL);
    fx_end(f);
}

/* Bad keys, missing deadlines and missing sources are refused before
 * anything is stored. */
static void test_refusals(void **state)
{
    (void)state;
    fx *f = fx_start();
    write_file(local(f, "x"), 10, 'x');
    const char *bad[] = {"", "/abs", "a//b", "a/", "../x", "a/../b", ".hidden", "a/.tmp",
                         "sp ace", "a\\b", "ü"};
    mp_error err = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mp__store_put(f->s, bad[i], local(f, "x"), DL(), &err), MP_EINVAL);
        assert_int_equal(mp__store_get(f->s, bad[i], local(f, "y"), DL(), &err), MP_EINVAL);
        assert_int_equal(mp__store_exists(f->s, bad[i], NULL, DL(), &err), MP_EINVAL);
        assert_int_equal(mp__store_delete(f->s, bad[i], DL(), &err), MP_EINVAL);
    }
    char longkey[MP_STORE_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(mp__store_put(f->s, longkey, local(f, "x"), DL(), &err), MP_EINVAL);
    assert_int_equal(mp__store_put(f->s, "k", local(f, "x"), MP_DEADLINE_NONE, &err), MP_EINVAL);
    assert_int_equal(mp__store_put(f->s, "k", local(f, "x"), mp__clock_now_ms() - 1, &err),
                     MP_ETIMEDOUT);
    assert_int_equal(mp__store_put(f->s, "k", local(f, "missing"), DL(), &err), MP_ENOENT);
    assert_int_equal(mp__store_exists(f->s, "k", NULL, DL(), &err), 0);
    mp_store_list l = {0};
    assert_int_equal(mp__store_list(f->s, "", DL(), &l, NULL), 0);
    assert_int_equal(l.n, 0);
    fx_end(f);
}

/* Writers replace one key while readers get it: every get is ENOENT
 * (before the first put) or one whole version, never a torn one; no
 * temporary object is ever listed. */
#define WRITERS 3
#define READERS 3
#define ROUNDS  8
#define VSIZE   (600 * 1024)

typedef struct worker {
    fx *f;
    int index;
    int bad; /* torn or failed reads/writes */
    int whole;
} worker;

static void *writer(void *arg)
{
    worker *w = arg;
    char src[32];
    snprintf(src, sizeof src, "w%d", w->index);
    write_file(local(w->f, src), VSIZE + (size_t)w->index * 1000, 'A' + w->index);
    for (int r = 0; r < ROUNDS; r++) {
        mp_error err = {0};
        if (mp__store_put(w->f->s, "runs/c/shared", local(w->f, src), DL(), &err) != 0) {
            print_error("writer %d: put: %s\n", w->index, err.message);
            w->bad++;
        }
    }
    return NULL;
}

static void *reader(void *arg)
{
    worker *w = arg;
    char dst[32];
    snprintf(dst, sizeof dst, "r%d", w->index);
    for (int r = 0; r < ROUNDS * 2; r++) {
        mp_error err = {0};
        int rc = mp__store_get(w->f->s, "runs/c/shared", local(w->f, dst), DL(), &err);
        if (rc == MP_ENOENT) continue;
        if (rc != 0) {
            print_error("reader %d: get: %s\n", w->index, err.message);
            w->bad++;
            continue;
        }
        size_t n;
        char *b = read_file(local(w->f, dst), &n);
        int v = n ? b[0] - 'A' : -1;
        bool ok = v >= 0 && v < WRITERS && n == VSIZE + (size_t)v * 1000;
        for (size_t i = 0; ok && i < n; i++) ok = b[i] == 'A' + v;
        free(b);
        if (ok) {
            w->whole++;
        } else {
            print_error("reader %d: torn object: %zu bytes, first byte %d\n", w->index, n, v);
            w->bad++;
        }
    }
    return NULL;
}

static void test_concurrent_replace(void **state)
{
    (void)state;
    fx *f = fx_start();
    pthread_t t[WRITERS + READERS];
    worker w[WRITERS + READERS];
    for (int i = 0; i < WRITERS + READERS; i++) {
        w[i] = (worker){.f = f, .index = i < WRITERS ? i : i - WRITERS};
        assert_int_equal(pthread_create(&t[i], NULL, i < WRITERS ? writer : reader, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS + READERS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < WRITERS + READERS; i++) assert_int_equal(w[i].bad, 0);
    mp_store_list l = {0};
    assert_int_equal(mp__store_list(f->s, "", DL(), &l, NULL), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.keys[0], "runs/c/shared");
    mp__store_list_release(&l);
    /* The final object is one whole version. */
    assert_int_equal(mp__store_get(f->s, "runs/c/shared", local(f, "final"), DL(), NULL), 0);
    size_t n;
    char *b = read_file(local(f, "final"), &n);
    int v = b[0] - 'A';
    assert_true(v >= 0 && v < WRITERS);
    assert_int_equal(n, VSIZE + (size_t)v * 1000);
    free(b);
    fx_end(f);
}

/* A get whose deadline is already over does nothing: no target file. */
static void test_deadline_passed(void **state)
{
    (void)state;
    fx *f = fx_start();
    write_file(local(f, "x"), 1000, 'x');
    put_ok(f, "runs/d/x", local(f, "x"));
    mp_error err = {0};
    int64_t past = mp__clock_now_ms() - 1;
    assert_int_equal(mp__store_get(f->s, "runs/d/x", local(f, "y"), past, &err), MP_ETIMEDOUT);
    assert_int_equal(access(local(f, "y"), F_OK), -1);
    assert_int_equal(mp__store_exists(f->s, "runs/d/x", NULL, past, &err), MP_ETIMEDOUT);
    mp_store_list l = {0};
    assert_int_equal(mp__store_list(f->s, "", past, &l, &err), MP_ETIMEDOUT);
    fx_end(f);
}

/* ----------------------------------------------------------------- runner */

#define STORE_CASE(name) cmocka_unit_test(test_##name)

static const struct CMUnitTest cases[] = {
    STORE_CASE(put_get_roundtrip),
    STORE_CASE(get_missing),
    STORE_CASE(put_replaces),
    STORE_CASE(exists_delete),
    STORE_CASE(list_prefix),
    STORE_CASE(refusals),
    STORE_CASE(concurrent_replace),
    STORE_CASE(deadline_passed),
};

int store_conf_main(int argc, char **argv)
{
    if (argc > 1) {
        char filter[128];
        snprintf(filter, sizeof filter, "test_%s", argv[1]);
        size_t i = 0;
        while (i < sizeof cases / sizeof cases[0] && strcmp(cases[i].name, filter) != 0) i++;
        if (i == sizeof cases / sizeof cases[0]) {
            fprintf(stderr, "no conformance case '%s'\n", argv[1]);
            return 2;
        }
        cmocka_set_test_filter(filter);
    }
    return cmocka_run_group_tests_name(store_backend_under_test.name, cases, NULL, NULL);
}
