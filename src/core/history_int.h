/*
 * history_int.h -- the in-memory history shared by history.c (the table
 * and the file's I/O) and history_json.c (its JSON text, read and written
 * without a document tree).
 *
 * Entries live in the history's arena, one per module name, reachable by
 * name through `by_name` and in file order through `order` (entries read
 * from the file first, in the file's order, then names recorded since, in
 * the order of their first record). Every entry has ms >= 0, runs >= 1
 * and a name that is valid UTF-8 without NUL.
 */
#ifndef MP_CORE_HISTORY_INT_H
#define MP_CORE_HISTORY_INT_H

#include "core/arena.h"
#include "core/history.h"
#include "core/strmap.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mp_hist_entry {
    const char *name;
    int64_t ms, runs;
} mp_hist_entry;

struct mp_history {
    char *dir, *path;
    mp_arena *a;        /* names and entries */
    mp_strmap by_name;  /* name -> mp_hist_entry * */
    MP_VEC(mp_hist_entry *) order;
    /* What mp__history_expected() found for each module of `seen_p` (NULL:
     * unknown then), so mp__history_update() of that pipeline need not
     * look every name up again. Heap; entries never move. */
    const mp_pipeline *seen_p;
    mp_hist_entry **seen;
    size_t adds, seen_adds; /* entries added in all; when `seen` was filled */
};

/* Empty the table (after a file was found unusable half-way). */
void mp__hist_clear(mp_history *h);
/* The entry of `name` (len bytes), or NULL. */
mp_hist_entry *mp__hist_find(const mp_history *h, const char *name, size_t len);
/* A new entry (name copied into the arena); `name` must not be in h. */
mp_hist_entry *mp__hist_add(mp_history *h, const char *name, size_t len, int64_t ms,
                            int64_t runs);

/* Parse text[0..len) (the whole file) into h, which must be empty.
 * Returns NULL, or why the text is not a history ("line 3: ...",
 * "schema is not ...") in why[0..whylen); h is then emptied again. */
const char *mp__hist_parse(mp_history *h, const char *text, size_t len, char *why, size_t whylen);
/* Write the whole file's text to fd. Returns 0 or -1 with errno set. */
int mp__hist_write(const mp_history *h, int fd);

#endif
