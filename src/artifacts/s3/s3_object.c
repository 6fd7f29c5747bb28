/*
 * s3_object.c -- whole-object transfers: PUT from a file (multipart above
 * the threshold, s3_multipart.c) and GET into a file (temp file + rename).
 */
#include "artifacts/s3/s3_client_int.h"
#include "artifacts/s3/s3_url.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mp__s3_put_file(mp_s3_client *c, const char *key, const char *path, int64_t deadline,
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
