/*
 * manager.h -- the artifact manager: what the engine calls to publish a
 * module's `produces` and fetch its `consumes` (DESIGN §3.6). It owns the
 * store handle (store.h) and this instance's cache; the engine sees only
 * this header, which includes no libarchive, curl or hiredis.
 *
 * Publish (after a module succeeded): for each produced artifact, the
 * patterns are matched in the module's working directory (glob.h); zero
 * matches fail naming the artifact and its patterns; the files are packed
 * (pack.h) into <cache>/tmp/, the blob is stored under
 * blobs/sha256/<hex> unless the store already has it (exists), and the
 * temporary file is removed. The result names it `sha256:<hex>`.
 *
 * Fetch (before a module runs): by digest, never by "newest". A blob is
 * downloaded once per manager into <cache>/sha256/<hex>: concurrent
 * fetches of one digest wait for the one download in flight
 * (single-flight); the download goes to a temporary file, its sha256 is
 * checked, and only a verified blob is renamed into the cache. A failed
 * download (missing, corrupt, partial) leaves nothing in the cache and
 * fails only its own fetch: a waiting fetch then tries the download
 * itself, as does any later one. The cache is trusted afterwards: entries
 * only appear there verified. Then the blob is extracted into the target
 * (pack.h rules: refused entries, overwrite, cleanup on failure).
 *
 * Errors name the artifact, the module (producer/consumer) and the store
 * key: a missing blob is MP_ENOENT ("artifact 'bin' of module 'build' is
 * not in the store: no object 'blobs/sha256/...' in file:///..."). A store
 * failure keeps the store's code (MP_EIO, MP_ETIMEDOUT).
 *
 * Threads: every call may be made from any thread at once; the manager
 * has no thread of its own. mp__art_job (below) runs a module's list of
 * publishes or fetches on a thread it starts; the job's owner joins it in
 * mp__art_job_finish. Shutdown order: finish every job, then close the
 * manager.
 */
#ifndef MP_ARTIFACTS_MANAGER_H
#define MP_ARTIFACTS_MANAGER_H

#include "modpipe.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_art_manager mp_art_manager;
typedef struct mp_store mp_store;

typedef struct mp_art_manager_opts {
    const char *store_url; /* opened by the manager (closed with it) ... */
    mp_store *store;       /* ... or an open store the caller keeps owning */
    const char *cache_dir; /* absolute; created when missing */
    int64_t open_timeout_ms; /* bound on opening the store; <= 0: 30 s */
} mp_art_manager_opts;

int mp__art_manager_open(const mp_art_manager_opts *o, mp_art_manager **out, mp_error *err);
void mp__art_manager_close(mp_art_manager *m); /* NULL-safe */
/* The store's URL with credentials hidden. */
const char *mp__art_manager_store_shown(const mp_art_manager *m);

typedef struct mp_art_published {
    char *name;
    char digest[72]; /* "sha256:<hex>" */
    uint64_t size;   /* bytes of the blob */
    size_t nfiles;
    char **files; /* relative paths packed, sorted */
    bool uploaded; /* false: the store already had the blob */
} mp_art_published;

void mp__art_published_release(mp_art_published *p); /* NULL-safe */

/* Publish artifact `name` of module `module` from `workdir`. */
int mp__art_publish(mp_art_manager *m, const char *module, const char *workdir, const char *name,
                    const char *const *patterns, size_t npatterns, const atomic_int *cancel,
                    int64_t deadline, mp_art_published *out, mp_error *err);

/* Fetch artifact `name` (digest "sha256:<hex>") produced by `producer`
 * and extract it into `target` (absolute). */
int mp__art_fetch(mp_art_manager *m, const char *producer, const char *name, const char *digest,
                  const char *target, const atomic_int *cancel, int64_t deadline, mp_error *err);

/* Counters (for tests and the bench): store reads (get) and writes (put)
 * this manager made. */
typedef struct mp_art_stats {
    uint64_t gets, puts, exists;
} mp_art_stats;
void mp__art_manager_stats(const mp_art_manager *m, mp_art_stats *st);

/* ----------------------------------------------------------------- jobs
 *
 * A module's publishes or fetches, run in order on a thread of their own
 * so the engine's loop keeps going. When the thread is done it adds 1 to
 * the eventfd `notify_fd` (when >= 0). Everything the spec points to is
 * copied at start. */
typedef struct mp_art_job mp_art_job;

typedef struct mp_art_job_item {
    const char *name;
    /* publish */
    const char *const *patterns;
    size_t npatterns;
    /* fetch */
    const char *producer;
    const char *digest;
    const char *target; /* absolute */
} mp_art_job_item;

typedef struct mp_art_job_spec {
    bool publish;       /* else fetch */
    const char *module; /* the module publishing / consuming */
    const char *workdir; /* publish: where the patterns match */
    const mp_art_job_item *items;
    size_t nitems;
    int64_t deadline;
    int notify_fd;
} mp_art_job_spec;

/* Start the job (MP_EIO if no thread can be started). */
int mp__art_job_start(mp_art_manager *m, const mp_art_job_spec *spec, mp_art_job **out,
                      mp_error *err);
bool mp__art_job_done(const mp_art_job *j);
/* Ask it to stop at the next chunk (it then fails with MP_ESTATE). */
void mp__art_job_cancel(mp_art_job *j);
/* Join the thread and free the job. Returns the job's code (0, or the
 * first failure, which stopped it) with err filled; for a publish,
 * *published gets the nitems results (caller releases each and frees the
 * array) on success, NULL otherwise. */
int mp__art_job_finish(mp_art_job *j, mp_art_published **published, mp_error *err);

#endif
