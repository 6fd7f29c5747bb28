/*
 * history.h -- how long modules took in earlier runs, for the scheduler's
 * critical path (sched.h expected_ms) and for progress estimates.
 *
 * Stored in <state_dir>/history.json (state_dir is the run's state
 * directory, normally <workspace>/.modpipe, the same one that holds logs/):
 *
 *   {"schema": "modpipe.history/v1",
 *    "modules": {"build": {"ms": 1234, "runs": 3}, "test[os=linux]": {...}}}
 *
 * keyed by full module name. `ms` is an exponential moving average
 * (alpha 0.5: new = (old + last) / 2, rounded) of the durations of runs
 * that ended succeeded or ignored_failure; `runs` counts them. Entries of
 * modules that are not in the current pipeline are kept. Any valid JSON of
 * this shape is read (keys in any order, other keys ignored and not
 * written back); modpipe writes one module a line, in the order the file
 * had them, then modules new to it in the order of their first record. A
 * name that is not valid UTF-8 cannot be a JSON key and is not recorded.
 *
 * History is a cache, never a reason to fail a run: a missing file is an
 * empty history; an unreadable or corrupt one (bad JSON -- a truncated
 * file among it --, other schema, malformed entry, duplicate key, over
 * 64 MiB) is ignored as a whole with a warning for the caller to log, and
 * the next save replaces it. Saving is atomic: a temp file in the same
 * directory, fsync, rename over history.json, fsync of the directory;
 * readers see the old file or the new one, never a mix.
 *
 * Cost: reading and writing are one pass over the text, without a JSON
 * document tree (history_json.c); lookups are by hash.
 *
 * Ownership: mp__history_load returns a heap object the caller frees with
 * mp__history_free (NULL-safe). Not thread-safe; one process writes it at
 * the end of its run (concurrent runs on one state dir: the last save
 * wins, each file is whole).
 */
#ifndef MP_CORE_HISTORY_H
#define MP_CORE_HISTORY_H

#include "core/model.h"
#include "core/result.h"

#include <stdint.h>

#define MP_HISTORY_SCHEMA "modpipe.history/v1"
#define MP_HISTORY_FILE   "history.json"
/* Expected duration of a module never seen. */
#define MP_HISTORY_UNKNOWN_MS 1000

typedef struct mp_history mp_history;

/* Read <state_dir>/history.json. Never NULL. When the file exists but
 * cannot be used, the history is empty and *warning (if not NULL) gets
 * MP_EIO / MP_EPARSE / MP_ETOOBIG and a message "ignoring <path>: <why>";
 * otherwise warning->code is 0. */
mp_history *mp__history_load(const char *state_dir, mp_error *warning);
void mp__history_free(mp_history *h);

/* expected_ms[i] for each module i of validated p (p->modules.n entries):
 * its recorded average, or MP_HISTORY_UNKNOWN_MS. h remembers the entries
 * it found for p, for a later mp__history_update() of the same p (which
 * must not have changed in between). */
void mp__history_expected(mp_history *h, const mp_pipeline *p, int64_t *expected_ms);
/* Fold one duration of module `name` into its average (negative = 0). */
void mp__history_record(mp_history *h, const char *name, int64_t ms);
/* Record every result of a run (results[i] for module i of p) that ended
 * succeeded or ignored_failure, with its duration_ms. */
void mp__history_update(mp_history *h, const mp_pipeline *p, const mp_result *results);
/* Average and run count of `name`; returns 0, or MP_ENOENT when unknown. */
int mp__history_get(const mp_history *h, const char *name, int64_t *ms, int64_t *runs);

/* Write the history back atomically (creating state_dir itself if it is
 * missing, not its parents). Returns 0 or MP_EIO with err naming the path;
 * on failure history.json is left as it was and no temp file remains. */
int mp__history_save(const mp_history *h, mp_error *err);

#endif
