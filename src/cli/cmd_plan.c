/*
 * cmd_plan.c -- `modpipe plan [FILE] [filters]`: what a run would do,
 * decided before anything runs (core/plan.h), printed as
 *
 *   wave 1:
 *     lint
 *     restore
 *   wave 2:
 *     build
 *     publish         (pinned to the master)
 *     test[os=linux]  (needs os=linux)
 *   skipped:
 *     deploy          (skipped by --skip-module)
 *   excluded:
 *     docs            (not selected by --module)
 *
 * Waves in order, modules by name inside a wave; a module that can only
 * run on some instances shows where (pin_to_master, requires). Modules the
 * run would report Skipped and modules left out of it follow with the
 * reason. Filter errors (unknown module, category matching nothing) exit 2.
 */
#include "cli/cli.h"

#include "core/plan.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct wave_item {
    unsigned wave;
    size_t idx;
} wave_item;

static int cmp_wave_item(const void *a, const void *b)
{
    const wave_item *x = a, *y = b;
    if (x->wave != y->wave) return x->wave < y->wave ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* "  name" padded to width, then "  (note)" when there is one. */
static void add_line(mp_strbuf *sb, const char *name, int width, const char *note)
{
    if (note && *note)
        mp__strbuf_addf(sb, "  %-*s  (%s)\n", width, name, note);
    else
        mp__strbuf_addf(sb, "  %s\n", name);
}

/* Where a module may run: "pinned to the master", "needs k=v, k2=v2". */
static void placement(const mp_module *m, mp_strbuf *note)
{
    mp__strbuf_reset(note);
    if (m->pin_to_master) mp__strbuf_adds(note, "pinned to the master");
    for (size_t i = 0; i < m->requires.n; i++) {
        if (i == 0)
            mp__strbuf_adds(note, note->len ? ", needs " : "needs ");
        else
            mp__strbuf_adds(note, ", ");
        mp__strbuf_addf(note, "%s=%s", m->requires.v[i].key.s, m->requires.v[i].value.s);
    }
}

static void add_section(mp_strbuf *sb, const mp_pipeline *p, const mp_plan *plan,
                        mp_plan_state state, const char *title, int width)
{
    int any = 0;
    for (size_t i = 0; i < plan->n; i++) {
        if (plan->entries[i].state != state) continue;
        if (!any++) mp__strbuf_addf(sb, "%s:\n", title);
        add_line(sb, p->modules.v[i]->name, width, plan->entries[i].reason);
    }
}

static void format_plan(const mp_pipeline *p, const mp_plan *plan, mp_strbuf *sb)
{
    int width = 0;
    for (size_t i = 0; i < plan->n; i++) {
        int len = (int)strlen(p->modules.v[i]->name);
        if (len > width) width = len;
    }

    wave_item *run = mp__xmalloc(mp__xmul(plan->n ? plan->n : 1, sizeof(*run)));
    size_t nrun = 0;
    for (size_t i = 0; i < plan->n; i++)
        if (plan->entries[i].state == MP_PLAN_RUN)
            run[nrun++] = (wave_item){.wave = plan->entries[i].wave, .idx = i};
    qsort(run, nrun, sizeof(*run), cmp_wave_item);

    if (nrun == 0) mp__strbuf_adds(sb, "nothing to run\n");
    mp_strbuf note = MP_STRBUF_INIT;
    for (size_t k = 0; k < nrun; k++) {
        if (k == 0 || run[k].wave != run[k - 1].wave)
            mp__strbuf_addf(sb, "wave %u:\n", run[k].wave + 1);
        const mp_module *m = p->modules.v[run[k].idx];
        placement(m, &note);
        add_line(sb, m->name, width, note.buf);
    }
    mp__strbuf_release(&note);
    free(run);

    add_section(sb, p, plan, MP_PLAN_SKIP, "skipped", width);
    add_section(sb, p, plan, MP_PLAN_EXCLUDED, "excluded", width);
}

static int plan_run(mp_cli *cli, const mp_args *args)
{
    const char *display;
    int rc = mp__cli_load(cli, args->file, &display);
    if (rc != MP_EXIT_OK) return rc;

    mp_filters f = {
        .modules = mp__args_list(args, "module"),
        .skip_modules = mp__args_list(args, "skip-module"),
        .categories = mp__args_list(args, "category"),
        .ignore_categories = mp__args_list(args, "ignore-category"),
    };
    mp_plan plan;
    mp_error err;
    memset(&plan, 0, sizeof(plan));
    memset(&err, 0, sizeof(err));
    if (mp__plan_build(cli->p, &f, &plan, &err) < 0) {
        mp__cli_errorf(cli, "plan", "%s", err.message);
        return MP_EXIT_USAGE;
    }
    mp_strbuf sb = MP_STRBUF_INIT;
    format_plan(cli->p, &plan, &sb);
    mp__cli_out(cli, sb.buf, sb.len);
    mp__strbuf_release(&sb);
    mp__plan_release(&plan);
    return MP_EXIT_OK;
}

static const mp_opt_spec plan_opts[] = {
    {"module", 0, MP_OPT_LIST, "A,B", "only these modules and the modules they depend on"},
    {"skip-module", 0, MP_OPT_LIST, "A,B",
     "mark these modules skipped (and, in turn, what depends on them)"},
    {"category", 0, MP_OPT_LIST, "X,Y", "only modules in these categories"},
    {"ignore-category", 0, MP_OPT_LIST, "X,Y", "leave out modules in these categories"},
    {0},
};

const mp_cli_command mp__cmd_plan = {
    .name = "plan",
    .args_usage = "[FILE] [options]",
    .summary = "show the waves a run would execute and what it would skip",
    .description = "Nothing runs. Modules are listed wave by wave: a module is in the wave after\n"
                   "the last of its dependencies. Then come the modules the run would skip and\n"
                   "those left out by the filters, each with the reason. Filter options may be\n"
                   "repeated and take comma-separated names; a filter naming an unknown module\n"
                   "or a category no module has is an error.\n",
    .opts = plan_opts,
    .run = plan_run,
};
