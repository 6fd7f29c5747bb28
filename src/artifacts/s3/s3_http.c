/*
 * s3_http.c -- requests, sessions and the run loop of s3_http.h.
 *
 * One loop per mp__s3_run: start requests whose not-before time has come
 * while a slot is free, let curl_multi_perform move bytes, judge finished
 * transfers (s3_retry.c), then curl_multi_poll until the next socket
 * event, the next retry time or the deadline -- whichever is first. Each
 * attempt gets CURLOPT_TIMEOUT_MS = the time left, a connect timeout and a
 * low-speed limit (a stalled transfer is cut and retried rather than
 * waited on until the deadline).
 */
#include "artifacts/s3/s3_http.h"
#include "artifacts/s3/s3_retry.h"
#include "artifacts/s3/s3_xml.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { ST_WAITING, ST_ACTIVE, ST_DONE };

#define CONNECT_TIMEOUT_MS 10000
#define LOW_SPEED_BYTES 1024 /* per second, over ... */
#define LOW_SPEED_SECONDS 30
#define IO_BUFFER (256 * 1024)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct mp_s3_session {
    CURLM *multi;
    CURL *easy[MP_S3_MAX_PARALLEL];
    mp_s3_req *on[MP_S3_MAX_PARALLEL];
    struct curl_slist *hdrs[MP_S3_MAX_PARALLEL];
    char errbuf[MP_S3_MAX_PARALLEL][CURL_ERROR_SIZE];
    uint64_t rng;
};

void mp__s3_req_init(mp_s3_req *r, const char *method, char *url, char *what)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->url = url;
    r->what = what;
    r->in_fd = -1;
    r->out_fd = -1;
    r->content_length = -1;
    r->body = (mp_strbuf)MP_STRBUF_INIT;
}

void mp__s3_req_release(mp_s3_req *r)
{
    if (!r) return;
    EVP_MD_CTX_free(r->md5);
    r->md5 = NULL;
    free(r->url);
    free(r->what);
    mp__strbuf_release(&r->body);
    r->url = r->what = NULL;
}

mp_s3_session *mp__s3_session_new(void)
{
    mp_s3_session *s = mp__xcalloc(1, sizeof *s);
    s->multi = curl_multi_init();
    if (!s->multi) mp__die("s3: curl_multi_init failed");
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MP_S3_MAX_PARALLEL);
    s->rng = (uint64_t)mp__clock_wall_ms() ^ ((uint64_t)(uintptr_t)s << 16) ^ (uint64_t)getpid();
    if (!s->rng) s->rng = 88172645463325252ull;
    return s;
}

void mp__s3_session_free(mp_s3_session *s)
{
    if (!s) return;
    for (int i = 0; i < MP_S3_MAX_PARALLEL; i++) {
        if (s->easy[i]) {
            if (s->on[i]) curl_multi_remove_handle(s->multi, s->easy[i]);
            curl_easy_cleanup(s->easy[i]);
        }
        curl_slist_free_all(s->hdrs[i]);
    }
    curl_multi_cleanup(s->multi);
    free(s);
}

/* ------------------------------------------------------------ hashing */

static void to_hex(const unsigned char *md, unsigned n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

int mp__s3_sha256_fd(int fd, uint64_t off, uint64_t len, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) mp__die("s3: cannot start sha256");
    unsigned char *buf = mp__xmalloc(IO_BUFFER);
    int rc = 0;
    while (len > 0) {
        size_t want = len < IO_BUFFER ? (size_t)len : IO_BUFFER;
        ssize_t got = pread(fd, buf, want, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got == 0) errno = EIO; /* the file shrank under us */
            rc = MP_EIO;
            break;
        }
        if (!EVP_DigestUpdate(ctx, buf, (size_t)got)) mp__die("s3: sha256 failed");
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    free(buf);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_DigestFinal_ex(ctx, md, &mdlen)) mp__die("s3: sha256 failed");
    EVP_MD_CTX_free(ctx);
    if (!rc) to_hex(md, mdlen, hex);
    return rc;
}

void mp__s3_sha256_mem(const void *p, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL)) mp__die("s3: sha256 failed");
    to_hex(md, mdlen, hex);
}

/* ---------------------------------------------------------- callbacks */

