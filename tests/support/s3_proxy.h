/*
 * s3_proxy.h -- start and stop tests/support/s3_fault_proxy.py from a C
 * test (header-only, for tests/unit/test_s3_*.c).
 *
 *   s3_proxy p;
 *   s3_proxy_start(&p, upstream_endpoint_or_NULL, rules_json);
 *   ... use p.endpoint ("http://127.0.0.1:PORT"), read p.log ...
 *   s3_proxy_stop(&p);
 *
 * The proxy is our child with PR_SET_PDEATHSIG, so it dies with the test
 * even when the test crashes; stop sends SIGTERM and reaps it.
 */
#ifndef MP_TESTS_S3_PROXY_H
#define MP_TESTS_S3_PROXY_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct s3_proxy {
    pid_t pid;
    char endpoint[64];
    char log[256];
} s3_proxy;

static void s3_proxy_start(s3_proxy *p, const char *upstream, const char *rules)
{
    char up[256] = "none";
    if (upstream) {
        const char *h = strstr(upstream, "://");
        snprintf(up, sizeof up, "%s", h ? h + 3 : upstream);
    }
    snprintf(p->log, sizeof p->log, "/tmp/s3-proxy-log.XXXXXX");
    int lfd = mkstemp(p->log);
    if (lfd < 0) abort();
    close(lfd);
    int fds[2];
    if (pipe(fds) != 0) abort();
    pid_t parent = getpid();
    p->pid = fork();
    if (p->pid < 0) abort();
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", MODPIPE_SOURCE_DIR "/tests/support/s3_fault_proxy.py",
               "--upstream", up, "--log", p->log, "--rules", rules, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[64] = "";
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || strncmp(line, "PORT ", 5) != 0) {
        fprintf(stderr, "s3 fault proxy did not start\n");
        abort();
    }
    fclose(f);
    snprintf(p->endpoint, sizeof p->endpoint, "http://127.0.0.1:%d", atoi(line + 5));
}

static void s3_proxy_stop(s3_proxy *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    unlink(p->log);
}

/* How many log lines contain every one of the (up to 2) strings. */
static int s3_proxy_count(const s3_proxy *p, const char *a, const char *b)
{
    FILE *f = fopen(p->log, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, a) && (!b || strstr(line, b))) n++;
    fclose(f);
    return n;
}

#endif
