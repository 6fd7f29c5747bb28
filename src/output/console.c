/*
 * console.c -- the terminal sink (see console.h for what it prints).
 *
 * Everything written goes through c->out: a piece starts with the erase
 * sequence of the live display (when it is on screen), then the text, then
 * the redrawn display when the redraw budget allows, and leaves in one
 * mp__write_all(). Stream mode keeps one held partial line per module.
 */
#include "output/console.h"

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "output/outfmt.h"
#include "output/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_CHUNK (64 * 1024)
#define PIECE_MAX (1024 * 1024)
#define CONTINUES " [line continues]"

typedef struct glyphs {
    const char *start, *ok, *fail, *ignored, *notrun, *rule;
} glyphs;

static const glyphs ascii_glyphs = {">", "+", "x", "!", "-", "=="};
static const glyphs unicode_glyphs = {
    "\xe2\x96\xb6",             /* U+25B6 black right-pointing triangle */
    "\xe2\x9c\x93",             /* U+2713 check mark */
    "\xe2\x9c\x97",             /* U+2717 ballot x */
    "!",                        /* ignored failure */
    "\xe2\x97\x8b",             /* U+25CB white circle */
    "\xe2\x94\x80\xe2\x94\x80", /* U+2500 box drawings light horizontal, twice */
};

typedef struct held {
    char *buf;
    size_t len, cap;
    bool cut; /* the line was cut at the cap and nothing followed yet */
} held;

typedef struct console {
    int fd;
    mp_output_mode mode;
    int werr;
    const glyphs *g;
    mp_progress *pg; /* NULL when the live display is off */
    int defer;       /* no live display and the engine flushes: hold lines */
    const mp_pipeline *p;
    size_t n;
    held *held; /* stream mode: by module index */
    mp_strbuf out;
} console;

static const mp_sink_vtable console_vt;

/* ------------------------------------------------------------ writing */

static void out_begin(console *c)
{
    if (c->pg) mp__progress_erase(c->pg, &c->out);
}

/* Write c->out[0, n) and keep the rest. */
static void out_write(console *c, size_t n)
{
    if (!c->werr && n > 0) c->werr = mp__write_all(c->fd, c->out.buf, n);
    memmove(c->out.buf, c->out.buf + n, c->out.len - n + 1);
    c->out.len -= n;
}

static void out_end(console *c)
{
    if (c->pg) {
        int64_t now = mp__progress_now(c->pg);
        if (mp__progress_due(c->pg, now)) mp__progress_draw(c->pg, &c->out, now);
    } else if (c->defer && c->out.len < PIECE_MAX) {
        return; /* written by con_flush() before the engine waits */
    }
    out_write(c, c->out.len);
}

static const char *name_of(const console *c, size_t i)
{
    return c->p->modules.v[i]->name;
}

/* --------------------------------------------------- describing results */

static const char *glyph_for(const console *c, mp_status s)
{
    switch (s) {
    case MP_STATUS_SUCCEEDED:
        return c->g->ok;
    case MP_STATUS_FAILED:
    case MP_STATUS_TIMED_OUT:
        return c->g->fail;
    case MP_STATUS_IGNORED_FAILURE:
        return c->g->ignored;
    default:
        return c->g->notrun;
    }
}

