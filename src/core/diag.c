/*
 * diag.c -- recording problems and suggesting names (see diag.h).
 *
 * Suggestions use the Damerau (optimal string alignment) edit distance; a
 * candidate is offered when its distance is at most a third of the word's
 * length (at least 1, at most 3), or when one is a prefix of the other.
 */
#include "core/diag.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp__diag_add(mp_diags *d, mp_pos pos, const char *fmt, ...)
{
    size_t limit = d->limit ? d->limit : 1000;
    if (d->list.n >= limit) {
        d->dropped++;
        return;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mp_problem pr = {
        .file = pos.file ? pos.file : "<api>",
        .line = pos.line,
        .col = pos.col,
        .message = mp__arena_strdup(d->arena, buf),
    };
    MP_VEC_PUSH(d->arena, &d->list, pr);
}

/* qsort is not stable: sort an index array and compare by it last. */
typedef struct {
    mp_problem pr;
    size_t seq;
} seq_problem;

static int cmp_problem(const void *a, const void *b)
{
    const seq_problem *x = a, *y = b;
    int c = strcmp(x->pr.file, y->pr.file);
    if (c)
        return c;
    if (x->pr.line != y->pr.line)
        return x->pr.line < y->pr.line ? -1 : 1;
    if (x->pr.col != y->pr.col)
        return x->pr.col < y->pr.col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void mp__diag_sort(mp_diags *d)
{
    size_t n = d->list.n;
    if (n < 2)
        return;
    seq_problem *tmp = mp__xmalloc(mp__xmul(n, sizeof(*tmp)));
    for (size_t i = 0; i < n; i++) {
        tmp[i].pr = d->list.v[i];
        tmp[i].seq = i;
    }
    qsort(tmp, n, sizeof(*tmp), cmp_problem);
    for (size_t i = 0; i < n; i++)
        d->list.v[i] = tmp[i].pr;
    free(tmp);
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance, case-sensitive; words are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64)
        return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[n][m];
}

const char *mp__suggestv(const char *word, const char *const *first, size_t n, size_t stride)
{
    size_t wlen = strlen(word);
    size_t limit = wlen / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const char *c = *(const char *const *)((const char *)first + i * stride);
        if (!c)
            continue;
        size_t dist = edit_distance(word, c);
        size_t clen = strlen(c);
        if (dist > limit && wlen >= 3 && clen >= 3 &&
            (strncmp(word, c, wlen < clen ? wlen : clen) == 0))
            dist = limit; /* a prefix of the other: still a good guess */
        if (dist <= limit && dist < best_d) {
            best = c;
            best_d = dist;
        }
    }
    return best;
}

const char *mp__suggest(const char *word, const char *const *candidates)
{
    size_t n = 0;
    while (candidates[n])
        n++;
    return mp__suggestv(word, candidates, n, sizeof(*candidates));
}
