/*
 * store.c -- the backend registry and the wrappers of store.h.
 *
 * The wrappers check arguments once for every backend (a valid key or
 * prefix, a path, a bounded deadline that has not passed yet) and then
 * call the vtable slot. Adding a backend is one line in `backends` below.
 */
#include "artifacts/store.h"
#include "artifacts/fs/fs.h"
#include "artifacts/s3/s3_store.h"
#include "artifacts/redis/rstore.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct backend {
    const char *scheme; /* URL scheme, without "://" */
    const mp_store_vtable *vt;
} backend;

static const backend backends[] = {
    {"file", &mp__store_fs_vtable},
    {"s3", &mp__store_s3_vtable},
    {"redis", &mp__store_redis_vtable},
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

static const backend *backend_for(const char *url, const char *shown, mp_error *err)
{
    const char *colon = strchr(url, ':');
    if (colon && strncmp(colon, "://", 3) == 0) {
        size_t n = (size_t)(colon - url);
        for (size_t i = 0; i < N_BACKENDS; i++)
            if (strlen(backends[i].scheme) == n && strncmp(url, backends[i].scheme, n) == 0)
                return &backends[i];
    }
    mp_strbuf known = MP_STRBUF_INIT;
    for (size_t i = 0; i < N_BACKENDS; i++)
        mp__strbuf_addf(&known, "%s%s://", i ? ", " : "", backends[i].scheme);
    mp__error(err, MP_EUSAGE, shown, "unknown artifact store '%s': known schemes are %s", shown,
              known.buf);
    mp__strbuf_release(&known);
    return NULL;
}

int mp__store_open(const mp_store_open_opts *o, mp_store **out, mp_error *err)
{
    if (!o || !o->url || !*o->url) return mp__error(err, MP_EINVAL, "", "no artifact store URL");
    if (!out) return mp__error(err, MP_EINVAL, "", "no handle to fill");
    char shown[MP_STORE_URL_MAX + 1];
    mp__store_redact_url(o->url, shown, sizeof shown);
    if (strlen(o->url) > MP_STORE_URL_MAX)
        return mp__error(err, MP_EUSAGE, "", "artifact store URL longer than %d bytes",
                         MP_STORE_URL_MAX);
    if (o->deadline == MP_DEADLINE_NONE)
        return mp__error(err, MP_EINVAL, shown, "opening a store needs a deadline");
    const backend *b = backend_for(o->url, shown, err);
    if (!b) return MP_EUSAGE;
    mp_store *s = NULL;
    int rc = b->vt->open(o, &s, err);
    if (rc < 0) return rc;
    snprintf(s->url_shown, sizeof s->url_shown, "%s", shown);
    *out = s;
    return 0;
}

void mp__store_close(mp_store *s)
{
    if (s) s->vt->close(s);
}

const char *mp__store_backend(const mp_store *s)
{
    return s->vt->name;
}

const char *mp__store_url_shown(const mp_store *s)
{
    return s->url_shown;
}

void mp__store_list_release(mp_store_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->keys[i]);
    free(l->keys);
    l->keys = NULL;
    l->n = 0;
}

/* ------------------------------------------------------------ arguments */

static bool seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

bool mp__store_key_valid(const char *key)
{
    if (!key) return false;
    size_t n = strlen(key);
    if (n == 0 || n > MP_STORE_KEY_MAX) return false;
    bool seg_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (c == '/') {
            if (seg_start) return false; /* leading '/' or "//" */
            seg_start = true;
            continue;
        }
        if (!seg_char(c) || (seg_start && c == '.')) return false;
        seg_start = false;
    }
    return !seg_start; /* no trailing '/' */
}

static int check_key(const char *key, mp_error *err)
{
    if (mp__store_key_valid(key)) return 0;
    return mp__error(err, MP_EINVAL, key ? key : "",
                     "invalid store key '%.200s': segments of [A-Za-z0-9._-] not starting with "
                     "'.', separated by '/'",
                     key ? key : "(null)");
}

static int check_call(const char *key, int64_t deadline, mp_error *err)
{
    int rc = check_key(key, err);
    if (rc < 0) return rc;
    if (deadline == MP_DEADLINE_NONE)
        return mp__error(err, MP_EINVAL, key, "store call without a deadline");
    if (mp__deadline_passed(deadline))
        return mp__error(err, MP_ETIMEDOUT, key, "deadline passed before the store call");
    return 0;
}

int mp__store_put(mp_store *s, const char *key, const char *path, int64_t deadline,
                  mp_error *err)
{
    int rc = check_call(key, deadline, err);
    if (rc < 0) return rc;
    if (!path || !*path) return mp__error(err, MP_EINVAL, key, "put without a source file");
    return s->vt->put(s, key, path, deadline, err);
}

int mp__store_get(mp_store *s, const char *key, const char *path, int64_t deadline,
                  mp_error *err)
{
    int rc = check_call(key, deadline, err);
    if (rc < 0) return rc;
    if (!path || !*path) return mp__error(err, MP_EINVAL, key, "get without a target file");
    return s->vt->get(s, key, path, deadline, err);
}

