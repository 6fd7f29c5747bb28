/*
 * history.c -- module durations of earlier runs (see history.h): the
 * table, and history.json read in one piece and replaced atomically.
 *
 * In memory the history is a hash table of entries in an arena
 * (history_int.h), filled by mp__hist_parse() (history_json.c), which
 * checks the file's every entry while it reads it, so the rest of this
 * file trusts the table. Saving streams the text (mp__hist_write) into a
 * temp file; nothing builds a JSON tree of 100,000 entries.
 */
#include "core/error.h"
#include "core/history_int.h"
#include "core/pipeline_tree.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HISTORY_BYTES (64L * 1024 * 1024)

void mp__hist_clear(mp_history *h)
{
    mp__strmap_release(&h->by_name);
    mp__arena_free(h->a);
    h->a = mp__arena_new();
    h->order.v = NULL;
    h->order.n = h->order.cap = 0;
    free(h->seen);
    h->seen = NULL;
    h->seen_p = NULL;
}

mp_hist_entry *mp__hist_find(const mp_history *h, const char *name, size_t len)
{
    return mp__strmap_getn(&h->by_name, name, len);
}

mp_hist_entry *mp__hist_add(mp_history *h, const char *name, size_t len, int64_t ms, int64_t runs)
{
    mp_hist_entry *e = mp__arena_alloc(h->a, sizeof(*e));
    e->name = mp__arena_strndup(h->a, name, len);
    e->ms = ms;
    e->runs = runs;
    mp__strmap_put(&h->by_name, e->name, e);
    MP_VEC_PUSH(h->a, &h->order, e);
    h->adds++;
    return e;
}

static mp_history *history_empty(const char *state_dir)
{
    mp_history *h = mp__xcalloc(1, sizeof(*h));
    mp_strbuf sb = MP_STRBUF_INIT;
    h->dir = mp__xstrdup(state_dir);
    mp__strbuf_addf(&sb, "%s/%s", state_dir, MP_HISTORY_FILE);
    h->path = mp__strbuf_detach(&sb);
    h->a = mp__arena_new();
    return h;
}

mp_history *mp__history_load(const char *state_dir, mp_error *warning)
{
    mp_history *h = history_empty(state_dir);
    if (warning) warning->code = 0;
    int fd = open(h->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            mp__error(warning, MP_EIO, h->path, "ignoring %s: %s", h->path, strerror(errno));
        return h;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        mp__error(warning, MP_EIO, h->path, "ignoring %s: %s", h->path, strerror(errno));
        close(fd);
        return h;
    }
    if (S_ISDIR(st.st_mode)) {
        mp__error(warning, MP_EIO, h->path, "ignoring %s: %s", h->path, strerror(EISDIR));
        close(fd);
        return h;
    }
    if (st.st_size > MAX_HISTORY_BYTES) {
        mp__error(warning, MP_ETOOBIG, h->path, "ignoring %s: larger than %ld bytes", h->path,
                  MAX_HISTORY_BYTES);
        close(fd);
        return h;
    }
    /* One read into memory, then one pass over the text. */
    size_t cap = (size_t)st.st_size, len = 0;
    char *buf = mp__xmalloc(cap + 1);
    int rerr = 0;
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rerr = errno;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (rerr) {
        mp__error(warning, MP_EIO, h->path, "ignoring %s: %s", h->path, strerror(rerr));
    } else {
        char why[256];
        if (mp__hist_parse(h, buf, len, why, sizeof(why)))
            mp__error(warning, MP_EPARSE, h->path, "ignoring %s: %s", h->path, why);
    }
    free(buf);
    return h;
}

void mp__history_free(mp_history *h)
{
    if (!h) return;
    mp__strmap_release(&h->by_name);
    mp__arena_free(h->a);
    free(h->seen);
    free(h->dir);
    free(h->path);
    free(h);
}

int mp__history_get(const mp_history *h, const char *name, int64_t *ms, int64_t *runs)
{
    const mp_hist_entry *e = mp__hist_find(h, name, strlen(name));
    if (!e) return MP_ENOENT;
    if (ms) *ms = e->ms;
    if (runs) *runs = e->runs;
    return 0;
}

