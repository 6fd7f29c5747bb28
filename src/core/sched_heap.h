/*
 * sched_heap.h -- the scheduler's binary max-heap of modules.
 *
 * An item is a module index with a 64-bit rank key; the top is the item
 * with the largest key, ties broken by the smallest index (modules are
 * sorted by name, so equal ranks start in name order). Push and pop are
 * O(log n); the array grows by doubling on the heap (xalloc: out of memory
 * aborts). A zeroed mp_sheap is an empty heap; mp__sheap_release frees it.
 * Internal to the scheduler (sched*.c).
 */
#ifndef MP_CORE_SCHED_HEAP_H
#define MP_CORE_SCHED_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_sheap_item {
    uint64_t key;
    size_t idx;
} mp_sheap_item;

typedef struct mp_sheap {
    mp_sheap_item *v;
    size_t n, cap;
} mp_sheap;

/* Does a rank before b? (larger key, then smaller index) */
static inline bool mp__sheap_before(mp_sheap_item a, mp_sheap_item b)
{
    return a.key > b.key || (a.key == b.key && a.idx < b.idx);
}

void mp__sheap_push(mp_sheap *h, uint64_t key, size_t idx);
/* Remove and return the top item; the heap must not be empty. */
mp_sheap_item mp__sheap_pop(mp_sheap *h);
void mp__sheap_release(mp_sheap *h);

#endif
