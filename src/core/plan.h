/*
 * plan.h -- what a run would do, decided before anything runs.
 *
 * Applies the filters of DESIGN §1 (--module, --skip-module, --category,
 * --ignore-category) to a validated pipeline and orders the modules into
 * waves: wave 0 has no dependencies inside the run, wave k depends on
 * something in wave k-1. Modules that will not run carry the reason
 * ("skipped by --skip-module", "dependency \"x\" is skipped",
 * "not in category \"test\"", "not selected by --module"). Static skip
 * cascades along required dependencies (depends_on), not along `after`.
 * Unknown names in filters, and category filters matching nothing, are
 * errors (MP_EUSAGE) with a did-you-mean suggestion.
 *
 * Precise rules:
 *   - --module A,B: A, B and everything they require (transitively, along
 *     depends_on) run; every other module is EXCLUDED. A plain name of a
 *     matrix module means all its instances (in every filter).
 *   - --skip-module X: X is SKIP, and so is everything that requires it,
 *     transitively ("dependency \"x\" is skipped", naming the direct
 *     dependency that was skipped).
 *   - --category X: modules whose own category is not X are SKIP
 *     ("not in category \"X\""); --ignore-category X: those whose category
 *     is X are SKIP ("category \"X\" is ignored"). Category skips do not
 *     cascade: a module keeps running when a dependency was left out by a
 *     category filter (that is what asking for one category means).
 *   - The filters are explicit user choices: they skip always_run modules
 *     too (always_run is about failures and stopping, not about filters).
 *   - Waves are the longest path over deps + afters counting only modules
 *     that run. A module that does not run still gets the wave it would be
 *     reported in (computed the same way); `waves` counts the waves that
 *     hold a running module. `order` lists all n modules.
 */
#ifndef MP_CORE_PLAN_H
#define MP_CORE_PLAN_H

#include "core/model.h"

typedef struct mp_filters {
    const char *const *modules; /* NULL-terminated lists; NULL = none */
    const char *const *skip_modules;
    const char *const *categories;
    const char *const *ignore_categories;
} mp_filters;

typedef enum mp_plan_state {
    MP_PLAN_RUN,      /* will run */
    MP_PLAN_SKIP,     /* reported Skipped, reason set */
    MP_PLAN_EXCLUDED, /* not part of the run at all (outside --module) */
} mp_plan_state;

typedef struct mp_plan_entry {
    mp_plan_state state;
    const char *reason; /* MP_PLAN_SKIP / MP_PLAN_EXCLUDED */
    unsigned wave;
} mp_plan_entry;

typedef struct mp_plan {
    mp_arena *arena;
    size_t n;               /* = p->modules.n */
    mp_plan_entry *entries; /* by module index */
    unsigned waves;
    /* Module indices ordered by (wave, name). */
    size_t *order;
} mp_plan;

/* Build the plan of validated pipeline p. Fills plan (release with
 * mp__plan_release) or returns MP_EUSAGE with err filled (MP_ESTATE when p
 * is not validated); on failure there is nothing to release. */
int mp__plan_build(const mp_pipeline *p, const mp_filters *f, mp_plan *plan, mp_error *err);
void mp__plan_release(mp_plan *plan);

#endif
