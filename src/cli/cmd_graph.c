/*
 * cmd_graph.c -- `modpipe graph [FILE] [--format dot|mermaid|json]`: the
 * module graph after matrix expansion. dot (the default) and mermaid draw
 * depends_on edges solid and after edges dashed (output/graph_format.h);
 * json is the whole validated model with positions (core/pipeline_json.h),
 * indented by two and with sorted keys.
 */
#include "cli/cli.h"

#include "core/diag.h"
#include "core/pipeline_json.h"
#include "output/graph_format.h"

#include <stdlib.h>
#include <string.h>

static const char *const formats[] = {"dot", "mermaid", "json", NULL};

static int graph_json(mp_cli *cli)
{
    json_t *j = mp__pipeline_to_json(cli->p, 1);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text) {
        mp__cli_errorf(cli, "graph", "cannot serialise the pipeline as json");
        return MP_EXIT_USAGE;
    }
    mp__cli_outf(cli, "%s", text);
    free(text);
    return MP_EXIT_OK;
}

static int graph_run(mp_cli *cli, const mp_args *args)
{
    const char *format = mp__args_get(args, "format")->value;
    if (!format) format = "dot";
    int which = -1;
    for (int i = 0; formats[i]; i++)
        if (strcmp(format, formats[i]) == 0) which = i;
    if (which < 0) {
        const char *best = mp__suggest(format, formats);
        if (best)
            mp__cli_errorf(cli, "graph", "unknown format \"%s\"; did you mean \"%s\"?", format,
                           best);
        else
            mp__cli_errorf(cli, "graph", "unknown format \"%s\" (use dot, mermaid or json)",
                           format);
        return MP_EXIT_USAGE;
    }

    const char *display;
    int rc = mp__cli_load(cli, args->file, &display);
    if (rc != MP_EXIT_OK) return rc;
    if (which == 2) return graph_json(cli);
    mp_strbuf sb = MP_STRBUF_INIT;
    if (which == 0)
        mp__graph_to_dot(cli->p, &sb);
    else
        mp__graph_to_mermaid(cli->p, &sb);
    mp__cli_out(cli, sb.buf, sb.len);
    mp__strbuf_release(&sb);
    return MP_EXIT_OK;
}

static const mp_opt_spec graph_opts[] = {
    {"format", 0, MP_OPT_VALUE, "dot|mermaid|json", "output format (default: dot)"},
    {0},
};

const mp_cli_command mp__cmd_graph = {
    .name = "graph",
    .args_usage = "[FILE] [--format dot|mermaid|json]",
    .summary = "print the module graph as dot, mermaid or json",
    .description = "Prints every module after matrix expansion. In dot and mermaid an arrow goes\n"
                   "from a module to the modules that wait for it: solid for depends_on, dashed\n"
                   "for after. json is the whole pipeline as parsed and validated, with the\n"
                   "position of every module.\n",
    .opts = graph_opts,
    .run = graph_run,
};
