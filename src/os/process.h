/*
 * process.h -- running one module as a child process in its own process group.
 *
 * The local executor runs each module like this:
 *
 *   mp_process p;
 *   if (mp__process_spawn(&opts, &p, err) < 0) ... nothing to release
 *   poll({p.out_fd, POLLIN}, {p.pidfd, POLLIN}) until the attempt's deadline:
 *       out_fd readable  -> mp__process_read_output(&p, &log, err)
 *       pidfd readable   -> mp__process_wait(&p, 0, &status)   (reaps, no block)
 *   deadline passed or run cancelled -> mp__process_kill_group(&p, grace_ms, err)
 *   leader exited                     -> mp__process_kill_group(&p, 0, err) too:
 *       it ends what the module left running in its group (`sleep 1000 &`),
 *       which would otherwise keep out_fd open and never give end of output
 *   mp__process_read_output() until it returns 0 (end of output)
 *   mp__process_release(&p);
 *   ... and once the whole run is over: mp__process_kill_orphans(grace_ms, err)
 *
 * How it works: posix_spawn (the libuv template) with POSIX_SPAWN_SETPGROUP
 * (the child leads a new group whose id is its pid), every signal reset to
 * its default action and an empty signal mask (so a parent that blocks
 * SIGCHLD or ignores SIGPIPE/SIGINT does not hand that to modules), stdin
 * from /dev/null, stdout and stderr both into one pipe, and every other
 * descriptor closed in the child (glibc >= 2.34; before that only our own
 * O_CLOEXEC discipline keeps them out). The leader is watched through a pidfd
 * (pidfd_open, Linux >= 5.3), so exit and output arrive in one poll loop
 * without sleeping. The rest of the group has no descriptor: while a group
 * is being killed, members other than the leader are checked for with short
 * nanosleeps (at most 50 ms apart), and only there.
 *
 * Orphans. A module's process that leaves the group (setsid, setpgid) is
 * not reached by kill_group. With mp__process_become_subreaper() such
 * processes are re-parented to modpipe when their parent dies instead of to
 * init; mp__process_kill_orphans() then kills and reaps them after the run.
 * Group members re-parented to modpipe are reaped by kill_group itself
 * (waitpid on the group). Without the subreaper they go to init, and when
 * init does not reap (some container inits reap late or never) they stay zombies:
 * kill_group counts a group with only zombies left as gone, since nothing
 * in it runs any more.
 *
 * Ownership: an mp_process owns pidfd and out_fd (both O_CLOEXEC; out_fd is
 * O_NONBLOCK) until mp__process_release(). The caller may poll them but not
 * close them. Every fd this file creates is O_CLOEXEC, so spawns from
 * several threads at once do not leak pipes into each other's children.
 *
 * Thread-safety: distinct mp_process values may be used from different
 * threads at once; one mp_process from one thread at a time. The program
 * must not set SIGCHLD to SIG_IGN and must not reap children with
 * waitpid(-1, ...) elsewhere (that steals a module's exit status).
 *
 * Blocking: spawn blocks until the child has exec'd (posix_spawn uses vfork
 * semantics). wait blocks until its deadline. kill_group blocks up to
 * grace_ms plus MP_PROCESS_KILL_WAIT_MS; kill_orphans the same; release as
 * kill_group(0) when the group may still exist. read_output never blocks.
 *
 * Errors: 0 or a negative MP_E* code, as everywhere (modpipe.h).
 */
#ifndef MP_OS_PROCESS_H
#define MP_OS_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/strbuf.h"
#include "modpipe.h"

/* How long, after SIGKILL, kill_group and kill_orphans wait for processes
 * to disappear before reporting MP_ETIMEDOUT (a process stuck in the kernel,
 * or one we may not signal). */
#define MP_PROCESS_KILL_WAIT_MS 5000

/* What to run. Exactly one of argv and shell is set. */
typedef struct mp_spawn_opts {
    /* NULL-terminated; argv[0] is searched in the PATH of *modpipe's*
     * environment (posix_spawnp), not in envp's. */
    const char *const *argv;
    /* A command line run as `/bin/sh -c shell`. */
    const char *shell;
    /* The child's complete environment ("K=V", NULL-terminated); NULL
     * means a copy of modpipe's own. */
    const char *const *envp;
    /* Working directory of the child; NULL means modpipe's. Must exist. */
    const char *cwd;
} mp_spawn_opts;

