/*
 * load.c -- mp_pipeline_load_file() and mp_pipeline_load_string()
 * (modpipe.h): read the input, parse it into a yaml_tree, map the tree onto
 * the model (load_pipeline.c and friends), report duplicate keys.
 *
 * The tree lives in an arena of its own that is freed before returning;
 * the model keeps copies of the strings it needs, in the pipeline's arena.
 * Problems go to p->diags, positioned in the display name (kept in the
 * pipeline's arena). A load that added any problem returns MP_EINVALID;
 * what loaded without a problem stays in the pipeline either way.
 */
#include "config/load.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t problem_total(const mp_pipeline *p)
{
    return p->diags.list.n + p->diags.dropped;
}

static void on_dup(void *data, const mp_ynode *map, const mp_ydup *dup)
{
    const mp_loader *l = data;
    if (map == l->modules)
        mp__load_problem(l, mp__load_pos(l, dup->key),
                         "duplicate module \"%s\" (first defined at line %u)",
                         mp__load_quote(l, dup->key->str), dup->first_line);
    else
        mp__load_problem(l, mp__load_pos(l, dup->key), "duplicate key \"%s\" (first at line %u)",
                         mp__load_quote(l, dup->key->str), dup->first_line);
}

/* size is exact for a regular file; from a pipe or device only a lower
 * bound is known (what was read before giving up). */
static int too_big(mp_error *err, const char *where, unsigned long long size, int exact)
{
    if (!exact)
        return mp__error(err, MP_ETOOBIG, where,
                         "pipeline file is more than 8 MiB; the limit is 8 MiB");
    return mp__error(err, MP_ETOOBIG, where, "pipeline file is %llu bytes; the limit is 8 MiB",
                     size);
}

int mp_pipeline_load_string(mp_pipeline *p, const char *yaml, size_t len, const char *display_name,
                            mp_error *err)
{
    if (!p || (!yaml && len))
        return mp__error(err, MP_EINVAL, "", "no pipeline or no input to load");
    const char *file = mp__arena_strdup(p->arena, display_name ? display_name : "<string>");
    if (len > MP_YAML_MAX_BYTES) return too_big(err, file, len, 1);
    if (!p->diags.arena) p->diags.arena = p->arena;

    size_t before = problem_total(p), first = p->diags.list.n;
    mp_loader l = {.p = p, .a = p->arena, .tmp = mp__arena_new(), .file = file};
    const mp_ynode *root = NULL;
    if (mp__yaml_parse(l.tmp, &p->diags, file, yaml ? yaml : "", len, &root) == 0) {
        l.modules = mp__ynode_get(root, "modules");
        mp__load_pipeline(&l, root);
        mp__yaml_each_dup(root, on_dup, &l);
    }
    mp__arena_free(l.tmp);
    p->validated = false;
    p->hash = NULL;

    size_t added = problem_total(p) - before;
    if (!added) return 0;
    /* Sort what this load added, and only that: validation keeps track of
     * its own problems by index (core/validate.c). */
    mp_diags added_view = {.arena = p->arena};
    added_view.list.v = p->diags.list.v + first;
    added_view.list.n = added_view.list.cap = p->diags.list.n - first;
    mp__diag_sort(&added_view);
    return mp__error(err, MP_EINVALID, file, "%zu problem%s in the pipeline file", added,
                     added == 1 ? "" : "s");
}

/* Read all of fd (at most MP_YAML_MAX_BYTES) into a heap buffer. */
static int read_all(int fd, const struct stat *st, const char *path, char **out, size_t *outlen,
                    mp_error *err)
{
    size_t cap = S_ISREG(st->st_mode) && st->st_size > 0 ? (size_t)st->st_size + 1 : 64 * 1024;
    size_t len = 0;
    char *buf = mp__xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > MP_YAML_MAX_BYTES) {
                free(buf);
                return too_big(err, path, (unsigned long long)len, 0);
            }
            cap *= 2;
            buf = mp__xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return mp__error(err, MP_EIO, path, "%s", strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
        if (len > MP_YAML_MAX_BYTES) {
            free(buf);
            return too_big(err, path, (unsigned long long)len, 0);
        }
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int mp_pipeline_load_file(mp_pipeline *p, const char *path, mp_error *err)
{
    if (!p || !path) return mp__error(err, MP_EINVAL, "", "no pipeline or no file name");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return mp__error(err, e == ENOENT || e == ENOTDIR ? MP_ENOENT : MP_EIO, path, "%s",
                         strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return mp__error(err, MP_EIO, path, "%s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return mp__error(err, MP_EIO, path, "%s", strerror(EISDIR));
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > MP_YAML_MAX_BYTES) {
        close(fd);
        return too_big(err, path, (unsigned long long)st.st_size, 1);
    }
    char *buf = NULL;
    size_t len = 0;
    int rc = read_all(fd, &st, path, &buf, &len, err);
    close(fd);
    if (rc < 0) return rc;
    rc = mp_pipeline_load_string(p, buf, len, path, err);
    free(buf);
    return rc;
}
