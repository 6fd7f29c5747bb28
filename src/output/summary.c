/*
 * summary.c -- see summary.h. Rows are sorted once (qsort over indices),
 * column widths measured over all cells, and the table laid out with two
 * spaces between columns, left-aligned. Each cell is formatted once:
 * the measuring pass keeps the text it formats for the writing pass.
 */
#include "output/summary.h"

#include "core/xalloc.h"
#include "output/metrics.h"
#include "output/outfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS      6
#define TAIL_LINES 20

static const char *const headings[NCOLS] = {"Module",   "Status", "Duration",
                                            "Instance", "Start",  "End"};

static int is_failed(const mp_result *r)
{
    return r->status == MP_STATUS_FAILED || r->status == MP_STATUS_TIMED_OUT;
}

static int rank(const mp_result *r)
{
    if (!mp__result_ran(r)) return 2;
    return is_failed(r) ? 0 : 1;
}

typedef struct sort_ctx {
    const mp_pipeline *p;
    const mp_result *results;
} sort_ctx;

/* qsort has no context argument; the summary is built on one thread. */
static _Thread_local const sort_ctx *sorting;

static int row_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const mp_result *x = &sorting->results[i], *y = &sorting->results[j];
    int rx = rank(x), ry = rank(y);
    if (rx != ry) return rx - ry;
    if (rx != 2 && x->started_at != y->started_at) return x->started_at < y->started_at ? -1 : 1;
    if (rx != 2) {
        int c = strcmp(sorting->p->modules.v[i]->name, sorting->p->modules.v[j]->name);
        if (c) return c;
    }
    return i < j ? -1 : (i > j);
}

static void offset(char *buf, int64_t t, int64_t origin)
{
    char d[MP_FMT_BUFSZ];
    size_t n = strlen(mp__fmt_duration(d, t > origin ? t - origin : 0));
    if (n + 2 > MP_FMT_BUFSZ) n = MP_FMT_BUFSZ - 2; /* cut, as snprintf would */
    buf[0] = '+';
    memcpy(buf + 1, d, n);
    buf[n + 1] = '\0';
}

/* Cells 1.. of row i (cell 0, the name, is the module's). */
static void cells_of(const mp_run *run, size_t i, char cell[NCOLS][MP_FMT_BUFSZ * 2])
{
    const mp_result *r = &run->results[i];
    snprintf(cell[1], sizeof(cell[1]), "%s", mp__status_name(r->status));
    if (!mp__result_ran(r)) {
        for (int k = 2; k < NCOLS; k++)
            memcpy(cell[k], "-", 2);
        if (r->instance >= 0) snprintf(cell[3], sizeof(cell[3]), "%d", r->instance);
        return;
    }
    mp__fmt_duration(cell[2], r->duration_ms);
    if (r->instance < 0)
        memcpy(cell[3], "-", 2);
    else if (r->worker && *r->worker)
        snprintf(cell[3], sizeof(cell[3]), "%d (%.40s)", r->instance, r->worker);
    else
        snprintf(cell[3], sizeof(cell[3]), "%d", r->instance);
    offset(cell[4], r->started_at, run->started_at);
    if (r->ended_at > 0)
        offset(cell[5], r->ended_at, run->started_at);
    else
        memcpy(cell[5], "-", 2);
}

/* Append n spaces. */
static void add_spaces(mp_strbuf *sb, size_t n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        mp__strbuf_add(sb, spaces, k);
        n -= k;
    }
}

/* s (len bytes, cols columns wide), then padding up to width and the two
 * spaces between columns, unless it is the last column. */
static void add_cell(mp_strbuf *sb, const char *s, size_t len, size_t cols, size_t width,
                     int last)
{
    mp__strbuf_add(sb, s, len);
    if (!last && cols < width + 2) add_spaces(sb, width + 2 - cols);
}

/* A formatted cell kept from the measuring pass for the writing pass:
 * where it starts in the cell text, its length and its width. */
typedef struct cell_ref {
    size_t off;
    size_t len;
    size_t cols;
} cell_ref;

/* Every cell is formatted once: the first pass keeps the text of all
 * cells (NUL-separated) and measures the columns, the second lays them
 * out. Cell 0 is the module's name, not copied. */
