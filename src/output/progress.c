/*
 * progress.c -- the live display (see progress.h for what it shows).
 *
 * Bookkeeping is per module index: state (pending, running, done), the
 * start of the current attempt and its number, plus the running modules in
 * start order (a small array; a finish removes one entry by shifting, O(n)
 * in the number running).
 */
#include "output/progress.h"

#include "core/xalloc.h"
#include "os/clock.h"
#include "output/outfmt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { ST_PENDING, ST_RUNNING, ST_DONE };

#define MAX_ROWS            20
#define DEFAULT_EXPECTED_MS 1000

struct mp_progress {
    int fd;
    mp_progress_opts o;
    const mp_pipeline *p;
    size_t n;
    unsigned char *state;
    int64_t *started; /* start of the current attempt */
    int *attempt;
    int64_t *expected; /* copy of mp_run_info.expected_ms */
    size_t *running;   /* module indices in start order */
    size_t nrunning, done, failed;
    int64_t run_start;
    int lines; /* height of the area on screen; 0 = not drawn */
    bool ever_drawn;
    int64_t last_draw;
};

mp_progress *mp__progress_new(int fd, const mp_progress_opts *o)
{
    mp_progress *pg = mp__xcalloc(1, sizeof(*pg));
    pg->fd = fd;
    if (o) pg->o = *o;
    if (!pg->o.clock) pg->o.clock = mp__clock_now_ms;
    return pg;
}

static void release_run(mp_progress *pg)
{
    free(pg->state);
    free(pg->started);
    free(pg->attempt);
    free(pg->expected);
    free(pg->running);
}

void mp__progress_free(mp_progress *pg)
{
    if (!pg) return;
    release_run(pg);
    free(pg);
}

int64_t mp__progress_now(const mp_progress *pg)
{
    return pg->o.clock();
}

void mp__progress_run_started(mp_progress *pg, const mp_run_info *info)
{
    release_run(pg);
    pg->p = info->pipeline;
    pg->n = info->pipeline->modules.n;
    size_t n = pg->n ? pg->n : 1;
    pg->state = mp__xcalloc(n, sizeof(*pg->state));
    pg->started = mp__xcalloc(n, sizeof(*pg->started));
    pg->attempt = mp__xcalloc(n, sizeof(*pg->attempt));
    pg->expected = mp__xcalloc(n, sizeof(*pg->expected));
    pg->running = mp__xcalloc(n, sizeof(*pg->running));
    for (size_t i = 0; i < pg->n; i++) {
        int64_t e = info->expected_ms ? info->expected_ms[i] : 0;
        pg->expected[i] = e > 0 ? e : DEFAULT_EXPECTED_MS;
    }
    pg->nrunning = pg->done = pg->failed = 0;
    pg->run_start = pg->o.clock();
    pg->ever_drawn = false;
    pg->lines = 0;
}

static void drop_running(mp_progress *pg, size_t i)
{
    for (size_t k = 0; k < pg->nrunning; k++) {
        if (pg->running[k] != i) continue;
        memmove(&pg->running[k], &pg->running[k + 1],
                (pg->nrunning - k - 1) * sizeof(*pg->running));
        pg->nrunning--;
        return;
    }
}

void mp__progress_module_started(mp_progress *pg, size_t i, int attempt)
{
    if (i >= pg->n || pg->state[i] == ST_DONE) return;
    pg->started[i] = pg->o.clock();
    pg->attempt[i] = attempt;
    if (pg->state[i] == ST_RUNNING) return; /* a retry keeps its row */
    pg->state[i] = ST_RUNNING;
    pg->running[pg->nrunning++] = i;
}

void mp__progress_module_finished(mp_progress *pg, size_t i, const mp_result *r)
{
    if (i >= pg->n || pg->state[i] == ST_DONE) return;
    if (pg->state[i] == ST_RUNNING) drop_running(pg, i);
    pg->state[i] = ST_DONE;
    pg->done++;
    if (r->status == MP_STATUS_FAILED || r->status == MP_STATUS_TIMED_OUT) pg->failed++;
}

bool mp__progress_due(const mp_progress *pg, int64_t now)
{
    if (pg->nrunning == 0) return false;
    return !pg->ever_drawn || now - pg->last_draw >= MP_PROGRESS_INTERVAL_MS;
}

bool mp__progress_drawn(const mp_progress *pg)
{
    return pg->lines > 0;
}

void mp__progress_erase(mp_progress *pg, mp_strbuf *sb)
{
    if (pg->lines == 0) return;
    mp__strbuf_addf(sb, "\r\033[%dA\033[J", pg->lines);
    pg->lines = 0;
}

