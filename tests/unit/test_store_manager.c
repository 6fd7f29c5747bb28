/* test_store_manager.c -- the artifact manager (artifacts/manager.h) over
 * a counting store (a file:// store behind a vtable that counts and slows
 * down gets): 8 concurrent fetches of one digest make exactly 1 store
 * read; a failed download is retried by the next fetch; a missing blob is
 * named with its producer and key; a crafted blob stored under its true
 * digest is refused naming the entry; 20,000 files are one blob, one put,
 * and an identical publish puts nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "artifacts/manager.h"
#include "artifacts/pack.h"
#include "artifacts/store.h"
#include "core/error.h"
#include "os/clock.h"

#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static char *at(const char *rel)
{
    static char buf[8][512];
    static atomic_int i;
    char *p = buf[atomic_fetch_add(&i, 1) % 8];
    snprintf(p, 512, "%s/%s", dir, rel);
    return p;
}

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------ counting store */

typedef struct counting {
    mp_store base;
    mp_store *inner;
    atomic_int gets;
} counting;

static const mp_store_vtable counting_vt;

static int c_open(const mp_store_open_opts *o, mp_store **out, mp_error *err)
{
    (void)o;
    (void)out;
    return mp__error(err, MP_EUSAGE, "", "opened by the test only");
}
static void c_close(mp_store *s)
{
    counting *c = (counting *)s;
    mp__store_close(c->inner);
    free(c);
}
static int c_put(mp_store *s, const char *k, const char *p, int64_t dl, mp_error *e)
{
    return mp__store_put(((counting *)s)->inner, k, p, dl, e);
}
static int c_get(mp_store *s, const char *k, const char *p, int64_t dl, mp_error *e)
{
    counting *c = (counting *)s;
    atomic_fetch_add(&c->gets, 1);
    usleep(200 * 1000); /* slow enough that the other fetches pile up */
    return mp__store_get(c->inner, k, p, dl, e);
}
static int c_exists(mp_store *s, const char *k, uint64_t *size, int64_t dl, mp_error *e)
{
    return mp__store_exists(((counting *)s)->inner, k, size, dl, e);
}
static int c_del(mp_store *s, const char *k, int64_t dl, mp_error *e)
{
    return mp__store_delete(((counting *)s)->inner, k, dl, e);
}
static int c_list(mp_store *s, const char *pfx, int64_t dl, mp_store_list *out, mp_error *e)
{
    return mp__store_list(((counting *)s)->inner, pfx, dl, out, e);
}
static const mp_store_vtable counting_vt = {MP_STORE_VTABLE_VERSION, "counting", c_open, c_close,
                                            c_put, c_get, c_exists, c_del, c_list};

typedef struct fx {
    counting *store;
    mp_art_manager *m;
} fx;

static fx open_fx(void)
{
    fx f;
    f.store = calloc(1, sizeof *f.store);
    f.store->base.vt = &counting_vt;
    char url[600];
    snprintf(url, sizeof url, "file://%s/store", dir);
    mp_store_open_opts so = {.url = url, .deadline = mp__deadline_in(10000)};
    assert_int_equal(mp__store_open(&so, &f.store->inner, NULL), 0);
    snprintf(f.store->base.url_shown, sizeof f.store->base.url_shown, "%s",
             mp__store_url_shown(f.store->inner));
    mp_art_manager_opts o = {.store = &f.store->base, .cache_dir = at("cache")};
    mp_error err = {0};
    assert_int_equal(mp__art_manager_open(&o, &f.m, &err), 0);
    return f;
}