static size_t on_read(char *dst, size_t size, size_t nmemb, void *data)
{
    mp_s3_req *r = data;
    size_t room = size * nmemb;
    if (r->in_mem) {
        size_t left = r->in_mem_len - (size_t)r->in_pos;
        size_t n = left < room ? left : room;
        memcpy(dst, r->in_mem + r->in_pos, n);
        r->in_pos += n;
        return n;
    }
    if (r->in_fd < 0) return 0;
    uint64_t left = r->in_len - r->in_pos;
    size_t want = left < room ? (size_t)left : room;
    if (want == 0) return 0;
    for (;;) {
        ssize_t got = pread(r->in_fd, dst, want, (off_t)(r->in_off + r->in_pos));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            r->local_errno = got == 0 ? EIO : errno; /* shrank: cannot send what was signed */
            return CURL_READFUNC_ABORT;
        }
        r->in_pos += (uint64_t)got;
        return (size_t)got;
    }
}

static int on_seek(void *data, curl_off_t offset, int origin)
{
    mp_s3_req *r = data;
    uint64_t total = r->in_mem ? r->in_mem_len : r->in_len;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > total) return CURL_SEEKFUNC_CANTSEEK;
    r->in_pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* curl passes the easy handle's private pointer through CURLINFO_PRIVATE. */
static size_t on_write(char *src, size_t size, size_t nmemb, void *data)
{
    mp_s3_req *r = data;
    size_t n = size * nmemb;
    if (r->out_fd >= 0 && r->status >= 200 && r->status < 300) {
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(r->out_fd, src + done, n - done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                r->local_errno = errno;
                return 0;
            }
            done += (size_t)w;
        }
        if (r->md5 && !EVP_DigestUpdate(r->md5, src, n)) mp__die("s3: md5 failed");
    } else {
        if (r->body.len + n > MP_S3_XML_MAX_BYTES) {
            r->too_big = true;
            return 0;
        }
        mp__strbuf_add(&r->body, src, n);
    }
    r->received += n;
    return n;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
                      size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':') return false;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *data)
{
    mp_s3_req *r = data;
    size_t n = size * nmemb;
    const char *v;
    size_t vlen;
    if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue): forget the last one's */
        const char *sp = memchr(line, ' ', n);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->etag[0] = r->content_type[0] = r->sse[0] = '\0';
        r->sse_c = false;
        r->content_length = -1;
    } else if (header_is(line, n, "etag", &v, &vlen)) {
        snprintf(r->etag, sizeof r->etag, "%.*s", (int)vlen, v);
    } else if (header_is(line, n, "content-length", &v, &vlen)) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.*s", (int)vlen, v);
        char *end = NULL;
        long long x = strtoll(tmp, &end, 10);
        r->content_length = end && end != tmp && !*end && x >= 0 ? x : -1;
    } else if (header_is(line, n, "content-type", &v, &vlen)) {
        snprintf(r->content_type, sizeof r->content_type, "%.*s", (int)vlen, v);
    } else if (header_is(line, n, "x-amz-server-side-encryption", &v, &vlen)) {
        snprintf(r->sse, sizeof r->sse, "%.*s", (int)vlen, v);
    } else if (header_is(line, n, "x-amz-server-side-encryption-customer-algorithm", &v, &vlen)) {
        r->sse_c = true;
    }
    return n;
}

/* ------------------------------------------------------------- setup */

static int reset_output(mp_s3_req *r)
{
    mp__strbuf_reset(&r->body);
    r->received = 0;
    r->status = 0;
    r->etag[0] = r->content_type[0] = '\0';
    r->content_length = -1;
    r->in_pos = 0;
    r->too_big = false;
    r->sse[0] = '\0';
    r->sse_c = false;
    if (r->check_md5) {
        if (!r->md5) r->md5 = EVP_MD_CTX_new();
        if (!r->md5 || !EVP_DigestInit_ex(r->md5, EVP_md5(), NULL)) mp__die("s3: cannot start md5");
    }
    if (r->out_fd >= 0 && (ftruncate(r->out_fd, 0) != 0 || lseek(r->out_fd, 0, SEEK_SET) != 0)) {
        r->local_errno = errno;
        return MP_EIO;
    }
    return 0;
}

