/*
 * sched_int.h -- the scheduler's state, shared by sched.c (readiness,
 * settling, stopping) and sched_pick.c (choosing what starts: the ready
 * heaps and the constraint resources). Nothing outside src/core/sched*.c
 * includes this file; everyone else uses sched.h.
 *
 * Resources: every not_in_parallel key and every concurrency group is a
 * resource with a capacity (1 for a key, the group's limit) and a count of
 * holders. Classes: modules that need exactly the same set of resources
 * form a class; if the best ready module of a class cannot start, none of
 * the class can, so blocked modules wait in their class's heap and only
 * the class (an entry naming its best member: that member's rank and
 * index order the parked classes) is parked in the heap of the
 * resource that blocks it. When the resource frees a unit, the best parked
 * class is woken: its best member goes back to the ready heap. `woken`
 * counts members moved out that have not yet started or parked again.
 * Invariants: a resource with live parked classes has used + woken >= cap
 * (nobody is forgotten while it has room); a class is IDLE only when no
 * live member waits in it.
 */
#ifndef MP_CORE_SCHED_INT_H
#define MP_CORE_SCHED_INT_H

#include "core/sched.h"
#include "core/sched_heap.h"

#include <stdbool.h>
#include <stdint.h>

enum {
    SF_IN = 1,        /* part of the run (plan RUN or SKIP) */
    SF_PLAN_SKIP = 2, /* plan SKIP: settled skipped at start */
    SF_ALWAYS = 4,    /* always_run */
    SF_EXCL = 8,      /* not_in_parallel: true */
    SF_DEPS_OK = 16,  /* dependencies terminal and the module will run */
    SF_MARK = 32,     /* scratch: reached by the stop walk */
    SF_DEP_BAD = 64,  /* a counted dependency ended without satisfying it */
};

/* The state of one module that readiness and settling touch on every
 * edge, kept in one place (one cache line, not four arrays). */
typedef struct sched_mod {
    uint32_t wait_deps;   /* required dependencies in the run not yet terminal */
    uint32_t wait_afters; /* `after` modules in the run not yet terminal */
    uint8_t status;       /* mp_status */
    uint8_t flags;        /* SF_* */
} sched_mod;

typedef struct sched_res {
    uint32_t cap, used, woken;
    mp_sheap wait; /* parked classes */
} sched_res;

enum { CLS_IDLE, CLS_PARKED, CLS_WOKEN };

typedef struct sched_class {
    mp_sheap wait; /* blocked members (lazy deletion: skip non-pending) */
    int state;
    size_t res;  /* CLS_PARKED: the resource it is parked on */
    size_t head; /* CLS_PARKED: member whose (rank, index) keys the entry */
    size_t rep;  /* CLS_WOKEN: the member moved to the ready heap */
} sched_class;

#define SCHED_NO_CLASS UINT32_MAX

struct mp_sched {
    const mp_pipeline *p;
    size_t n;
    mp_on_failure on_failure;
    mp_arena *arena; /* reasons */

    sched_mod *mod; /* per module: what the hot paths read together */
    int64_t *cp;           /* critical path, ms */
    uint64_t *rank;        /* heap key: priority, then critical path */
    size_t *asucc_off;     /* reverse of `afters` (CSR) */
    uint32_t *asucc;
    size_t *dsucc_off;     /* model `dependents` (CSR, a copy out of the modules) */
    uint32_t *dsucc;
    size_t *res_off; /* resources each module holds while it runs (CSR) */
    uint32_t *res;
    sched_res *rs;
    size_t nres;
    uint32_t *cls; /* class of each module, SCHED_NO_CLASS without resources */
    sched_class *cl;
    size_t ncl;
    long *woken_from;        /* resource a module in `ready` was woken from, or -1 */
    const char **dep_reason; /* cache: reason naming module i as a dependency */

    mp_sheap ready; /* ready modules (lazy deletion: skip non-pending) */
    mp_sheap excl;  /* ready exclusive modules */
    size_t running;
    bool excl_running;
    size_t in_run, terminal;
    bool stopping;
    const char *stop_reason;

    size_t *prop; /* stack of terminal modules whose successors need a look */
    size_t nprop;

    mp_settled *settled[2];
    size_t nsettled[2], capsettled[2];
    int cur;
};

/* sched_pick.c */
void mp__sched_build_resources(mp_sched *s);
void mp__sched_release_resources(mp_sched *s);
/* Module i is ready: into the ready (or exclusive) heap. */
void mp__sched_push_ready(mp_sched *s, size_t i);
/* Module i (pending, not running) settled without running: give back
 * what waking it reserved. */
void mp__sched_forget(mp_sched *s, size_t i);
/* Module i (running) ended: free what it held, wake who waits. */
void mp__sched_free_held(mp_sched *s, size_t i);

#endif
