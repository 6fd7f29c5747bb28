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
 * left (groups are killed with SIGTERM, grace, SIGKILL).
 *
 * Stopping: the caller hands in `stop_fd`, a readable fd (e.g. a signalfd
 * for SIGINT/SIGTERM, or a pipe) that the loop polls; when it becomes
 * readable the engine calls stop_read(stop_data, &signo) and stops the run
 * (running modules cancelled, always_run modules still run) and reports
 * the signal in *interrupted_by.
 */
#ifndef MP_CORE_ENGINE_H
#define MP_CORE_ENGINE_H

#include "core/events.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/result.h"

typedef struct mp_masker mp_masker;

typedef struct mp_engine_opts {
    int parallelism;          /* >= 1 */
    mp_on_failure on_failure; /* already resolved: flag > file option */
    const char *workspace;    /* absolute; modules' working_dir is relative to it */
    const char *state_dir;    /* absolute; logs/ and history.json live here */
    const char *run_id;
    int instance_index;
    int64_t kill_grace_ms;    /* SIGTERM -> SIGKILL; 10000 by default */
    const mp_masker *masker;  /* may be NULL (no secrets) */
    const mp_sink *sinks;     /* called in order */
    size_t nsinks;
    const int64_t *expected_ms; /* per module (history), may be NULL */
    int stop_fd;                /* -1 = none */
    int (*stop_read)(void *stop_data, int *signo);
    void *stop_data;
} mp_engine_opts;

typedef struct mp_run {
    mp_arena *arena;
    size_t n;
    mp_result *results; /* by module index */
    mp_status verdict;  /* MP_STATUS_SUCCEEDED or MP_STATUS_FAILED */
    int interrupted_by; /* signal number, 0 if none */
    int64_t started_at, ended_at; /* ms since the epoch */
    int peak_concurrency;
} mp_run;

/* Run p as planned. Returns 0 when the run happened (whatever its verdict)
 * and fills *run (release with mp__run_release); a negative MP_E* when it
 * could not start (requirements unmet: MP_EINVALID with err naming the
 * requirement; state dir not writable: MP_EIO). */
int mp__engine_run(const mp_pipeline *p, const mp_plan *plan, const mp_engine_opts *o,
                   mp_run *run, mp_error *err);
void mp__run_release(mp_run *run);

#endif
