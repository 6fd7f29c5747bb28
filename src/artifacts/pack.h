/*
 * pack.h -- an artifact's bytes: the matched files of a module as one
 * zstd-compressed tar (a "blob"), and back (DESIGN §3.6).
 *
 * Packing streams: each file is read in 1 MiB chunks into libarchive,
 * whose compressed output goes to a file while its sha256 is computed, so
 * memory stays flat whatever the artifact's size. The blob is
 * reproducible: entries in bytewise path order, mode kept, owner 0:0,
 * mtime 0, pax format (only the headers a long name or a big size needs),
 * zstd level 3; the same files give the same digest, so a store that has
 * the blob is not written again.
 *
 * Content: every regular file and symlink matched, a matched directory
 * standing for everything below it (hidden names included: the directory
 * was named); empty directories are not kept. Symlinks are stored as
 * symlinks (their target text), never followed. Last comes the manifest,
 * MP_PACK_MANIFEST at the root: JSON {"schema": "modpipe.manifest/v1",
 * "files": [{"path", "type": "file"|"symlink", "size", "mode", "sha256" |
 * "target"}]}. A matched file with that name is refused.
 *
 * A file that changes while it is read (its size, mtime or inode differs
 * before and after, or it yields more or fewer bytes than its size) fails
 * the pack: the blob is never a torn snapshot. Sockets, fifos and devices
 * are refused, and so is an unreadable file, naming it.
 *
 * Unpacking refuses (before writing the entry, naming it) absolute paths,
 * ".." segments, symlinks whose target is absolute or leaves the target
 * directory, hard links and special files, and any entry whose parent
 * directory resolves outside the target (through a symlink already
 * there). Files are written to a temporary name and renamed over what was
 * there (overwriting, never writing through a symlink). On failure --
 * refused entry, full disk, deadline, cancel -- every file this call
 * created is removed, and the temporary one.
 *
 * `cancel` may be NULL; when non-NULL and non-zero (set by another thread)
 * the call stops at the next chunk with MP_ESTATE. Deadlines are absolute
 * monotonic milliseconds (os/clock.h), checked between chunks.
 */
#ifndef MP_ARTIFACTS_PACK_H
#define MP_ARTIFACTS_PACK_H

#include "artifacts/glob.h"
#include "modpipe.h"

#include <stdatomic.h>
#include <stdint.h>

#define MP_PACK_MANIFEST ".modpipe-manifest.json"

typedef struct mp_pack_result {
    char digest[65]; /* sha256 of the blob, lower-case hex */
    uint64_t size;   /* bytes of the blob */
    size_t nfiles;   /* files and symlinks packed */
    char **files;    /* their relative paths, sorted */
} mp_pack_result;

void mp__pack_result_release(mp_pack_result *r); /* NULL-safe */

/* Pack `matches` (from mp__glob_run on `root`) into the new file `out`
 * (created exclusively, removed on failure). */
int mp__pack(const char *root, const mp_glob_result *matches, const char *out,
             const atomic_int *cancel, int64_t deadline, mp_pack_result *res, mp_error *err);

/* sha256 of a file as hex (streamed). */
int mp__sha256_file(const char *path, const atomic_int *cancel, int64_t deadline, char hex[65],
                    mp_error *err);

typedef struct mp_unpack_stats {
    uint64_t files, bytes; /* entries written, their bytes */
} mp_unpack_stats;

/* Extract the blob `blob` into the directory `target` (created when
 * missing). stats may be NULL. */
int mp__unpack(const char *blob, const char *target, const atomic_int *cancel, int64_t deadline,
               mp_unpack_stats *stats, mp_error *err);

#endif