static void add_table(const mp_pipeline *p, const mp_run *run, const size_t *order, mp_strbuf *sb)
{
    size_t width[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        width[k] = strlen(headings[k]);
    cell_ref *refs = mp__xcalloc(mp__xmul(run->n ? run->n : 1, NCOLS), sizeof(*refs));
    mp_strbuf text = MP_STRBUF_INIT;
    char cell[NCOLS][MP_FMT_BUFSZ * 2];
    for (size_t r = 0; r < run->n; r++) {
        size_t i = order[r];
        cell_ref *ref = &refs[r * NCOLS];
        cells_of(run, i, cell);
        const char *name = p->modules.v[i]->name;
        ref[0].len = strlen(name);
        ref[0].cols = mp__utf8_cols(name, ref[0].len);
        if (ref[0].cols > width[0]) width[0] = ref[0].cols;
        for (int k = 1; k < NCOLS; k++) {
            size_t len = strlen(cell[k]);
            ref[k].off = text.len;
            ref[k].len = len;
            ref[k].cols = mp__utf8_cols(cell[k], len);
            mp__strbuf_add(&text, cell[k], len + 1);
            if (ref[k].cols > width[k]) width[k] = ref[k].cols;
        }
    }
    for (int k = 0; k < NCOLS; k++) {
        size_t len = strlen(headings[k]);
        add_cell(sb, headings[k], len, mp__utf8_cols(headings[k], len), width[k],
                 k == NCOLS - 1);
    }
    mp__strbuf_addch(sb, '\n');
    size_t line = 2 * NCOLS;
    for (int k = 0; k < NCOLS; k++)
        line += width[k];
    mp__strbuf_grow(sb, mp__xmul(run->n, line));
    for (size_t r = 0; r < run->n; r++) {
        const cell_ref *ref = &refs[r * NCOLS];
        add_cell(sb, p->modules.v[order[r]]->name, ref[0].len, ref[0].cols, width[0], 0);
        for (int k = 1; k < NCOLS; k++)
            add_cell(sb, text.buf + ref[k].off, ref[k].len, ref[k].cols, width[k],
                     k == NCOLS - 1);
        mp__strbuf_addch(sb, '\n');
    }
    mp__strbuf_release(&text);
    free(refs);
}

/* The last TAIL_LINES lines of tail, each as "  | line". */
static void add_tail(mp_strbuf *sb, const char *tail)
{
    size_t len = strlen(tail);
    while (len > 0 && tail[len - 1] == '\n')
        len--;
    if (len == 0) return;
    size_t start = len, lines = 0;
    while (start > 0) {
        if (tail[start - 1] == '\n' && ++lines == TAIL_LINES) break;
        start--;
    }
    const char *s = tail + start, *end = tail + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        mp__strbuf_adds(sb, "  | ");
        mp__strbuf_add(sb, s, (size_t)(e - s));
        mp__strbuf_addch(sb, '\n');
        s = e + 1;
    }
}

static void add_failures(const mp_pipeline *p, const mp_run *run, const size_t *order,
                         mp_strbuf *sb)
{
    for (size_t k = 0; k < run->n; k++) {
        const mp_result *r = &run->results[order[k]];
        if (!is_failed(r)) continue;
        mp__strbuf_addf(sb, "\n%s %s", p->modules.v[order[k]]->name,
                        r->status == MP_STATUS_TIMED_OUT ? "timed out" : "failed");
        if (r->exit_code >= 0)
            mp__strbuf_addf(sb, " (exit %d)", r->exit_code);
        else if (r->term_signal > 0)
            mp__strbuf_addf(sb, " (signal %d)", r->term_signal);
        mp__strbuf_addch(sb, '\n');
        if (r->error_message && *r->error_message)
            mp__strbuf_addf(sb, "  error: %s\n", r->error_message);
        if (r->log_tail) add_tail(sb, r->log_tail);
    }
}

static void add_totals(const mp_run *run, const mp_metrics *m, mp_strbuf *sb)
{
    char w[MP_FMT_BUFSZ], t[MP_FMT_BUFSZ], sig[32];
    mp__strbuf_addf(sb, "\nwall time %s, module time %s, speedup %.2fx, peak concurrency %d\n",
                    mp__fmt_duration(w, m->wall_ms), mp__fmt_duration(t, m->module_ms_total),
                    m->speedup, m->peak_concurrency);
    if (run->interrupted_by)
        mp__strbuf_addf(sb, "pipeline interrupted by %s",
                        mp__signal_name(sig, sizeof(sig), run->interrupted_by));
    else
        mp__strbuf_addf(sb, "pipeline %s", mp__status_name(run->verdict));
    /* counts, most important first */
    static const mp_status shown[] = {
        MP_STATUS_FAILED,    MP_STATUS_TIMED_OUT,       MP_STATUS_DEPENDENCY_FAILED,
        MP_STATUS_CANCELLED, MP_STATUS_IGNORED_FAILURE, MP_STATUS_SUCCEEDED,
        MP_STATUS_SKIPPED,   MP_STATUS_RUNNING,         MP_STATUS_PENDING,
    };
    const char *sep = ": ";
    for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
        size_t c = m->by_status[shown[k]];
        if (c == 0) continue;
        mp__strbuf_addf(sb, "%s%zu %s", sep, c, mp__status_name(shown[k]));
        sep = ", ";
    }
    mp__strbuf_addch(sb, '\n');
}

void mp__summary_format(const mp_pipeline *p, const mp_run *run, mp_strbuf *sb)
{
    size_t *order = mp__xcalloc(run->n ? run->n : 1, sizeof(*order));
    for (size_t i = 0; i < run->n; i++)
        order[i] = i;
    sort_ctx ctx = {p, run->results};
    sorting = &ctx;
    qsort(order, run->n, sizeof(*order), row_cmp);
    sorting = NULL;

    mp_metrics m;
    mp__metrics_compute(run, &m);
    add_table(p, run, order, sb);
    add_failures(p, run, order, sb);
    add_totals(run, &m, sb);
    free(order);
}

int mp__summary_write(int fd, const mp_pipeline *p, const mp_run *run)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__summary_format(p, run, &sb);
    int e = mp__write_all(fd, sb.buf, sb.len);
    mp__strbuf_release(&sb);
    return e ? MP_EIO : 0;
}
