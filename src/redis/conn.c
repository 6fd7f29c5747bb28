/*
 * conn.c -- connections with deadlines, reconnection with backoff, error
 * replies as MP_E* codes, EVALSHA with reload, and the pool that lends a
 * connection to one thread at a time (see redis.h).
 *
 * Threads: none are started here. The pool's mutex guards its list of
 * idle connections only; a lent connection is touched by its borrower
 * alone.
 */
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"
#include "redis/redis.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_IDLE_MAX 8
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

struct mp_redis {
    redisContext *ctx;
    const mp_redis_url *url; /* the pool's */
    bool broken;             /* a transport error happened: do not reuse */
    struct mp_redis *next;   /* idle list */
};

struct mp_redis_pool {
    mp_redis_url url;
    pthread_mutex_t mu;
    mp_redis *idle;
    size_t n_idle;
};

/* ------------------------------------------------------------- errors */

typedef struct code_word {
    const char *word;
    int code;
} code_word;

static const code_word script_codes[] = {
    {"STATE ", MP_ESTATE},  {"EXIST ", MP_EEXIST},   {"NOENT ", MP_ENOENT},
    {"INVAL ", MP_EINVAL},  {"CORRUPT ", MP_EPARSE}, {"LOST ", MP_ELOST},
};

int mp__redis_reply_error(const char *url_redacted, const char *what, const char *text,
                          mp_error *err)
{
    for (size_t i = 0; i < sizeof script_codes / sizeof script_codes[0]; i++) {
        size_t n = strlen(script_codes[i].word);
        if (strncmp(text, script_codes[i].word, n) != 0) continue;
        /* redis appends " script: <sha>, on @user_script:<line>." */
        const char *tail = strstr(text + n, " script: ");
        int len = tail ? (int)(tail - (text + n)) : (int)strlen(text + n);
        return mp__error(err, script_codes[i].code, url_redacted, "%.*s", len > 400 ? 400 : len,
                         text + n);
    }
    if (strncmp(text, "WRONGTYPE", 9) == 0)
        return mp__error(err, MP_EPARSE, url_redacted,
                         "redis %s: a key of the run holds another type than expected "
                         "(garbage in the run's keys?): %.200s",
                         what, text);
    if (strncmp(text, "OOM", 3) == 0)
        return mp__error(err, MP_EIO, url_redacted,
                         "redis %s: the server is out of memory (maxmemory reached): %.200s", what,
                         text);
    if (strncmp(text, "NOPERM", 6) == 0)
        return mp__error(err, MP_EIO, url_redacted,
                         "redis %s: the user lacks a permission (ACL): %.200s", what, text);
    if (strstr(text, "user_script") || strstr(text, "Error running script"))
        return mp__error(err, MP_EPARSE, url_redacted,
                         "redis %s: script failed (garbage in the run's keys?): %.200s", what,
                         text);
    return mp__error(err, MP_EIO, url_redacted, "redis %s: %.300s", what, text);
}

/* A transport failure of c: drop the connection, say what happened. */
static int transport_error(mp_redis *c, const char *what, mp_error *err)
{
    c->broken = true;
    int timedout = c->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (timedout)
        return mp__error(err, MP_ETIMEDOUT, c->url->redacted, "redis %s: no answer in time",
                         what);
    return mp__error(err, MP_EIO, c->url->redacted, "redis %s: %s", what,
                     c->ctx->errstr[0] ? c->ctx->errstr : "connection error");
}

/* --------------------------------------------------------- connection */

