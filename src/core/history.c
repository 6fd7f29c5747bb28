/*
 * history.c -- module durations of earlier runs (see history.h).
 *
 * In memory the history is the jansson object of "modules", validated on
 * load (every entry an object with integer ms >= 0 and runs >= 1), so the
 * rest of the file trusts it.
 */
#include "core/error.h"
#include "core/history.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HISTORY_BYTES (64L * 1024 * 1024)

struct mp_history {
    char *dir;
    char *path;
    json_t *modules; /* name -> {"ms": int, "runs": int} */
};

static mp_history *history_empty(const char *state_dir)
{
    mp_history *h = mp__xcalloc(1, sizeof(*h));
    mp_strbuf sb = MP_STRBUF_INIT;
    h->dir = mp__xstrdup(state_dir);
    mp__strbuf_addf(&sb, "%s/%s", state_dir, MP_HISTORY_FILE);
    h->path = mp__strbuf_detach(&sb);
    h->modules = json_object();
    if (!h->modules) mp__die("out of memory");
    return h;
}

/* Why `root` is not a history, or NULL when it is one. */
static const char *check_root(json_t *root)
{
    if (!json_is_object(root)) return "not a JSON object";
    json_t *schema = json_object_get(root, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), MP_HISTORY_SCHEMA) != 0)
        return "schema is not \"" MP_HISTORY_SCHEMA "\"";
    json_t *mods = json_object_get(root, "modules");
    if (!json_is_object(mods)) return "\"modules\" is not an object";
    for (void *it = json_object_iter(mods); it; it = json_object_iter_next(mods, it)) {
        json_t *e = json_object_iter_value(it);
        json_t *ms = json_object_get(e, "ms"), *runs = json_object_get(e, "runs");
        if (!json_is_integer(ms) || json_integer_value(ms) < 0 || !json_is_integer(runs) ||
            json_integer_value(runs) < 1)
            return "malformed module entry";
    }
    return NULL;
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
    if (st.st_size > MAX_HISTORY_BYTES) {
        mp__error(warning, MP_ETOOBIG, h->path, "ignoring %s: larger than %ld bytes", h->path,
                  MAX_HISTORY_BYTES);
        close(fd);
        return h;
    }
    /* One read into memory, then parse: jansson's fd reader reads a byte
     * per system call (264,000 calls for a 5,000-module history). */
    size_t cap = (size_t)st.st_size, len = 0;
    char *buf = mp__xmalloc(cap + 1);
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!root) {
        mp__error(warning, MP_EPARSE, h->path, "ignoring %s: line %d: %s", h->path, jerr.line,
                  jerr.text);
        return h;
    }
    const char *why = check_root(root);
    if (why) {
        mp__error(warning, MP_EPARSE, h->path, "ignoring %s: %s", h->path, why);
    } else {
        json_decref(h->modules);
        h->modules = json_incref(json_object_get(root, "modules"));
    }
    json_decref(root);
    return h;
}

void mp__history_free(mp_history *h)
{
    if (!h) return;
    json_decref(h->modules);
    free(h->dir);
    free(h->path);
    free(h);
}

int mp__history_get(const mp_history *h, const char *name, int64_t *ms, int64_t *runs)
{
    json_t *e = json_object_get(h->modules, name);
    if (!e) return MP_ENOENT;
    if (ms) *ms = json_integer_value(json_object_get(e, "ms"));
    if (runs) *runs = json_integer_value(json_object_get(e, "runs"));
    return 0;
}

void mp__history_expected(const mp_history *h, const mp_pipeline *p, int64_t *expected_ms)
{
    for (size_t i = 0; i < p->modules.n; i++) {
        int64_t ms;
        expected_ms[i] =
            mp__history_get(h, p->modules.v[i]->name, &ms, NULL) == 0 ? ms : MP_HISTORY_UNKNOWN_MS;
    }
}

void mp__history_record(mp_history *h, const char *name, int64_t ms)
{
    int64_t old, runs;
    if (ms < 0) ms = 0;
    if (mp__history_get(h, name, &old, &runs) == 0) {
        /* (old + ms + 1) / 2 without overflow */
        ms = old / 2 + ms / 2 + ((old % 2) + (ms % 2) + 1) / 2;
        runs++;
    } else {
        runs = 1;
    }
    json_t *e = json_pack("{sIsI}", "ms", (json_int_t)ms, "runs", (json_int_t)runs);
    if (!e || json_object_set_new(h->modules, name, e) < 0) mp__die("out of memory");
}

void mp__history_update(mp_history *h, const mp_pipeline *p, const mp_result *results)
{
    for (size_t i = 0; i < p->modules.n; i++)
        if (results[i].status == MP_STATUS_SUCCEEDED ||
            results[i].status == MP_STATUS_IGNORED_FAILURE)
            mp__history_record(h, p->modules.v[i]->name, results[i].duration_ms);
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write text to a new temp file next to path and rename it over path.
 * Returns 0, or -1 with errno set and *what naming the failed step. */
static int replace_file(const char *dir, const char *path, const char *text, const char **what)
{
    mp_strbuf tmp = MP_STRBUF_INIT;
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
    if (fchmod(fd, 0644) < 0 || write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0)
        goto out;
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
    json_t *root = json_pack("{sssO}", "schema", MP_HISTORY_SCHEMA, "modules", h->modules);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    if (!text) mp__die("out of memory");
    const char *what;
    int rc = 0;
    if (replace_file(h->dir, h->path, text, &what) < 0)
        rc = mp__error(err, MP_EIO, h->path, "cannot save %s: %s: %s", h->path, what,
                       strerror(errno));
    free(text);
    return rc;
}
