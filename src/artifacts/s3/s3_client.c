/*
 * s3_client.c -- opening and freeing the S3 client, its session pool,
 * and the one-request operations (HEAD, DELETE, the bucket check).
 */
#include "artifacts/s3/s3_client_int.h"
#include "artifacts/s3/s3_url.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <string.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) mp__die("s3: curl_global_init failed");
}

int mp__s3_client_open(mp_s3_client **out, const char *url, mp_s3_getenv_fn getenv_fn,
                       void *getenv_data, mp_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    mp_s3_client *c = mp__xcalloc(1, sizeof *c);
    int rc = mp__s3_config_parse(&c->cfg, url, getenv_fn, getenv_data, err);
    if (rc) {
        free(c);
        return rc;
    }
    pthread_condattr_t ca;
    if (pthread_mutex_init(&c->mu, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&c->put_done, &ca) != 0)
        mp__die("s3: cannot create the client's lock");
    pthread_condattr_destroy(&ca);
    *out = c;
    return 0;
}

void mp__s3_client_free(mp_s3_client *c)
{
    if (!c) return;
    for (int i = 0; i < c->nidle; i++) mp__s3_session_free(c->idle[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->put_done);
    free(c->putting.keys);
    mp__s3_config_release(&c->cfg);
    free(c);
}

const mp_s3_config *mp__s3_client_config(const mp_s3_client *c) { return &c->cfg; }

mp_s3_session *mp__s3_session_take(mp_s3_client *c)
{
    mp_s3_session *s = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->nidle) s = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->mu);
    return s ? s : mp__s3_session_new();
}

void mp__s3_session_give(mp_s3_client *c, mp_s3_session *s)
{
    pthread_mutex_lock(&c->mu);
    if (c->nidle < MP_S3_POOL_MAX) {
        c->idle[c->nidle++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    mp__s3_session_free(s);
}

char *mp__s3_what(const mp_s3_client *c, const char *method, const char *object_key)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_addf(&sb, "%s s3://%s/%s", method, c->cfg.bucket, object_key ? object_key : "");
    return mp__strbuf_detach(&sb);
}

int mp__s3_run_one(mp_s3_client *c, mp_s3_req *r, int64_t deadline, mp_error *err)
{
    mp_s3_session *s = mp__s3_session_take(c);
    mp_s3_req *one[1] = {r};
    int rc = mp__s3_run(s, &c->cfg, one, 1, 1, deadline, err);
    mp__s3_session_give(c, s);
    return rc;
}

int mp__s3_check_bucket(mp_s3_client *c, int64_t deadline, mp_error *err)
{
    /* ListObjectsV2 with max-keys=0 rather than HEAD bucket: its error
     * answer has a body, so a missing bucket and refused credentials
     * are told apart */
    mp_s3_query q = {0};
    mp__s3_query_add(&q, "list-type", "2");
    mp__s3_query_add(&q, "max-keys", "0");
    mp_s3_req r;
    mp__s3_req_init(&r, "GET", mp__s3_request_url(&c->cfg, NULL, &q), mp__s3_what(c, "GET", ""));
    int rc = mp__s3_run_one(c, &r, deadline, err);
    /* a missing bucket or refused credentials: the store cannot work as
     * configured (store.h: MP_EUSAGE at open), unlike a server that is
     * down or failing */
    if (rc && (r.status == 404 || r.status == 403)) {
        rc = MP_EUSAGE;
        if (err) err->code = rc;
    }
    mp__s3_req_release(&r);
    return rc;
}

int mp__s3_head(mp_s3_client *c, const char *key, bool *exists, uint64_t *size,
                int64_t deadline, mp_error *err)
{
    *exists = false;
    char *ok = mp__s3_config_object_key(&c->cfg, key);
    mp_s3_req r;
    mp__s3_req_init(&r, "HEAD", mp__s3_request_url(&c->cfg, ok, NULL), mp__s3_what(c, "HEAD", ok));
    r.ok_404 = true;
    int rc = mp__s3_run_one(c, &r, deadline, err);
    if (!rc && r.status != 404) {
        *exists = true;
        if (size) *size = r.content_length >= 0 ? (uint64_t)r.content_length : 0;
    }
    mp__s3_req_release(&r);
    free(ok);
    return rc;
}

int mp__s3_delete(mp_s3_client *c, const char *key, int64_t deadline, mp_error *err)
{
    char *ok = mp__s3_config_object_key(&c->cfg, key);
    mp_s3_req r;
    mp__s3_req_init(&r, "DELETE", mp__s3_request_url(&c->cfg, ok, NULL),
                    mp__s3_what(c, "DELETE", ok));
    r.ok_404 = true;
    int rc = mp__s3_run_one(c, &r, deadline, err);
    mp__s3_req_release(&r);
    free(ok);
    return rc;
}
