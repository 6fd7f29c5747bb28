/*
 * test_process.c -- src/os/process (spawning modules in their own process
 * group, waiting with deadlines, killing whole groups, orphans) and
 * src/os/clock (deadlines).
 *
 * Child programs are /bin/sh scripts and coreutils given inline. The test
 * process makes itself a child subreaper in the group setup, as modpipe
 * does; one test turns that off to check kill_group without it. Timing
 * bounds are loose on the slow side (sanitizer builds, loaded CI), tight
 * only where the behaviour is the point (a deadline must not return early).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "os/clock.h"
#include "os/process.h"

/* ---------------------------------------------------------------- helpers */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Read output and reap the leader until both are done; fails the test when
 * that takes longer than timeout_ms. */
static int collect(mp_process *p, int64_t timeout_ms, mp_strbuf *sb)
{
    int64_t dl = mp__deadline_in(timeout_ms);
    int eof = 0;
    for (;;) {
        if (!eof) {
            int r = mp__process_read_output(p, sb, NULL);
            assert_true(r >= 0);
            eof = r == 0;
        }
        if (!p->reaped) {
            int r = mp__process_wait(p, 0, NULL);
            assert_true(r == 0 || r == MP_ETIMEDOUT);
        }
        if (eof && p->reaped)
            return p->status;
        if (mp__deadline_passed(dl))
            fail_msg("process %d not done after %lld ms", (int)p->pid, (long long)timeout_ms);
        struct pollfd pfd[2];
        nfds_t n = 0;
        if (!eof)
            pfd[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
        if (!p->reaped)
            pfd[n++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};
        poll(pfd, n, mp__deadline_poll_ms(dl));
    }
}

/* Read output until it holds `lines` newlines (without waiting for exit). */
static void read_lines(mp_process *p, int lines, int64_t timeout_ms, mp_strbuf *sb)
{
    int64_t dl = mp__deadline_in(timeout_ms);
    for (;;) {
        int r = mp__process_read_output(p, sb, NULL);
        assert_true(r >= 0);
        int have = 0;
        for (size_t i = 0; i < sb->len; i++)
            have += sb->buf[i] == '\n';
        if (have >= lines)
            return;
        if (r == 0 || mp__deadline_passed(dl))
            fail_msg("wanted %d lines of output, got: \"%s\"", lines, sb->buf);
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        poll(&pfd, 1, mp__deadline_poll_ms(dl));
    }
}

/* Run to completion; returns the wait status, output in *sb. */
static int run(const mp_spawn_opts *o, mp_strbuf *sb)
{
    mp_process p;
    mp_error err = {0};
    int rc = mp__process_spawn(o, &p, &err);
    if (rc < 0)
        fail_msg("spawn failed: %s", err.message);
    int st = collect(&p, 10000, sb);
    mp__process_release(&p);
    return st;
}

static int run_shell(const char *cmd, mp_strbuf *sb)
{
    mp_spawn_opts o = {.shell = cmd};
    return run(&o, sb);
}

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof(tmpl), "%s/mp-test-process-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *real = realpath(d, NULL);
    assert_non_null(real);
    return real;
}

static void remove_tree(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The numbers in a file, one per line. */
static size_t read_pids(const char *path, pid_t *pids, size_t max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0;
    long v;
    while (n < max && fscanf(f, "%ld", &v) == 1)
        pids[n++] = (pid_t)v;
    fclose(f);
    return n;
}

/* The numbers in the output, one per line. */
static size_t parse_pids(const char *s, pid_t *pids, size_t max)
{
    size_t n = 0;
    while (n < max && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        pids[n++] = (pid_t)v;
        s = end;
    }
    return n;
}

/* Process exists and is not a zombie. */
static int proc_running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Some process of group pgid exists and is not a zombie. */
static int group_running(pid_t pgid)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name)
            continue;
        found = getpgid((pid_t)pid) == pgid && proc_running((pid_t)pid);
    }
    closedir(d);
    return found;
}

/* Reap a process that is, or is about to become, our child. */
static void dl_reap(pid_t pid)
{
    int64_t dl = mp__deadline_in(10000);
    while (waitpid(pid, NULL, WNOHANG) != pid) {
        if (mp__deadline_passed(dl))
            fail_msg("process %d was never re-parented to us", (int)pid);
        usleep(1000);
    }
}