static const char *status_words(mp_status s)
{
    switch (s) {
    case MP_STATUS_PENDING:
        return "pending";
    case MP_STATUS_RUNNING:
        return "running";
    case MP_STATUS_SUCCEEDED:
        return "succeeded";
    case MP_STATUS_FAILED:
        return "failed";
    case MP_STATUS_TIMED_OUT:
        return "timed out";
    case MP_STATUS_SKIPPED:
        return "skipped";
    case MP_STATUS_IGNORED_FAILURE:
        return "failed, ignored";
    case MP_STATUS_DEPENDENCY_FAILED:
        return "dependency failed";
    case MP_STATUS_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

/* "exit 1" / "signal 9" for results that ended by a process exit. */
static int exit_detail(const mp_result *r, char *buf, size_t size)
{
    if (r->status != MP_STATUS_FAILED && r->status != MP_STATUS_IGNORED_FAILURE &&
        r->status != MP_STATUS_TIMED_OUT)
        return 0;
    if (r->exit_code >= 0) {
        snprintf(buf, size, "exit %d", r->exit_code);
        return 1;
    }
    if (r->term_signal > 0 && r->status != MP_STATUS_TIMED_OUT) {
        snprintf(buf, size, "signal %d", r->term_signal);
        return 1;
    }
    return 0;
}

/* The reason shown after ": " on a finish line. */
static const char *reason_of(const mp_result *r)
{
    if (r->error_message && *r->error_message) return r->error_message;
    if (r->skip_reason && *r->skip_reason) return r->skip_reason;
    return NULL;
}

/* "x test failed (exit 1) 0.3s after 2 attempts: reason\n" */
static void add_finish_line(const console *c, mp_strbuf *sb, size_t i, const mp_result *r)
{
    char d[64], t[MP_FMT_BUFSZ];
    mp__strbuf_addf(sb, "%s %s %s", glyph_for(c, r->status), name_of(c, i),
                    status_words(r->status));
    if (exit_detail(r, d, sizeof(d))) mp__strbuf_addf(sb, " (%s)", d);
    if (r->attempts > 0) mp__strbuf_addf(sb, " %s", mp__fmt_duration(t, r->duration_ms));
    if (r->attempts > 1) mp__strbuf_addf(sb, " after %d attempts", r->attempts);
    const char *why = reason_of(r);
    if (why) mp__strbuf_addf(sb, ": %s", why);
    mp__strbuf_addch(sb, '\n');
}

/* "== test (failed, exit 1, 0.3s, 2 attempts) ==\n" */
static void add_header(const console *c, mp_strbuf *sb, size_t i, const mp_result *r)
{
    char d[64], t[MP_FMT_BUFSZ];
    mp__strbuf_adds(sb, c->g->rule);
    mp__strbuf_addch(sb, ' ');
    mp__strbuf_adds(sb, name_of(c, i));
    mp__strbuf_add(sb, " (", 2);
    mp__strbuf_adds(sb, status_words(r->status));
    if (exit_detail(r, d, sizeof(d))) mp__strbuf_addf(sb, ", %s", d);
    mp__strbuf_addf(sb, ", %s", mp__fmt_duration(t, r->duration_ms));
    if (r->attempts > 1) mp__strbuf_addf(sb, ", %d attempts", r->attempts);
    mp__strbuf_addf(sb, ") %s\n", c->g->rule);
}

/* ---------------------------------------------------------- grouped mode */

/* Copy the log file into c->out, writing whole-line pieces of <= 1 MiB. */
static void add_log(console *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            mp__strbuf_addf(&c->out, "(log unavailable: %s: %s)\n", path, strerror(errno));
        return;
    }
    size_t body = c->out.len;
    for (;;) {
        mp__strbuf_grow(&c->out, LOG_CHUNK);
        ssize_t got = read(fd, c->out.buf + c->out.len, LOG_CHUNK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            mp__strbuf_addf(&c->out, "\n(log read failed: %s: %s)\n", path, strerror(errno));
            break;
        }
        if (got == 0) break;
        c->out.len += (size_t)got;
        c->out.buf[c->out.len] = '\0';
        if (c->out.len >= PIECE_MAX) {
            char *nl = memrchr(c->out.buf, '\n', c->out.len);
            out_write(c, nl ? (size_t)(nl - c->out.buf) + 1 : c->out.len);
            body = 0;
        }
    }
    close(fd);
    if (c->out.len > body && c->out.buf[c->out.len - 1] != '\n') mp__strbuf_addch(&c->out, '\n');
}

static void grouped_finished(console *c, size_t i, const mp_result *r)
{
    out_begin(c);
    if (r->attempts <= 0) {
        add_finish_line(c, &c->out, i, r);
    } else {
        add_header(c, &c->out, i, r);
        if (r->log_path) add_log(c, r->log_path);
        if (r->error_message && *r->error_message)
            mp__strbuf_addf(&c->out, "error: %s\n", r->error_message);
        else if (r->skip_reason && *r->skip_reason)
            mp__strbuf_addf(&c->out, "%s: %s\n", status_words(r->status), r->skip_reason);
    }
    out_end(c);
}

/* ----------------------------------------------------------- stream mode */

static void add_prefix(const console *c, mp_strbuf *sb, size_t i)
{
    mp__strbuf_addf(sb, "[%s] ", name_of(c, i));
}

/* The held line of module i, ended with "\n", into sb. */
static void flush_held(console *c, mp_strbuf *sb, size_t i)
{
    held *h = &c->held[i];
    if (h->len == 0) return;
    add_prefix(c, sb, i);
    mp__strbuf_add(sb, h->buf, h->len);
    mp__strbuf_addch(sb, '\n');
    h->len = 0;
    h->cut = false;
}

/* Keep n bytes of an unfinished line (h->len + n < MP_CONSOLE_MAX_LINE). */
static void hold(held *h, const char *p, size_t n)
{
    if (n == 0) return;
    if (h->len + n > h->cap) {
        size_t cap = h->cap ? h->cap : 256;
        while (cap < h->len + n)
            cap *= 2;
        h->cap = cap < MP_CONSOLE_MAX_LINE ? cap : MP_CONSOLE_MAX_LINE;
        h->buf = mp__xrealloc(h->buf, h->cap);
    }
    memcpy(h->buf + h->len, p, n);
    h->len += n;
}

static void stream_output(console *c, size_t i, const char *bytes, size_t n)
{
    held *h = &c->held[i];
    mp_strbuf text = MP_STRBUF_INIT;
    const char *p = bytes, *end = bytes + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = (size_t)((nl ? nl : end) - p);
        while (h->len + seg >= MP_CONSOLE_MAX_LINE) {
            size_t take = MP_CONSOLE_MAX_LINE - h->len;
            add_prefix(c, &text, i);
            if (h->len) mp__strbuf_add(&text, h->buf, h->len);
            mp__strbuf_add(&text, p, take);
            mp__strbuf_adds(&text, CONTINUES "\n");
            h->len = 0;
            h->cut = true;
            p += take;
            seg -= take;
        }
        if (!nl) {
            hold(h, p, seg);
            break;
        }
        /* the newline that ends a line cut exactly at the cap adds no empty line */
        if (h->len || seg || !h->cut) {
            add_prefix(c, &text, i);
            if (h->len) mp__strbuf_add(&text, h->buf, h->len);
            mp__strbuf_add(&text, p, seg);
            mp__strbuf_addch(&text, '\n');
        }
        h->len = 0;
        h->cut = false;
        p = nl + 1;
    }
    if (text.len > 0) {
        out_begin(c);
        mp__strbuf_add(&c->out, text.buf, text.len);
        out_end(c);
    }
    mp__strbuf_release(&text);
}

