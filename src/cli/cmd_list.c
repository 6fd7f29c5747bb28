/*
 * cmd_list.c -- `modpipe list [FILE]`: one row per module after matrix
 * expansion, sorted by name, in aligned columns
 *   Module  Category  Tags  Depends on
 * "-" marks an empty cell; lists are joined with ", ". "Depends on" shows
 * the required dependencies as resolved (a matrix-wide dependency appears
 * as each of its instances); optional `after` ordering is shown by
 * `modpipe graph`.
 */
#include "cli/cli.h"

#include "core/model.h"
#include "core/xalloc.h"

#include <string.h>

enum { COL_MODULE, COL_CATEGORY, COL_TAGS, COL_DEPS, NCOLS };

static const char *const headers[NCOLS] = {"Module", "Category", "Tags", "Depends on"};

static char *join_strs(const mp_pstr_vec *v)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    for (size_t i = 0; i < v->n; i++) {
        if (i) mp__strbuf_adds(&sb, ", ");
        mp__strbuf_adds(&sb, v->v[i].s);
    }
    if (v->n == 0) mp__strbuf_adds(&sb, "-");
    return mp__strbuf_detach(&sb);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The dependencies by name; module indices follow name order. */
static char *join_deps(const mp_pipeline *p, const mp_module *m)
{
    size_t n = m->deps.n;
    size_t *idx = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(*idx)));
    if (n) memcpy(idx, m->deps.v, n * sizeof(*idx));
    qsort(idx, n, sizeof(*idx), cmp_size);
    mp_strbuf sb = MP_STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i) mp__strbuf_adds(&sb, ", ");
        mp__strbuf_adds(&sb, p->modules.v[idx[i]]->name);
    }
    if (n == 0) mp__strbuf_adds(&sb, "-");
    free(idx);
    return mp__strbuf_detach(&sb);
}

static void add_row(mp_strbuf *sb, const char *const *cells, const size_t *width)
{
    for (int c = 0; c < NCOLS; c++) {
        if (c < NCOLS - 1)
            mp__strbuf_addf(sb, "%-*s  ", (int)width[c], cells[c]);
        else
            mp__strbuf_addf(sb, "%s\n", cells[c]);
    }
}

static int list_run(mp_cli *cli, const mp_args *args)
{
    const char *display;
    int rc = mp__cli_load(cli, args->file, &display);
    if (rc != MP_EXIT_OK) return rc;
    const mp_pipeline *p = cli->p;
    size_t n = p->modules.n;

    char **cells = mp__xcalloc(mp__xmul(n, NCOLS), sizeof(*cells));
    size_t width[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(headers[c]);
    for (size_t i = 0; i < n; i++) {
        const mp_module *m = p->modules.v[i];
        char **row = cells + i * NCOLS;
        row[COL_MODULE] = mp__xstrdup(m->name);
        row[COL_CATEGORY] = mp__xstrdup(m->category.s ? m->category.s : "-");
        row[COL_TAGS] = join_strs(&m->tags);
        row[COL_DEPS] = join_deps(p, m);
        for (int c = 0; c < NCOLS; c++)
            if (strlen(row[c]) > width[c]) width[c] = strlen(row[c]);
    }

    mp_strbuf sb = MP_STRBUF_INIT;
    add_row(&sb, headers, width);
    for (size_t i = 0; i < n; i++)
        add_row(&sb, (const char *const *)(cells + i * NCOLS), width);
    mp__cli_out(cli, sb.buf, sb.len);
    mp__strbuf_release(&sb);

    for (size_t i = 0; i < n * NCOLS; i++)
        free(cells[i]);
    free(cells);
    return MP_EXIT_OK;
}

static const mp_opt_spec list_opts[] = {{0}};

const mp_cli_command mp__cmd_list = {
    .name = "list",
    .args_usage = "[FILE]",
    .summary = "list the modules with category, tags and dependencies",
    .description = NULL,
    .opts = list_opts,
    .run = list_run,
};
