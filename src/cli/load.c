/*
 * load.c -- getting a validated pipeline for a command (see cli.h).
 *
 * Which pipeline: FILE when given; otherwise ./modpipe.yml when it exists;
 * otherwise, when the program already added modules in code, the pipeline
 * as it is; otherwise ./modpipe.yml anyway, so the user reads that it is
 * missing. The file is loaded into the pipeline mp_main() was given (code
 * modules stay, see mp_pipeline_load_file), then validated -- also when
 * the loader found problems, so that one run reports the graph's problems
 * (unknown dependencies, cycles ...) together with the file's. A pipeline
 * built in code that its program has already validated (and not changed
 * since) is used as it is: validating 100,000 modules again costs time.
 *
 * Reporting: a file that cannot be read gives one line
 *   modpipe: cannot read "FILE": <reason>
 * and a pipeline with problems gives every problem, sorted, as
 *   file:line:col: message
 * then "modpipe: N problems in FILE". Both exit 2.
 */
#include "cli/cli.h"

#include "core/model.h"

#include <string.h>
#include <unistd.h>

#define DEFAULT_FILE "modpipe.yml"

static void print_problems(const mp_cli *cli, const char *display)
{
    const mp_pipeline *p = cli->p;
    size_t n = mp_pipeline_problem_count(p);
    for (size_t i = 0; i < n; i++) {
        const mp_problem *pr = mp_pipeline_problem(p, i);
        if (pr->line && pr->col)
            mp__cli_errlinef("%s:%u:%u: %s", pr->file, pr->line, pr->col, pr->message);
        else if (pr->line)
            mp__cli_errlinef("%s:%u: %s", pr->file, pr->line, pr->message);
        else
            mp__cli_errlinef("%s: %s", pr->file, pr->message);
    }
    size_t dropped = p->diags.dropped;
    if (dropped)
        mp__cli_errorf(cli, NULL, "%zu problems in %s (the first %zu are shown)", n + dropped,
                       display, n);
    else
        mp__cli_errorf(cli, NULL, "%zu problem%s in %s", n, n == 1 ? "" : "s", display);
}

int mp__cli_load(mp_cli *cli, const char *file, const char **display)
{
    mp_pipeline *p = cli->p;
    const char *path = file;
    if (!path && (access(DEFAULT_FILE, F_OK) == 0 || p->decls.n == 0)) path = DEFAULT_FILE;
    *display = path ? path : p->name ? p->name : "<api>";

    /* A pipeline built in code and validated by its program, unchanged
     * since (every change clears `validated`): nothing to load or check. */
    if (!path && p->validated) return MP_EXIT_OK;

    mp_error err;
    memset(&err, 0, sizeof(err));
    int rc = path ? mp_pipeline_load_file(p, path, &err) : 0;
    if (rc == MP_EIO || rc == MP_ENOENT) {
        mp__cli_errorf(cli, NULL, "cannot read \"%s\": %s", path, err.message);
        return MP_EXIT_USAGE;
    }
    if (rc < 0 && rc != MP_EINVALID) {
        mp__cli_errorf(cli, NULL, "%s: %s", path, err.message);
        return MP_EXIT_USAGE;
    }
    if (mp_pipeline_validate(p, &err) < 0 || rc < 0) {
        if (mp_pipeline_problem_count(p) > 0)
            print_problems(cli, *display);
        else
            mp__cli_errorf(cli, NULL, "%s: %s", *display, err.message);
        return MP_EXIT_USAGE;
    }
    return MP_EXIT_OK;
}
