/*
 * put.c -- the redis:// store's put: the file streamed one chunk at a
 * time into the chunks of a fresh upload id, then the commit script
 * writes the metadata last (see rstore.h).
 */
#include "artifacts/redis/rstore_int.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* "<pid>-<seq>-<16 hex random>": unique among threads and processes. */
static void make_gen(char *buf, size_t size)
{
    static atomic_uint seq;
    unsigned char rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        mp__die("redis store: getrandom failed for an upload id");
    int n = snprintf(buf, size, "%d-%u-", (int)getpid(), atomic_fetch_add(&seq, 1) + 1);
    for (size_t i = 0; i < sizeof rnd && n > 0 && (size_t)n + 2 < size; i++, n += 2)
        snprintf(buf + n, size - (size_t)n, "%02x", rnd[i]);
}

/* Read up to n bytes (fewer only at the end of the file): bytes read,
 * or -errno. */
static ssize_t read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

typedef struct upload {
    rstore *r;
    mp_redis *c;
    const char *key;
    char gen[RSTORE_GEN_MAX + 1];
    uint64_t chunks; /* written so far */
    uint64_t size;
    char sha256[65];
} upload;

/* Chunk after chunk from fd; the digest of what was read into u->sha256. */
static int send_chunks(upload *u, int fd, const char *path, int64_t deadline, mp_error *err)
{
    rstore *r = u->r;
    char *buf = mp__xmalloc(r->chunk);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        mp__die("redis store: cannot start a SHA-256 digest");
    int rc = 0;
    for (;;) {
        ssize_t n = read_full(fd, buf, r->chunk);
        if (n < 0) {
            rc = mp__error(err, MP_EIO, path, "put '%s': cannot read %s: %s", u->key, path,
                           strerror((int)-n));
            break;
        }
        if (n == 0 && u->chunks > 0) break;
        if (u->size + (uint64_t)n > r->max_size) { /* the file grew since fstat */
            rc = mp__error(err, MP_EINVAL, u->key,
                           "put '%s': %s grew beyond the store's max_size of %llu bytes", u->key,
                           path, (unsigned long long)r->max_size);
            break;
        }
        if (n == 0) break; /* an empty object: no chunk at all */
        EVP_DigestUpdate(md, buf, (size_t)n);
        char *ck = mp__rstore_chunk_key(r, u->gen, u->chunks);
        const char *argv[] = {"SET", ck, buf, "PX", r->ttl_arg};
        const size_t lens[] = {3, strlen(ck), (size_t)n, 2, strlen(r->ttl_arg)};
        rc = mp__redis_command(u->c, deadline, 5, argv, lens, NULL, err);
        free(ck);
        if (rc < 0) {
            rc = mp__rstore_fail(r, "put", u->key, rc, err);
            break;
        }
        u->chunks++;
        u->size += (uint64_t)n;
        if ((size_t)n < r->chunk) break;
    }
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_DigestFinal_ex(md, dig, &dn);
    for (unsigned int i = 0; i < dn && i < 32; i++) snprintf(u->sha256 + 2 * i, 3, "%02x", dig[i]);
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

static int commit(upload *u, int64_t deadline, mp_error *err)
{
    rstore *r = u->r;
    char *mk = mp__rstore_meta_key(r, u->key);
    char *cp = mp__rstore_chunk_prefix(r);
    char size[24], chunks[24], csize[24];
    snprintf(size, sizeof size, "%llu", (unsigned long long)u->size);
    snprintf(chunks, sizeof chunks, "%llu", (unsigned long long)u->chunks);
    snprintf(csize, sizeof csize, "%llu", (unsigned long long)r->chunk);
    const char *argv[] = {mk, cp, RSTORE_FORMAT, u->gen, size, chunks, csize, u->sha256,
                          r->ttl_arg};
    int rc = mp__redis_eval(u->c, &mp__rstore_commit, deadline, 1, 9, argv, NULL, NULL, err);
    free(mk);
    free(cp);
    return rc < 0 ? mp__rstore_fail(r, "put", u->key, rc, err) : 0;
}

/* Best effort after a failure: unlink the chunks written, while the
 * deadline allows (those left expire with the store's ttl). */
static void drop_chunks(upload *u, int64_t deadline)
{
    for (uint64_t i = 0; i < u->chunks && !mp__deadline_passed(deadline); i++) {
        char *ck = mp__rstore_chunk_key(u->r, u->gen, i);
        const char *argv[] = {"UNLINK", ck};
        int rc = mp__redis_command(u->c, deadline, 2, argv, NULL, NULL, NULL);
        free(ck);
        if (rc < 0) break;
    }
}

int mp__rstore_put(mp_store *s, const char *key, const char *path, int64_t deadline,
                   mp_error *err)
{
    rstore *r = mp__rstore_downcast(s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return mp__error(err, e == ENOENT ? MP_ENOENT : MP_EIO, path, "put '%s': cannot open %s: %s",
                         key, path, strerror(e));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = mp__error(err, MP_EIO, path, "put '%s': cannot stat %s: %s", key, path,
                       strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = mp__error(err, MP_EIO, path, "put '%s': %s is not a regular file", key, path);
    else if ((uint64_t)st.st_size > r->max_size)
        rc = mp__error(err, MP_EINVAL, key,
                       "put '%s': %s is %llu bytes, over the store's max_size of %llu bytes "
                       "(raise max_size= in the store URL, or use another store)",
                       key, path, (unsigned long long)st.st_size,
                       (unsigned long long)r->max_size);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    upload u = {.r = r, .key = key};
    make_gen(u.gen, sizeof u.gen);
    rc = mp__rstore_conn(r, "put", key, deadline, &u.c, err);
    if (rc == 0) {
        rc = send_chunks(&u, fd, path, deadline, err);
        if (rc < 0)
            drop_chunks(&u, deadline);
        else /* a commit whose answer was lost may have happened: keep the chunks */
            rc = commit(&u, deadline, err);
        mp__redis_pool_put(r->pool, u.c);
    }
    close(fd);
    return rc;
}
