/*
 * redis_server.h -- for the tests of the Redis backends: a throw-away
 * redis-server of the test's own (to kill, restart or starve of memory)
 * and raw commands on it, beside the shared one with-services.sh starts
 * (MODPIPE_TEST_REDIS_URL). Header-only: each test is one file.
 *
 * ts_start picks a random loopback port (retrying when the bind fails),
 * waits until the server answers, and is stopped by ts_stop (SIGTERM,
 * always reaped); it dies with the test process in any case. A server
 * that cannot start fails the test.
 */
#ifndef MP_TESTS_REDIS_SERVER_H
#define MP_TESTS_REDIS_SERVER_H

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct ts_server {
    pid_t pid;
    int port;
    char dir[64];
    char url[96];
} ts_server;

static inline redisContext *ts_connect(int port)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Run a command on port; the reply is the caller's (freeReplyObject). */
static inline redisReply *ts_cmd(int port, const char *fmt, ...)
{
    redisContext *c = ts_connect(port);
    if (!c) return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

/* fork + exec rather than posix_spawn: the server must die with the
 * test (PR_SET_PDEATHSIG), even when the test aborts. The signal follows
 * the calling thread, so start servers from the test's main thread. */
static inline void ts_spawn(ts_server *s)
{
    char port[16], logf[128];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(logf, sizeof logf, "%s/redis.log", s->dir);
    char *argv[] = {"redis-server", "--bind",      "127.0.0.1", "--port",  port,
                    "--save",       "",            "--appendonly", "no",   "--dir",
                    s->dir,         "--logfile",   logf,        "--daemonize", "no",
                    NULL};
    pid_t parent = getpid();
    s->pid = fork();
    if (s->pid < 0) {
        perror("fork");
        exit(1);
    }
    if (s->pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
        int null = open("/dev/null", O_RDWR); /* hold none of the test's pipes */
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(127);
        execvp("redis-server", argv);
        _exit(127);
    }
}

/* Wait until the server on s->port answers (true) or its process died. */
static inline int ts_ready(ts_server *s)
{
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) return 0;
        /* ready = answers and is our process (another test's server
         * may hold the port, and ours then exits) */
        redisReply *r = ts_cmd(s->port, "INFO server");
        char want[32];
        snprintf(want, sizeof want, "process_id:%d\r", (int)s->pid);
        int ours = r && r->type == REDIS_REPLY_STRING && strstr(r->str, want);
        freeReplyObject(r);
        if (ours) return 1;
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static inline void ts_kill(ts_server *s, int sig)
{
    if (s->pid <= 0) return;
    kill(s->pid, sig);
    int st;
    waitpid(s->pid, &st, 0);
    s->pid = 0;
}

static inline void ts_start(ts_server *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/mp-redis-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        exit(1);
    }
    static unsigned seed;
    if (!seed) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)now.tv_nsec;
    }
    for (int tries = 0; tries < 10; tries++) {
        s->port = 20000 + (int)(rand_r(&seed) % 12000);
        ts_spawn(s);
        if (ts_ready(s)) {
            snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d/0", s->port);
            return;
        }
        ts_kill(s, SIGKILL);
    }
    fprintf(stderr, "redis-server did not start (see %s/redis.log)\n", s->dir);
    exit(1);
}

/* Start it again on the same port and dir (dump.rdb is loaded if any). */
static inline void ts_restart(ts_server *s)
{
    ts_spawn(s);
    if (!ts_ready(s)) {
        fprintf(stderr, "redis-server did not restart on port %d\n", s->port);
        exit(1);
    }
}

static inline void ts_stop(ts_server *s)
{
    ts_kill(s, SIGTERM);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", s->dir);
}

#endif
