/* unpack.c -- extracting a blob into a directory, refusing entries that
 * would escape it (see pack.h). */
#include "artifacts/fileio.h"
#include "artifacts/pack.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)

typedef struct unpacker {
    const char *target;
    char *real_target; /* realpath of target */
    size_t real_len;
    const atomic_int *cancel;
    int64_t deadline;
    mp_error *err;
    char **created; /* files this call created (removed on failure) */
    size_t ncreated, cap;
    char *tmp; /* the temporary file being written, if any */
} unpacker;

static void remember(unpacker *u, const char *path)
{
    if (u->ncreated == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 64;
        u->created = mp__xrealloc(u->created, mp__xmul(u->cap, sizeof(char *)));
    }
    u->created[u->ncreated++] = mp__xstrdup(path);
}

static int refuse(unpacker *u, const char *name, const char *why)
{
    return mp__error(u->err, MP_EINVAL, name, "refused artifact entry '%s': %s", name, why);
}

/* Is the entry path safe: relative, no "..", no empty name? */
static const char *path_problem(const char *name)
{
    if (!*name) return "empty name";
    if (name[0] == '/') return "absolute path";
    const char *s = name;
    while (*s) {
        size_t l = strcspn(s, "/");
        if (l == 2 && s[0] == '.' && s[1] == '.') return "contains '..'";
        s += l;
        while (*s == '/') s++;
    }
    return NULL;
}

/* Does a symlink at `name` with text `target` stay inside the root? */
static bool link_inside(const char *name, const char *target)
{
    if (target[0] == '/' || !*target) return false;
    long depth = 0;
    /* The directory holding the link. */
    const char *s = name;
    while (*s) {
        size_t l = strcspn(s, "/");
        const char *next = s + l;
        while (*next == '/') next++;
        if (!*next) break; /* the last component is the link itself */
        if (!(l == 1 && s[0] == '.')) depth++;
        s = next;
    }
    s = target;
    while (*s) {
        size_t l = strcspn(s, "/");
        if (l == 2 && s[0] == '.' && s[1] == '.') {
            if (--depth < 0) return false;
        } else if (l && !(l == 1 && s[0] == '.')) {
            depth++;
        }
        s += l;
        while (*s == '/') s++;
    }
    return true;
}

/* Create the parents of target/name and check they resolve inside. */
static int parent_ok(unpacker *u, const char *name, const char *full)
{
    int rc = mp__art_mkdirs_parent(full, u->err);
    if (rc < 0) return rc;
    char *copy = mp__xstrdup(full);
    char *slash = strrchr(copy, '/');
    *slash = '\0';
    char real[PATH_MAX];
    if (!realpath(copy, real)) {
        free(copy);
        return mp__error(u->err, MP_EIO, name, "cannot resolve the directory of '%s': %s", name,
                         strerror(errno));
    }
    free(copy);
    if (strncmp(real, u->real_target, u->real_len) != 0 ||
        (real[u->real_len] != '/' && real[u->real_len] != '\0'))
        return refuse(u, name, "its directory is a symlink leading out of the target");
    return 0;
}

static int stopped(unpacker *u, const char *name)
{
    if (u->cancel && atomic_load(u->cancel))
        return mp__error(u->err, MP_ESTATE, name, "extraction cancelled");
    if (mp__deadline_passed(u->deadline))
        return mp__error(u->err, MP_ETIMEDOUT, name, "deadline passed during extraction");
    return 0;
}

static int write_file(unpacker *u, struct archive *a, const char *name, const char *full,
                      unsigned perm, int64_t size, mp_unpack_stats *st)
{
    u->tmp = mp__art_tmp_path(full);
    int fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return mp__error(u->err, MP_EIO, name, "cannot create '%s': %s", full, strerror(errno));
    int rc = 0;
    uint64_t end = 0;
    for (;;) {
        if ((rc = stopped(u, name)) < 0) break;
        const void *block;
        size_t len;
        la_int64_t off;
        int r = archive_read_data_block(a, &block, &len, &off); /* no copy */
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = mp__error(u->err, MP_EIO, name, "corrupt artifact at '%s': %s", name,
                           archive_error_string(a));
            break;
        }
        if (off < 0 || (uint64_t)off != end) { /* a hole (sparse entry): seek over it */
            if (off < 0 || lseek(fd, off, SEEK_SET) < 0) {
                rc = mp__error(u->err, MP_EIO, name, "cannot write '%s': bad offset", full);
                break;
            }
        }
        int w = mp__art_write_all(fd, block, len);
        if (w < 0) {
            rc = mp__error(u->err, MP_EIO, name, "cannot write '%s': %s", full, strerror(-w));
            break;
        }
        end = (uint64_t)off + len;
        st->bytes += len;
    }
    if (rc == 0 && size > 0 && (uint64_t)size > end && ftruncate(fd, (off_t)size) < 0)
        rc = mp__error(u->err, MP_EIO, name, "cannot write '%s': %s", full, strerror(errno));
    if (rc == 0 && fchmod(fd, perm) < 0)
        rc = mp__error(u->err, MP_EIO, name, "cannot set the mode of '%s': %s", full,
                       strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = mp__error(u->err, MP_EIO, name, "cannot write '%s': %s", full, strerror(errno));
    if (rc == 0 && rename(u->tmp, full) < 0)
        rc = mp__error(u->err, MP_EIO, name, "cannot put '%s' in place: %s", full,
                       strerror(errno));
    if (rc < 0) unlink(u->tmp);
    free(u->tmp);
    u->tmp = NULL;
    if (rc == 0) remember(u, full);
    return rc;
}