static struct timeval tv_until(int64_t deadline)
{
    int64_t ms = mp__deadline_remaining_ms(deadline);
    if (ms > 24LL * 3600 * 1000) ms = 24LL * 3600 * 1000;
    if (ms < 1) ms = 1;
    return (struct timeval){.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

/* One raw command, no reconnection: 0 with a reply (maybe an error
 * reply), or a transport error. */
static int raw(mp_redis *c, int64_t deadline, int argc, const char *const *argv, const size_t *lens,
               redisReply **out, mp_error *err)
{
    if (redisSetTimeout(c->ctx, tv_until(deadline)) != REDIS_OK)
        return transport_error(c, argv[0], err);
    redisReply *r = redisCommandArgv(c->ctx, argc, (const char **)argv, lens);
    if (!r) return transport_error(c, argv[0], err);
    *out = r;
    return 0;
}

/* AUTH and SELECT on a fresh connection. */
static int handshake(mp_redis *c, int64_t deadline, mp_error *err)
{
    const mp_redis_url *u = c->url;
    redisReply *r = NULL;
    int rc = 0;
    if (u->password) {
        const char *argv[] = {"AUTH", u->user ? u->user : u->password, u->password};
        rc = raw(c, deadline, u->user ? 3 : 2, argv, NULL, &r, err);
        if (rc == 0 && r->type == REDIS_REPLY_ERROR)
            rc = mp__error(err, MP_EIO, u->redacted, "redis AUTH refused%s%s: %.200s",
                           u->user ? " for user " : "", u->user ? u->user : "", r->str);
        freeReplyObject(r);
        r = NULL;
        if (rc < 0) return rc;
    }
    char db[16];
    snprintf(db, sizeof db, "%d", u->db);
    const char *argv[] = {u->db ? "SELECT" : "PING", db};
    rc = raw(c, deadline, u->db ? 2 : 1, argv, NULL, &r, err);
    if (rc == 0 && r->type == REDIS_REPLY_ERROR) rc = mp__redis_reply_error(u->redacted, argv[0], r->str, err);
    freeReplyObject(r);
    return rc;
}

static int connect_new(const mp_redis_url *u, int64_t deadline, mp_redis **out, mp_error *err)
{
    mp_redis *c = mp__xcalloc(1, sizeof *c);
    c->url = u;
    c->ctx = redisConnectWithTimeout(u->host, u->port, tv_until(deadline));
    if (!c->ctx) mp__die("redis: out of memory allocating a context");
    int rc = 0;
    if (c->ctx->err)
        rc = mp__error(err, MP_EIO, u->redacted, "cannot connect to redis: %s", c->ctx->errstr);
    else
        rc = handshake(c, deadline, err);
    if (rc < 0) {
        redisFree(c->ctx);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Reconnect c with backoff until it works or the deadline passes. */
static int reconnect(mp_redis *c, int64_t deadline, mp_error *err)
{
    int64_t backoff = BACKOFF_MIN_MS;
    for (;;) {
        if (redisReconnect(c->ctx) == REDIS_OK && handshake(c, deadline, err) == 0) {
            c->broken = false;
            return 0;
        }
        if (c->ctx->err) /* the connect itself failed */
            mp__error(err, MP_EIO, c->url->redacted, "cannot reconnect to redis: %s",
                      c->ctx->errstr);
        int64_t left = mp__deadline_remaining_ms(deadline);
        if (left <= 0) {
            if (err) err->code = MP_EIO;
            return MP_EIO;
        }
        int64_t jitter = backoff / 4 ? rand() % (backoff / 4) : 0;
        sleep_ms(backoff + jitter < left ? backoff + jitter : left);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

int mp__redis_command(mp_redis *c, int64_t deadline, int argc, const char *const *argv,
                      const size_t *lens, redisReply **reply, mp_error *err)
{
    if (reply) *reply = NULL;
    redisReply *r = NULL;
    for (;;) {
        int rc = c->broken ? reconnect(c, deadline, err) : 0;
        if (rc < 0) return rc;
        rc = raw(c, deadline, argc, argv, lens, &r, err);
        if (rc == 0) break;
        /* A timeout ends here; a lost connection is retried in time. */
        if (rc == MP_ETIMEDOUT || mp__deadline_passed(deadline)) return rc;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        int rc = mp__redis_reply_error(c->url->redacted, argv[0], r->str, err);
        freeReplyObject(r);
        return rc;
    }
    if (reply)
        *reply = r;
    else
        freeReplyObject(r);
    return 0;
}

/* ------------------------------------------------------------ scripts */

static pthread_mutex_t sha_mu = PTHREAD_MUTEX_INITIALIZER;

static void script_sha(mp_redis_script *s)
{
    pthread_mutex_lock(&sha_mu);
    if (!s->sha_once) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (!EVP_Digest(s->body, strlen(s->body), md, &n, EVP_sha1(), NULL))
            mp__die("redis: cannot compute SHA-1 of script %s", s->name);
        for (unsigned int i = 0; i < n && i < 20; i++)
            snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
        s->sha_once = 1;
    }
    pthread_mutex_unlock(&sha_mu);
}

int mp__redis_eval(mp_redis *c, mp_redis_script *s, int64_t deadline, int nkeys, int argc,
                   const char *const *argv, const size_t *lens, redisReply **reply,
                   mp_error *err)
{
    script_sha(s);
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    const char **a = mp__xcalloc((size_t)argc + 3, sizeof *a);
    size_t *l = mp__xcalloc((size_t)argc + 3, sizeof *l);
    a[0] = "EVALSHA";
    a[1] = s->sha;
    a[2] = nk;
    for (int i = 0; i < 3; i++)
        l[i] = strlen(a[i]);
    for (int i = 0; i < argc; i++) {
        a[i + 3] = argv[i];
        l[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    int rc = 0;
    for (int tries = 0; tries < 3; tries++) {
        redisReply *r = NULL;
        if (reply) *reply = NULL;
        for (;;) {
            rc = c->broken ? reconnect(c, deadline, err) : 0;
            if (rc == 0) rc = raw(c, deadline, argc + 3, a, l, &r, err);
            if (rc == 0 || rc == MP_ETIMEDOUT || mp__deadline_passed(deadline)) break;
        }
        if (rc < 0) break;
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(r);
            const char *load[] = {"SCRIPT", "LOAD", s->body};
            rc = mp__redis_command(c, deadline, 3, load, NULL, NULL, err);
            if (rc < 0) break;
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            char what[64];
            snprintf(what, sizeof what, "script %s", s->name);
            rc = mp__redis_reply_error(c->url->redacted, what, r->str, err);
            freeReplyObject(r);
        } else if (reply) {
            *reply = r;
        } else {
            freeReplyObject(r);
        }
        break;
    }
    free(a);
    free(l);
    return rc;
}

/* --------------------------------------------------------------- pool */

static void url_copy(mp_redis_url *dst, const mp_redis_url *src)
{
    memset(dst, 0, sizeof *dst);
    dst->host = mp__xstrdup(src->host);
    dst->port = src->port;
    dst->db = src->db;
    dst->user = src->user ? mp__xstrdup(src->user) : NULL;
    dst->password = src->password ? mp__xstrdup(src->password) : NULL;
    dst->redacted = mp__xstrdup(src->redacted);
    dst->n_params = src->n_params;
    dst->params = mp__xcalloc(src->n_params + 1, sizeof *dst->params);
    for (size_t i = 0; i < src->n_params; i++) {
        dst->params[i].key = mp__xstrdup(src->params[i].key);
        dst->params[i].value = mp__xstrdup(src->params[i].value);
    }
}

static void conn_free(mp_redis *c)
{
    if (!c) return;
    redisFree(c->ctx);
    free(c);
}

int mp__redis_pool_open(const mp_redis_url *u, int64_t deadline, mp_redis_pool **out,
                        mp_error *err)
{
    mp_redis_pool *p = mp__xcalloc(1, sizeof *p);
    url_copy(&p->url, u);
    pthread_mutex_init(&p->mu, NULL);
    mp_redis *c = NULL;
    int rc = connect_new(&p->url, deadline, &c, err);
    if (rc < 0) {
        pthread_mutex_destroy(&p->mu);
        mp__redis_url_release(&p->url);
        free(p);
        return rc;
    }
    p->idle = c;
    p->n_idle = 1;
    *out = p;
    return 0;
}

void mp__redis_pool_close(mp_redis_pool *p)
{
    if (!p) return;
    while (p->idle) {
        mp_redis *c = p->idle;
        p->idle = c->next;
        conn_free(c);
    }
    pthread_mutex_destroy(&p->mu);
    mp__redis_url_release(&p->url);
    free(p);
}

const char *mp__redis_pool_url(const mp_redis_pool *p)
{
    return p->url.redacted;
}

int mp__redis_pool_get(mp_redis_pool *p, int64_t deadline, mp_redis **out, mp_error *err)
{
    pthread_mutex_lock(&p->mu);
    mp_redis *c = p->idle;
    if (c) {
        p->idle = c->next;
        p->n_idle--;
        c->next = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (c) {
        *out = c;
        return 0;
    }
    return connect_new(&p->url, deadline, out, err);
}

void mp__redis_pool_put(mp_redis_pool *p, mp_redis *c)
{
    if (!c) return;
    pthread_mutex_lock(&p->mu);
    bool keep = p->n_idle < POOL_IDLE_MAX;
    if (keep) {
        c->next = p->idle;
        p->idle = c;
        p->n_idle++;
    }
    pthread_mutex_unlock(&p->mu);
    if (!keep) conn_free(c);
}