/* ------------------------------------------------------------ the sink */

static void con_run_started(void *data, const mp_run_info *info)
{
    console *c = data;
    if (c->held) {
        for (size_t i = 0; i < c->n; i++)
            free(c->held[i].buf);
        free(c->held);
    }
    c->p = info->pipeline;
    c->n = info->pipeline->modules.n;
    c->held = mp__xcalloc(c->n ? c->n : 1, sizeof(*c->held));
    c->defer = info->flushes && !c->pg;
    if (c->pg) mp__progress_run_started(c->pg, info);
}

static void con_module_started(void *data, size_t i, int attempt)
{
    console *c = data;
    if (i >= c->n) return;
    if (c->pg) mp__progress_module_started(c->pg, i, attempt);
    if (!c->pg) {
        /* No live display to erase or redraw: straight into c->out. */
        if (c->mode == MP_OUTPUT_STREAM) flush_held(c, &c->out, i);
        mp__strbuf_adds(&c->out, c->g->start);
        mp__strbuf_addch(&c->out, ' ');
        mp__strbuf_adds(&c->out, name_of(c, i));
        if (attempt > 1) mp__strbuf_addf(&c->out, " (attempt %d)", attempt);
        mp__strbuf_addch(&c->out, '\n');
        out_end(c);
        return;
    }
    mp_strbuf text = MP_STRBUF_INIT;
    if (c->mode == MP_OUTPUT_STREAM) flush_held(c, &text, i);
    if (!c->pg) {
        mp__strbuf_addf(&text, "%s %s", c->g->start, name_of(c, i));
        if (attempt > 1) mp__strbuf_addf(&text, " (attempt %d)", attempt);
        mp__strbuf_addch(&text, '\n');
    }
    if (text.len > 0) {
        out_begin(c);
        mp__strbuf_add(&c->out, text.buf, text.len);
        out_end(c);
    }
    mp__strbuf_release(&text);
}

