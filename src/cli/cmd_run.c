/*
 * cmd_run.c -- `modpipe run [FILE] [options]`: run the pipeline on this
 * machine (DESIGN §1, §2, §5).
 *
 * Order of work, and the exit code each step can end with:
 *   1. options from the command line and the environment (run_opts.h);
 *      a bad one exits 2 before the file is read
 *   2. load and validate the pipeline (load.c)                       -> 2
 *   3. the plan of the filters (--module ...; plan.h)                 -> 2
 *   4. secrets: every name of the top-level `secrets` that is set in the
 *      environment goes into the masker; a value too short to mask    -> 2
 *   5. the report's directory must exist and be writable              -> 2
 *   6. workspace = the current directory, state dir = <workspace>/.modpipe;
 *      expected durations from <state dir>/history.json (a bad history
 *      is a warning)
 *   7. SIGINT/SIGTERM/SIGHUP blocked and read through a signalfd that the
 *      engine polls (os/signals.h); SIGPIPE ignored
 *   8. the engine runs the plan with the console sink (grouped or stream
 *      output, and the live display when --progress always, or auto on a
 *      terminal). Requirements unmet -> 2 (nothing ran); state dir not
 *      writable or another failure to start -> 3
 *   9. the summary (always), the report (if asked; failing to write it
 *      -> 3), the history saved (failure is a warning)
 *  10. signals restored; exit 0 succeeded, 1 failed, 128+signal when
 *      interrupted (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
 *
 * Where things go: module output, start/finish lines and the summary to
 * stdout; modpipe's own messages (errors, warnings, -v details) to stderr.
 * A stdout that cannot be written (a closed pipe) does not change the exit
 * code: the run's verdict is what counts; one warning says so.
 */
#include "cli/run_cmd.h"
#include "artifacts/manager.h"

#include "core/engine.h"
#include "core/history.h"
#include "core/xalloc.h"
#include "os/clock.h"
#include "os/signals.h"
#include "output/console.h"
#include "output/mask.h"
#include "output/report.h"
#include "output/summary.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* modpipe's own messages at `level` (args.h): "modpipe run: ..." to stderr
 * when the log level lets them through. */
#define logf_at mp__run_logf
void mp__run_logf(const run_cmd *rc, mp_log_level level, const char *fmt, ...)
{
    if (level > rc->o.log_level) return;
    mp_strbuf sb = MP_STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    mp__cli_errorf(rc->cli, "run", "%s%s", level == MP_LOG_WARN ? "warning: " : "", sb.buf);
    mp__strbuf_release(&sb);
}

/* The values of the pipeline's secrets that are set, in a masker. */
static int build_masker(run_cmd *rc, mp_masker **out)
{
    const mp_pipeline *p = rc->cli->p;
    *out = NULL;
    if (!p->secrets.n) return 0;
    mp_masker *m = mp__masker_new();
    for (size_t i = 0; i < p->secrets.n; i++) {
        const char *name = p->secrets.v[i].s;
        const char *v = getenv(name);
        if (!v || !*v) {
            logf_at(rc, MP_LOG_DEBUG, "secret \"%s\" is not set; nothing to mask for it", name);
            continue;
        }
        mp_error err;
        memset(&err, 0, sizeof(err));
        if (mp__masker_add(m, name, v, &err) < 0) {
            mp__cli_errorf(rc->cli, "run", "%s", err.message);
            mp__masker_free(m);
            return MP_EXIT_USAGE;
        }
    }
    *out = m;
    return 0;
}

/* The report's directory exists and is writable, and the path is not a
 * directory: checked before the run so a typo does not cost a whole run. */
static int check_report_path(const run_cmd *rc)
{
    const char *path = rc->o.report;
    if (!path) return 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        mp__cli_errorf(rc->cli, "run", "cannot write the report to \"%s\": it is a directory",
                       path);
        return MP_EXIT_USAGE;
    }
    const char *slash = strrchr(path, '/');
    const char *dir = !slash          ? "."
                      : slash == path ? "/"
                                      : mp__arena_strndup(rc->arena, path, (size_t)(slash - path));
    if (access(dir, W_OK | X_OK) < 0) {
        mp__cli_errorf(rc->cli, "run", "cannot write the report to \"%s\": %s: %s", path, dir,
                       strerror(errno));
        return MP_EXIT_USAGE;
    }
    return 0;
}

/* Unicode glyphs only on a terminal whose locale is UTF-8. */
static bool want_unicode(int fd)
{
    if (!isatty(fd)) return false;
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
    }
    return false;
}

