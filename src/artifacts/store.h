/*
 * store.h -- the artifact store: where packed artifacts (blobs) and run
 * metadata live between the module that produces them and the modules,
 * on any instance, that consume them (DESIGN §3.6, §4).
 *
 * A store is a flat map from keys to immutable byte strings ("objects"),
 * reached through a URL:
 *   file:///abs/dir                       fs/      (reference backend)
 *   s3://bucket[/prefix]?endpoint=..&region=..&path_style=1   s3/
 *   redis://[user:pass@]host[:port][/db][?prefix=..]          redis/
 * Each backend is one `static const` vtable (the sqlite VFS shape):
 * versioned, named, every slot filled, no slot answering "not supported".
 * A backend's handle struct embeds mp_store first and downcasts after
 * checking the vtable. Backends are found by URL scheme in one registry
 * (store.c); callers use the mp__store_* wrappers below, never the slots:
 * the wrappers validate arguments once for every backend, so a slot may
 * assume a valid key, a non-NULL path and a non-NULL out pointer.
 *
 * Keys. Relative to the store's root (the directory, the bucket prefix,
 * the Redis key prefix given in the URL): 1..MP_STORE_KEY_MAX bytes of
 * segments separated by single '/', each segment made of [A-Za-z0-9._-]
 * and not starting with '.' (so "." and ".." are never segments, and a
 * backend may name temporary objects ".<anything>" without clashing with
 * a key); no leading or trailing '/'. The layout every
 * store shares (so one tool can read any of them):
 *   blobs/sha256/<64 lower-case hex>   the bytes of a packed artifact
 *                                      (a tar.zst; `sha256sum` of the
 *                                      object equals <hex>)
 *   runs/<run-id>/...                  per-run metadata (manager's choice)
 * mp__store_blob_key() and mp__store_run_key() build them.
 *
 * Objects are written whole and never change in place:
 *   - put(key, path) stores the bytes of the local file `path` (read from
 *     its start to its end; the caller must not change it meanwhile).
 *     When the key already exists its object is REPLACED. Readers
 *     (get/exists/list, in this or any other process or instance) see
 *     either no object, the old one or the new one, whole -- never a
 *     prefix, a mix or a zero-length placeholder. A put that fails or
 *     passes its deadline leaves the key as it was (absent, or the old
 *     object) and no visible debris (temporary objects are removed, or
 *     named so that list never returns them). Content-addressed keys make
 *     a replace harmless: same key, same bytes.
 *   - get(key, path) writes the object into the local file `path`
 *     atomically: bytes go to a temporary file in path's directory which
 *     is renamed over `path` only once complete (and flushed, see fsync
 *     below). On any failure `path` is untouched (absent, or its previous
 *     content) and the temporary file is removed. A missing key is
 *     MP_ENOENT (err->where names the key); the file is not created.
 *   - exists(key) answers 1 (present, *size filled when size != NULL) or 0
 *     (absent); never MP_ENOENT.
 *   - delete(key) is idempotent: 0 whether the object existed or not.
 *   - list(prefix) returns every key that starts with `prefix` (the empty
 *     string, or a key prefix ending in '/'), at any depth, sorted bytewise
 *     ascending, without duplicates. Objects being written by a put that
 *     has not returned may or may not be listed; temporary objects never.
 *
 * Durability: a put that returned 0 survives the process that made it (and
 * in fs/, a crash of the machine: file data and the directory entry are
 * fsync'ed before put returns). get fsyncs the temporary file before the
 * rename, so a crash never leaves a torn file under `path`.
 *
 * Errors: 0 or a negative MP_E* code, with err filled (message lower-case,
 * what failed first; `where` is the key, or the redacted URL for open):
 *   MP_EINVAL    bad argument (bad key, NULL path, bad prefix)
 *   MP_EUSAGE    bad URL: unknown scheme (the message lists the known
 *                ones), unknown query parameter, missing bucket/directory
 *   MP_ENOENT    get of a missing key; put of a missing local file
 *   MP_ETIMEDOUT the deadline passed before the operation completed (the
 *                outcome follows the failure rules above)
 *   MP_EIO       the store or a local file failed (network, server error
 *                after the backend's retries, disk full, permission); the
 *                message says which side and why
 * Credentials never appear in messages: URLs are shown with the password
 * and secret query values replaced by "***" (mp__store_url_shown).
 *
 * Deadlines: every call but close takes an absolute deadline in
 * milliseconds on the monotonic clock (os/clock.h). A backend retries
 * transient failures (5xx, 429, resets) with backoff only while the
 * deadline allows; MP_DEADLINE_NONE is refused by the wrappers (every
 * store call must be bounded).
 *
 * Ownership: a handle belongs to whoever opened it and is released with
 * mp__store_close (NULL-safe). Every `const char *` passed in is only read
 * during the call. Every list filled for the caller is the caller's and is
 * released with mp__store_list_release.
 *
 * Thread-safety: a handle may be used from several threads at once (the
 * artifact manager fetches and uploads concurrently); a backend
 * serialises or pools its connections itself. Closing a handle while
 * another thread is inside a call on it is not allowed. Several processes
 * (instances of one run, on one or many machines) may open the same store
 * and use the same keys at the same time: the atomicity rules above hold
 * between them.
 */
