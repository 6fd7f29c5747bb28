/*
 * process.c -- see process.h for the contract.
 *
 * spawn: stat(cwd) -> pipe2(O_CLOEXEC) -> file actions (stdout and stderr
 * onto the write end, stdin from /dev/null, every fd above 2 closed, chdir)
 * and attributes (new group, default signal actions, empty mask) ->
 * posix_spawn[p] -> close our write end -> pidfd_open. The child stays our
 * unreaped child until waitpid, so its pid cannot be reused between
 * posix_spawn and pidfd_open, nor while kill_group signals it directly.
 *
 * Signalling a group by number (kill(-pgid)) is safe while any member of the
 * group exists: Linux does not hand out a pid that is still some group's id.
 * Once the group has been seen empty it is never signalled again
 * (group_gone); between "last member reaped" and our next kill() only a full
 * wrap of the pid space could make the number name another group.
 *
 * A group is "gone" when the leader is reaped and kill(-pgid, 0) fails with
 * ESRCH, or when /proc shows only zombies left in it that are not ours to
 * reap (ours are reaped first). Zombies of init, in a container whose init
 * reaps late or never, would otherwise keep the group "alive" although
 * nothing in it runs.
 */
#include "os/process.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_ADDCLOSEFROM 1
#endif

/* Longest pause between two looks at group members that have no fd. */
#define NAP_MAX_MS 50
/* Most output read by one mp__process_read_output() call. */
#define READ_BUDGET (1u << 20)

/* ------------------------------------------------------------------ spawn */

static void spawn_setup_check(int e, const char *what)
{
    if (e != 0)
        mp__die("posix_spawn setup (%s): %s", what, strerror(e));
}

static int check_cwd(const char *cwd, mp_error *err)
{
    struct stat st;
    if (!cwd)
        return 0;
    if (stat(cwd, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return mp__error(err, MP_ENOENT, cwd, "working directory does not exist: %s", cwd);
        return mp__error(err, MP_EIO, cwd, "cannot use working directory %s: %s", cwd,
                         strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return mp__error(err, MP_ENOENT, cwd, "working directory is not a directory: %s", cwd);
    return 0;
}

/* What the child gets: see the file comment. write_fd is the pipe's end. */
static void build_file_actions(posix_spawn_file_actions_t *fa, int write_fd, const char *cwd)
{
    spawn_setup_check(posix_spawn_file_actions_init(fa), "init");
    /* dup2 before opening fd 0, in case the write end itself is fd 0. */
    spawn_setup_check(posix_spawn_file_actions_adddup2(fa, write_fd, STDOUT_FILENO), "stdout");
    spawn_setup_check(posix_spawn_file_actions_adddup2(fa, write_fd, STDERR_FILENO), "stderr");
    spawn_setup_check(
        posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0), "stdin");
#ifdef HAVE_ADDCLOSEFROM
    spawn_setup_check(posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1), "closefrom");
#endif
    if (cwd)
        spawn_setup_check(posix_spawn_file_actions_addchdir_np(fa, cwd), "chdir");
}

static void build_attr(posix_spawnattr_t *attr)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    spawn_setup_check(posix_spawnattr_init(attr), "attr init");
    spawn_setup_check(posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
                                                         POSIX_SPAWN_SETSIGDEF |
                                                         POSIX_SPAWN_SETSIGMASK),
                      "flags");
    spawn_setup_check(posix_spawnattr_setpgroup(attr, 0), "pgroup");
    spawn_setup_check(posix_spawnattr_setsigdefault(attr, &all), "sigdefault");
    spawn_setup_check(posix_spawnattr_setsigmask(attr, &none), "sigmask");
}

