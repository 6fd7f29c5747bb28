/* pack.c -- packing matched files into a blob (see pack.h). */
#include "artifacts/pack.h"
#include "artifacts/fileio.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static void to_hex(const unsigned char *md, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

static int stopped(const atomic_int *cancel, int64_t deadline, const char *what, mp_error *err)
{
    if (cancel && atomic_load(cancel))
        return mp__error(err, MP_ESTATE, what, "%s: cancelled", what);
    if (mp__deadline_passed(deadline))
        return mp__error(err, MP_ETIMEDOUT, what, "%s: deadline passed", what);
    return 0;
}

int mp__sha256_file(const char *path, const atomic_int *cancel, int64_t deadline, char hex[65],
                    mp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mp__error(err, errno == ENOENT ? MP_ENOENT : MP_EIO, path, "cannot read '%s': %s",
                         path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char *buf = mp__xmalloc(CHUNK);
    int rc = 0;
    for (;;) {
        if ((rc = stopped(cancel, deadline, path, err)) < 0) break;
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = mp__error(err, MP_EIO, path, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        EVP_DigestUpdate(md, buf, (size_t)r);
    }
    unsigned char out[32];
    EVP_DigestFinal_ex(md, out, NULL);
    if (rc == 0) to_hex(out, hex);
    EVP_MD_CTX_free(md);
    free(buf);
    close(fd);
    return rc;
}

void mp__pack_result_release(mp_pack_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nfiles; i++) free(r->files[i]);
    free(r->files);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ expansion */

typedef struct entries {
    size_t n, cap;
    char **v;
} entries;

static void push(entries *e, const char *rel)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = mp__xrealloc(e->v, mp__xmul(e->cap, sizeof *e->v));
    }
    e->v[e->n++] = mp__xstrdup(rel);
}

/* Add root/rel: a file or symlink itself, a directory everything below. */
static int expand(const char *root, const char *rel, entries *e, mp_error *err)
{
    mp_strbuf full = MP_STRBUF_INIT;
    mp__strbuf_addf(&full, "%s/%s", root, rel);
    struct stat st;
    int rc = 0;
    if (lstat(full.buf, &st) < 0) {
        rc = mp__error(err, MP_EIO, rel, "cannot read '%s': %s", rel, strerror(errno));
    } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
        if (strcmp(rel, MP_PACK_MANIFEST) == 0)
            rc = mp__error(err, MP_EINVAL, rel,
                           "'%s' is reserved for the artifact's manifest and cannot be packed",
                           rel);
        else
            push(e, rel);
    } else if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(full.buf);
        if (!d) {
            rc = mp__error(err, MP_EIO, rel, "cannot read directory '%s': %s", rel,
                           strerror(errno));
        } else {
            entries names = {0};
            struct dirent *de;
            while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) push(&names, de->d_name);
            closedir(d);
            mp_strbuf sub = MP_STRBUF_INIT;
            for (size_t i = 0; i < names.n; i++) {
                if (rc == 0) {
                    mp__strbuf_reset(&sub);
                    mp__strbuf_addf(&sub, "%s/%s", rel, names.v[i]);
                    rc = expand(root, sub.buf, e, err);
                }
                free(names.v[i]);
            }
            free(names.v);
            mp__strbuf_release(&sub);
        }
    } else {
        rc = mp__error(err, MP_EINVAL, rel,
                       "'%s' is not a regular file, directory or symlink and cannot be packed",
                       rel);
    }
    mp__strbuf_release(&full);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -------------------------------------------------------------- writing */

typedef struct sink {
    int fd;
    EVP_MD_CTX *md;
    uint64_t size;
    int err; /* errno of a failed write */
} sink;

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t n)
{
    sink *s = data;
    int rc = mp__art_write_all(s->fd, buf, n);
    if (rc < 0) {
        s->err = -rc;
        archive_set_error(a, -rc, "%s", strerror(-rc));
        return -1;
    }
    EVP_DigestUpdate(s->md, buf, n);
    s->size += n;
    return (la_ssize_t)n;
}

