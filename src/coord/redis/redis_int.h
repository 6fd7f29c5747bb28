/*
 * redis_int.h -- what master.c and worker.c of the Redis coordinator
 * share (common.c): the connection pool and key prefix of a handle, the
 * embedded scripts, script calls and blocking pops.
 */
#ifndef MP_COORD_REDIS_INT_H
#define MP_COORD_REDIS_INT_H

#include "coord/coord.h"
#include "coord/redis/coord_redis.h"
#include "redis/redis.h"

#include <stdbool.h>

/* What every handle has. */
typedef struct rc_common {
    mp_redis_pool *pool;
    char prefix[MP_COORD_RUN_ID_MAX + 16]; /* "modpipe:{<run-id>}:" */
    char ttl_ms[24];                       /* expiry of the run's keys */
    int64_t timeout_ms;                    /* of a non-blocking round trip */
    char nonce[48];                        /* this handle's wake lists */
    bool planned_seen;                     /* the plan was published */
} rc_common;

extern mp_redis_script mp__rc_publish, mp__rc_register, mp__rc_claim, mp__rc_renew,
    mp__rc_complete, mp__rc_enqueue, mp__rc_requeue, mp__rc_settle, mp__rc_sweep,
    mp__rc_broadcast, mp__rc_mheartbeat, mp__rc_wheartbeat, mp__rc_state, mp__rc_handle,
    mp__rc_workers;

/* Parse o->url, connect (within the URL's timeout) and record the
 * handle. On failure there is nothing to close. */
int mp__rc_open(const mp_coord_open_opts *o, rc_common *c, mp_error *err);
/* Forget the handle (a registered worker leaves: worker_id, else NULL),
 * best effort, and disconnect. */
void mp__rc_close(rc_common *c, const char *worker_id);
/* The deadline of a non-blocking round trip starting now. */
int64_t mp__rc_deadline(const rc_common *c);
/* Run script s with the common arguments (prefix, proto, ttl) followed
 * by argv. *reply (when reply is not NULL) is the caller's. */
int mp__rc_eval(rc_common *c, mp_redis_script *s, int argc, const char *const *argv,
                const size_t *lens, redisReply **reply, mp_error *err);
/* A plain command on a pooled connection (non-blocking). */
int mp__rc_command(rc_common *c, int argc, const char *const *argv, redisReply **reply,
                   mp_error *err);
/* BLMPOP one element from the first non-empty of keys (full names),
 * blocking up to block_ms (> 0). *key (the list it came from, NULL on
 * timeout) is the caller's. */
int mp__rc_pop(rc_common *c, int64_t block_ms, int nkeys, const char *const *keys, char **key,
               mp_error *err);
/* Push a woken-on token back for other waiters of the same list. */
void mp__rc_repush(rc_common *c, const char *key, const char *token);

/* The run as a waiting handle sees it (state.lua). */
typedef struct rc_state {
    bool planned, completed, cancelled;
    int64_t master_pttl; /* -2: lapsed; -1: no expiry */
} rc_state;
int mp__rc_get_state(rc_common *c, rc_state *st, mp_error *err);
/* COMPLETED > MASTER_LOST > CANCELLED > ACTIVE (as memory). */
mp_coord_run_state mp__rc_run_state(const rc_state *st);
/* How long a wait may block before the master's liveness must be looked
 * at again: min(deadline's remaining, pttl); <= 0: do not block. */
int64_t mp__rc_block_ms(int64_t deadline, int64_t master_pttl);

/* "modpipe:{run}:<name>" into buf. */
void mp__rc_key(const rc_common *c, const char *name, char *buf, size_t size);

/* Results are stored as "<proto>\n<json>". Check and strip the prefix:
 * MP_EPARSE naming the key for another version or garbage. */
int mp__rc_result_unwrap(const rc_common *c, const char *module, const char *stored, size_t n,
                         char **json, mp_error *err);
/* Look up a module's result (HMGET results); MP_ENOENT when none. */
int mp__rc_fetch(rc_common *c, const char *module, char **json, mp_error *err);

#endif