#ifndef MP_ARTIFACTS_STORE_H
#define MP_ARTIFACTS_STORE_H

#include "modpipe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_STORE_VTABLE_VERSION 1
#define MP_STORE_KEY_MAX        1024 /* bytes of a key */
#define MP_STORE_URL_MAX        2048 /* bytes of a store URL */

typedef struct mp_store mp_store;
typedef struct mp_store_vtable mp_store_vtable;

/* Base struct: a backend's handle embeds this first. The wrapper fills
 * url_shown after a successful open. */
struct mp_store {
    const mp_store_vtable *vt;
    char url_shown[MP_STORE_URL_MAX + 1]; /* the URL, credentials as "***" */
};

typedef struct mp_store_open_opts {
    const char *url; /* see above; backend options come from its query */
    /* Bound on connecting/checking the store at open (a backend may check
     * the bucket, ping the server, create the directory). */
    int64_t deadline;
} mp_store_open_opts;

/* Keys returned by list: n keys, each a heap string. */
typedef struct mp_store_list {
    size_t n;
    char **keys;
} mp_store_list;

void mp__store_list_release(mp_store_list *l); /* NULL-safe, leaves it empty */

struct mp_store_vtable {
    int version;      /* MP_STORE_VTABLE_VERSION */
    const char *name; /* "file", "s3", "redis" */
    /* On failure there is nothing to close and *out is untouched. */
    int (*open)(const mp_store_open_opts *o, mp_store **out, mp_error *err);
    void (*close)(mp_store *s);
    int (*put)(mp_store *s, const char *key, const char *path, int64_t deadline, mp_error *err);
    int (*get)(mp_store *s, const char *key, const char *path, int64_t deadline, mp_error *err);
    /* 1 present (*size filled when size != NULL), 0 absent, or < 0. */
    int (*exists)(mp_store *s, const char *key, uint64_t *size, int64_t deadline, mp_error *err);
    int (*del)(mp_store *s, const char *key, int64_t deadline, mp_error *err);
    /* out is zeroed by the wrapper; on failure the slot leaves it empty. */
    int (*list)(mp_store *s, const char *prefix, int64_t deadline, mp_store_list *out,
                mp_error *err);
};

/* Open the backend named by o->url's scheme. On failure there is nothing
 * to close. MP_EUSAGE for an unknown scheme or a malformed URL. */
int mp__store_open(const mp_store_open_opts *o, mp_store **out, mp_error *err);
void mp__store_close(mp_store *s); /* NULL-safe */
const char *mp__store_backend(const mp_store *s);   /* vtable name */
const char *mp__store_url_shown(const mp_store *s); /* redacted URL */

/* The operations; contracts in the header comment above. */
int mp__store_put(mp_store *s, const char *key, const char *path, int64_t deadline,
                  mp_error *err);
int mp__store_get(mp_store *s, const char *key, const char *path, int64_t deadline,
                  mp_error *err);
int mp__store_exists(mp_store *s, const char *key, uint64_t *size, int64_t deadline,
                     mp_error *err);
int mp__store_delete(mp_store *s, const char *key, int64_t deadline, mp_error *err);
int mp__store_list(mp_store *s, const char *prefix, int64_t deadline, mp_store_list *out,
                   mp_error *err);

/* Key helpers. A key is valid per the rules above (true/false). */
bool mp__store_key_valid(const char *key);
/* "blobs/sha256/<hex>" into buf (at least MP_STORE_BLOB_KEY_SIZE bytes);
 * MP_EINVAL unless hex is 64 lower-case hex digits. */
#define MP_STORE_BLOB_KEY_SIZE (sizeof "blobs/sha256/" + 64)
int mp__store_blob_key(const char *hex, char *buf, size_t size);
/* "runs/<run-id>/<rest>" into buf; MP_EINVAL when the result is not a
 * valid key or does not fit. */
int mp__store_run_key(const char *run_id, const char *rest, char *buf, size_t size);

/* The URL with the password of its userinfo and the values of secret
 * query parameters (secret, password, token, key names ending in
 * "secret"/"token") replaced by "***", into buf (truncated to size). */
void mp__store_redact_url(const char *url, char *buf, size_t size);

#endif
