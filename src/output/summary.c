/*
 * summary.c -- see summary.h. Rows are sorted once (qsort over integer
 * keys; the name tie-break is the module index, as modules are sorted by
 * name), column widths measured over all cells, and the table laid out
 * with two spaces between columns, left-aligned. Each cell is formatted
 * twice, without printf but for a worker id: by the measuring pass, in
 * pipeline order, and by the writing pass straight into the output, which
 * mp__summary_write() hands to write(2) every 64 KiB (100,000 rows: a few
 * hundredths of a second, in a small buffer).
 */
#include "output/summary.h"

#include "core/xalloc.h"
#include "output/metrics.h"
#include "output/outfmt.h"

#include <stdint.h>
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

/* A row's sort key: rank, then (rows that ran) start time, then pipeline
 * order, which is name order (model.h: modules are sorted by name with
 * strcmp, and names are unique), so no name is compared. */
typedef struct row_key {
    int64_t started_at; /* 0 for rows that never ran: they keep pipeline order */
    uint32_t idx;
    int rank;
} row_key;

static int row_cmp(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    if (x->rank != y->rank) return x->rank - y->rank;
    if (x->started_at != y->started_at) return x->started_at < y->started_at ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Decimal digits of v (>= 0) at o; returns their count. */
static size_t put_uint(char *o, uint64_t v)
{
    char b[24];
    size_t n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        o[k] = b[n - 1 - k];
    return n;
}

/* "+<duration>" of t after origin (0 when before) at o; returns its length. */
static size_t put_offset(char *o, int64_t t, int64_t origin)
{
    char d[MP_FMT_BUFSZ];
    size_t n = strlen(mp__fmt_duration(d, t > origin ? t - origin : 0));
    if (n + 2 > MP_FMT_BUFSZ) n = MP_FMT_BUFSZ - 2; /* cut, as snprintf would */
    o[0] = '+';
    memcpy(o + 1, d, n);
    return n + 1;
}

#define CELL_MAX (MP_FMT_BUFSZ * 2)

/* Cells 1.. of row i (cell 0, the name, is the module's), one after the
 * other at o (room for NCOLS - 1 cells of CELL_MAX); their lengths in
 * len[1..]. Returns the bytes written. */
static size_t cells_of(const mp_run *run, size_t i, char *o, size_t len[NCOLS])
{
    const mp_result *r = &run->results[i];
    char *start = o;
    const char *st = mp__status_name(r->status);
    len[1] = strlen(st);
    memcpy(o, st, len[1]);
    o += len[1];
    if (!mp__result_ran(r)) { /* "-" for every time; the instance if any */
        *o++ = '-';
        len[2] = 1;
        if (r->instance >= 0) {
            len[3] = put_uint(o, (uint64_t)r->instance);
        } else {
            *o = '-';
            len[3] = 1;
        }
        o += len[3];
        *o++ = '-';
        *o++ = '-';
        len[4] = len[5] = 1;
        return (size_t)(o - start);
    }
    len[2] = strlen(mp__fmt_duration(o, r->duration_ms));
    o += len[2];
    if (r->instance < 0) {
        *o = '-';
        len[3] = 1;
    } else if (r->worker && *r->worker) {
        int w = snprintf(o, CELL_MAX, "%d (%.40s)", r->instance, r->worker);
        len[3] = w < 0 ? 0 : (size_t)w < CELL_MAX ? (size_t)w : CELL_MAX - 1;
    } else {
        len[3] = put_uint(o, (uint64_t)r->instance);
    }
    o += len[3];
    len[4] = put_offset(o, r->started_at, run->started_at);
    o += len[4];
    if (r->ended_at > 0) {
        len[5] = put_offset(o, r->ended_at, run->started_at);
    } else {
        *o = '-';
        len[5] = 1;
    }
    o += len[5];
    return (size_t)(o - start);
}

/* A module's name, measured and copied in the first pass: the second
 * reads it from one small array in row order, not from the modules spread
 * over the pipeline's memory. */
typedef struct name_ref {
    size_t off;
    uint32_t len, cols;
} name_ref;

/* Where the summary goes: sb, which mp__summary_write() empties into fd
 * (>= 0) whenever it holds SPILL bytes, so 100,000 rows never sit in
 * memory at once. */
#define SPILL (64 * 1024)
typedef struct sum_out {
    mp_strbuf *sb;
    int fd;
    int err; /* errno of the first failed write */
} sum_out;

static void spill(sum_out *out, size_t at_least)
{
    if (out->fd < 0 || out->sb->len < at_least) return;
    if (!out->err) out->err = mp__write_all(out->fd, out->sb->buf, out->sb->len);
    mp__strbuf_reset(out->sb);
}

/* At o: s (len bytes, cols columns wide), then padding up to width and
 * the two spaces between columns, unless it is the last column. */
static char *put_cell(char *o, const char *s, size_t len, size_t cols, size_t width, int last)
{
    memcpy(o, s, len);
    o += len;
    if (!last && cols < width + 2) {
        memset(o, ' ', width + 2 - cols);
        o += width + 2 - cols;
    }
    return o;
}

/* Columns of the instance cell (the only one of cells 1.. that can hold
 * more than ASCII: a worker id). */
static size_t inst_cols(const char *cells, const size_t len[NCOLS])
{
    return mp__utf8_cols(cells + len[1] + len[2], len[3]);
}

/* Two passes: the first, in pipeline order (memory order), formats every
 * row's cells to measure the columns and keeps only the names' sizes; the
 * second formats each row again (no printf: cheap) straight into the
 * output, in `order`. */
static void add_table(const mp_pipeline *p, const mp_run *run, const row_key *order,
                      sum_out *out)
{
    size_t width[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        width[k] = strlen(headings[k]);
    name_ref *names = mp__xcalloc(run->n ? run->n : 1, sizeof(*names));
    mp_strbuf text = MP_STRBUF_INIT; /* the names, one after the other */
    char cells[NCOLS * CELL_MAX];
    size_t len[NCOLS];
    for (size_t i = 0; i < run->n; i++) {
        name_ref *nr = &names[i];
        const char *name = p->modules.v[i]->name;
        size_t nl = strlen(name);
        if (nl > UINT32_MAX) nl = UINT32_MAX; /* never: names are short */
        nr->off = text.len;
        nr->len = (uint32_t)nl;
        nr->cols = (uint32_t)mp__utf8_cols(name, nl);
        mp__strbuf_add(&text, name, nl);
        if (nr->cols > width[0]) width[0] = nr->cols;
        cells_of(run, i, cells, len);
        for (int k = 1; k < NCOLS; k++) {
            size_t cols = k == 3 ? inst_cols(cells, len) : len[k];
            if (cols > width[k]) width[k] = cols;
        }
    }
    mp_strbuf *sb = out->sb;
    /* A row takes at most the widths, the separators and a newline, plus
     * the bytes of its name and instance beyond their columns. */
    size_t line = 2 * NCOLS + 1;
    for (int k = 0; k < NCOLS; k++)
        line += width[k];
    mp__strbuf_grow(sb, line);
    char *o = sb->buf + sb->len;
    for (int k = 0; k < NCOLS; k++) {
        size_t hl = strlen(headings[k]);
        o = put_cell(o, headings[k], hl, hl, width[k], k == NCOLS - 1);
    }
    *o++ = '\n';
    sb->len = (size_t)(o - sb->buf);
    for (size_t r = 0; r < run->n; r++) {
        const name_ref *nr = &names[order[r].idx];
        cells_of(run, order[r].idx, cells, len);
        size_t ic = inst_cols(cells, len);
        mp__strbuf_grow(sb, line + (nr->len - nr->cols) + (len[3] - ic));
        o = put_cell(sb->buf + sb->len, text.buf + nr->off, nr->len, nr->cols, width[0], 0);
        const char *c = cells;
        for (int k = 1; k < NCOLS; k++) {
            o = put_cell(o, c, len[k], k == 3 ? ic : len[k], width[k], k == NCOLS - 1);
            c += len[k];
        }
        *o++ = '\n';
        sb->len = (size_t)(o - sb->buf);
        spill(out, SPILL);
    }
    sb->buf[sb->len] = '\0';
    mp__strbuf_release(&text);
    free(names);
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

static void add_failures(const mp_pipeline *p, const mp_run *run, const row_key *order,
                         mp_strbuf *sb)
{
    for (size_t k = 0; k < run->n; k++) {
        const mp_result *r = &run->results[order[k].idx];
        if (!is_failed(r)) continue;
        mp__strbuf_addf(sb, "\n%s %s", p->modules.v[order[k].idx]->name,
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

static void format(const mp_pipeline *p, const mp_run *run, sum_out *out)
{
    if (run->n >= UINT32_MAX) mp__die("summary: too many modules (%zu)", run->n);
    row_key *order = mp__xcalloc(run->n ? run->n : 1, sizeof(*order));
    for (size_t i = 0; i < run->n; i++) {
        const mp_result *r = &run->results[i];
        int rk = rank(r);
        order[i] = (row_key){.started_at = rk == 2 ? 0 : r->started_at, .idx = (uint32_t)i,
                             .rank = rk};
    }
    qsort(order, run->n, sizeof(*order), row_cmp);

    mp_metrics m;
    mp__metrics_compute(run, &m);
    add_table(p, run, order, out);
    add_failures(p, run, order, out->sb);
    add_totals(run, &m, out->sb);
    free(order);
}

void mp__summary_format(const mp_pipeline *p, const mp_run *run, mp_strbuf *sb)
{
    sum_out out = {.sb = sb, .fd = -1};
    format(p, run, &out);
}

int mp__summary_write(int fd, const mp_pipeline *p, const mp_run *run)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    sum_out out = {.sb = &sb, .fd = fd};
    format(p, run, &out);
    spill(&out, 0);
    mp__strbuf_release(&sb);
    return out.err ? MP_EIO : 0;
}