static int spawn_error(const mp_spawn_opts *o, int e, mp_error *err)
{
    const char *what = o->argv ? o->argv[0] : "/bin/sh";
    /* A chdir failing in the child also reports ENOENT: say which. */
    if ((e == ENOENT || e == ENOTDIR) && o->cwd && check_cwd(o->cwd, NULL) < 0)
        return check_cwd(o->cwd, err);
    if (e == EACCES && o->cwd && access(o->cwd, X_OK) < 0)
        return mp__error(err, MP_EIO, o->cwd, "cannot enter working directory %s: %s", o->cwd,
                         strerror(e));
    if (e == ENOENT && o->argv)
        return mp__error(err, MP_ENOENT, "", "command not found: %s", what);
    return mp__error(err, MP_EIO, "", "cannot run %s: %s", what, strerror(e));
}

int mp__process_spawn(const mp_spawn_opts *o, mp_process *out, mp_error *err)
{
    *out = (mp_process){.pid = -1, .pidfd = -1, .out_fd = -1};
    if (!o || !o->argv == !o->shell)
        return mp__error(err, MP_EINVAL, "", "spawn needs exactly one of argv and shell");
    if (o->argv && !o->argv[0])
        return mp__error(err, MP_EINVAL, "", "spawn needs a command: argv is empty");
    int rc = check_cwd(o->cwd, err);
    if (rc < 0)
        return rc;

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return mp__error(err, MP_EIO, "", "cannot create output pipe: %s", strerror(errno));
    /* Only our end is non-blocking: the flag lives in the open file
     * description, and the child's end must stay blocking. */
    int fl = fcntl(fds[0], F_GETFL);
    if (fl < 0 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return mp__error(err, MP_EIO, "", "cannot set output pipe non-blocking: %s", strerror(e));
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    build_file_actions(&fa, fds[1], o->cwd);
    build_attr(&attr);
    const char *sh_argv[] = {"/bin/sh", "-c", o->shell, NULL};
    char *const *argv = (char *const *)(o->argv ? o->argv : sh_argv);
    char *const *envp = o->envp ? (char *const *)o->envp : environ;
    pid_t pid = -1;
    int e = o->argv ? posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp)
                    : posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        return spawn_error(o, e, err);
    }

    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        int pe = errno;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(fds[0]);
        return mp__error(err, MP_EIO, "", "pidfd_open: %s (modpipe needs Linux 5.3 or later)",
                         strerror(pe));
    }
    out->pid = pid;
    out->pidfd = pidfd;
    out->out_fd = fds[0];
    return 0;
}

/* ------------------------------------------------------------------- wait */

/* Collect the leader's status if it has exited. 0, or MP_ESTATE when it is
 * not our child any more (reaped behind our back). */
static int reap_leader(mp_process *p)
{
    if (p->reaped)
        return 0;
    int st;
    pid_t r;
    do
        r = waitpid(p->pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        p->reaped = 1;
        p->status = st;
        return 0;
    }
    return r == 0 ? 0 : MP_ESTATE;
}

int mp__process_wait(mp_process *p, int64_t deadline_ms, int *status)
{
    if (p->pid <= 0)
        return MP_ESTATE;
    for (;;) {
        int rc = reap_leader(p);
        if (rc < 0)
            return rc;
        if (p->reaped) {
            if (status)
                *status = p->status;
            return 0;
        }
        int timeout = mp__deadline_poll_ms(deadline_ms);
        if (timeout == 0)
            return MP_ETIMEDOUT;
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
            return MP_EIO;
    }
}

