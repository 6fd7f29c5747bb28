/*
 * engine.h -- run a validated pipeline on this machine (DESIGN §2, §5).
 *
 * The engine is the local executor: the scheduler (sched.h) decides what
 * may start, the engine starts modules (processes in their own group, or C
 * functions on threads), captures and masks their output into per-module
 * logs, enforces per-attempt timeouts and retries, evaluates conditions,
 * substitutes expressions, collects outputs, and tells the sinks
 * (events.h). Distributed mode reuses it on every instance.
 *
 * Threads: the caller's thread runs the loop; C-function modules each get
 * a thread that the engine joins before mp__engine_run returns. Nothing of
 * the engine outlives the call: on return no module process or thread is
 * left (groups are killed with SIGTERM, grace, SIGKILL). A C function is
 * stopped only by asking (mp_ctx_cancelled() turns true on timeout or
 * stop): one that ignores cancellation is waited for, however long it
 * takes, and the run does not end before it returns.
 *
 * Stopping: the caller hands in `stop_fd`, a readable fd (e.g. a signalfd
 * for SIGINT/SIGTERM, or a pipe) that the loop polls; when it becomes
 * readable the engine calls stop_read(stop_data, &signo) and stops the run
 * (running modules cancelled, always_run modules still run) and reports
 * the signal in *interrupted_by. stop_read returns 0 with *signo > 0 for a
 * stop request, 0 with *signo == 0 for nothing (a spurious wake-up), or a
 * negative code: then stop_fd is not polled any more. Without stop_read the
 * engine read()s and drops what is there and counts it as SIGTERM. A
 * request while the run is already stopping (a second Ctrl-C, or one after
 * on_failure stop) cancels the always_run modules too: the user insists.
 *
 * What happens, in order (DESIGN §2; engine_module.c has the details):
 *   - requirements are checked before anything (MP_EINVALID, nothing ran);
 *     modpipe's environment is read once, here: what modules and
 *     conditions see does not change if the program calls setenv();
 *     state_dir/logs and state_dir/outputs are created (MP_EIO);
 *   - modpipe becomes a child subreaper; after the run every orphan left
 *     by a module (a process that escaped its group) is killed
 *     (mp__process_kill_orphans; not with keep_children);
 *   - modules start while fewer than `parallelism` are active (a module
 *     waiting for its retry keeps its slot); skip_if / run_if first
 *     (a {command:} condition runs watched by the loop, 30 s deadline);
 *   - per attempt: a fresh $MODPIPE_OUTPUT under state_dir/outputs/, the
 *     environment of module_env.h (pipeline secrets reach only the modules
 *     that declare them), output masked into state_dir/logs/<name>.log
 *     (logfile.h) and to the sinks; timeout: SIGTERM to the group, SIGKILL
 *     after kill_grace_ms -> timed_out; retries with doubling delay +-20%;
 *     failures found before anything started (missing secret, command not
 *     found for an argv, missing working directory) are not retried;
 *   - outputs (and error messages, reasons, the log tail) are masked
 *     before they enter a result;
 *   - modules outside the run (plan EXCLUDED) end `skipped` with the
 *     plan's reason in the results but are never reported to the sinks.
 * Sinks' tick gets mp__clock_now_ms() (monotonic).
 */
#ifndef MP_CORE_ENGINE_H
#define MP_CORE_ENGINE_H

#include "core/events.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/result.h"

typedef struct mp_masker mp_masker;

typedef struct mp_engine_opts {
    int parallelism;          /* <= 0: the number of CPUs */
    mp_on_failure on_failure; /* already resolved: flag > file option */
    const char *workspace;    /* absolute; modules' working_dir is relative to it;
                                 NULL: the current directory */
    const char *state_dir;    /* absolute; logs/ and history.json live here;
                                 NULL: <workspace>/.modpipe */
    const char *run_id;
    int instance_index;
    int64_t kill_grace_ms;   /* SIGTERM -> SIGKILL; <= 0: 10000 */
    const mp_masker *masker; /* NULL: the engine builds one from the values of
                                p->secrets found in the environment */
    const mp_sink *sinks;    /* called in order */
    size_t nsinks;
    const int64_t *expected_ms; /* per module (history), may be NULL */
    int stop_fd;                /* -1 = none */
    int (*stop_read)(void *stop_data, int *signo);
    void *stop_data;
    /* Non-zero when the program has child processes of its own (e.g. the
     * instances of --local-instances): then orphans are not swept after
     * the run, since the sweep would take those children too. */
    int keep_children;
} mp_engine_opts;

typedef struct mp_run {
    mp_arena *arena;
    size_t n;
    mp_result *results;           /* by module index */
    mp_status verdict;            /* MP_STATUS_SUCCEEDED or MP_STATUS_FAILED */
    int interrupted_by;           /* signal number, 0 if none */
    int64_t started_at, ended_at; /* ms since the epoch */
    int peak_concurrency;         /* most attempts running at once */
} mp_run;

/* Run p as planned. Returns 0 when the run happened (whatever its verdict)
 * and fills *run (release with mp__run_release); a negative MP_E* when it
 * could not start, and then nothing ran and no sink was called
 * (requirements unmet: MP_EINVALID with err naming the requirement; state
 * dir not writable: MP_EIO; p not validated: MP_ESTATE; a relative
 * workspace: MP_EINVAL). */
int mp__engine_run(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o, mp_run *run,
                   mp_error *err);
void mp__run_release(mp_run *run);

#endif
