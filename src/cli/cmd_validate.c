/*
 * cmd_validate.c -- `modpipe validate [FILE] [-q]`: load and validate the
 * pipeline, print every problem (exit 2) or one line
 *   FILE: ok (N modules, hash <first 12 hex digits>)
 * (exit 0). With -q, or MODPIPE_LOG_LEVEL=warn or error, the ok line is
 * left out and only the exit code tells; problems are always printed.
 */
#include "cli/cli.h"

#include <string.h>

static int validate_run(mp_cli *cli, const mp_args *args)
{
    mp_log_level level;
    mp_error err;
    memset(&err, 0, sizeof(err));
    if (mp__args_log_level(args, &level, &err) < 0) {
        mp__cli_errorf(cli, "validate", "%s", err.message);
        return MP_EXIT_USAGE;
    }
    const char *display;
    int rc = mp__cli_load(cli, args->file, &display);
    if (rc != MP_EXIT_OK) return rc;
    if (level >= MP_LOG_INFO) {
        size_t n = mp_pipeline_module_count(cli->p);
        const char *hash = mp_pipeline_hash(cli->p);
        mp__cli_outf(cli, "%s: ok (%zu module%s, hash %.12s)", display, n, n == 1 ? "" : "s",
                     hash ? hash : "unknown");
    }
    return MP_EXIT_OK;
}

static const mp_opt_spec validate_opts[] = {
    {"quiet", 'q', MP_OPT_FLAG, NULL, "print nothing when the pipeline is valid"},
    {0},
};

const mp_cli_command mp__cmd_validate = {
    .name = "validate",
    .args_usage = "[FILE] [-q]",
    .summary = "check the pipeline file and print every problem",
    .description = "Loads FILE, expands matrices and checks the whole graph. Every problem is\n"
                   "printed as file:line:column: message; the exit code is 0 when the pipeline\n"
                   "is valid and 2 when it is not. With -q, or MODPIPE_LOG_LEVEL=warn or error,\n"
                   "nothing is printed for a valid pipeline.\n",
    .opts = validate_opts,
    .run = validate_run,
};
