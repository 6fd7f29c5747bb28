/*
 * cli.h -- what the subcommands of mp_main() share.
 *
 * mp_main (mp_main.c) finds the command, parses its options against the
 * command's own table (args.h), prints its help when asked, and otherwise
 * calls its run function. A command is one file (cmd_<name>.c) exporting
 * one `const mp_cli_command`. Commands load the pipeline through
 * mp__cli_load() and print through the helpers below, which write every
 * line (or a whole block of lines) with one write(2), never through
 * buffered stdio, so output from several processes never interleaves
 * inside a line.
 *
 * Exit codes follow DESIGN §1: 0 ok, 2 bad usage or invalid pipeline; `run`
 * adds 1 (pipeline failed), 3 (infrastructure) and 128+signal (cmd_run.c).
 */
#ifndef MP_CLI_CLI_H
#define MP_CLI_CLI_H

#include "cli/args.h"
#include "core/strbuf.h"
#include "modpipe.h"

#define MP_EXIT_OK    0
#define MP_EXIT_USAGE 2

typedef struct mp_cli {
    const char *prog; /* program name for messages: "modpipe" */
    mp_pipeline *p;   /* the pipeline mp_main() was given */
    int write_errno;  /* first errno of a failed write to stdout, 0 if none */
} mp_cli;

typedef struct mp_cli_command {
    const char *name;
    const char *args_usage;  /* after "usage: modpipe <name> ", e.g. "[FILE] [options]" */
    const char *summary;     /* one line for "modpipe --help" */
    const char *description; /* a few lines for "modpipe <name> --help", or NULL */
    const mp_opt_spec *opts; /* the options it acts on; {NULL} terminated */
    int (*run)(mp_cli *cli, const mp_args *args);
} mp_cli_command;

extern const mp_cli_command mp__cmd_run;
extern const mp_cli_command mp__cmd_validate;
extern const mp_cli_command mp__cmd_plan;
extern const mp_cli_command mp__cmd_graph;
extern const mp_cli_command mp__cmd_list;
extern const mp_cli_command mp__cmd_version;

/* Write all of buf to stdout in one write(2) (looping only on a short
 * write). A failure is remembered in cli->write_errno. */
void mp__cli_out(mp_cli *cli, const char *buf, size_t len);
/* printf-style line to stdout; the newline is added. */
void mp__cli_outf(mp_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<prog>: message" or, with cmd, "<prog> <cmd>: message" to stderr. */
void mp__cli_errorf(const mp_cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* printf-style line to stderr without a prefix; the newline is added. */
void mp__cli_errlinef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load and validate the pipeline for a command (see load.c for which file).
 * On success returns 0 and sets *display to the name to show for it (the
 * file as given, or the pipeline's name for a pipeline built in code).
 * Otherwise prints what went wrong (every problem with its position, then
 * a count) and returns MP_EXIT_USAGE. */
int mp__cli_load(mp_cli *cli, const char *file, const char **display);

/* "usage: ..." and the option list of cmd (as printed by --help). */
void mp__cli_command_help(const mp_cli *cli, const mp_cli_command *cmd, mp_strbuf *sb);

#endif
