/*
 * common.c -- the part of the Redis coordinator both sides share:
 * opening a handle (URL, pool, wake lists), script calls with the common
 * arguments, blocking pops, the run state a waiter sees, stored results.
 *
 * Threads: none are started here. A handle's pool hands every call its
 * own connection, so a handle is used from several threads at once.
 */
#include "coord/redis/redis_int.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include "coord_redis_lua.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define DEFAULT_TTL_MS     (24LL * 3600 * 1000)
#define DEFAULT_TIMEOUT_MS 5000

#define SCRIPT(n) mp_redis_script mp__rc_##n = {#n, mp__lua_##n, "", 0}
SCRIPT(publish);
SCRIPT(register);
SCRIPT(claim);
SCRIPT(renew);
SCRIPT(complete);
SCRIPT(enqueue);
SCRIPT(requeue);
SCRIPT(settle);
SCRIPT(sweep);
SCRIPT(broadcast);
SCRIPT(mheartbeat);
SCRIPT(wheartbeat);
SCRIPT(state);
SCRIPT(handle);
SCRIPT(workers);

void mp__rc_key(const rc_common *c, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", c->prefix, name);
}

int64_t mp__rc_deadline(const rc_common *c)
{
    return mp__deadline_in(c->timeout_ms);
}

static int duration_param(const mp_redis_url *u, const char *key, int64_t def, int64_t *out,
                          mp_error *err)
{
    const char *v = mp__redis_url_param(u, key);
    *out = def;
    if (!v) return 0;
    const char *why = NULL;
    if (mp__duration_parse(v, out, &why) < 0)
        return mp__error(err, MP_EUSAGE, u->redacted, "bad %s '%s': %s", key, v, why);
    if (*out < 1000)
        return mp__error(err, MP_EUSAGE, u->redacted, "%s '%s' is below the minimum of 1s", key,
                         v);
    return 0;
}

