/* glob.c -- see glob.h. A recursive walk, one pattern segment per level;
 * fnmatch(3) with FNM_PERIOD matches a segment against a name. */
#include "artifacts/glob.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct pat {
    char **seg;
    size_t n;
    bool dir_only; /* ended in '/' */
} pat;

typedef struct walker {
    const char *root;
    const pat *p;
    mp_glob_result *out;
    size_t cap;
    mp_error *err;
    int rc;
} walker;

/* Index past a '[' class starting at s[i] == '[', or 0 if unterminated. */
static size_t class_end(const char *s, size_t i)
{
    size_t j = i + 1;
    if (s[j] == '!' || s[j] == '^') j++;
    if (s[j] == ']') j++;
    while (s[j] && s[j] != ']') {
        if (s[j] == '[' && s[j + 1] == ':') {
            const char *close = strstr(s + j + 2, ":]");
            if (!close) return 0;
            j = (size_t)(close - s) + 2;
            continue;
        }
        if (s[j] == '/') return 0;
        j++;
    }
    return s[j] == ']' ? j + 1 : 0;
}

int mp__glob_check(const char *pattern, mp_error *err)
{
    if (!pattern || !*pattern) return mp__error(err, MP_EINVAL, "", "empty path pattern");
    if (pattern[0] == '/')
        return mp__error(err, MP_EINVAL, pattern,
                         "path pattern '%s' is absolute: patterns are relative to the module's "
                         "working directory",
                         pattern);
    for (size_t i = 0; pattern[i]; i++) {
        char c = pattern[i];
        if (c == '\n' || c == '\r')
            return mp__error(err, MP_EINVAL, pattern, "path pattern contains a line break");
        if (c == '\\') {
            if (!pattern[i + 1])
                return mp__error(err, MP_EINVAL, pattern, "path pattern '%s' ends with '\\'",
                                 pattern);
            i++;
        } else if (c == '[') {
            size_t e = class_end(pattern, i);
            if (!e)
                return mp__error(err, MP_EINVAL, pattern,
                                 "path pattern '%s' has an unterminated '[' class", pattern);
            i = e - 1;
        }
    }
    const char *s = pattern;
    while (*s) {
        size_t len = strcspn(s, "/");
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return mp__error(err, MP_EINVAL, pattern,
                             "path pattern '%s' has a '..' segment: patterns cannot leave the "
                             "module's working directory",
                             pattern);
        s += len;
        while (*s == '/') s++;
    }
    return 0;
}

static void pat_parse(const char *pattern, pat *p)
{
    memset(p, 0, sizeof *p);
    size_t len = strlen(pattern);
    p->dir_only = len > 0 && pattern[len - 1] == '/';
    p->seg = mp__xcalloc(len + 1, sizeof *p->seg);
    const char *s = pattern;
    while (*s) {
        size_t l = strcspn(s, "/");
        if (l && !(l == 1 && s[0] == '.')) {
            char *seg = mp__xmalloc(l + 1);
            memcpy(seg, s, l);
            seg[l] = '\0';
            /* Consecutive "**" segments mean the same as one. */
            if (p->n && strcmp(seg, "**") == 0 && strcmp(p->seg[p->n - 1], "**") == 0)
                free(seg);
            else
                p->seg[p->n++] = seg;
        }
        s += l;
        while (*s == '/') s++;
    }
}

static void pat_free(pat *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->seg[i]);
    free(p->seg);
}

static bool magic(const char *seg)
{
    return strpbrk(seg, "*?[\\") != NULL;
}

static void add(walker *w, const char *rel, bool is_dir)
{
    if (!*rel) return; /* the root itself is never a match */
    if (w->p->dir_only && !is_dir) return;
    if (w->out->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->out->paths = mp__xrealloc(w->out->paths, mp__xmul(w->cap, sizeof(char *)));
    }
    w->out->paths[w->out->n++] = mp__xstrdup(rel);
}

/* lstat of root/rel: 0 absent, 1 a real directory, 2 anything else. */
static int kind(walker *w, const char *rel)
{
    mp_strbuf full = MP_STRBUF_INIT;
    mp__strbuf_addf(&full, "%s/%s", w->root, rel);
    struct stat st;
    int k = lstat(full.buf, &st) < 0 ? 0 : S_ISDIR(st.st_mode) ? 1 : 2;
    mp__strbuf_release(&full);
    return k;
}

