/*
 * arena.h -- region allocator for everything a pipeline owns.
 *
 * A pipeline's strings, modules and lists are allocated from one arena and
 * released together by mp__arena_free(): loaders and validators never free
 * piecemeal, so an error path cannot leak or double-free. Memory is zeroed.
 * Out of memory aborts (see xalloc.h). Not thread-safe.
 */
#ifndef MP_CORE_ARENA_H
#define MP_CORE_ARENA_H

#include <stddef.h>

typedef struct mp_arena mp_arena;

mp_arena *mp__arena_new(void);
void mp__arena_free(mp_arena *a); /* NULL-safe */
/* Give back everything allocated (all earlier pointers become invalid) but
 * keep one block for what comes next: an arena reused for one short-lived
 * thing after another does not go back to malloc each time. */
void mp__arena_reset(mp_arena *a);

void *mp__arena_alloc(mp_arena *a, size_t size);
char *mp__arena_strdup(mp_arena *a, const char *s);
char *mp__arena_strndup(mp_arena *a, const char *s, size_t n);
char *mp__arena_printf(mp_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for limits and benchmarks). */
size_t mp__arena_used(const mp_arena *a);

/* A growable array in an arena: `MP_VEC(T) v = {0}; MP_VEC_PUSH(a, &v, x);`.
 * Growth copies into a new block twice the size; old blocks stay in the
 * arena until it is freed (at most 2x overhead). */
#define MP_VEC(T)                                                              \
    struct {                                                                   \
        T *v;                                                                  \
        size_t n, cap;                                                         \
    }
void mp__vec_grow(mp_arena *a, void **v, size_t *cap, size_t n, size_t elem);
#define MP_VEC_PUSH(a, vec, item)                                              \
    do {                                                                       \
        if ((vec)->n == (vec)->cap)                                            \
            mp__vec_grow((a), (void **)&(vec)->v, &(vec)->cap, (vec)->n,       \
                         sizeof(*(vec)->v));                                   \
        (vec)->v[(vec)->n++] = (item);                                         \
    } while (0)

#endif