static int exit_of_start_error(const run_cmd *rc, int code, const mp_error *err)
{
    if (code == MP_EINVALID) {
        if (err->where[0])
            mp__cli_errorf(rc->cli, "run", "%s: %s", err->where, err->message);
        else
            mp__cli_errorf(rc->cli, "run", "%s", err->message);
        mp__cli_errorf(rc->cli, "run", "nothing ran");
        return MP_EXIT_USAGE;
    }
    mp__cli_errorf(rc->cli, "run", "%s", err->message);
    return code == MP_EINVAL || code == MP_EUSAGE ? MP_EXIT_USAGE : MP_EXIT_INFRA;
}

/* After the run: summary, report, history. Returns the exit code. */
int mp__run_finish(run_cmd *rc, const mp_run *run, const mp_report_info *info, int save_history)
{
    mp_cli *cli = rc->cli;
    const mp_pipeline *p = cli->p;
    int code = run->interrupted_by                   ? mp__signal_exit_code(run->interrupted_by)
               : run->verdict == MP_STATUS_SUCCEEDED ? MP_EXIT_OK
                                                     : MP_EXIT_FAILED;

    int out_errno = mp__console_sink_error(rc->console);
    if (!out_errno && mp__summary_write(STDOUT_FILENO, p, run) < 0) out_errno = errno ? errno : EIO;
    if (out_errno)
        logf_at(rc, MP_LOG_WARN, "cannot write to standard output: %s", strerror(out_errno));

    if (rc->o.report) {
        mp_report_info local = {.run_id = rc->o.run_id};
        mp_error err;
        memset(&err, 0, sizeof(err));
        if (mp__report_write(rc->o.report, p, run, info ? info : &local, &err) < 0) {
            mp__cli_errorf(cli, "run", "%s", err.message);
            if (!run->interrupted_by) code = MP_EXIT_INFRA;
        } else {
            logf_at(rc, MP_LOG_DEBUG, "report written to %s", rc->o.report);
        }
    }

    if (save_history) {
        mp__history_update(rc->hist, p, run->results);
        mp_error herr;
        memset(&herr, 0, sizeof(herr));
        if (mp__history_save(rc->hist, &herr) < 0) logf_at(rc, MP_LOG_WARN, "%s", herr.message);
    }
    return code;
}

mp_engine_opts mp__run_engine_opts(const run_cmd *rc, int instance_index, const char *state_dir)
{
    return (mp_engine_opts){
        .parallelism = rc->o.parallelism,
        .on_failure = rc->o.on_failure,
        .workspace = rc->workspace,
        .state_dir = state_dir,
        .run_id = rc->o.run_id,
        .instance_index = instance_index,
        .masker = rc->masker,
        .sinks = rc->console,
        .nsinks = 1,
        .expected_ms = rc->expected,
        .stop_fd = -1,
        .keep_children = rc->keep_children,
        .artifacts = rc->arts,
    };
}

static int run_local(run_cmd *rc)
{
    mp_engine_opts eo = mp__run_engine_opts(rc, 0, rc->state_dir);
    eo.stop_fd = rc->sw->fd;
    eo.stop_read = mp__sigwatch_read;
    eo.stop_data = rc->sw;
    mp_error err;
    memset(&err, 0, sizeof(err));
    mp_run run;
    int erc = mp__engine_run(rc->cli->p, rc->plan, &eo, &run, &err);
    if (erc < 0) return exit_of_start_error(rc, erc, &err);
    int code = mp__run_finish(rc, &run, NULL, 1);
    mp__run_release(&run);
    return code;
}

/* Does any module of the run produce or consume artifacts? */
static bool run_has_artifacts(const mp_pipeline *p, const mp_plan *plan)
{
    for (size_t i = 0; i < p->modules.n; i++)
        if (plan->entries[i].state == MP_PLAN_RUN &&
            (p->modules.v[i]->produces.n || p->modules.v[i]->consumes.n))
            return true;
    return false;
}

/* The artifact manager of the run: the store given (--artifacts /
 * MODPIPE_ARTIFACTS, opened even when nothing uses it, so a bad URL is
 * never silently ignored) or, when some module moves artifacts, the
 * local store <state>/artifacts; the cache is <state>/cache. Returns an
 * exit code (0, 2 bad URL, 3 store unreachable). */
