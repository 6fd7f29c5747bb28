/*
 * attempt.c -- one attempt of one module (see attempt.h for the states).
 *
 * Signalling: the grace period runs in the engine's loop, so SIGTERM is
 * sent here directly (kill(-pgid)) instead of through kill_group, which
 * would wait out the grace period itself; kill_group(p, 0) comes after,
 * when the grace is over or the group is quiet, to SIGKILL and reap what
 * is left. Like process.c, a group is never signalled once confirmed gone.
 */
#include "core/attempt.h"
#include "core/error.h"
#include "os/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* How often a stopping attempt whose leader is gone looks whether its
 * process group is empty (see group_empty). */
#define GROUP_RECHECK_MS 50

static void term_group(mp_attempt *a)
{
    mp_process *p = &a->proc;
    if (p->pid <= 0 || p->group_gone) return;
    kill(-p->pid, SIGTERM);
    kill(-p->pid, SIGCONT);
    if (!p->reaped) kill(p->pid, SIGTERM);
}

static void describe_cmd(mp_attempt *a, const mp_attempt_spec *s)
{
    a->cmd[0] = '\0';
    if (s->shell) {
        snprintf(a->cmd, sizeof(a->cmd), "%s", s->shell);
    } else if (s->argv) {
        size_t off = 0;
        for (const char *const *v = s->argv; *v && off < sizeof(a->cmd) - 1; v++) {
            int n = snprintf(a->cmd + off, sizeof(a->cmd) - off, "%s%s", off ? " " : "", *v);
            if (n < 0) break;
            off += (size_t)n;
        }
    }
    if (strlen(a->cmd) == sizeof(a->cmd) - 1) memcpy(a->cmd + sizeof(a->cmd) - 4, "...", 4);
}

int mp__attempt_start(mp_attempt *a, const mp_attempt_spec *s, mp_error *err)
{
    memset(a, 0, sizeof(*a));
    a->proc.pid = -1;
    a->proc.pidfd = a->proc.out_fd = -1;
    a->module = s->module;
    a->attempt = s->attempt;
    a->log = s->log;
    a->timeout_ms = s->timeout_ms;
    a->grace_ms = s->kill_grace_ms;
    a->exit_code = -1;
    a->status = MP_STATUS_RUNNING;
    a->is_fn = s->module->run_kind == MP_RUN_FUNCTION;
    const char *name = s->module->name;
    if (a->is_fn) {
        int rc = mp__fn_start(&a->fn, s->fn_pool, s->module, s->attempt, err);
        if (rc < 0) return rc;
    } else {
        describe_cmd(a, s);
        mp_spawn_opts o = {.argv = s->argv, .shell = s->shell, .envp = s->envp, .cwd = s->cwd};
        mp_error e = {0};
        int rc = mp__process_spawn(&o, &a->proc, &e);
        if (rc < 0) {
            if (rc == MP_ENOENT && strncmp(e.message, "command not found", 17) == 0)
                return mp__error(err, rc, e.where, "module \"%s\": command not found: %s", name,
                                 s->argv && s->argv[0] ? s->argv[0] : a->cmd);
            return mp__error(err, rc, e.where, "module \"%s\": %s", name, e.message);
        }
    }
    a->started_ms = mp__clock_now_ms();
    a->deadline = s->timeout_ms > 0 ? mp__deadline_in(s->timeout_ms) : MP_DEADLINE_NONE;
    a->kill_deadline = a->drain_deadline = MP_DEADLINE_NONE;
    a->state = MP_ATTEMPT_RUNNING;
    return 0;
}

size_t mp__attempt_fds(const mp_attempt *a, struct pollfd *pfd)
{
    size_t n = 0;
    if (a->is_fn || a->state == MP_ATTEMPT_DONE) return 0; /* functions: notify fd */
    if (a->proc.out_fd >= 0) pfd[n++] = (struct pollfd){.fd = a->proc.out_fd, .events = POLLIN};
    if (!a->proc.reaped && a->proc.pidfd >= 0 && a->state != MP_ATTEMPT_DRAINING)
        pfd[n++] = (struct pollfd){.fd = a->proc.pidfd, .events = POLLIN};
    return n;
}

