/*
 * xalloc.h -- allocation that never returns NULL.
 *
 * Out of memory is not an error modpipe recovers from: like git's xmalloc
 * and redis' zmalloc these print one line to stderr and abort. mp__die is
 * for that and for broken internal invariants only, never for user errors.
 */
#ifndef MP_CORE_XALLOC_H
#define MP_CORE_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *mp__xmalloc(size_t n);
void *mp__xcalloc(size_t n, size_t size);
void *mp__xrealloc(void *p, size_t n);
char *mp__xstrdup(const char *s);
/* n * m, aborting on overflow. */
size_t mp__xmul(size_t n, size_t m);
_Noreturn void mp__die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
