/*
 * sched.h -- the scheduler: which module may start now, and what the
 * modules that never run end as (DESIGN §2 on_failure, always_run).
 *
 * Pure bookkeeping, no I/O and no clocks: the engine (local run) and the
 * master (distributed run) drive it with the same calls, so both decide
 * identically.
 *
 *   mp_sched *s = mp__sched_new(p, plan, &opts);
 *   while (!mp__sched_finished(s)) {
 *       long i;
 *       while (slots_free && (i = mp__sched_next(s)) >= 0) start(i);   // RUNNING
 *       ... a module ends ...
 *       mp__sched_done(s, i, status);
 *       ... modules that end without running are reported by
 *       mp__sched_take_settled() (dependency_failed, skipped, cancelled)
 *   }
 *
 * Readiness: a module is ready when every required dependency (deps) and
 * every `after` module that is part of the run is terminal. A module whose
 * required dependency did not succeed (mp__status_satisfies false) ends
 * dependency_failed (dependency failed, timed out, cancelled) or skipped
 * (dependency skipped) without running, unless it is always_run, which runs
 * once its dependencies are terminal whatever they came to.
 *
 * Order among ready modules: higher priority first, then the longest
 * remaining path to the end of the graph (critical path, weighted by each
 * module's expected duration), then name. Constraints: not_in_parallel
 * keys (two modules sharing a key never overlap), exclusive modules (run
 * alone), concurrency_group limits; a ready module blocked by a constraint
 * lets the next one start.
 *
 * Stopping (on_failure stop after a real failure, or mp__sched_stop for a
 * signal): no new module starts except always_run ones; modules not started
 * end dependency_failed when downstream of a failure, cancelled otherwise.
 * Running modules are the engine's to cancel; it reports them with
 * mp__sched_done(..., MP_STATUS_CANCELLED).
 *
 * Cost: O((modules + edges) log modules) per run.
 */
#ifndef MP_CORE_SCHED_H
#define MP_CORE_SCHED_H

#include "core/model.h"
#include "core/plan.h"
#include "core/result.h"

typedef struct mp_sched mp_sched;

typedef struct mp_sched_opts {
    mp_on_failure on_failure;
    /* Expected duration of module i in ms (history), or NULL for 1 s each. */
    const int64_t *expected_ms;
} mp_sched_opts;

/* A module that ended without running, with the reason (arena string). */
typedef struct mp_settled {
    size_t module;
    mp_status status;
    const char *reason;
} mp_settled;

mp_sched *mp__sched_new(const mp_pipeline *p, const mp_plan *plan, const mp_sched_opts *o);
void mp__sched_free(mp_sched *s);

/* The best module that may start now (marked RUNNING), or -1. */
long mp__sched_next(mp_sched *s);
/* Module i (RUNNING) ended with a terminal status. */
void mp__sched_done(mp_sched *s, size_t i, mp_status status);
/* Stop the run (signal): nothing but always_run starts from now on. */
void mp__sched_stop(mp_sched *s);
/* True once a stop is in effect (signal or on_failure stop). */
int mp__sched_stopping(const mp_sched *s);
/* Modules that reached a terminal status without running since the last
 * call; *n set to the count. The array stays valid until the next call. */
const mp_settled *mp__sched_take_settled(mp_sched *s, size_t *n);
/* Every module terminal? */
int mp__sched_finished(const mp_sched *s);
/* Current status of module i. */
mp_status mp__sched_status(const mp_sched *s, size_t i);
/* Remaining critical path from i (its own expected time included), ms. */
int64_t mp__sched_critical_ms(const mp_sched *s, size_t i);

#endif