int64_t mp__attempt_deadline(const mp_attempt *a)
{
    switch (a->state) {
    case MP_ATTEMPT_RUNNING:
        if (a->end != MP_ATTEMPT_END_NONE) return a->is_fn ? MP_DEADLINE_NONE : 0;
        return a->deadline;
    case MP_ATTEMPT_KILLING:
        /* Leader gone but output still open: a process that left the group
         * may hold the pipe, so look again shortly whether the group itself
         * is empty (no fd tells us; see group_empty). */
        if (a->proc.reaped && a->proc.out_fd >= 0)
            return mp__deadline_min(a->kill_deadline, mp__deadline_in(GROUP_RECHECK_MS));
        return a->kill_deadline;
    case MP_ATTEMPT_DRAINING:
        return a->drain_deadline;
    case MP_ATTEMPT_DONE:
        break;
    }
    return MP_DEADLINE_NONE;
}

void mp__attempt_cancel(mp_attempt *a)
{
    if (a->state == MP_ATTEMPT_DONE || a->end != MP_ATTEMPT_END_NONE) return;
    if (a->state == MP_ATTEMPT_DRAINING) return; /* it has ended on its own */
    a->end = MP_ATTEMPT_END_CANCEL;
    if (a->is_fn) mp__fn_cancel(&a->fn);
}

int mp__attempt_active(const mp_attempt *a)
{
    return a->state != MP_ATTEMPT_DONE;
}

/* The outcome from how it ended. */
static void conclude(mp_attempt *a)
{
    const char *name = a->module->name;
    a->state = MP_ATTEMPT_DONE;
    a->ended_ms = mp__clock_now_ms();
    if (a->end == MP_ATTEMPT_END_TIMEOUT) {
        a->status = MP_STATUS_TIMED_OUT;
        snprintf(a->error, sizeof(a->error), "module \"%s\" timed out after %lld ms", name,
                 (long long)a->timeout_ms);
    } else if (a->end == MP_ATTEMPT_END_CANCEL) {
        a->status = MP_STATUS_CANCELLED;
        snprintf(a->error, sizeof(a->error), "module \"%s\" was cancelled", name);
    }
    if (a->is_fn) {
        if (a->end == MP_ATTEMPT_END_NONE) {
            a->exit_code = a->fn.rc;
            a->status = a->fn.rc == 0 ? MP_STATUS_SUCCEEDED : MP_STATUS_FAILED;
            if (a->fn.rc != 0)
                snprintf(a->error, sizeof(a->error), "module \"%s\" failed: function returned %d",
                         name, a->fn.rc);
        }
        return;
    }
    int st = a->proc.status;
    if (a->proc.reaped && st != -1) {
        a->exit_code = mp__process_status_code(st);
        a->term_signal = mp__process_status_signal(st);
    }
    if (a->end != MP_ATTEMPT_END_NONE) return;
    if (a->exit_code == 0) {
        a->status = MP_STATUS_SUCCEEDED;
        return;
    }
    a->status = MP_STATUS_FAILED;
    char how[96];
    if (a->proc.reaped && st != -1)
        mp__process_status_describe(st, how, sizeof(how));
    else
        snprintf(how, sizeof(how), "exit status unknown (collected elsewhere)");
    if (a->exit_code == 127)
        snprintf(a->error, sizeof(a->error), "module \"%s\" failed: command not found (%s): %s",
                 name, how, a->cmd);
    else if (a->exit_code == 126)
        snprintf(a->error, sizeof(a->error),
                 "module \"%s\" failed: command not executable (%s): %s", name, how, a->cmd);
    else
        snprintf(a->error, sizeof(a->error), "module \"%s\" failed: %s", name, how);
}

static int step_fn(mp_attempt *a)
{
    if (mp__fn_done(&a->fn)) {
        mp__fn_join(&a->fn);
        conclude(a);
        return 1;
    }
    if (a->end == MP_ATTEMPT_END_NONE && mp__deadline_passed(a->deadline)) {
        a->end = MP_ATTEMPT_END_TIMEOUT;
        mp__fn_cancel(&a->fn);
        mp__modlog_note(a->log,
                        "attempt %d timed out after %lld ms; the function was asked to stop "
                        "(mp_ctx_cancelled) and is waited for",
                        a->attempt, (long long)a->timeout_ms);
    }
    return 0;
}

