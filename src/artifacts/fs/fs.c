/* fs.c -- the file:// store (see fs.h). */
#include "artifacts/fs/fs.h"
#include "artifacts/fileio.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fs_store {
    mp_store base; /* first: downcast */
    char *dir;     /* absolute, no trailing '/' */
} fs_store;

static fs_store *downcast(mp_store *s)
{
    if (s->vt != &mp__store_fs_vtable) mp__die("fs store: not a file:// handle (%s)", s->vt->name);
    return (fs_store *)s;
}

static char *key_path(const fs_store *fs, const char *key)
{
    size_t n = strlen(fs->dir) + strlen(key) + 2;
    char *p = mp__xmalloc(n);
    snprintf(p, n, "%s/%s", fs->dir, key);
    return p;
}

static int fs_open(const mp_store_open_opts *o, mp_store **out, mp_error *err)
{
    const char *url = o->url;
    if (strncmp(url, "file://", 7) != 0)
        return mp__error(err, MP_EUSAGE, url, "not a file:// URL");
    const char *path = url + 7;
    if (path[0] != '/')
        return mp__error(err, MP_EUSAGE, url,
                         "file:// store needs an absolute directory (file:///abs/dir)");
    if (strpbrk(path, "?#%"))
        return mp__error(err, MP_EUSAGE, url,
                         "file:// store URL takes no query, fragment or percent-escape");
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    char *dir = mp__xmalloc(n + 1);
    memcpy(dir, path, n);
    dir[n] = '\0';
    int rc = mp__art_mkdirs(dir, err);
    if (rc == 0 && access(dir, R_OK | W_OK | X_OK) < 0)
        rc = mp__error(err, MP_EIO, dir, "artifact store directory not usable: %s",
                       strerror(errno));
    if (rc < 0) {
        free(dir);
        return rc;
    }
    fs_store *fs = mp__xcalloc(1, sizeof *fs);
    fs->base.vt = &mp__store_fs_vtable;
    fs->dir = dir;
    *out = &fs->base;
    return 0;
}

static void fs_close(mp_store *s)
{
    fs_store *fs = downcast(s);
    free(fs->dir);
    free(fs);
}

static int fs_put(mp_store *s, const char *key, const char *path, int64_t deadline,
                  mp_error *err)
{
    fs_store *fs = downcast(s);
    char *dst = key_path(fs, key);
    int rc = mp__art_mkdirs_parent(dst, err);
    if (rc == 0) rc = mp__art_copy_atomic(path, dst, deadline, "put", err);
    free(dst);
    if (rc < 0 && err && rc != MP_ENOENT) snprintf(err->where, sizeof err->where, "%s", key);
    return rc;
}

