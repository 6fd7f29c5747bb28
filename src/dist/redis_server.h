/*
 * redis_server.h -- a private redis-server for one run of
 * `modpipe run --local-instances N` (DESIGN §1): the coordinator of the
 * one-machine demo when no --coordinator is given.
 *
 * start:
 *   - `redis-server` is looked up in PATH; missing -> MP_ENOENT with a
 *     message saying how to get it or what to pass instead;
 *   - a free loopback port is taken (bind 127.0.0.1:0, read it, close),
 *     and redis-server is spawned in its own process group (os/process.h)
 *     with `--port P --bind 127.0.0.1 --save '' --appendonly no
 *     --protected-mode yes --loglevel warning`: nothing is written to disk;
 *   - ready = it answers PING with +PONG on that port and INFO server
 *     with its own process_id (a plain RESP exchange over a socket, each
 *     try bounded by the deadline: another server that took the port
 *     between our probe and its bind is never taken for ours), checked
 *     while watching its pidfd: if it exits before that (another process
 *     took the port between our probe and its bind), the next port is
 *     tried, up to MP_REDIS_SERVER_TRIES ports; other exits are MP_EIO with
 *     the last lines it printed;
 *   - the whole start is bounded by ready_ms (MP_ETIMEDOUT, the server
 *     killed).
 * The server's output (stdout+stderr) stays readable at s->proc.out_fd
 * for the caller to drain (it must, or a chatty server blocks).
 *
 * stop: SIGTERM to its group, grace_ms, SIGKILL (mp__process_kill_group)
 * and the process released. NULL-safe and idempotent.
 *
 * Ownership: the caller's struct; one thread.
 */
#ifndef MP_DIST_REDIS_SERVER_H
#define MP_DIST_REDIS_SERVER_H

#include "os/process.h"

#include <stdint.h>

#define MP_REDIS_SERVER_TRIES 5

typedef struct mp_redis_server {
    mp_process proc;
    int port;
    int running;
    char url[64]; /* "redis://127.0.0.1:<port>" */
} mp_redis_server;

int mp__redis_server_start(mp_redis_server *s, int64_t ready_ms, mp_error *err);
void mp__redis_server_stop(mp_redis_server *s, int64_t grace_ms);

/* PING and INFO server to 127.0.0.1:port: 0 when it answered +PONG and
 * (pid > 0) its process_id is pid, before the deadline; MP_ESTATE when
 * another process answers; another negative code otherwise. */
int mp__redis_ping(int port, long pid, int64_t deadline);

#endif
