/*
 * validate.h -- the steps of mp_pipeline_validate(), in order.
 *
 * Each step records problems in p->diags and returns the number it added;
 * later steps run only when the earlier ones left a usable model (no
 * graph checks over modules that failed to expand, for instance).
 *   1. mp__matrix_expand     decls -> p->modules (sorted, indexed, named)
 *   2. mp__graph_resolve     depends_on/after -> indices; unknown, self,
 *                            duplicate and cycle problems
 *   3. mp__check_modules     expressions, consumes, secrets, groups,
 *                            requires, conditions, run present
 *   4. mp__pipeline_hash     canonical hash (only when no problems)
 * All steps are linear in modules + edges (hash-map lookups only).
 */
#ifndef MP_CORE_VALIDATE_H
#define MP_CORE_VALIDATE_H

#include "core/model.h"

size_t mp__matrix_expand(mp_pipeline *p);
size_t mp__graph_resolve(mp_pipeline *p);
size_t mp__check_modules(mp_pipeline *p);
void mp__pipeline_hash(mp_pipeline *p);

/* Record a problem in p->diags unless this validation already recorded the
 * same message at the same position (the instances of a matrix module share
 * their declaration's positions, so a fault in it is reported once).
 * Returns 1 when recorded, 0 for a repeat. */
int mp__problem(mp_pipeline *p, mp_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Topological order of p->modules over deps + afters (Kahn), into order
 * (p->modules.n entries). Returns 0, or -1 if there is a cycle. */
int mp__graph_topo(const mp_pipeline *p, size_t *order);

#endif
