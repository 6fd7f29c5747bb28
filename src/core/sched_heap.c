/* sched_heap.c -- binary max-heap for the scheduler (see sched_heap.h). */
#include "core/sched_heap.h"
#include "core/xalloc.h"

#include <stdlib.h>

void mp__sheap_push(mp_sheap *h, uint64_t key, size_t idx)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->v = mp__xrealloc(h->v, mp__xmul(h->cap, sizeof(*h->v)));
    }
    mp_sheap_item it = {.key = key, .idx = idx};
    size_t i = h->n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!mp__sheap_before(it, h->v[up])) break;
        h->v[i] = h->v[up];
        i = up;
    }
    h->v[i] = it;
}

mp_sheap_item mp__sheap_pop(mp_sheap *h)
{
    if (h->n == 0) mp__die("sched: pop from an empty heap");
    mp_sheap_item top = h->v[0];
    mp_sheap_item last = h->v[--h->n];
    size_t n = h->n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && mp__sheap_before(h->v[c + 1], h->v[c])) c++;
        if (!mp__sheap_before(h->v[c], last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (n) h->v[i] = last;
    return top;
}

void mp__sheap_release(mp_sheap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
