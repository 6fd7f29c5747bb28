/*
 * cond.c -- evaluating conditions, and the watched {command: ...} check
 * (see cond.h).
 */
#include "core/cond.h"
#include "core/module_env.h"
#include "core/strbuf.h"
#include "os/clock.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *mp__cond_os_name(void)
{
#if defined(__APPLE__)
    return "macos";
#elif defined(_WIN32)
    return "windows";
#else
    return "linux";
#endif
}

int mp__cond_eval(mp_cond_kind kind, const char *arg, const char *equals, const char *base_dir,
                  char *const *environ)
{
    switch (kind) {
    case MP_COND_ENV: {
        const char *v = mp__environ_get(environ, arg ? arg : "");
        if (equals) return v && strcmp(v, equals) == 0;
        return v && *v;
    }
    case MP_COND_OS:
        return arg && strcmp(arg, mp__cond_os_name()) == 0;
    case MP_COND_FILE: {
        if (!arg || !*arg) return 0;
        char path[4096];
        if (arg[0] == '/' || !base_dir)
            snprintf(path, sizeof(path), "%s", arg);
        else
            snprintf(path, sizeof(path), "%s/%s", base_dir, arg);
        struct stat st;
        return stat(path, &st) == 0;
    }
    case MP_COND_COMMAND:
        break;
    }
    return MP_EINVAL;
}

const char *mp__cond_reason(mp_arena *a, mp_cond_kind kind, const char *arg, const char *equals,
                            int skip_if, const char *detail)
{
    const char *who = skip_if ? "skip_if" : "run_if";
    const char *s = arg ? arg : "";
    int cut = strlen(s) > 80;
    int len = cut ? 77 : (int)strlen(s);
    const char *dots = cut ? "..." : "";
    char *r = NULL;
    switch (kind) {
    case MP_COND_ENV:
        if (equals)
            r = mp__arena_printf(a, "%s env \"%.*s%s\" %s \"%s\"", who, len, s, dots,
                                 skip_if ? "equals" : "does not equal", equals);
        else
            r = mp__arena_printf(a, "%s env \"%.*s%s\" is %s", who, len, s, dots,
                                 skip_if ? "set" : "not set");
        break;
    case MP_COND_OS:
        r = mp__arena_printf(a, "%s os is %s\"%.*s%s\"", who, skip_if ? "" : "not ", len, s, dots);
        break;
    case MP_COND_FILE:
        r = mp__arena_printf(a, "%s file \"%.*s%s\" %s", who, len, s, dots,
                             skip_if ? "exists" : "does not exist");
        break;
    case MP_COND_COMMAND:
        r = mp__arena_printf(a, "%s command \"%.*s%s\" %s", who, len, s, dots,
                             skip_if ? "succeeded" : "failed");
        break;
    }
    if (r && detail && *detail) r = mp__arena_printf(a, "%s (%s)", r, detail);
    return r ? r : who;
}

/* ------------------------------------------------------------ command check */

static void finish(mp_cmd_check *c, int ok, const char *why)
{
    c->done = 1;
    c->ok = ok;
    size_t n = why ? strlen(why) : 0;
    if (n >= sizeof(c->why)) n = sizeof(c->why) - 1;
    memcpy(c->why, why ? why : "", n);
    c->why[n] = '\0';
}

void mp__cmd_check_start(mp_cmd_check *c, const char *cmd, const char *cwd, const char *const *envp,
                         int64_t timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->proc.pid = -1;
    c->proc.pidfd = c->proc.out_fd = -1;
    c->timeout_ms = timeout_ms;
    c->deadline = mp__deadline_in(timeout_ms);
    mp_spawn_opts o = {.shell = cmd, .envp = envp, .cwd = cwd};
    mp_error err = {0};
    if (mp__process_spawn(&o, &c->proc, &err) < 0) {
        char why[sizeof(c->why)];
        snprintf(why, sizeof(why), "cannot start: %.200s", err.message);
        finish(c, 0, why);
        return;
    }
    c->started = 1;
}

size_t mp__cmd_check_fds(const mp_cmd_check *c, struct pollfd *pfd)
{
    size_t n = 0;
    if (c->done || !c->started) return 0;
    if (c->proc.out_fd >= 0) pfd[n++] = (struct pollfd){.fd = c->proc.out_fd, .events = POLLIN};
    if (!c->proc.reaped) pfd[n++] = (struct pollfd){.fd = c->proc.pidfd, .events = POLLIN};
    return n;
}

int64_t mp__cmd_check_deadline(const mp_cmd_check *c)
{
    return c->done ? MP_DEADLINE_NONE : c->deadline;
}

int mp__cmd_check_step(mp_cmd_check *c)
{
    if (c->done) return 1;
    /* Output is read and dropped, one read budget per step. */
    if (c->proc.out_fd >= 0) {
        mp_strbuf out = MP_STRBUF_INIT;
        mp__process_read_output(&c->proc, &out, NULL);
        mp__strbuf_release(&out);
    }
    if (!c->proc.reaped) mp__process_wait(&c->proc, 0, NULL);
    if (c->proc.reaped) {
        mp__process_kill_group(&c->proc, 0, NULL); /* what it left behind */
        int st = c->proc.status;
        char why[64];
        mp__process_status_describe(st, why, sizeof(why));
        finish(c, mp__process_status_code(st) == 0, why);
        mp__process_release(&c->proc);
        return 1;
    }
    if (mp__deadline_passed(c->deadline)) {
        mp__process_kill_group(&c->proc, 0, NULL);
        char why[64];
        snprintf(why, sizeof(why), "timed out after %lld ms", (long long)c->timeout_ms);
        finish(c, 0, why);
        mp__process_release(&c->proc);
        return 1;
    }
    return 0;
}

void mp__cmd_check_release(mp_cmd_check *c)
{
    if (c->started) mp__process_release(&c->proc);
    c->started = 0;
}

int mp__cmd_check_run(const char *cmd, const char *cwd, int64_t timeout_ms, char *why,
                      size_t whylen)
{
    mp_cmd_check c;
    mp__cmd_check_start(&c, cmd, cwd, NULL, timeout_ms);
    while (!mp__cmd_check_step(&c)) {
        struct pollfd pfd[2];
        size_t n = mp__cmd_check_fds(&c, pfd);
        poll(pfd, n, mp__deadline_poll_ms(mp__cmd_check_deadline(&c)));
    }
    mp__cmd_check_release(&c);
    if (why && whylen) snprintf(why, whylen, "%s", c.ok ? "" : c.why);
    return c.ok;
}