static int fs_get(mp_store *s, const char *key, const char *path, int64_t deadline,
                  mp_error *err)
{
    fs_store *fs = downcast(s);
    char *src = key_path(fs, key);
    struct stat st;
    int rc;
    int e = stat(src, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : ENOENT;
    if (e) {
        rc = e == ENOENT || e == ENOTDIR
                 ? mp__error(err, MP_ENOENT, key, "no object '%s' in the store", key)
                 : mp__error(err, MP_EIO, key, "cannot read '%s': %s", key, strerror(e));
        free(src);
        return rc;
    }
    rc = mp__art_copy_atomic(src, path, deadline, "get", err);
    if (rc == MP_ENOENT) /* removed between stat and open */
        rc = mp__error(err, MP_ENOENT, key, "no object '%s' in the store", key);
    free(src);
    return rc;
}

static int fs_exists(mp_store *s, const char *key, uint64_t *size, int64_t deadline,
                     mp_error *err)
{
    (void)deadline;
    fs_store *fs = downcast(s);
    char *p = key_path(fs, key);
    struct stat st;
    int rc;
    int e = stat(p, &st) < 0 ? errno : 0;
    if (e == 0 && S_ISREG(st.st_mode)) {
        if (size) *size = (uint64_t)st.st_size;
        rc = 1;
    } else if (e == 0 || e == ENOENT || e == ENOTDIR) {
        rc = 0;
    } else {
        rc = mp__error(err, MP_EIO, key, "cannot check '%s': %s", key, strerror(e));
    }
    free(p);
    return rc;
}

static int fs_del(mp_store *s, const char *key, int64_t deadline, mp_error *err)
{
    (void)deadline;
    fs_store *fs = downcast(s);
    char *p = key_path(fs, key);
    int rc = 0;
    if (unlink(p) < 0 && errno != ENOENT && errno != ENOTDIR)
        rc = mp__error(err, MP_EIO, key, "cannot delete '%s': %s", key, strerror(errno));
    free(p);
    return rc;
}

typedef struct keyvec {
    size_t n, cap;
    char **v;
} keyvec;

static void keyvec_push(keyvec *kv, char *k)
{
    if (kv->n == kv->cap) {
        kv->cap = kv->cap ? kv->cap * 2 : 16;
        kv->v = mp__xrealloc(kv->v, mp__xmul(kv->cap, sizeof *kv->v));
    }
    kv->v[kv->n++] = k;
}

/* Walk <dir>/<rel> (rel "" or ending in '/'), pushing every regular file
 * not starting with '.' as a key. */
static int walk(const fs_store *fs, mp_strbuf *rel, int64_t deadline, keyvec *kv, mp_error *err)
{
    if (mp__deadline_passed(deadline))
        return mp__error(err, MP_ETIMEDOUT, rel->buf, "deadline passed while listing");
    mp_strbuf path = MP_STRBUF_INIT;
    mp__strbuf_addf(&path, "%s/%s", fs->dir, rel->buf);
    DIR *d = opendir(path.buf);
    if (!d) {
        int e = errno;
        mp__strbuf_release(&path);
        if (e == ENOENT || e == ENOTDIR) return 0;
        return mp__error(err, MP_EIO, rel->buf, "cannot list '%s': %s", rel->buf, strerror(e));
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        size_t keep = rel->len;
        mp__strbuf_adds(rel, de->d_name);
        unsigned char type = de->d_type;
        if (type == DT_UNKNOWN || type == DT_LNK) {
            struct stat st;
            mp_strbuf full = MP_STRBUF_INIT;
            mp__strbuf_addf(&full, "%s/%s", fs->dir, rel->buf);
            type = stat(full.buf, &st) < 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR
                                           : S_ISREG(st.st_mode)             ? DT_REG
                                                                             : DT_UNKNOWN;
            mp__strbuf_release(&full);
        }
        if (type == DT_DIR) {
            mp__strbuf_addch(rel, '/');
            rc = walk(fs, rel, deadline, kv, err);
        } else if (type == DT_REG && mp__store_key_valid(rel->buf)) {
            keyvec_push(kv, mp__xstrdup(rel->buf));
        }
        rel->len = keep;
        rel->buf[keep] = '\0';
    }
    closedir(d);
    mp__strbuf_release(&path);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fs_list(mp_store *s, const char *prefix, int64_t deadline, mp_store_list *out,
                   mp_error *err)
{
    fs_store *fs = downcast(s);
    keyvec kv = {0};
    mp_strbuf rel = MP_STRBUF_INIT;
    mp__strbuf_adds(&rel, prefix);
    int rc = walk(fs, &rel, deadline, &kv, err);
    mp__strbuf_release(&rel);
    if (rc < 0) {
        for (size_t i = 0; i < kv.n; i++) free(kv.v[i]);
        free(kv.v);
        return rc;
    }
    if (kv.n) qsort(kv.v, kv.n, sizeof *kv.v, cmp_str);
    out->n = kv.n;
    out->keys = kv.v;
    return 0;
}

const mp_store_vtable mp__store_fs_vtable = {
    .version = MP_STORE_VTABLE_VERSION,
    .name = "file",
    .open = fs_open,
    .close = fs_close,
    .put = fs_put,
    .get = fs_get,
    .exists = fs_exists,
    .del = fs_del,
    .list = fs_list,
};
