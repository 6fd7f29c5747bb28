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
 * The run: modules the plan marks RUN or SKIP. EXCLUDED modules are not
 * part of it: they stay PENDING, nobody waits for them, and
 * mp__sched_finished does not count them. SKIP modules are skipped from
 * the start, with the plan's reason, reported by the first
 * mp__sched_take_settled.
 *
 * Readiness: a module is ready when every required dependency (deps) and
 * every `after` module that is part of the run is terminal. It is judged
 * once all its deps are terminal, so the outcome does not depend on the
 * order in which they end: the first dependency (by name) that did not
 * satisfy it (mp__status_satisfies false) decides -- failed, timed_out,
 * cancelled or dependency_failed make it dependency_failed, otherwise a
 * skipped one makes it skipped -- without running, unless it is
 * always_run, which runs once its dependencies are terminal whatever they
 * came to (also while stopping). A dependency SKIPPED by the plan
 * satisfies: the plan already cascades --skip-module, so what still runs
 * past a plan skip is what a category filter keeps. `after` never fails or
 * skips a module, it only orders.
 *
 * Reasons (mp_settled.reason), naming the dependency that decided:
 *   dependency "x" was skipped | failed | timed out | was cancelled |
 *   did not run (upstream failure)
 *   run stopped after "x" failed | timed out          (on_failure stop)
 *   run interrupted                                   (mp__sched_stop)
 * plus the plan's own reasons for plan skips. Reason strings belong to the
 * scheduler and stay valid until mp__sched_free: copy them to keep them.
 *
 * Order among ready modules: higher priority first, then the longest
 * remaining path to the end of the graph (critical path over deps and
 * afters, each module weighted by its expected duration; modules that do
 * not run weigh 0), then name. Constraints: not_in_parallel keys (two
 * modules sharing a key never overlap), exclusive modules (start only when
 * nothing runs, nothing starts while one runs; once an exclusive module is
 * the best ready one, lower-ranked modules wait for the running ones to
 * drain instead of starving it), concurrency_group limits
 * (p->options.concurrency_groups). A ready module blocked by a key or a
 * group lets lower ones start; it is parked on what blocks it and woken
 * when that frees (sched_pick.c), never re-scanned.
 *
 * Stopping: on_failure stop stops at the first module reported failed or
 * timed_out (the engine reports failures of ignore_failure modules as
 * ignored_failure, so those never stop it); mp__sched_stop stops for a
 * signal. From then on no module starts except always_run ones; modules
 * not started end dependency_failed when downstream (along deps, not
 * through always_run modules) of a failed, timed out, cancelled or
 * dependency_failed module, cancelled otherwise. Running modules are the
 * engine's to cancel; it reports them with mp__sched_done(...,
 * MP_STATUS_CANCELLED). A module reported cancelled outside a stop fails
 * its dependents but does not stop the run.
 *
 * Misuse (done for a module that is not running, a non-terminal status, a
 * pipeline that is not validated, a plan of another pipeline) is a bug in
 * the caller: mp__die.
 *
 * Cost: O((modules + edges) log modules) per run; next/done are O(log n)
 * amortised (times the number of distinct constraint sets contending for
 * one resource, see sched_pick.c). 100,000 modules with 500,000 edges:
 * about 0.2 s for new + a full drive (tests/unit/test_sched.c).
 */
#ifndef MP_CORE_SCHED_H
#define MP_CORE_SCHED_H

#include "core/model.h"
#include "core/plan.h"
#include "core/result.h"

typedef struct mp_sched mp_sched;

typedef struct mp_sched_opts {
    mp_on_failure on_failure;
    /* Expected duration of module i in ms (history.h), or NULL for 1 s
     * each; read only during mp__sched_new. */
    const int64_t *expected_ms;
} mp_sched_opts;

/* A module that ended without running, with the reason (arena string). */
typedef struct mp_settled {
    size_t module;
    mp_status status;
    const char *reason;
} mp_settled;

/* A scheduler for validated p (which must outlive it) as planned (plan
 * and o are read only here); o may be NULL (on_failure stop, 1 s per
 * module). Never NULL. */
mp_sched *mp__sched_new(const mp_pipeline *p, const mp_plan *plan, const mp_sched_opts *o);
void mp__sched_free(mp_sched *s); /* NULL-safe */

/* The best module that may start now (marked RUNNING), or -1. */
long mp__sched_next(mp_sched *s);
/* Module i (RUNNING) ended with a terminal status. */
void mp__sched_done(mp_sched *s, size_t i, mp_status status);
/* Stop the run (signal): nothing but always_run starts from now on; the
 * modules it settles are in the next take_settled. No-op when stopping. */
void mp__sched_stop(mp_sched *s);
/* A second stop request (the user insists): mp__sched_stop, and the
 * always_run modules that have not started settle cancelled ("run
 * interrupted") too, so nothing starts any more. Running modules are
 * still the engine's to cancel and report. */
void mp__sched_abort(mp_sched *s);
/* True once a stop is in effect (signal or on_failure stop). */
int mp__sched_stopping(const mp_sched *s);
/* Modules that reached a terminal status without running since the last
 * call; *n set to the count. The array stays valid until the next call. */
const mp_settled *mp__sched_take_settled(mp_sched *s, size_t *n);
/* Every module of the run terminal? */
int mp__sched_finished(const mp_sched *s);
/* Current status of module i (PENDING for modules outside the run). */
mp_status mp__sched_status(const mp_sched *s, size_t i);
/* Remaining critical path from i (its own expected time included), ms. */
int64_t mp__sched_critical_ms(const mp_sched *s, size_t i);

#endif