int mp__store_exists(mp_store *s, const char *key, uint64_t *size, int64_t deadline,
                     mp_error *err)
{
    int rc = check_call(key, deadline, err);
    if (rc < 0) return rc;
    return s->vt->exists(s, key, size, deadline, err);
}

int mp__store_delete(mp_store *s, const char *key, int64_t deadline, mp_error *err)
{
    int rc = check_call(key, deadline, err);
    if (rc < 0) return rc;
    return s->vt->del(s, key, deadline, err);
}

int mp__store_list(mp_store *s, const char *prefix, int64_t deadline, mp_store_list *out,
                   mp_error *err)
{
    if (!out) return mp__error(err, MP_EINVAL, "", "list without a result");
    out->n = 0;
    out->keys = NULL;
    if (!prefix) return mp__error(err, MP_EINVAL, "", "list without a prefix");
    size_t n = strlen(prefix);
    if (n) {
        char key[MP_STORE_KEY_MAX + 1];
        if (prefix[n - 1] != '/' || n > MP_STORE_KEY_MAX)
            return mp__error(err, MP_EINVAL, prefix,
                             "invalid list prefix '%.200s': empty, or a key followed by '/'",
                             prefix);
        memcpy(key, prefix, n - 1);
        key[n - 1] = '\0';
        if (!mp__store_key_valid(key))
            return mp__error(err, MP_EINVAL, prefix,
                             "invalid list prefix '%.200s': empty, or a key followed by '/'",
                             prefix);
    }
    if (deadline == MP_DEADLINE_NONE)
        return mp__error(err, MP_EINVAL, prefix, "store call without a deadline");
    if (mp__deadline_passed(deadline))
        return mp__error(err, MP_ETIMEDOUT, prefix, "deadline passed before the store call");
    return s->vt->list(s, prefix, deadline, out, err);
}

/* ----------------------------------------------------------------- keys */

static bool is_hex64(const char *hex)
{
    if (!hex || strlen(hex) != 64) return false;
    for (size_t i = 0; i < 64; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) return false;
    return true;
}

int mp__store_blob_key(const char *hex, char *buf, size_t size)
{
    if (!is_hex64(hex) || size < MP_STORE_BLOB_KEY_SIZE)
        return mp__error(NULL, MP_EINVAL, "", "bad digest");
    snprintf(buf, size, "blobs/sha256/%s", hex);
    return 0;
}

int mp__store_run_key(const char *run_id, const char *rest, char *buf, size_t size)
{
    if (!run_id || !rest) return MP_EINVAL;
    int n = snprintf(buf, size, "runs/%s/%s", run_id, rest);
    if (n < 0 || (size_t)n >= size || !mp__store_key_valid(buf)) {
        if (size) buf[0] = '\0';
        return MP_EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------ redaction */

static bool secret_param(const char *name, size_t n)
{
    static const char *const exact[] = {"secret", "password", "token", "key", "sig",
                                        "signature", "x-amz-signature", "x-amz-security-token"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strlen(exact[i]) == n && strncasecmp(name, exact[i], n) == 0) return true;
    static const char *const suffix[] = {"secret", "token", "password"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t m = strlen(suffix[i]);
        if (n > m && strncasecmp(name + n - m, suffix[i], m) == 0) return true;
    }
    return false;
}

void mp__store_redact_url(const char *url, char *buf, size_t size)
{
    if (!size) return;
    mp_strbuf sb = MP_STRBUF_INIT;
    const char *p = url ? url : "";
    const char *scheme_end = strstr(p, "://");
    const char *auth = scheme_end ? scheme_end + 3 : p;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', auth_len);
    if (at) {
        /* Last '@' of the authority: a password may contain '@'. */
        for (const char *q = auth; q < auth + auth_len; q++)
            if (*q == '@') at = q;
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            mp__strbuf_add(&sb, p, (size_t)(colon + 1 - p));
            mp__strbuf_adds(&sb, "***");
            p = at;
        } else if (strncmp(p, "redis://", 8) == 0) {
            /* redis://secret@host: a userinfo without ':' is a password */
            mp__strbuf_add(&sb, p, (size_t)(auth - p));
            mp__strbuf_adds(&sb, "***");
            p = at;
        }
    }
    const char *query = strchr(p, '?');
    if (!query) {
        mp__strbuf_adds(&sb, p);
    } else {
        mp__strbuf_add(&sb, p, (size_t)(query + 1 - p));
        const char *q = query + 1;
        while (*q) {
            size_t len = strcspn(q, "&#");
            const char *eq = memchr(q, '=', len);
            if (eq && secret_param(q, (size_t)(eq - q))) {
                mp__strbuf_add(&sb, q, (size_t)(eq + 1 - q));
                mp__strbuf_adds(&sb, "***");
            } else {
                mp__strbuf_add(&sb, q, len);
            }
            q += len;
            if (*q) mp__strbuf_addch(&sb, *q++);
        }
    }
    snprintf(buf, size, "%s", sb.buf ? sb.buf : "");
    mp__strbuf_release(&sb);
}
