/*
 * attempt.h -- one attempt of one module: a process in its own process
 * group, or a C function on the engine's worker pool (fn_module.h),
 * watched by the engine's loop.
 *
 *   mp_attempt a;
 *   if (mp__attempt_start(&a, &spec, err) < 0) ... it never ran
 *   loop: poll(mp__attempt_fds(&a, ...)) until mp__attempt_deadline(&a);
 *         if (mp__attempt_step(&a, &scratch)) break;   // done: a.status ...
 *   mp__attempt_release(&a);
 *
 * A process attempt moves through three states, none of which blocks the
 * loop for longer than killing an already-signalled group takes (a few ms):
 *   RUNNING   output is read (into the module's log, logfile.h) and the
 *             leader reaped as they come. When the leader exits, what is
 *             left in its group (`sleep 1000 &`) is killed at once
 *             (kill_group(p, 0)) so it cannot hold the pipe open.
 *             At the attempt's deadline, or on mp__attempt_cancel(), the
 *             group gets SIGTERM (and SIGCONT) and the attempt goes to
 *   KILLING   until the leader is reaped and the output is at its end, or
 *             the grace period is over; then SIGKILL to what remains
 *             (kill_group(p, 0)) and
 *   DRAINING  the output still in the pipe is read, until end of output
 *             or MP_ATTEMPT_DRAIN_MS (a process that left the group may
 *             hold the pipe forever; kill_orphans gets it after the run).
 * A function attempt has no states of its own: at its deadline or on
 * cancel its context is cancelled, and it is done when the function
 * returns (however long that takes, see fn_module.h).
 *
 * Outcome (when done): status is MP_STATUS_TIMED_OUT when the deadline was
 * reached, MP_STATUS_CANCELLED when cancelled, else SUCCEEDED for exit
 * code 0 (function: return value 0) and FAILED otherwise; `error` says
 * what happened, naming the module and the command for a command that was
 * not found (spawn error for an argv, exit code 127 for a shell line).
 *
 * Ownership: the spec's strings need only live until start returns; the
 * log must outlive the attempt. An mp_attempt must not move while a
 * function attempt runs (a worker holds a pointer into it).
 */
#ifndef MP_CORE_ATTEMPT_H
#define MP_CORE_ATTEMPT_H

#include "core/fn_module.h"
#include "core/logfile.h"
#include "core/result.h"
#include "core/strbuf.h"
#include "os/process.h"

#include <poll.h>
#include <stdint.h>

/* Longest wait for the rest of the output once the group is gone. */
#define MP_ATTEMPT_DRAIN_MS 500

typedef struct mp_attempt_spec {
    const mp_module *module; /* name, run kind; fn/fn_data for functions */
    int attempt;             /* 1-based */
    /* Processes: exactly one of shell and argv, as mp_spawn_opts. */
    const char *shell;
    const char *const *argv;
    const char *const *envp;
    const char *cwd;
    /* Functions: the engine's worker pool (it writes the engine's eventfd
     * when the function returns). */
    mp_fn_pool *fn_pool;
    int64_t timeout_ms;    /* 0 = none */
    int64_t kill_grace_ms; /* SIGTERM -> SIGKILL */
    mp_modlog *log;        /* output and notes go here */
} mp_attempt_spec;

typedef enum mp_attempt_state {
    MP_ATTEMPT_RUNNING,
    MP_ATTEMPT_KILLING,
    MP_ATTEMPT_DRAINING,
    MP_ATTEMPT_DONE,
} mp_attempt_state;

typedef enum mp_attempt_end {
    MP_ATTEMPT_END_NONE,
    MP_ATTEMPT_END_TIMEOUT,
    MP_ATTEMPT_END_CANCEL,
} mp_attempt_end;

typedef struct mp_attempt {
    int is_fn;
    const mp_module *module;
    int attempt;
    mp_modlog *log;
    mp_process proc;
    mp_fn_run fn;
    mp_attempt_state state;
    mp_attempt_end end;
    int64_t timeout_ms, grace_ms;
    int64_t started_ms, ended_ms; /* monotonic */
    int64_t deadline;             /* attempt timeout (MP_DEADLINE_NONE) */
    int64_t kill_deadline;        /* KILLING: grace over */
    int64_t drain_deadline;       /* DRAINING: stop waiting for output */
    char cmd[256];                /* the command, for messages */
    /* Outcome, when state is DONE. */
    mp_status status;
    int exit_code;   /* -1 when none */
    int term_signal; /* 0 when none */
    char error[512]; /* "" on success */
} mp_attempt;

/* Start the attempt. Returns 0, or a negative code with err filled when it
 * could not start (MP_ENOENT: command not found or working directory
 * missing, message naming the module and what is missing; MP_EIO) --
 * then there is nothing to release. */
int mp__attempt_start(mp_attempt *a, const mp_attempt_spec *spec, mp_error *err);
/* The fds to poll (up to 2, POLLIN). */
size_t mp__attempt_fds(const mp_attempt *a, struct pollfd *pfd);
/* The next time the attempt must be stepped even without I/O. */
int64_t mp__attempt_deadline(const mp_attempt *a);
/* Make progress (never blocks on the module). scratch: a buffer the loop
 * shares between attempts for reading output. Returns 1 once done. */
int mp__attempt_step(mp_attempt *a, mp_strbuf *scratch);
/* Stop the attempt: it ends CANCELLED (unless it already timed out or
 * finished). The work happens in later steps. */
void mp__attempt_cancel(mp_attempt *a);
/* Is the attempt in a process or thread (not yet done)? */
int mp__attempt_active(const mp_attempt *a);
/* Free. Kills what is left of a process group (blocking up to the kill
 * wait) and waits for a function (blocking until it returns). */
void mp__attempt_release(mp_attempt *a);

#endif