static int open_artifacts(run_cmd *rc, const mp_plan *plan, mp_art_manager **out)
{
    *out = NULL;
    bool uses = run_has_artifacts(rc->cli->p, plan);
    if (!rc->o.artifacts && !uses) return MP_EXIT_OK;
    /* Instances on other machines would each use their own default store
     * and never find each other's blobs (DESIGN §7.9: no silent local
     * fallback). --local-instances names the default store for its
     * workers. */
    if (!rc->o.artifacts && mp__run_opts_distributed(&rc->o) && !rc->o.local_instances) {
        mp__cli_errorf(rc->cli, "run",
                       "modules of this pipeline produce or consume artifacts, and a distributed "
                       "run needs a store every instance reaches: give --artifacts URL (or "
                       "MODPIPE_ARTIFACTS)");
        return MP_EXIT_USAGE;
    }
    const char *url = rc->o.artifacts ? rc->o.artifacts
                                      : mp__arena_printf(rc->arena, "file://%s/artifacts",
                                                         rc->state_dir);
    mp_art_manager_opts ao = {.store_url = url,
                              .cache_dir = mp__arena_printf(rc->arena, "%s/cache", rc->state_dir)};
    mp_error err;
    memset(&err, 0, sizeof(err));
    int erc = mp__art_manager_open(&ao, out, &err);
    if (erc < 0) {
        mp__cli_errorf(rc->cli, "run", "artifact store: %s", err.message);
        return erc == MP_EINVAL || erc == MP_EUSAGE ? MP_EXIT_USAGE : MP_EXIT_INFRA;
    }
    logf_at(rc, MP_LOG_DEBUG, "artifact store %s", mp__art_manager_store_shown(*out));
    return MP_EXIT_OK;
}

static int execute(run_cmd *rc, const mp_plan *plan, const mp_masker *masker)
{
    mp_cli *cli = rc->cli;
    const mp_pipeline *p = cli->p;
    rc->plan = plan;
    rc->masker = masker;

    mp_error warn;
    memset(&warn, 0, sizeof(warn));
    rc->hist = mp__history_load(rc->state_dir, &warn);
    if (warn.code) logf_at(rc, MP_LOG_WARN, "%s", warn.message);
    size_t n = p->modules.n;
    int64_t *expected = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(int64_t)));
    mp__history_expected(rc->hist, p, expected);
    rc->expected = expected;

    bool tty = isatty(STDOUT_FILENO);
    bool live = rc->o.progress == MP_PROGRESS_ALWAYS || (rc->o.progress == MP_PROGRESS_AUTO && tty);
    mp_console_opts copts = {.unicode = want_unicode(STDOUT_FILENO)};
    mp_sink sinks[1];
    sinks[0] = mp__console_sink(STDOUT_FILENO, rc->o.output, live, &copts);
    rc->console = &sinks[0];

    mp_sigwatch sw;
    mp_error err;
    memset(&err, 0, sizeof(err));
    mp_art_manager *arts = NULL;
    int code = open_artifacts(rc, plan, &arts);
    if (code != MP_EXIT_OK) goto out_nosig;
    rc->arts = arts;
    if (mp__sigwatch_start(&sw, &err) < 0) {
        mp__cli_errorf(cli, "run", "%s", err.message);
        code = MP_EXIT_INFRA;
        goto out;
    }
    rc->sw = &sw;
    const char *from = rc->o.run_id_from;
    bool told = !from || strcmp(from, "--run-id") == 0 || strcmp(from, "MODPIPE_RUN_ID") == 0;
    logf_at(rc, MP_LOG_DEBUG, "run id %s%s%s%s, %zu modules, parallelism %d (%s), on_failure %s",
            rc->o.run_id, told ? "" : " (", told ? "" : from, told ? "" : ")", n, rc->o.parallelism,
            rc->o.parallelism_from, rc->o.on_failure == MP_ON_FAILURE_STOP ? "stop" : "continue");
    logf_at(rc, MP_LOG_DEBUG, "workspace %s, state directory %s", rc->workspace, rc->state_dir);

    if (rc->o.local_instances)
        code = mp__run_local_instances(rc);
    else if (mp__run_opts_distributed(&rc->o))
        code = mp__run_dist(rc);
    else
        code = run_local(rc);
    mp__sigwatch_stop(&sw);
out:
    mp__art_manager_close(arts);
out_nosig:
    mp__console_sink_free(&sinks[0]);
    free(expected);
    mp__history_free(rc->hist);
    return code;
}