static void make_nonce(char *buf, size_t size)
{
    static atomic_uint seq;
    unsigned char r[8] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        mp__die("coord.redis: getrandom failed for a handle id");
    snprintf(buf, size, "%d.%u.%02x%02x%02x%02x%02x%02x%02x%02x", (int)getpid(),
             atomic_fetch_add(&seq, 1), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

static const char *const url_params[] = {"ttl", "timeout", NULL};

int mp__rc_open(const mp_coord_open_opts *o, rc_common *c, mp_error *err)
{
    memset(c, 0, sizeof *c);
    mp_redis_url u;
    int rc = mp__redis_url_parse(o->url, url_params, &u, err);
    if (rc < 0) return rc;
    int64_t ttl = 0;
    rc = duration_param(&u, "ttl", DEFAULT_TTL_MS, &ttl, err);
    if (rc == 0) rc = duration_param(&u, "timeout", DEFAULT_TIMEOUT_MS, &c->timeout_ms, err);
    if (rc == 0) rc = mp__redis_pool_open(&u, mp__deadline_in(c->timeout_ms), &c->pool, err);
    mp__redis_url_release(&u);
    if (rc < 0) return rc;
    snprintf(c->ttl_ms, sizeof c->ttl_ms, "%lld", (long long)ttl);
    snprintf(c->prefix, sizeof c->prefix, "modpipe:{%s}:", o->run_id);
    make_nonce(c->nonce, sizeof c->nonce);
    const char *argv[] = {"open", c->nonce, ""};
    rc = mp__rc_eval(c, &mp__rc_handle, 3, argv, NULL, NULL, err);
    if (rc < 0) {
        mp__redis_pool_close(c->pool);
        c->pool = NULL;
    }
    return rc;
}

void mp__rc_close(rc_common *c, const char *worker_id)
{
    if (!c->pool) return;
    const char *argv[] = {"close", c->nonce, worker_id ? worker_id : ""};
    mp__rc_eval(c, &mp__rc_handle, 3, argv, NULL, NULL, NULL); /* best effort */
    mp__redis_pool_close(c->pool);
    c->pool = NULL;
}

int mp__rc_eval(rc_common *c, mp_redis_script *s, int argc, const char *const *argv,
                const size_t *lens, redisReply **reply, mp_error *err)
{
    char meta[sizeof c->prefix + 8];
    mp__rc_key(c, "meta", meta, sizeof meta);
    const char **a = mp__xcalloc((size_t)argc + 4, sizeof *a);
    size_t *l = mp__xcalloc((size_t)argc + 4, sizeof *l);
    a[0] = meta;
    a[1] = c->prefix;
    a[2] = MP_COORD_REDIS_PROTO;
    a[3] = c->ttl_ms;
    for (int i = 0; i < 4; i++)
        l[i] = strlen(a[i]);
    for (int i = 0; i < argc; i++) {
        a[i + 4] = argv[i];
        l[i + 4] = lens ? lens[i] : strlen(argv[i]);
    }
    int64_t dl = mp__rc_deadline(c);
    mp_redis *conn = NULL;
    int rc = mp__redis_pool_get(c->pool, dl, &conn, err);
    if (rc == 0) {
        rc = mp__redis_eval(conn, s, dl, 1, argc + 4, a, l, reply, err);
        mp__redis_pool_put(c->pool, conn);
    }
    free(a);
    free(l);
    return rc;
}

int mp__rc_command(rc_common *c, int argc, const char *const *argv, redisReply **reply,
                   mp_error *err)
{
    int64_t dl = mp__rc_deadline(c);
    mp_redis *conn = NULL;
    int rc = mp__redis_pool_get(c->pool, dl, &conn, err);
    if (rc == 0) {
        rc = mp__redis_command(conn, dl, argc, argv, NULL, reply, err);
        mp__redis_pool_put(c->pool, conn);
    }
    return rc;
}

int mp__rc_pop(rc_common *c, int64_t block_ms, int nkeys, const char *const *keys, char **key,
               mp_error *err)
{
    *key = NULL;
    char tmo[32], nk[16];
    snprintf(tmo, sizeof tmo, "%lld.%03lld", (long long)(block_ms / 1000),
             (long long)(block_ms % 1000));
    snprintf(nk, sizeof nk, "%d", nkeys);
    const char **a = mp__xcalloc((size_t)nkeys + 6, sizeof *a);
    int n = 0;
    a[n++] = "BLMPOP";
    a[n++] = tmo;
    a[n++] = nk;
    for (int i = 0; i < nkeys; i++)
        a[n++] = keys[i];
    a[n++] = "LEFT";
    a[n++] = "COUNT";
    a[n++] = "1";
    /* The socket may wait the block time plus one round trip's budget. */
    int64_t dl = mp__deadline_in(block_ms + c->timeout_ms);
    mp_redis *conn = NULL;
    redisReply *r = NULL;
    int rc = mp__redis_pool_get(c->pool, dl, &conn, err);
    if (rc == 0) {
        rc = mp__redis_command(conn, dl, n, a, NULL, &r, err);
        mp__redis_pool_put(c->pool, conn);
    }
    free(a);
    if (rc < 0) return rc;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING)
        *key = mp__xstrdup(r->element[0]->str);
    else if (r->type != REDIS_REPLY_NIL)
        rc = mp__error(err, MP_EPARSE, mp__redis_pool_url(c->pool),
                       "redis BLMPOP: unexpected reply");
    freeReplyObject(r);
    return rc;
}

void mp__rc_repush(rc_common *c, const char *key, const char *token)
{
    const char *argv[] = {"RPUSH", key, token};
    mp__rc_command(c, 3, argv, NULL, NULL); /* best effort: only wakes others */
}

static bool int_at(const redisReply *r, size_t i, long long *v)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_INTEGER)
        return false;
    *v = r->element[i]->integer;
    return true;
}

