/*
 * s3_store.c -- the store.h vtable of the s3:// store: store keys map to
 * objects `<prefix>/<key>` of the bucket; every call goes to the client
 * (s3_client.h), which owns signing, retries, multipart and the session
 * pool. Errors name the store key in `where` (store.h).
 */
#include "artifacts/s3/s3_store.h"
#include "artifacts/s3/s3_client.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct s3_store {
    mp_store base;
    mp_s3_client *client;
} s3_store;

static s3_store *s3_downcast(mp_store *s)
{
    if (s->vt != &mp__store_s3_vtable) mp__die("s3 store: handle of the '%s' store", s->vt->name);
    return (s3_store *)s;
}

static int with_key(int rc, const char *key, mp_error *err)
{
    if (rc < 0 && err) snprintf(err->where, sizeof err->where, "%s", key);
    return rc;
}

static int s3_open(const mp_store_open_opts *o, mp_store **out, mp_error *err)
{
    mp_s3_client *c = NULL;
    int rc = mp__s3_client_open(&c, o->url, NULL, NULL, err);
    if (rc < 0) return rc;
    rc = mp__s3_check_bucket(c, o->deadline, err);
    if (rc < 0) {
        mp__s3_client_free(c);
        return rc;
    }
    s3_store *s = mp__xcalloc(1, sizeof *s);
    s->base.vt = &mp__store_s3_vtable;
    s->client = c;
    *out = &s->base;
    return 0;
}

static void s3_close(mp_store *base)
{
    s3_store *s = s3_downcast(base);
    mp__s3_client_free(s->client);
    free(s);
}

static int s3_put(mp_store *base, const char *key, const char *path, int64_t deadline,
                  mp_error *err)
{
    return with_key(mp__s3_put_file(s3_downcast(base)->client, key, path, deadline, err), key, err);
}

static int s3_get(mp_store *base, const char *key, const char *path, int64_t deadline,
                  mp_error *err)
{
    return with_key(mp__s3_get_file(s3_downcast(base)->client, key, path, NULL, deadline, err), key,
                    err);
}

static int s3_exists(mp_store *base, const char *key, uint64_t *size, int64_t deadline,
                     mp_error *err)
{
    bool yes = false;
    int rc = mp__s3_head(s3_downcast(base)->client, key, &yes, size, deadline, err);
    return rc < 0 ? with_key(rc, key, err) : yes ? 1 : 0;
}

static int s3_del(mp_store *base, const char *key, int64_t deadline, mp_error *err)
{
    return with_key(mp__s3_delete(s3_downcast(base)->client, key, deadline, err), key, err);
}

typedef struct collect {
    mp_store_list *out;
    size_t cap;
} collect;

static int add_key(const char *key, uint64_t size, void *data)
{
    (void)size;
    collect *c = data;
    if (c->out->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->out->keys = mp__xrealloc(c->out->keys, mp__xmul(c->cap, sizeof *c->out->keys));
    }
    c->out->keys[c->out->n++] = mp__xstrdup(key);
    return 0;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int s3_list(mp_store *base, const char *prefix, int64_t deadline, mp_store_list *out,
                   mp_error *err)
{
    collect c = {out, 0};
    int rc = mp__s3_list(s3_downcast(base)->client, prefix, add_key, &c, deadline, err);
    if (rc < 0) {
        mp__store_list_release(out);
        return with_key(rc, prefix, err);
    }
    /* S3 lists in UTF-8 binary order already; some compatible servers do
     * not promise it, store.h does */
    if (out->n > 1) qsort(out->keys, out->n, sizeof *out->keys, cmp_keys);
    return 0;
}

const mp_store_vtable mp__store_s3_vtable = {
    .version = MP_STORE_VTABLE_VERSION,
    .name = "s3",
    .open = s3_open,
    .close = s3_close,
    .put = s3_put,
    .get = s3_get,
    .exists = s3_exists,
    .del = s3_del,
    .list = s3_list,
};