static int run_run(mp_cli *cli, const mp_args *args)
{
    run_cmd rc = {.cli = cli, .args = args, .arena = mp__arena_new()};
    mp_error err;
    memset(&err, 0, sizeof(err));
    mp_masker *masker = NULL;
    mp_plan plan;
    memset(&plan, 0, sizeof(plan));
    int code;

    if (mp__run_opts_resolve(args, environ, mp__clock_wall_ms(), (long)getpid(), rc.arena, &rc.o,
                             &err) < 0) {
        mp__cli_errorf(cli, "run", "%s", err.message);
        code = MP_EXIT_USAGE;
        goto out;
    }
    const char *display;
    if ((code = mp__cli_load(cli, args->file, &display)) != MP_EXIT_OK) goto out;
    mp__run_opts_finish(&rc.o, cli->p);
    if (mp__plan_build(cli->p, &rc.o.filters, &plan, &err) < 0) {
        mp__cli_errorf(cli, "run", "%s", err.message);
        code = MP_EXIT_USAGE;
        goto out;
    }
    if ((code = build_masker(&rc, &masker)) != 0) goto out;
    if ((code = check_report_path(&rc)) != 0) goto out;

    char *cwd = getcwd(NULL, 0);
    if (!cwd) {
        mp__cli_errorf(cli, "run", "cannot get the current directory: %s", strerror(errno));
        code = MP_EXIT_INFRA;
        goto out;
    }
    rc.workspace = mp__arena_strdup(rc.arena, cwd);
    free(cwd);
    rc.state_dir = mp__arena_printf(rc.arena, "%s/.modpipe",
                                    strcmp(rc.workspace, "/") == 0 ? "" : rc.workspace);
    code = execute(&rc, &plan, masker);
out:
    if (plan.arena) mp__plan_release(&plan);
    mp__masker_free(masker);
    mp__arena_free(rc.arena);
    return code;
}

static const mp_opt_spec run_opts[] = {
    {"parallelism", 'j', MP_OPT_VALUE, "N",
     "modules running at once (env MODPIPE_PARALLELISM; default: options.parallelism, else CPUs)"},
    {"module", 0, MP_OPT_LIST, "A,B", "run only these modules and the modules they depend on"},
    {"skip-module", 0, MP_OPT_LIST, "A,B",
     "mark these modules skipped (and, in turn, what depends on them)"},
    {"category", 0, MP_OPT_LIST, "X,Y", "only modules in these categories"},
    {"ignore-category", 0, MP_OPT_LIST, "X,Y", "leave out modules in these categories"},
    {"on-failure", 0, MP_OPT_VALUE, "stop|continue", "override options.on_failure"},
    {"report", 0, MP_OPT_VALUE, "FILE", "write the JSON run report to FILE (env MODPIPE_REPORT)"},
    {"artifacts", 0, MP_OPT_VALUE, "URL",
     "artifact store: file:///abs/dir, s3://..., redis://... (env MODPIPE_ARTIFACTS; default "
     "file://<workspace>/.modpipe/artifacts)"},
    {"progress", 0, MP_OPT_VALUE, "auto|always|never",
     "live display of running modules (auto: only on a terminal)"},
    {"output", 0, MP_OPT_VALUE, "grouped|stream",
     "module logs as one block per module (default) or live prefixed lines"},
    {"instances", 0, MP_OPT_VALUE, "N",
     "instances of a distributed run, master included (env MODPIPE_INSTANCES; default 1)"},
    {"instance-index", 0, MP_OPT_VALUE, "I",
     "this instance of a distributed run, 0 = master (env MODPIPE_INSTANCE_INDEX)"},
    {"coordinator", 0, MP_OPT_VALUE, "URL",
     "where the instances meet: redis://[user:pass@]host[:port][/db] (env MODPIPE_COORDINATOR)"},
    {"run-id", 0, MP_OPT_VALUE, "ID",
     "the run's id, the same on every instance (env MODPIPE_RUN_ID; else from CI variables)"},
    {"capability", 0, MP_OPT_LIST, "K=V",
     "what this instance offers besides os and arch, repeatable (env MODPIPE_CAPABILITIES)"},
    {"local-instances", 0, MP_OPT_VALUE, "N",
     "run the master and N-1 worker processes on this machine (a private redis-server "
     "unless --coordinator)"},
    {"verbose", 'v', MP_OPT_FLAG, NULL, "more of modpipe's own messages (env MODPIPE_LOG_LEVEL)"},
    {"quiet", 'q', MP_OPT_FLAG, NULL, "only warnings and errors of modpipe's own"},
    {0},
};

const mp_cli_command mp__cmd_run = {
    .name = "run",
    .args_usage = "[FILE] [options]",
    .summary = "run the pipeline on this machine",
    .description = "Runs every module of the pipeline (or those the filters select), as many at\n"
                   "once as --parallelism allows, in the current directory (the workspace; logs\n"
                   "and history go to ./.modpipe). Prints each module's output, then a summary.\n"
                   "Exit codes: 0 succeeded, 1 failed, 2 bad usage, invalid pipeline or unmet\n"
                   "requirements (nothing ran), 3 infrastructure failure, 130/143 interrupted by\n"
                   "SIGINT/SIGTERM. MODPIPE_RUN_ID sets the run id (default local-<time>-<pid>).\n",
    .opts = run_opts,
    .run = run_run,
};
