/*
 * cond.h -- conditions (skip_if, run_if) and the checks they share with
 * requirements (DESIGN §2).
 *
 *   {env: X}            X is set and non-empty in modpipe's environment
 *   {env: X, equals: V} X is set to exactly V
 *   {os: NAME}          this machine's OS is NAME (linux, macos, windows)
 *   {file: PATH}        PATH exists (relative paths: to the base directory,
 *                       the workspace)
 *   {command: CMD}      `/bin/sh -c CMD` exits 0 within
 *                       MP_COND_COMMAND_TIMEOUT_MS, run in the base
 *                       directory with modpipe's environment, its output
 *                       discarded. A command that cannot start or times out
 *                       (its process group is then killed) is false.
 *
 * env, os and file are evaluated at once (mp__cond_eval). A command is a
 * process the engine's loop watches like a module (mp_cmd_check: start,
 * poll its fds, step until done), so a slow condition never stalls other
 * modules; mp__cmd_check_run() is the blocking form for requirements,
 * checked before anything runs.
 *
 * Reasons name the condition the way a user wrote it:
 *   skip_if env "SKIP_TESTS" is set
 *   skip_if env "MODE" equals "fast"
 *   run_if os is not "linux" (this is linux)...
 * see mp__cond_reason().
 */
#ifndef MP_CORE_COND_H
#define MP_CORE_COND_H

#include "core/arena.h"
#include "core/model.h"
#include "os/process.h"

#include <poll.h>
#include <stdint.h>

#define MP_COND_COMMAND_TIMEOUT_MS 30000

/* The OS name conditions compare with: "linux", "macos" or "windows". */
const char *mp__cond_os_name(void);

/* Evaluate an env, os or file condition whose strings are `arg` and
 * `equals` (already resolved; equals NULL when absent). Returns 1 (true)
 * or 0 (false); MP_EINVAL for MP_COND_COMMAND (use mp_cmd_check). */
int mp__cond_eval(mp_cond_kind kind, const char *arg, const char *equals, const char *base_dir,
                  char *const *environ);

/* The reason a condition gives: for skip_if (`skip_if` non-zero) when it
 * held, for run_if when it did not. `detail` (may be NULL) is appended in
 * parentheses, e.g. "exit code 1". In arena a. */
const char *mp__cond_reason(mp_arena *a, mp_cond_kind kind, const char *arg, const char *equals,
                            int skip_if, const char *detail);

/* A {command: ...} being checked. Caller-owned; zero it before start. */
typedef struct mp_cmd_check {
    mp_process proc;
    int64_t deadline;
    int64_t timeout_ms;
    int started;
    int done;
    int ok;        /* when done: exit status 0 */
    char why[256]; /* when done and not ok: "exit code 1", "timed out after 30 s", ... */
} mp_cmd_check;

/* Start `/bin/sh -c cmd` in cwd (NULL: modpipe's) with environment envp
 * (NULL: modpipe's). Never fails: a command that cannot start is done at
 * once, false, with why set. */
void mp__cmd_check_start(mp_cmd_check *c, const char *cmd, const char *cwd, const char *const *envp,
                         int64_t timeout_ms);
/* The fds to poll for it (up to 2, POLLIN), or 0 when done. */
size_t mp__cmd_check_fds(const mp_cmd_check *c, struct pollfd *pfd);
/* When it must be looked at again at the latest (its deadline). */
int64_t mp__cmd_check_deadline(const mp_cmd_check *c);
/* Read and discard output, reap, enforce the deadline. Returns 1 once done
 * (ok, why set and the process group gone), else 0. Never blocks for long
 * (killing a group waits for it to go, a few ms). */
int mp__cmd_check_step(mp_cmd_check *c);
/* Kill what still runs and free. Safe on a zeroed or finished check. */
void mp__cmd_check_release(mp_cmd_check *c);

/* The blocking form: start, wait until done, release. Returns 1 when the
 * command exited 0, else 0 with why filled (may be NULL). */
int mp__cmd_check_run(const char *cmd, const char *cwd, int64_t timeout_ms, char *why,
                      size_t whylen);

#endif