static void term_size(const mp_progress *pg, int *w, int *h)
{
    *w = pg->o.width;
    *h = pg->o.height;
    if (*w > 0 && *h > 0) return;
    struct winsize ws;
    memset(&ws, 0, sizeof(ws));
    int ok = ioctl(pg->fd, TIOCGWINSZ, &ws) == 0;
    if (*w <= 0) *w = ok && ws.ws_col > 0 ? ws.ws_col : 80;
    if (*h <= 0) *h = ok && ws.ws_row > 0 ? ws.ws_row : 24;
}

/* Append line [start, sb->len) cut to `cols` columns, then "\n". */
static void end_line(mp_strbuf *sb, size_t start, size_t cols)
{
    size_t keep = mp__utf8_prefix(sb->buf + start, sb->len - start, cols);
    sb->len = start + keep;
    sb->buf[sb->len] = '\0';
    mp__strbuf_addch(sb, '\n');
}

static void add_bar(const mp_progress *pg, mp_strbuf *sb, int width, int64_t elapsed,
                    int64_t expected)
{
    int fill = elapsed >= expected ? width : (int)(elapsed * width / expected);
    const char *full = pg->o.unicode ? "\xe2\x96\x88" : "#";  /* U+2588 */
    const char *empty = pg->o.unicode ? "\xe2\x96\x91" : "."; /* U+2591 */
    mp__strbuf_addch(sb, '[');
    for (int k = 0; k < width; k++)
        mp__strbuf_adds(sb, k < fill ? full : empty);
    mp__strbuf_addch(sb, ']');
}

void mp__progress_draw(mp_progress *pg, mp_strbuf *sb, int64_t now)
{
    if (pg->nrunning == 0) return;
    int width, height;
    term_size(pg, &width, &height);
    size_t cols = width > 1 ? (size_t)width - 1 : 1;
    int lines = 0;
    char t1[MP_FMT_BUFSZ], t2[MP_FMT_BUFSZ];

    size_t start = sb->len;
    size_t pending = pg->n - pg->done - pg->nrunning;
    mp__strbuf_addf(sb, "modpipe  %zu/%zu done, %zu failed, %zu running, %zu pending  %s", pg->done,
                    pg->n, pg->failed, pg->nrunning, pending,
                    mp__fmt_duration(t1, now - pg->run_start));
    end_line(sb, start, cols);
    lines++;

    size_t cap = height > 3 ? (size_t)height - 2 : 1;
    if (cap > MAX_ROWS) cap = MAX_ROWS;
    size_t shown = pg->nrunning <= cap ? pg->nrunning : cap - 1;

    size_t namew = 0;
    for (size_t k = 0; k < shown; k++) {
        const char *name = pg->p->modules.v[pg->running[k]]->name;
        size_t c = mp__utf8_cols(name, strlen(name));
        if (c > namew) namew = c;
    }
    size_t name_max = cols / 3 > 10 ? cols / 3 : 10;
    if (namew > name_max) namew = name_max;
    /* "  " name "  " "[" bar "]" "  " "12m05s / 12m05s" "  #12" */
    int barw = (int)cols - (int)(2 + namew + 2 + 2 + 2 + 17 + 5);
    if (barw > 40) barw = 40;

    for (size_t k = 0; k < shown; k++) {
        size_t i = pg->running[k];
        const char *name = pg->p->modules.v[i]->name;
        int64_t elapsed = now - pg->started[i];
        if (elapsed < 0) elapsed = 0;
        start = sb->len;
        mp__strbuf_adds(sb, "  ");
        size_t nb = mp__utf8_prefix(name, strlen(name), namew);
        mp__strbuf_add(sb, name, nb);
        for (size_t c = mp__utf8_cols(name, nb); c < namew + 2; c++)
            mp__strbuf_addch(sb, ' ');
        if (barw >= 5) {
            add_bar(pg, sb, barw, elapsed, pg->expected[i]);
            mp__strbuf_adds(sb, "  ");
        }
        mp__strbuf_addf(sb, "%s / %s", mp__fmt_duration(t1, elapsed),
                        mp__fmt_duration(t2, pg->expected[i]));
        if (pg->attempt[i] > 1) mp__strbuf_addf(sb, "  #%d", pg->attempt[i]);
        end_line(sb, start, cols);
        lines++;
    }
    if (shown < pg->nrunning) {
        start = sb->len;
        mp__strbuf_addf(sb, "  ... and %zu more", pg->nrunning - shown);
        end_line(sb, start, cols);
        lines++;
    }
    pg->lines = lines;
    pg->ever_drawn = true;
    pg->last_draw = now;
}
