/*
 * run_cmd.h -- what the parts of `modpipe run` share: cmd_run.c (options,
 * loading, the local run, summary/report/history), run_dist.c (an
 * instance of a distributed run: master or worker) and local_instances.c
 * (--local-instances: a private coordinator and worker processes around a
 * master in this process).
 *
 * Everything here lives for one `modpipe run` on the caller's thread.
 */
#ifndef MP_CLI_RUN_CMD_H
#define MP_CLI_RUN_CMD_H

#include "cli/cli.h"
#include "cli/run_opts.h"
#include "core/engine.h"
#include "core/history.h"
#include "os/signals.h"
#include "output/report.h"

#define MP_EXIT_FAILED 1
#define MP_EXIT_INFRA  3

typedef struct mp_art_manager mp_art_manager;

typedef struct run_cmd {
    mp_cli *cli;
    const mp_args *args;
    mp_run_opts o;
    mp_arena *arena;
    const char *workspace, *state_dir;
    const mp_plan *plan;
    const mp_masker *masker;
    mp_history *hist;
    const int64_t *expected;
    mp_sink *console;    /* the console sink (stdout) */
    mp_sigwatch *sw;     /* SIGINT/SIGTERM/SIGHUP as an fd, started */
    mp_art_manager *arts; /* the artifact store of this instance, or NULL */
    int keep_children;   /* this process has children of its own (--local-instances) */
    /* Called by the master after the run, before the summary (when set):
     * --local-instances waits for its workers there, so their last lines
     * come before the summary. */
    void (*after_run)(void *data);
    void *after_run_data;
} run_cmd;

/* "modpipe run: ..." to stderr when the log level lets `level` through. */
void mp__run_logf(const run_cmd *rc, mp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* After a run: summary, report (with info's instances), history (only
 * when save_history). Returns the exit code (0, 1, 3 when the report
 * cannot be written, 128+signal when interrupted). */
int mp__run_finish(run_cmd *rc, const mp_run *run, const mp_report_info *info, int save_history);

/* Engine options of this process's instance (sinks, masker, workspace,
 * state dir, run id, parallelism; stop_fd -1). */
mp_engine_opts mp__run_engine_opts(const run_cmd *rc, int instance_index, const char *state_dir);

/* An instance of a distributed run over rc->o.coordinator: the master
 * (index 0) or a worker. Returns the exit code (DESIGN §1). */
int mp__run_dist(run_cmd *rc);

/* --local-instances N (local_instances.c). Returns the exit code. */
int mp__run_local_instances(run_cmd *rc);

#endif
