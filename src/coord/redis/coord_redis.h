/*
 * coord_redis.h -- the Redis coordinator: coord.h over one redis-server
 * (>= 7.0; DESIGN §3.5), for instances on many machines.
 *
 * URL: `redis://[user:pass@]host[:port][/db][?ttl=24h&timeout=5s]`
 * (redis/redis.h: password also from MODPIPE_REDIS_PASSWORD, printed as
 * ***). `ttl` is the expiry of every key of the run after the master's
 * last sign of life (publish, heartbeat, cancel, complete), default 24h,
 * for post-mortems; `timeout` bounds connecting and every non-blocking
 * round trip (reconnection with backoff included), default 5s.
 *
 * Keys: `modpipe:{<run-id>}:<name>` (the braces are a Redis Cluster hash
 * tag: one slot, so the Lua scripts may touch every key of the run):
 *   meta      HASH   proto, pipeline hash, version, instances, timings
 *   classes   SET    capability classes of the plan
 *   mclass mstate attempt token results   HASH per module
 *   leases    ZSET   module -> lease deadline (Redis TIME, ms)
 *   reported  SET    leases whose expiry was reported
 *   workers   HASH   worker id -> "instance slots caps"; inst: index -> id
 *   alive     ZSET   worker id -> liveness deadline (Redis TIME, ms)
 *   events    STREAM what the master tails (XREAD BLOCK)
 *   cancel complete master   STRING flags; master expires (PX)
 *   q:<class> bell:<class>   LIST  FIFO queue and its doorbell
 *   handles   SET    open handles; wo:<h> wc:<h> LIST their wake lists
 *   keys      SET    the names above made per class or handle
 * Claim, renew, complete, requeue, settle (and the rest) are Lua scripts
 * (the .lua files of src/coord/redis, embedded at build time) run with EVALSHA.
 * Every stored value carries the protocol version (meta's `proto`, a
 * `v` field in each event, a "<proto>\n" prefix on each result): state
 * from another version or garbage is a clear error (MP_EPARSE), never a
 * hang; keys gone mid-run are "run state lost" (MP_ELOST).
 *
 * Waiting: a claim BLMPOPs the doorbells of the classes it serves plus
 * its handle's wc list (completion); observe and registration BLMPOP the
 * handle's wo list (plan, cancel, completion); the master XREADs the
 * events stream, BLOCKing until the next lease or worker lapse its sweep
 * script computed. Blocking calls wait at most until the master's
 * liveness may lapse (its key's PTTL), then look again: nothing polls.
 * Every blocking call runs on a pooled connection of its own.
 *
 * A master warns (through mp_coord_open_opts.warn) when the server's
 * maxmemory-policy is not noeviction: evicted run keys lose the run.
 */
#ifndef MP_COORD_REDIS_COORD_REDIS_H
#define MP_COORD_REDIS_COORD_REDIS_H

#include "coord/coord.h"

#define MP_COORD_REDIS_PROTO "1" /* version of the key layout and scripts */

extern const mp_coord_master_vtable mp__coord_redis_master_vtable;
extern const mp_coord_worker_vtable mp__coord_redis_worker_vtable;

#endif
