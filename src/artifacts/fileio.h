/*
 * fileio.h -- file helpers shared by the artifact manager and the file://
 * store: directories with parents, unique temporary names, and the atomic
 * copy (temp file in the target's directory, fsync, rename, fsync of the
 * directory) that store.h promises for put and get.
 *
 * Errors: 0 or a negative MP_E* with err filled; `where` is the path that
 * failed. Nothing here keeps state: every call is thread-safe.
 */
#ifndef MP_ARTIFACTS_FILEIO_H
#define MP_ARTIFACTS_FILEIO_H

#include "modpipe.h"

#include <stddef.h>
#include <stdint.h>

/* mkdir -p: every missing directory of `path` (itself included) with mode
 * 0777 & ~umask. An existing directory, or one another process creates
 * meanwhile, is success. */
int mp__art_mkdirs(const char *path, mp_error *err);
/* mkdir -p of the directory holding `path`. */
int mp__art_mkdirs_parent(const char *path, mp_error *err);

/* A temporary path next to `path`: "<dir>/.<base>.tmp.<pid>.<seq>.<rand>",
 * unique among threads and processes. Heap string, caller frees. */
char *mp__art_tmp_path(const char *path);

/* Copy the file `src` to `dst` atomically: `dst` either keeps what it was
 * or becomes a complete copy (fsync'ed before the rename, its directory
 * fsync'ed after). The copy gets mode 0644 & ~umask. MP_ENOENT when src is
 * missing (where = src), MP_ETIMEDOUT when the deadline passes (checked
 * between 1 MiB chunks), MP_EIO otherwise. `what` names the operation in
 * messages ("put", "get"). */
int mp__art_copy_atomic(const char *src, const char *dst, int64_t deadline, const char *what,
                        mp_error *err);

/* fsync of the directory holding `path`. */
int mp__art_fsync_parent(const char *path, mp_error *err);

/* Full write of n bytes to fd (EINTR retried). 0 or -errno. */
int mp__art_write_all(int fd, const void *buf, size_t n);

#endif
