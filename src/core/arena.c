/*
 * arena.c -- bump allocator over a list of blocks (see arena.h).
 *
 * Small requests are carved from the current block (64 KiB); a request
 * bigger than a quarter block gets a block of its own so large vectors do
 * not waste the tail of the current one.
 */
#include "core/arena.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_SIZE (64 * 1024)
#define ALIGN 16

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct mp_arena {
    struct block *head;
    size_t total;
};

mp_arena *mp__arena_new(void)
{
    return mp__xcalloc(1, sizeof(mp_arena));
}

void mp__arena_free(mp_arena *a)
{
    if (!a)
        return;
    struct block *b = a->head;
    while (b) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void mp__arena_reset(mp_arena *a)
{
    struct block *keep = NULL, *b = a->head;
    while (b) {
        struct block *next = b->next;
        if (!keep && b->size == BLOCK_SIZE)
            keep = b;
        else
            free(b);
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
    a->total = 0;
}

static struct block *block_new(size_t size)
{
    struct block *b = mp__xmalloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void *mp__arena_alloc(mp_arena *a, size_t size)
{
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (size == 0)
        size = ALIGN;
    a->total += size;
    if (size > BLOCK_SIZE / 4) {
        /* Own block, linked behind the head so the head keeps its room. */
        struct block *b = block_new(size);
        b->used = size;
        if (a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            a->head = b;
        }
        memset(b->data, 0, size);
        return b->data;
    }
    if (!a->head || a->head->size - a->head->used < size) {
        struct block *b = block_new(BLOCK_SIZE);
        b->next = a->head;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += size;
    memset(p, 0, size);
    return p;
}

char *mp__arena_strndup(mp_arena *a, const char *s, size_t n)
{
    char *d = mp__arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *mp__arena_strdup(mp_arena *a, const char *s)
{
    return s ? mp__arena_strndup(a, s, strlen(s)) : NULL;
}

char *mp__arena_printf(mp_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        mp__die("arena_printf: bad format \"%s\"", fmt);
    char *d = mp__arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

size_t mp__arena_used(const mp_arena *a)
{
    return a->total;
}

void mp__vec_grow(mp_arena *a, void **v, size_t *cap, size_t n, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 4;
    void *nv = mp__arena_alloc(a, mp__xmul(ncap, elem));
    if (n)
        memcpy(nv, *v, n * elem);
    *v = nv;
    *cap = ncap;
}
