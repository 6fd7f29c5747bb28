/* test_pack.c -- packing and unpacking artifacts (artifacts/pack.h): a
 * round trip keeps bytes, modes and symlinks and is reproducible; crafted
 * tarballs that would escape are refused naming the entry; a file that
 * changes while packed fails the pack; an unreadable file is named; a
 * full disk during extraction leaves nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "artifacts/glob.h"
#include "artifacts/pack.h"
#include "os/clock.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static char *at(const char *rel)
{
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
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

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mp-pack-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int pack_pattern(const char *root, const char *pattern, const char *out,
                        mp_pack_result *res, mp_error *err)
{
    mp_glob_result g;
    int rc = mp__glob_run(root, &pattern, 1, &g, err);
    if (rc == 0) rc = mp__pack(root, &g, out, NULL, mp__deadline_in(60000), res, err);
    mp__glob_release(&g);
    return rc;
}

static void test_roundtrip(void **state)
{
    (void)state;
    sh("mkdir -p %s/src/build/lib/deep %s/src/build/bin && cd %s/src/build && "
       "head -c 3000000 /dev/urandom > lib/big.so && printf x > lib/deep/y.so && "
       ": > empty && printf '#!/bin/sh\\n' > bin/run && chmod 755 bin/run && "
       "printf s > lib/secret && chmod 600 lib/secret && ln -s lib/big.so link.so && "
       "printf h > lib/.hidden",
       dir, dir, dir);
    mp_pack_result r, r2;
    mp_error err = {0};
    int rc = pack_pattern(at("src"), "build/**", at("a.tar.zst"), &r, &err);
    if (rc) print_error("%s\n", err.message);
    assert_int_equal(rc, 0);
    /* The pattern matched the directory: everything below, hidden included. */
    assert_int_equal(r.nfiles, 7);
    assert_string_equal(r.files[0], "build/bin/run");
    char hex[65];
    assert_int_equal(mp__sha256_file(at("a.tar.zst"), NULL, mp__deadline_in(60000), hex, NULL), 0);
    assert_string_equal(hex, r.digest);
    struct stat st;
    assert_int_equal(stat(at("a.tar.zst"), &st), 0);
    assert_int_equal((uint64_t)st.st_size, r.size);
    /* Reproducible: same files, same digest (mtimes differ). */
    sh("touch -d '2001-01-01' %s/src/build/lib/big.so", dir);
    assert_int_equal(pack_pattern(at("src"), "build/**", at("b.tar.zst"), &r2, &err), 0);
    assert_string_equal(r.digest, r2.digest);
    mp__pack_result_release(&r2);
    /* Any tar reads it; the manifest comes last. */
    sh("tar --zstd -tf %s/a.tar.zst | tail -1 | grep -qx .modpipe-manifest.json", dir);
    sh("tar --zstd -xOf %s/a.tar.zst .modpipe-manifest.json | grep -q "
       "'\"path\":\"build/lib/secret\",\"type\":\"file\",\"size\":1,\"mode\":384'",
       dir);
    /* Unpack: same bytes, modes, symlink; the manifest is not written. */
    mp_unpack_stats us;
    rc = mp__unpack(at("a.tar.zst"), at("dst"), NULL, mp__deadline_in(60000), &us, &err);
    if (rc) print_error("%s\n", err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(us.files, 7);
    sh("diff -r --no-dereference %s/src/build %s/dst/build", dir, dir);
    assert_int_equal(stat(at("dst/build/lib/secret"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(at("dst/build/bin/run"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    assert_int_equal(lstat(at("dst/build/link.so"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(access(at("dst/.modpipe-manifest.json"), F_OK), -1);
    /* Extracting again overwrites. */
    sh("printf changed > %s/dst/build/lib/deep/y.so", dir);
    assert_int_equal(mp__unpack(at("a.tar.zst"), at("dst"), NULL, mp__deadline_in(60000), NULL,
                                &err),
                     0);
    sh("cmp %s/src/build/lib/deep/y.so %s/dst/build/lib/deep/y.so", dir, dir);
    mp__pack_result_release(&r);
    sh("rm -rf %s/src %s/dst %s/a.tar.zst %s/b.tar.zst", dir, dir, dir, dir);
}

/* A tarball written by hand: entries (name, type, content or link). */
typedef struct ent {
    const char *name;
    char type; /* f file, l symlink, h hardlink, d dir */
    const char *data;
} ent;

static void craft(const char *path, const ent *e, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_add_filter_zstd(a);
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *en = archive_entry_new();
        archive_entry_set_pathname(en, e[i].name);
        archive_entry_set_perm(en, 0644);
        if (e[i].type == 'f') {
            archive_entry_set_filetype(en, AE_IFREG);
            archive_entry_set_size(en, (la_int64_t)strlen(e[i].data));
        } else if (e[i].type == 'l') {
            archive_entry_set_filetype(en, AE_IFLNK);
            archive_entry_set_symlink(en, e[i].data);
        } else if (e[i].type == 'h') {
            archive_entry_set_filetype(en, AE_IFREG);
            archive_entry_set_hardlink(en, e[i].data);
        } else {
            archive_entry_set_filetype(en, AE_IFDIR);
        }
        assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
        if (e[i].type == 'f') archive_write_data(a, e[i].data, strlen(e[i].data));
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static void test_crafted_refused(void **state)
{
    (void)state;
    sh("mkdir -p %s/outside", dir);
    char esc[600];
    snprintf(esc, sizeof esc, "%s/outside", dir);
    const struct {
        ent e[3];
        size_t n;
        const char *named;
    } cases[] = {
        {{{"ok.txt", 'f', "fine"}, {"../evil", 'f', "x"}}, 2, "../evil"},
        {{{"ok.txt", 'f', "fine"}, {"a/../../evil", 'f', "x"}}, 2, "a/../../evil"},
        {{{"ok.txt", 'f', "fine"}, {"/tmp/mp-abs-evil", 'f', "x"}}, 2, "/tmp/mp-abs-evil"},
        {{{"ok.txt", 'f', "fine"}, {"sub/l", 'l', "../../etc"}}, 2, "sub/l"},
        {{{"ok.txt", 'f', "fine"}, {"abs", 'l', "/etc/passwd"}}, 2, "abs"},
        {{{"ok.txt", 'f', "fine"}, {"up", 'l', ".."}}, 2, "up"},
        {{{"ok.txt", 'f', "fine"}, {"hard", 'h', "ok.txt"}}, 2, "hard"},
        /* Through a symlink already in the target that leads out. */
        {{{"ok.txt", 'f', "fine"}, {"out/x", 'f', "x"}}, 2, "out/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh("rm -rf %s/t && mkdir -p %s/t && ln -s %s %s/t/out", dir, dir, esc, dir);
        craft(at("evil.tar.zst"), cases[i].e, cases[i].n);
        mp_error err = {0};
        int rc = mp__unpack(at("evil.tar.zst"), at("t"), NULL, mp__deadline_in(60000), NULL, &err);
        assert_int_equal(rc, MP_EINVAL);
        if (!strstr(err.message, cases[i].named)) print_error("case %zu: %s\n", i, err.message);
        assert_non_null(strstr(err.message, cases[i].named));
        /* Nothing written: ok.txt (created first) removed, nothing outside. */
        assert_int_equal(access(at("t/ok.txt"), F_OK), -1);
        sh("test -z \"$(ls -A %s/outside)\"", dir);
        sh("test ! -e %s/evil && test ! -e /tmp/mp-abs-evil", dir);
    }
    /* A symlink that stays inside is fine. */
    ent good[] = {{"sub/x", 'f', "x"}, {"sub/l", 'l', "../sub/x"}, {"d", 'd', NULL}};
    craft(at("good.tar.zst"), good, 3);
    sh("rm -rf %s/t", dir);
    assert_int_equal(mp__unpack(at("good.tar.zst"), at("t"), NULL, mp__deadline_in(60000), NULL,
                                NULL),
                     0);
    sh("test \"$(cat %s/t/sub/l)\" = x && test -d %s/t/d", dir, dir);
}

static atomic_int stop_writer;

static void *grow(void *arg)
{
    int fd = open(arg, O_WRONLY | O_APPEND);
    char b[4096] = {0};
    while (!atomic_load(&stop_writer))
        if (write(fd, b, sizeof b) < 0) break;
    close(fd);
    return NULL;
}

static void test_changing_file_fails(void **state)
{
    (void)state;
    sh("mkdir -p %s/chg && head -c 16000000 /dev/zero > %s/chg/grow.bin", dir, dir);
    pthread_t t;
    atomic_store(&stop_writer, 0);
    assert_int_equal(pthread_create(&t, NULL, grow, at("chg/grow.bin")), 0);
    usleep(20000);
    mp_pack_result r;
    mp_error err = {0};
    int rc = pack_pattern(at("chg"), "*.bin", at("chg.tar.zst"), &r, &err);
    atomic_store(&stop_writer, 1);
    pthread_join(t, NULL);
    assert_int_equal(rc, MP_EIO);
    assert_non_null(strstr(err.message, "changed while it was being packed"));
    assert_non_null(strstr(err.message, "grow.bin"));
    assert_int_equal(access(at("chg.tar.zst"), F_OK), -1); /* no torn blob */
}

/* Unreadable for a non-root user: run the pack as nobody when root. */
static void test_unreadable_named(void **state)
{
    (void)state;
    sh("mkdir -p %s/unr/sub && chmod 777 %s %s/unr && printf a > %s/unr/sub/a && "
       "printf b > %s/unr/sub/locked && chmod 000 %s/unr/sub/locked",
       dir, dir, dir, dir, dir, dir);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        if (getuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0)) _exit(90);
        mp_pack_result r;
        mp_error err = {0};
        int rc = pack_pattern(at("unr"), "sub/*", at("unr.tar.zst"), &r, &err);
        if (write(pfd[1], err.message, strlen(err.message)) < 0) _exit(91);
        _exit(rc == MP_EIO ? 0 : 1);
    }
    close(pfd[1]);
    char msg[600] = {0};
    ssize_t n = read(pfd[0], msg, sizeof msg - 1);
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(n > 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(msg, "sub/locked"));
    assert_non_null(strstr(msg, "Permission denied"));
    assert_int_equal(access(at("unr.tar.zst"), F_OK), -1);
}

/* A file size limit stands for a full disk: the write fails mid-file. */
static void test_full_disk_cleans_up(void **state)
{
    (void)state;
    sh("mkdir -p %s/fd/a && printf 1 > %s/fd/a/1 && printf 2 > %s/fd/a/2 && "
       "head -c 2000000 /dev/urandom > %s/fd/a/zbig",
       dir, dir, dir, dir);
    mp_pack_result r;
    mp_error err = {0};
    assert_int_equal(pack_pattern(at("fd"), "a", at("fd.tar.zst"), &r, &err), 0);
    mp__pack_result_release(&r);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {256 * 1024, 256 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0) _exit(90);
        mp_error e2 = {0};
        int rc = mp__unpack(at("fd.tar.zst"), at("fdout"), NULL, mp__deadline_in(60000), NULL, &e2);
        if (write(pfd[1], e2.message, strlen(e2.message)) < 0) _exit(91);
        _exit(rc == MP_EIO ? 0 : 1);
    }
    close(pfd[1]);
    char msg[600] = {0};
    ssize_t n = read(pfd[0], msg, sizeof msg - 1);
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(n > 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(msg, "a/zbig"));
    assert_non_null(strstr(msg, "File too large"));
    /* a/1 and a/2 were written before: removed; no temporary file left. */
    sh("test -z \"$(find %s/fdout -type f)\"", dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_crafted_refused),
        cmocka_unit_test(test_changing_file_fails),
        cmocka_unit_test(test_unreadable_named),
        cmocka_unit_test(test_full_disk_cleans_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
