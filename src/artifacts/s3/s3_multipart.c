/*
 * s3_multipart.c -- multipart upload of one file: initiate, parts in
 * parallel, complete; abort on any failure.
 *
 * Parts are file ranges sent straight from the file by curl's read
 * callback; each part's sha256 is computed (streaming its range) just
 * before its first attempt and signed. All parts run on one session, at
 * most `parallel` at a time, each retried on its own (s3_http.c). The
 * part size grows (doubling) when the file would need more than 10,000
 * parts. When anything fails after the upload was initiated, the upload
 * is aborted (DELETE ?uploadId=) with its own short deadline -- the
 * transfer's deadline may be what ran out -- so the server drops the
 * parts; if even the abort fails the message says so and names the
 * upload id (a bucket lifecycle rule then removes it, docs/artifacts-s3.md).
 */
#include "artifacts/s3/s3_client_int.h"
#include "artifacts/s3/s3_url.h"
#include "artifacts/s3/s3_xml.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ABORT_DEADLINE_MS 10000

static void xml_escape(mp_strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '&') mp__strbuf_adds(sb, "&amp;");
        else if (*s == '<') mp__strbuf_adds(sb, "&lt;");
        else if (*s == '>') mp__strbuf_adds(sb, "&gt;");
        else mp__strbuf_addch(sb, *s);
    }
}

static int initiate(mp_s3_client *c, mp_s3_session *s, const char *ok, char **upload_id,
                    int64_t deadline, mp_error *err)
{
    mp_s3_query q = {0};
    mp__s3_query_add(&q, "uploads", "");
    mp_s3_req r;
    mp__s3_req_init(&r, "POST", mp__s3_request_url(&c->cfg, ok, &q),
                    mp__s3_what(c, "POST (initiate multipart upload)", ok));
    mp_s3_req *one[1] = {&r};
    int rc = mp__s3_run(s, &c->cfg, one, 1, 1, deadline, err);
    if (!rc) {
        mp_s3_xml x;
        mp_error xe = {0};
        rc = mp__s3_xml_parse(&x, r.body.buf, r.body.len, &xe);
        if (rc) {
            mp__error(err, rc, r.what, "%s: %s", r.what, xe.message);
        } else {
            const char *id = x.n && strcmp(x.nodes[0].name, "InitiateMultipartUploadResult") == 0
                                 ? mp__s3_xml_child_text(&x, 0, "UploadId")
                                 : NULL;
            if (!id || !*id)
                rc = mp__error(err, MP_EPARSE, r.what, "%s: the answer has no UploadId (root <%s>)",
                               r.what, x.n ? x.nodes[0].name : "");
            else
                *upload_id = mp__xstrdup(id);
            mp__s3_xml_release(&x);
        }
    }
    mp__s3_req_release(&r);
    return rc;
}