/* A running (or finished) child. Fields are read-only for the caller. */
typedef struct mp_process {
    pid_t pid;      /* the leader; also the process group id */
    int pidfd;      /* POLLIN once the leader has exited; -1 after release */
    int out_fd;     /* read end of stdout+stderr; -1 after end of output */
    int reaped;     /* the leader's exit status has been collected */
    int status;     /* its wait status (decode with mp__process_status_*) */
    int group_gone; /* kill_group confirmed no member of the group is left */
} mp_process;

/* Start a process. On success fills *out and returns 0; on failure returns
 * a negative code, fills err, and leaves nothing to release (out->pid is
 * -1, both fds -1):
 *   MP_EINVAL  bad options (neither or both of argv/shell, empty argv)
 *   MP_ENOENT  working directory missing ("working directory does not
 *              exist: DIR", where = DIR, checked before spawning), or argv[0]
 *              not found ("command not found: X"). With `shell`, a missing
 *              command is not an error here: the shell exits with 127.
 *   MP_EIO     anything else the system refused (message says what) */
int mp__process_spawn(const mp_spawn_opts *o, mp_process *out, mp_error *err);

/* Wait for the leader to exit, until `deadline_ms` (clock.h; a deadline in
 * the past only checks). Returns 0 and stores its wait status in *status
 * (may be NULL; also kept in p->status), MP_ETIMEDOUT when the deadline
 * passed first, MP_ESTATE when the leader cannot be waited for (someone else
 * reaped it, or p was released), MP_EIO if poll(2) fails. Once reaped,
 * returns 0 again at once. Does not read output:
 * a module writing more than a pipe holds blocks until out_fd is drained,
 * so wait from the same loop that reads. */
int mp__process_wait(mp_process *p, int64_t deadline_ms, int *status);

/* Read whatever output is available into sb, without blocking (at most
 * about 1 MiB per call). Returns 1 when more may come (poll out_fd again),
 * 0 at end of output (out_fd is then closed and set to -1, and further calls
 * return 0), MP_EIO on a read error. */
int mp__process_read_output(mp_process *p, mp_strbuf *sb, mp_error *err);

/* End the whole process group: SIGTERM (and SIGCONT, so stopped members
 * see it) to every member, wait up to grace_ms for the leader to be reaped
 * and the group to be empty, then SIGKILL to every member and wait up to
 * MP_PROCESS_KILL_WAIT_MS more. Works when the leader has already exited
 * and only other members remain (the group id stays valid while a member
 * exists). Reaps the leader (p->status) and any member that is modpipe's
 * child. Returns 0 once nothing of the group is left (also at once when it
 * already was), MP_ETIMEDOUT naming the group when something survived
 * SIGKILL. grace_ms 0 sends SIGKILL right after SIGTERM. */
int mp__process_kill_group(mp_process *p, int64_t grace_ms, mp_error *err);

/* Close the fds. If the group was not confirmed gone by kill_group, first
 * kill_group(p, 0): releasing never leaves a module's process behind.
 * Safe on a zeroed-out or failed-spawn mp_process with pid -1. */
void mp__process_release(mp_process *p);

/* Make modpipe a child subreaper (prctl PR_SET_CHILD_SUBREAPER): processes
 * that leave a module's group and lose their parent are re-parented to
 * modpipe instead of init. Call once, early, from the program (not the
 * library's callers' business otherwise). Returns 0 or MP_EIO. */
int mp__process_become_subreaper(mp_error *err);

/* After the run: kill (SIGTERM, grace_ms, SIGKILL) and reap every child
 * process modpipe still has -- the orphans re-parented to it by the
 * subreaper -- including their own children as they get re-parented in
 * turn. Call only when no mp_process is alive and nothing else in the
 * program owns child processes: it takes every child it finds. Children
 * are found by scanning /proc. Returns the number of processes reaped
 * (0: there were none), or MP_ETIMEDOUT when some survived SIGKILL. */
int mp__process_kill_orphans(int64_t grace_ms, mp_error *err);

/* Decoding a wait status. */
/* The exit code (0..255) when the process exited, else -1. */
int mp__process_status_code(int status);
/* The signal that killed the process, else 0. */
int mp__process_status_signal(int status);
/* "exit code 3" or "killed by signal 9 (SIGKILL)"; returns buf. */
const char *mp__process_status_describe(int status, char *buf, size_t n);

#endif
