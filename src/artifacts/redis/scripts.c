/*
 * scripts.c -- the Lua scripts of the redis:// store (see rstore.h).
 * Each runs atomically on the server. KEYS[1] is the object's metadata
 * key, ARGV[1] the chunk prefix "P/.chunks/", ARGV[2] the format this
 * modpipe writes; chunk i of upload <gen> is ARGV[1] .. gen .. '/' .. i.
 * Errors start with a code word of redis/redis.h (CORRUPT, STATE).
 */
#include "artifacts/redis/rstore_int.h"

/* A key that is not a hash is not ours to read or replace. */
#define LUA_CHECK_TYPE                                                                     \
    "local t = redis.call('TYPE', KEYS[1]).ok\n"                                           \
    "if t ~= 'none' and t ~= 'hash' then\n"                                                \
    "  return redis.error_reply('CORRUPT ' .. KEYS[1] .. ' holds a ' .. t .. "             \
    "', not object metadata')\n"                                                           \
    "end\n"

/* ARGV[3] gen, [4] size, [5] chunks, [6] chunk_size, [7] sha256, [8] ttl ms.
 * Every chunk of the upload must still be there. When the key holds a
 * whole object with the same sha256 and size, keep it (refresh the
 * expiry of its metadata and chunks) and drop the upload: 0. Otherwise
 * the metadata is written last, every key gets the same expiry and the
 * replaced object's chunks are dropped: 1. */
mp_redis_script mp__rstore_commit = {
    .name = "commit",
    .body = LUA_CHECK_TYPE
    "local meta, cp, fmt, gen = KEYS[1], ARGV[1], ARGV[2], ARGV[3]\n"
    "local n, ttl = tonumber(ARGV[5]), tonumber(ARGV[8])\n"
    "for i = 0, n - 1 do\n"
    "  if redis.call('EXISTS', cp .. gen .. '/' .. i) == 0 then\n"
    "    return redis.error_reply('STATE chunk ' .. i .. ' of the upload vanished before "
    "the commit (expired or evicted)')\n"
    "  end\n"
    "end\n"
    "local old = redis.call('HMGET', meta, 'format', 'size', 'chunks', 'sha256', 'gen')\n"
    "local oc = tonumber(old[3])\n"
    "if old[1] == fmt and old[2] == ARGV[4] and old[4] == ARGV[7] and oc and old[5] then\n"
    "  local whole = true\n"
    "  for i = 0, oc - 1 do\n"
    "    if redis.call('PEXPIRE', cp .. old[5] .. '/' .. i, ttl) == 0 then\n"
    "      whole = false\n"
    "      break\n"
    "    end\n"
    "  end\n"
    "  if whole then\n"
    "    redis.call('PEXPIRE', meta, ttl)\n"
    "    for i = 0, n - 1 do redis.call('UNLINK', cp .. gen .. '/' .. i) end\n"
    "    return 0\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', meta)\n"
    "for i = 0, n - 1 do redis.call('PEXPIRE', cp .. gen .. '/' .. i, ttl) end\n"
    "redis.call('HSET', meta, 'format', fmt, 'size', ARGV[4], 'chunks', ARGV[5], "
    "'chunk_size', ARGV[6], 'sha256', ARGV[7], 'gen', gen)\n"
    "redis.call('PEXPIRE', meta, ttl)\n"
    "if old[1] == fmt and oc and old[5] and old[5] ~= gen then\n"
    "  for i = 0, oc - 1 do redis.call('UNLINK', cp .. old[5] .. '/' .. i) end\n"
    "end\n"
    "return 1\n",
};

/* The size (a string) of a whole object; -1 when the metadata is absent
 * or a chunk it names is gone. Metadata of another format is an error. */
mp_redis_script mp__rstore_stat = {
    .name = "stat",
    .body = LUA_CHECK_TYPE
    "if t == 'none' then return -1 end\n"
    "local m = redis.call('HMGET', KEYS[1], 'format', 'size', 'chunks', 'gen')\n"
    "if m[1] ~= ARGV[2] then\n"
    "  return redis.error_reply('CORRUPT metadata of format ' .. tostring(m[1] or "
    "'(none)') .. ', this modpipe reads ' .. ARGV[2])\n"
    "end\n"
    "local n = tonumber(m[3])\n"
    "if not n or not tonumber(m[2]) or not m[4] then\n"
    "  return redis.error_reply('CORRUPT metadata without a size, chunk count or upload id')\n"
    "end\n"
    "for i = 0, n - 1 do\n"
    "  if redis.call('EXISTS', ARGV[1] .. m[4] .. '/' .. i) == 0 then return -1 end\n"
    "end\n"
    "return m[2]\n",
};

/* Delete: the metadata first, then the chunks it names (those of
 * metadata of another format are left to expire). 1 deleted, 0 absent. */
mp_redis_script mp__rstore_drop = {
    .name = "delete",
    .body = LUA_CHECK_TYPE
    "if t == 'none' then return 0 end\n"
    "local m = redis.call('HMGET', KEYS[1], 'format', 'chunks', 'gen')\n"
    "redis.call('DEL', KEYS[1])\n"
    "local n = tonumber(m[2])\n"
    "if m[1] == ARGV[2] and n and m[3] then\n"
    "  for i = 0, n - 1 do redis.call('UNLINK', ARGV[1] .. m[3] .. '/' .. i) end\n"
    "end\n"
    "return 1\n",
};