int mp__process_read_output(mp_process *p, mp_strbuf *sb, mp_error *err)
{
    char buf[16384];
    size_t total = 0;
    if (p->out_fd < 0)
        return 0;
    while (total < READ_BUDGET) {
        ssize_t n = read(p->out_fd, buf, sizeof(buf));
        if (n > 0) {
            mp__strbuf_add(sb, buf, (size_t)n);
            total += (size_t)n;
            continue;
        }
        if (n == 0) {
            close(p->out_fd);
            p->out_fd = -1;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 1;
        return mp__error(err, MP_EIO, "", "cannot read module output: %s", strerror(errno));
    }
    return 1;
}

/* ------------------------------------------------------------------ /proc */

struct proc_entry {
    pid_t pid, ppid, pgrp;
    char state;
};

static int read_proc_stat(pid_t pid, struct proc_entry *e)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, sizeof(buf) - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* "pid (comm) state ppid pgrp ...": comm may hold spaces and ')'. */
    char *rp = strrchr(buf, ')');
    int ppid, pgrp;
    char state;
    if (!rp || sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
        return -1;
    e->pid = pid;
    e->ppid = (pid_t)ppid;
    e->pgrp = (pid_t)pgrp;
    e->state = state;
    return 0;
}

/* Call fn for every process in /proc until it returns non-zero. Returns
 * that value, 0 when all were visited, -1 (errno set) when /proc cannot be
 * read. Processes that vanish meanwhile are skipped. */
static int proc_scan(int (*fn)(const struct proc_entry *, void *), void *arg)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int stop = 0;
    struct dirent *de;
    while (!stop && (de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || pid <= 0)
            continue;
        struct proc_entry e;
        if (read_proc_stat((pid_t)pid, &e) == 0)
            stop = fn(&e, arg);
    }
    closedir(d);
    return stop;
}

static int is_dead_state(char s)
{
    return s == 'Z' || s == 'X' || s == 'x';
}

struct group_scan {
    pid_t pgid, me;
};

/* A member that runs, or a zombie of ours that reap_group has yet to
 * collect (it was re-parented to us after our last waitpid). */
static int visit_group_member(const struct proc_entry *e, void *arg)
{
    const struct group_scan *g = arg;
    return e->pgrp == g->pgid && (!is_dead_state(e->state) || e->ppid == g->me);
}

/* ------------------------------------------------------------- kill group */

static void nap_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Reap the leader and every member of the group that is our child (members
 * re-parented to us by the subreaper). */
static void reap_group(mp_process *p)
{
    if (reap_leader(p) < 0) {
        p->reaped = 1;
        p->status = -1; /* unknown: someone else collected it */
    }
    for (;;) {
        int st;
        pid_t r = waitpid(-p->pid, &st, WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (r == p->pid) {
            p->reaped = 1;
            p->status = st;
        }
    }
}

static int group_empty(pid_t pgid)
{
    if (kill(-pgid, 0) < 0 && errno == ESRCH)
        return 1;
    /* Something answers: if only others' zombies are left, nothing runs. */
    struct group_scan g = {.pgid = pgid, .me = getpid()};
    return proc_scan(visit_group_member, &g) == 0;
}

static void signal_group(mp_process *p, int sig)
{
    kill(-p->pid, sig);
    if (!p->reaped) /* in case the leader moved to another group */
        kill(p->pid, sig);
}

/* Wait until the group is gone (1) or the deadline passes (0). While the
 * leader runs, block on its pidfd; after that, nap: the other members have
 * no fd. resend: a signal to repeat on every round (0 for none). */
static int wait_group_gone(mp_process *p, int64_t deadline, int resend)
{
    int64_t nap = 1;
    for (;;) {
        reap_group(p);
        if (p->reaped && group_empty(p->pid))
            return 1;
        if (mp__deadline_passed(deadline))
            return 0;
        if (resend)
            signal_group(p, resend);
        if (!p->reaped && p->pidfd >= 0) {
            struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
            poll(&pfd, 1, mp__deadline_poll_ms(deadline));
        } else {
            int64_t left = mp__deadline_remaining_ms(deadline);
            nap_ms(nap < left ? nap : left);
            nap = nap * 2 < NAP_MAX_MS ? nap * 2 : NAP_MAX_MS;
        }
    }
}

int mp__process_kill_group(mp_process *p, int64_t grace_ms, mp_error *err)
{
    if (p->pid <= 0 || p->group_gone)
        return 0;
    reap_group(p);
    if (p->reaped && group_empty(p->pid)) {
        p->group_gone = 1;
        return 0;
    }
    signal_group(p, SIGTERM);
    signal_group(p, SIGCONT);
    if (!wait_group_gone(p, mp__deadline_in(grace_ms), 0)) {
        signal_group(p, SIGKILL);
        if (!wait_group_gone(p, mp__deadline_in(MP_PROCESS_KILL_WAIT_MS), SIGKILL)) {
            char where[32];
            snprintf(where, sizeof(where), "pgid %d", (int)p->pid);
            return mp__error(err, MP_ETIMEDOUT, where,
                             "process group %d still has processes %d ms after SIGKILL",
                             (int)p->pid, MP_PROCESS_KILL_WAIT_MS);
        }
    }
    p->group_gone = 1;
    return 0;
}

void mp__process_release(mp_process *p)
{
    if (p->pid > 0 && !p->group_gone)
        mp__process_kill_group(p, 0, NULL);
    if (p->pidfd >= 0)
        close(p->pidfd);
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->pidfd = p->out_fd = -1;
    p->pid = -1;
}

/* ---------------------------------------------------------------- orphans */

int mp__process_become_subreaper(mp_error *err)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) < 0)
        return mp__error(err, MP_EIO, "", "cannot become child subreaper: %s", strerror(errno));
    return 0;
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