static void con_module_output(void *data, size_t i, const char *bytes, size_t n)
{
    console *c = data;
    if (i >= c->n || n == 0 || c->mode != MP_OUTPUT_STREAM) return;
    stream_output(c, i, bytes, n);
}

static void con_module_finished(void *data, size_t i, const mp_result *r)
{
    console *c = data;
    if (i >= c->n) return;
    if (c->pg) mp__progress_module_finished(c->pg, i, r);
    if (c->mode == MP_OUTPUT_GROUPED) {
        grouped_finished(c, i, r);
        return;
    }
    out_begin(c);
    flush_held(c, &c->out, i);
    add_finish_line(c, &c->out, i, r);
    out_end(c);
    free(c->held[i].buf); /* a finished module prints no more */
    c->held[i] = (held){0};
}

static void con_tick(void *data, int64_t now_ms)
{
    console *c = data;
    if (!c->pg || !mp__progress_due(c->pg, now_ms)) return;
    mp__progress_erase(c->pg, &c->out);
    mp__progress_draw(c->pg, &c->out, now_ms);
    out_write(c, c->out.len);
}

static void con_flush(void *data)
{
    console *c = data;
    if (c->out.len) out_write(c, c->out.len);
}

static void con_run_finished(void *data, const mp_result *results, mp_status verdict)
{
    console *c = data;
    (void)results;
    (void)verdict;
    if (c->pg) mp__progress_erase(c->pg, &c->out);
    if (c->mode == MP_OUTPUT_STREAM)
        for (size_t i = 0; i < c->n; i++)
            flush_held(c, &c->out, i);
    c->defer = 0;
    out_write(c, c->out.len);
}

static const mp_sink_vtable console_vt = {
    .name = "console",
    .run_started = con_run_started,
    .module_started = con_module_started,
    .module_output = con_module_output,
    .module_finished = con_module_finished,
    .tick = con_tick,
    .flush = con_flush,
    .run_finished = con_run_finished,
};

mp_sink mp__console_sink(int fd, mp_output_mode mode, bool tty_progress, const mp_console_opts *o)
{
    console *c = mp__xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->mode = mode;
    c->g = o && o->unicode ? &unicode_glyphs : &ascii_glyphs;
    c->out = (mp_strbuf)MP_STRBUF_INIT;
    if (tty_progress) {
        mp_progress_opts po = {.unicode = o && o->unicode,
                               .width = o ? o->width : 0,
                               .height = o ? o->height : 0,
                               .clock = o ? o->clock : NULL};
        c->pg = mp__progress_new(fd, &po);
    }
    return (mp_sink){.vt = &console_vt, .data = c};
}

static console *console_downcast(const mp_sink *s)
{
    if (s->vt != &console_vt)
        mp__die("console: sink \"%s\" is not a console", s->vt ? s->vt->name : "(null)");
    return s->data;
}

void mp__console_sink_free(mp_sink *s)
{
    if (!s || !s->data) return;
    console *c = console_downcast(s);
    if (c->held) {
        for (size_t i = 0; i < c->n; i++)
            free(c->held[i].buf);
        free(c->held);
    }
    mp__progress_free(c->pg);
    mp__strbuf_release(&c->out);
    free(c);
    s->data = NULL;
}

int mp__console_sink_error(const mp_sink *s)
{
    return console_downcast(s)->werr;
}
