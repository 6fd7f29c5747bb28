/*
 * s3_object.c -- whole-object transfers: PUT from a file (multipart above
 * the threshold, s3_multipart.c) and GET into a file (temp file + rename).
 */
#include "artifacts/s3/s3_client_int.h"
#include "artifacts/s3/s3_url.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <pthread.h>
#include <time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One put per key at a time in this client. S3 makes a replace atomic by
 * itself, but S3-compatible servers that write objects in place (s3rver)
 * end up with one writer's bytes under another's ETag when two PUTs of a
 * key overlap; a get then fails its MD5 check forever. Waiting here costs
 * nothing real: concurrent puts of one key are duplicate work (keys are
 * content addresses). Returns 0 with the key marked, or MP_ETIMEDOUT. */
static int key_lock(mp_s3_client *c, const char *key, int64_t deadline, mp_error *err)
{
    pthread_mutex_lock(&c->mu);
    for (;;) {
        bool busy = false;
        for (size_t i = 0; i < c->putting.n && !busy; i++)
            busy = strcmp(c->putting.keys[i], key) == 0;
        if (!busy) break;
        if (mp__deadline_passed(deadline)) {
            pthread_mutex_unlock(&c->mu);
            return mp__error(err, MP_ETIMEDOUT, key,
                             "put s3://%s/%s: deadline passed while another put of the key ran",
                             c->cfg.bucket, key);
        }
        int64_t ms = mp__deadline_remaining_ms(deadline);
        if (ms > 1000) ms = 1000;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->put_done, &c->mu, &ts);
    }
    mp_s3_putting *p = &c->putting;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->keys = mp__xrealloc(p->keys, mp__xmul(p->cap, sizeof *p->keys));
    }
    p->keys[p->n++] = (char *)key;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void key_unlock(mp_s3_client *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    mp_s3_putting *p = &c->putting;
    for (size_t i = 0; i < p->n; i++)
        if (p->keys[i] == key) {
            p->keys[i] = p->keys[--p->n];
            break;
        }
    pthread_cond_broadcast(&c->put_done);
    pthread_mutex_unlock(&c->mu);
}

static int put_file(mp_s3_client *c, const char *key, const char *path, int64_t deadline,
                    mp_error *err);

int mp__s3_put_file(mp_s3_client *c, const char *key, const char *path, int64_t deadline,
                    mp_error *err)
{
    int rc = key_lock(c, key, deadline, err);
    if (rc) return rc;
    rc = put_file(c, key, path, deadline, err);
    key_unlock(c, key);
    return rc;
}

static int put_file(mp_s3_client *c, const char *key, const char *path, int64_t deadline,
                    mp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mp__error(err, errno == ENOENT ? MP_ENOENT : MP_EIO, path,
                         "cannot open %s for upload: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        return mp__error(err, MP_EIO, path, "cannot upload %s: %s", path,
                         S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
    }
    char *ok = mp__s3_config_object_key(&c->cfg, key);
    int rc;
    if ((uint64_t)st.st_size > c->cfg.multipart_threshold) {
        rc = mp__s3_put_multipart(c, ok, fd, (uint64_t)st.st_size, deadline, err);
    } else {
        mp_s3_req r;
        mp__s3_req_init(&r, "PUT", mp__s3_request_url(&c->cfg, ok, NULL), mp__s3_what(c, "PUT", ok));
        r.in_fd = fd;
        r.in_off = 0;
        r.in_len = (uint64_t)st.st_size;
        rc = mp__s3_run_one(c, &r, deadline, err);
        mp__s3_req_release(&r);
    }
    free(ok);
    close(fd);
    return rc;
}

int mp__s3_get_file(mp_s3_client *c, const char *key, const char *dest, uint64_t *size_out,
                    int64_t deadline, mp_error *err)
{
    /* a hidden name in dest's directory: ".<base>.s3tmp-XXXXXX" */
    mp_strbuf tmp = MP_STRBUF_INIT;
    const char *base = strrchr(dest, '/');
    base = base ? base + 1 : dest;
    mp__strbuf_addf(&tmp, "%.*s.%s.s3tmp-XXXXXX", (int)(base - dest), dest, base);
    int fd = mkostemp(tmp.buf, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        mp__strbuf_release(&tmp);
        return mp__error(err, MP_EIO, dest, "cannot create a temporary file beside %s: %s", dest,
                         strerror(e));
    }
    char *ok = mp__s3_config_object_key(&c->cfg, key);
    mp_s3_req r;
    mp__s3_req_init(&r, "GET", mp__s3_request_url(&c->cfg, ok, NULL), mp__s3_what(c, "GET", ok));
    r.out_fd = fd;
    r.check_md5 = true;
    int rc = mp__s3_run_one(c, &r, deadline, err);
    if (!rc && r.content_length >= 0 && r.received != (uint64_t)r.content_length)
        rc = mp__error(err, MP_EIO, r.what, "%s: got %llu bytes where Content-Length said %lld",
                       r.what, (unsigned long long)r.received, (long long)r.content_length);
    if (!rc && fsync(fd) != 0)
        rc = mp__error(err, MP_EIO, dest, "cannot write %s: %s", tmp.buf, strerror(errno));
    int crc = close(fd);
    if (!rc && crc != 0)
        rc = mp__error(err, MP_EIO, dest, "cannot write %s: %s", tmp.buf, strerror(errno));
    if (!rc && rename(tmp.buf, dest) != 0)
        rc = mp__error(err, MP_EIO, dest, "cannot rename %s to %s: %s", tmp.buf, dest, strerror(errno));
    if (!rc && size_out) *size_out = r.received;
    if (rc) unlink(tmp.buf);
    mp__s3_req_release(&r);
    mp__strbuf_release(&tmp);
    free(ok);
    return rc;
}
