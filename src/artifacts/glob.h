/*
 * glob.h -- the `path:` patterns of a `produces` entry (DESIGN §3.6),
 * matched against a module's working directory.
 *
 * Syntax, per '/'-separated segment: `*` (any run of characters), `?`
 * (one), `[...]` / `[!...]` / `[^...]` (a class; ranges and [:alpha:]
 * forms), `\x` (x literally), and a whole segment `**` matching zero or
 * more directories (bash's globstar). A pattern ending in '/' matches
 * directories only. "." segments are ignored.
 *
 * What matches, as bash 5.2 with `shopt -s globstar` (dotglob, nullglob
 * off, globskipdots on) and LC_ALL=C would expand it:
 *   - a name starting with '.' only when the pattern segment starts with a
 *     literal '.' (`.env`, `.*`); `*`, `?`, `[...]` and `**` never match
 *     it, and `**` never descends into such a directory; "." and ".."
 *     never match;
 *   - a pattern whose last segment is `**` matches the directory before
 *     it and everything (not hidden) below that directory;
 *   - a segment without magic matches the entry of that name if it exists
 *     (lstat), whatever its type.
 * One deliberate difference: symlinks are never followed. A symlink is a
 * match like a file (packed as a symlink, never its target's content); a
 * pattern does not descend through a symlinked directory (bash would for a
 * non-`**` segment), so nothing outside the working directory is reached.
 *
 * Refused (MP_EINVAL, message naming the pattern and why): an empty
 * pattern, an absolute one, a ".." segment anywhere ("../../etc/x"), a
 * NUL/newline, an unterminated '[' class or a trailing '\'.
 *
 * Results: paths relative to the root, without "./" or a trailing '/',
 * every pattern's matches merged, sorted bytewise, without duplicates.
 * Heap strings; the caller releases them with mp__glob_release.
 */
#ifndef MP_ARTIFACTS_GLOB_H
#define MP_ARTIFACTS_GLOB_H

#include "modpipe.h"

#include <stddef.h>

typedef struct mp_glob_result {
    size_t n;
    char **paths;
} mp_glob_result;

/* 0 when `pattern` is acceptable, else MP_EINVAL with the reason. */
int mp__glob_check(const char *pattern, mp_error *err);

/* Match every pattern under the directory `root` (absolute). On failure
 * (a refused pattern: MP_EINVAL; an unreadable directory on the way:
 * MP_EIO naming it) *out is empty. Zero matches is a success with n == 0. */
int mp__glob_run(const char *root, const char *const *patterns, size_t npatterns,
                 mp_glob_result *out, mp_error *err);

void mp__glob_release(mp_glob_result *r); /* NULL-safe; leaves it empty */

#endif
