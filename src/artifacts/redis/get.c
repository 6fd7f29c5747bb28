/*
 * get.c -- the redis:// store's get: metadata, then chunk after chunk
 * into a temporary file next to the target, every length and the sha256
 * checked before the rename (see rstore.h).
 */
#include "artifacts/fileio.h"
#include "artifacts/redis/rstore_int.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESTARTS_MAX 8 /* objects replaced under one get */

/* A chunk was missing: 1 when the object was replaced meanwhile (start
 * again), else the error for a missing chunk (or the object deleted). */
static int chunk_missing(rstore *r, mp_redis *c, const char *key, const rstore_meta *m,
                         uint64_t i, int64_t deadline, mp_error *err)
{
    rstore_meta now;
    int rc = mp__rstore_meta_read(r, c, key, deadline, &now, err);
    if (rc < 0) return rc;
    if (rc == 0) return mp__error(err, MP_ENOENT, key, "no object '%s' in the store", key);
    if (strcmp(now.gen, m->gen) != 0) return 1;
    return mp__error(err, MP_EIO, key,
                     "get '%s': chunk %llu of %llu is missing (expired or evicted?) (%s)", key,
                     (unsigned long long)i, (unsigned long long)m->chunks,
                     mp__redis_pool_url(r->pool));
}

static int corrupt(rstore *r, const char *key, mp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int corrupt(rstore *r, const char *key, mp_error *err, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mp__error(err, MP_EIO, key, "get '%s': corrupt object: %s (%s)", key, what,
                     mp__redis_pool_url(r->pool));
}

/* Stream the chunks of m into fd: 0, 1 (replaced: start again) or < 0. */
static int fetch(rstore *r, mp_redis *c, const char *key, const rstore_meta *m, int fd,
                 const char *tmp, int64_t deadline, mp_error *err)
{
    if (m->chunks > (m->size + (m->chunk_size ? m->chunk_size - 1 : 0)) /
                        (m->chunk_size ? m->chunk_size : 1) ||
        (m->size > 0 && m->chunks == 0))
        return corrupt(r, key, err, "%llu chunks cannot hold %llu bytes",
                       (unsigned long long)m->chunks, (unsigned long long)m->size);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        mp__die("redis store: cannot start a SHA-256 digest");
    uint64_t got = 0;
    int rc = 0;
    for (uint64_t i = 0; rc == 0 && i < m->chunks; i++) {
        char *ck = mp__rstore_chunk_key(r, m->gen, i);
        const char *argv[] = {"GET", ck};
        redisReply *rep = NULL;
        rc = mp__redis_command(c, deadline, 2, argv, NULL, &rep, err);
        free(ck);
        if (rc < 0) {
            rc = mp__rstore_fail(r, "get", key, rc, err);
            break;
        }
        if (rep->type == REDIS_REPLY_NIL) {
            rc = chunk_missing(r, c, key, m, i, deadline, err);
        } else if (rep->type != REDIS_REPLY_STRING) {
            rc = corrupt(r, key, err, "chunk %llu of %llu is not a string",
                         (unsigned long long)i, (unsigned long long)m->chunks);
        } else if ((i + 1 < m->chunks && rep->len != m->chunk_size) ||
                   got + rep->len > m->size) {
            rc = corrupt(r, key, err, "chunk %llu of %llu is %llu bytes long",
                         (unsigned long long)i, (unsigned long long)m->chunks,
                         (unsigned long long)rep->len);
        } else {
            EVP_DigestUpdate(md, rep->str, rep->len);
            int w = mp__art_write_all(fd, rep->str, rep->len);
            if (w < 0)
                rc = mp__error(err, MP_EIO, tmp, "get '%s': cannot write %s: %s", key, tmp,
                               strerror(-w));
            got += rep->len;
        }
        freeReplyObject(rep);
    }
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_DigestFinal_ex(md, dig, &dn);
    EVP_MD_CTX_free(md);
    if (rc != 0) return rc;
    if (got != m->size)
        return corrupt(r, key, err, "its chunks hold %llu bytes, the metadata says %llu",
                       (unsigned long long)got, (unsigned long long)m->size);
    char hex[65];
    for (unsigned int i = 0; i < dn && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    if (strcmp(hex, m->sha256) != 0)
        return mp__error(err, MP_EIO, key,
                         "get '%s': corrupt object: sha256 of its chunks is %s, the metadata "
                         "says %s (%s)",
                         key, hex, m->sha256, mp__redis_pool_url(r->pool));
    return 0;
}

static int rewind_file(int fd, const char *key, const char *tmp, mp_error *err)
{
    if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0) return 0;
    return mp__error(err, MP_EIO, tmp, "get '%s': cannot truncate %s: %s", key, tmp,
                     strerror(errno));
}

int mp__rstore_get(mp_store *s, const char *key, const char *path, int64_t deadline,
                   mp_error *err)
{
    rstore *r = mp__rstore_downcast(s);
    mp_redis *c = NULL;
    int rc = mp__rstore_conn(r, "get", key, deadline, &c, err);
    if (rc < 0) return rc;
    rstore_meta m;
    rc = mp__rstore_meta_read(r, c, key, deadline, &m, err);
    if (rc == 0) rc = mp__error(err, MP_ENOENT, key, "no object '%s' in the store", key);
    if (rc < 0) {
        mp__redis_pool_put(r->pool, c);
        return rc;
    }
    char *tmp = mp__art_tmp_path(path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = mp__error(err, MP_EIO, tmp, "get '%s': cannot create %s: %s", key, tmp,
                       strerror(errno));
        mp__redis_pool_put(r->pool, c);
        free(tmp);
        return rc;
    }
    for (int restarts = 0;; restarts++) {
        rc = fetch(r, c, key, &m, fd, tmp, deadline, err);
        if (rc != 1) break;
        if (restarts == RESTARTS_MAX) {
            rc = mp__error(err, MP_EIO, key, "get '%s': replaced %d times while reading it", key,
                           RESTARTS_MAX);
            break;
        }
        rc = mp__rstore_meta_read(r, c, key, deadline, &m, err);
        if (rc == 0) rc = mp__error(err, MP_ENOENT, key, "no object '%s' in the store", key);
        if (rc < 0) break;
        rc = rewind_file(fd, key, tmp, err);
        if (rc < 0) break;
    }
    mp__redis_pool_put(r->pool, c);
    if (rc == 0 && fsync(fd) < 0)
        rc = mp__error(err, MP_EIO, tmp, "get '%s': cannot sync %s: %s", key, tmp,
                       strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = mp__error(err, MP_EIO, tmp, "get '%s': cannot write %s: %s", key, tmp,
                       strerror(errno));
    if (rc == 0 && rename(tmp, path) < 0)
        rc = mp__error(err, MP_EIO, path, "get '%s': cannot rename into %s: %s", key, path,
                       strerror(errno));
    if (rc < 0) unlink(tmp);
    if (rc == 0) rc = mp__art_fsync_parent(path, err);
    free(tmp);
    return rc;
}