int mp__rc_get_state(rc_common *c, rc_state *st, mp_error *err)
{
    redisReply *r = NULL;
    int rc = mp__rc_eval(c, &mp__rc_state, 0, NULL, NULL, &r, err);
    if (rc < 0) return rc;
    long long v[4];
    bool ok = true;
    for (size_t i = 0; i < 4; i++)
        ok = ok && int_at(r, i, &v[i]);
    freeReplyObject(r);
    if (!ok)
        return mp__error(err, MP_EPARSE, mp__redis_pool_url(c->pool),
                         "script state: unexpected reply");
    *st = (rc_state){.planned = v[0], .completed = v[1], .cancelled = v[2], .master_pttl = v[3]};
    if (!st->planned && c->planned_seen)
        return mp__error(err, MP_ELOST, mp__redis_pool_url(c->pool),
                         "run state lost: the keys of this run are gone from redis (server "
                         "restarted without persistence, flushed, evicted or expired)");
    if (st->planned) c->planned_seen = true;
    return 0;
}

mp_coord_run_state mp__rc_run_state(const rc_state *st)
{
    if (st->completed) return MP_COORD_RUN_COMPLETED;
    if (st->planned && st->master_pttl == -2) return MP_COORD_RUN_MASTER_LOST;
    if (st->cancelled) return MP_COORD_RUN_CANCELLED;
    return MP_COORD_RUN_ACTIVE;
}

int64_t mp__rc_block_ms(int64_t deadline, int64_t master_pttl)
{
    int64_t ms = mp__deadline_remaining_ms(deadline);
    if (master_pttl >= 0 && master_pttl + 1 < ms) ms = master_pttl + 1;
    return ms;
}

int mp__rc_result_unwrap(const rc_common *c, const char *module, const char *stored, size_t n,
                         char **json, mp_error *err)
{
    const char *nl = memchr(stored, '\n', n);
    size_t pn = strlen(MP_COORD_REDIS_PROTO);
    if (!nl || (size_t)(nl - stored) != pn || memcmp(stored, MP_COORD_REDIS_PROTO, pn) != 0) {
        int len = nl && nl - stored < 16 ? (int)(nl - stored) : 0;
        return mp__error(err, MP_EPARSE, module,
                         "the stored result in %sresults is %s%.*s%s (this modpipe speaks "
                         "coordinator protocol %s)",
                         c->prefix, len ? "from coordinator protocol " : "garbage", len, stored,
                         "", MP_COORD_REDIS_PROTO);
    }
    size_t jn = n - (size_t)(nl + 1 - stored);
    *json = mp__xmalloc(jn + 1);
    memcpy(*json, nl + 1, jn);
    (*json)[jn] = '\0';
    return 0;
}

int mp__rc_fetch(rc_common *c, const char *module, char **json, mp_error *err)
{
    char key[sizeof c->prefix + 16];
    mp__rc_key(c, "results", key, sizeof key);
    const char *argv[] = {"HMGET", key, module};
    redisReply *r = NULL;
    int rc = mp__rc_command(c, 3, argv, &r, err);
    if (rc < 0) return rc;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        rc = mp__rc_result_unwrap(c, module, r->element[0]->str, r->element[0]->len, json, err);
        freeReplyObject(r);
        return rc;
    }
    freeReplyObject(r);
    /* No result: say whether the module is in the plan, or the run gone. */
    char mk[sizeof c->prefix + 16];
    mp__rc_key(c, "mclass", mk, sizeof mk);
    const char *hx[] = {"HEXISTS", mk, module};
    rc = mp__rc_command(c, 3, hx, &r, err);
    if (rc < 0) return rc;
    bool known = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (known) return mp__error(err, MP_ENOENT, module, "no result stored yet");
    rc_state st;
    rc = mp__rc_get_state(c, &st, err);
    if (rc < 0) return rc;
    return mp__error(err, MP_ENOENT, module, "module not in the plan");
}
