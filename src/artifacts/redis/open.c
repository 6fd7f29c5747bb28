/*
 * open.c -- the redis:// store's URL options, open and close, key names
 * and the error rewriting every operation uses (see rstore.h).
 */
#include "artifacts/redis/rstore_int.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PREFIX   "modpipe/art"
#define DEFAULT_TTL_MS   (24LL * 3600 * 1000)
#define DEFAULT_CHUNK    (4ULL << 20)
#define DEFAULT_MAX_SIZE (2ULL << 30)
#define CHUNK_MIN        (64ULL << 10)
#define CHUNK_MAX        (256ULL << 20)
#define PREFIX_MAX       200

static const char *const known_params[] = {"prefix", "ttl", "chunk", "max_size", NULL};

rstore *mp__rstore_downcast(mp_store *s)
{
    if (s->vt != &mp__store_redis_vtable)
        mp__die("redis store: not a redis:// handle (%s)", s->vt->name);
    return (rstore *)s;
}

char *mp__rstore_meta_key(const rstore *r, const char *key)
{
    size_t n = strlen(r->prefix) + strlen(key) + 2;
    char *k = mp__xmalloc(n);
    snprintf(k, n, "%s/%s", r->prefix, key);
    return k;
}

char *mp__rstore_chunk_prefix(const rstore *r)
{
    size_t n = strlen(r->prefix) + sizeof "/" RSTORE_CHUNKS "/";
    char *k = mp__xmalloc(n);
    snprintf(k, n, "%s/" RSTORE_CHUNKS "/", r->prefix);
    return k;
}

char *mp__rstore_chunk_key(const rstore *r, const char *gen, uint64_t i)
{
    size_t n = strlen(r->prefix) + strlen(gen) + sizeof RSTORE_CHUNKS + 32;
    char *k = mp__xmalloc(n);
    snprintf(k, n, "%s/" RSTORE_CHUNKS "/%s/%llu", r->prefix, gen, (unsigned long long)i);
    return k;
}

int mp__rstore_fail(const rstore *r, const char *op, const char *key, int rc, mp_error *err)
{
    switch (rc) {
    case MP_EINVAL: case MP_EUSAGE: case MP_ENOENT: case MP_ETIMEDOUT: case MP_EIO:
        break;
    default:
        rc = MP_EIO;
    }
    if (!err) return rc;
    char said[sizeof err->message];
    snprintf(said, sizeof said, "%s", err->message[0] ? err->message : mp_strerror(rc));
    return mp__error(err, rc, key, "%s '%s': %s (%s)", op, key, said,
                     mp__redis_pool_url(r->pool));
}

int mp__rstore_conn(rstore *r, const char *op, const char *key, int64_t deadline,
                    mp_redis **c, mp_error *err)
{
    int rc = mp__redis_pool_get(r->pool, deadline, c, err);
    return rc < 0 ? mp__rstore_fail(r, op, key, rc, err) : 0;
}

int mp__rstore_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mul;
    } units[] = {{"", 1}, {"B", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}};
    if (!s || !(*s >= '0' && *s <= '9')) return -1;
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].unit) != 0) continue;
        if (v > UINT64_MAX / units[i].mul) return -1;
        *out = v * units[i].mul;
        return 0;
    }
    return -1;
}

static bool prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > PREFIX_MAX || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("._:{}/-", c) != NULL;
        if (!ok) return false;
    }
    return true;
}

/* Read the query options into r; the message names the redacted URL. */
static int options(const mp_redis_url *u, rstore *r, mp_error *err)
{
    const char *v = mp__redis_url_param(u, "prefix");
    if (v && !prefix_ok(v))
        return mp__error(err, MP_EUSAGE, u->redacted,
                         "bad prefix '%.200s' in %s: 1..%d characters of [A-Za-z0-9._:{}-] in "
                         "segments separated by single '/'",
                         v, u->redacted, PREFIX_MAX);
    r->prefix = mp__xstrdup(v ? v : DEFAULT_PREFIX);

    r->ttl_ms = DEFAULT_TTL_MS;
    if ((v = mp__redis_url_param(u, "ttl"))) {
        const char *why = NULL;
        if (mp__duration_parse(v, &r->ttl_ms, &why) < 0)
            return mp__error(err, MP_EUSAGE, u->redacted, "bad ttl '%s' in %s: %s", v,
                             u->redacted, why);
        if (r->ttl_ms < 1000)
            return mp__error(err, MP_EUSAGE, u->redacted,
                             "ttl '%s' in %s is below the minimum of 1s", v, u->redacted);
    }
    snprintf(r->ttl_arg, sizeof r->ttl_arg, "%lld", (long long)r->ttl_ms);

    r->chunk = DEFAULT_CHUNK;
    if ((v = mp__redis_url_param(u, "chunk")) &&
        (mp__rstore_parse_size(v, &r->chunk) < 0 || r->chunk < CHUNK_MIN || r->chunk > CHUNK_MAX))
        return mp__error(err, MP_EUSAGE, u->redacted,
                         "bad chunk '%s' in %s: a size from 64KiB to 256MiB (e.g. 4MiB, "
                         "512KiB, 1048576)",
                         v, u->redacted);

    r->max_size = DEFAULT_MAX_SIZE;
    if ((v = mp__redis_url_param(u, "max_size")) &&
        (mp__rstore_parse_size(v, &r->max_size) < 0))
        return mp__error(err, MP_EUSAGE, u->redacted,
                         "bad max_size '%s' in %s: a size (e.g. 2GiB, 512MiB, 1000000)", v,
                         u->redacted);
    return 0;
}

static void rstore_free(rstore *r)
{
    mp__redis_pool_close(r->pool);
    free(r->prefix);
    free(r);
}

static int r_open(const mp_store_open_opts *o, mp_store **out, mp_error *err)
{
    mp_redis_url u;
    int rc = mp__redis_url_parse(o->url, known_params, &u, err);
    if (rc < 0) return rc;
    rstore *r = mp__xcalloc(1, sizeof *r);
    r->base.vt = &mp__store_redis_vtable;
    rc = options(&u, r, err);
    if (rc == 0) rc = mp__redis_pool_open(&u, o->deadline, &r->pool, err);
    if (rc < 0 && rc != MP_EUSAGE && err) {
        char said[sizeof err->message];
        snprintf(said, sizeof said, "%s", err->message);
        rc = mp__error(err, rc == MP_ETIMEDOUT ? MP_ETIMEDOUT : MP_EIO, u.redacted,
                       "cannot open the artifact store %s: %s", u.redacted, said);
    } else if (rc < 0 && rc != MP_EUSAGE) {
        rc = rc == MP_ETIMEDOUT ? MP_ETIMEDOUT : MP_EIO;
    }
    mp__redis_url_release(&u);
    if (rc < 0) {
        rstore_free(r);
        return rc;
    }
    *out = &r->base;
    return 0;
}

static void r_close(mp_store *s)
{
    rstore_free(mp__rstore_downcast(s));
}

const mp_store_vtable mp__store_redis_vtable = {
    .version = MP_STORE_VTABLE_VERSION,
    .name = "redis",
    .open = r_open,
    .close = r_close,
    .put = mp__rstore_put,
    .get = mp__rstore_get,
    .exists = mp__rstore_exists,
    .del = mp__rstore_del,
    .list = mp__rstore_list,
};
