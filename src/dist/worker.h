/*
 * worker.h -- the one path by which an instance of a distributed run
 * executes modules (DESIGN §3.1, §3.4); the master's own executing side
 * (instance 0) is a worker too.
 *
 * A worker registers, then claims modules of the classes it serves
 * (blocking with a deadline, never taking and putting back), fetches the
 * results of each module's dependencies from the coordinator, and runs
 * the module through the local engine (mp__engine_drive with the
 * dependencies' results seeded), so conditions, expressions, env,
 * timeouts, retries, ignore_failure, outputs, masking and logs are the
 * local ones. While modules run it heartbeats and renews their leases
 * every heartbeat: `lost` stops the module and nothing is reported;
 * `cancel` (the run is stopping) stops every module that is not
 * always_run, which then reports cancelled. Finished modules are
 * reported, fenced by their lease token; a refused (late) report is
 * logged. Up to `slots` (engine.parallelism) modules run at once.
 *
 * A result's `attempts` counts every attempt started for the module in
 * the run: the attempts of the leases lost before this one (lease attempt
 * - 1) plus the engine's attempts here (retries included).
 *
 * It returns 0 once the master completed the run (or this worker was
 * interrupted, see stop_fd), MP_ELOST ("master
 * lost", exit 3 in CLI terms) when the master's liveness lapsed -- after
 * stopping every running module -- and another negative code when it
 * could not register or the coordinator declared it gone.
 *
 * Threads: see worker.c. The coordinator handle is the caller's: opened
 * before, closed after, used by no other thread meanwhile.
 */
#ifndef MP_DIST_WORKER_H
#define MP_DIST_WORKER_H

#include "coord/coord.h"
#include "core/engine.h"

/* modpipe's own messages from the distributed loops, one line each
 * (the library never prints; the program decides). */
typedef void (*mp_dist_log_fn)(void *data, const char *line);

typedef struct mp_dist_worker_opts {
    const mp_pipeline *p; /* validated, the same pipeline as the master's */
    const mp_plan *plan;
    /* How modules run here: parallelism is the number of slots,
     * instance_index this instance, run_id the run; stop_fd must be -1. */
    mp_engine_opts engine;
    const char *worker_id;     /* unique in the run, [A-Za-z0-9_.:/@-]+ */
    const char *capabilities;  /* "k=v,..." offered (instance=<i> is added) */
    const char *version;       /* modpipe version (must equal the master's) */
    int64_t heartbeat_ms;      /* heartbeat and lease renewal interval */
    int64_t register_deadline; /* absolute: the master must have published by then */
    mp_dist_log_fn log;        /* may be NULL */
    void *log_data;
    /* Interrupts of this worker's process (a signalfd, os/signals.h), or
     * -1 (0 is taken as -1 when stop_read is NULL). On the first signal
     * every module running here is stopped (SIGTERM, grace, SIGKILL of its
     * group, always_run ones too) and reported cancelled, a claimed module
     * that has not started is reported cancelled, nothing more is claimed,
     * and the worker returns 0 with run->interrupted_by set once its
     * modules are stopped. */
    int stop_fd;
    int (*stop_read)(void *stop_data, int *signo);
    void *stop_data;
} mp_dist_worker_opts;

/* Run as a worker until the run completes (0), the master is lost
 * (MP_ELOST) or a failure of this worker (negative, err filled). *run
 * holds the results of the modules this worker executed (and the
 * dependency results it fetched); release it with mp__run_release when
 * the return is 0 or MP_ELOST (otherwise there is nothing to release). */
int mp__dist_worker_run(mp_coord_worker *w, const mp_dist_worker_opts *o, mp_run *run,
                        mp_error *err);

#endif
