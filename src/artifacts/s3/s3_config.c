/* s3_config.c -- the s3:// URL and the AWS environment; see s3_config.h. */
#include "artifacts/s3/s3_config.h"
#include "artifacts/s3/s3_url.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *env_get(mp_s3_getenv_fn fn, void *data, const char *name)
{
    const char *v = fn ? fn(name, data) : getenv(name);
    return v && *v ? v : NULL;
}

int mp__s3_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s)) return MP_EINVAL;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return MP_EINVAL;
    unsigned shift = 0;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        default: return MP_EINVAL;
        }
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "ib") == 0 ||
            strcmp(end, "b") == 0)
            end += strlen(end);
        if (*end) return MP_EINVAL;
    }
    if (v > (UINT64_MAX >> shift)) return MP_EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

/* S3 bucket naming rules: 3-63 of [a-z0-9.-], starting and ending with a
 * letter or digit, no "..". */
static bool bucket_ok(const char *b, size_t n)
{
    if (n < 3 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && ch != '.' && ch != '-') return false;
        if ((i == 0 || i == n - 1) && !alnum) return false;
        if (ch == '.' && i + 1 < n && b[i + 1] == '.') return false;
    }
    return true;
}

static int parse_int(const char *v, int lo, int hi, int *out)
{
    errno = 0;
    char *end = NULL;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return MP_EINVAL;
    *out = (int)x;
    return 0;
}

/* The endpoint's host (without port, brackets or userinfo) is an IP
 * literal or localhost: no bucket sub-domain is possible. */
static bool host_needs_path_style(const char *ep)
{
    const char *h = strstr(ep, "://");
    h = h ? h + 3 : ep;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (at && (!slash || at < slash)) h = at + 1;
    if (*h == '[') return true; /* IPv6 literal */
    size_t n = strcspn(h, ":/");
    if (n == 9 && strncmp(h, "localhost", 9) == 0) return true;
    bool digits_dots = n > 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)h[i]) && h[i] != '.') digits_dots = false;
    return digits_dots;
}

/* endpoint with "user:password@" shown as "***@" */
static char *redact_endpoint(const char *ep)
{
    const char *h = strstr(ep, "://");
    h = h ? h + 3 : ep;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (!at || (slash && slash < at)) return mp__xstrdup(ep);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_add(&sb, ep, (size_t)(h - ep));
    mp__strbuf_adds(&sb, "***");
    mp__strbuf_adds(&sb, at);
    return mp__strbuf_detach(&sb);
}

