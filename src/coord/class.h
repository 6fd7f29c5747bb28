/*
 * class.h -- capability classes: the queue a module goes to and the
 * queues a worker may claim from (DESIGN §3.3).
 *
 * A class is the canonical form of a set of `k=v` pairs: lower-cased,
 * sorted, duplicates dropped, joined with ','. The empty class "" is
 * served by everyone. A module's class comes from its `requires` (plus
 * `instance=0` for pin_to_master); a worker's capabilities are the same
 * shape (plus `instance=<index>`, added by mp_coord_worker_register), and
 * it serves every class whose pairs are all among its capabilities.
 *
 * Keys are [a-z0-9_.-]+; values are printable ASCII without ',', '=' or
 * whitespace. Pure functions, thread-safe.
 */
#ifndef MP_COORD_CLASS_H
#define MP_COORD_CLASS_H

#include "modpipe.h"

#include <stdbool.h>

#define MP_COORD_CLASS_MAX 1024 /* bytes of a canonical class */

/* Canonicalise "K=V, k2=v2,..." (case, order and spaces around pairs are
 * free). *out is the caller's (free). MP_EINVAL for a malformed pair or
 * an over-long class; err names the pair. */
int mp__coord_class_canon(const char *pairs, char **out, mp_error *err);
/* Is `cls` (canonical) served by `caps` (canonical)? */
bool mp__coord_class_served(const char *cls, const char *caps);
/* Number of pairs in a canonical class (0 for ""). */
int mp__coord_class_size(const char *cls);

#endif
