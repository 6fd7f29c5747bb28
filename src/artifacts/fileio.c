/* fileio.c -- see fileio.h. */
#include "artifacts/fileio.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

int mp__art_mkdirs(const char *path, mp_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        return mp__error(err, MP_EIO, path, "cannot create directory: a file is in the way");
    }
    char *copy = mp__xstrdup(path);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/') copy[--n] = '\0';
    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(copy, 0777) < 0 && errno != EEXIST) {
                int e = errno;
                int rc = mp__error(err, MP_EIO, copy, "cannot create directory: %s", strerror(e));
                free(copy);
                return rc;
            }
            *p = c;
            if (c == '\0') break;
        }
    }
    free(copy);
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return mp__error(err, MP_EIO, path, "cannot create directory: a file is in the way");
    return 0;
}

int mp__art_mkdirs_parent(const char *path, mp_error *err)
{
    char *copy = mp__xstrdup(path);
    char *slash = strrchr(copy, '/');
    int rc = 0;
    if (slash && slash != copy) {
        *slash = '\0';
        rc = mp__art_mkdirs(copy, err);
    }
    free(copy);
    return rc;
}

char *mp__art_tmp_path(const char *path)
{
    static atomic_uint seq;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash + 1 - path) : 0;
    const char *base = slash ? slash + 1 : path;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned r = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16);
    size_t n = dirlen + strlen(base) + 64;
    char *out = mp__xmalloc(n);
    snprintf(out, n, "%.*s.%s.tmp.%d.%u.%08x", (int)dirlen, path, base, (int)getpid(),
             atomic_fetch_add(&seq, 1) + 1, r);
    return out;
}

int mp__art_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int mp__art_fsync_parent(const char *path, mp_error *err)
{
    char *copy = mp__xstrdup(path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
        rc = mp__error(err, MP_EIO, dir, "cannot sync directory: %s", strerror(errno));
    if (fd >= 0) close(fd);
    free(copy);
    return rc;
}

int mp__art_copy_atomic(const char *src, const char *dst, int64_t deadline, const char *what,
                        mp_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        int e = errno;
        return mp__error(err, e == ENOENT ? MP_ENOENT : MP_EIO, src, "%s: cannot open: %s", what,
                         strerror(e));
    }
    char *tmp = mp__art_tmp_path(dst);
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = 0;
    if (out < 0) {
        rc = mp__error(err, MP_EIO, tmp, "%s: cannot create: %s", what, strerror(errno));
        goto done;
    }
    char *buf = mp__xmalloc(CHUNK);
    for (;;) {
        if (mp__deadline_passed(deadline)) {
            rc = mp__error(err, MP_ETIMEDOUT, dst, "%s: deadline passed while copying", what);
            break;
        }
        ssize_t r = read(in, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = mp__error(err, MP_EIO, src, "%s: cannot read: %s", what, strerror(errno));
            break;
        }
        if (r == 0) break;
        int w = mp__art_write_all(out, buf, (size_t)r);
        if (w < 0) {
            rc = mp__error(err, MP_EIO, dst, "%s: cannot write: %s", what, strerror(-w));
            break;
        }
    }
    free(buf);
    if (rc == 0 && fsync(out) < 0)
        rc = mp__error(err, MP_EIO, dst, "%s: cannot sync: %s", what, strerror(errno));
    if (close(out) < 0 && rc == 0)
        rc = mp__error(err, MP_EIO, dst, "%s: cannot write: %s", what, strerror(errno));
    if (rc == 0 && rename(tmp, dst) < 0)
        rc = mp__error(err, MP_EIO, dst, "%s: cannot rename into place: %s", what,
                       strerror(errno));
    if (rc < 0) unlink(tmp);
    if (rc == 0) rc = mp__art_fsync_parent(dst, err);
done:
    close(in);
    free(tmp);
    return rc;
}