static int upload_parts(mp_s3_client *c, mp_s3_session *s, const char *ok, const char *id, int fd,
                        uint64_t size, uint64_t part, size_t nparts, mp_strbuf *complete,
                        int64_t deadline, mp_error *err)
{
    mp_s3_req *parts = mp__xcalloc(nparts, sizeof *parts);
    mp_s3_req **ptrs = mp__xcalloc(nparts, sizeof *ptrs);
    for (size_t i = 0; i < nparts; i++) {
        char num[24];
        snprintf(num, sizeof num, "%zu", i + 1);
        mp_s3_query q = {0};
        mp__s3_query_add(&q, "partNumber", num);
        mp__s3_query_add(&q, "uploadId", id);
        mp_strbuf what = MP_STRBUF_INIT;
        mp__strbuf_addf(&what, "PUT (part %zu of %zu) s3://%s/%s", i + 1, nparts, c->cfg.bucket, ok);
        mp__s3_req_init(&parts[i], "PUT", mp__s3_request_url(&c->cfg, ok, &q),
                        mp__strbuf_detach(&what));
        parts[i].in_fd = fd;
        parts[i].in_off = i * part;
        parts[i].in_len = i + 1 < nparts ? part : size - i * part;
        ptrs[i] = &parts[i];
    }
    int rc = mp__s3_run(s, &c->cfg, ptrs, nparts, c->cfg.parallel, deadline, err);
    if (!rc) {
        mp__strbuf_adds(complete, "<CompleteMultipartUpload>");
        for (size_t i = 0; i < nparts && !rc; i++) {
            if (!parts[i].etag[0]) {
                rc = mp__error(err, MP_EPARSE, parts[i].what, "%s: the answer has no ETag",
                               parts[i].what);
                break;
            }
            mp__strbuf_addf(complete, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
            xml_escape(complete, parts[i].etag);
            mp__strbuf_adds(complete, "</ETag></Part>");
        }
        mp__strbuf_adds(complete, "</CompleteMultipartUpload>");
    }
    for (size_t i = 0; i < nparts; i++) mp__s3_req_release(&parts[i]);
    free(parts);
    free(ptrs);
    return rc;
}

static int finish(mp_s3_client *c, mp_s3_session *s, const char *ok, const char *id,
                  const mp_strbuf *body, int64_t deadline, mp_error *err)
{
    mp_s3_query q = {0};
    mp__s3_query_add(&q, "uploadId", id);
    mp_s3_req r;
    mp__s3_req_init(&r, "POST", mp__s3_request_url(&c->cfg, ok, &q),
                    mp__s3_what(c, "POST (complete multipart upload)", ok));
    r.in_mem = body->buf;
    r.in_mem_len = body->len;
    r.error_in_200 = true;
    mp_s3_req *one[1] = {&r};
    int rc = mp__s3_run(s, &c->cfg, one, 1, 1, deadline, err);
    mp__s3_req_release(&r);
    return rc;
}

static void abort_upload(mp_s3_client *c, mp_s3_session *s, const char *ok, const char *id,
                         mp_error *err)
{
    mp_s3_query q = {0};
    mp__s3_query_add(&q, "uploadId", id);
    mp_s3_req r;
    mp__s3_req_init(&r, "DELETE", mp__s3_request_url(&c->cfg, ok, &q),
                    mp__s3_what(c, "DELETE (abort multipart upload)", ok));
    r.ok_404 = true; /* already gone */
    mp_error ae = {0};
    int rc = mp__s3_run(s, &c->cfg, (mp_s3_req *[]){&r}, 1, 1, mp__deadline_in(ABORT_DEADLINE_MS),
                        &ae);
    if (rc && err) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n,
                 "; multipart upload %s could not be aborted: %s", id, ae.message);
    }
    mp__s3_req_release(&r);
}

int mp__s3_put_multipart(mp_s3_client *c, const char *ok, int fd, uint64_t size,
                         int64_t deadline, mp_error *err)
{
    uint64_t part = c->cfg.part_size;
    while ((size + part - 1) / part > MP_S3_MAX_PARTS) part *= 2;
    if (part > MP_S3_MAX_PART_SIZE)
        return mp__error(err, MP_ETOOBIG, ok, "s3://%s/%s: %" PRIu64 " bytes is over S3's object size limit",
                         c->cfg.bucket, ok, size);
    size_t nparts = (size_t)((size + part - 1) / part);
    mp_s3_session *s = mp__s3_session_take(c);
    char *id = NULL;
    int rc = initiate(c, s, ok, &id, deadline, err);
    if (!rc) {
        mp_strbuf body = MP_STRBUF_INIT;
        rc = upload_parts(c, s, ok, id, fd, size, part, nparts, &body, deadline, err);
        if (!rc) rc = finish(c, s, ok, id, &body, deadline, err);
        if (rc) abort_upload(c, s, ok, id, err);
        mp__strbuf_release(&body);
    }
    free(id);
    mp__s3_session_give(c, s);
    return rc;
}
