/*
 * mp_main.c -- mp_main(): the `modpipe` command line (DESIGN §1).
 *
 *   modpipe <command> [FILE] [options]
 *   modpipe --help | -h | help [command]
 *   modpipe --version
 *
 * The first argument names the command (run, validate, plan, graph, list,
 * version); the rest is parsed against that command's option table
 * (args.h), so each command accepts exactly the options it acts on.
 * An unknown command or option is answered with the closest known name and
 * exit 2. Output goes to stdout, diagnostics to stderr, each line in one
 * write (out.c).
 */
#include "cli/cli.h"

#include "core/diag.h"

#include <string.h>

static const mp_cli_command *const commands[] = {
    &mp__cmd_run,  &mp__cmd_validate, &mp__cmd_plan, &mp__cmd_graph,
    &mp__cmd_list, &mp__cmd_version,  NULL,
};

static const mp_cli_command *find_command(const char *name)
{
    for (size_t i = 0; commands[i]; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

static void top_help(const mp_cli *cli, mp_strbuf *sb)
{
    mp__strbuf_addf(sb, "usage: %s <command> [FILE] [options]\n", cli->prog);
    mp__strbuf_adds(sb, "\ncommands:\n");
    for (size_t i = 0; commands[i]; i++)
        mp__strbuf_addf(sb, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
    mp__strbuf_adds(sb, "\nFILE defaults to ./modpipe.yml.\n");
    mp__strbuf_addf(sb, "\"%s <command> --help\" shows the options of a command.\n", cli->prog);
    mp__strbuf_addf(sb, "\"%s --version\" prints the version.\n", cli->prog);
}

static int unknown_command(const mp_cli *cli, const char *name)
{
    const char *names[sizeof(commands) / sizeof(commands[0]) + 1];
    size_t n = 0;
    for (size_t i = 0; commands[i]; i++)
        names[n++] = commands[i]->name;
    names[n++] = "help";
    names[n] = NULL;
    const char *best = mp__suggest(name, names);
    if (best)
        mp__cli_errorf(cli, NULL, "unknown command \"%s\"; did you mean \"%s\"?", name, best);
    else
        mp__cli_errorf(cli, NULL, "unknown command \"%s\"; \"%s --help\" lists the commands", name,
                       cli->prog);
    return MP_EXIT_USAGE;
}

static int unknown_top_option(const mp_cli *cli, const char *opt)
{
    static const char *const names[] = {"--help", "--version", "-h", NULL};
    const char *best = strlen(opt) > 2 ? mp__suggest(opt, names) : NULL;
    if (best)
        mp__cli_errorf(cli, NULL, "unknown option \"%s\"; did you mean \"%s\"?", opt, best);
    else
        mp__cli_errorf(cli, NULL, "unknown option \"%s\"; \"%s --help\" lists the commands", opt,
                       cli->prog);
    return MP_EXIT_USAGE;
}

static int print_help(mp_cli *cli, const mp_cli_command *cmd)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    if (cmd)
        mp__cli_command_help(cli, cmd, &sb);
    else
        top_help(cli, &sb);
    mp__cli_out(cli, sb.buf, sb.len);
    mp__strbuf_release(&sb);
    return MP_EXIT_OK;
}

/* `modpipe help [command]` */
static int help_command(mp_cli *cli, int argc, char **argv)
{
    if (argc > 1) {
        mp__cli_errorf(cli, "help", "unexpected argument \"%s\"", argv[1]);
        return MP_EXIT_USAGE;
    }
    if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)
        return print_help(cli, NULL);
    const mp_cli_command *cmd = find_command(argv[0]);
    if (!cmd) return unknown_command(cli, argv[0]);
    return print_help(cli, cmd);
}

static int run_command(mp_cli *cli, const mp_cli_command *cmd, int argc, char **argv)
{
    mp_args args;
    mp_error err;
    memset(&err, 0, sizeof(err));
    int rc;
    if (mp__args_parse(&args, cmd->opts, argc, argv, &err) < 0) {
        mp__cli_errorf(cli, cmd->name, "%s", err.message);
        rc = MP_EXIT_USAGE;
    } else if (args.help) {
        rc = print_help(cli, cmd);
    } else {
        rc = cmd->run(cli, &args);
    }
    mp__args_release(&args);
    return rc;
}

static int dispatch(mp_cli *cli, int argc, char **argv)
{
    if (argc == 0) {
        mp_strbuf sb = MP_STRBUF_INIT;
        top_help(cli, &sb);
        mp__cli_errlinef("%.*s", (int)(sb.len - 1), sb.buf);
        mp__strbuf_release(&sb);
        return MP_EXIT_USAGE;
    }
    const char *first = argv[0];
    if (strcmp(first, "help") == 0) return help_command(cli, argc - 1, argv + 1);
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 ||
        strcmp(first, "--version") == 0) {
        if (argc > 1) {
            mp__cli_errorf(cli, NULL, "unexpected argument \"%s\" after \"%s\"", argv[1], first);
            return MP_EXIT_USAGE;
        }
        if (first[2] == 'v') return run_command(cli, &mp__cmd_version, 0, NULL);
        return print_help(cli, NULL);
    }
    if (first[0] == '-') return unknown_top_option(cli, first);
    const mp_cli_command *cmd = find_command(first);
    if (!cmd) return unknown_command(cli, first);
    return run_command(cli, cmd, argc - 1, argv + 1);
}

static const char *prog_name(int argc, char **argv)
{
    if (argc < 1 || !argv[0] || !*argv[0]) return "modpipe";
    const char *slash = strrchr(argv[0], '/');
    const char *base = slash ? slash + 1 : argv[0];
    return *base ? base : "modpipe";
}

int mp_main(mp_pipeline *p, int argc, char **argv)
{
    mp_pipeline *own = NULL;
    if (!p) p = own = mp_pipeline_new(NULL);
    mp_cli cli = {.prog = prog_name(argc, argv), .p = p, .write_errno = 0};
    int rc = dispatch(&cli, argc > 0 ? argc - 1 : 0, argc > 0 ? argv + 1 : argv);
    if (cli.write_errno) {
        mp__cli_errorf(&cli, NULL, "cannot write to standard output: %s",
                       strerror(cli.write_errno));
        if (rc == MP_EXIT_OK) rc = MP_EXIT_USAGE;
    }
    mp_pipeline_free(own);
    return rc;
}