static int arch_fail(struct archive *a, const sink *s, const char *out, mp_error *err)
{
    if (s->err)
        return mp__error(err, MP_EIO, out, "cannot write the artifact to '%s': %s", out,
                         strerror(s->err));
    return mp__error(err, MP_EIO, out, "packing failed: %s", archive_error_string(a));
}

static struct archive_entry *new_entry(const char *rel, mode_t type, unsigned perm, int64_t size)
{
    struct archive_entry *en = archive_entry_new();
    archive_entry_set_pathname(en, rel);
    archive_entry_set_filetype(en, type);
    archive_entry_set_perm(en, perm);
    archive_entry_set_size(en, size);
    archive_entry_set_mtime(en, 0, 0);
    archive_entry_set_uid(en, 0);
    archive_entry_set_gid(en, 0);
    return en;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* One regular file: header, content in chunks, its sha256 into *man. */
static int pack_file(struct archive *a, sink *s, const char *root, const char *rel,
                     const struct stat *before, unsigned char *buf, const atomic_int *cancel,
                     int64_t deadline, json_t *man, const char *out, mp_error *err)
{
    mp_strbuf full = MP_STRBUF_INIT;
    mp__strbuf_addf(&full, "%s/%s", root, rel);
    int fd = open(full.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    mp__strbuf_release(&full);
    if (fd < 0)
        return mp__error(err, MP_EIO, rel, "cannot read '%s': %s", rel, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !same_file(&st, before)) {
        close(fd);
        return mp__error(err, MP_EIO, rel, "'%s' changed while it was being packed", rel);
    }
    struct archive_entry *en =
        new_entry(rel, AE_IFREG, (unsigned)(st.st_mode & 07777), (int64_t)st.st_size);
    int rc = 0;
    if (archive_write_header(a, en) != ARCHIVE_OK) rc = arch_fail(a, s, out, err);
    archive_entry_free(en);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    uint64_t left = (uint64_t)st.st_size;
    while (rc == 0) {
        if ((rc = stopped(cancel, deadline, rel, err)) < 0) break;
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = mp__error(err, MP_EIO, rel, "cannot read '%s': %s", rel, strerror(errno));
            break;
        }
        if ((uint64_t)r > left || (r == 0 && left)) {
            rc = mp__error(err, MP_EIO, rel, "'%s' changed while it was being packed (%s)", rel,
                           r == 0 ? "it shrank" : "it grew");
            break;
        }
        if (r == 0) break;
        left -= (uint64_t)r;
        EVP_DigestUpdate(md, buf, (size_t)r);
        if (archive_write_data(a, buf, (size_t)r) != r) rc = arch_fail(a, s, out, err);
    }
    struct stat after;
    if (rc == 0 && (fstat(fd, &after) < 0 || !same_file(&after, before)))
        rc = mp__error(err, MP_EIO, rel, "'%s' changed while it was being packed", rel);
    close(fd);
    unsigned char d[32];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    if (rc == 0) {
        char hex[65];
        to_hex(d, hex);
        json_array_append_new(man, json_pack("{s:s, s:s, s:I, s:i, s:s}", "path", rel, "type",
                                             "file", "size", (json_int_t)st.st_size, "mode",
                                             (int)(st.st_mode & 07777), "sha256", hex));
    }
    return rc;
}

static int pack_link(struct archive *a, sink *s, const char *root, const char *rel,
                     const struct stat *st, json_t *man, const char *out, mp_error *err)
{
    mp_strbuf full = MP_STRBUF_INIT;
    mp__strbuf_addf(&full, "%s/%s", root, rel);
    char target[4096];
    ssize_t n = readlink(full.buf, target, sizeof target - 1);
    mp__strbuf_release(&full);
    if (n < 0) return mp__error(err, MP_EIO, rel, "cannot read symlink '%s': %s", rel, strerror(errno));
    target[n] = '\0';
    struct archive_entry *en = new_entry(rel, AE_IFLNK, 0777, 0);
    archive_entry_set_symlink(en, target);
    int rc = archive_write_header(a, en) == ARCHIVE_OK ? 0 : arch_fail(a, s, out, err);
    archive_entry_free(en);
    (void)st;
    if (rc == 0)
        json_array_append_new(man, json_pack("{s:s, s:s, s:s}", "path", rel, "type", "symlink",
                                             "target", target));
    return rc;
}

static int write_manifest(struct archive *a, sink *s, json_t *files, const char *out,
                          mp_error *err)
{
    json_t *doc = json_pack("{s:s, s:O}", "schema", "modpipe.manifest/v1", "files", files);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    size_t n = strlen(text);
    struct archive_entry *en = new_entry(MP_PACK_MANIFEST, AE_IFREG, 0644, (int64_t)n);
    int rc = 0;
    if (archive_write_header(a, en) != ARCHIVE_OK ||
        archive_write_data(a, text, n) != (la_ssize_t)n)
        rc = arch_fail(a, s, out, err);
    archive_entry_free(en);
    free(text);
    return rc;
}

int mp__pack(const char *root, const mp_glob_result *matches, const char *out,
             const atomic_int *cancel, int64_t deadline, mp_pack_result *res, mp_error *err)
{
    memset(res, 0, sizeof *res);
    entries e = {0};
    int rc = 0;
    for (size_t i = 0; i < matches->n && rc == 0; i++) rc = expand(root, matches->paths[i], &e, err);
    if (rc == 0 && e.n) {
        qsort(e.v, e.n, sizeof *e.v, cmp_str);
        size_t m = 0;
        for (size_t i = 0; i < e.n; i++) {
            if (m && strcmp(e.v[m - 1], e.v[i]) == 0)
                free(e.v[i]);
            else
                e.v[m++] = e.v[i];
        }
        e.n = m;
    }
    if (rc < 0) goto fail_entries;

    sink s = {.fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
    if (s.fd < 0) {
        rc = mp__error(err, MP_EIO, out, "cannot create '%s': %s", out, strerror(errno));
        goto fail_entries;
    }
    s.md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
    struct archive *a = archive_write_new();
    archive_write_add_filter_zstd(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, (int)CHUNK); /* 1 MiB writes, not 10 KiB */
    archive_write_set_bytes_in_last_block(a, 1);
    json_t *man = json_array();
    unsigned char *buf = mp__xmalloc(CHUNK);
    if (archive_write_open2(a, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
        rc = arch_fail(a, &s, out, err);
    for (size_t i = 0; i < e.n && rc == 0; i++) {
        mp_strbuf full = MP_STRBUF_INIT;
        mp__strbuf_addf(&full, "%s/%s", root, e.v[i]);
        struct stat st;
        if (lstat(full.buf, &st) < 0)
            rc = mp__error(err, MP_EIO, e.v[i], "cannot read '%s': %s", e.v[i], strerror(errno));
        else if (S_ISLNK(st.st_mode))
            rc = pack_link(a, &s, root, e.v[i], &st, man, out, err);
        else if (S_ISREG(st.st_mode))
            rc = pack_file(a, &s, root, e.v[i], &st, buf, cancel, deadline, man, out, err);
        else
            rc = mp__error(err, MP_EIO, e.v[i], "'%s' changed while it was being packed", e.v[i]);
        mp__strbuf_release(&full);
    }
    if (rc == 0) rc = write_manifest(a, &s, man, out, err);
    if (rc == 0 && archive_write_close(a) != ARCHIVE_OK) rc = arch_fail(a, &s, out, err);
    archive_write_free(a);
    json_decref(man);
    free(buf);
    unsigned char d[32];
    EVP_DigestFinal_ex(s.md, d, NULL);
    EVP_MD_CTX_free(s.md);
    if (close(s.fd) < 0 && rc == 0)
        rc = mp__error(err, MP_EIO, out, "cannot write '%s': %s", out, strerror(errno));
    if (rc < 0) {
        unlink(out);
        goto fail_entries;
    }
    to_hex(d, res->digest);
    res->size = s.size;
    res->nfiles = e.n;
    res->files = e.v;
    return 0;

fail_entries:
    for (size_t i = 0; i < e.n; i++) free(e.v[i]);
    free(e.v);
    return rc;
}
