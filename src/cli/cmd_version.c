/*
 * cmd_version.c -- `modpipe version` (and `modpipe --version`): prints
 * "modpipe <version>" from mp_version().
 */
#include "cli/cli.h"

static int version_run(mp_cli *cli, const mp_args *args)
{
    if (args->file) {
        mp__cli_errorf(cli, "version", "unexpected argument \"%s\"", args->file);
        return MP_EXIT_USAGE;
    }
    mp__cli_outf(cli, "modpipe %s", mp_version());
    return MP_EXIT_OK;
}

static const mp_opt_spec version_opts[] = {{0}};

const mp_cli_command mp__cmd_version = {
    .name = "version",
    .args_usage = "",
    .summary = "print the version of modpipe",
    .description = NULL,
    .opts = version_opts,
    .run = version_run,
};