static void assert_gone(pid_t pid)
{
    errno = 0;
    if (kill(pid, 0) == 0 || errno != ESRCH)
        fail_msg("process %d survived (running: %d)", (int)pid, proc_running(pid));
}

static void assert_group_gone(pid_t pgid)
{
    errno = 0;
    if (kill(-pgid, 0) == 0 || errno != ESRCH)
        fail_msg("process group %d still has members", (int)pgid);
}

static int group_setup(void **state)
{
    (void)state;
    mp_error err = {0};
    if (mp__process_become_subreaper(&err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ clock */

static void test_clock_deadlines(void **state)
{
    (void)state;
    int64_t now = mp__clock_now_ms();
    int64_t dl = mp__deadline_in(10000);
    assert_true(dl >= now + 10000 && dl <= now + 11000);
    assert_false(mp__deadline_passed(dl));
    int left = mp__deadline_poll_ms(dl);
    assert_true(left > 5000 && left <= 10000);
    assert_true(mp__deadline_remaining_ms(dl) > 5000 && mp__deadline_remaining_ms(dl) <= 10000);

    assert_true(mp__deadline_passed(now - 1));
    assert_true(mp__deadline_passed(mp__deadline_in(-5)));
    assert_int_equal(mp__deadline_poll_ms(now - 1), 0);
    assert_int_equal(mp__deadline_remaining_ms(now - 1), 0);

    assert_int_equal(mp__deadline_in(INT64_MAX), MP_DEADLINE_NONE);
    assert_int_equal(mp__deadline_poll_ms(MP_DEADLINE_NONE), -1);
    assert_false(mp__deadline_passed(MP_DEADLINE_NONE));
    assert_int_equal(mp__deadline_poll_ms(mp__deadline_in(INT64_MAX / 2)), INT_MAX);
    assert_int_equal(mp__deadline_min(dl, MP_DEADLINE_NONE), dl);

    /* Wall clock: after 2020-01-01, in milliseconds. */
    assert_true(mp__clock_wall_ms() > INT64_C(1577836800000));
}

/* ------------------------------------------------------------------ spawn */

static void test_spawn_argv_captures_output(void **state)
{
    (void)state;
    const char *argv[] = {"printf", "%s|%s\\n", "hello world", "two", NULL};
    mp_spawn_opts o = {.argv = argv};
    mp_strbuf sb = MP_STRBUF_INIT;
    int st = run(&o, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(sb.buf, "hello world|two\n");
    mp__strbuf_release(&sb);
}

static void test_spawn_shell_stdout_and_stderr_in_one_pipe(void **state)
{
    (void)state;
    mp_strbuf sb = MP_STRBUF_INIT;
    int st = run_shell("echo out; echo err >&2; echo out2; exit 3", &sb);
    assert_int_equal(mp__process_status_code(st), 3);
    assert_int_equal(mp__process_status_signal(st), 0);
    assert_string_equal(sb.buf, "out\nerr\nout2\n");
    mp__strbuf_release(&sb);
}

static void test_stdin_is_dev_null(void **state)
{
    (void)state;
    mp_strbuf sb = MP_STRBUF_INIT;
    /* cat would block forever on an inherited terminal or pipe. */
    int st = run_shell("cat; echo \"cat=$?\"; readlink /proc/self/fd/0", &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(sb.buf, "cat=0\n/dev/null\n");
    mp__strbuf_release(&sb);
}

static void test_large_output_through_pipe(void **state)
{
    (void)state;
    mp_strbuf sb = MP_STRBUF_INIT;
    int st = run_shell("head -c 1000000 /dev/zero | tr '\\0' x; echo end >&2", &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_int_equal(sb.len, 1000000 + 4);
    assert_string_equal(sb.buf + 1000000, "end\n");
    assert_int_equal(sb.buf[0], 'x');
    assert_int_equal(sb.buf[999999], 'x');
    mp__strbuf_release(&sb);
}

static void test_exit_codes_and_signals(void **state)
{
    (void)state;
    mp_strbuf sb = MP_STRBUF_INIT;
    char buf[64];

    int st = run_shell("exit 0", &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(mp__process_status_describe(st, buf, sizeof(buf)), "exit code 0");

    st = run_shell("exit 255", &sb);
    assert_int_equal(mp__process_status_code(st), 255);
    assert_string_equal(mp__process_status_describe(st, buf, sizeof(buf)), "exit code 255");

    st = run_shell("kill -KILL $$", &sb);
    assert_int_equal(mp__process_status_code(st), -1);
    assert_int_equal(mp__process_status_signal(st), SIGKILL);
    assert_string_equal(mp__process_status_describe(st, buf, sizeof(buf)),
                        "killed by signal 9 (SIGKILL)");

    st = run_shell("kill -TERM $$", &sb);
    assert_int_equal(mp__process_status_signal(st), SIGTERM);
    assert_string_equal(mp__process_status_describe(st, buf, sizeof(buf)),
                        "killed by signal 15 (SIGTERM)");
    mp__strbuf_release(&sb);
}

static void test_env_replaced_or_inherited(void **state)
{
    (void)state;
    mp_strbuf sb = MP_STRBUF_INIT;
    assert_int_equal(setenv("MP_TEST_PARENT", "from-parent", 1), 0);

    const char *envp[] = {"MP_A=one two", "PATH=/usr/bin:/bin", NULL};
    mp_spawn_opts o = {.shell = "echo \"$MP_A|${MP_TEST_PARENT-unset}\"", .envp = envp};
    int st = run(&o, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(sb.buf, "one two|unset\n");

    mp__strbuf_reset(&sb);
    mp_spawn_opts inherit = {.shell = "echo \"${MP_A-unset}|$MP_TEST_PARENT\""};
    st = run(&inherit, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(sb.buf, "unset|from-parent\n");

    /* argv with an explicit environment: env(1) prints exactly it. */
    mp__strbuf_reset(&sb);
    const char *argv[] = {"env", NULL};
    mp_spawn_opts exact = {.argv = argv, .envp = envp};
    st = run(&exact, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(sb.buf, "MP_A=one two\nPATH=/usr/bin:/bin\n");

    unsetenv("MP_TEST_PARENT");
    mp__strbuf_release(&sb);
}

static void test_cwd_applied(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char cwd_before[PATH_MAX];
    assert_non_null(getcwd(cwd_before, sizeof(cwd_before)));

    mp_strbuf sb = MP_STRBUF_INIT;
    mp_spawn_opts o = {.shell = "pwd -P; echo hi > here.txt", .cwd = dir};
    int st = run(&o, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    mp_strbuf want = MP_STRBUF_INIT;
    mp__strbuf_addf(&want, "%s\n", dir);
    assert_string_equal(sb.buf, want.buf);

    char file[PATH_MAX];
    snprintf(file, sizeof(file), "%s/here.txt", dir);
    struct stat stt;
    assert_int_equal(stat(file, &stt), 0);

    /* The parent's own directory is untouched. */
    char cwd_after[PATH_MAX];
    assert_non_null(getcwd(cwd_after, sizeof(cwd_after)));
    assert_string_equal(cwd_before, cwd_after);

    remove_tree(dir);
    free(dir);
    mp__strbuf_release(&want);
    mp__strbuf_release(&sb);
}

static void test_missing_cwd_is_error_before_spawn(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char missing[PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
    int fds = count_fds();

    mp_process p;
    mp_error err = {0};
    mp_spawn_opts o = {.shell = "echo should-not-run", .cwd = missing};
    assert_int_equal(mp__process_spawn(&o, &p, &err), MP_ENOENT);
    assert_int_equal(err.code, MP_ENOENT);
    assert_non_null(strstr(err.message, "working directory does not exist"));
    assert_non_null(strstr(err.message, missing));
    assert_string_equal(err.where, missing);
    assert_int_equal(p.pid, -1);
    assert_int_equal(p.pidfd, -1);
    assert_int_equal(p.out_fd, -1);
    assert_int_equal(count_fds(), fds);
    mp__process_release(&p); /* harmless on a failed spawn */

    /* A file is not a directory. */
    char file[PATH_MAX];
    snprintf(file, sizeof(file), "%s/f", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    o.cwd = file;
    assert_int_equal(mp__process_spawn(&o, &p, &err), MP_ENOENT);
    assert_non_null(strstr(err.message, "not a directory"));
    assert_non_null(strstr(err.message, file));

    remove_tree(dir);
    free(dir);
}

static void test_missing_command(void **state)
{
    (void)state;
    int fds = count_fds();
    mp_process p;
    mp_error err = {0};
    const char *argv[] = {"mp-no-such-command-42", "x", NULL};
    mp_spawn_opts o = {.argv = argv};
    assert_int_equal(mp__process_spawn(&o, &p, &err), MP_ENOENT);
    assert_string_equal(err.message, "command not found: mp-no-such-command-42");
    assert_int_equal(p.pid, -1);
    assert_int_equal(count_fds(), fds);

    /* With a path, too. */
    const char *argv2[] = {"/nonexistent/bin/tool", NULL};
    o.argv = argv2;
    assert_int_equal(mp__process_spawn(&o, &p, &err), MP_ENOENT);
    assert_string_equal(err.message, "command not found: /nonexistent/bin/tool");

    /* Through the shell it is the shell's exit code 127. */
    mp_strbuf sb = MP_STRBUF_INIT;
    int st = run_shell("mp-no-such-command-42", &sb);
    assert_int_equal(mp__process_status_code(st), 127);
    assert_non_null(strstr(sb.buf, "mp-no-such-command-42"));
    mp__strbuf_release(&sb);
}

static void test_bad_options(void **state)
{
    (void)state;
    mp_process p;
    mp_error err = {0};
    mp_spawn_opts none = {0};
    assert_int_equal(mp__process_spawn(&none, &p, &err), MP_EINVAL);
    const char *argv[] = {"true", NULL};
    mp_spawn_opts both = {.argv = argv, .shell = "true"};
    assert_int_equal(mp__process_spawn(&both, &p, &err), MP_EINVAL);
    const char *empty[] = {NULL};
    mp_spawn_opts e = {.argv = empty};
    assert_int_equal(mp__process_spawn(&e, &p, &err), MP_EINVAL);
    assert_int_equal(p.pid, -1);
}

/* ------------------------------------------------------------------- wait */

static void test_wait_deadline_times_out(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "30", NULL};
    mp_spawn_opts o = {.argv = argv};
    mp_process p;
    mp_error err = {0};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);

    int64_t t0 = mp__clock_now_ms();
    assert_int_equal(mp__process_wait(&p, t0, NULL), MP_ETIMEDOUT);
    assert_true(mp__clock_now_ms() - t0 < 500); /* did not block */

    t0 = mp__clock_now_ms();
    int st = 12345;
    assert_int_equal(mp__process_wait(&p, mp__deadline_in(200), &st), MP_ETIMEDOUT);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 199);
    assert_true(took < 1500);
    assert_int_equal(st, 12345);
    assert_false(p.reaped);

    t0 = mp__clock_now_ms();
    assert_int_equal(mp__process_kill_group(&p, 5000, &err), 0);
    assert_true(mp__clock_now_ms() - t0 < 2000); /* sleep obeys SIGTERM */
    assert_true(p.reaped);
    assert_int_equal(mp__process_status_signal(p.status), SIGTERM);
    assert_int_equal(mp__process_wait(&p, 0, &st), 0);
    assert_int_equal(st, p.status);
    assert_group_gone(p.pid);
    mp__process_release(&p);
}

static void test_pidfd_reports_exit(void **state)
{
    (void)state;
    mp_process p;
    mp_error err = {0};
    mp_spawn_opts o = {.shell = "sleep 0.5; exit 7"};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    assert_true(p.pidfd >= 0);
    int fl = fcntl(p.pidfd, F_GETFD);
    assert_true(fl >= 0 && (fl & FD_CLOEXEC));
    fl = fcntl(p.out_fd, F_GETFD);
    assert_true(fl >= 0 && (fl & FD_CLOEXEC));
    assert_true(fcntl(p.out_fd, F_GETFL) & O_NONBLOCK);

    struct pollfd pfd = {.fd = p.pidfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0); /* still running */
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    assert_true(pfd.revents & POLLIN);
    int st;
    assert_int_equal(mp__process_wait(&p, 0, &st), 0);
    assert_int_equal(mp__process_status_code(st), 7);
    mp__process_release(&p);
}

/* ----------------------------------------------------------- kill groups */

/* A group of: the leader shell, two `sleep 1000 &`, and a shell that ignores
 * SIGTERM with a child (ignoring it too) of its own. Every pid lands in
 * pidfile; the output says "ready" once all are there. */
static void spawn_stubborn_group(const char *pidfile, mp_process *p)
{
    char script[2048];
    snprintf(script, sizeof(script),
             "echo $$ >> '%s'\n"
             "sleep 1000 & echo $! >> '%s'\n"
             "sleep 1000 & echo $! >> '%s'\n"
             "sh -c 'trap \"\" TERM; sleep 1000 & echo $! >> \"%s\"; echo $$ >> \"%s\";"
             " echo ready; while :; do sleep 1; done' &\n"
             "wait\n",
             pidfile, pidfile, pidfile, pidfile, pidfile);
    mp_spawn_opts o = {.shell = script};
    mp_error err = {0};
    assert_int_equal(mp__process_spawn(&o, p, &err), 0);
    mp_strbuf sb = MP_STRBUF_INIT;
    read_lines(p, 1, 10000, &sb);
    assert_string_equal(sb.buf, "ready\n");
    mp__strbuf_release(&sb);
}

static void test_timeout_kills_whole_group_including_term_ignorers(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char pidfile[PATH_MAX];
    snprintf(pidfile, sizeof(pidfile), "%s/pids", dir);
    mp_process p;
    spawn_stubborn_group(pidfile, &p);
    pid_t pids[16];
    size_t n = read_pids(pidfile, pids, 16);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kill(pids[i], 0), 0);

    /* The attempt's deadline passes. */
    int64_t t0 = mp__clock_now_ms();
    assert_int_equal(mp__process_wait(&p, mp__deadline_in(200), NULL), MP_ETIMEDOUT);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(took >= 199 && took < 1500);

    mp_error err = {0};
    t0 = mp__clock_now_ms();
    assert_int_equal(mp__process_kill_group(&p, 300, &err), 0);
    took = mp__clock_now_ms() - t0;
    assert_true(took >= 299);  /* some ignored SIGTERM: the grace ran out */
    assert_true(took < 3000);
    assert_true(p.group_gone);
    assert_true(p.reaped);
    assert_int_not_equal(mp__process_status_signal(p.status), 0);

    assert_group_gone(p.pid);
    for (size_t i = 0; i < n; i++)
        assert_gone(pids[i]);

    /* Nothing holds the pipe any more: end of output comes. */
    mp_strbuf sb = MP_STRBUF_INIT;
    collect(&p, 5000, &sb);
    assert_int_equal(p.out_fd, -1);
    /* Idempotent. */
    assert_int_equal(mp__process_kill_group(&p, 300, &err), 0);
    mp__process_release(&p);
    mp__strbuf_release(&sb);
    remove_tree(dir);
    free(dir);
}

static void test_kill_group_without_subreaper(void **state)
{
    (void)state;
    /* Orphaned members go to init, which may never reap them here. */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0L, 0L, 0L, 0L), 0);
    char *dir = make_tmpdir();
    char pidfile[PATH_MAX];
    snprintf(pidfile, sizeof(pidfile), "%s/pids", dir);
    mp_process p;
    spawn_stubborn_group(pidfile, &p);
    pid_t pids[16];
    size_t n = read_pids(pidfile, pids, 16);
    assert_int_equal(n, 5);

    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__process_kill_group(&p, 200, &err);
    int64_t took = mp__clock_now_ms() - t0;
    int restored = prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
    if (rc < 0)
        fail_msg("kill_group: %s", err.message);
    assert_int_equal(restored, 0);
    assert_true(took >= 199 && took < 3000);
    /* Zombies of init may be left; nothing may run. */
    for (size_t i = 0; i < n; i++)
        if (proc_running(pids[i]))
            fail_msg("process %d still runs", (int)pids[i]);
    assert_false(group_running(p.pid));
    mp__process_release(&p);
    remove_tree(dir);
    free(dir);
}

static void test_polite_group_ends_before_grace(void **state)
{
    (void)state;
    mp_process p;
    mp_error err = {0};
    mp_spawn_opts o = {.shell = "sleep 1000 & sleep 1000 & echo started; wait"};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    mp_strbuf sb = MP_STRBUF_INIT;
    read_lines(&p, 1, 10000, &sb);
    int64_t t0 = mp__clock_now_ms();
    assert_int_equal(mp__process_kill_group(&p, 10000, &err), 0);
    assert_true(mp__clock_now_ms() - t0 < 3000);
    assert_group_gone(p.pid);
    mp__process_release(&p);
    mp__strbuf_release(&sb);
}

static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' ? rp[2] : '?';
}

static void test_stopped_member_is_continued_and_terminated(void **state)
{
    (void)state;
    mp_process p;
    mp_error err = {0};
    /* A member that handles SIGTERM (a handler only runs once the process
     * is continued; a stopped process without one dies of SIGTERM anyway). */
    mp_spawn_opts o = {
        .shell = "sh -c 'trap \"exit 0\" TERM; echo $$; while :; do sleep 0.05; done' &\n"
                 "wait\n"};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    mp_strbuf sb = MP_STRBUF_INIT;
    read_lines(&p, 1, 10000, &sb);
    pid_t member = (pid_t)strtol(sb.buf, NULL, 10);
    assert_true(member > 0);
    assert_int_equal(kill(member, SIGSTOP), 0);
    int64_t dl = mp__deadline_in(5000);
    while (proc_state(member) != 'T' && !mp__deadline_passed(dl))
        usleep(1000);
    assert_int_equal(proc_state(member), 'T');

    int64_t t0 = mp__clock_now_ms();
    assert_int_equal(mp__process_kill_group(&p, 10000, &err), 0);
    /* Without SIGCONT it would hold out for the whole grace period. */
    assert_true(mp__clock_now_ms() - t0 < 3000);
    assert_gone(member);
    mp__process_release(&p);
    mp__strbuf_release(&sb);
}

/* A member that died but whose parent, outside the group, never reaps it:
 * the zombie keeps kill(-pgid, 0) succeeding, yet nothing of the group
 * runs any more. kill_group must not wait for it (nor time out). */
static void test_foreign_zombie_does_not_keep_group_alive(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "1000", NULL};
    mp_spawn_opts o = {.argv = argv};
    mp_process p;
    mp_error err = {0};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    pid_t pgid = p.pid;

    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) {
        pid_t c = fork();
        if (c == 0) {
            pid_t me = getpid();
            if (setpgid(0, pgid) < 0)
                me = -1;
            if (write(sync[1], &me, sizeof(me)) != (ssize_t)sizeof(me) || me < 0)
                _exit(1);
            execlp("sleep", "sleep", "1000", (char *)NULL);
            _exit(127);
        }
        for (;;) /* never reaps c */
            pause();
    }
    close(sync[1]);
    pid_t member;
    assert_int_equal(read(sync[0], &member, sizeof(member)), (ssize_t)sizeof(member));
    close(sync[0]);
    assert_true(member > 0);
    assert_int_equal(getpgid(member), pgid);

    int64_t t0 = mp__clock_now_ms();
    int rc = mp__process_kill_group(&p, 200, &err);
    int64_t took = mp__clock_now_ms() - t0;
    char member_state = proc_state(member);

    kill(parent, SIGKILL);
    assert_int_equal(waitpid(parent, NULL, 0), parent);
    /* member is re-parented to us (subreaper) once its parent is gone. */
    dl_reap(member);

    if (rc < 0)
        fail_msg("kill_group: %s", err.message);
    assert_true(took < 2000);
    assert_int_equal(member_state, 'Z');
    mp__process_release(&p);
}

static void test_kill_group_after_leader_exited(void **state)
{
    (void)state;
    mp_process p;
    mp_error err = {0};
    mp_spawn_opts o = {.shell = "sleep 1000 & echo $!; exit 0"};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    mp_strbuf sb = MP_STRBUF_INIT;
    read_lines(&p, 1, 10000, &sb);
    pid_t member = (pid_t)strtol(sb.buf, NULL, 10);
    int st;
    assert_int_equal(mp__process_wait(&p, mp__deadline_in(10000), &st), 0);
    assert_int_equal(mp__process_status_code(st), 0);

    /* The leader is gone; its background child keeps the group (and the
     * output pipe) alive. */
    assert_int_equal(kill(-p.pid, 0), 0);
    assert_int_equal(mp__process_read_output(&p, &sb, &err), 1);

    assert_int_equal(mp__process_kill_group(&p, 5000, &err), 0);
    assert_group_gone(p.pid);
    assert_gone(member);
    /* The leader's status is the one it exited with. */
    assert_int_equal(mp__process_status_code(p.status), 0);
    collect(&p, 5000, &sb);
    mp__process_release(&p);
    mp__strbuf_release(&sb);
}

static void test_release_kills_running_process(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "1000", NULL};
    mp_spawn_opts o = {.argv = argv};
    mp_process p;
    mp_error err = {0};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    pid_t pid = p.pid;
    mp__process_release(&p);
    assert_int_equal(p.pid, -1);
    assert_int_equal(p.pidfd, -1);
    assert_int_equal(p.out_fd, -1);
    assert_gone(pid);
    assert_group_gone(pid);
}

/* ---------------------------------------------------------------- orphans */

static void test_orphans_that_left_the_group_are_killed_and_reaped(void **state)
{
    (void)state;
    mp_process p;
    mp_error err = {0};
    /* Two processes escape the group with setsid; one of them (and its
     * child) ignores SIGTERM. Each prints its pid once it has left. */
    mp_spawn_opts o = {
        .shell = "setsid sh -c 'echo $$; exec sleep 1000' &\n"
                 "setsid sh -c 'trap \"\" TERM; sleep 1000 & echo $!; echo $$; wait' &\n"
                 "exit 0\n"};
    assert_int_equal(mp__process_spawn(&o, &p, &err), 0);
    mp_strbuf sb = MP_STRBUF_INIT;
    read_lines(&p, 3, 10000, &sb);
    pid_t pids[3];
    assert_int_equal(parse_pids(sb.buf, pids, 3), 3);
    assert_int_equal(mp__process_wait(&p, mp__deadline_in(10000), NULL), 0);
    assert_int_equal(mp__process_kill_group(&p, 1000, &err), 0);
    assert_group_gone(p.pid);
    mp__process_release(&p);

    /* kill_group cannot reach them: other groups. */
    for (int i = 0; i < 3; i++) {
        assert_true(proc_running(pids[i]));
        assert_true(getpgid(pids[i]) != p.pid);
    }

    int64_t t0 = mp__clock_now_ms();
    int n = mp__process_kill_orphans(300, &err);
    int64_t took = mp__clock_now_ms() - t0;
    if (n < 0)
        fail_msg("kill_orphans: %s", err.message);
    assert_true(n >= 3);
    assert_true(took >= 299); /* two ignored SIGTERM */
    assert_true(took < 3000);
    for (int i = 0; i < 3; i++)
        assert_gone(pids[i]);

    assert_int_equal(mp__process_kill_orphans(300, &err), 0);
    mp__strbuf_release(&sb);
}

/* ------------------------------------------------- signals and descriptors */

static unsigned long long status_field(const char *status, const char *name)
{
    const char *s = strstr(status, name);
    if (!s)
        fail_msg("no %s in /proc/self/status", name);
    return strtoull(s + strlen(name), NULL, 16);
}

static void test_parent_signal_state_not_inherited(void **state)
{
    (void)state;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe, old_int, old_usr1;
    sigemptyset(&ign.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
    assert_int_equal(sigaction(SIGINT, &ign, &old_int), 0);
    assert_int_equal(sigaction(SIGUSR1, &ign, &old_usr1), 0);

    /* What the kernel says about the child itself. */
    const char *argv[] = {"cat", "/proc/self/status", NULL};
    mp_spawn_opts o = {.argv = argv};
    mp_strbuf sb = MP_STRBUF_INIT;
    int st = run(&o, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_int_equal(status_field(sb.buf, "SigBlk:"), 0);
    /* Signals 1-31. glibc's posix_spawn leaves its two internal signals
     * (32 and 33, below SIGRTMIN) ignored; nobody else uses them. */
    assert_int_equal(status_field(sb.buf, "SigIgn:") & 0x7fffffffULL, 0);

    /* And what that means: a module can be stopped with SIGTERM. */
    mp__strbuf_reset(&sb);
    st = run_shell("kill -TERM $$; sleep 2; echo survived", &sb);
    assert_int_equal(mp__process_status_signal(st), SIGTERM);
    assert_null(strstr(sb.buf, "survived"));

    /* A module writing to a closed pipe dies of SIGPIPE instead of looping
     * on EPIPE: yes(1) would never end otherwise. */
    mp__strbuf_reset(&sb);
    st = run_shell("yes | head -n 1; echo done", &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    assert_string_equal(sb.buf, "y\ndone\n");

    assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
    assert_int_equal(sigaction(SIGINT, &old_int, NULL), 0);
    assert_int_equal(sigaction(SIGUSR1, &old_usr1, NULL), 0);
    assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
    mp__strbuf_release(&sb);
}

static void test_child_gets_only_std_fds(void **state)
{
    (void)state;
    /* A descriptor someone opened without O_CLOEXEC must not reach the
     * module either. */
    int leaky = open("/dev/null", O_RDONLY);
    assert_true(leaky > 2);
    const char *argv[] = {"ls", "/proc/self/fd", NULL};
    mp_spawn_opts o = {.argv = argv};
    mp_strbuf sb = MP_STRBUF_INIT;
    int st = run(&o, &sb);
    assert_int_equal(mp__process_status_code(st), 0);
    /* 0-2, plus the directory ls itself has open. */
    assert_string_equal(sb.buf, "0\n1\n2\n3\n");
    close(leaky);
    mp__strbuf_release(&sb);
}

static void test_hundred_spawns_leak_no_fds(void **state)
{
    (void)state;
    int before = count_fds();
    mp_strbuf sb = MP_STRBUF_INIT;
    for (int i = 0; i < 100; i++) {
        mp__strbuf_reset(&sb);
        int st;
        if (i % 2) {
            const char *argv[] = {"echo", "x", NULL};
            mp_spawn_opts o = {.argv = argv};
            st = run(&o, &sb);
        } else {
            st = run_shell("echo x", &sb);
        }
        assert_int_equal(mp__process_status_code(st), 0);
        assert_string_equal(sb.buf, "x\n");
    }
    /* Failed spawns leak nothing either. */
    for (int i = 0; i < 10; i++) {
        mp_process p;
        const char *argv[] = {"mp-no-such-command-42", NULL};
        mp_spawn_opts o = {.argv = argv};
        assert_int_equal(mp__process_spawn(&o, &p, NULL), MP_ENOENT);
    }
    assert_int_equal(count_fds(), before);
    mp__strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_deadlines),
        cmocka_unit_test(test_spawn_argv_captures_output),
        cmocka_unit_test(test_spawn_shell_stdout_and_stderr_in_one_pipe),
        cmocka_unit_test(test_stdin_is_dev_null),
        cmocka_unit_test(test_large_output_through_pipe),
        cmocka_unit_test(test_exit_codes_and_signals),
        cmocka_unit_test(test_env_replaced_or_inherited),
        cmocka_unit_test(test_cwd_applied),
        cmocka_unit_test(test_missing_cwd_is_error_before_spawn),
        cmocka_unit_test(test_missing_command),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_wait_deadline_times_out),
        cmocka_unit_test(test_pidfd_reports_exit),
        cmocka_unit_test(test_timeout_kills_whole_group_including_term_ignorers),
        cmocka_unit_test(test_kill_group_without_subreaper),
        cmocka_unit_test(test_polite_group_ends_before_grace),
        cmocka_unit_test(test_stopped_member_is_continued_and_terminated),
        cmocka_unit_test(test_foreign_zombie_does_not_keep_group_alive),
        cmocka_unit_test(test_kill_group_after_leader_exited),
        cmocka_unit_test(test_release_kills_running_process),
        cmocka_unit_test(test_orphans_that_left_the_group_are_killed_and_reaped),
        cmocka_unit_test(test_parent_signal_state_not_inherited),
        cmocka_unit_test(test_child_gets_only_std_fds),
        cmocka_unit_test(test_hundred_spawns_leak_no_fds),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
