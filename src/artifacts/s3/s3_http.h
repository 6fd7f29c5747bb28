/*
 * s3_http.h -- signed S3 requests on libcurl, run with retries (internal
 * to src/artifacts/s3/).
 *
 * A request (mp_s3_req) says what to send: method, URL, body (a file
 * range, a memory buffer or nothing) and where a successful body goes (a
 * file descriptor, or a bounded memory buffer for XML). mp__s3_run runs a
 * set of requests on one session -- at most `parallel` at a time on its
 * curl multi handle -- and retries each transient failure on its own
 * (exponential backoff with jitter, a per-request not-before time, no
 * sleeping while other requests can progress) within max_attempts and the
 * deadline. The first permanent failure cancels the rest and is reported.
 *
 * The payload's sha256 is signed (x-amz-content-sha256): when the caller
 * leaves payload_sha256 empty it is computed from the body before the
 * first attempt, streaming the file range.
 *
 * With check_md5, a 2xx body whose ETag is a plain MD5 (a single-part
 * object without KMS or customer-key encryption) must hash to it: a
 * mismatch is judged transient (the object was replaced during the
 * download, or corrupted on the way) and retried. This is what keeps a
 * get whole against servers that rewrite objects in place.
 *
 * A session is a curl multi handle and up to MP_S3_MAX_PARALLEL easy
 * handles; connections live in the multi handle and are reused by the
 * next request. Sessions belong to a client's pool (s3_client.c).
 */
#ifndef MP_ARTIFACTS_S3_HTTP_H
#define MP_ARTIFACTS_S3_HTTP_H

#include "artifacts/s3/s3_config.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct mp_s3_session mp_s3_session;

typedef struct mp_s3_req {
    /* --- set by the caller (mp__s3_req_init sets the defaults) */
    const char *method; /* GET PUT HEAD DELETE POST */
    char *url;          /* owned; from mp__s3_request_url */
    char *what;         /* owned; "PUT s3://bucket/key", for messages */
    char payload_sha256[65]; /* hex; "" = compute from the body */
    int in_fd;               /* body from in_fd [in_off, in_off+in_len) */
    uint64_t in_off, in_len;
    const char *in_mem; /* or from memory (not owned) */
    size_t in_mem_len;
    int out_fd;          /* 2xx body written here from offset 0; -1: buffered */
    bool ok_404;         /* a 404 is an answer, not a failure */
    bool error_in_200;   /* a 200 may carry <Error> (CompleteMultipartUpload) */
    bool check_md5;      /* compare the out_fd body with a plain-MD5 ETag */
    /* --- results of the last attempt */
    long status;           /* HTTP status, 0 when none came */
    mp_strbuf body;        /* buffered body (capped at MP_S3_XML_MAX_BYTES) */
    char etag[128];        /* ETag header, quotes kept */
    int64_t content_length; /* Content-Length header, -1 when absent */
    uint64_t received;     /* body bytes received */
    int attempts;
    /* --- private to s3_http.c */
    int64_t not_before;
    int state;
    uint64_t in_pos;
    int local_errno;   /* a read/write error of ours (not retried) */
    bool too_big;
    char content_type[64];
    char sse[32];  /* x-amz-server-side-encryption */
    bool sse_c;    /* customer-key encryption: the ETag is not the MD5 */
    void *md5;     /* EVP_MD_CTX of the body written to out_fd */
} mp_s3_req;

void mp__s3_req_init(mp_s3_req *r, const char *method, char *url, char *what);
void mp__s3_req_release(mp_s3_req *r);

mp_s3_session *mp__s3_session_new(void);
void mp__s3_session_free(mp_s3_session *s);

/* Runs reqs[0..n) to completion (see above). Returns 0 when every request
 * got a 2xx (or a 404 where ok_404), else the first failure's code. */
int mp__s3_run(mp_s3_session *s, const mp_s3_config *cfg, mp_s3_req **reqs, size_t n,
               int parallel, int64_t deadline, mp_error *err);

/* The S3 error of a failed response body: code and message (either may
 * be NULL; caller frees both). Returns 0 when the body is an <Error>. */
int mp__s3_error_of(const char *body, size_t len, char **code, char **message);

/* sha256 of fd's [off, off+len) as hex; 0 or MP_EIO with errno set. */
int mp__s3_sha256_fd(int fd, uint64_t off, uint64_t len, char hex[65]);
void mp__s3_sha256_mem(const void *p, size_t n, char hex[65]);

#endif