static void join(mp_strbuf *sb, const char *dir, const char *name)
{
    mp__strbuf_reset(sb);
    if (*dir) mp__strbuf_addf(sb, "%s/", dir);
    mp__strbuf_adds(sb, name);
}

static void walk(walker *w, const char *dir, size_t k);

/* Every entry of root/dir (not "." or ".."): calls fn for each name. */
static void each_entry(walker *w, const char *dir, size_t k,
                       void (*fn)(walker *, const char *, const char *, size_t))
{
    mp_strbuf full = MP_STRBUF_INIT;
    mp__strbuf_addf(&full, "%s%s%s", w->root, *dir ? "/" : "", dir);
    DIR *d = opendir(full.buf);
    if (!d) {
        if (errno != ENOENT && errno != ENOTDIR && w->rc == 0)
            w->rc = mp__error(w->err, MP_EIO, full.buf, "cannot read directory '%s': %s", full.buf,
                              strerror(errno));
        mp__strbuf_release(&full);
        return;
    }
    /* Names first: the walk recurses, and a DIR stream per level would
     * hold a descriptor per depth. */
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = mp__xrealloc(names, mp__xmul(cap, sizeof *names));
        }
        names[n++] = mp__xstrdup(de->d_name);
    }
    closedir(d);
    mp__strbuf_release(&full);
    for (size_t i = 0; i < n; i++) {
        if (w->rc == 0) fn(w, dir, names[i], k);
        free(names[i]);
    }
    free(names);
}

static void on_globstar_entry(walker *w, const char *dir, const char *name, size_t k)
{
    if (name[0] == '.') return; /* ** neither matches nor enters hidden names */
    mp_strbuf rel = MP_STRBUF_INIT;
    join(&rel, dir, name);
    int kd = kind(w, rel.buf);
    if (k + 1 == w->p->n) add(w, rel.buf, kd == 1);
    if (kd == 1) walk(w, rel.buf, k);
    mp__strbuf_release(&rel);
}

static void on_magic_entry(walker *w, const char *dir, const char *name, size_t k)
{
    if (fnmatch(w->p->seg[k], name, FNM_PERIOD) != 0) return;
    mp_strbuf rel = MP_STRBUF_INIT;
    join(&rel, dir, name);
    int kd = kind(w, rel.buf);
    if (k + 1 == w->p->n)
        add(w, rel.buf, kd == 1);
    else if (kd == 1)
        walk(w, rel.buf, k + 1);
    mp__strbuf_release(&rel);
}

/* Match segments k.. of the pattern below root/dir ("" = root). */
static void walk(walker *w, const char *dir, size_t k)
{
    if (w->rc) return;
    if (k == w->p->n) {
        add(w, dir, true); /* only reached after a trailing ** (a directory) */
        return;
    }
    const char *seg = w->p->seg[k];
    if (strcmp(seg, "**") == 0) {
        walk(w, dir, k + 1); /* zero directories */
        each_entry(w, dir, k, on_globstar_entry);
    } else if (magic(seg)) {
        each_entry(w, dir, k, on_magic_entry);
    } else {
        mp_strbuf rel = MP_STRBUF_INIT;
        join(&rel, dir, seg);
        int kd = kind(w, rel.buf);
        if (kd && k + 1 == w->p->n)
            add(w, rel.buf, kd == 1);
        else if (kd == 1)
            walk(w, rel.buf, k + 1);
        mp__strbuf_release(&rel);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mp__glob_run(const char *root, const char *const *patterns, size_t npatterns,
                 mp_glob_result *out, mp_error *err)
{
    out->n = 0;
    out->paths = NULL;
    for (size_t i = 0; i < npatterns; i++) {
        int rc = mp__glob_check(patterns[i], err);
        if (rc < 0) return rc;
    }
    walker w = {.root = root, .out = out, .err = err};
    for (size_t i = 0; i < npatterns && w.rc == 0; i++) {
        pat p;
        pat_parse(patterns[i], &p);
        w.p = &p;
        if (p.n) walk(&w, "", 0);
        pat_free(&p);
    }
    if (w.rc < 0) {
        mp__glob_release(out);
        return w.rc;
    }
    if (out->n) qsort(out->paths, out->n, sizeof *out->paths, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (m && strcmp(out->paths[m - 1], out->paths[i]) == 0)
            free(out->paths[i]);
        else
            out->paths[m++] = out->paths[i];
    }
    out->n = m;
    return 0;
}

void mp__glob_release(mp_glob_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->paths[i]);
    free(r->paths);
    r->paths = NULL;
    r->n = 0;
}
