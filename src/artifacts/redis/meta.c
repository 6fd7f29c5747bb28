/*
 * meta.c -- the redis:// store's metadata: reading and checking it, and
 * the operations that touch only metadata and names: exists, delete,
 * list (see rstore.h).
 */
#include "artifacts/redis/rstore_int.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_COUNT "1000"

static bool parse_u64(const redisReply *r, uint64_t *out)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20) return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(r->str, &end, 10);
    if (errno || end != r->str + r->len || r->str[0] == '-') return false;
    *out = v;
    return true;
}

static bool hex64(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 64) return false;
    for (size_t i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", r->str[i]) || !r->str[i]) return false;
    return true;
}

static bool gen_ok(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > RSTORE_GEN_MAX)
        return false;
    for (size_t i = 0; i < r->len; i++)
        if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz.-", r->str[i]) || !r->str[i])
            return false;
    return true;
}

int mp__rstore_meta_read(rstore *r, mp_redis *c, const char *key, int64_t deadline,
                         rstore_meta *m, mp_error *err)
{
    char *mk = mp__rstore_meta_key(r, key);
    const char *argv[] = {"HMGET", mk, "format", "size", "chunks", "chunk_size", "sha256", "gen"};
    redisReply *rep = NULL;
    int rc = mp__redis_command(c, deadline, 8, argv, NULL, &rep, err);
    free(mk);
    if (rc < 0) return mp__rstore_fail(r, "read metadata of", key, rc, err);
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 6) {
        freeReplyObject(rep);
        return mp__error(err, MP_EIO, key, "read metadata of '%s': unexpected reply (%s)", key,
                         mp__redis_pool_url(r->pool));
    }
    redisReply **e = rep->element;
    int absent = 1;
    for (size_t i = 0; i < 6; i++) absent = absent && e[i]->type == REDIS_REPLY_NIL;
    if (absent) {
        freeReplyObject(rep);
        return 0;
    }
    if (e[0]->type != REDIS_REPLY_STRING || strcmp(e[0]->str, RSTORE_FORMAT) != 0) {
        rc = mp__error(err, MP_EIO, key,
                       "object '%s' has metadata of format '%.64s', this modpipe reads '%s' "
                       "(written by another version? delete it or use another prefix) (%s)",
                       key, e[0]->type == REDIS_REPLY_STRING ? e[0]->str : "(none)",
                       RSTORE_FORMAT, mp__redis_pool_url(r->pool));
        freeReplyObject(rep);
        return rc;
    }
    memset(m, 0, sizeof *m);
    bool ok = parse_u64(e[1], &m->size) && parse_u64(e[2], &m->chunks) &&
              parse_u64(e[3], &m->chunk_size) && hex64(e[4]) && gen_ok(e[5]);
    if (ok) {
        memcpy(m->sha256, e[4]->str, 64);
        memcpy(m->gen, e[5]->str, e[5]->len);
    }
    freeReplyObject(rep);
    if (!ok)
        return mp__error(err, MP_EIO, key,
                         "object '%s' has damaged metadata (a field of size, chunks, "
                         "chunk_size, sha256, gen missing or malformed) (%s)",
                         key, mp__redis_pool_url(r->pool));
    return 1;
}

/* One of our scripts on the metadata key of `key`. */
static int eval_meta(rstore *r, mp_redis_script *s, const char *op, const char *key,
                     int64_t deadline, redisReply **rep, mp_error *err)
{
    mp_redis *c = NULL;
    int rc = mp__rstore_conn(r, op, key, deadline, &c, err);
    if (rc < 0) return rc;
    char *mk = mp__rstore_meta_key(r, key);
    char *cp = mp__rstore_chunk_prefix(r);
    const char *argv[] = {mk, cp, RSTORE_FORMAT};
    rc = mp__redis_eval(c, s, deadline, 1, 3, argv, NULL, rep, err);
    mp__redis_pool_put(r->pool, c);
    free(mk);
    free(cp);
    return rc < 0 ? mp__rstore_fail(r, op, key, rc, err) : 0;
}

