/*
 * redis.h -- the small hiredis layer every Redis backend of modpipe uses
 * (the coordinator, src/coord/redis/; the artifact store). It keeps
 * hiredis 0.14's sharp edges in one place:
 *
 *   - URLs: `redis://[user:pass@]host[:port][/db][?k=v&...]`. `user:pass@`
 *     is an ACL user and its password; `:pass@` or `pass@` a password for
 *     the default user; without a password in the URL, the environment
 *     variable MODPIPE_REDIS_PASSWORD gives it. `%XX` escapes are decoded
 *     in user and password. Query parameters are the caller's (it names
 *     the keys it knows; any other key is refused). Every message shows
 *     the URL's redacted form, where the password is `***`: a password is
 *     never printed, not even from a URL that fails to parse.
 *   - Deadlines: connecting and every command have one (absolute, on the
 *     monotonic clock of os/clock.h). The socket timeout of a connection
 *     is set from the deadline before each command (redisSetTimeout).
 *     hiredis 0.14 kills a connection whose socket timeout fires, so a
 *     blocking command (BLMPOP, XREAD BLOCK) must be given a deadline a
 *     little beyond its own block time, and runs on a connection of its
 *     own: the pool below hands every caller its own connection.
 *   - Reconnection: a connection error (reset, EOF, refused) is followed
 *     by redisReconnect with backoff (50 ms doubling to 1 s) until the
 *     command's deadline, then AUTH/SELECT again and the command is sent
 *     again. Callers write commands that are harmless to repeat, or whose
 *     repetition is answered as stale.
 *   - Error replies become MP_E* codes with a message naming the redacted
 *     URL: OOM and NOPERM (and any other server error) are MP_EIO -- an
 *     infrastructure failure, exit 3 in CLI terms; WRONGTYPE is MP_EPARSE
 *     (a key holds something else than expected). Replies of our Lua
 *     scripts that start with a code word map to that code: `STATE` ->
 *     MP_ESTATE, `EXIST` -> MP_EEXIST, `NOENT` -> MP_ENOENT, `INVAL` ->
 *     MP_EINVAL, `CORRUPT` -> MP_EPARSE, `LOST` -> MP_ELOST. NOSCRIPT never
 *     reaches the caller: the script is loaded and the call repeated.
 *   - A transport error (MP_EIO, MP_ETIMEDOUT) is kept apart from an
 *     error reply: after a transport error the connection is dropped by
 *     mp__redis_pool_put, after an error reply it is reused.
 *
 * Ownership: mp_redis_url is caller-owned (init by parse, release); a
 * pool copies the URL it is given. A connection belongs to the pool and
 * is lent to one thread between get and put. Replies are the caller's
 * (freeReplyObject). Thread-safety: a pool is thread-safe; a connection
 * is used by one thread at a time.
 */
#ifndef MP_REDIS_REDIS_H
#define MP_REDIS_REDIS_H

#include "modpipe.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_redis_param {
    char *key;
    char *value;
} mp_redis_param;

typedef struct mp_redis_url {
    char *host;
    int port; /* 6379 by default */
    int db;   /* 0 by default */
    char *user;     /* ACL user; NULL: the default user */
    char *password; /* NULL: none */
    char *redacted; /* the URL with the password as *** */
    size_t n_params;
    mp_redis_param *params;
} mp_redis_url;

/* Parse `url`; `known` is a NULL-terminated list of the query keys the
 * caller understands (NULL: none). MP_EUSAGE for a malformed URL, an
 * unknown or repeated query key; the message shows the redacted URL. On
 * failure there is nothing to release. */
int mp__redis_url_parse(const char *url, const char *const *known, mp_redis_url *out,
                        mp_error *err);
void mp__redis_url_release(mp_redis_url *u);
/* The value of a query parameter, or NULL. */
const char *mp__redis_url_param(const mp_redis_url *u, const char *key);
/* The redacted form of any string that may be a Redis URL (for messages
 * about URLs that did not parse). The caller frees it. */
char *mp__redis_redact(const char *url);

/* ------------------------------------------------------------- scripts */

/* A Lua script run with EVALSHA (loaded on NOSCRIPT). `sha` is computed
 * by mp__redis_eval on first use; a script is usually a static object. */
typedef struct mp_redis_script {
    const char *name; /* for messages: "claim" */
    const char *body;
    char sha[41];
    int sha_once; /* internal */
} mp_redis_script;

/* --------------------------------------------------------- connections */

typedef struct mp_redis mp_redis;
typedef struct mp_redis_pool mp_redis_pool;

/* A pool of connections to one server. Opening connects once, within
 * `deadline` (the server must answer, AUTH and SELECT succeed): MP_EIO
 * naming the redacted URL otherwise. On failure there is nothing to
 * close. */
int mp__redis_pool_open(const mp_redis_url *u, int64_t deadline, mp_redis_pool **out,
                        mp_error *err);
void mp__redis_pool_close(mp_redis_pool *p); /* NULL-safe; every connection put back */
const char *mp__redis_pool_url(const mp_redis_pool *p); /* redacted */
/* Lend a connection (an idle one, or a new one connected by deadline). */
int mp__redis_pool_get(mp_redis_pool *p, int64_t deadline, mp_redis **out, mp_error *err);
/* Give it back: kept when healthy (up to a few idle ones), else closed. */
void mp__redis_pool_put(mp_redis_pool *p, mp_redis *c);

/* One command, argv form (lens NULL: strlen of each). *reply (when out
 * is not NULL) is the caller's; it is never an error reply: those become
 * the return code. */
int mp__redis_command(mp_redis *c, int64_t deadline, int argc, const char *const *argv,
                      const size_t *lens, redisReply **reply, mp_error *err);
/* EVALSHA of `s` with nkeys keys followed by the other arguments of
 * argv (argc in all), loading the script when the server lacks it. */
int mp__redis_eval(mp_redis *c, mp_redis_script *s, int64_t deadline, int nkeys, int argc,
                   const char *const *argv, const size_t *lens, redisReply **reply,
                   mp_error *err);

/* Map an error reply's text to a code and fill err (exposed for tests). */
int mp__redis_reply_error(const char *url_redacted, const char *what, const char *text,
                          mp_error *err);

#endif
