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
typedef struct mp_art_manager mp_art_manager;

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
    /* Moves the artifacts of modules with produces/consumes (DESIGN §3.6;
     * artifacts/manager.h); NULL: a pipeline that has any is refused
     * (MP_EINVALID). artifact_timeout_ms bounds one module's fetches or
     * publishes (<= 0: 30 minutes). */
    mp_art_manager *artifacts;
    int64_t artifact_timeout_ms;
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

/* ------------------------------------------------------------- drivers
 *
 * Who decides which module runs next. mp__engine_run's driver is the
 * scheduler (sched.h). An instance of a distributed run drives the same
 * engine with its worker (dist/worker.h): modules arrive as claims from
 * the coordinator, the results of their dependencies are written into the
 * run's results before they start (so conditions and expressions resolve
 * exactly as locally), and each finished module is reported instead of
 * handed to a scheduler. Everything else -- conditions, attempts,
 * timeouts, retries, ignore_failure, outputs, masking, logs, sinks -- is
 * the one code path of the engine.
 *
 * Every callback runs on the engine's loop thread. */
typedef struct mp_engine mp_engine;

typedef struct mp_engine_driver_vtable {
    const char *name;
    /* The next module to start now (a slot is free), or -1. The driver
     * may fill the results of its dependencies first (mp__engine_result). */
    long (*next)(void *data, mp_engine *e);
    /* Module i reached terminal status st; its result is filled. */
    void (*done)(void *data, mp_engine *e, size_t i, mp_status st);
    /* Non-zero while the run stops: active modules that are not
     * always_run are cancelled (once) with *reason, and failed attempts
     * are not retried. */
    int (*stopping)(void *data, const char **reason);
    /* May the loop end? Asked only when no module is active. */
    int (*finished)(void *data);
    /* What the loop waits on for the driver besides the modules: an fd
     * to poll for input (-1: none) and the next instant it wants a step
     * (MP_DEADLINE_NONE: none). */
    void (*wait)(void *data, int *fd, int64_t *deadline);
    /* After every wake-up of the loop (and before the first start). */
    void (*step)(void *data, mp_engine *e);
} mp_engine_driver_vtable;

typedef struct mp_engine_driver {
    const mp_engine_driver_vtable *vt;
    void *data;
} mp_engine_driver;

/* mp__engine_run with another driver. o->stop_fd must be -1 (a driver
 * stops the run through its `stopping` callback); the scheduler's
 * settling of modules that never run is the driver's business, so
 * results of modules the driver never started stay PENDING (EXCLUDED
 * ones become skipped as in mp__engine_run). verdict is computed the
 * same way. */
int mp__engine_drive(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o,
                     const mp_engine_driver *d, mp_run *run, mp_error *err);
/* For drivers, from their callbacks: the result of module i (write the
 * results of dependencies before returning i from next; strings must
 * live in mp__engine_arena), the run's arena, and cancelling one active
 * module (it ends cancelled with reason, through `done`). */
mp_result *mp__engine_result(mp_engine *e, size_t i);
mp_arena *mp__engine_arena(mp_engine *e);
void mp__engine_cancel_module(mp_engine *e, size_t i, const char *reason);
/* Is module i active (started, not yet done)? */
int mp__engine_module_active(const mp_engine *e, size_t i);
/* How many modules are active. */
size_t mp__engine_active_count(const mp_engine *e);

#endif
