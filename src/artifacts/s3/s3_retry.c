/* s3_retry.c -- judging attempts and the backoff; see s3_retry.h. */
#include "artifacts/s3/s3_retry.h"
#include "artifacts/s3/s3_xml.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "os/clock.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 5000

int64_t mp__s3_backoff_ms(int attempt, uint64_t rnd)
{
    int64_t d = BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && d < BACKOFF_CAP_MS; i++) d *= 2;
    if (d > BACKOFF_CAP_MS) d = BACKOFF_CAP_MS;
    return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

int mp__s3_error_of(const char *body, size_t len, char **code, char **message)
{
    *code = *message = NULL;
    mp_s3_xml x;
    if (mp__s3_xml_parse(&x, body, len, NULL)) return MP_EPARSE;
    int rc = MP_EPARSE;
    if (x.n && strcmp(x.nodes[0].name, "Error") == 0) {
        const char *c = mp__s3_xml_child_text(&x, 0, "Code");
        const char *m = mp__s3_xml_child_text(&x, 0, "Message");
        *code = strdup(c && *c ? c : "(no code)");
        *message = strdup(m ? m : "");
        if (!*code || !*message) abort();
        rc = 0;
    }
    mp__s3_xml_release(&x);
    return rc;
}

static bool retryable_code(const char *code)
{
    static const char *const codes[] = {"RequestTimeout", "SlowDown", "InternalError",
                                        "ServiceUnavailable", "RequestTimeoutException",
                                        "OperationAborted"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0) return true;
    return false;
}

/* A short printable excerpt of a body that is not S3's. */
static void excerpt(mp_strbuf *sb, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    size_t k = 0;
    mp__strbuf_addch(sb, '\'');
    for (; i < n && k < 60; i++, k++) {
        unsigned char ch = (unsigned char)s[i];
        mp__strbuf_addch(sb, ch >= 0x20 && ch < 0x7f ? (char)ch : '?');
    }
    mp__strbuf_adds(sb, i < n ? "...'" : "'");
}

static bool looks_html(const mp_s3_req *r)
{
    if (strncasecmp(r->content_type, "text/html", 9) == 0) return true;
    const char *s = r->body.buf;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
    return strncasecmp(s, "<!doctype html", 14) == 0 || strncasecmp(s, "<html", 5) == 0;
}

