/*
 * master.h -- instance 0 of a distributed run: the scheduler of the run
 * over a coordinator, plus its own worker (DESIGN §3.1, §3.3, §3.4).
 *
 * The master drives the SAME scheduler (core/sched.h) with the same calls
 * as the local engine, so readiness, dependency_failed cascades,
 * on_failure stop/continue and always_run decide identically; only
 * "start module i" becomes "enqueue it in its capability class" and
 * "module i ended" comes from the coordinator's result events.
 *
 *   1. publish the plan (every module with its class; lease and worker
 *      timeout = options.distributed.worker_timeout, master liveness the
 *      same), start its own worker (instance 0, worker.h) on a thread;
 *   2. await the instances up to registration_timeout, heartbeating; then
 *      go on with those present, logging the missing ones;
 *   3. loop: modules the scheduler settles without running are settled in
 *      the coordinator too (so dependents' workers fetch their results);
 *      ready modules are enqueued -- or fail at once, with a message
 *      naming the missing capability and the instances present, when no
 *      live instance serves their class; events: result -> the
 *      scheduler; lease_expired -> requeue at the front (attempt+1) up to
 *      max_attempts, then the module fails ("lost with its worker N
 *      times"); rejected late results and workers leaving are logged (a
 *      queued module no live instance serves any more fails); the first
 *      stop (on_failure stop) is broadcast as cancel; heartbeat every
 *      options.distributed.heartbeat;
 *   4. when the scheduler is finished: complete broadcast, join its own
 *      worker, modules outside the run become skipped, verdict.
 *
 * Threads: the caller's thread runs the loop; one thread runs the
 * master's own worker (mp__dist_worker_run on a handle the master opens
 * with o->coord) and is joined before mp__dist_master_run returns, after
 * the completion broadcast that makes it return.
 */
#ifndef MP_DIST_MASTER_H
#define MP_DIST_MASTER_H

#include "coord/coord.h"
#include "core/engine.h"
#include "dist/worker.h"

typedef struct mp_dist_master_opts {
    const mp_pipeline *p; /* validated */
    const mp_plan *plan;
    int instances;            /* total, master included */
    mp_on_failure on_failure; /* resolved: flag > file */
    const char *version;      /* modpipe version */
    mp_coord_open_opts coord; /* for the master's own worker handle */
    /* The master's own executing side (instance 0); its p, plan, version,
     * heartbeat, register deadline and log are filled from here. */
    mp_dist_worker_opts self;
    mp_dist_log_fn log; /* may be NULL */
    void *log_data;
    /* Interrupts of the master's process (a signalfd, os/signals.h), or
     * -1 (taken as none when stop_read is NULL). The first signal stops
     * the run as locally (mp__sched_stop: nothing but always_run starts)
     * and is broadcast as cancel: workers stop their running modules,
     * which end cancelled. A second one (the user insists) settles every
     * module still queued or running as cancelled ("run interrupted
     * twice") and broadcasts completion at once: workers then stop
     * everything they run, always_run modules included, and end. The
     * signal is in run->interrupted_by. While a stop fd is given, the wait
     * for coordinator events is cut to MP_DIST_MASTER_STOP_CHECK_MS so a
     * signal is seen within that time. */
    int stop_fd;
    int (*stop_read)(void *stop_data, int *signo);
    void *stop_data;
    /* When not NULL: every instance that registered, filled before return
     * (release with mp__coord_worker_list_release). */
    mp_coord_worker_list *workers_out;
    /* When not NULL: how many modules failed for the infrastructure's
     * sake (no live instance could run them, lost with their workers
     * max_attempts times, a result that could not be read, a coordinator
     * that lost the run or stayed unreachable): exit 3 in
     * CLI terms, DESIGN §1. */
    int *infra_failures;
} mp_dist_master_opts;

#define MP_DIST_MASTER_STOP_CHECK_MS 200

/* Run the distributed run as its master on `m` (opened, nothing
 * published). Returns 0 when the run happened, with *run holding every
 * module's result (instance and worker that ran it; release with
 * mp__run_release) and its verdict; a negative code when it could not
 * start (the plan could not be published, a module's class is invalid). */
int mp__dist_master_run(mp_coord_master *m, const mp_dist_master_opts *o, mp_run *run,
                        mp_error *err);

/* A whole distributed run as threads of this process over one memory
 * hub: the master (instance 0, which also executes) and instances-1
 * workers, instance i offering caps[i] (NULL: nothing but instance=<i>)
 * with `slots` slots each, module state under <state_root>/<i>. For
 * tests and the one-machine demo. worker_rc[i] (when not NULL, for i >= 1)
 * gets each worker's return code. */
typedef struct mp_dist_threads_opts {
    const mp_pipeline *p;
    const mp_plan *plan;
    int instances;
    const char *const *caps; /* per instance; may be NULL */
    int slots;
    mp_on_failure on_failure;
    const char *run_id;
    const char *workspace;  /* absolute */
    const char *state_root; /* absolute */
    int64_t kill_grace_ms;
    mp_dist_log_fn log;
    void *log_data;
} mp_dist_threads_opts;

int mp__dist_run_threads(const mp_dist_threads_opts *o, mp_run *run, int *worker_rc, mp_error *err);

#endif