static void setup(mp_s3_session *s, int slot, const mp_s3_config *cfg, mp_s3_req *r,
                  int64_t deadline)
{
    CURL *e = s->easy[slot];
    if (!e) {
        e = s->easy[slot] = curl_easy_init();
        if (!e) mp__die("s3: curl_easy_init failed");
    } else {
        curl_easy_reset(e); /* keeps the connections of the multi handle */
    }
    curl_slist_free_all(s->hdrs[slot]);
    s->hdrs[slot] = NULL;
    char line[256];
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", r->payload_sha256);
    struct curl_slist *h = curl_slist_append(NULL, line);
    if (cfg->token) {
        mp_strbuf t = MP_STRBUF_INIT;
        mp__strbuf_addf(&t, "x-amz-security-token: %s", cfg->token);
        h = curl_slist_append(h, t.buf);
        explicit_bzero(t.buf, t.len);
        mp__strbuf_release(&t);
    }
    if (!h) mp__die("s3: out of memory");
    s->hdrs[slot] = h;

    char sigv4[128];
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", cfg->region);
    s->errbuf[slot][0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf[slot]);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(e, CURLOPT_USERNAME, cfg->key_id);
    curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->secret);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)IO_BUFFER);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    int64_t left = mp__deadline_remaining_ms(deadline);
    if (left < 1) left = 1;
    if (left > LONG_MAX) left = LONG_MAX;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(left < CONNECT_TIMEOUT_MS ? left : CONNECT_TIMEOUT_MS));
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_SECONDS);

    bool has_body = r->in_fd >= 0 || r->in_mem;
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (has_body || strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
        /* every body goes through the read callback with a known size (no
         * form Content-Type that curl would add to a POST) */
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)(r->in_mem ? r->in_mem_len : r->in_fd >= 0 ? r->in_len : 0));
        curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)IO_BUFFER);
        if (strcmp(r->method, "PUT") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

/* Computes the payload hash when the caller left it empty. */
static int prepare(mp_s3_req *r, mp_error *err)
{
    if (r->payload_sha256[0]) return 0;
    if (r->in_mem) {
        mp__s3_sha256_mem(r->in_mem, r->in_mem_len, r->payload_sha256);
    } else if (r->in_fd >= 0) {
        if (mp__s3_sha256_fd(r->in_fd, r->in_off, r->in_len, r->payload_sha256))
            return mp__error(err, MP_EIO, r->what, "%s: cannot read the file to upload: %s", r->what,
                             strerror(errno));
    } else {
        memcpy(r->payload_sha256, EMPTY_SHA256, sizeof EMPTY_SHA256);
    }
    return 0;
}

/* The ETag of a single-part object without KMS or customer keys is the
 * MD5 of its bytes: "<32 hex>" with quotes. Anything else is not checked. */
static mp_s3_verdict check_md5(mp_s3_req *r, mp_error *err)
{
    const char *e = r->etag;
    size_t n = strlen(e);
    if (n != 34 || e[0] != '"' || e[33] != '"' || r->sse_c || strncmp(r->sse, "aws:kms", 7) == 0)
        return MP_S3_OK;
    for (size_t i = 1; i < 33; i++)
        if (!strchr("0123456789abcdefABCDEF", e[i])) return MP_S3_OK;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (!EVP_DigestFinal_ex(r->md5, md, &mdlen)) mp__die("s3: md5 failed");
    to_hex(md, mdlen, hex);
    if (strncasecmp(hex, e + 1, 32) == 0) return MP_S3_OK;
    mp__error(err, MP_EIO, r->what,
              "%s: the %llu bytes received do not match the object's ETag %s (replaced during "
              "the download, or corrupted on the way)",
              r->what, (unsigned long long)r->received, e);
    return MP_S3_RETRY;
}

/* ------------------------------------------------------------ the loop */

static void cancel_all(mp_s3_session *s, int parallel)
{
    for (int i = 0; i < parallel; i++)
        if (s->on[i]) {
            curl_multi_remove_handle(s->multi, s->easy[i]);
            s->on[i]->state = ST_WAITING;
            s->on[i] = NULL;
        }
}

static uint64_t rng_next(mp_s3_session *s)
{
    uint64_t x = s->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return s->rng = x;
}

int mp__s3_run(mp_s3_session *s, const mp_s3_config *cfg, mp_s3_req **reqs, size_t n,
               int parallel, int64_t deadline, mp_error *err)
{
    if (parallel < 1) parallel = 1;
    if (parallel > MP_S3_MAX_PARALLEL) parallel = MP_S3_MAX_PARALLEL;
    for (size_t i = 0; i < n; i++) {
        reqs[i]->state = ST_WAITING;
        reqs[i]->not_before = 0;
        reqs[i]->attempts = 0;
        reqs[i]->local_errno = 0;
    }
    size_t first = 0, done = 0;
    int active = 0, rc = 0;
    mp_error last = {0};
    while (done < n) {
        int64_t now = mp__clock_now_ms();
        if (mp__deadline_passed(deadline)) {
            mp_s3_req *r = NULL;
            for (size_t i = first; i < n && !r; i++)
                if (reqs[i]->state != ST_DONE) r = reqs[i];
            rc = mp__s3_fail_deadline(r, &last);
            break;
        }
        /* start what may start */
        int64_t next_start = MP_DEADLINE_NONE;
        while (first < n && reqs[first]->state == ST_DONE) first++;
        for (size_t i = first; i < n && active < parallel; i++) {
            mp_s3_req *r = reqs[i];
            if (r->state != ST_WAITING) continue;
            if (r->not_before > now) {
                next_start = mp__deadline_min(next_start, r->not_before);
                continue;
            }
            if ((rc = prepare(r, &last))) goto out;
            if (reset_output(r)) {
                rc = mp__error(&last, MP_EIO, r->what, "%s: cannot reset the download file: %s",
                               r->what, strerror(r->local_errno));
                goto out;
            }
            int slot = 0;
            while (s->on[slot]) slot++;
            setup(s, slot, cfg, r, deadline);
            s->on[slot] = r;
            r->state = ST_ACTIVE;
            r->attempts++;
            active++;
            CURLMcode mc = curl_multi_add_handle(s->multi, s->easy[slot]);
            if (mc != CURLM_OK) mp__die("s3: curl_multi_add_handle: %s", curl_multi_strerror(mc));
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK) mp__die("s3: curl_multi_perform: %s", curl_multi_strerror(mc));
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            int slot = 0;
            while (slot < parallel && s->easy[slot] != m->easy_handle) slot++;
            if (slot == parallel || !s->on[slot]) continue;
            mp_s3_req *r = s->on[slot];
            CURLcode res = m->data.result;
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (status) r->status = status;
            curl_multi_remove_handle(s->multi, m->easy_handle);
            s->on[slot] = NULL;
            active--;
            mp_s3_verdict v = mp__s3_judge(r, res, s->errbuf[slot], cfg, deadline, &last);
            if (v == MP_S3_OK && r->md5 && r->status >= 200 && r->status < 300)
                v = check_md5(r, &last);
            if (v == MP_S3_OK) {
                r->state = ST_DONE;
                done++;
            } else if (v == MP_S3_RETRY && r->attempts < cfg->max_attempts) {
                int64_t wait = mp__s3_backoff_ms(r->attempts, rng_next(s));
                int64_t at = mp__clock_now_ms() + wait;
                if (at >= deadline) {
                    rc = mp__s3_fail_after_retries(r, &last, true);
                    goto out;
                }
                r->not_before = at;
                r->state = ST_WAITING;
            } else {
                rc = v == MP_S3_RETRY ? mp__s3_fail_after_retries(r, &last, false) : last.code;
                if (!rc) rc = mp__error(&last, MP_EIO, r->what, "%s: failed", r->what);
                goto out;
            }
        }
        if (done == n) break;
        /* wait for sockets, the next retry, or the deadline */
        int64_t wake = deadline;
        if (active < parallel) wake = mp__deadline_min(wake, next_start);
        int64_t ms = mp__deadline_remaining_ms(wake);
        if (ms > 1000) ms = 1000;
        if (running > 0 || ms > 0) {
            mc = curl_multi_poll(s->multi, NULL, 0, (int)ms, NULL);
            if (mc != CURLM_OK) mp__die("s3: curl_multi_poll: %s", curl_multi_strerror(mc));
        }
    }
out:
    cancel_all(s, parallel);
    if (rc && err) *err = last;
    return rc;
}