int mp__s3_http_error(mp_s3_req *r, const mp_s3_config *cfg, bool *retryable, mp_error *err)
{
    char *code = NULL, *msg = NULL;
    bool s3err = r->body.len && mp__s3_error_of(r->body.buf, r->body.len, &code, &msg) == 0;
    *retryable = r->status >= 500 || r->status == 429 || (s3err && retryable_code(code));
    int ec = r->status == 404 ? MP_ENOENT : MP_EIO;
    mp_strbuf sb = MP_STRBUF_INIT;
    if (s3err && strcmp(code, "NoSuchBucket") == 0) {
        mp__strbuf_addf(&sb, "%s: bucket '%s' does not exist at %s (HTTP %ld NoSuchBucket)",
                        r->what, cfg->bucket, cfg->endpoint_display, r->status);
    } else if (s3err) {
        mp__strbuf_addf(&sb, "%s: HTTP %ld %s%s%s", r->what, r->status, code, *msg ? ": " : "",
                        msg);
        if (strcmp(code, "SignatureDoesNotMatch") == 0)
            mp__strbuf_adds(&sb, " (check AWS_SECRET_ACCESS_KEY and the region)");
        else if (strcmp(code, "InvalidAccessKeyId") == 0)
            mp__strbuf_adds(&sb, " (check AWS_ACCESS_KEY_ID)");
        else if (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidToken") == 0)
            mp__strbuf_adds(&sb, " (check AWS_SESSION_TOKEN)");
    } else if (r->body.len && looks_html(r)) {
        mp__strbuf_addf(&sb, "%s: HTTP %ld with an HTML page, not an S3 error (is %s an S3 endpoint?)",
                        r->what, r->status, cfg->endpoint_display);
        if (r->status < 500 && r->status != 429) ec = MP_EPARSE;
    } else if (r->body.len) {
        mp__strbuf_addf(&sb, "%s: HTTP %ld with a body that is not an S3 error: ", r->what,
                        r->status);
        excerpt(&sb, r->body.buf, r->body.len);
        if (r->status < 500 && r->status != 429) ec = MP_EPARSE;
    } else {
        mp__strbuf_addf(&sb, "%s: HTTP %ld", r->what, r->status);
        if (r->status == 404) mp__strbuf_adds(&sb, " (not found)");
        else if (r->status == 403)
            mp__strbuf_adds(&sb, " (access denied; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY "
                                 "and the region)");
    }
    mp__error(err, ec, r->what, "%s", sb.buf);
    mp__strbuf_release(&sb);
    free(code);
    free(msg);
    return ec;
}

static bool retryable_curl(CURLcode res)
{
    switch (res) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

mp_s3_verdict mp__s3_judge(mp_s3_req *r, int res_, const char *curl_text, const mp_s3_config *cfg,
                           int64_t deadline, mp_error *err)
{
    CURLcode res = (CURLcode)res_;
    if (res != CURLE_OK) {
        if (r->local_errno) {
            mp__error(err, MP_EIO, r->what, "%s: %s: %s", r->what,
                      res == CURLE_WRITE_ERROR ? "cannot write the download"
                                               : "cannot read the file being uploaded",
                      strerror(r->local_errno));
            return MP_S3_FAIL;
        }
        if (r->too_big) {
            mp__error(err, MP_EPARSE, r->what,
                      "%s: HTTP %ld response body over %u bytes (not an S3 response?)", r->what,
                      r->status, MP_S3_XML_MAX_BYTES);
            return MP_S3_FAIL;
        }
        const char *why = curl_text && *curl_text ? curl_text : curl_easy_strerror(res);
        if (res == CURLE_OPERATION_TIMEDOUT && mp__deadline_passed(deadline)) {
            mp__error(err, MP_ETIMEDOUT, r->what, "%s: deadline exceeded: %s (endpoint %s)",
                      r->what, why, cfg->endpoint_display);
            return MP_S3_FAIL;
        }
        if (res == CURLE_PARTIAL_FILE)
            mp__error(err, MP_EIO, r->what,
                      "%s: transfer cut short: %s (got %llu of %lld bytes)", r->what, why,
                      (unsigned long long)r->received, (long long)r->content_length);
        else
            mp__error(err, MP_EIO, r->what, "%s: %s (endpoint %s)", r->what, why,
                      cfg->endpoint_display);
        return retryable_curl(res) ? MP_S3_RETRY : MP_S3_FAIL;
    }
    if (r->status >= 200 && r->status < 300) {
        if (r->error_in_200 && r->body.len) {
            char *code = NULL, *msg = NULL;
            if (mp__s3_error_of(r->body.buf, r->body.len, &code, &msg) == 0) {
                bool again = retryable_code(code);
                mp__error(err, MP_EIO, r->what, "%s: HTTP %ld with S3 error %s: %s", r->what,
                          r->status, code, msg);
                free(code);
                free(msg);
                return again ? MP_S3_RETRY : MP_S3_FAIL;
            }
        }
        return MP_S3_OK;
    }
    if (r->status == 404 && r->ok_404) {
        /* a missing bucket is not a missing key */
        char *code = NULL, *msg = NULL;
        bool bucket = r->body.len && mp__s3_error_of(r->body.buf, r->body.len, &code, &msg) == 0 &&
                      strcmp(code, "NoSuchBucket") == 0;
        free(code);
        free(msg);
        if (!bucket) return MP_S3_OK;
    }
    bool again = false;
    mp__s3_http_error(r, cfg, &again, err);
    return again ? MP_S3_RETRY : MP_S3_FAIL;
}

static int append_attempts(mp_s3_req *r, mp_error *err, const char *how)
{
    if (!err) return MP_EIO;
    size_t n = strlen(err->message);
    snprintf(err->message + n, sizeof err->message - n, " (%s after %d attempt%s)", how,
             r ? r->attempts : 0, r && r->attempts == 1 ? "" : "s");
    return err->code;
}

int mp__s3_fail_after_retries(mp_s3_req *r, mp_error *err, bool deadline)
{
    if (deadline) {
        if (err) err->code = MP_ETIMEDOUT;
        return append_attempts(r, err, "deadline reached");
    }
    return append_attempts(r, err, "gave up");
}

int mp__s3_fail_deadline(mp_s3_req *r, mp_error *err)
{
    if (r && r->attempts > 0 && err && err->code && err->message[0] &&
        strncmp(err->message, r->what, strlen(r->what)) == 0) {
        err->code = MP_ETIMEDOUT;
        return append_attempts(r, err, "deadline reached");
    }
    return mp__error(err, MP_ETIMEDOUT, r ? r->what : "", "%s: deadline exceeded%s",
                     r ? r->what : "s3 request",
                     r && r->attempts ? " while the request was running" : "");
}
