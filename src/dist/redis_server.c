/*
 * redis_server.c -- a private redis-server for --local-instances
 * (redis_server.h).
 */
#include "dist/redis_server.h"

#include "core/error.h"
#include "core/strbuf.h"
#include "os/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PING_PACE_MS 25 /* between tries while the server starts */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int r;
    do {
        r = poll(&p, 1, mp__deadline_poll_ms(deadline));
    } while (r < 0 && errno == EINTR);
    return r == 1 ? 0 : MP_ETIMEDOUT;
}

int mp__redis_ping(int port, long pid, int64_t deadline)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return MP_EIO;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = MP_EIO;
    mp_strbuf in = MP_STRBUF_INIT;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) goto out;
    if (wait_fd(fd, POLLOUT, deadline) < 0) goto out;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) goto out;
    static const char req[] = "PING\r\nINFO server\r\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1)) goto out;
    /* "+PONG\r\n" then "$<len>\r\n<len bytes>\r\n". */
    for (;;) {
        const char *bulk = in.len >= 7 ? strstr(in.buf, "\r\n$") : NULL;
        if (in.len >= 7 && strncmp(in.buf, "+PONG\r\n", 7) != 0) goto out;
        if (bulk) {
            long len = strtol(bulk + 3, NULL, 10);
            const char *body = strstr(bulk + 3, "\r\n");
            if (body && len >= 0 && in.len - (size_t)(body + 2 - in.buf) >= (size_t)len) break;
        }
        if (in.len > 1024 * 1024 || wait_fd(fd, POLLIN, deadline) < 0) goto out;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) goto out;
        mp__strbuf_add(&in, buf, (size_t)n);
    }
    const char *id = strstr(in.buf, "\r\nprocess_id:");
    rc = pid <= 0 || (id && strtol(id + 13, NULL, 10) == pid) ? 0 : MP_ESTATE;
out:
    mp__strbuf_release(&in);
    close(fd);
    return rc;
}

static int in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *c = strchr(p, ':');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char full[4096];
        snprintf(full, sizeof full, "%.*s/%s", (int)len, len ? p : ".", name);
        if (access(full, X_OK) == 0) return 1;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

/* The last `max` bytes of what the server printed (it has exited). */
static void tail_of(mp_process *p, char *out, size_t max)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    while (mp__process_read_output(p, &sb, NULL) > 0)
        ;
    size_t from = sb.len > max - 1 ? sb.len - (max - 1) : 0;
    snprintf(out, max, "%s", sb.buf + from);
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    mp__strbuf_release(&sb);
}

int mp__redis_server_start(mp_redis_server *s, int64_t ready_ms, mp_error *err)
{
    memset(s, 0, sizeof *s);
    s->proc.pid = -1;
    s->proc.pidfd = s->proc.out_fd = -1;
    if (!in_path("redis-server"))
        return mp__error(err, MP_ENOENT, "redis-server",
                         "redis-server is not installed (not found in PATH): --local-instances "
                         "starts a private one for the run; install it (Debian: apt-get install "
                         "redis-server) or pass --coordinator redis://host:port");
    int64_t deadline = mp__deadline_in(ready_ms);
    char last[512] = "";
    for (int attempt = 0; attempt < MP_REDIS_SERVER_TRIES; attempt++) {
        int port = free_port();
        if (port <= 0) return mp__error(err, MP_EIO, "", "no free loopback port: %s", strerror(errno));
        char ports[16];
        snprintf(ports, sizeof ports, "%d", port);
        const char *argv[] = {"redis-server", "--port",   ports,     "--bind",
                              "127.0.0.1",    "--save",   "",        "--appendonly",
                              "no",           "--protected-mode", "yes", "--loglevel",
                              "warning",      NULL};
        mp_spawn_opts so = {.argv = argv};
        int rc = mp__process_spawn(&so, &s->proc, err);
        if (rc < 0) return rc;
        for (;;) {
            int pr = mp__redis_ping(port, (long)s->proc.pid,
                                    mp__deadline_min(deadline, mp__deadline_in(500)));
            if (pr == 0) {
                s->port = port;
                s->running = 1;
                snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d", port);
                return 0;
            }
            /* Not ready (or another server answers on that port: ours
             * will fail to bind and exit): wait for its exit, at most
             * PING_PACE_MS. */
            int64_t pace = mp__deadline_min(deadline, mp__deadline_in(PING_PACE_MS));
            if (mp__process_wait(&s->proc, pace, NULL) == 0) break; /* it exited */
            if (mp__deadline_passed(deadline)) {
                mp__process_kill_group(&s->proc, 0, NULL);
                mp__process_release(&s->proc);
                return mp__error(err, MP_ETIMEDOUT, "redis-server",
                                 "the private redis-server on port %d did not answer PING "
                                 "within %lld ms",
                                 port, (long long)ready_ms);
            }
        }
        tail_of(&s->proc, last, sizeof last);
        char how[64];
        mp__process_status_describe(s->proc.status, how, sizeof how);
        mp__process_release(&s->proc);
        s->proc.pid = -1;
        if (!strstr(last, "in use") && !strstr(last, "bind"))
            return mp__error(err, MP_EIO, "redis-server",
                             "the private redis-server ended at start (%s): %s", how,
                             *last ? last : "(it printed nothing)");
        /* The port was taken between our probe and its bind: next one. */
    }
    return mp__error(err, MP_EIO, "redis-server",
                     "the private redis-server could not bind a port in %d tries: %s",
                     MP_REDIS_SERVER_TRIES, last);
}

void mp__redis_server_stop(mp_redis_server *s, int64_t grace_ms)
{
    if (!s || !s->running) return;
    mp__process_kill_group(&s->proc, grace_ms, NULL);
    mp__process_release(&s->proc);
    s->running = 0;
}
