/*
 * help.c -- the help texts, generated from the command tables so that
 * what --help lists is exactly what the parser accepts.
 */
#include "cli/cli.h"

#include <string.h>

/* "  -j, --parallelism N" (without padding) for one option. */
static void option_left(const mp_opt_spec *s, mp_strbuf *sb)
{
    mp__strbuf_adds(sb, "  ");
    if (s->short_name) mp__strbuf_addf(sb, "-%c, ", s->short_name);
    mp__strbuf_addf(sb, "--%s", s->name);
    if (s->kind != MP_OPT_FLAG && s->metavar) mp__strbuf_addf(sb, " %s", s->metavar);
}

void mp__cli_command_help(const mp_cli *cli, const mp_cli_command *cmd, mp_strbuf *sb)
{
    mp__strbuf_addf(sb, "usage: %s %s%s%s\n", cli->prog, cmd->name, *cmd->args_usage ? " " : "",
                    cmd->args_usage);
    mp__strbuf_addf(sb, "\n%s\n", cmd->summary);
    if (cmd->description) mp__strbuf_addf(sb, "\n%s", cmd->description);

    static const mp_opt_spec help_opt = {"help", 'h', MP_OPT_FLAG, NULL, "show this help"};
    size_t width = 0;
    mp_strbuf left = MP_STRBUF_INIT;
    for (const mp_opt_spec *s = cmd->opts;; s++) {
        const mp_opt_spec *o = s->name ? s : &help_opt;
        mp__strbuf_reset(&left);
        option_left(o, &left);
        if (left.len > width) width = left.len;
        if (!s->name) break;
    }
    mp__strbuf_adds(sb, "\noptions:\n");
    for (const mp_opt_spec *s = cmd->opts;; s++) {
        const mp_opt_spec *o = s->name ? s : &help_opt;
        mp__strbuf_reset(&left);
        option_left(o, &left);
        mp__strbuf_addf(sb, "%-*s  %s\n", (int)width, left.buf, o->help);
        if (!s->name) break;
    }
    mp__strbuf_release(&left);
    if (strstr(cmd->args_usage, "FILE")) mp__strbuf_adds(sb, "\nFILE defaults to ./modpipe.yml.\n");
}
