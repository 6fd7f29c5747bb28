/*
 * s3_list.c -- ListObjectsV2 with continuation paging.
 *
 * Each page (up to 1000 keys) is read into memory, parsed (s3_xml.h) and
 * handed to the callback before the next page is asked for, so memory is
 * bounded by one page whatever the number of keys. encoding-type=url is
 * asked for (keys with control characters cannot travel in XML 1.0);
 * keys are decoded only when the answer says <EncodingType>url (some
 * S3-compatible servers ignore the parameter).
 */
#include "artifacts/s3/s3_client_int.h"
#include "artifacts/s3/s3_url.h"
#include "artifacts/s3/s3_xml.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int page(mp_s3_req *r, const char *strip, mp_s3_list_fn cb, void *data,
                char **token, mp_error *err)
{
    mp_s3_xml x;
    mp_error xe = {0};
    int rc = mp__s3_xml_parse(&x, r->body.buf, r->body.len, &xe);
    if (rc) return mp__error(err, rc, r->what, "%s: %s", r->what, xe.message);
    if (strcmp(x.nodes[0].name, "ListBucketResult") != 0) {
        rc = mp__error(err, MP_EPARSE, r->what,
                       "%s: the answer is <%.60s>, not the ListBucketResult of an S3 listing",
                       r->what, x.nodes[0].name);
        goto out;
    }
    const char *enc = mp__s3_xml_child_text(&x, 0, "EncodingType");
    bool url = enc && strcmp(enc, "url") == 0;
    size_t strip_len = strlen(strip);
    for (int i = mp__s3_xml_child(&x, 0, "Contents", -1); i >= 0 && !rc;
         i = mp__s3_xml_child(&x, 0, "Contents", i)) {
        const char *raw = mp__s3_xml_child_text(&x, i, "Key");
        const char *sz = mp__s3_xml_child_text(&x, i, "Size");
        if (!raw) {
            rc = mp__error(err, MP_EPARSE, r->what, "%s: a <Contents> without a <Key>", r->what);
            break;
        }
        char *key = url ? mp__s3_pct_decode(raw, strlen(raw), true) : mp__xstrdup(raw);
        if (!key) {
            rc = mp__error(err, MP_EPARSE, r->what, "%s: bad url-encoded key '%.80s'", r->what, raw);
            break;
        }
        uint64_t size = 0;
        if (sz) {
            char *end = NULL;
            errno = 0;
            size = strtoull(sz, &end, 10);
            if (errno || end == sz || *end) {
                free(key);
                rc = mp__error(err, MP_EPARSE, r->what, "%s: bad <Size> '%.40s'", r->what, sz);
                break;
            }
        }
        if (strncmp(key, strip, strip_len) == 0) rc = cb(key + strip_len, size, data);
        free(key);
    }
    if (rc) goto out;
    const char *trunc = mp__s3_xml_child_text(&x, 0, "IsTruncated");
    free(*token);
    *token = NULL;
    if (trunc && strcmp(trunc, "true") == 0) {
        const char *next = mp__s3_xml_child_text(&x, 0, "NextContinuationToken");
        if (!next || !*next)
            rc = mp__error(err, MP_EPARSE, r->what,
                           "%s: truncated listing without a NextContinuationToken", r->what);
        else
            *token = mp__xstrdup(next);
    }
out:
    mp__s3_xml_release(&x);
    return rc;
}

int mp__s3_list(mp_s3_client *c, const char *key_prefix, mp_s3_list_fn cb, void *data,
                int64_t deadline, mp_error *err)
{
    char *full = mp__s3_config_object_key(&c->cfg, key_prefix);
    char *strip = mp__s3_config_object_key(&c->cfg, "");
    char *token = NULL;
    mp_s3_session *s = mp__s3_session_take(c);
    int rc = 0;
    do {
        mp_s3_query q = {0};
        mp__s3_query_add(&q, "list-type", "2");
        mp__s3_query_add(&q, "prefix", full);
        mp__s3_query_add(&q, "encoding-type", "url");
        if (token) mp__s3_query_add(&q, "continuation-token", token);
        mp_s3_req r;
        mp__s3_req_init(&r, "GET", mp__s3_request_url(&c->cfg, NULL, &q),
                        mp__s3_what(c, "GET (list)", full));
        rc = mp__s3_run(s, &c->cfg, (mp_s3_req *[]){&r}, 1, 1, deadline, err);
        if (!rc) rc = page(&r, strip, cb, data, &token, err);
        mp__s3_req_release(&r);
    } while (!rc && token);
    mp__s3_session_give(c, s);
    free(token);
    free(full);
    free(strip);
    return rc;
}