static int check_endpoint(const char *ep, mp_error *err)
{
    if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
        return mp__error(err, MP_EUSAGE, "", "s3 URL: endpoint must start with http:// or https://");
    const char *h = strstr(ep, "://") + 3;
    if (!*h || *h == '/')
        return mp__error(err, MP_EUSAGE, "", "s3 URL: endpoint has no host");
    for (const char *p = ep; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#')
            return mp__error(err, MP_EUSAGE, "",
                             "s3 URL: endpoint must be a plain URL (no spaces, query or fragment)");
    return 0;
}

/* One `name=value` option of the query; v is already decoded. */
static int apply_option(mp_s3_config *c, const char *name, const char *v, bool *explicit_path,
                        mp_error *err)
{
    if (strcmp(name, "endpoint") == 0) {
        int rc = check_endpoint(v, err);
        if (rc) return rc;
        free(c->endpoint);
        c->endpoint = mp__xstrdup(v);
        size_t n = strlen(c->endpoint);
        while (n > 0 && c->endpoint[n - 1] == '/' && n > strlen("https://")) c->endpoint[--n] = '\0';
        return 0;
    }
    if (strcmp(name, "region") == 0) {
        if (!*v) return mp__error(err, MP_EUSAGE, "", "s3 URL: region is empty");
        for (const char *p = v; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-')
                return mp__error(err, MP_EUSAGE, "", "s3 URL: bad region '%.64s'", v);
        free(c->region);
        c->region = mp__xstrdup(v);
        return 0;
    }
    if (strcmp(name, "path_style") == 0) {
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) c->path_style = true;
        else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) c->path_style = false;
        else return mp__error(err, MP_EUSAGE, "", "s3 URL: path_style must be 0 or 1, not '%.32s'", v);
        *explicit_path = true;
        return 0;
    }
    if (strcmp(name, "multipart_threshold") == 0 || strcmp(name, "part_size") == 0) {
        uint64_t sz = 0;
        if (mp__s3_parse_size(v, &sz))
            return mp__error(err, MP_EUSAGE, "", "s3 URL: %s: bad size '%.32s' (e.g. 16MiB)", name, v);
        if (name[0] == 'p') {
            if (sz < MP_S3_MIN_PART_SIZE || sz > MP_S3_MAX_PART_SIZE)
                return mp__error(err, MP_EUSAGE, "",
                                 "s3 URL: part_size must be between 5MiB and 5GiB (S3 limits)");
            c->part_size = sz;
        } else {
            if (sz > MP_S3_MAX_PART_SIZE)
                return mp__error(err, MP_EUSAGE, "",
                                 "s3 URL: multipart_threshold is above 5GiB, the largest single PUT");
            c->multipart_threshold = sz;
        }
        return 0;
    }
    if (strcmp(name, "parallel") == 0) {
        if (parse_int(v, 1, MP_S3_MAX_PARALLEL, &c->parallel))
            return mp__error(err, MP_EUSAGE, "", "s3 URL: parallel must be 1..%d, not '%.32s'",
                             MP_S3_MAX_PARALLEL, v);
        return 0;
    }
    if (strcmp(name, "max_attempts") == 0) {
        if (parse_int(v, 1, MP_S3_MAX_ATTEMPTS_LIMIT, &c->max_attempts))
            return mp__error(err, MP_EUSAGE, "", "s3 URL: max_attempts must be 1..%d, not '%.32s'",
                             MP_S3_MAX_ATTEMPTS_LIMIT, v);
        return 0;
    }
    return mp__error(err, MP_EUSAGE, "",
                     "s3 URL: unknown option '%.64s' (known: endpoint, region, path_style, "
                     "multipart_threshold, part_size, parallel, max_attempts)",
                     name);
}

static int parse_query(mp_s3_config *c, const char *q, bool *explicit_path, mp_error *err)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (n == 0) {
            q++;
            continue;
        }
        if (!eq)
            return mp__error(err, MP_EUSAGE, "", "s3 URL: option '%.*s' has no value", (int)(n > 64 ? 64 : n), q);
        char *name = mp__s3_pct_decode(q, (size_t)(eq - q), false);
        char *val = mp__s3_pct_decode(eq + 1, n - (size_t)(eq - q) - 1, false);
        int rc = 0;
        if (!name || !val)
            rc = mp__error(err, MP_EUSAGE, "", "s3 URL: bad %%-escape in option '%.*s'",
                           (int)(n > 64 ? 64 : n), q);
        else
            rc = apply_option(c, name, val, explicit_path, err);
        free(name);
        free(val);
        if (rc) return rc;
        q += n;
        if (*q == '&') q++;
    }
    return 0;
}

static int parse_url(mp_s3_config *c, const char *url, bool *explicit_path, mp_error *err)
{
    if (strncmp(url, "s3://", 5) != 0)
        return mp__error(err, MP_EUSAGE, "", "not an s3:// URL");
    const char *b = url + 5;
    size_t blen = strcspn(b, "/?#");
    if (b[blen] == '#') return mp__error(err, MP_EUSAGE, "", "s3 URL: a fragment (#) is not allowed");
    if (!bucket_ok(b, blen))
        return mp__error(err, MP_EUSAGE, "",
                         "s3 URL: bad bucket name '%.*s' (3-63 of a-z 0-9 . -, starting and "
                         "ending with a letter or digit)",
                         (int)(blen > 80 ? 80 : blen), b);
    c->bucket = mp__xmalloc(blen + 1);
    memcpy(c->bucket, b, blen);
    c->bucket[blen] = '\0';
    const char *p = b + blen;
    if (*p == '/') {
        p++;
        size_t plen = strcspn(p, "?#");
        if (p[plen] == '#') return mp__error(err, MP_EUSAGE, "", "s3 URL: a fragment (#) is not allowed");
        char *prefix = mp__s3_pct_decode(p, plen, false);
        if (!prefix) return mp__error(err, MP_EUSAGE, "", "s3 URL: bad %%-escape in the prefix");
        /* no leading, trailing or doubled slash: keys are prefix/blobs/... */
        size_t n = strlen(prefix);
        while (n > 0 && prefix[n - 1] == '/') prefix[--n] = '\0';
        if (prefix[0] == '/' || strstr(prefix, "//")) {
            free(prefix);
            return mp__error(err, MP_EUSAGE, "", "s3 URL: empty path segment in the prefix");
        }
        c->prefix = prefix;
        p += plen;
    } else {
        c->prefix = mp__xstrdup("");
    }
    if (*p == '?') return parse_query(c, p + 1, explicit_path, err);
    return 0;
}

