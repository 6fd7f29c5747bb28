/*
 * fs.h -- the `file://` artifact store: a directory, on a local disk or a
 * shared mount, holding one file per key (the reference backend of
 * store.h; contract there).
 *
 * URL: file:///absolute/dir (no host, no query, no percent-escapes). The
 * directory is created (with parents) at open when missing.
 *
 * How it keeps store.h's promises:
 *   - key "a/b/c" is the file <dir>/a/b/c; parent directories are created
 *     on put (mkdir races between processes are fine: EEXIST is success);
 *   - put copies the source into <dir>/a/b/.c.tmp.<pid>.<n>.<rand>
 *     (O_EXCL), fsyncs it, renames it over <dir>/a/b/c and fsyncs the
 *     directory, so several processes sharing the directory never see a
 *     partial object and a crash never leaves one under a key; temporary
 *     names start with '.', which no key segment does, so list skips them;
 *   - get does the same into the target's directory;
 *   - the deadline is checked between 1 MiB chunks (local disk calls
 *     cannot be interrupted; a chunk is the bound).
 * Leftover temporary files (from a killed process) are never listed and
 * may be removed by hand; they never become keys.
 */
#ifndef MP_ARTIFACTS_FS_FS_H
#define MP_ARTIFACTS_FS_FS_H

#include "artifacts/store.h"

extern const mp_store_vtable mp__store_fs_vtable;

#endif