static void read_some(mp_attempt *a, mp_strbuf *scratch)
{
    if (a->proc.out_fd < 0) return;
    mp__strbuf_reset(scratch);
    int r = mp__process_read_output(&a->proc, scratch, NULL);
    if (scratch->len) mp__modlog_feed(a->log, scratch->buf, scratch->len);
    mp__strbuf_reset(scratch);
    if (r < 0) { /* a read error: treat as end of output */
        mp__process_release(&a->proc);
    }
}

/* No process is left in the attempt's group (the leader is reaped and
 * kill(-pgid, 0) finds nobody): what still holds the output pipe has left
 * the group, and waiting out the grace period for it would gain nothing. */
static int group_empty(const mp_attempt *a)
{
    if (a->proc.pid <= 0) return 0;
    /* Members re-parented to us (we are a subreaper) stay zombies, and so
     * in the group, until someone reaps them. */
    while (waitpid(-a->proc.pid, NULL, WNOHANG) > 0)
        ;
    return kill(-a->proc.pid, 0) < 0 && errno == ESRCH;
}

static void start_draining(mp_attempt *a)
{
    mp__process_kill_group(&a->proc, 0, NULL);
    a->state = MP_ATTEMPT_DRAINING;
    a->drain_deadline = mp__deadline_in(MP_ATTEMPT_DRAIN_MS);
}

static void start_killing(mp_attempt *a)
{
    if (a->end == MP_ATTEMPT_END_TIMEOUT)
        mp__modlog_note(a->log,
                        "attempt %d timed out after %lld ms; stopping its process group "
                        "(SIGTERM, SIGKILL after %lld ms)",
                        a->attempt, (long long)a->timeout_ms, (long long)a->grace_ms);
    else
        mp__modlog_note(a->log,
                        "cancelled; stopping its process group (SIGTERM, SIGKILL after "
                        "%lld ms)",
                        (long long)a->grace_ms);
    term_group(a);
    a->state = MP_ATTEMPT_KILLING;
    a->kill_deadline = mp__deadline_in(a->grace_ms);
}

int mp__attempt_step(mp_attempt *a, mp_strbuf *scratch)
{
    if (a->state == MP_ATTEMPT_DONE) return 1;
    if (a->is_fn) return step_fn(a);
    read_some(a, scratch);
    if (a->proc.pid > 0 && !a->proc.reaped) mp__process_wait(&a->proc, 0, NULL);
    switch (a->state) {
    case MP_ATTEMPT_RUNNING:
        if (a->proc.reaped || a->proc.pid <= 0) {
            start_draining(a);
            break;
        }
        if (a->end == MP_ATTEMPT_END_NONE && mp__deadline_passed(a->deadline))
            a->end = MP_ATTEMPT_END_TIMEOUT;
        if (a->end != MP_ATTEMPT_END_NONE) start_killing(a);
        break;
    case MP_ATTEMPT_KILLING:
        if ((a->proc.reaped && (a->proc.out_fd < 0 || group_empty(a))) ||
            mp__deadline_passed(a->kill_deadline))
            start_draining(a);
        break;
    case MP_ATTEMPT_DRAINING:
    case MP_ATTEMPT_DONE:
        break;
    }
    if (a->state == MP_ATTEMPT_DRAINING) {
        read_some(a, scratch);
        if (a->proc.out_fd < 0 || mp__deadline_passed(a->drain_deadline)) {
            mp__modlog_flush(a->log);
            conclude(a);
            mp__process_release(&a->proc);
            return 1;
        }
    }
    return 0;
}

void mp__attempt_release(mp_attempt *a)
{
    if (a->is_fn)
        mp__fn_release(&a->fn);
    else
        mp__process_release(&a->proc);
    a->state = MP_ATTEMPT_DONE;
}