int mp__s3_config_parse(mp_s3_config *c, const char *url, mp_s3_getenv_fn getenv_fn,
                        void *getenv_data, mp_error *err)
{
    memset(c, 0, sizeof *c);
    c->multipart_threshold = MP_S3_DEFAULT_THRESHOLD;
    c->part_size = MP_S3_DEFAULT_PART_SIZE;
    c->parallel = MP_S3_DEFAULT_PARALLEL;
    c->max_attempts = MP_S3_DEFAULT_MAX_ATTEMPTS;
    bool explicit_path = false;
    int rc = url ? parse_url(c, url, &explicit_path, err)
                 : mp__error(err, MP_EUSAGE, "", "no s3 URL");
    if (rc) goto fail;
    if (!c->region) {
        const char *r = env_get(getenv_fn, getenv_data, "AWS_REGION");
        if (!r) r = env_get(getenv_fn, getenv_data, "AWS_DEFAULT_REGION");
        c->region = mp__xstrdup(r ? r : "us-east-1");
    }
    if (!c->endpoint) {
        mp_strbuf sb = MP_STRBUF_INIT;
        mp__strbuf_addf(&sb, "https://s3.%s.amazonaws.com", c->region);
        c->endpoint = mp__strbuf_detach(&sb);
    }
    if (!explicit_path && (host_needs_path_style(c->endpoint) || strchr(c->bucket, '.')))
        c->path_style = true;
    const char *id = env_get(getenv_fn, getenv_data, "AWS_ACCESS_KEY_ID");
    const char *secret = env_get(getenv_fn, getenv_data, "AWS_SECRET_ACCESS_KEY");
    if (!id || !secret) {
        rc = mp__error(err, MP_EUSAGE, "",
                       "s3 store s3://%s: no credentials: set AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)",
                       c->bucket);
        goto fail;
    }
    if (strchr(id, ':')) {
        rc = mp__error(err, MP_EUSAGE, "", "AWS_ACCESS_KEY_ID must not contain ':'");
        goto fail;
    }
    const char *token = env_get(getenv_fn, getenv_data, "AWS_SESSION_TOKEN");
    c->key_id = mp__xstrdup(id);
    c->secret = mp__xstrdup(secret);
    c->token = token ? mp__xstrdup(token) : NULL;
    mp_strbuf d = MP_STRBUF_INIT;
    mp__strbuf_addf(&d, "s3://%s%s%s", c->bucket, *c->prefix ? "/" : "", c->prefix);
    c->display = mp__strbuf_detach(&d);
    c->endpoint_display = redact_endpoint(c->endpoint);
    return 0;
fail:
    mp__s3_config_release(c);
    return rc;
}

void mp__s3_config_release(mp_s3_config *c)
{
    if (!c) return;
    if (c->secret) explicit_bzero(c->secret, strlen(c->secret));
    if (c->token) explicit_bzero(c->token, strlen(c->token));
    free(c->bucket);
    free(c->prefix);
    free(c->endpoint);
    free(c->region);
    free(c->key_id);
    free(c->secret);
    free(c->token);
    free(c->display);
    free(c->endpoint_display);
    memset(c, 0, sizeof *c);
}

char *mp__s3_config_object_key(const mp_s3_config *c, const char *key)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    if (*c->prefix) {
        mp__strbuf_adds(&sb, c->prefix);
        mp__strbuf_addch(&sb, '/');
    }
    mp__strbuf_adds(&sb, key);
    return mp__strbuf_detach(&sb);
}
