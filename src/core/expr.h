/*
 * expr.h -- `${{ ... }}` expressions inside pipeline strings.
 *
 * Forms (spaces inside the braces optional):
 *   ${{ matrix.K }}              matrix value of this instance
 *   ${{ modules.M.outputs.K }}   output K of dependency M
 *   ${{ modules.M.status }}      final status of dependency M
 *   ${{ instance.index }}        index of the instance running the module
 *   ${{ run.id }}                the run id
 * M is a module name, possibly a matrix instance "test[os=linux]"; since
 * names may contain dots, M is everything between "modules." and the last
 * ".outputs." (output keys are [A-Za-z0-9_-]+) or a final ".status".
 * Anything else inside ${{ }} is an error; "$${{" is a literal "${{".
 */
#ifndef MP_CORE_EXPR_H
#define MP_CORE_EXPR_H

#include "core/arena.h"
#include "core/strbuf.h"

#include <stddef.h>

typedef enum mp_expr_kind {
    MP_EXPR_MATRIX,
    MP_EXPR_OUTPUT,
    MP_EXPR_STATUS,
    MP_EXPR_INSTANCE_INDEX,
    MP_EXPR_RUN_ID,
} mp_expr_kind;

typedef struct mp_expr {
    mp_expr_kind kind;
    const char *module; /* MP_EXPR_OUTPUT/STATUS, not NUL-terminated */
    size_t module_len;
    const char *key; /* MP_EXPR_MATRIX/OUTPUT, not NUL-terminated */
    size_t key_len;
    size_t start, end; /* byte offsets of "${{" and one past "}}" in s */
} mp_expr;

/* Find the next expression in s at or after *off. Returns 1 and fills
 * *out (advancing *off past it), 0 when there is none, or -1 with *why
 * (static text) when a "${{" is malformed; then out->start and out->end
 * delimit the bad text (up to the first "}}", or the end of s when there
 * is none) and *off is advanced past it, so a caller may go on scanning. */
int mp__expr_next(const char *s, size_t *off, mp_expr *out, const char **why);

/* Resolver for substitution: append the value of e to sb and return 0, or
 * return -1 to leave the expression as written. */
typedef int (*mp_expr_resolve_fn)(const mp_expr *e, mp_strbuf *sb, void *data);

/* s with every expression resolve() accepts replaced (and "$${{" turned
 * into "${{" only when unescape is non-zero). Result in arena. Malformed
 * expressions are copied through unchanged (validation reports them). */
char *mp__expr_substitute(mp_arena *a, const char *s, mp_expr_resolve_fn resolve,
                          void *data, int unescape);

#endif
