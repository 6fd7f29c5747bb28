/*
 * logfile.c -- a module's log file, masked, echoed and tailed (logfile.h).
 *
 * Data path: feed() -> mask stream -> sink_write() -> file + echo + ring.
 * Notes bypass the stream (it is flushed first, so order is kept) but are
 * masked as whole strings.
 */
#include "core/logfile.h"
#include "core/error.h"
#include "core/strmap.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ',' || c == '=' || c == '+' || c == '-';
}

const char **mp__log_names(const mp_pipeline *p, mp_arena *a)
{
    size_t n = p->modules.n;
    const char **names = mp__arena_alloc(a, (n ? n : 1) * sizeof(*names));
    mp_strmap seen = MP_STRMAP_INIT;
    for (size_t i = 0; i < n; i++) {
        char *s = mp__arena_strdup(a, p->modules.v[i]->name);
        for (char *c = s; *c; c++)
            if (!name_char(*c)) *c = '_';
        /* "." and ".." are not file names to write "<name>.log" next to,
         * but "..log" is fine; a leading dot only hides the file. */
        if (mp__strmap_get(&seen, s)) s = mp__arena_printf(a, "%s~%zu", s, i);
        mp__strmap_put(&seen, s, s);
        names[i] = s;
    }
    mp__strmap_release(&seen);
    return names;
}

/* Write all of buf to the file, creating it at the first write; on error
 * remember it and stop writing. */
static void file_write(mp_modlog *l, const char *buf, size_t n)
{
    if (n == 0) return;
    if (!l->created && !l->write_errno) {
        l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (l->fd < 0) {
            l->write_errno = errno;
            return;
        }
        l->created = 1;
    }
    while (l->fd >= 0 && n > 0) {
        ssize_t w = write(l->fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            l->write_errno = w < 0 ? errno : EIO;
            close(l->fd);
            l->fd = -1;
            return;
        }
        buf += w;
        n -= (size_t)w;
    }
}

static void tail_add(mp_modlog *l, const char *buf, size_t n)
{
    if (!l->tail) l->tail = mp__xmalloc(MP_LOG_TAIL_BYTES);
    if (n >= MP_LOG_TAIL_BYTES) {
        buf += n - MP_LOG_TAIL_BYTES;
        l->tail_total += n - MP_LOG_TAIL_BYTES;
        n = MP_LOG_TAIL_BYTES;
    }
    size_t first = MP_LOG_TAIL_BYTES - l->tail_pos;
    if (first > n) first = n;
    memcpy(l->tail + l->tail_pos, buf, first);
    memcpy(l->tail, buf + first, n - first);
    l->tail_pos = (l->tail_pos + n) % MP_LOG_TAIL_BYTES;
    l->tail_total += n;
}

/* Masked bytes: to the file, the echo and the ring. */
static void out(mp_modlog *l, const char *buf, size_t n)
{
    if (n == 0) return;
    file_write(l, buf, n);
    if (l->echo) l->echo(l->echo_data, buf, n);
    tail_add(l, buf, n);
    l->last = buf[n - 1];
}

static int stream_write(void *data, const void *buf, size_t n)
{
    out(data, buf, n);
    return 0;
}

int mp__modlog_open(mp_modlog *l, const mp_modlog_opts *o, mp_error *err)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    if (o->may_exist && unlink(o->path) < 0 && errno != ENOENT)
        return mp__error(err, MP_EIO, o->path, "cannot replace log file %s: %s", o->path,
                         strerror(errno));
    l->path = mp__xstrdup(o->path);
    l->echo = o->echo;
    l->echo_data = o->echo_data;
    l->masker = o->masker;
    l->last = '\n';
    return 0;
}

static void stream_flush(mp_modlog *l)
{
    if (l->ms_ready) mp__mask_stream_flush(&l->ms);
}

int mp__modlog_created(const mp_modlog *l)
{
    return l->created;
}

void mp__modlog_begin_attempt(mp_modlog *l, int attempt)
{
    stream_flush(l);
    if (attempt > 1) {
        char marker[64];
        int n = snprintf(marker, sizeof(marker), "%s--- attempt %d ---\n",
                         l->last == '\n' ? "" : "\n", attempt);
        file_write(l, marker, (size_t)n);
        l->last = '\n';
    }
    l->tail_pos = 0;
    l->tail_total = 0;
}

void mp__modlog_feed(mp_modlog *l, const void *bytes, size_t n)
{
    if (n == 0) return;
    if (!l->ms_ready) {
        mp__mask_stream_init(&l->ms, l->masker, stream_write, l);
        l->ms_ready = 1;
    }
    mp__mask_stream_feed(&l->ms, bytes, n);
}

void mp__modlog_flush(mp_modlog *l)
{
    stream_flush(l);
}

static void note_raw(mp_modlog *l, const char *text)
{
    char *masked = mp__mask_string(l->masker, text);
    if (l->last != '\n') out(l, "\n", 1);
    out(l, "modpipe: ", 9);
    out(l, masked, strlen(masked));
    out(l, "\n", 1);
    free(masked);
}

/* Report a write error once, to the echo and the tail (not the file). */
static void note_write_error(mp_modlog *l)
{
    if (!l->write_errno || l->error_noted) return;
    l->error_noted = 1;
    char text[512];
    snprintf(text, sizeof(text), "cannot write log file %s: %s; the rest is not logged", l->path,
             strerror(l->write_errno));
    note_raw(l, text);
}

void mp__modlog_note(mp_modlog *l, const char *fmt, ...)
{
    stream_flush(l);
    note_write_error(l);
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    note_raw(l, text);
}

const char *mp__modlog_tail(const mp_modlog *l, mp_arena *a)
{
    if (!l->tail) return "";
    size_t have = l->tail_total < MP_LOG_TAIL_BYTES ? (size_t)l->tail_total : MP_LOG_TAIL_BYTES;
    char *lin = mp__xmalloc(have + 1);
    size_t start = (l->tail_pos + MP_LOG_TAIL_BYTES - have) % MP_LOG_TAIL_BYTES;
    size_t first = MP_LOG_TAIL_BYTES - start;
    if (first > have) first = have;
    memcpy(lin, l->tail + start, first);
    memcpy(lin + first, l->tail, have - first);
    size_t end = have;
    if (end && lin[end - 1] == '\n') end--;
    size_t begin = end, lines = 0;
    while (begin > 0) {
        if (lin[begin - 1] == '\n' && ++lines == MP_LOG_TAIL_LINES) break;
        begin--;
    }
    for (size_t i = begin; i < end; i++)
        if (lin[i] == '\0') lin[i] = '?';
    char *r = mp__arena_strndup(a, lin + begin, end - begin);
    free(lin);
    return r;
}

void mp__modlog_close(mp_modlog *l)
{
    if (!l->path) return;
    stream_flush(l);
    note_write_error(l);
    if (l->ms_ready) mp__mask_stream_release(&l->ms);
    if (l->fd >= 0) close(l->fd);
    free(l->path);
    free(l->tail);
    memset(l, 0, sizeof(*l));
    l->fd = -1;
}
