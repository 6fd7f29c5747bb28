/*
 * diag.h -- the list of problems found in a pipeline (mp_problem, modpipe.h).
 *
 * Loaders and validators add every problem they find instead of stopping at
 * the first; the list is sorted by (file, line, col, insertion order) before
 * anyone reads it, so output is deterministic. Messages follow the house
 * style: lower-case, no final period, names in double quotes, e.g.
 *   unknown key "dependson" in module "build"; did you mean "depends_on"?
 * Strings live in the owning pipeline's arena.
 */
#ifndef MP_CORE_DIAG_H
#define MP_CORE_DIAG_H

#include "core/arena.h"
#include "modpipe.h"

/* A place in a pipeline file. file is never NULL ("<api>" for code). */
typedef struct mp_pos {
    const char *file;
    unsigned line, col; /* 1-based; 0 = unknown */
} mp_pos;

typedef struct mp_diags {
    mp_arena *arena;
    MP_VEC(mp_problem) list;
    size_t limit; /* stop recording after this many (0 = 1000) */
    size_t dropped;
} mp_diags;

void mp__diag_add(mp_diags *d, mp_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mp__diag_sort(mp_diags *d);

/* Best match for `word` among `candidates` (NULL-terminated) by edit
 * distance, or NULL when none is close enough to suggest. */
const char *mp__suggest(const char *word, const char *const *candidates);
/* The same over n strings at a stride (for arrays of structs). */
const char *mp__suggestv(const char *word, const char *const *first, size_t n,
                         size_t stride);

#endif
