/*
 * url.c -- `redis://[user:pass@]host[:port][/db][?k=v&...]` and its
 * redacted form (see redis.h). Pure functions, thread-safe (getenv
 * aside).
 */
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "redis/redis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SCHEME "redis://"

/* Where the userinfo ends ('@' before the first '/', '?' or '#'), or NULL. */
static const char *userinfo_end(const char *auth)
{
    const char *stop = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < stop; p++)
        if (*p == '@') at = p; /* the last one: a password may hold '@' */
    return at;
}

char *mp__redis_redact(const char *url)
{
    if (!url) return mp__xstrdup("");
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    const char *at = userinfo_end(auth);
    if (!at) return mp__xstrdup(url);
    mp_strbuf sb = MP_STRBUF_INIT;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon) { /* user:***@ */
        mp__strbuf_add(&sb, url, (size_t)(colon - url));
        mp__strbuf_adds(&sb, ":***");
    } else { /* no colon: the userinfo is a password */
        mp__strbuf_add(&sb, url, (size_t)(auth - url));
        mp__strbuf_adds(&sb, "***");
    }
    mp__strbuf_adds(&sb, at);
    return mp__strbuf_detach(&sb);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %XX-decode [s, s+n) into a new string; NULL on a bad escape or %00. */
static char *decode(const char *s, size_t n)
{
    char *out = mp__xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

static bool parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 10) return false;
    char buf[16];
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9') return false;
    errno = 0;
    char *end = NULL;
    long v = strtol(buf, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static int parse_query(const char *q, const char *const *known, mp_redis_url *u, const char *shown,
                       mp_error *err)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (!eq || eq == q)
            return mp__error(err, MP_EUSAGE, shown, "bad query parameter '%.*s' (want key=value)",
                             (int)n, q);
        size_t kn = (size_t)(eq - q);
        bool ok = false;
        for (size_t i = 0; known && known[i]; i++)
            ok = ok || (strlen(known[i]) == kn && strncmp(known[i], q, kn) == 0);
        if (!ok) {
            mp_strbuf k = MP_STRBUF_INIT;
            for (size_t i = 0; known && known[i]; i++)
                mp__strbuf_addf(&k, "%s%s", i ? ", " : "", known[i]);
            int rc = mp__error(err, MP_EUSAGE, shown, "unknown query parameter '%.*s' (known: %s)",
                               (int)kn, q, k.len ? k.buf : "none");
            mp__strbuf_release(&k);
            return rc;
        }
        for (size_t i = 0; i < u->n_params; i++)
            if (strlen(u->params[i].key) == kn && strncmp(u->params[i].key, q, kn) == 0)
                return mp__error(err, MP_EUSAGE, shown, "query parameter '%.*s' given twice",
                                 (int)kn, q);
        u->params = mp__xrealloc(u->params, mp__xmul(u->n_params + 1, sizeof *u->params));
        mp_redis_param *p = &u->params[u->n_params++];
        p->key = mp__xmalloc(kn + 1);
        memcpy(p->key, q, kn);
        p->key[kn] = '\0';
        p->value = mp__xmalloc(n - kn);
        memcpy(p->value, eq + 1, n - kn - 1);
        p->value[n - kn - 1] = '\0';
        q += n + (q[n] == '&');
    }
    return 0;
}

static int parse(const char *url, const char *const *known, mp_redis_url *u, mp_error *err)
{
    const char *shown = u->redacted;
    if (strncmp(url, SCHEME, strlen(SCHEME)) != 0)
        return mp__error(err, MP_EUSAGE, shown, "not a redis:// URL");
    const char *auth = url + strlen(SCHEME);
    if (strchr(url, '#')) return mp__error(err, MP_EUSAGE, shown, "a fragment ('#') is not allowed");
    const char *at = userinfo_end(auth);
    const char *hostp = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        const char *pw = colon ? colon + 1 : auth;
        if (colon && colon > auth && !(u->user = decode(auth, (size_t)(colon - auth))))
            return mp__error(err, MP_EUSAGE, shown, "bad %%-escape in the user name");
        if (at > pw && !(u->password = decode(pw, (size_t)(at - pw))))
            return mp__error(err, MP_EUSAGE, shown, "bad %%-escape in the password");
        hostp = at + 1;
    }
    size_t hn = strcspn(hostp, ":/?");
    if (hn == 0) return mp__error(err, MP_EUSAGE, shown, "no host");
    if (hostp[0] == '[') return mp__error(err, MP_EUSAGE, shown, "IPv6 literals are not supported");
    u->host = mp__xmalloc(hn + 1);
    memcpy(u->host, hostp, hn);
    u->host[hn] = '\0';
    const char *p = hostp + hn;
    long v = 6379;
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/?");
        if (!parse_int(p + 1, n, 1, 65535, &v))
            return mp__error(err, MP_EUSAGE, shown, "bad port '%.*s' (1-65535)", (int)n, p + 1);
        p += 1 + n;
    }
    u->port = (int)v;
    v = 0;
    if (*p == '/') {
        size_t n = strcspn(p + 1, "?");
        if (n && !parse_int(p + 1, n, 0, 1000000, &v))
            return mp__error(err, MP_EUSAGE, shown, "bad database number '%.*s'", (int)n, p + 1);
        p += 1 + n;
    }
    u->db = (int)v;
    if (*p == '?') return parse_query(p + 1, known, u, shown, err);
    return 0;
}

int mp__redis_url_parse(const char *url, const char *const *known, mp_redis_url *out,
                        mp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!url) return mp__error(err, MP_EUSAGE, "", "no redis URL");
    out->redacted = mp__redis_redact(url);
    int rc = parse(url, known, out, err);
    if (rc < 0) {
        mp__redis_url_release(out);
        return rc;
    }
    const char *env = getenv("MODPIPE_REDIS_PASSWORD");
    if (!out->password && env && *env) out->password = mp__xstrdup(env);
    return 0;
}

void mp__redis_url_release(mp_redis_url *u)
{
    if (!u) return;
    free(u->host);
    free(u->user);
    if (u->password) memset(u->password, 0, strlen(u->password));
    free(u->password);
    free(u->redacted);
    for (size_t i = 0; i < u->n_params; i++) {
        free(u->params[i].key);
        free(u->params[i].value);
    }
    free(u->params);
    memset(u, 0, sizeof *u);
}

const char *mp__redis_url_param(const mp_redis_url *u, const char *key)
{
    for (size_t i = 0; i < u->n_params; i++)
        if (strcmp(u->params[i].key, key) == 0) return u->params[i].value;
    return NULL;
}