void mp__history_expected(mp_history *h, const mp_pipeline *p, int64_t *expected_ms)
{
    free(h->seen);
    h->seen = mp__xcalloc(p->modules.n ? p->modules.n : 1, sizeof(*h->seen));
    h->seen_p = p;
    h->seen_adds = h->adds;
    for (size_t i = 0; i < p->modules.n; i++) {
        const char *name = p->modules.v[i]->name;
        mp_hist_entry *e = mp__hist_find(h, name, strlen(name));
        h->seen[i] = e;
        expected_ms[i] = e ? e->ms : MP_HISTORY_UNKNOWN_MS;
    }
}

/* Fold ms into e's average. */
static void fold(mp_hist_entry *e, int64_t ms)
{
    /* (old + ms + 1) / 2 without overflow */
    int64_t old = e->ms;
    e->ms = old / 2 + ms / 2 + ((old % 2) + (ms % 2) + 1) / 2;
    if (e->runs < INT64_MAX) e->runs++;
}

void mp__history_record(mp_history *h, const char *name, int64_t ms)
{
    if (ms < 0) ms = 0;
    size_t len = strlen(name);
    mp_hist_entry *e = mp__hist_find(h, name, len);
    if (e) {
        fold(e, ms);
    } else if (mp__utf8_valid(name)) {
        /* A name that is not UTF-8 cannot be a JSON key: not recorded. */
        mp__hist_add(h, name, len, ms, 1);
    }
}

void mp__history_update(mp_history *h, const mp_pipeline *p, const mp_result *results)
{
    mp_hist_entry **seen = h->seen_p == p ? h->seen : NULL;
    /* Nothing added since: a module unknown then is unknown now (names
     * in p are unique, so adding one does not add another). */
    bool none_added = seen && h->adds == h->seen_adds;
    for (size_t i = 0; i < p->modules.n; i++) {
        if (results[i].status != MP_STATUS_SUCCEEDED &&
            results[i].status != MP_STATUS_IGNORED_FAILURE)
            continue;
        int64_t ms = results[i].duration_ms < 0 ? 0 : results[i].duration_ms;
        const char *name = p->modules.v[i]->name;
        if (seen && seen[i])
            fold(seen[i], ms);
        else if (none_added && mp__utf8_valid(name))
            mp__hist_add(h, name, strlen(name), ms, 1);
        else if (!none_added)
            mp__history_record(h, name, ms);
    }
}

/* Write h to a new temp file next to its path and rename it over the path.
 * Returns 0, or -1 with errno set and *what naming the failed step. */
static int replace_file(const mp_history *h, const char **what)
{
    mp_strbuf tmp = MP_STRBUF_INIT;
    const char *dir = h->dir, *path = h->path;
    mp__strbuf_addf(&tmp, "%s.XXXXXX", path);
    int fd = -1, rc = -1;
    bool made = false;
    *what = "create the state directory";
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) goto out;
    *what = "create a temp file";
    fd = mkstemp(tmp.buf);
    if (fd < 0) goto out;
    made = true;
    *what = "write";
    if (fchmod(fd, 0644) < 0 || mp__hist_write(h, fd) < 0) goto out;
    *what = "fsync";
    if (fsync(fd) < 0) goto out;
    *what = "close";
    int c = close(fd);
    fd = -1;
    if (c < 0) goto out;
    *what = "rename into place";
    if (rename(tmp.buf, path) < 0) goto out;
    /* Make the rename durable; the new file is whole either way. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (rc < 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        if (made) unlink(tmp.buf);
        errno = e;
    }
    mp__strbuf_release(&tmp);
    return rc;
}

int mp__history_save(const mp_history *h, mp_error *err)
{
    const char *what;
    if (replace_file(h, &what) < 0)
        return mp__error(err, MP_EIO, h->path, "cannot save %s: %s: %s", h->path, what,
                         strerror(errno));
    return 0;
}
