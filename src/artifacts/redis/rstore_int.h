/*
 * rstore_int.h -- what the files of the redis:// store share (see
 * rstore.h): the handle, key names, the metadata record, the scripts and
 * the error rewriting that makes every failure name the key and the
 * redacted URL with one of store.h's codes.
 */
#ifndef MP_ARTIFACTS_REDIS_RSTORE_INT_H
#define MP_ARTIFACTS_REDIS_RSTORE_INT_H

#include "artifacts/redis/rstore.h"
#include "redis/redis.h"

#include <stdint.h>

#define RSTORE_FORMAT        "modpipe.rstore/1"
#define RSTORE_CHUNKS        ".chunks"
#define RSTORE_GEN_MAX       48

typedef struct rstore {
    mp_store base; /* first: downcast */
    mp_redis_pool *pool;
    char *prefix;      /* no trailing '/' */
    int64_t ttl_ms;    /* expiry of every key of an object */
    uint64_t chunk;    /* bytes per chunk */
    uint64_t max_size; /* largest object put accepts */
    char ttl_arg[24];  /* ttl_ms as text, for PX / PEXPIRE */
} rstore;

/* The metadata of one object, as read back. */
typedef struct rstore_meta {
    uint64_t size, chunks, chunk_size;
    char sha256[65];
    char gen[RSTORE_GEN_MAX + 1];
} rstore_meta;

rstore *mp__rstore_downcast(mp_store *s);

/* "P/<key>", "P/.chunks/" and "P/.chunks/<gen>/<i>": heap strings. */
char *mp__rstore_meta_key(const rstore *r, const char *key);
char *mp__rstore_chunk_prefix(const rstore *r);
char *mp__rstore_chunk_key(const rstore *r, const char *gen, uint64_t i);

/* Borrow a connection for one call (0, or the error rewritten for op/key). */
int mp__rstore_conn(rstore *r, const char *op, const char *key, int64_t deadline,
                    mp_redis **c, mp_error *err);

/* Rewrite a failure of the redis layer for the store caller: the message
 * becomes "<op> '<key>': <what the layer said> (<redacted url>)", where
 * becomes the key, and codes outside store.h's list (a script's CORRUPT,
 * STATE, ..., WRONGTYPE) become MP_EIO. Returns the code. */
int mp__rstore_fail(const rstore *r, const char *op, const char *key, int rc, mp_error *err);

/* Read and check the metadata of `key`: 1 present (m filled), 0 absent,
 * or < 0 (MP_EIO for metadata of another format or with bad fields,
 * naming the key). */
int mp__rstore_meta_read(rstore *r, mp_redis *c, const char *key, int64_t deadline,
                         rstore_meta *m, mp_error *err);

/* The scripts (meta.c). KEYS[1] is always the metadata key, ARGV[1] the
 * chunk prefix and ARGV[2] the format. */
extern mp_redis_script mp__rstore_commit; /* + gen size chunks chunk_size sha256 ttl */
extern mp_redis_script mp__rstore_stat;   /* -> size, or -1 absent / incomplete */
extern mp_redis_script mp__rstore_drop;   /* delete: metadata, then chunks */

/* Size text ("4MiB", "512KiB", "1GiB", "1048576") into bytes; -1 when bad. */
int mp__rstore_parse_size(const char *s, uint64_t *out);

/* The vtable slots: put.c, get.c, meta.c. */
int mp__rstore_put(mp_store *s, const char *key, const char *path, int64_t deadline,
                   mp_error *err);
int mp__rstore_get(mp_store *s, const char *key, const char *path, int64_t deadline,
                   mp_error *err);
int mp__rstore_exists(mp_store *s, const char *key, uint64_t *size, int64_t deadline,
                      mp_error *err);
int mp__rstore_del(mp_store *s, const char *key, int64_t deadline, mp_error *err);
int mp__rstore_list(mp_store *s, const char *prefix, int64_t deadline, mp_store_list *out,
                    mp_error *err);

#endif