int mp__rstore_exists(mp_store *s, const char *key, uint64_t *size, int64_t deadline,
                      mp_error *err)
{
    rstore *r = mp__rstore_downcast(s);
    redisReply *rep = NULL;
    int rc = eval_meta(r, &mp__rstore_stat, "exists", key, deadline, &rep, err);
    if (rc < 0) return rc;
    uint64_t n = 0;
    if (rep->type == REDIS_REPLY_INTEGER) {
        rc = 0; /* -1: absent, or incomplete */
    } else if (parse_u64(rep, &n)) {
        if (size) *size = n;
        rc = 1;
    } else {
        rc = mp__error(err, MP_EIO, key, "exists '%s': unexpected reply (%s)", key,
                       mp__redis_pool_url(r->pool));
    }
    freeReplyObject(rep);
    return rc;
}

int mp__rstore_del(mp_store *s, const char *key, int64_t deadline, mp_error *err)
{
    rstore *r = mp__rstore_downcast(s);
    redisReply *rep = NULL;
    int rc = eval_meta(r, &mp__rstore_drop, "delete", key, deadline, &rep, err);
    if (rc == 0) freeReplyObject(rep);
    return rc;
}

/* ---------------------------------------------------------------- list */

typedef struct keyvec {
    size_t n, cap;
    char **v;
} keyvec;

static void keyvec_push(keyvec *kv, const char *k, size_t len)
{
    if (kv->n == kv->cap) {
        kv->cap = kv->cap ? kv->cap * 2 : 16;
        kv->v = mp__xrealloc(kv->v, mp__xmul(kv->cap, sizeof *kv->v));
    }
    char *s = mp__xmalloc(len + 1);
    memcpy(s, k, len);
    s[len] = '\0';
    kv->v[kv->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One SCAN step: push the keys of the page, advance the cursor. */
static int scan_page(rstore *r, mp_redis *c, const char *pattern, char *cursor, size_t csize,
                     int64_t deadline, keyvec *kv, const char *prefix, mp_error *err)
{
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT, "TYPE", "hash"};
    redisReply *rep = NULL;
    int rc = mp__redis_command(c, deadline, 8, argv, NULL, &rep, err);
    if (rc < 0) return mp__rstore_fail(r, "list", prefix, rc, err);
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= csize ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        return mp__error(err, MP_EIO, prefix, "list '%s': unexpected SCAN reply (%s)", prefix,
                         mp__redis_pool_url(r->pool));
    }
    snprintf(cursor, csize, "%s", rep->element[0]->str);
    size_t skip = strlen(r->prefix) + 1;
    const redisReply *page = rep->element[1];
    for (size_t i = 0; i < page->elements; i++) {
        const redisReply *k = page->element[i];
        if (k->type != REDIS_REPLY_STRING || k->len <= skip || k->len - skip > MP_STORE_KEY_MAX)
            continue;
        char key[MP_STORE_KEY_MAX + 1];
        memcpy(key, k->str + skip, k->len - skip);
        key[k->len - skip] = '\0';
        if (mp__store_key_valid(key)) keyvec_push(kv, key, k->len - skip);
    }
    freeReplyObject(rep);
    return 0;
}

int mp__rstore_list(mp_store *s, const char *prefix, int64_t deadline, mp_store_list *out,
                    mp_error *err)
{
    rstore *r = mp__rstore_downcast(s);
    mp_redis *c = NULL;
    int rc = mp__rstore_conn(r, "list", prefix, deadline, &c, err);
    if (rc < 0) return rc;
    /* Neither the store prefix nor a key holds a glob character. */
    size_t n = strlen(r->prefix) + strlen(prefix) + 3;
    char *pattern = mp__xmalloc(n);
    snprintf(pattern, n, "%s/%s*", r->prefix, prefix);
    keyvec kv = {0};
    char cursor[32] = "0";
    do {
        rc = scan_page(r, c, pattern, cursor, sizeof cursor, deadline, &kv, prefix, err);
    } while (rc == 0 && strcmp(cursor, "0") != 0);
    mp__redis_pool_put(r->pool, c);
    free(pattern);
    if (rc < 0) {
        for (size_t i = 0; i < kv.n; i++) free(kv.v[i]);
        free(kv.v);
        return rc;
    }
    if (kv.n) qsort(kv.v, kv.n, sizeof *kv.v, cmp_str);
    size_t w = 0; /* SCAN may return a key twice */
    for (size_t i = 0; i < kv.n; i++) {
        if (w && strcmp(kv.v[w - 1], kv.v[i]) == 0)
            free(kv.v[i]);
        else
            kv.v[w++] = kv.v[i];
    }
    out->n = w;
    out->keys = w ? kv.v : NULL;
    if (!w) free(kv.v);
    return 0;
}