static void pid_list_add(struct pid_list *l, pid_t pid)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mp__xrealloc(l->v, mp__xmul(l->cap, sizeof(*l->v)));
    }
    l->v[l->n++] = pid;
}

static int pid_list_has(const struct pid_list *l, pid_t pid)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == pid)
            return 1;
    return 0;
}

struct children_scan {
    pid_t me;
    struct pid_list found;
};

static int visit_child(const struct proc_entry *e, void *arg)
{
    struct children_scan *s = arg;
    if (e->ppid == s->me)
        pid_list_add(&s->found, e->pid);
    return 0;
}

int mp__process_kill_orphans(int64_t grace_ms, mp_error *err)
{
    struct children_scan scan = {.me = getpid()};
    struct pid_list termed = {0};
    int64_t deadline = mp__deadline_in(grace_ms);
    int killing = 0, reaped = 0, rc;
    int64_t nap = 1;
    for (;;) {
        scan.found.n = 0;
        if (proc_scan(visit_child, &scan) < 0) {
            rc = mp__error(err, MP_EIO, "/proc", "cannot list child processes: %s",
                           strerror(errno));
            break;
        }
        size_t live = 0;
        for (size_t i = 0; i < scan.found.n; i++) {
            pid_t pid = scan.found.v[i];
            int st;
            pid_t r = waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                reaped++;
                continue;
            }
            if (r < 0) /* not ours after all (reaped elsewhere meanwhile) */
                continue;
            live++;
            if (killing) {
                kill(pid, SIGKILL);
            } else if (!pid_list_has(&termed, pid)) {
                kill(pid, SIGTERM);
                kill(pid, SIGCONT);
                pid_list_add(&termed, pid);
            }
        }
        if (live == 0) {
            rc = reaped;
            break;
        }
        if (mp__deadline_passed(deadline)) {
            if (killing) {
                rc = mp__error(err, MP_ETIMEDOUT, "",
                               "%zu child processes still alive %d ms after SIGKILL", live,
                               MP_PROCESS_KILL_WAIT_MS);
                break;
            }
            killing = 1;
            deadline = mp__deadline_in(MP_PROCESS_KILL_WAIT_MS);
            nap = 1;
            continue;
        }
        int64_t left = mp__deadline_remaining_ms(deadline);
        nap_ms(nap < left ? nap : left);
        nap = nap * 2 < NAP_MAX_MS ? nap * 2 : NAP_MAX_MS;
    }
    free(scan.found.v);
    free(termed.v);
    return rc;
}

/* ----------------------------------------------------------------- status */

int mp__process_status_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int mp__process_status_signal(int status)
{
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

const char *mp__process_status_describe(int status, char *buf, size_t n)
{
    if (WIFEXITED(status)) {
        snprintf(buf, n, "exit code %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev)
            snprintf(buf, n, "killed by signal %d (SIG%s)%s", sig, abbrev,
                     WCOREDUMP(status) ? ", core dumped" : "");
        else
            snprintf(buf, n, "killed by signal %d%s", sig, WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        snprintf(buf, n, "unknown wait status %d", status);
    }
    return buf;
}