static void close_fx(fx *f)
{
    mp__art_manager_close(f->m);
    c_close(&f->store->base);
    sh("rm -rf %s/cache %s/store", dir, dir);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mp-mgr-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void publish(fx *f, const char *workdir, const char *pattern, mp_art_published *out)
{
    mp_error err = {0};
    int rc = mp__art_publish(f->m, "build", workdir, "bins", &pattern, 1, NULL,
                             mp__deadline_in(60000), out, &err);
    if (rc) print_error("%s\n", err.message);
    assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------ the cases */

typedef struct consumer {
    fx *f;
    const char *digest;
    int index;
    pthread_barrier_t *go;
    int rc;
} consumer;

static void *consume(void *arg)
{
    consumer *c = arg;
    char target[600];
    snprintf(target, sizeof target, "%s/c%d", dir, c->index);
    pthread_barrier_wait(c->go);
    mp_error err = {0};
    c->rc = mp__art_fetch(c->f->m, "build", "bins", c->digest, target, NULL,
                          mp__deadline_in(60000), &err);
    if (c->rc) print_error("consumer %d: %s\n", c->index, err.message);
    return NULL;
}

static void test_single_flight(void **state)
{
    (void)state;
    sh("mkdir -p %s/src/out && seq 1 100000 > %s/src/out/a && printf b > %s/src/out/b", dir, dir,
       dir);
    fx f = open_fx();
    mp_art_published p;
    publish(&f, at("src"), "out/*", &p);
    enum { N = 8 };
    pthread_t t[N];
    consumer c[N];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        c[i] = (consumer){.f = &f, .digest = p.digest, .index = i, .go = &go};
        assert_int_equal(pthread_create(&t[i], NULL, consume, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].rc, 0);
        sh("diff -r %s/src/out %s/c%d/out", dir, dir, i);
    }
    assert_int_equal(atomic_load(&f.store->gets), 1);
    mp_art_stats st;
    mp__art_manager_stats(f.m, &st);
    assert_int_equal(st.gets, 1);
    mp__art_published_release(&p);
    close_fx(&f);
    sh("rm -rf %s/src %s/c*", dir, dir);
}

/* A blob missing from the store: named with producer and key; once it is
 * there, the next fetch downloads it (nothing was cached). */
static void test_missing_then_retried(void **state)
{
    (void)state;
    sh("mkdir -p %s/src2/o && printf 1 > %s/src2/o/x", dir, dir);
    fx f = open_fx();
    mp_art_published p;
    publish(&f, at("src2"), "o/x", &p);
    char key[MP_STORE_BLOB_KEY_SIZE];
    mp__store_blob_key(p.digest + 7, key, sizeof key);
    assert_int_equal(mp__store_put(f.store->inner, "runs/r/keep", at("src2/o/x"),
                                   mp__deadline_in(1000), NULL), 0);
    sh("mv %s/store/%s %s/saved", dir, key, dir);
    mp_error err = {0};
    int rc = mp__art_fetch(f.m, "build", "bins", p.digest, at("t"), NULL, mp__deadline_in(60000),
                           &err);
    assert_int_equal(rc, MP_ENOENT);
    assert_non_null(strstr(err.message, "artifact 'bins' of module 'build' is not in the store"));
    assert_non_null(strstr(err.message, key));
    assert_non_null(strstr(err.message, "file://"));
    sh("mv %s/saved %s/store/%s", dir, dir, key);
    assert_int_equal(mp__art_fetch(f.m, "build", "bins", p.digest, at("t"), NULL,
                                   mp__deadline_in(60000), &err),
                     0);
    assert_int_equal(atomic_load(&f.store->gets), 2);
    sh("test \"$(cat %s/t/o/x)\" = 1", dir);
    mp__art_published_release(&p);
    close_fx(&f);
}

/* A crafted blob stored under its true digest still cannot escape. */
static void test_crafted_blob_refused(void **state)
{
    (void)state;
    fx f = open_fx();
    struct archive *a = archive_write_new();
    archive_write_add_filter_zstd(a);
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, at("evil.tar.zst")), ARCHIVE_OK);
    struct archive_entry *en = archive_entry_new();
    archive_entry_set_pathname(en, "fine/../../../escaped");
    archive_entry_set_filetype(en, AE_IFREG);
    archive_entry_set_perm(en, 0644);
    archive_entry_set_size(en, 1);
    assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
    archive_write_data(a, "x", 1);
    archive_entry_free(en);
    archive_write_close(a);
    archive_write_free(a);
    char hex[65], key[MP_STORE_BLOB_KEY_SIZE], digest[80];
    assert_int_equal(mp__sha256_file(at("evil.tar.zst"), NULL, mp__deadline_in(1000), hex, NULL),
                     0);
    mp__store_blob_key(hex, key, sizeof key);
    snprintf(digest, sizeof digest, "sha256:%s", hex);
    assert_int_equal(mp__store_put(f.store->inner, key, at("evil.tar.zst"), mp__deadline_in(1000),
                                   NULL),
                     0);
    mp_error err = {0};
    int rc = mp__art_fetch(f.m, "build", "bins", digest, at("deep/t"), NULL,
                           mp__deadline_in(60000), &err);
    assert_int_equal(rc, MP_EINVAL);
    assert_non_null(strstr(err.message, "refused artifact entry 'fine/../../../escaped'"));
    sh("test ! -e %s/escaped", dir);
    close_fx(&f);
}

/* 20,000 files: one blob, one put; publishing them again puts nothing. */
static void test_many_files_one_upload(void **state)
{
    (void)state;
    sh("mkdir -p %s/many/m && cd %s/many/m && seq -w 1 20000 | xargs touch", dir, dir);
    fx f = open_fx();
    mp_art_published p, q;
    publish(&f, at("many"), "m/**", &p);
    assert_int_equal(p.nfiles, 20000);
    assert_true(p.uploaded);
    publish(&f, at("many"), "m/**", &q);
    assert_false(q.uploaded);
    assert_string_equal(p.digest, q.digest);
    mp_art_stats st;
    mp__art_manager_stats(f.m, &st);
    assert_int_equal(st.puts, 1);
    mp_store_list l = {0};
    assert_int_equal(mp__store_list(&f.store->base, "", mp__deadline_in(10000), &l, NULL), 0);
    assert_int_equal(l.n, 1);
    mp__store_list_release(&l);
    mp__art_published_release(&p);
    mp__art_published_release(&q);
    close_fx(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_missing_then_retried),
        cmocka_unit_test(test_crafted_blob_refused),
        cmocka_unit_test(test_many_files_one_upload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
