/*
 * strmap.h -- string -> pointer hash map (open addressing, FNV-1a).
 *
 * Keys are not copied: they must outlive the map (in modpipe they live in
 * the pipeline's arena). Lookups are O(1) expected, which keeps validation
 * linear in modules + edges. The map's own table is on the heap: call
 * mp__strmap_release() when done.
 */
#ifndef MP_CORE_STRMAP_H
#define MP_CORE_STRMAP_H

#include <stddef.h>

typedef struct mp_strmap {
    struct mp_strmap_slot *slots;
    size_t cap, n;
} mp_strmap;

#define MP_STRMAP_INIT {0}

void mp__strmap_release(mp_strmap *m);
/* Insert or replace; returns the previous value or NULL. */
void *mp__strmap_put(mp_strmap *m, const char *key, void *value);
/* Value for key, or NULL. */
void *mp__strmap_get(const mp_strmap *m, const char *key);
/* Same with a key that is not NUL-terminated. */
void *mp__strmap_getn(const mp_strmap *m, const char *key, size_t len);

#endif
