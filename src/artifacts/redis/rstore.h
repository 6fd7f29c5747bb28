/*
 * rstore.h -- the `redis://` artifact store: objects kept in a Redis
 * server, in chunks (contract in artifacts/store.h; URL options and
 * operations in docs/artifacts-redis.md).
 *
 * URL: redis://[user:pass@]host[:port][/db][?prefix=..&ttl=..&chunk=..&max_size=..]
 * (password rules of redis/redis.h, MODPIPE_REDIS_PASSWORD included;
 * any other query key is refused).
 *
 * Layout, for a store key K under the URL's prefix P (default
 * "modpipe/art"):
 *   P/K                  a hash, the object's metadata: format
 *                        ("modpipe.rstore/1"), size, chunks, chunk_size,
 *                        sha256 (hex of the whole object) and gen (the
 *                        upload id naming its chunks)
 *   P/.chunks/<gen>/<i>  string i (0-based) of the object's bytes; every
 *                        chunk but the last is chunk_size bytes long
 * Store keys never have a segment starting with '.', so P/.chunks/...
 * never clashes with an object, and list never returns it.
 *
 * How it keeps store.h's promises:
 *   - put streams the file one chunk at a time (one buffer of chunk
 *     bytes, never the whole object) into chunks of a fresh upload id,
 *     each SET with the store's expiry, hashing as it goes; then one
 *     script ("commit") checks every chunk is there and, atomically,
 *     writes the metadata LAST and gives the metadata and every chunk the
 *     same expiry. Until then nothing names the chunks, so a partial
 *     upload is never visible. When the key already holds a complete
 *     object with the same sha256 and size (two processes putting one
 *     digest), commit keeps that object, refreshes its expiry and drops
 *     the new chunks; otherwise it replaces the metadata and drops the
 *     old object's chunks. A failed put removes its chunks while its
 *     deadline allows; any it cannot remove expire with the store's ttl.
 *   - get reads the metadata, then GETs chunk after chunk into a temporary
 *     file next to the target, checks every chunk's length, the count,
 *     the size and the sha256, fsyncs and renames into place. A chunk
 *     that vanished because a put replaced the object meanwhile makes get
 *     start again on the new object (while the deadline allows); any
 *     other mismatch is MP_EIO naming the key, and the temporary file is
 *     removed.
 *   - exists is one script: the metadata is present, of this format, and
 *     every chunk it names exists.
 *   - delete is one script: metadata first, then the chunks.
 *   - list is SCAN (cursor, MATCH P/<prefix>*, COUNT, TYPE hash), never
 *     KEYS; results filtered to valid keys, sorted, without duplicates.
 *   - every command has the call's deadline (redis/redis.h).
 * A file larger than max_size is refused (MP_EINVAL) before anything is
 * written. Metadata of another format is MP_EIO naming both formats.
 * The scripts compute chunk key names, so the store needs a standalone
 * Redis (or a Cluster prefix holding a hash tag, e.g. "{art}").
 */
#ifndef MP_ARTIFACTS_REDIS_RSTORE_H
#define MP_ARTIFACTS_REDIS_RSTORE_H

#include "artifacts/store.h"

extern const mp_store_vtable mp__store_redis_vtable;

#endif