static int write_link(unpacker *u, const char *name, const char *full, const char *target)
{
    u->tmp = mp__art_tmp_path(full);
    int rc = 0;
    if (symlink(target, u->tmp) < 0)
        rc = mp__error(u->err, MP_EIO, name, "cannot create symlink '%s': %s", full,
                       strerror(errno));
    else if (rename(u->tmp, full) < 0) {
        rc = mp__error(u->err, MP_EIO, name, "cannot put '%s' in place: %s", full,
                       strerror(errno));
        unlink(u->tmp);
    }
    free(u->tmp);
    u->tmp = NULL;
    if (rc == 0) remember(u, full);
    return rc;
}

static int one_entry(unpacker *u, struct archive *a, struct archive_entry *en,
                     mp_unpack_stats *st)
{
    const char *name = archive_entry_pathname(en);
    if (!name) return refuse(u, "(unnamed)", "no name");
    const char *why = path_problem(name);
    if (why) return refuse(u, name, why);
    if (strcmp(name, MP_PACK_MANIFEST) == 0) return 0; /* read over, never written */
    mode_t type = archive_entry_filetype(en);
    if (archive_entry_hardlink(en)) return refuse(u, name, "hard links are not supported");
    mp_strbuf full = MP_STRBUF_INIT;
    mp__strbuf_addf(&full, "%s/%s", u->target, name);
    while (full.len > 1 && full.buf[full.len - 1] == '/') full.buf[--full.len] = '\0';
    int rc;
    if (type == AE_IFDIR) {
        rc = parent_ok(u, name, full.buf);
        if (rc == 0) rc = mp__art_mkdirs(full.buf, u->err);
    } else if (type == AE_IFLNK) {
        const char *target = archive_entry_symlink(en);
        if (!target || !link_inside(name, target))
            rc = refuse(u, name, "symlink pointing out of the target directory");
        else if ((rc = parent_ok(u, name, full.buf)) == 0)
            rc = write_link(u, name, full.buf, target);
    } else if (type == AE_IFREG) {
        rc = parent_ok(u, name, full.buf);
        if (rc == 0)
            rc = write_file(u, a, name, full.buf, (unsigned)(archive_entry_perm(en) & 07777),
                            archive_entry_size_is_set(en) ? archive_entry_size(en) : 0, st);
    } else {
        rc = refuse(u, name, "not a regular file, directory or symlink");
    }
    if (rc == 0 && type != AE_IFDIR) st->files++;
    mp__strbuf_release(&full);
    return rc;
}

int mp__unpack(const char *blob, const char *target, const atomic_int *cancel, int64_t deadline,
               mp_unpack_stats *stats, mp_error *err)
{
    mp_unpack_stats local = {0};
    mp_unpack_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    int rc = mp__art_mkdirs(target, err);
    if (rc < 0) return rc;
    unpacker u = {.target = target, .cancel = cancel, .deadline = deadline, .err = err};
    u.real_target = realpath(target, NULL);
    if (!u.real_target)
        return mp__error(err, MP_EIO, target, "cannot resolve '%s': %s", target, strerror(errno));
    u.real_len = strlen(u.real_target);
    if (u.real_len == 1) u.real_len = 0; /* "/" */
    struct archive *a = archive_read_new();
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, blob, CHUNK) != ARCHIVE_OK) {
        rc = mp__error(err, errno == ENOENT ? MP_ENOENT : MP_EIO, blob,
                       "cannot open artifact '%s': %s", blob, archive_error_string(a));
    } else {
        struct archive_entry *en;
        for (;;) {
            if ((rc = stopped(&u, blob)) < 0) break;
            int r = archive_read_next_header(a, &en);
            if (r == ARCHIVE_EOF) break;
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                rc = mp__error(err, MP_EIO, blob, "corrupt artifact '%s': %s", blob,
                               archive_error_string(a));
                break;
            }
            if ((rc = one_entry(&u, a, en, st)) < 0) break;
        }
    }
    archive_read_free(a);
    for (size_t i = 0; i < u.ncreated; i++) {
        if (rc < 0) unlink(u.created[i]);
        free(u.created[i]);
    }
    free(u.created);
    free(u.real_target);
    return rc;
}
